"""Reads of data quality: rules with their last result, runs and trends, the issue list,
and the boards (scores per agency or resource and dimension). Querysets come restricted to
what the user may see (permissions.py)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Avg, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from ..models import Dimension, QualityIssue, QualityResult, QualityRule, QualityRun
from .permissions import issues_visible_to, resources_with_quality_visible_to, sees_all_quality

DIMENSIONS = list(Dimension)
TREND_DAYS = 30


def rules_with_last_result(resource) -> tuple[list[QualityRule], QualityRun | None]:
    """All rules of the resource (enabled first), each with `last` = its result in the last
    finished run (or None), and that run."""
    last_run = (
        QualityRun.objects.filter(resource=resource, status=QualityRun.Status.DONE)
        .order_by("-created_at")
        .first()
    )
    results = {}
    if last_run is not None:
        results = {r.rule_id: r for r in QualityResult.objects.filter(run=last_run)}
    rules = list(
        QualityRule.objects.filter(resource=resource).order_by("-enabled", "dimension", "pk")
    )
    for rule in rules:
        rule.last = results.get(rule.pk)
    return rules, last_run


def runs_for(resource) -> QuerySet[QualityRun]:
    return QualityRun.objects.filter(resource=resource).select_related("requested_by", "batch")


def active_run(resource) -> QualityRun | None:
    """The resource's run still waiting or running (the newest), if any."""
    return (
        QualityRun.objects.filter(
            resource=resource, status__in=[QualityRun.Status.PENDING, QualityRun.Status.RUNNING]
        )
        .order_by("-created_at")
        .first()
    )


def live_issue_counts(resource) -> dict[int, QualityIssue]:
    return {
        i.rule_id: i
        for i in QualityIssue.objects.filter(resource=resource).exclude(
            state=QualityIssue.State.CLOSED
        )
    }


# --- charts (inline SVG, drawn by the templates) ----------------------------------------------


@dataclass
class Series:
    key: str
    label: str
    path: str
    points: list[tuple[float, float, float]] = field(default_factory=list)  # x, y, value


@dataclass
class TrendChart:
    series: list[Series] = field(default_factory=list)
    labels: list[tuple[float, str]] = field(default_factory=list)
    width: int = 720
    height: int = 200
    pad: int = 28

    @property
    def gridlines(self) -> list[tuple[float, int]]:
        plot = self.height - 2 * self.pad
        return [(self.pad + plot * (1 - v / 100), v) for v in (0, 50, 100)]


