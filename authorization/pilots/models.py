"""Pilot scenarios of authorized operation (Art. 22).

The city bureau publishes a `PilotCall` (area, requirements, deadline). Operators and
companies submit a `Proposal` (with a document) before the deadline; the bureau's reviewers
score it (`ProposalReview`: four criteria and a comment) and select pilots. A selected pilot
gets a `PilotTrial`: its service is priced but free (计价免费) - the price and unit are
recorded, the fee waived until an end date, and normal pricing applies after it.
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

SCORE_MAX = 25


class PilotCall(models.Model):
    class State(models.TextChoices):
        OPEN = "open", _("Open for proposals")
        REVIEW = "review", _("Under review")
        CLOSED = "closed", _("Selection finished")

    title = models.CharField(_("title"), max_length=200)
    area = models.CharField(_("application area"), max_length=200)
    requirements = models.TextField(_("requirements"), max_length=8000)
    deadline = models.DateTimeField(_("deadline for proposals"))
    state = models.CharField(
        pgettext_lazy("pilot call", "state"),
        max_length=8,
        choices=State.choices,
        default=State.OPEN,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("published"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("call for pilots")
        verbose_name_plural = _("calls for pilots")
        ordering = ["-deadline", "-pk"]
        indexes = [models.Index(fields=["state", "deadline"])]

    def __str__(self) -> str:
        return self.title


class Proposal(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("proposal", "Submitted")
        WITHDRAWN = "withdrawn", pgettext_lazy("proposal", "Withdrawn")
        SELECTED = "selected", _("Selected as a pilot")
        NOT_SELECTED = "not_selected", _("Not selected")

    call = models.ForeignKey(
        PilotCall,
        verbose_name=_("call for pilots"),
        on_delete=models.PROTECT,
        related_name="proposals",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("proposing organization"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("scenario"), max_length=8000)
    data_needed = models.TextField(_("public data needed"), max_length=4000)
    document = models.FileField(_("document"), upload_to="pilots/%Y/%m/", max_length=200)
    document_name = models.CharField(_("document file name"), max_length=200)
    document_size = models.PositiveBigIntegerField(_("document size"))
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    state = models.CharField(
        pgettext_lazy("proposal", "state"),
        max_length=16,
        choices=State.choices,
        default=State.SUBMITTED,
    )
    decision_comment = models.TextField(_("decision comment"), max_length=4000, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(pgettext_lazy("proposal", "submitted"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("pilot proposal")
        verbose_name_plural = _("pilot proposals")
        ordering = ["call", "-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["call", "organization"],
                condition=~models.Q(state="withdrawn"),
                name="proposal_once_per_call",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ProposalReview(models.Model):
    """One reviewer's scores (0-25 on each of four criteria) and comment."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewer"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    value = models.PositiveSmallIntegerField(
        _("value of the application"), validators=[MaxValueValidator(SCORE_MAX)]
    )
    feasibility = models.PositiveSmallIntegerField(
        _("feasibility"), validators=[MaxValueValidator(SCORE_MAX)]
    )
    security = models.PositiveSmallIntegerField(
        _("data security"), validators=[MaxValueValidator(SCORE_MAX)]
    )
    innovation = models.PositiveSmallIntegerField(
        _("innovation"), validators=[MaxValueValidator(SCORE_MAX)]
    )
    comment = models.TextField(_("comment"), max_length=4000)
    updated_at = models.DateTimeField(_("scored"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("proposal review")
        verbose_name_plural = _("proposal reviews")
        ordering = ["proposal", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "reviewer"], name="review_once"),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.total}"

    @property
    def total(self) -> int:
        return self.value + self.feasibility + self.security + self.innovation


class PilotTrial(models.Model):
    """计价免费: the selected pilot's service is priced (price and unit recorded) and its fee
    waived from `starts_on` until `waived_until`; after that normal pricing applies."""

    proposal = models.OneToOneField(
        Proposal,
        verbose_name=_("pilot proposal"),
        on_delete=models.PROTECT,
        related_name="trial",
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    service = models.CharField(_("product or service"), max_length=200)
    price = models.DecimalField(
        _("price (yuan)"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    unit = models.CharField(_("pricing unit"), max_length=50)
    starts_on = models.DateField(_("fee waived from"))
    waived_until = models.DateField(_("fee waived until"))
    reminded_at = models.DateTimeField(_("end reminder sent"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("priced-but-free trial")
        verbose_name_plural = _("priced-but-free trials")
        ordering = ["-waived_until", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(waived_until__gte=models.F("starts_on")),
                name="trial_period_order",
            ),
            models.CheckConstraint(condition=models.Q(price__gte=0), name="trial_price_min"),
        ]

    def __str__(self) -> str:
        return f"{self.service} ({self.organization})"

    def waived_on(self, day) -> bool:
        return self.starts_on <= day <= self.waived_until
