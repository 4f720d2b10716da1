"""Rectification orders (Art. 31) and the platform's suggestions of orders."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords


class Case(models.TextChoices):
    """Art. 31: its second paragraph's six cases, and its first paragraph (platform security)."""

    NOT_PROVIDED = "not_provided", _("(1) Public data not provided as required")
    NOT_SHARED = "not_shared", _("(2) Public data not shared, opened or authorized as required")
    OBJECTION = "objection", _("(3) Objections to public data not checked and answered in time")
    MISUSE = "misuse", _("(4) Shared public data used against the rules")
    SECURITY_DUTY = "security_duty", _("(5) Public data security duties not fulfilled")
    OTHER = "other", _("(6) Other breaches of these Rules")
    PLATFORM_SECURITY = "platform_security", _("Platform security problem (Art. 31, para. 1)")


class RectificationOrder(models.Model):
    class State(models.TextChoices):
        ISSUED = "issued", pgettext_lazy("rectification", "Issued: to acknowledge")
        ACKNOWLEDGED = (
            "acknowledged",
            pgettext_lazy("rectification", "Acknowledged: being rectified"),
        )
        ANSWERED = "answered", pgettext_lazy("rectification", "Answered: to verify")
        RETURNED = "returned", pgettext_lazy("rectification", "Returned: rectify again")
        VERIFIED = "verified", pgettext_lazy("rectification", "Verified: closed")

    OPEN_STATES = (State.ISSUED, State.ACKNOWLEDGED, State.RETURNED)
    AGENCY_STATES = (State.ISSUED, State.ACKNOWLEDGED, State.RETURNED)

    issuer = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("issuing bureau"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    agency = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("agency ordered"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    case = models.CharField(_("case (Art. 31)"), max_length=24, choices=Case.choices)
    facts = models.TextField(_("facts found"), max_length=4000)
    requirement = models.TextField(_("what must be done"), max_length=4000, blank=True)
    deadline_days = models.PositiveSmallIntegerField(_("deadline in working days"))
    due_on = models.DateField(pgettext_lazy("rectification", "due on"))
    state = models.CharField(
        pgettext_lazy("rectification", "state"),
        max_length=16,
        choices=State.choices,
        default=State.ISSUED,
    )
    answer = models.TextField(_("agency's answer"), max_length=4000, blank=True)
    acknowledged_at = models.DateTimeField(
        pgettext_lazy("rectification", "acknowledged"), null=True, blank=True
    )
    answered_at = models.DateTimeField(
        pgettext_lazy("rectification", "answered"), null=True, blank=True
    )
    verified_at = models.DateTimeField(
        pgettext_lazy("rectification", "verified"), null=True, blank=True
    )
    # Beat: the day the order was first found overdue, the last reminder, the escalation.
    overdue_since = models.DateField(
        pgettext_lazy("rectification", "overdue since"), null=True, blank=True
    )
    reminded_on = models.DateField(
        pgettext_lazy("rectification", "last reminded"), null=True, blank=True
    )
    escalated_at = models.DateTimeField(
        pgettext_lazy("rectification", "escalated"), null=True, blank=True
    )
    created_at = models.DateTimeField(pgettext_lazy("rectification", "issued"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["state", "due_on"]),
            models.Index(fields=["agency", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(deadline_days__gte=1, deadline_days__lte=120),
                name="rectification_deadline_days",
            )
        ]

    def __str__(self) -> str:
        return f"整改 #{self.pk} {self.agency}"

    @property
    def is_open(self) -> bool:
        return self.state != self.State.VERIFIED

    @property
    def is_overdue(self) -> bool:
        return self.overdue_since is not None and self.state in self.OPEN_STATES


class OrderEvidence(models.Model):
    """A document the agency attaches to its answer (checked by kernel.uploads)."""

    order = models.ForeignKey(RectificationOrder, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="supervision/evidence/%Y/%m/")
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(default=0)
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["uploaded_at", "pk"]

    def __str__(self) -> str:
        return self.name


class Signal(models.TextChoices):
    ISSUE_OVERDUE = "issue_overdue", _("Quality issue long overdue")
    SHARE_UNANSWERED = "share_unanswered", _("Share request unanswered past its limit")
    OBJECTION_LATE = "objection_late", _("Objection not handled in time")
    DATA_STALE = "data_stale", _("Data not updated for its cycle")
    UNREGISTERED = "unregistered", _("Operation-scope resource not registered")


class OrderSuggestion(models.Model):
    """A rectification order the platform suggests from one of its signals; a reviewer of the
    city bureau confirms it (an order is issued) or dismisses it with a reason."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("suggestion", "To decide")
        CONFIRMED = "confirmed", pgettext_lazy("suggestion", "Order issued")
        DISMISSED = "dismissed", pgettext_lazy("suggestion", "Dismissed")

    signal = models.CharField(
        pgettext_lazy("rectification", "signal"), max_length=24, choices=Signal.choices
    )
    source_id = models.CharField(max_length=64)
    agency = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    case = models.CharField(_("case (Art. 31)"), max_length=24, choices=Case.choices)
    facts = models.TextField(_("facts found"), max_length=4000)
    state = models.CharField(
        pgettext_lazy("suggestion", "state"),
        max_length=16,
        choices=State.choices,
        default=State.OPEN,
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    dismiss_reason = models.TextField(_("why it is dismissed"), max_length=2000, blank=True)
    order = models.ForeignKey(
        RectificationOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # One suggestion per signal and record, ever: a dismissed one is not suggested again.
            models.UniqueConstraint(fields=["signal", "source_id"], name="suggestion_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_signal_display()} {self.source_id}"
