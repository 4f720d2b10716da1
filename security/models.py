"""Security policy that every chapter reads (Ch. 8, Art. 27).

A grade carries what it allows, so the catalog's field rules, the supply API and downloads
read one table instead of repeating it (domain.md, "Grades"). The default scale follows
provincial public-data practice (L1 不敏感 .. L4 敏感) and is configurable by the security
administrator.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Grade(models.Model):
    class Zone(models.TextChoices):
        GENERAL = "general", _("General zone")
        RESTRICTED = "restricted", _("Restricted zone")
        SENSITIVE = "sensitive", _("Sensitive zone")

    code = models.CharField(_("code"), max_length=8, unique=True)
    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveSmallIntegerField(
        _("rank"), unique=True, help_text=_("Higher is more sensitive.")
    )
    description = models.TextField(_("description"), blank=True)
    may_share_unconditionally = models.BooleanField(_("may be shared unconditionally"))
    may_open_unconditionally = models.BooleanField(_("may be opened unconditionally"))
    may_open_conditionally = models.BooleanField(_("may be opened under conditions"))
    masking_required = models.BooleanField(_("masking required outside its zone"))
    storage_zone = models.CharField(_("storage zone"), max_length=16, choices=Zone.choices)
    # Art. 18: holders may bring data into authorized operation only as its grade allows.
    may_operate = models.BooleanField(
        _("may enter authorized operation"),
        default=False,
        help_text=_("Whether data of this grade may be brought into authorized operation."),
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("security grade")
        verbose_name_plural = _("security grades")
        ordering = ["rank"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


# The sub-packages' models, so that Django finds them in this app.
from .assessments.models import Assessment, ChecklistAnswer  # noqa: E402,F401
from .audit.models import AuditEvent  # noqa: E402,F401
from .backups.models import Backup, RestoreDrill  # noqa: E402,F401
from .incidents.models import (  # noqa: E402,F401
    Drill,
    EmergencyPlan,
    Incident,
    IncidentEntry,
    IncidentResource,
)
from .masking.models import MaskingRule  # noqa: E402,F401
from .tools.models import DataTool  # noqa: E402,F401
