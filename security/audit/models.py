"""The audit log's searchable rows (Ch. 8; issue 13 item 4).

Every entry has two halves. Its canonical bytes are appended to the kernel's tamper-evident
ledger (log "audit"), whose leaves stay for ever; this row holds the same facts in columns an
auditor can filter, and may be pruned after `AUDIT_RETENTION_DAYS`. The row names its leaf and
the SHA-256 of the entry, so a row can be checked against the ledger while both exist.

The model has no `HistoricalRecords`: it is itself the record, written once and never changed.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AuditEvent(models.Model):
    class Outcome(models.TextChoices):
        SUCCESS = "success", pgettext_lazy("audit", "Success")
        REFUSED = "refused", pgettext_lazy("audit", "Refused")
        FAILURE = "failure", pgettext_lazy("audit", "Failure")

    id = models.BigAutoField(primary_key=True)
    occurred_at = models.DateTimeField(pgettext_lazy("audit", "time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    # The actor's user name at the time (also for attempts naming no existing user).
    actor_label = models.CharField(pgettext_lazy("audit", "actor name"), max_length=150, blank=True)
    organization = models.ForeignKey(
        "accounts.Organization",
        verbose_name=_("organization"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_constraint=False,
    )
    ip = models.GenericIPAddressField(pgettext_lazy("audit", "IP address"), null=True, blank=True)
    user_agent = models.CharField(pgettext_lazy("audit", "user agent"), max_length=300, blank=True)
    action = models.CharField(pgettext_lazy("audit", "action"), max_length=80)
    object_type = models.CharField(
        pgettext_lazy("audit", "object type"), max_length=100, blank=True
    )
    object_id = models.CharField(pgettext_lazy("audit", "object id"), max_length=64, blank=True)
    object_label = models.CharField(pgettext_lazy("audit", "object"), max_length=200, blank=True)
    outcome = models.CharField(
        pgettext_lazy("audit", "outcome"), max_length=8, choices=Outcome.choices
    )
    details = models.JSONField(pgettext_lazy("audit", "entry details"), default=dict, blank=True)
    entry_sha256 = models.CharField(pgettext_lazy("audit", "entry SHA-256"), max_length=64)
    # The ledger leaf holding the entry's bytes (kernel ledger, log "audit").
    leaf = models.ForeignKey(
        "kernel.LedgerLeaf",
        verbose_name=pgettext_lazy("audit", "leaf in the ledger"),
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["action", "occurred_at"], name="audit_action_time"),
            models.Index(fields=["actor", "occurred_at"], name="audit_actor_time"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.action} {self.outcome}"

    @property
    def details_text(self) -> str:
        """The details as one line of JSON, for the page and the export."""
        import json

        return json.dumps(self.details, ensure_ascii=False, sort_keys=True) if self.details else ""
