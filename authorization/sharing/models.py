"""Share requests between government bodies and the grants they issue (Art. 7, 17, 27).

A `ShareRequest` (共享申请) is a requesting agency's ask for a subset of a resource's items;
the provider's data officer decides it (conditional sharing) or the platform decides at once
(unconditional: granted, not shared: refused). A `Grant` (授权凭证) is what a requester, an
open-data applicant or an operator holds: one resource, its items each in a delivery form,
an API key stored as a SHA-256 digest, a validity window, a rate and an IP allow-list.
`GrantUsage` counts calls and rows per grant per day (the supply API writes it).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import DataItem, Resource, ResourceVersion, ShareType
from wuhan_pdr.accounts.models import Organization


class Delivery(models.TextChoices):
    CLEAR = "clear", _("In clear")
    HMAC = "hmac", _("As a keyed HMAC")
    MASKED = "masked", _("Masked")


class ShareRequest(models.Model):
    class State(models.TextChoices):
        PENDING = "pending", _("Awaiting the provider's reply")
        GRANTED = "granted", pgettext_lazy("share request state", "Granted")
        REFUSED = "refused", pgettext_lazy("share request state", "Refused")
        WITHDRAWN = "withdrawn", pgettext_lazy("share request state", "Withdrawn")
        COORDINATION = "coordination", _("Coordination by the city bureau requested")

    class Basis(models.TextChoices):
        LAW = "law", _("A law or regulation and its article")
        DUTY = "duty", _("An official duty")

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.ForeignKey(
        ResourceVersion,
        verbose_name=_("catalog version"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    provider = models.ForeignKey(
        Organization, verbose_name=_("provider"), on_delete=models.PROTECT, related_name="+"
    )
    requester = models.ForeignKey(
        Organization,
        verbose_name=_("requesting organization"),
        on_delete=models.PROTECT,
        related_name="share_requests",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    share_type = models.CharField(
        _("share type when requested"), max_length=16, choices=ShareType.choices
    )
    scenario = models.TextField(_("application scenario"), max_length=2000)
    basis_kind = models.CharField(_("legal basis"), max_length=8, choices=Basis.choices)
    law_name = models.CharField(_("law or regulation"), max_length=200, blank=True)
    law_article = models.CharField(pgettext_lazy("sharing", "article"), max_length=100, blank=True)
    duty = models.TextField(_("official duty"), max_length=1000, blank=True)
    purpose = models.TextField(pgettext_lazy("sharing", "purpose"), max_length=2000)
    period_start = models.DateField(_("period from"))
    period_end = models.DateField(_("period until"))
    expected_daily_rows = models.PositiveIntegerField(_("expected rows per day"))

    state = models.CharField(
        pgettext_lazy("share request", "state"),
        max_length=16,
        choices=State.choices,
        default=State.PENDING,
    )
    reply_due = models.DateTimeField(_("reply due"), null=True, blank=True)
    overdue_flagged_at = models.DateTimeField(_("flagged overdue"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("decided by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    refusal_reasons = models.TextField(_("reasons for refusal"), max_length=2000, blank=True)
    coordination_note = models.TextField(
        _("why coordination is asked"), max_length=2000, blank=True
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("share request")
        verbose_name_plural = _("share requests")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["provider", "state"]),
            models.Index(fields=["requester", "state"]),
            models.Index(fields=["state", "reply_due"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="share_request_period_order",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.resource.code}"


class ShareRequestItem(models.Model):
    """One item asked for; on a decision, whether it was granted and in which form."""

    request = models.ForeignKey(ShareRequest, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(DataItem, on_delete=models.PROTECT, related_name="+")
    granted = models.BooleanField(pgettext_lazy("sharing", "granted"), null=True)
    delivery = models.CharField(
        pgettext_lazy("sharing", "delivery"), max_length=8, choices=Delivery.choices, blank=True
    )

    class Meta:
        verbose_name = _("requested item")
        verbose_name_plural = _("requested items")
        ordering = ["request", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["request", "item"], name="share_request_item_unique")
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.item_id}"


class Grant(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", pgettext_lazy("grant state", "Active")
        SUSPENDED = "suspended", pgettext_lazy("grant state", "Suspended")
        REVOKED = "revoked", pgettext_lazy("grant state", "Revoked")
        EXPIRED = "expired", pgettext_lazy("grant state", "Expired")

    class Origin(models.TextChoices):
        SHARE_REQUEST = "share_request", _("Share request")
        OPEN_APPLICATION = "open_application", _("Conditional open-data application")
        OPERATION = "operation", _("Authorized operation")

    resource = models.ForeignKey(
        Resource, verbose_name=_("resource"), on_delete=models.PROTECT, related_name="grants"
    )
    grantee = models.ForeignKey(
        Organization,
        verbose_name=pgettext_lazy("sharing", "grantee"),
        on_delete=models.PROTECT,
        related_name="grants",
    )
    origin = models.CharField(
        pgettext_lazy("sharing", "origin"), max_length=20, choices=Origin.choices
    )
    request = models.ForeignKey(
        ShareRequest,
        verbose_name=_("share request"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="grants",
    )
    key_prefix = models.CharField(_("key prefix"), max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    key_issued_at = models.DateTimeField(_("key issued"))
    # A key issued by the provider's decision is collected (re-issued and shown once) by the
    # grantee, so that nobody but the grantee ever sees it.
    key_collected_at = models.DateTimeField(_("key collected"), null=True, blank=True)
    rate_per_minute = models.PositiveIntegerField(_("calls per minute"), default=60)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    allowed_ips = ArrayField(
        models.CharField(max_length=64),
        verbose_name=_("allowed client addresses"),
        default=list,
        blank=True,
    )
    state = models.CharField(
        pgettext_lazy("grant", "state"),
        max_length=16,
        choices=State.choices,
        default=State.ACTIVE,
    )
    declared_daily_rows = models.PositiveIntegerField(
        _("declared rows per day"), null=True, blank=True
    )
    needs_assessment = models.BooleanField(_("needs a security assessment"), default=False)
    # Item 7: the daily volume check sets these; the provider or the security admin acts.
    flagged_at = models.DateTimeField(pgettext_lazy("sharing", "flagged"), null=True, blank=True)
    flag_reason = models.CharField(pgettext_lazy("sharing", "flag"), max_length=300, blank=True)
    reminded_at = models.DateTimeField(_("expiry reminder sent"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("last risk review"), null=True, blank=True)
    renewed_from = models.ForeignKey(
        "self",
        verbose_name=_("renewal of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords(excluded_fields=["key_hash"])

    class Meta:
        verbose_name = pgettext_lazy("sharing", "grant")
        verbose_name_plural = pgettext_lazy("sharing", "grants")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["grantee", "state"]),
            models.Index(fields=["resource", "state"]),
            models.Index(fields=["state", "valid_until"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_until__gt=models.F("valid_from")),
                name="grant_validity_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key_prefix} · {self.resource.code}"


class GrantItem(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(DataItem, verbose_name=_("data item"), on_delete=models.PROTECT)
    column = models.CharField(_("column name"), max_length=64)
    delivery = models.CharField(
        pgettext_lazy("sharing", "delivery"), max_length=8, choices=Delivery.choices
    )

    class Meta:
        verbose_name = _("granted item")
        verbose_name_plural = _("granted items")
        ordering = ["grant", "item__position"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "item"], name="grant_item_unique"),
            models.UniqueConstraint(fields=["grant", "column"], name="grant_column_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.column} ({self.delivery})"


class GrantUsage(models.Model):
    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="usage")
    day = models.DateField(pgettext_lazy("sharing", "day"))
    calls = models.PositiveIntegerField(pgettext_lazy("sharing", "calls"), default=0)
    rows = models.PositiveBigIntegerField(_("rows"), default=0)

    class Meta:
        verbose_name = _("grant usage")
        verbose_name_plural = _("grant usage")
        ordering = ["grant", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "day"], name="grant_usage_day_unique")
        ]

    def __str__(self) -> str:
        return f"{self.grant_id} {self.day}: {self.calls} / {self.rows}"
