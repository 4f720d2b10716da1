"""Reads of security assessments: the current one of a subject, the schedule of expiries and
the overdue list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from itertools import islice

from django.conf import settings
from django.db.models import CharField, Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Cast

from wuhan_pdr.kernel.workdays import today as local_today

from .models import Assessment
from .registry import subject_kind, subject_kinds


def _valid_q(day: dt.date) -> Q:
    return Q(
        is_current=True,
        result__in=Assessment.PASSING,
        revoked_at__isnull=True,
        valid_until__gte=day,
    )


def has_valid_pass(kind: str, subject_id, *, on: dt.date | None = None) -> bool:
    return Assessment.objects.filter(
        _valid_q(on or local_today()), subject_kind=kind, subject_id=str(subject_id)
    ).exists()


def subject_ids_with_valid_pass(kind: str, *, on: dt.date | None = None) -> QuerySet:
    """The ids (as text) of the subjects of `kind` holding a valid pass, for a subquery."""
    return Assessment.objects.filter(_valid_q(on or local_today()), subject_kind=kind).values(
        "subject_id"
    )


def _for_outer(kind: str, outer: str):
    return Assessment.objects.filter(
        subject_kind=kind, subject_id=Cast(OuterRef(outer), output_field=CharField())
    )


def valid_pass_exists(kind: str, *, outer: str = "pk", on: dt.date | None = None) -> Exists:
    """An expression for the subject's own querysets: true where the row (its `outer` field
    is the subject id) holds a valid pass, e.g. `Channel.objects.filter(~valid_pass_exists(
    "channel"))`."""
    return Exists(_for_outer(kind, outer).filter(_valid_q(on or local_today())))


def assessed_exists(kind: str, *, outer: str = "pk") -> Exists:
    """True where the row was ever assessed."""
    return Exists(_for_outer(kind, outer))


def current_assessment(kind: str, subject_id) -> Assessment | None:
    return (
        Assessment.objects.select_related("assessor")
        .filter(subject_kind=kind, subject_id=str(subject_id), is_current=True)
        .first()
    )


def assessments_of(kind: str, subject_id) -> QuerySet[Assessment]:
    return Assessment.objects.select_related("assessor").filter(
        subject_kind=kind, subject_id=str(subject_id)
    )


STATUSES = ("valid", "expiring", "expired", "failed", "revoked")


def current_assessments(
    *, q: str = "", kind: str = "", status: str = "", today: dt.date | None = None
) -> QuerySet[Assessment]:
    """The current assessment of every assessed subject, soonest expiry first (the schedule).
    `status`: valid, expiring (within the reminder window), expired, failed or revoked."""
    day = today or local_today()
    qs = Assessment.objects.select_related("assessor").filter(is_current=True)
    if q:
        qs = qs.filter(Q(subject_title__icontains=q) | Q(findings__icontains=q))
    if kind:
        qs = qs.filter(subject_kind=kind)
    horizon = day + dt.timedelta(days=settings.ASSESSMENT_REMINDER_DAYS)
    if status == "valid":
        qs = qs.filter(_valid_q(day))
    elif status == "expiring":
        qs = qs.filter(_valid_q(day), valid_until__lte=horizon)
    elif status == "expired":
        qs = qs.filter(result__in=Assessment.PASSING, revoked_at__isnull=True, valid_until__lt=day)
    elif status == "failed":
        qs = qs.filter(result=Assessment.Result.FAIL)
    elif status == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    return qs.order_by("valid_until", "subject_title", "pk")


def overdue_assessments(*, today: dt.date | None = None) -> QuerySet[Assessment]:
    """Subjects whose current assessment no longer lets them work: expired, failed or revoked
    (oldest first)."""
    day = today or local_today()
    return (
        Assessment.objects.select_related("assessor")
        .filter(is_current=True)
        .exclude(_valid_q(day))
        .order_by("valid_until", "assessed_on", "pk")
    )


@dataclass(frozen=True)
class PendingSubject:
    kind: str
    kind_label: str
    subject_id: str
    title: str
    url: str


def pending_subjects(limit: int = 200) -> list[PendingSubject]:
    """Subjects waiting for their first assessment, as their owning apps list them."""
    rows: list[PendingSubject] = []
    for subject in subject_kinds():
        pending = subject.pending()
        # A queryset is sliced in SQL; any other iterable is cut after `limit` items.
        first = pending[:limit] if hasattr(pending, "__getitem__") else islice(pending, limit)
        for obj in first:
            rows.append(
                PendingSubject(
                    subject.kind,
                    str(subject.label),
                    str(obj.pk),
                    subject.title(obj),
                    subject.url(obj),
                )
            )
    return rows[:limit]


def subject_link(assessment: Assessment) -> str:
    """The subject's page, or "" when its kind is no longer registered or it is gone."""
    subject = subject_kind(assessment.subject_kind)
    if subject is None:
        return ""
    obj = subject.resolve(assessment.subject_id)
    return subject.url(obj) if obj is not None else ""
