"""Disputes between public bodies in the management of public data (Art. 30)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Dispute(models.Model):
    class Subject(models.TextChoices):
        SHARE_REFUSAL = "share_refusal", _("A refused share request")
        OBJECTION = "objection", _("An objection to data")
        REVENUE = "revenue", _("A revenue adjustment")
        OTHER = "other", pgettext_lazy("dispute subject", "Other")

    class State(models.TextChoices):
        NEGOTIATING = "negotiating", _("The parties are negotiating")
        SETTLED = "settled", _("Settled by the parties")
        COORDINATION = "coordination", _("Coordination by the city bureau")
        DECIDED = "decided", _("Decided by the city bureau")

    OPEN_STATES = (State.NEGOTIATING, State.COORDINATION)

    title = models.CharField(_("what the dispute is about"), max_length=200)
    subject = models.CharField(_("subject"), max_length=16, choices=Subject.choices)
    # The record disputed, when there is one (e.g. a share request's number).
    reference = models.CharField(_("record concerned"), max_length=100, blank=True)
    # The record disputed, as a real link when the platform holds it: at most one, matching
    # `subject` (constraint `dispute_link_matches_subject`).
    share_request = models.ForeignKey(
        "authorization.ShareRequest",
        verbose_name=_("share request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    objection = models.ForeignKey(
        "aggregation.Objection",
        verbose_name=_("objection"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    adjustment = models.ForeignKey(
        "authorization.Distribution",
        verbose_name=_("revenue distribution"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    raised_by = models.ForeignKey(
        "accounts.Organization",
        verbose_name=pgettext_lazy("dispute", "raised by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    other_party = models.ForeignKey(
        "accounts.Organization",
        verbose_name=pgettext_lazy("dispute", "other party"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.TextField(_("the dispute"), max_length=4000)
    state = models.CharField(
        pgettext_lazy("dispute", "state"),
        max_length=16,
        choices=State.choices,
        default=State.NEGOTIATING,
    )
    negotiation_due = models.DateField(_("negotiate until"))
    settlement = models.TextField(_("what the parties agreed"), max_length=4000, blank=True)
    decision = models.TextField(_("the city bureau's decision"), max_length=4000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    coordination_at = models.DateTimeField(_("sent to coordination"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("dispute", "closed"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(pgettext_lazy("dispute", "raised"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = pgettext_lazy("dispute", "dispute")
        verbose_name_plural = pgettext_lazy("dispute", "disputes")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(raised_by=models.F("other_party")), name="dispute_two_parties"
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(objection__isnull=True, adjustment__isnull=True)
                    & (models.Q(share_request__isnull=True) | models.Q(subject="share_refusal"))
                )
                | (
                    models.Q(share_request__isnull=True, adjustment__isnull=True)
                    & models.Q(objection__isnull=False, subject="objection")
                )
                | (
                    models.Q(share_request__isnull=True, objection__isnull=True)
                    & models.Q(adjustment__isnull=False, subject="revenue")
                ),
                name="dispute_link_matches_subject",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def linked(self):
        """The record disputed, when linked (a share request, objection or distribution)."""
        return self.share_request or self.objection or self.adjustment

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class DisputeMeeting(models.Model):
    """A negotiation between the parties, or a coordination meeting held by the city bureau,
    with who took part and the minutes."""

    class Kind(models.TextChoices):
        NEGOTIATION = "negotiation", _("Negotiation between the parties")
        COORDINATION = "coordination", _("Coordination meeting")

    dispute = models.ForeignKey(Dispute, on_delete=models.CASCADE, related_name="meetings")
    kind = models.CharField(
        pgettext_lazy("dispute meeting", "kind"), max_length=16, choices=Kind.choices
    )
    held_on = models.DateField(_("held on"))
    participants = models.CharField(_("participants"), max_length=500)
    minutes = models.TextField(_("minutes"), max_length=8000)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["held_on", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.held_on}"
