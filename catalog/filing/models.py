"""Records of the census of information systems (信息系统普查, Art. 12). Campaigns, IT projects
and collection lists live beside them in this module."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from wuhan_pdr.accounts.models import Organization


class InformationSystem(models.Model):
    """An agency's information system, as registered in the census. Aggregation channels,
    downtime reports and catalog resources point at it."""

    class DatabaseKind(models.TextChoices):
        POSTGRESQL = "postgresql", "PostgreSQL"
        MYSQL = "mysql", "MySQL / MariaDB"
        ORACLE = "oracle", "Oracle"
        SQLSERVER = "sqlserver", "SQL Server"
        DAMENG = "dameng", _("Dameng (DM)")
        KINGBASE = "kingbase", _("KingbaseES")
        GAUSSDB = "gaussdb", "GaussDB / openGauss"
        OTHER = "other", _("Other")
        NONE = "none", _("No database")

    class Status(models.TextChoices):
        BUILDING = "building", _("Being built")
        IN_USE = "in_use", _("In use")
        RETIRED = "retired", _("Retired")

    organization = models.ForeignKey(
        Organization,
        verbose_name=_("agency"),
        on_delete=models.PROTECT,
        related_name="information_systems",
    )
    name = models.CharField(_("system name"), max_length=200)
    purpose = models.TextField(_("purpose"), max_length=2000)
    builder = models.CharField(_("built by"), max_length=200, blank=True)
    budget_funded = models.BooleanField(_("funded by the government budget"), default=True)
    go_live_date = models.DateField(_("went live on"), null=True, blank=True)
    database_kind = models.CharField(
        _("database kind"), max_length=16, choices=DatabaseKind.choices
    )
    data_volume_gb = models.DecimalField(
        _("data volume (GB)"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.IN_USE
    )
    contact_name = models.CharField(_("contact person"), max_length=50)
    contact_phone = models.CharField(_("contact telephone"), max_length=30)
    resources = models.ManyToManyField(
        "catalog.Resource",
        verbose_name=_("resources it produces"),
        blank=True,
        related_name="information_systems",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    history = HistoricalRecords(m2m_fields=[resources])

    class Meta:
        verbose_name = _("information system")
        verbose_name_plural = _("information systems")
        ordering = ["organization", "name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="system_name_unique")
        ]

    def __str__(self) -> str:
        return self.name

    # The census fields an agency fills in (the required ones always are); a system counts
    # as "complete" on the census board when none of these is empty.
    CENSUS_FIELDS = (
        "name",
        "purpose",
        "builder",
        "go_live_date",
        "database_kind",
        "data_volume_gb",
        "status",
        "contact_name",
        "contact_phone",
    )

    @property
    def census_complete(self) -> bool:
        return all(getattr(self, name) not in (None, "") for name in self.CENSUS_FIELDS)


class CompilationCampaign(models.Model):
    """A yearly compilation of the catalog organised by the city data bureau (Art. 12):
    information-system census -> metadata collection -> compilation -> publication. Each
    agency's stage is derived from its records (see `selectors.agency_stage`)."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("state", "Open")
        CLOSED = "closed", _("Closed")

    name = models.CharField(_("campaign name"), max_length=100, unique=True)
    year = models.PositiveSmallIntegerField(_("year"))
    deadline = models.DateField(_("deadline"))
    description = models.TextField(_("description"), max_length=4000, blank=True)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default=State.OPEN)
    # The board as it stood when the campaign was closed: a list of rows (see selectors).
    final_board = models.JSONField(_("board at closing"), default=list, blank=True)
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(_("opened"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("compilation campaign")
        verbose_name_plural = _("compilation campaigns")
        ordering = ["-year", "-created_at"]

    def __str__(self) -> str:
        return self.name


class CensusConfirmation(models.Model):
    """An agency's statement that its census of information systems is done, for a
    campaign: it moves the agency past the census stage even when some census fields are
    still empty."""

    campaign = models.ForeignKey(
        CompilationCampaign, on_delete=models.CASCADE, related_name="confirmations"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("confirmed by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    confirmed_at = models.DateTimeField(_("confirmed"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("census confirmation")
        verbose_name_plural = _("census confirmations")
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "organization"], name="census_confirmation_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.organization}"


class ITProject(models.Model):
    """An information-technology project funded by the government budget (Art. 11). Its
    public data list is a condition of approval (立项) and must be catalogued, published
    and aggregated before acceptance (验收)."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted for approval")
        RETURNED = "returned", _("Returned for changes")
        APPROVED = "approved", _("Approved (立项)")
        ACCEPTANCE_SUBMITTED = "acceptance_submitted", _("Submitted for acceptance")
        ACCEPTED = "accepted", _("Accepted (验收)")
        REJECTED = "rejected", _("Rejected")

    EDITABLE_STATES = (State.DRAFT, State.RETURNED)
    # Art. 11: the agency updates the list before acceptance, so entries may be added and
    # linked to catalog resources until it submits for acceptance.
    LIST_EDITABLE_STATES = (State.DRAFT, State.RETURNED, State.APPROVED)

    organization = models.ForeignKey(
        Organization, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("project name"), max_length=200)
    budget_amount = models.DecimalField(
        _("budget (yuan)"),
        max_digits=14,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    year = models.PositiveSmallIntegerField(
        _("budget year"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    description = models.TextField(_("description"), max_length=4000, blank=True)
    state = models.CharField(_("state"), max_length=24, choices=State.choices, default=State.DRAFT)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("IT project funded by the budget")
        verbose_name_plural = _("IT projects funded by the budget")
        ordering = ["-year", "-updated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "name"], name="it_project_name_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ProjectDataEntry(models.Model):
    """One line of a project's public data list: a catalog resource of the agency, or the
    name of a resource the project will produce that is not catalogued yet."""

    project = models.ForeignKey(ITProject, on_delete=models.CASCADE, related_name="entries")
    resource = models.ForeignKey(
        "catalog.Resource",
        verbose_name=_("catalog resource"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    planned_name = models.CharField(_("planned resource name"), max_length=200, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("added"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("public data list entry")
        verbose_name_plural = _("public data list entries")
        ordering = ["project", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(resource__isnull=False) | ~models.Q(planned_name=""),
                name="data_entry_names_something",
            ),
            models.UniqueConstraint(
                fields=["project", "resource"], name="data_entry_resource_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.planned_name or str(self.resource)


class CollectionListEntry(models.Model):
    """A line of an agency's collection list (采集清单, Art. 4): data it collects, on what
    basis, following which norms, how and how often, about whom."""

    class Method(models.TextChoices):
        FORM = "form", _("Forms filled in by applicants")
        SYSTEM = "system", _("Recorded by a business system")
        INTERFACE = "interface", _("Received through an interface")
        DEVICE = "device", _("Sensors and devices")
        SURVEY = "survey", _("Surveys and statistics")
        OTHER = "other", _("Other")

    class Frequency(models.TextChoices):
        REALTIME = "realtime", _("Real time")
        ON_OCCURRENCE = "on_occurrence", _("When the matter occurs")
        DAILY = "daily", _("Daily")
        MONTHLY = "monthly", _("Monthly")
        QUARTERLY = "quarterly", _("Quarterly")
        YEARLY = "yearly", _("Yearly")
        IRREGULAR = "irregular", _("Irregular")

    organization = models.ForeignKey(
        Organization, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="+"
    )
    data_name = models.CharField(_("data collected"), max_length=200)
    legal_basis = models.TextField(_("collection basis"), max_length=2000)
    norms = models.CharField(_("norms and standards followed"), max_length=500, blank=True)
    method = models.CharField(_("collection method"), max_length=16, choices=Method.choices)
    frequency = models.CharField(_("frequency"), max_length=16, choices=Frequency.choices)
    subject_scope = models.CharField(_("subjects covered"), max_length=200)
    resource = models.ForeignKey(
        "catalog.Resource",
        verbose_name=_("catalog resource"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("collection list entry")
        verbose_name_plural = _("collection list entries")
        ordering = ["organization", "data_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "data_name"], name="collection_entry_unique"
            )
        ]

    def __str__(self) -> str:
        return self.data_name
