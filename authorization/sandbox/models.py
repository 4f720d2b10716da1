"""Models of authorization.sandbox (imported by authorization/models.py): the data sandbox of
Art. 27. A government requester asks for a session on some resources of one provider, for a
purpose and a validity window; the provider's data officer approves it (with the session's
privacy budget and the clamping bounds of its numeric items) or refuses it with reasons. Inside
an approved, current session the requester runs aggregate queries; each is kept with what it
asked, what it spent of the budget and the table it released (aggregates only)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import Resource


class SandboxSession(models.Model):
    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("sandbox", "Waiting for review")
        APPROVED = "approved", pgettext_lazy("sandbox", "Approved")
        REFUSED = "refused", pgettext_lazy("sandbox", "Refused")
        WITHDRAWN = "withdrawn", pgettext_lazy("sandbox", "Withdrawn")
        # Beat "sandbox.daily": the validity window ended (approved, or never decided).
        EXPIRED = "expired", pgettext_lazy("sandbox", "Window ended")

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requester"),
        on_delete=models.PROTECT,
        related_name="sandbox_sessions",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("requesting organization"),
        on_delete=models.PROTECT,
        related_name="sandbox_sessions",
    )
    provider = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("provider"),
        on_delete=models.PROTECT,
        related_name="sandbox_sessions_provided",
    )
    resources = models.ManyToManyField(
        Resource, verbose_name=_("resources"), related_name="sandbox_sessions"
    )
    purpose = models.TextField(_("purpose"), max_length=4000)
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.SUBMITTED
    )
    step_deadline = models.DateTimeField(_("reply due"), null=True, blank=True)
    # Set once by beat "sandbox.daily" when the provider's reply is overdue.
    overdue_flagged_at = models.DateTimeField(
        pgettext_lazy("sandbox", "flagged overdue"), null=True, blank=True
    )
    decision_reason = models.TextField(_("reasons of the decision"), max_length=4000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    # The privacy budget (differential privacy's epsilon) of the whole session, and how much of
    # it the queries have spent.
    epsilon_total = models.FloatField(_("privacy budget (epsilon)"), default=0.0)
    epsilon_spent = models.FloatField(_("privacy budget spent"), default=0.0)
    # {"<resource id>:<column>": [lower, upper]}: the clamping bounds of the numeric items a sum
    # or mean may use, declared by the provider's data officer at approval.
    bounds = models.JSONField(_("clamping bounds"), default=dict, blank=True)
    created_at = models.DateTimeField(_("submitted"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("sandbox session")
        verbose_name_plural = _("sandbox sessions")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["state", "step_deadline"])]

    def __str__(self) -> str:
        return f"#{self.pk} {self.purpose[:40]}"

    @property
    def epsilon_left(self) -> float:
        return max(0.0, self.epsilon_total - self.epsilon_spent)

    @property
    def is_overdue(self) -> bool:
        """Waiting for the provider's reply past its due time."""
        return bool(
            self.state == self.State.SUBMITTED
            and self.step_deadline
            and self.step_deadline < timezone.now()
        )

    @property
    def is_current(self) -> bool:
        today = timezone.localdate()
        return self.state == self.State.APPROVED and self.valid_from <= today <= self.valid_until


class SandboxQuery(models.Model):
    """One aggregate query of a session: its parameters, the budget it spent and the released
    table (suppressed groups carry no figure). A log: written once, never changed."""

    session = models.ForeignKey(
        SandboxSession, verbose_name=_("session"), on_delete=models.CASCADE, related_name="queries"
    )
    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="+"
    )
    spec = models.JSONField(pgettext_lazy("sandbox", "query"), default=dict)
    epsilon = models.FloatField(_("privacy budget spent"))
    result = models.JSONField(_("released table"), default=dict)
    created_at = models.DateTimeField(pgettext_lazy("sandbox", "run at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sandbox query")
        verbose_name_plural = _("sandbox queries")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.session_id})"


__all__ = ["SandboxQuery", "SandboxSession"]
