"""Backups and restore drills (Ch. 8, Art. 26): one row per run, each with its history."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords


class Backup(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        PRUNED = "pruned", _("Deleted by retention")

    name = models.CharField(_("name"), max_length=64, unique=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.RUNNING
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    size_bytes = models.BigIntegerField(_("size (bytes)"), default=0)
    checksum = models.CharField(
        _("checksum"), max_length=64, blank=True, help_text=_("SHA-256 of the database dump file.")
    )
    manifest = models.JSONField(_("manifest"), default=dict, blank=True)
    kept_until = models.DateTimeField(_("kept until"), null=True, blank=True)
    pruned_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("backup")
        verbose_name_plural = _("backups")
        ordering = ["-started_at", "-pk"]
        permissions = [("run_backup", _("Can run backups and restore drills"))]

    def __str__(self) -> str:
        return self.name


class RestoreDrill(models.Model):
    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PASSED = "passed", _("Passed")
        FAILED = "failed", _("Failed")

    backup = models.ForeignKey(
        Backup,
        verbose_name=_("backup"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="drills",
    )
    state = models.CharField(
        _("result"), max_length=16, choices=State.choices, default=State.RUNNING
    )
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    restore_seconds = models.FloatField(_("restore time (s)"), null=True, blank=True)
    tables_compared = models.PositiveIntegerField(_("tables compared"), default=0)
    rows_compared = models.BigIntegerField(_("rows compared"), default=0)
    differences = models.JSONField(_("differences"), default=list, blank=True)
    error = models.TextField(_("error"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("restore drill")
        verbose_name_plural = _("restore drills")
        ordering = ["-started_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.state}"