def _chart(
    points_by_key: dict[str, list[tuple[int, float]]], labels: dict[str, str], x_labels: list[str]
) -> TrendChart:
    """Lines over the positions 0..n-1 of `x_labels` (one per run, oldest first)."""
    chart = TrendChart()
    if not x_labels:
        return chart
    plot_w = chart.width - 2 * chart.pad
    plot_h = chart.height - 2 * chart.pad
    step = plot_w / max(len(x_labels) - 1, 1)
    every = max(1, len(x_labels) // 6)
    chart.labels = [
        (round(chart.pad + i * step, 1), x) for i, x in enumerate(x_labels) if i % every == 0
    ]
    for key, pts in points_by_key.items():
        coords = [
            (
                round(chart.pad + i * step, 1),
                round(chart.pad + plot_h * (1 - float(v) / 100), 1),
                float(v),
            )
            for i, v in pts
        ]
        path = "M" + " L".join(f"{x},{y}" for x, y, _v in coords) if coords else ""
        chart.series.append(Series(key, labels.get(key, key), path, coords))
    return chart


def run_trend(resource, *, last: int = 30) -> TrendChart:
    """Overall and per-dimension scores of the resource's last finished runs."""
    runs = list(
        QualityRun.objects.filter(resource=resource, status=QualityRun.Status.DONE).order_by(
            "-created_at"
        )[:last]
    )[::-1]
    points: dict[str, list] = {"overall": []}
    x_labels = []
    for i, run in enumerate(runs):
        x_labels.append(timezone.localtime(run.created_at).strftime("%m-%d %H:%M"))
        if run.score is not None:
            points["overall"].append((i, run.score))
        for dim, value in (run.scores or {}).items():
            points.setdefault(dim, []).append((i, value))
    labels = {"overall": str(_overall_label()), **{d.value: str(d.label) for d in DIMENSIONS}}
    return _chart(points, labels, x_labels)


def _overall_label():
    from django.utils.translation import gettext

    return gettext("Overall")


# --- the issue list ----------------------------------------------------------------------------


def issue_list(
    user,
    *,
    q: str = "",
    state: str = "",
    agency=None,
    dimension: str = "",
    overdue: bool = False,
    resource=None,
    now=None,
) -> QuerySet[QualityIssue]:
    qs = issues_visible_to(user)
    if q:
        qs = qs.filter(
            Q(resource__code__icontains=q)
            | Q(resource__published_version__name__icontains=q)
            | Q(rule__name__icontains=q)
        )
    if state:
        qs = qs.filter(state=state)
    if agency is not None:
        qs = qs.filter(provider=agency)
    if dimension:
        qs = qs.filter(rule__dimension=dimension)
    if resource is not None:
        qs = qs.filter(resource=resource)
    if overdue:
        qs = qs.filter(
            state__in=[QualityIssue.State.OPEN, QualityIssue.State.ESCALATED],
            deadline__lt=now or timezone.now(),
        )
    return qs.order_by("-created_at")


def agencies_with_issues():
    """The agencies the bureau may filter by: those with issues or with published resources
    (an agency without issues gives an empty list, not everyone's)."""
    from catalog.models import Resource
    from wuhan_pdr.accounts.models import Organization

    return Organization.objects.filter(
        Q(pk__in=QualityIssue.objects.values("provider_id"))
        | Q(pk__in=Resource.objects.filter(published_version__isnull=False).values("provider_id"))
    ).order_by("name")


# --- boards ------------------------------------------------------------------------------------


@dataclass
class BoardRow:
    key: int
    name: str
    scores: list[Decimal | None]  # in DIMENSIONS order
    overall: Decimal | None
    open_issues: int = 0
    trend: str = ""  # SVG path of the daily mean overall score, 120 x 28
    url: str = ""


def _latest_runs(resources) -> list[QualityRun]:
    return list(
        QualityRun.objects.filter(resource__in=resources, status=QualityRun.Status.DONE)
        .order_by("resource_id", "-created_at")
        .distinct("resource_id")
        .select_related("resource", "resource__provider", "resource__published_version")
    )


def _mean(values) -> Decimal | None:
    values = [Decimal(str(v)) for v in values if v is not None]
    if not values:
        return None
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


def _spark(values: list[float]) -> str:
    if not values:
        return ""
    if len(values) == 1:
        values = values * 2
    step = 120 / (len(values) - 1)
    return "M" + " L".join(
        f"{i * step:.1f},{2 + 24 * (1 - float(v) / 100):.1f}" for i, v in enumerate(values)
    )


def quality_board(user, *, agency=None, now=None) -> tuple[str, list[BoardRow]]:
    """The bureau's board: one row per agency (mean of its resources' latest scores per
    dimension), or with `agency` one row per resource of that agency; an agency's board: one
    row per own resource. With daily trends of the last 30 days and open issue counts."""
    from django.urls import reverse

    now = now or timezone.now()
    resources = resources_with_quality_visible_to(user)
    by_agency = sees_all_quality(user) and agency is None
    if agency is not None:
        resources = resources.filter(provider=agency)
    runs = _latest_runs(resources)
    since = now - dt.timedelta(days=TREND_DAYS)
    group = "resource__provider_id" if by_agency else "resource_id"
    daily = (
        QualityRun.objects.filter(
            resource__in=resources, status=QualityRun.Status.DONE, created_at__gte=since
        )
        .annotate(day=TruncDate("created_at"))
        .values(group, "day")
        .annotate(mean=Avg("score"))
        .order_by(group, "day")
    )
    trends: dict[int, list[float]] = {}
    for row in daily:
        if row["mean"] is not None:
            trends.setdefault(row[group], []).append(float(row["mean"]))
    open_counts: dict[int, int] = {}
    live = issues_visible_to(user).exclude(state=QualityIssue.State.CLOSED)
    if agency is not None:
        live = live.filter(provider=agency)
    for row in live.values("provider_id" if by_agency else "resource_id"):
        k = row["provider_id" if by_agency else "resource_id"]
        open_counts[k] = open_counts.get(k, 0) + 1
    groups: dict[int, list[QualityRun]] = {}
    names: dict[int, str] = {}
    for run in runs:
        k = run.resource.provider_id if by_agency else run.resource_id
        groups.setdefault(k, []).append(run)
        names[k] = (
            run.resource.provider.name
            if by_agency
            else f"{run.resource.code} {run.resource.published_version.name}"
        )
    rows = []
    for k, group_runs in groups.items():
        scores = [_mean([(r.scores or {}).get(d.value) for r in group_runs]) for d in DIMENSIONS]
        rows.append(
            BoardRow(
                key=k,
                name=names[k],
                scores=scores,
                overall=_mean([r.score for r in group_runs]),
                open_issues=open_counts.get(k, 0),
                trend=_spark(trends.get(k, [])),
                url=(
                    reverse("quality:board") + f"?agency={k}"
                    if by_agency
                    else reverse("quality:resource", args=[k])
                ),
            )
        )
    rows.sort(key=lambda r: (r.overall is None, r.overall or 0, r.name))
    return ("agency" if by_agency else "resource"), rows
