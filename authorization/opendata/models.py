"""Models of authorization.opendata (imported by authorization/models.py).

- `Licence`: the terms under which open data is reused (name, URL, full text); one is the
  city's default open-data licence, given to a resource that has none of its own.
- `OpenDataset`: a resource's open-data record: its licence, and the state of its download
  files (built by the worker after each successful load).
- `OpenFile`: one built download (CSV, XLSX or JSON) in storage, with its row count, size and
  how often it was downloaded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import Resource


class Licence(models.Model):
    name = models.CharField(pgettext_lazy("open data", "licence name"), max_length=200, unique=True)
    url = models.URLField(pgettext_lazy("open data", "licence URL"), max_length=500, blank=True)
    text = models.TextField(pgettext_lazy("open data", "licence text"), max_length=20000)
    is_default = models.BooleanField(
        pgettext_lazy("open data", "default open-data licence"),
        default=False,
        help_text=_("Given to an open resource that has no licence of its own."),
    )
    created_at = models.DateTimeField(pgettext_lazy("open data", "created"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("open data", "updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("open-data licence")
        verbose_name_plural = _("open-data licences")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="opendata_one_default_licence",
            )
        ]

    def __str__(self) -> str:
        return self.name


class OpenDataset(models.Model):
    """The open-data side of a resource open unconditionally (`catalog.public`)."""

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("open data files", "Being prepared")
        READY = "ready", pgettext_lazy("open data files", "Ready")
        FAILED = "failed", pgettext_lazy("open data files", "Build failed")
        WITHDRAWN = "withdrawn", pgettext_lazy("open data files", "Withdrawn")

    resource = models.OneToOneField(
        Resource,
        verbose_name=pgettext_lazy("open data", "resource"),
        on_delete=models.CASCADE,
        related_name="open_dataset",
    )
    licence = models.ForeignKey(
        Licence,
        verbose_name=pgettext_lazy("open data", "licence"),
        on_delete=models.PROTECT,
        related_name="datasets",
    )
    state = models.CharField(
        pgettext_lazy("open data files", "State"),
        max_length=16,
        choices=State.choices,
        default=State.PENDING,
    )
    rows = models.BigIntegerField(pgettext_lazy("open data", "rows"), default=0)
    # The table generation and batch the files were built from.
    built_generation = models.IntegerField(null=True, blank=True)
    built_batch = models.CharField(max_length=40, blank=True)
    built_at = models.DateTimeField(
        pgettext_lazy("open data", "files built"), null=True, blank=True
    )
    error = models.TextField(pgettext_lazy("open data", "error"), blank=True)
    history = HistoricalRecords(excluded_fields=["error"])

    class Meta:
        verbose_name = _("open dataset")
        verbose_name_plural = _("open datasets")

    def __str__(self) -> str:
        return str(self.resource)


class OpenFile(models.Model):
    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"
        JSON = "json", "JSON"

    CONTENT_TYPES = {
        "csv": "text/csv; charset=utf-8",
        "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "json": "application/json",
    }

    dataset = models.ForeignKey(OpenDataset, on_delete=models.CASCADE, related_name="files")
    format = models.CharField(
        pgettext_lazy("open data", "format"), max_length=8, choices=Format.choices
    )
    file = models.FileField(
        pgettext_lazy("open data", "file"), upload_to="opendata/", max_length=300
    )
    size = models.BigIntegerField(pgettext_lazy("open data", "size"), default=0)
    rows = models.BigIntegerField(pgettext_lazy("open data", "rows"), default=0)
    sheets = models.PositiveIntegerField(default=1)
    built_at = models.DateTimeField(pgettext_lazy("open data", "built"))
    downloads = models.BigIntegerField(pgettext_lazy("open data", "downloads"), default=0)

    class Meta:
        verbose_name = _("open-data file")
        verbose_name_plural = _("open-data files")
        ordering = ["dataset", "format"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "format"], name="opendata_file_format")
        ]

    def __str__(self) -> str:
        return f"{self.dataset} {self.format}"

    @property
    def content_type(self) -> str:
        return self.CONTENT_TYPES[self.format]


class OpenApplication(models.Model):
    """A registered user's application to use a resource opened under conditions (有条件开放):
    the purpose, the security measures promised and the licence accepted; the provider's data
    officer and then the responsible data bureau decide; approval issues a grant
    (`authorization.sharing.services.grant_issue`, origin "open_application") whose API key
    the applicant sees once."""

    class State(models.TextChoices):
        SUBMITTED = "submitted", pgettext_lazy("open application", "Waiting for the provider")
        PROVIDER_APPROVED = (
            "provider_approved",
            pgettext_lazy("open application", "Waiting for the data bureau"),
        )
        APPROVED = "approved", pgettext_lazy("open application", "Approved")
        REFUSED = "refused", pgettext_lazy("open application", "Refused")

    OPEN_STATES = (State.SUBMITTED, State.PROVIDER_APPROVED)

    resource = models.ForeignKey(
        Resource,
        verbose_name=pgettext_lazy("open data", "resource"),
        on_delete=models.PROTECT,
        related_name="open_applications",
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("open application", "applicant"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=pgettext_lazy("open application", "applicant organization"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    purpose = models.TextField(pgettext_lazy("open application", "purpose of use"), max_length=2000)
    security_measures = models.TextField(
        pgettext_lazy("open application", "security measures promised"), max_length=2000
    )
    licence = models.ForeignKey(
        Licence,
        verbose_name=pgettext_lazy("open data", "licence"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    licence_accepted_at = models.DateTimeField(
        pgettext_lazy("open application", "licence terms accepted")
    )
    state = models.CharField(
        pgettext_lazy("open application", "State"),
        max_length=20,
        choices=State.choices,
        default=State.SUBMITTED,
    )
    step_deadline = models.DateTimeField(_("deadline of the current step"), null=True, blank=True)
    grant = models.ForeignKey(
        "authorization.Grant",
        verbose_name=pgettext_lazy("open application", "grant"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The grant's raw key, sealed (kernel.sealing) until the applicant has seen it once.
    key_sealed = models.TextField(blank=True)
    created_at = models.DateTimeField(pgettext_lazy("open data", "created"), auto_now_add=True)
    updated_at = models.DateTimeField(pgettext_lazy("open data", "updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["key_sealed"])

    class Meta:
        verbose_name = _("open-data application")
        verbose_name_plural = _("open-data applications")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["state", "step_deadline"])]

    def __str__(self) -> str:
        return f"{self.resource} #{self.pk}"
