"""An Excel bulk filing: one uploaded workbook, its check report and what it imported."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from wuhan_pdr.accounts.models import Organization


class BulkFiling(models.Model):
    """A workbook uploaded by agency staff. The worker checks every row; if any fails, the
    report lists each error and a copy of the workbook marks the bad cells, and nothing is
    imported. Otherwise every resource is created as a draft in one transaction."""

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be checked")
        CHECKING = "checking", _("Being checked")
        REFUSED = "refused", _("Refused: errors found")
        IMPORTED = "imported", _("Imported as drafts")
        FAILED = "failed", _("Failed")

    organization = models.ForeignKey(
        Organization, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    original_name = models.CharField(_("file name"), max_length=255)
    workbook = models.FileField(_("workbook"), upload_to="bulk-filings/%Y/%m/")
    size_bytes = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    job = models.ForeignKey(
        "kernel.BackgroundJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # [{"sheet": ..., "row": n, "column": "B", "field": ..., "message": ...}, ...]
    errors = models.JSONField(_("errors"), default=list, blank=True)
    error_count = models.PositiveIntegerField(_("number of errors"), default=0)
    marked_workbook = models.FileField(
        _("workbook with the bad cells marked"),
        upload_to="bulk-filings/%Y/%m/",
        blank=True,
    )
    resources_count = models.PositiveIntegerField(_("resources"), default=0)
    items_count = models.PositiveIntegerField(_("data items"), default=0)
    resources = models.ManyToManyField(
        "catalog.Resource", verbose_name=_("imported resources"), blank=True, related_name="+"
    )
    failure = models.TextField(_("reason of failure"), blank=True)
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["errors"])

    class Meta:
        verbose_name = _("bulk filing")
        verbose_name_plural = _("bulk filings")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.original_name
