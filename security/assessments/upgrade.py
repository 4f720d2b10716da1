"""The upgrade from the channel sign-off to assessments: each recorded sign-off becomes a
passed assessment dated at the sign-off, valid long enough (ASSESSMENT_MIGRATED_VALIDITY_DAYS
from the upgrade) that no live channel is suspended by the upgrade itself.

Called from the data migration of the app that owns the subjects (aggregation), with the
migration's historical model, and by the tests with the current one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils import timezone

MIGRATED_FINDINGS = "由原“安全签核”迁移而来(Migrated from the security sign-off)。"


def assessments_from_signoffs(
    *, Assessment, rows: Iterable[dict], kind: str, valid_until: dt.date
) -> int:
    """rows: dicts with subject_id, title, signed_at, signed_by_id, note. A subject that
    already has a current assessment is left alone (the migration may run twice). Returns how
    many assessments were made."""
    made = 0
    for row in rows:
        sid = str(row["subject_id"])
        if Assessment.objects.filter(subject_kind=kind, subject_id=sid, is_current=True).exists():
            continue
        note = (row.get("note") or "").strip()
        Assessment.objects.create(
            subject_kind=kind,
            subject_id=sid,
            subject_title=(row.get("title") or sid)[:300],
            assessor_id=row["signed_by_id"],
            assessed_on=timezone.localdate(row["signed_at"]),
            result="pass",
            findings=(note + "\n" if note else "") + MIGRATED_FINDINGS,
            valid_until=valid_until,
            is_current=True,
        )
        made += 1
    return made
