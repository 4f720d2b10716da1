"""The indicator registry (Art. 29): each indicator is a named, documented computation over the
platform's own records, never a typed-in figure.

An indicator is one SQL query, `records`, that lists the records it counts, one row per record:

    agency_id  the agency answerable for the record
    record_id  the record's id (text), for the drill-down link
    label      what the record is called on the page
    num, den   its contribution to the numerator and the denominator
    at         the record's date (shown in the drill-down)

A run aggregates that query for every agency in one statement (`run_sql`), so an agency's figure
and the rows its drill-down shows come from the same query and always agree. The query may use
the bound parameters `%(start)s` and `%(end)s` (the plan's period as timestamps, end excluded;
the end is the run's day when the run measures a period not yet over),
`%(as_of_end)s` (the end of the run's day), `%(as_of)s` (that day), and the working-day
calendar (Asia/Shanghai, kernel.workdays) through the Python helper `wd(a, b)` (SQL for the working days after date a up to and including date b).

How a measure becomes a 0-100 score (`kind`):
    rate          measure = 100 * num / den, score = measure
    inverse_rate  measure = 100 * num / den, score = 100 - measure
    mean          measure = num / den (already 0-100), score = measure
    days          measure = num / den working days; score 100 up to `limit_days`, 10 points
                  less for each working day beyond it, never below 0
An agency with nothing to count (den = 0) gets no measure and no score for that indicator; its
total weighs only the indicators it has a score for (see services.run_compute).

ENTRY POINT FOR THE OTHER CHAPTERS (registration, authorized operation): call
`register_indicator(Indicator(...))` from the chapter's hooks.py with its own `records` query
(e.g. "registration done for the operation scope": resources in an operation's scope, num = 1
when a current registration exists). Plans can then choose it like any other; nothing else
changes. Keys are unique; the label and description are shown to reviewers and agencies.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str | Promise
    description: str | Promise
    kind: str  # rate | inverse_rate | mean | days
    records: str
    # URL name of a record's page (reversed with record_id), "" when there is none.
    record_url: str = ""
    unit: str | Promise = "%"
    # For kind "days": a callable giving the limit in working days (read from settings).
    limit_days: Callable[[], int] | None = None

    def measure_sql(self) -> str:
        if self.kind in ("rate", "inverse_rate"):
            return "CASE WHEN g.den > 0 THEN round(100 * g.num / g.den, 2) END"
        return "CASE WHEN g.den > 0 THEN round(g.num / g.den, 2) END"

    def score_sql(self) -> str:
        """The 0-100 score; NULL when there is nothing to count (GREATEST and LEAST ignore
        NULLs in PostgreSQL, so the guard is explicit)."""
        m = f"({self.measure_sql()})"
        if self.kind == "inverse_rate":
            score = f"(100 - {m})"
        elif self.kind == "days":
            limit = int(self.limit_days() if self.limit_days else 10)
            score = f"GREATEST(0, LEAST(100, 100 - 10 * GREATEST(0, {m} - {limit})))"
        else:
            score = m
        return f"CASE WHEN g.den > 0 THEN {score} END"


def wd(a: str, b: str) -> str:
    """SQL for the working days after date `a` up to and including date `b`: the difference of
    the calendar's running counts, looked up by position in the array `%(wd_n)s` (element i:
    working days from `%(wd_base)s` up to that day + i - 1). O(1) per record, no join."""

    def at(x: str) -> str:
        return f"(%(wd_n)s::int[])[LEAST(GREATEST(({x}) - %(wd_base)s::date + 1, 1), %(wd_len)s)]"

    return f"({at(b)} - {at(a)})"


_REGISTRY: dict[str, Indicator] = {}


def register_indicator(indicator: Indicator) -> Indicator:
    _REGISTRY[indicator.key] = indicator
    return indicator


def indicator(key: str) -> Indicator | None:
    return _REGISTRY.get(key)


def all_indicators() -> list[Indicator]:
    return list(_REGISTRY.values())


def indicator_choices() -> list[tuple[str, str]]:
    return [(i.key, str(i.label)) for i in _REGISTRY.values()]


# Asia/Shanghai's offset from UTC: +08:00 all year since 1991 (no daylight saving time since;
# tests/supervision/test_indicators.py checks it against the time-zone database, kernel.workdays
# .SHANGHAI). The local date of a record is taken at this fixed offset: the same day as the
# named zone for every instant since 1991, and five times cheaper per row (AT TIME ZONE with a
# zone name looks the zone up on every call; decision 0036).
SHANGHAI_OFFSET = "+08:00"


def _local_date(column: str) -> str:
    return f"(({column}) AT TIME ZONE INTERVAL '{SHANGHAI_OFFSET}')::date"


# --- The indicators built on the chapters that exist ------------------------------------------

register_indicator(
    Indicator(
        key="catalog_coverage",
        label=_("Catalog coverage of the census"),
        description=_(
            "Information systems of the census in use: the share that has at least one "
            "published catalog resource drawn from it (listed as its resource in the census, "
            "a channel from the system, or a published entry naming it as its source)."
        ),
        kind="rate",
        record_url="filing:system",
        records="""
