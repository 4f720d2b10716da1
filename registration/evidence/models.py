"""Models of registration.evidence (imported by registration/models.py).

- `Deposit` (存证): one deposit of evidence by a holder before it applies for registration: what
  it covers (a resource's data, an open resource's published distribution, or a product made
  from earlier deposits), the SHA-256 digests of the canonical bytes and metadata, and where the
  exact bytes are kept. The evidence sub-package fills in how the bytes are made, kept and
  logged in the ledger's public evidence log; the applications sub-package refers to a deposit.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from catalog.models import Resource
from wuhan_pdr.accounts.models import Organization


class Deposit(models.Model):
    class Kind(models.TextChoices):
        RESOURCE_DATA = "resource_data", _("Public data resource")
        OPEN_DATA = "open_data", _("Open data resource")
        PRODUCT = "product", _("Data product or service")

    class State(models.TextChoices):
        PENDING = "pending", pgettext_lazy("deposit", "Being made")
        DONE = "done", pgettext_lazy("deposit", "Deposited")
        FAILED = "failed", pgettext_lazy("deposit", "Failed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(pgettext_lazy("deposit", "kind"), max_length=20, choices=Kind.choices)
    holder = models.ForeignKey(
        Organization,
        verbose_name=pgettext_lazy("deposit", "holder"),
        on_delete=models.PROTECT,
        related_name="deposits",
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name=pgettext_lazy("deposit", "resource"),
        on_delete=models.PROTECT,
        related_name="deposits",
        null=True,
        blank=True,
    )
    # Provenance: the deposits a product was made from.
    sources = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="derived",
        blank=True,
        verbose_name=pgettext_lazy("deposit", "made from"),
    )
    state = models.CharField(
        pgettext_lazy("deposit", "state"),
        max_length=10,
        choices=State.choices,
        default=State.PENDING,
    )
    data_sha256 = models.CharField(
        pgettext_lazy("deposit", "data digest (SHA-256)"), max_length=64, blank=True
    )
    metadata_sha256 = models.CharField(
        pgettext_lazy("deposit", "metadata digest (SHA-256)"), max_length=64, blank=True
    )
    data_bytes = models.BigIntegerField(
        pgettext_lazy("deposit", "data size (bytes)"), null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=pgettext_lazy("deposit", "deposited by"),
    )
    created_at = models.DateTimeField(pgettext_lazy("deposit", "created"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("evidence deposit")
        verbose_name_plural = _("evidence deposits")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"
