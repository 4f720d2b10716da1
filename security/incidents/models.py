"""Incidents, emergency plans and drills (Art. 26). Each record belongs to an organization;
district bureaus see their district's, the city bureau and the security administrator all."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from wuhan_pdr.accounts.models import Organization


class Incident(models.Model):
    class Level(models.TextChoices):
        # The national four levels of cyber and data security incidents.
        ESPECIALLY_MAJOR = "I", _("Especially major (Level I)")
        MAJOR = "II", _("Major (Level II)")
        LARGE = "III", _("Large (Level III)")
        GENERAL = "IV", _("General (Level IV)")

    class Category(models.TextChoices):
        LEAK = "leak", _("Data leak")
        TAMPERING = "tampering", _("Data tampering or loss")
        OUTAGE = "outage", _("Service outage")
        INTRUSION = "intrusion", _("Intrusion or malicious code")
        OTHER = "other", _("Other")

    class State(models.TextChoices):
        REPORTED = "reported", pgettext_lazy("incident", "Reported")
        RESPONDING = "responding", _("Being handled")
        CLOSED = "closed", _("Closed")

    title = models.CharField(_("title"), max_length=200)
    level = models.CharField(_("level"), max_length=4, choices=Level.choices)
    category = models.CharField(_("category"), max_length=16, choices=Category.choices)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("organization"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    occurred_at = models.DateTimeField(_("occurred"))
    discovered_at = models.DateTimeField(_("discovered"))
    summary = models.TextField(_("what happened"), max_length=8000)
    state = models.CharField(_("state"), max_length=16, choices=State.choices, default="reported")
    lessons_learned = models.TextField(_("lessons learned"), max_length=8000, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(pgettext_lazy("incident", "reported"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("security incident")
        verbose_name_plural = _("security incidents")
        ordering = ["-occurred_at", "-pk"]
        indexes = [models.Index(fields=["state", "level"])]

    def __str__(self) -> str:
        return self.title


class IncidentResource(models.Model):
    """A catalog resource the incident affected, by code (see registry.py)."""

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="resources", verbose_name=_("incident")
    )
    resource_code = models.CharField(_("resource code"), max_length=64)
    resource_name = models.CharField(_("resource name"), max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("affected resource")
        verbose_name_plural = _("affected resources")
        ordering = ["incident", "resource_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "resource_code"], name="incident_resource_once"
            )
        ]

    def __str__(self) -> str:
        return self.resource_code


class IncidentEntry(models.Model):
    """One line of the incident's timeline: an observation, an action taken, a message sent."""

    class Kind(models.TextChoices):
        NOTE = "note", _("Observation")
        ACTION = "action", _("Action taken")
        REPORT = "report", _("Report or notice sent")

    incident = models.ForeignKey(
        Incident, on_delete=models.CASCADE, related_name="entries", verbose_name=_("incident")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    at = models.DateTimeField(_("time"))
    text = models.TextField(_("text"), max_length=4000)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("timeline entry")
        verbose_name_plural = _("timeline entries")
        ordering = ["incident", "at", "pk"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class EmergencyPlan(models.Model):
    title = models.CharField(_("title"), max_length=200)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    version = models.CharField(_("version"), max_length=20)
    scope = models.CharField(_("scope"), max_length=500)
    content = models.TextField(
        _("plan"),
        max_length=50000,
        blank=True,
        help_text=_("The plan's text, or a summary of the attached document."),
    )
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"))
    # The plan's document as filed (PDF, Word, OpenDocument). A new upload is stored under a
    # new random name and the old file is kept: each historical record names its own file,
    # so every version of the document stays downloadable (views.plan_document).
    document = models.FileField(
        _("document"), upload_to="security/plans/%Y/%m/", blank=True, max_length=200
    )
    document_name = models.CharField(_("document file name"), max_length=200, blank=True)
    document_size = models.PositiveBigIntegerField(_("document size"), null=True, blank=True)
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("emergency plan")
        verbose_name_plural = _("emergency plans")
        ordering = ["title", "-valid_from", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "title", "version"], name="emergency_plan_version_once"
            ),
            models.CheckConstraint(
                condition=models.Q(valid_until__gte=models.F("valid_from")),
                name="emergency_plan_validity_order",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class Drill(models.Model):
    title = models.CharField(_("title"), max_length=200)
    organization = models.ForeignKey(
        Organization, verbose_name=_("organization"), on_delete=models.PROTECT, related_name="+"
    )
    plan = models.ForeignKey(
        EmergencyPlan,
        verbose_name=_("emergency plan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="drills",
    )
    held_on = models.DateField(_("held on"))
    scenario = models.TextField(_("scenario"), max_length=8000)
    participants = models.TextField(
        _("participants"), max_length=4000, help_text=_("Units and people who took part.")
    )
    participant_count = models.PositiveIntegerField(_("number of participants"))
    findings = models.TextField(_("findings"), max_length=8000)
    improvements = models.TextField(_("improvements"), max_length=8000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("recorded"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("emergency drill")
        verbose_name_plural = _("emergency drills")
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return self.title