SELECT s.organization_id AS agency_id, s.id::text AS record_id, s.name AS label,
       CASE WHEN EXISTS (
           SELECT 1 FROM catalog_informationsystem_resources m
           JOIN catalog_resource r ON r.id = m.resource_id
           WHERE m.informationsystem_id = s.id AND r.published_version_id IS NOT NULL
             AND r.retired_at IS NULL)
         OR EXISTS (
           SELECT 1 FROM aggregation_channel c JOIN catalog_resource r ON r.id = c.resource_id
           WHERE c.information_system_id = s.id AND r.published_version_id IS NOT NULL
             AND r.retired_at IS NULL)
         OR EXISTS (
           SELECT 1 FROM catalog_resource r JOIN catalog_resourceversion v
             ON v.id = r.published_version_id
           WHERE r.provider_id = s.organization_id AND r.retired_at IS NULL
             AND v.source_system = s.name)
       THEN 1 ELSE 0 END AS num, 1 AS den, s.created_at AS at
FROM catalog_informationsystem s
WHERE s.status = 'in_use' AND s.created_at < %(as_of_end)s
""",
    )
)

register_indicator(
    Indicator(
        key="aggregation_on_time",
        label=_("Data updated on time"),
        description=_(
            "Published resources with a regular update cycle that were due: the share whose "
            "last successful load is within one cycle (and a day) of the run's day."
        ),
        kind="rate",
        record_url="catalog:resource",
        records="""
SELECT r.provider_id AS agency_id, r.id::text AS record_id, r.code || ' ' || v.name AS label,
       CASE WHEN lb.last_at >= %(as_of_end)s - cyc.iv THEN 1 ELSE 0 END AS num, 1 AS den,
       lb.last_at AS at
FROM catalog_resource r
JOIN catalog_resourceversion v ON v.id = r.published_version_id
JOIN (VALUES ('realtime', interval '2 days'), ('daily', interval '2 days'),
             ('weekly', interval '8 days'), ('monthly', interval '1 month 1 day'),
             ('quarterly', interval '3 months 1 day'), ('yearly', interval '1 year 1 day'))
     AS cyc(cycle, iv) ON cyc.cycle = v.update_cycle
LEFT JOIN (
    SELECT c.resource_id, max(bc.last_at) AS last_at
    FROM aggregation_channel c
    CROSS JOIN LATERAL (
        SELECT max(b.finished_at) AS last_at FROM aggregation_batch b
        WHERE b.channel_id = c.id AND b.status = 'succeeded' AND b.finished_at < %(as_of_end)s
    ) bc
    GROUP BY c.resource_id) lb ON lb.resource_id = r.id
WHERE r.retired_at IS NULL
  AND COALESCE(v.published_at, r.created_at) < %(as_of_end)s - cyc.iv
""",
    )
)

register_indicator(
    Indicator(
        key="quality_score",
        label=_("Data quality score"),
        description=_(
            "Mean overall score of the quality runs finished in the period on the agency's "
            "resources."
        ),
        kind="mean",
        unit=_("points"),
        record_url="quality:resource",
        records="""
SELECT r.provider_id AS agency_id, r.id::text AS record_id,
       r.code || ' #' || q.id::text AS label, q.score AS num, 1 AS den, q.finished_at AS at
FROM aggregation_qualityrun q JOIN catalog_resource r ON r.id = q.resource_id
WHERE q.status = 'done' AND q.score IS NOT NULL
  AND q.finished_at >= %(start)s AND q.finished_at < %(end)s
