"""Revenue of authorized operation and its distribution (Art. 21, 谁投入、谁贡献、谁受益).

An operator's revenue is recorded per period (`OperatorRevenue`). The city bureau sets how it
is distributed (`Distribution`): first the split between the government side and the
operator (a ratio), then the government share among the provider agencies by a rule it
chooses: by rows delivered or by calls (from the platform's own supply counters of the
operator's grants of origin "operation"), or by fixed weights. Each agency's part is a
`DistributionShare`. Every level adds up to the cent (allocation.py). A later change of the
ratio, rule or weights is an adjustment with a reason; the history keeps every version.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from wuhan_pdr.accounts.models import Organization

MAX_AMOUNT = Decimal("9999999999999.99")


class OperatorRevenue(models.Model):
    operator = models.ForeignKey(
        Organization,
        verbose_name=_("authorized operator"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    amount = models.DecimalField(
        _("revenue (yuan)"),
        max_digits=15,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(MAX_AMOUNT)],
    )
    note = models.TextField(pgettext_lazy("revenue", "note"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("operator revenue")
        verbose_name_plural = _("operator revenue")
        ordering = ["-period_start", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="revenue_period_order",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="revenue_amount_min"),
            models.UniqueConstraint(
                fields=["operator", "period_start", "period_end"], name="revenue_period_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.period_start}–{self.period_end}"


class Distribution(models.Model):
    class Rule(models.TextChoices):
        ROWS = "rows", _("By rows delivered")
        CALLS = "calls", _("By calls")
        WEIGHTS = "weights", _("By fixed weights")

    revenue = models.OneToOneField(
        OperatorRevenue,
        verbose_name=_("operator revenue"),
        on_delete=models.CASCADE,
        related_name="distribution",
    )
    government_ratio = models.DecimalField(
        _("government share (ratio)"),
        max_digits=5,
        decimal_places=4,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
    )
    rule = models.CharField(_("rule among agencies"), max_length=8, choices=Rule.choices)
    government_amount = models.DecimalField(
        _("government share (yuan)"), max_digits=15, decimal_places=2
    )
    operator_amount = models.DecimalField(
        _("operator share (yuan)"), max_digits=15, decimal_places=2
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    reason = models.TextField(_("reason for the adjustment"), max_length=2000, blank=True)
    computed_at = models.DateTimeField(_("computed"))
    computed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("computed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("revenue distribution")
        verbose_name_plural = _("revenue distributions")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(government_ratio__gte=0, government_ratio__lte=1),
                name="distribution_ratio_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.revenue} v{self.version}"


class DistributionShare(models.Model):
    """One provider agency's part of the government share. `basis` is what it was computed
    from: rows or calls counted by the platform, or the weight the bureau gave."""

    distribution = models.ForeignKey(Distribution, on_delete=models.CASCADE, related_name="shares")
    agency = models.ForeignKey(
        Organization,
        verbose_name=_("provider agency"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    basis = models.DecimalField(_("basis"), max_digits=20, decimal_places=4)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=15, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("agency share")
        verbose_name_plural = _("agency shares")
        ordering = ["distribution", "agency_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["distribution", "agency"], name="distribution_agency_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.agency}: {self.amount}"
