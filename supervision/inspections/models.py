"""Supervision inspections (Art. 28) of agencies and authorized operators, their findings and
the evidence of each finding. A finding is followed up by a rectification order (Art. 31),
issued through rectification's own service, or closed without one for a stated reason."""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

LEGAL_BASIS = "《武汉市公共数据资源管理实施细则（试行）》第二十八条"


class Kind(models.TextChoices):
    # Art. 28: the bureau "regularly supervises and inspects" (定期监督检查); special
    # inspections of one matter and spot checks are the two other usual forms.
    REGULAR = "regular", _("Regular supervision inspection")
    SPECIAL = "special", _("Special inspection")
    SPOT = "spot", _("Spot check")


class Area(models.TextChoices):
    """The matters an inspection covers (the regulation's chapters); a finding names one."""

    CATALOG = "catalog", pgettext_lazy("inspection area", "Catalog (Ch. 4)")
    AGGREGATION = "aggregation", pgettext_lazy("inspection area", "Aggregation and quality (Ch. 5)")
    SHARING = "sharing", pgettext_lazy("inspection area", "Sharing (Ch. 6)")
    OPENING = "opening", pgettext_lazy("inspection area", "Opening (Ch. 6)")
    OPERATION = "operation", pgettext_lazy("inspection area", "Authorized operation (Ch. 6)")
    REGISTRATION = "registration", pgettext_lazy("inspection area", "Registration (Ch. 7)")
    SECURITY = "security", pgettext_lazy("inspection area", "Security (Ch. 8)")
    OTHER = "other", pgettext_lazy("inspection area", "Other matters")


class Inspection(models.Model):
    class State(models.TextChoices):
        PLANNED = "planned", pgettext_lazy("inspection", "Planned")
        NOTIFIED = "notified", pgettext_lazy("inspection", "Notified to the subject")
        IN_PROGRESS = "in_progress", pgettext_lazy("inspection", "In progress")
        FINDINGS = "findings", pgettext_lazy("inspection", "Findings recorded: follow-up")
        CLOSED = "closed", pgettext_lazy("inspection", "Closed")
        CANCELLED = "cancelled", pgettext_lazy("inspection", "Cancelled")

    OPEN_STATES = (State.PLANNED, State.NOTIFIED, State.IN_PROGRESS, State.FINDINGS)

    bureau = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("inspecting bureau"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    planned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    subject = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("subject inspected"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    authorization = models.ForeignKey(
        "authorization.OperationAuthorization",
        verbose_name=_("operation authorization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    title = models.CharField(pgettext_lazy("inspection", "title"), max_length=200)
    kind = models.CharField(
        pgettext_lazy("inspection", "kind"), max_length=12, choices=Kind.choices
    )
    scope = ArrayField(
        models.CharField(max_length=16, choices=Area.choices),
        verbose_name=pgettext_lazy("inspection", "scope"),
    )
    resources = models.ManyToManyField(
        "catalog.Resource",
        verbose_name=_("resources inspected"),
        blank=True,
        related_name="+",
    )
    legal_basis = models.TextField(_("legal basis"), max_length=1000, default=LEGAL_BASIS)
    planned_start = models.DateField(_("planned start"))
    planned_end = models.DateField(_("planned end"))
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("inspectors"), related_name="+"
    )
    state = models.CharField(
        pgettext_lazy("inspection", "state"),
        max_length=16,
        choices=State.choices,
        default=State.PLANNED,
    )
    summary = models.TextField(_("summary of the inspection"), max_length=4000, blank=True)
    cancel_reason = models.TextField(_("why it is cancelled"), max_length=2000, blank=True)
    notified_at = models.DateTimeField(
        pgettext_lazy("inspection", "notified"), null=True, blank=True
    )
    started_at = models.DateTimeField(pgettext_lazy("inspection", "started"), null=True, blank=True)
    findings_at = models.DateTimeField(
        pgettext_lazy("inspection", "findings recorded"), null=True, blank=True
    )
    follow_up_due = models.DateField(_("follow-up due"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("inspection", "closed"), null=True, blank=True)
    created_at = models.DateTimeField(pgettext_lazy("inspection", "planned on"), auto_now_add=True)
    history = HistoricalRecords(m2m_fields=[resources, inspectors])

    class Meta:
        verbose_name = _("supervision inspection")
        verbose_name_plural = _("supervision inspections")
        ordering = ["-planned_start", "-pk"]
        indexes = [
            models.Index(fields=["subject", "state"]),
            models.Index(fields=["bureau", "state"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(planned_end__gte=models.F("planned_start")),
                name="inspection_dates_in_order",
            )
        ]

    def __str__(self) -> str:
        return f"检查 #{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class Finding(models.Model):
    class Severity(models.TextChoices):
        MINOR = "minor", pgettext_lazy("finding", "Minor")
        MODERATE = "moderate", pgettext_lazy("finding", "Moderate")
        SERIOUS = "serious", pgettext_lazy("finding", "Serious")

    class FollowUp(models.TextChoices):
        PENDING = "pending", pgettext_lazy("finding", "Follow-up to decide")
        ORDERED = "ordered", pgettext_lazy("finding", "Rectification ordered")
        NO_ACTION = "no_action", pgettext_lazy("finding", "No order (reason given)")

    inspection = models.ForeignKey(Inspection, on_delete=models.PROTECT, related_name="findings")
    number = models.PositiveSmallIntegerField(pgettext_lazy("finding", "number"))
    area = models.CharField(
        pgettext_lazy("finding", "category"), max_length=16, choices=Area.choices
    )
    description = models.TextField(pgettext_lazy("finding", "description"), max_length=4000)
    severity = models.CharField(
        pgettext_lazy("finding", "severity"), max_length=12, choices=Severity.choices
    )
    resources = models.ManyToManyField(
        "catalog.Resource", verbose_name=_("records involved"), blank=True, related_name="+"
    )
    references = models.CharField(
        _("other records involved"),
        max_length=500,
        blank=True,
        help_text=_("E.g. share request #12, channel #3; one line."),
    )
    follow_up = models.CharField(
        pgettext_lazy("finding", "follow-up"),
        max_length=12,
        choices=FollowUp.choices,
        default=FollowUp.PENDING,
    )
    order = models.OneToOneField(
        "supervision.RectificationOrder",
        verbose_name=_("rectification order"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inspection_finding",
    )
    no_action_reason = models.TextField(_("why no order"), max_length=2000, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("inspection finding")
        verbose_name_plural = _("inspection findings")
        ordering = ["inspection", "number"]
        constraints = [
            models.UniqueConstraint(fields=["inspection", "number"], name="finding_number_once"),
            models.CheckConstraint(
                condition=~models.Q(follow_up="ordered") | models.Q(order__isnull=False),
                name="finding_ordered_has_order",
            ),
            models.CheckConstraint(
                condition=~models.Q(follow_up="no_action") | ~models.Q(no_action_reason=""),
                name="finding_no_action_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.inspection_id}-{self.number}"


class FindingEvidence(models.Model):
    """A document the inspectors attach to a finding (checked by kernel.uploads)."""

    finding = models.ForeignKey(Finding, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="supervision/inspections/%Y/%m/")
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