""",
    )
)

_ISSUES = """
FROM aggregation_qualityissue i JOIN catalog_resource r ON r.id = i.resource_id
WHERE i.created_at >= %(start)s AND i.created_at < %(end)s
"""

register_indicator(
    Indicator(
        key="issue_rectification_rate",
        label=_("Quality issues rectified"),
        description=_(
            "Quality issues opened in the period: the share the agency answered (fixed or "
            "explained) by the run's day, or that a run verified or the bureau closed."
        ),
        kind="rate",
        record_url="quality:issue-detail",
        records="""
SELECT i.provider_id AS agency_id, i.id::text AS record_id, r.code AS label,
       CASE WHEN (i.answered_at < %(as_of_end)s AND i.answer IN ('fixed', 'explained'))
              OR i.state IN ('verified', 'closed') THEN 1 ELSE 0 END AS num,
       1 AS den, i.created_at AS at
"""
        + _ISSUES,
    )
)

register_indicator(
    Indicator(
        key="issue_rectification_days",
        label=_("Working days to answer quality issues"),
        description=_(
            "Quality issues opened in the period: mean working days from the issue to the "
            "agency's answer (an unanswered issue counts its age on the run's day)."
        ),
        kind="days",
        unit=_("working days"),
        record_url="quality:issue-detail",
        limit_days=lambda: settings.SUPERVISION_ISSUE_ANSWER_DAYS,
        records=f"""
SELECT i.provider_id AS agency_id, i.id::text AS record_id, r.code AS label,
       {wd(_local_date("i.created_at"), f"COALESCE({_local_date('i.answered_at')}, %(as_of)s)")}
         AS num,
       1 AS den, i.created_at AS at
"""
        + _ISSUES,
    )
)

register_indicator(
    Indicator(
        key="objection_on_time",
        label=_("Objections handled on time"),
        description=_(
            "Objections to the agency's resources submitted in the period: the share none of "
            "whose steps was flagged overdue."
        ),
        kind="rate",
        record_url="objections:detail",
        records="""
SELECT r.provider_id AS agency_id, o.id::text AS record_id, r.code AS label,
       CASE WHEN o.overdue_flagged_on IS NULL THEN 1 ELSE 0 END AS num, 1 AS den,
       o.created_at AS at
FROM aggregation_objection o JOIN catalog_resource r ON r.id = o.resource_id
WHERE o.created_at >= %(start)s AND o.created_at < %(end)s
""",
    )
)

register_indicator(
    Indicator(
        key="feedback_response_days",
        label=_("Working days to answer catalog feedback"),
        description=_(
            "Catalog feedback (Art. 14) reported in the period: mean working days to the "
            "agency's first proposal (an unanswered report counts its age on the run's day)."
        ),
        kind="days",
        unit=_("working days"),
        record_url="catalog:feedback",
        limit_days=lambda: settings.SUPERVISION_FEEDBACK_ANSWER_DAYS,
        records=f"""
SELECT f.provider_id AS agency_id, f.id::text AS record_id, f.kind AS label,
       {wd(_local_date("f.created_at"), f"COALESCE({_local_date('p.first_at')}, %(as_of)s)")}
         AS num,
       1 AS den, f.created_at AS at
FROM catalog_catalogfeedback f
LEFT JOIN (
    SELECT h.id, min(h.history_date) AS first_at FROM catalog_historicalcatalogfeedback h
    WHERE h.state IN ('adjustment_proposed', 'no_change_proposed')
      AND h.history_date < %(as_of_end)s
    GROUP BY h.id) p ON p.id = f.id
WHERE f.created_at >= %(start)s AND f.created_at < %(end)s
""",  # noqa: S608 (constant SQL; values are bound)
    )
)

_SHARE_DECIDED = (
    "COALESCE(CASE WHEN s.decided_at < %(as_of_end)s THEN "
    + _local_date("s.decided_at")
    + " END, %(as_of)s)"
)
_SHARE = """
FROM authorization_sharerequest s JOIN catalog_resource r ON r.id = s.resource_id
WHERE s.created_at >= %(start)s AND s.created_at < %(end)s
"""

register_indicator(
    Indicator(
        key="share_response_days",
        label=_("Working days to answer share requests"),
        description=_(
            "Share requests to the agency made in the period: mean working days to its "
            "decision (an undecided request counts its age on the run's day; withdrawn "
            "requests are not counted)."
        ),
        kind="days",
        unit=_("working days"),
        record_url="sharing:request",
        limit_days=lambda: settings.SHARING_DAYS_PROVIDER_REPLY,
        records=f"""
