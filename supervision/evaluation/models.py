"""Evaluation plans, runs and their results (Art. 29).

A plan names a period and the indicators it weighs (weights add to 100). A run computes every
agency's indicators from the platform's own records (never typed in) and stores one
`IndicatorFigures` per indicator (read as one `IndicatorValue` per agency and indicator) and one
`AgencyScore` per agency; reviewers adjust a score with a reason (`ScoreAdjustment`, and the
score's history); a published run is visible to each agency for its own scores."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class EvaluationPlan(models.Model):
    name = models.CharField(_("plan name"), max_length=100, unique=True)
    period_start = models.DateField(pgettext_lazy("evaluation", "period from"))
    period_end = models.DateField(pgettext_lazy("evaluation", "period until"))
    note = models.TextField(_("note"), max_length=2000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation plan")
        verbose_name_plural = _("evaluation plans")
        ordering = ["-period_end", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="evaluation_plan_period_order",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PlanIndicator(models.Model):
    """One indicator of a plan (a key of the indicator registry) and its weight."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="indicators")
    key = models.CharField(pgettext_lazy("evaluation", "indicator"), max_length=40)
    weight = models.PositiveSmallIntegerField(pgettext_lazy("evaluation", "weight"))
    order = models.PositiveSmallIntegerField(default=0)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="plan_indicator_unique"),
            models.CheckConstraint(
                condition=models.Q(weight__gt=0, weight__lte=100), name="plan_indicator_weight"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} ({self.weight})"


class EvaluationRun(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("evaluation run", "Waiting")
        RUNNING = "running", pgettext_lazy("evaluation run", "Computing")
        DONE = "done", pgettext_lazy("evaluation run", "Computed")
        FAILED = "failed", pgettext_lazy("evaluation run", "Failed")
        PUBLISHED = "published", pgettext_lazy("evaluation run", "Published")

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.PROTECT, related_name="runs")
    number = models.PositiveIntegerField(_("run number"))
    state = models.CharField(
        pgettext_lazy("evaluation run", "state"),
        max_length=16,
        choices=State.choices,
        default=State.PENDING,
    )
    # The day the run measures up to (the plan's end, or today for a run inside the period).
    as_of = models.DateField(_("measured up to"))
    job = models.ForeignKey(
        "kernel.BackgroundJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    error = models.CharField(_("error"), max_length=500, blank=True)
    agencies = models.PositiveIntegerField(_("agencies ranked"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    finished_at = models.DateTimeField(
        pgettext_lazy("evaluation", "computed"), null=True, blank=True
    )
    published_at = models.DateTimeField(_("published"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evaluation run")
        verbose_name_plural = _("evaluation runs")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="evaluation_run_number")
        ]

    def __str__(self) -> str:
        return f"{self.plan} #{self.number}"

    @property
    def is_published(self) -> bool:
        return self.state == self.State.PUBLISHED


class AgencyScore(models.Model):
    """An agency's result in a run: the weighted score computed from its indicators, the
    reviewers' adjustment (sum of the adjustments, each with a reason) and its rank."""

    # Indexed by the unique constraint (run, agency), whose prefix serves the run's look-ups.
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="scores", db_index=False
    )
    agency = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    # Null: none of the plan's indicators had anything to count for this agency.
    computed = models.DecimalField(
        pgettext_lazy("evaluation", "computed score"),
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
    )
    adjustment = models.DecimalField(
        pgettext_lazy("evaluation", "adjustment"), max_digits=6, decimal_places=2, default=0
    )
    final = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField(_("rank"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency score")
        verbose_name_plural = _("agency scores")
        ordering = ["rank", "agency__name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "agency"], name="agency_score_unique")
        ]

    def __str__(self) -> str:
        return f"{self.agency} · {self.final}"


class IndicatorFigures(models.Model):
    """One indicator of one run for every agency, as parallel arrays: position i holds agency
    `agencies[i]`'s numerator, denominator, measure and score. What a run stores (decision
    0036): one row per indicator, built by the server from the indicator's statement, instead
    of one row per agency and indicator, whose writing (index entries, WAL, foreign-key checks)
    was as long as computing them. Read through `IndicatorValue`."""

    # Indexed by the unique constraint (run, key), whose prefix serves the run's look-ups.
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.CASCADE, related_name="figures", db_index=False
    )
    key = models.CharField(pgettext_lazy("evaluation", "indicator"), max_length=40)
    agencies = ArrayField(models.BigIntegerField())
    numerators = ArrayField(models.DecimalField(max_digits=14, decimal_places=2))
    denominators = ArrayField(models.DecimalField(max_digits=14, decimal_places=2))
    measures = ArrayField(models.DecimalField(max_digits=10, decimal_places=2, null=True))
    scores = ArrayField(models.DecimalField(max_digits=6, decimal_places=2, null=True))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["run", "key"], name="indicator_figures_unique"),
            # Parallel arrays: as many figures as agencies.
            models.CheckConstraint(
                condition=models.Q(
                    numerators__len=models.F("agencies__len"),
                    denominators__len=models.F("agencies__len"),
                    measures__len=models.F("agencies__len"),
                    scores__len=models.F("agencies__len"),
                ),
                name="indicator_figures_aligned",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id} {self.key}"


class IndicatorValue(models.Model):
    """One indicator of one agency in one run: what was counted (numerator over
    denominator), the measure shown (a rate in %, a mean in working days, a mean score) and
    the 0-100 score it gives. `denominator == 0`: nothing to count, no score.

    A database view over `IndicatorFigures` (one row per agency of each stored array; see the
    migration 0006), read-only: runs write `IndicatorFigures`, a run's deletion deletes them."""

    pk = models.CompositePrimaryKey("run", "key", "agency")
    run = models.ForeignKey(
        EvaluationRun, on_delete=models.DO_NOTHING, related_name="values", db_constraint=False
    )
    agency = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", db_constraint=False
    )
    key = models.CharField(pgettext_lazy("evaluation", "indicator"), max_length=40)
    numerator = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    denominator = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    measure = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    score = models.DecimalField(max_digits=6, decimal_places=2, null=True)

    class Meta:
        managed = False
        db_table = "supervision_indicatorvalue"

    def __str__(self) -> str:
        return f"{self.key}: {self.score}"


class ScoreAdjustment(models.Model):
    """A reviewer's change to an agency's score in a run, with the reason (required)."""

    score = models.ForeignKey(AgencyScore, on_delete=models.CASCADE, related_name="adjustments")
    delta = models.DecimalField(
        _("points added (negative: removed)"), max_digits=6, decimal_places=2
    )
    reason = models.TextField(_("reason"), max_length=2000)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    adjusted_at = models.DateTimeField(pgettext_lazy("evaluation", "adjusted"), auto_now_add=True)

    class Meta:
        ordering = ["-adjusted_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=~models.Q(reason=""), name="adjustment_has_reason")
        ]

    def __str__(self) -> str:
        return f"{self.delta:+}"


class ReportCopy(models.Model):
    """The monthly copy of a plan's Excel report (beat), kept for download."""

    plan = models.ForeignKey(EvaluationPlan, on_delete=models.CASCADE, related_name="copies")
    month = models.DateField(pgettext_lazy("evaluation", "month"))
    file = models.FileField(upload_to="supervision/reports/%Y/%m/")
    size = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-month", "-pk"]
        constraints = [models.UniqueConstraint(fields=["plan", "month"], name="report_copy_month")]

    def __str__(self) -> str:
        return f"{self.plan} {self.month:%Y-%m}"
