"""Data elements (GB/T 19488 / ISO/IEC 11179), code lists with dated values, and change
requests (Art. 9). Imported by catalog/models.py, so they belong to the `catalog` app."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from wuhan_pdr.accounts.models import Organization

from ..datatypes import DataType


class CodeList(models.Model):
    """A value domain given by enumeration (值域 / 代码表), e.g. GB/T 2260 administrative
    divisions or GB/T 2261.1 sex. Values carry the dates they are valid for."""

    identifier = models.CharField(_("identifier"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)
    source = models.CharField(_("source standard"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        Organization,
        verbose_name=_("maintained by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("code list")
        verbose_name_plural = _("code lists")
        ordering = ["identifier"]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name}"


class CodeValue(models.Model):
    code_list = models.ForeignKey(CodeList, on_delete=models.CASCADE, related_name="values")
    code = models.CharField(_("code"), max_length=50)
    name = models.CharField(_("meaning"), max_length=200)
    parent_code = models.CharField(_("parent code"), max_length=50, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(
        _("valid to"),
        null=True,
        blank=True,
        help_text=_("Last day it is valid; empty while it is."),
    )

    class Meta:
        verbose_name = _("code value")
        verbose_name_plural = _("code values")
        ordering = ["code_list", "code", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["code_list", "code", "valid_from"],
                name="code_value_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="code_value_dates_ordered",
            ),
        ]
        indexes = [models.Index(fields=["code_list", "code"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class DataElement(models.Model):
    """One version of a data element (数据元). An approved change makes a new version; the
    old one becomes superseded and stays, so items keep the version they bound to."""

    class Status(models.TextChoices):
        CANDIDATE = "candidate", _("Candidate")
        STANDARD = "standard", _("Standard")
        SUPERSEDED = "superseded", _("Superseded")
        RETIRED = "retired", _("Retired")

    class DomainKind(models.TextChoices):
        NONE = "none", _("Format only")
        CODE_LIST = "code_list", _("Code list")
        PATTERN = "pattern", _("Pattern")

    identifier = models.CharField(_("identifier"), max_length=30, db_index=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.STANDARD
    )
    name = models.CharField(_("Chinese name"), max_length=100)
    english_name = models.CharField(_("English name"), max_length=150, blank=True)
    pinyin = models.CharField(_("pinyin"), max_length=200, blank=True)
    definition = models.TextField(_("definition"))
    object_class = models.CharField(_("object class"), max_length=100, blank=True)
    property = models.CharField(_("property"), max_length=100, blank=True)
    representation = models.CharField(_("representation"), max_length=50, blank=True)
    data_type = models.CharField(_("data type"), max_length=1, choices=DataType.choices)
    format = models.CharField(
        _("format"), max_length=50, help_text=_("e.g. c..50, n8, an..18, n..12,2, YYYY-MM-DD")
    )
    domain_kind = models.CharField(
        _("value domain"), max_length=16, choices=DomainKind.choices, default=DomainKind.NONE
    )
    code_list = models.ForeignKey(
        CodeList,
        verbose_name=_("code list"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="elements",
    )
    pattern = models.CharField(_("pattern (regular expression)"), max_length=300, blank=True)
    checksum = models.CharField(
        _("checksum rule"),
        max_length=20,
        blank=True,
        choices=[
            ("", _("None")),
            ("cn_ric", _("Citizen ID number (GB 11643)")),
            ("cn_uscc", _("Unified social credit code (GB 32100)")),
        ],
    )
    unit = models.CharField(_("unit"), max_length=30, blank=True)
    classification = models.CharField(_("classification"), max_length=100, blank=True)
    synonyms = models.CharField(_("synonyms"), max_length=300, blank=True)
    masking_rule = models.ForeignKey(
        "security.MaskingRule",
        verbose_name=_("masking rule"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("How items bound to this element are masked, unless an item says otherwise."),
    )
    submitted_by = models.ForeignKey(
        Organization,
        verbose_name=_("submitting organization"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    approved_at = models.DateField(_("approval date"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("data element")
        verbose_name_plural = _("data elements")
        ordering = ["identifier", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["identifier", "version"], name="element_version_unique"
            ),
            # One current (candidate or standard) version per identifier.
            models.UniqueConstraint(
                fields=["identifier"],
                condition=models.Q(status__in=["candidate", "standard"]),
                name="one_current_element_version",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.identifier} {self.name} v{self.version}"


class ElementChangeRequest(models.Model):
    """An agency's proposal to add, change or retire a data element (Art. 9), reviewed by the
    city data bureau. `proposal` holds the proposed element fields."""

    class Kind(models.TextChoices):
        ADD = "add", _("Add an element")
        CHANGE = "change", _("Change an element")
        RETIRE = "retire", _("Retire an element")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        RETURNED = "returned", _("Returned for changes")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    element = models.ForeignKey(
        DataElement,
        verbose_name=_("element"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="change_requests",
    )
    replacement = models.ForeignKey(
        DataElement,
        verbose_name=_("replacement element"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    proposal = models.JSONField(_("proposed content"), default=dict, blank=True)
    reason = models.TextField(_("reason"), max_length=4000)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.DRAFT)
    impact = models.JSONField(_("impact"), default=dict, blank=True)
    result = models.ForeignKey(
        DataElement,
        verbose_name=_("resulting version"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    step_deadline = models.DateTimeField(_("deadline of the current step"), null=True, blank=True)
    # The latest count of stored values that would fail the proposal (a background job; see
    # catalog/standards/impact.py). Its results are the ElementImpactCount rows.
    impact_job = models.ForeignKey(
        "kernel.BackgroundJob",
        verbose_name=_("stored-data count job"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    impact_counted_at = models.DateTimeField(_("stored data counted at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords(excluded_fields=["impact_job", "impact_counted_at"])

    class Meta:
        verbose_name = _("element change request")
        verbose_name_plural = _("element change requests")
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"


class ElementImpactCount(models.Model):
    """How many stored values of one datastore column (an item bound to the element, in the
    published version of its resource) would fail a change request's proposed format or
    value domain, as counted at `counted_at`. Written by the count job, all rows of a
    request at once; `samples` are already masked where the column is masked."""

    change_request = models.ForeignKey(
        ElementChangeRequest, on_delete=models.CASCADE, related_name="impact_counts"
    )
    resource = models.ForeignKey(
        "catalog.Resource", verbose_name=_("resource"), on_delete=models.CASCADE, related_name="+"
    )
    item = models.ForeignKey(
        "catalog.DataItem",
        verbose_name=_("item"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    item_name = models.CharField(_("item"), max_length=200)
    column = models.CharField(_("column"), max_length=63, blank=True)
    stored = models.BooleanField(_("has stored data"), default=False)
    checked = models.BigIntegerField(_("non-empty values"), default=0)
    failing = models.BigIntegerField(_("failing values"), default=0)
    samples = models.JSONField(_("samples"), default=list, blank=True)
    counted_at = models.DateTimeField(_("counted at"))

    class Meta:
        verbose_name = _("stored-data impact count")
        verbose_name_plural = _("stored-data impact counts")
        ordering = ["change_request", "resource_id", "column"]

    def __str__(self) -> str:
        return f"#{self.change_request_id} {self.column}: {self.failing}"
