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
    # --- added by the evidence sub-package (migration 0002_evidence) ---
    # The exact bytes deposited: the canonical CSV snapshot, the archived open distribution or
    # the product's file; sealed at rest (kernel.sealed_files) for the data of a restricted or
    # sensitive resource.
    data_file = models.FileField(
        pgettext_lazy("deposit", "data file"), upload_to="evidence/", max_length=300, blank=True
    )
    data_sealed = models.BooleanField(pgettext_lazy("deposit", "sealed at rest"), default=False)
    zone = models.CharField(pgettext_lazy("deposit", "storage zone"), max_length=16, blank=True)
    data_rows = models.BigIntegerField(pgettext_lazy("deposit", "rows"), null=True, blank=True)
    # The metadata as canonical JSON (RFC 8785): these characters, in UTF-8, are what is hashed.
    metadata_json = models.TextField(
        pgettext_lazy("deposit", "metadata (canonical JSON)"), blank=True
    )
    metadata_bytes = models.BigIntegerField(
        pgettext_lazy("deposit", "metadata size (bytes)"), null=True, blank=True
    )
    # A product's name and description (its data is a file its holder hands in).
    title = models.CharField(pgettext_lazy("deposit", "title"), max_length=200, blank=True)
    description = models.TextField(
        pgettext_lazy("deposit", "description"), max_length=4000, blank=True
    )
    # The leaf of the ledger's evidence log holding the digests (its index comes when the
    # ledger integrates it).
    leaf_id = models.BigIntegerField(pgettext_lazy("deposit", "ledger leaf"), null=True, blank=True)
    deposited_at = models.DateTimeField(
        pgettext_lazy("deposit", "deposited"), null=True, blank=True
    )
    error = models.TextField(pgettext_lazy("deposit", "error"), blank=True)
    job_id = models.UUIDField(null=True, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["error"])

    class Meta:
        verbose_name = _("evidence deposit")
        verbose_name_plural = _("evidence deposits")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["data_sha256"], name="deposit_data_sha256"),
            models.Index(fields=["metadata_sha256"], name="deposit_metadata_sha256"),
        ]
        constraints = [
            # A finished deposit has its digests, sizes and ledger leaf.
            models.CheckConstraint(
                condition=~models.Q(state="done")
                | (
                    ~models.Q(data_sha256="")
                    & ~models.Q(metadata_sha256="")
                    & models.Q(data_bytes__isnull=False, leaf_id__isnull=False)
                ),
                name="deposit_done_has_digests",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.public_id}"

    @property
    def data_name(self) -> str:
        """The deposited file's name (the last part of its storage name)."""
        return (self.data_file.name or "").rsplit("/", 1)[-1] or "data"

    def proof(self) -> dict:
        """The public proof of a finished deposit (ledger leaf, checkpoint, inclusion path)
        for templates: `{% with proof=deposit.proof %}` (see evidence/proofs.py)."""
        from .proofs import deposit_proof

        return deposit_proof(self)
