"""The ledger's tables (decision "ledger"): leaves are appended by one INSERT statement and
never changed; a beat job integrates them into the Merkle tree (index rows, hash tiles) and
signs a tree head. PostgreSQL refuses UPDATE, DELETE and TRUNCATE of the protected tables for
every role but the table owner (migration `0002_ledger`)."""

from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _


class LedgerLeaf(models.Model):
    """One appended entry: its log and its RFC 9162 leaf hash SHA-256(0x00 || entry). The
    entry's bytes live in LedgerEntry (prunable); the hash stays. No index yet: the integration
    assigns it (LedgerIndex), so a leaf committed late never leaves a hole in the tree."""

    id = models.BigAutoField(primary_key=True)
    log = models.CharField(_("log"), max_length=16)
    leaf_hash = models.BinaryField(_("leaf hash"))
    created_at = models.DateTimeField(_("appended at"), db_default=Now())

    class Meta:
        verbose_name = _("ledger leaf")
        verbose_name_plural = _("ledger leaves")

    def __str__(self) -> str:
        return f"{self.log} leaf {self.pk}"


class LedgerEntry(models.Model):
    """The bytes of a leaf's entry and its details; retention may delete the row of a
    prunable log (the audit log), the leaf and its hash stay. Never updated."""

    leaf = models.OneToOneField(
        LedgerLeaf, primary_key=True, on_delete=models.DO_NOTHING, db_constraint=True
    )
    log = models.CharField(_("log"), max_length=16)
    entry = models.BinaryField(_("entry"))
    details = models.JSONField(_("details"), null=True, blank=True)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")

    def __str__(self) -> str:
        return f"{self.log} entry {self.pk}"


class LedgerPending(models.Model):
    """A leaf not integrated yet: the integration's work queue (rows are deleted once the leaf
    has its index). A leaf missing from both this table and the index is found by
    ledger_verify."""

    leaf = models.OneToOneField(LedgerLeaf, primary_key=True, on_delete=models.DO_NOTHING)
    log = models.CharField(max_length=16)

    class Meta:
        indexes = [models.Index(fields=["log", "leaf"], name="kernel_ledgerpending_log")]

    def __str__(self) -> str:
        return f"{self.log} pending {self.pk}"


class LedgerIndex(models.Model):
    """The position of an integrated leaf in its log's tree; written once by the integration."""

    log = models.CharField(_("log"), max_length=16)
    idx = models.BigIntegerField(_("index"))
    leaf = models.OneToOneField(LedgerLeaf, on_delete=models.DO_NOTHING, related_name="position")

    class Meta:
        verbose_name = _("ledger index")
        verbose_name_plural = _("ledger indexes")
        constraints = [
            models.UniqueConstraint(fields=["log", "idx"], name="kernel_ledgerindex_log_idx")
        ]

    def __str__(self) -> str:
        return f"{self.log}[{self.idx}]"


class LedgerTile(models.Model):
    """A full tile of the tree: the 16 node hashes of tree level 4 * `level` under tile `tile`
    (bottom row of the tile, 16 * 32 bytes). Tiles are written once, when they become full;
    every other node hash is computed from at most 16 stored hashes (O(log n) proofs)."""

    log = models.CharField(max_length=16)
    level = models.SmallIntegerField()
    tile = models.BigIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["log", "level", "tile"], name="kernel_ledgertile_log_level_tile"
            )
        ]

    def __str__(self) -> str:
        return f"{self.log} tile {self.level}/{self.tile}"


class LedgerHead(models.Model):
    """A signed tree head: the log's size and root at a time, signed with Ed25519."""

    log = models.CharField(_("log"), max_length=16)
    size = models.BigIntegerField(_("size"))
    root_hash = models.BinaryField(_("root hash"))
    timestamp_ms = models.BigIntegerField(_("timestamp (ms)"))
    key_id = models.CharField(_("key id"), max_length=64)
    signature = models.BinaryField(_("signature"))
    created_at = models.DateTimeField(_("signed at"), db_default=Now())

    class Meta:
        verbose_name = _("signed tree head")
        verbose_name_plural = _("signed tree heads")
        ordering = ["log", "size"]
        constraints = [
            models.UniqueConstraint(fields=["log", "size"], name="kernel_ledgerhead_log_size")
        ]

    def __str__(self) -> str:
        return f"{self.log} head at {self.size}"
