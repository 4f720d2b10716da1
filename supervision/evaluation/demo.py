"""Demo data of the evaluation: a plan over the demo's records with two published runs (so
trends show) and an adjustment with its reason. Idempotent."""

from __future__ import annotations

import datetime as dt

from wuhan_pdr.kernel.demo import Seeder, register_seeder

PLAN_NAME = "2026年度公共数据工作评估（演示）"
WEIGHTS = {
    "catalog_coverage": 15,
    "aggregation_on_time": 15,
    "quality_score": 15,
    "issue_rectification_rate": 10,
    "issue_rectification_days": 5,
    "objection_on_time": 5,
    "feedback_response_days": 5,
    "share_response_days": 10,
    "share_refusal_rate": 5,
    "downtime_reported": 5,
    "security_current": 10,
}


def seed(ctx: dict) -> None:
    from django.contrib.auth import get_user_model

    from . import services
    from .models import AgencyScore, EvaluationPlan, EvaluationRun

    reviewer = get_user_model().objects.filter(username="demo_city_reviewer").first()
    if reviewer is None or EvaluationPlan.objects.filter(name=PLAN_NAME).exists():
        return
    today = dt.date.today()
    plan = services.plan_create(
        name=PLAN_NAME,
        period_start=dt.date(today.year, 1, 1),
        period_end=dt.date(today.year, 12, 31),
        weights=WEIGHTS,
        note="演示数据",
        acting_user=reviewer,
    )
    for i, as_of in enumerate((today - dt.timedelta(days=30), today)):
        as_of = max(as_of, plan.period_start)
        run = EvaluationRun.objects.create(
            plan=plan, number=i + 1, as_of=as_of, created_by=reviewer
        )
        services.run_compute(run_id=run.pk)
        if i == 1:
            score = (
                AgencyScore.objects.filter(run=run, computed__isnull=False).order_by("rank").last()
            )
            if score is not None:
                services.score_adjust(
                    score=score,
                    delta=5,
                    reason="已于评估期内完成历史数据补录，经复核酌情加分。",
                    acting_user=reviewer,
                )
        services.run_publish(run=run, acting_user=reviewer)


register_seeder(Seeder("supervision.evaluation", 900, seed))
