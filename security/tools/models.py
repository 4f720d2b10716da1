"""The register of data tools (Art. 27: collection tools and devices are assessed before use)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from wuhan_pdr.accounts.models import Organization


class DataTool(models.Model):
    class Category(models.TextChoices):
        COLLECTION_TOOL = "collection", _("Collection software")
        DEVICE = "device", _("Collection device or front-end machine")
        PROCESSING = "processing", _("Processing or analysis software")
        EXCHANGE = "exchange", _("Transfer or exchange tool")
        OTHER = "other", pgettext_lazy("data tool", "Other")

    class State(models.TextChoices):
        REGISTERED = "registered", pgettext_lazy("data tool", "Awaiting assessment")
        IN_USE = "in_use", pgettext_lazy("data tool", "In use")
        SUSPENDED = "suspended", pgettext_lazy("data tool", "Suspended")
        RETIRED = "retired", pgettext_lazy("data tool", "Retired")

    name = models.CharField(_("name"), max_length=200)
    vendor = models.CharField(_("vendor"), max_length=200)
    version = models.CharField(_("version"), max_length=50)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    purpose = models.TextField(_("purpose"), max_length=4000)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization using it"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(
        pgettext_lazy("data tool", "State"),
        max_length=16,
        choices=State.choices,
        default=State.REGISTERED,
    )
    state_reason = models.CharField(_("reason"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("registered by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("registered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("data tool")
        verbose_name_plural = _("data tools")
        ordering = ["name", "version", "pk"]
        indexes = [models.Index(fields=["organization", "state"])]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name", "version"], name="data_tool_version_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.version}"
