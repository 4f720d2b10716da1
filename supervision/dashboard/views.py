"""The city dashboard at /supervision/."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Avg, Count, Q
from django.http import Http404
from django.shortcuts import render

from supervision.evaluation.models import AgencyScore, EvaluationPlan, EvaluationRun
from supervision.evaluation.permissions import sees_all
from supervision.inspections.models import Finding, Inspection
from supervision.rectification.models import RectificationOrder
from wuhan_pdr.kernel.workdays import today as local_today

from .charts import bar_chart, line_chart

TOP = 10
_SEVERITY_BAR = {"minor": "bar-good", "moderate": "bar-mid", "serious": "bar-bad"}


@login_required
def dashboard(request):
    if not sees_all(request.user):
        raise Http404
    published = EvaluationRun.objects.filter(state=EvaluationRun.State.PUBLISHED)
    latest = published.select_related("plan").order_by("-published_at", "-pk").first()
    trend = None
    ranking = None
    if latest is not None:
        runs = (
            published.filter(plan=latest.plan)
            .annotate(mean=Avg("scores__final"))
            .order_by("as_of", "number")
        )
        trend = line_chart([(f"{r.as_of:%Y-%m-%d}", float(r.mean or 0)) for r in runs])
        scores = list(
            AgencyScore.objects.filter(run=latest, final__isnull=False)
            .select_related("agency")
            .order_by("rank", "agency__name")
        )
        shown = scores[:TOP] + [s for s in scores[-TOP:] if s not in scores[:TOP]]
        ranking = bar_chart(
            [
                (
                    f"{s.rank}. {s.agency.short_name or s.agency.name}",
                    float(s.final),
                    "bar-good" if s.final >= 80 else "bar-bad" if s.final < 60 else "bar-mid",
                )
                for s in shown
            ]
        )
    open_states = RectificationOrder.OPEN_STATES
    counts = RectificationOrder.objects.aggregate(
        issued=Count("pk", filter=Q(state=RectificationOrder.State.ISSUED)),
        acknowledged=Count("pk", filter=Q(state=RectificationOrder.State.ACKNOWLEDGED)),
        answered=Count("pk", filter=Q(state=RectificationOrder.State.ANSWERED)),
        returned=Count("pk", filter=Q(state=RectificationOrder.State.RETURNED)),
        verified=Count("pk", filter=Q(state=RectificationOrder.State.VERIFIED)),
        overdue=Count("pk", filter=Q(state__in=open_states, overdue_since__isnull=False)),
        escalated=Count("pk", filter=Q(state__in=open_states, escalated_at__isnull=False)),
    )
    labels = dict(RectificationOrder.State.choices)
    order_items = [
        (str(labels[k]), counts[k], "bar-mid")
        for k in ("issued", "acknowledged", "answered", "returned", "verified")
    ]
    orders = bar_chart(order_items, max_value=max([c for _l, c, _x in order_items] + [1]))
    year = local_today().year
    inspections = Inspection.objects.aggregate(
        open=Count("pk", filter=Q(state__in=Inspection.OPEN_STATES)),
        closed_this_year=Count("pk", filter=Q(state=Inspection.State.CLOSED, closed_at__year=year)),
    )
    by_severity = dict(
        Finding.objects.filter(inspection__planned_start__year=year)
        .values_list("severity")
        .annotate(n=Count("pk"))
        .values_list("severity", "n")
    )
    severity_items = [
        (str(label), by_severity.get(value, 0), _SEVERITY_BAR[value])
        for value, label in Finding.Severity.choices
    ]
    severities = bar_chart(severity_items, max_value=max([n for _l, n, _x in severity_items] + [1]))
    return render(
        request,
        "supervision/dashboard/dashboard.html",
        {
            "latest": latest,
            "trend": trend,
            "ranking": ranking,
            "orders": orders,
            "counts": counts,
            "plans": EvaluationPlan.objects.count(),
            "inspections": inspections,
            "severities": severities,
            "year": year,
        },
    )