SELECT s.provider_id AS agency_id, s.id::text AS record_id, r.code AS label,
       {wd(_local_date("s.created_at"), _SHARE_DECIDED)} AS num,
       1 AS den, s.created_at AS at
"""
        + _SHARE
        + " AND s.state <> 'withdrawn'",
    )
)

register_indicator(
    Indicator(
        key="share_refusal_rate",
        label=_("Share requests refused"),
        description=_(
            "Share requests to the agency made in the period and decided by the run's day: "
            "the share refused (the score is 100 minus that share)."
        ),
        kind="inverse_rate",
        record_url="sharing:request",
        records="""
SELECT s.provider_id AS agency_id, s.id::text AS record_id, r.code AS label,
       CASE WHEN s.state IN ('refused', 'coordination') THEN 1 ELSE 0 END AS num, 1 AS den,
       s.decided_at AS at
"""
        + _SHARE
        + " AND s.decided_at < %(as_of_end)s AND s.state IN ('granted', 'refused', 'coordination')",
    )
)

register_indicator(
    Indicator(
        key="downtime_reported",
        label=_("Outages reported"),
        description=_(
            "Failed loads in the period on channels from the agency's systems: the share that "
            "fell inside a downtime report of that system (an outage reported rather than "
            "left unreported)."
        ),
        kind="rate",
        record_url="aggregation:batch-detail",
        records="""
SELECT r.provider_id AS agency_id, b.id::text AS record_id, r.code AS label,
       CASE WHEN d.spans @> COALESCE(b.started_at, b.created_at) THEN 1 ELSE 0 END AS num,
       1 AS den, b.created_at AS at
FROM aggregation_batch b
JOIN aggregation_channel c ON c.id = b.channel_id
JOIN catalog_resource r ON r.id = c.resource_id
LEFT JOIN (
    -- A system's reported outages as one set of [start, end) spans: one hash join, not a
    -- look-up per failed load.
    SELECT d.information_system_id, range_agg(tstzrange(d.starts_at, d.ends_at, '[)')) AS spans
    FROM aggregation_downtimereport d
    WHERE d.cancelled_at IS NULL AND d.ends_at > d.starts_at
    GROUP BY d.information_system_id) d ON d.information_system_id = c.information_system_id
WHERE b.status = 'failed' AND c.information_system_id IS NOT NULL
  AND b.created_at >= %(start)s AND b.created_at < %(end)s
""",
    )
)

register_indicator(
    Indicator(
        key="security_current",
        label=_("Security assessments current"),
        description=_(
            "Active channels of the agency's resources: the share with a current, passed, "
            "unrevoked security assessment valid on the run's day (Art. 27)."
        ),
        kind="rate",
        record_url="aggregation:channel-detail",
        records="""
SELECT r.provider_id AS agency_id, c.id::text AS record_id, c.name AS label,
       CASE WHEN EXISTS (
           SELECT 1 FROM security_assessment a
           WHERE a.subject_kind = 'channel' AND a.subject_id = c.id::text AND a.is_current
             AND a.result IN ('pass', 'conditional') AND a.revoked_at IS NULL
             AND a.valid_until >= %(as_of)s)
       THEN 1 ELSE 0 END AS num, 1 AS den, c.created_at AS at
FROM aggregation_channel c JOIN catalog_resource r ON r.id = c.resource_id
WHERE c.state = 'active'
""",
    )
)

register_indicator(
    Indicator(
        key="operation_registered",
        label=_("Operation scope registered"),
        description=_(
            "Published resources of the agency in the authorized-operation scope: the share "
            "with a current registration (registered, not cancelled) on the run's day, as Art. "
            "23 makes registration mandatory for them."
        ),
        kind="rate",
        record_url="catalog:resource",
        records="""
SELECT r.provider_id AS agency_id, r.id::text AS record_id, r.code || ' ' || v.name AS label,
       CASE WHEN EXISTS (
           SELECT 1 FROM registration_registration g
           WHERE g.resource_id = r.id AND g.state = 'registered'
             AND g.registered_at < %(as_of_end)s)
       THEN 1 ELSE 0 END AS num, 1 AS den, COALESCE(v.published_at, r.created_at) AS at
FROM catalog_resource r
JOIN catalog_resourceversion v ON v.id = r.published_version_id
WHERE r.retired_at IS NULL AND v.operation_eligible
""",
    )
)
