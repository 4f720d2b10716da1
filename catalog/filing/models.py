"""Records of the census of information systems (信息系统普查, Art. 12). Campaigns, IT projects
and collection lists live beside them in this module."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
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
