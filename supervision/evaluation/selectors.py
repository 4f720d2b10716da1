"""Reads of the evaluation, restricted by the views to what the user may see."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from .indicators import Indicator
from .models import AgencyScore, EvaluationPlan, EvaluationRun, IndicatorValue

DRILL_LIMIT = 1000


def plans() -> QuerySet[EvaluationPlan]:
    return EvaluationPlan.objects.select_related("created_by").prefetch_related("indicators")


def ranking(run: EvaluationRun) -> QuerySet[AgencyScore]:
    return (
        AgencyScore.objects.filter(run=run)
        .select_related("agency")
        .order_by("rank", "agency__name")
    )


def values_of(run: EvaluationRun, agency_id: int) -> QuerySet[IndicatorValue]:
    return IndicatorValue.objects.filter(run=run, agency_id=agency_id)


def published_scores_of(agency_id: int) -> QuerySet[AgencyScore]:
    return (
        AgencyScore.objects.filter(agency_id=agency_id, run__state=EvaluationRun.State.PUBLISHED)
        .select_related("run", "run__plan")
        .order_by("-run__published_at")
    )


def latest_published_score(agency_id: int) -> AgencyScore | None:
    return published_scores_of(agency_id).first()


def records_behind(ind: Indicator, run: EvaluationRun, agency_id: int) -> list[dict]:
    """The records an agency's figure counts: the indicator's own query, for that agency."""
    from .services import query_params

    sql = (
        f"SELECT rec.record_id, rec.label, rec.num, rec.den, rec.at FROM ({ind.records}) rec "  # noqa: S608
        f"WHERE rec.agency_id = %(agency_id)s ORDER BY rec.at DESC NULLS LAST, rec.record_id "
        f"LIMIT {DRILL_LIMIT}"
    )
    with connection.cursor() as cur:
        cur.execute(sql, {**query_params(run), "agency_id": agency_id})
        cols = [c.name for c in cur.description]
        return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]
