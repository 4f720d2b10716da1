"""Issue #13: the audit log's one function against plain inserts.

10,000 audit records are written through `security.audit.record()` (the canonical entry
built and hashed, one ledger append statement, the searchable `AuditEvent` row), each in a
transaction of its own as a request's record is; beside it, in the same run, the same rows
(the values the records produced: time, actor, organization, address, user agent, action,
object, outcome, details, entry hash) are inserted with one plain INSERT statement each,
autocommit, into a table of the same shape (`CREATE TABLE ... (LIKE security_auditevent
INCLUDING ALL)`). Rounds alternate; the figure is the ratio of the medians; target <= 1.5.
The records stay in the benchmark database's audit log; the plain table is dropped.
"""

from __future__ import annotations

import json
import os
import statistics
import time

from django.db import connection, transaction

from security.audit import record
from security.audit.models import AuditEvent
from wuhan_pdr.accounts.models import Organization, User

N = int(os.environ.get("BENCH_AUDIT_RECORDS", "10000"))
ROUNDS = int(os.environ.get("BENCH_AUDIT_ROUNDS", "5"))
PLAIN = "bench_audit_plain"
COLUMNS = (
    "occurred_at, actor_id, actor_label, organization_id, ip, user_agent, action, "
    "object_type, object_id, object_label, outcome, details, entry_sha256, leaf_id"
)


class _Request:
    """What `record()` reads of a request: its user, address and user agent."""

    def __init__(self, user):
        self.user = user
        self.META = {"REMOTE_ADDR": "10.20.30.40", "HTTP_USER_AGENT": "Mozilla/5.0 (bench)"}


def _actor() -> User:
    org = Organization.objects.filter(kind=Organization.Kind.CITY_BUREAU).first()
    user, _ = User.objects.get_or_create(
        username="bench_audit",
        defaults={"full_name": "审计基准", "is_active": True, "organization": org},
    )
    if user.has_usable_password():
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _records(user, n: int) -> tuple[float, list[int]]:
    request = _Request(user)
    ids = []
    t0 = time.perf_counter()
    for i in range(n):
        event = record(
            "data.preview",
            request=request,
            obj=("catalog.resource", i % 500, f"户籍人口信息 {i % 500}"),
            details={"rows": 20 + i % 30, "table": f"r_{i % 500}", "page": "first"},
        )
        ids.append(event.pk)
    return time.perf_counter() - t0, ids


def _plain(ids: list[int]) -> float:
    rows = [
        (
            e.occurred_at,
            e.actor_id,
            e.actor_label,
            e.organization_id,
            e.ip,
            e.user_agent,
            e.action,
            e.object_type,
            e.object_id,
            e.object_label,
            e.outcome,
            json.dumps(e.details, ensure_ascii=False),
            e.entry_sha256,
            e.leaf_id,
        )
        for e in AuditEvent.objects.filter(pk__in=ids).order_by("pk")
    ]
    sql = f"INSERT INTO {PLAIN} ({COLUMNS}) VALUES ({', '.join(['%s'] * 14)})"  # noqa: S608
    with connection.cursor() as cur:
        t0 = time.perf_counter()
        for row in rows:
            cur.execute(sql, row)
        return time.perf_counter() - t0


def run() -> list[dict]:
    user = _actor()
    assert connection.get_autocommit() and not transaction.get_connection().in_atomic_block
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {PLAIN}")
        cur.execute(f"CREATE TABLE {PLAIN} (LIKE security_auditevent INCLUDING ALL)")
    record_s, plain_s = [], []
    try:
        for _ in range(ROUNDS):
            t, ids = _records(user, N)
            record_s.append(t)
            plain_s.append(_plain(ids))
    finally:
        with connection.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS {PLAIN}")
    rec, plain = statistics.median(record_s), statistics.median(plain_s)
    return [
        {
            "name": "audit.append.ratio",
            "value": round(rec / plain, 2),
            "unit": "ratio",
            "target": "<= 1.5",
            "baseline": round(plain, 3),
            "method": (
                f"{N:,} audit records through security.audit.record() (canonical entry, ledger "
                "append, searchable row), each in its own transaction, divided by plain "
                "autocommit INSERTs of the same rows into a table LIKE security_auditevent "
                f"INCLUDING ALL, in the same run; medians of {ROUNDS} alternating rounds "
                "(baseline field: the plain inserts, seconds)"
            ),
            "record_s": round(rec, 3),
            "plain_s": round(plain, 3),
            "per_record_us": round(rec / N * 1e6, 1),
            "per_plain_insert_us": round(plain / N * 1e6, 1),
        }
    ]
