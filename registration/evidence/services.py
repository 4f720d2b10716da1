"""Deposits of evidence (存证): "来源可查、加工可控".

`deposit_request` records a deposit (state PENDING) and its job on the long queue;
`deposit_make` (the job) writes the exact bytes in their canonical form to storage while
digesting them, builds the canonical metadata, and in one transaction appends both digests to
the ledger's public evidence log and marks the deposit DONE. A failure leaves the deposit
FAILED and no file behind. `deposit_check` recomputes everything a deposit claims.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import tempfile
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from aggregation.datastore import as_table_owner, table_zone
from aggregation.models import DatastoreTable
from catalog.models import Resource
from security import audit, zones
from wuhan_pdr.kernel import ledger
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import (
    db_cancel_running_statement,
    db_drop_connection_if_broken,
    job_enqueue,
    job_progress,
)
from wuhan_pdr.kernel.sealed_files import CHUNK_SIZE, SealingWriter, clear_chunks

from . import canonical
from .models import Deposit

logger = logging.getLogger(__name__)

LOG = "evidence"
TASK = "evidence.deposit_make"
# A product's file handed in through the form (bytes).
PRODUCT_MAX_BYTES = 50 * 1024 * 1024


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _safe_stem(text: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in text)
    return keep.strip("-")[:60] or "data"


# --- requesting ---------------------------------------------------------------------------------


def deposit_request(
    *,
    kind: str,
    holder,
    resource: Resource | None = None,
    sources=(),
    title: str = "",
    description: str = "",
    upload=None,
    acting_user,
) -> Deposit:
    """Record a deposit for `holder` and queue its making (the long queue). Resource kinds
    name a resource of the holder with loaded data (an open resource's published files for
    OPEN_DATA); a product names its title, the file handed in and the deposits it was made
    from."""
    if kind not in Deposit.Kind.values:
        raise DomainError(_("Choose what the deposit covers."), field="kind")
    sources = list(sources)
    if kind in (Deposit.Kind.RESOURCE_DATA, Deposit.Kind.OPEN_DATA):
        if resource is None:
            raise DomainError(_("Choose the resource the deposit covers."), field="resource")
        if resource.provider_id != holder.pk:
            raise DomainError(_("Only the resource's provider may deposit it."), field="resource")
        table = DatastoreTable.objects.filter(resource=resource).first()
        if table is None or table.last_loaded_at is None:
            raise DomainError(
                _("The resource has no loaded data yet: load it before depositing."),
                field="resource",
            )
        if kind == Deposit.Kind.OPEN_DATA:
            _open_csv(resource)  # refuses a resource without a published CSV file
    else:
        title = (title or "").strip()
        if not title:
            raise DomainError(_("Name the data product or service."), field="title")
        if upload is None:
            raise DomainError(_("Attach the product's file."), field="upload")
        if upload.size > PRODUCT_MAX_BYTES:
            raise DomainError(
                _("The file is larger than %(mb)d MB.") % {"mb": PRODUCT_MAX_BYTES // 2**20},
                field="upload",
            )
        resource = None
    for source in sources:
        if source.state != Deposit.State.DONE:
            raise DomainError(_("A source deposit is not finished."), field="sources")
    with transaction.atomic():
        deposit = Deposit(
            kind=kind,
            holder=holder,
            resource=resource,
            title=title[:200] if kind == Deposit.Kind.PRODUCT else "",
            description=(description or "")[:4000] if kind == Deposit.Kind.PRODUCT else "",
            created_by=acting_user,
        )
        audited_save(deposit, acting_user=acting_user, reason="requested", validate=False)
        if sources:
            deposit.sources.set(sources)
        if upload is not None and kind == Deposit.Kind.PRODUCT:
            suffix = "".join(ch for ch in Path(upload.name or "").suffix[:10] if ch.isalnum())
            name = default_storage.save(
                f"evidence/{deposit.public_id}/incoming-{_safe_stem(Path(upload.name or '').stem)}"
                + (f".{suffix}" if suffix else ""),
                upload,
            )
            deposit.data_file.name = name
        job = job_enqueue(
            task_name=TASK, kwargs={"deposit_id": deposit.pk}, acting_user=acting_user
        )
        deposit.job_id = job.pk
        Deposit.objects.filter(pk=deposit.pk).update(
            job_id=job.pk, data_file=deposit.data_file.name
        )
        audit.record("evidence.request", obj=deposit, actor=acting_user, details={"kind": kind})
    return deposit


def _open_csv(resource: Resource):
    from authorization.opendata.models import OpenDataset, OpenFile

    found = (
        OpenFile.objects.filter(
            dataset__resource=resource,
            dataset__state=OpenDataset.State.READY,
            format=OpenFile.Format.CSV,
        )
        .select_related("dataset__licence")
        .first()
    )
    if found is None:
        raise DomainError(
            _("The resource has no published open-data CSV file to deposit."), field="resource"
        )
    return found


# --- making (the job) ---------------------------------------------------------------------------


def _snapshot(deposit: Deposit, out_path: Path) -> dict:
    """The canonical snapshot of the resource's rows, read as the worker (and the zone's
    role), written to `out_path` (sealed in a restricted or sensitive zone)."""
    table = DatastoreTable.objects.get(resource=deposit.resource)
    zone = table_zone(table)
    columns = [
        canonical.SnapshotColumn(c["name"], c.get("type") or "text", bool(c.get("key")))
        for c in table.columns
    ]
    sealed = zones.is_zone(zone)
    with out_path.open("wb") as raw:
        target = SealingWriter(raw) if sealed else raw
        writer = canonical.DigestWriter(target)
        with (
            transaction.atomic(),
            as_table_owner(),
            zones.zone_role(zone),
            connection.cursor() as cur,
        ):
            rows = canonical.write_snapshot(
                cur.cursor,
                schema=table.schema,
                table=table.table_name,
                columns=columns,
                writer=writer,
            )
        if sealed:
            target.close()
    return {
        "sha256": writer.hexdigest(),
        "bytes": writer.size,
        "rows": rows,
        "sealed": sealed,
        "zone": zone,
        "form": canonical.FORM_SNAPSHOT,
        "columns": [{"name": c.name, "type": c.type, "key": c.key} for c in columns],
        "ordered_by": [c.name for c in canonical.order_columns(columns)],
        "settings": dict(canonical.SESSION_SETTINGS),
        "generation": table.generation,
        "loaded_at": _iso(table.last_loaded_at) if table.last_loaded_at else None,
    }


def _copy_in(handle, out_path: Path) -> canonical.DigestWriter:
    with out_path.open("wb") as out:
        writer = canonical.DigestWriter(out)
        for block in clear_chunks(handle, CHUNK_SIZE):
            writer.write(block)
    return writer


def _open_distribution(deposit: Deposit, out_path: Path) -> dict:
    """The open resource's CSV file as published, copied byte for byte (archived: later loads
    replace the published file, never this copy)."""
    found = _open_csv(deposit.resource)
    with found.file.open("rb") as handle:
        writer = _copy_in(handle, out_path)
    dataset = found.dataset
    return {
        "sha256": writer.hexdigest(),
        "bytes": writer.size,
        "rows": found.rows,
        "sealed": False,
        "zone": zones.GENERAL,
        "form": canonical.FORM_OPEN,
        "published_at": _iso(found.built_at),
        "generation": dataset.built_generation,
        "licence": dataset.licence.name,
    }


def _product_file(deposit: Deposit, out_path: Path) -> dict:
    with deposit.data_file.open("rb") as handle:
        writer = _copy_in(handle, out_path)
    return {
        "sha256": writer.hexdigest(),
        "bytes": writer.size,
        "rows": None,
        "sealed": False,
        "zone": zones.GENERAL,
        "form": canonical.FORM_FILE,
    }


def metadata_of(deposit: Deposit, data: dict, deposited_at: dt.datetime) -> dict:
    """The deposit's metadata object (canonicalized by RFC 8785 before hashing)."""
    holder = deposit.holder
    meta: dict = {
        "format": canonical.METADATA_FORMAT,
        "deposit": str(deposit.public_id),
        "kind": deposit.kind,
        "holder": {"name": holder.name, "credit_code": holder.credit_code or ""},
        "deposited_at": _iso(deposited_at),
        "data": {k: v for k, v in data.items() if k not in ("sealed",) and v is not None},
        "sources": [
            {
                "deposit": str(s.public_id),
                "data_sha256": s.data_sha256,
                "metadata_sha256": s.metadata_sha256,
            }
            for s in deposit.sources.order_by("public_id")
        ],
    }
    if deposit.resource_id:
        resource = deposit.resource
        version = resource.published_version
        meta["resource"] = {
            "code": resource.code,
            "name": version.name if version else "",
            "version": version.number if version else None,
        }
    if deposit.kind == Deposit.Kind.PRODUCT:
        meta["product"] = {"title": deposit.title, "description": deposit.description}
    return meta


def ledger_entry_of(deposit: Deposit) -> dict:
    """What the evidence log's entry says of a deposit (canonical JSON, RFC 8785)."""
    return {
        "type": canonical.ENTRY_TYPE,
        "deposit": str(deposit.public_id),
        "kind": deposit.kind,
        "holder": deposit.holder.credit_code or deposit.holder.name,
        "holder_name": deposit.holder.name,
        "data_sha256": deposit.data_sha256,
        "data_bytes": deposit.data_bytes,
        "metadata_sha256": deposit.metadata_sha256,
        "metadata_bytes": deposit.metadata_bytes,
        "deposited_at": _iso(deposit.deposited_at),
    }


def deposit_make(*, deposit_id: int, job=None) -> Deposit | None:
    """The job: make a pending deposit (idempotent: a finished or failed one is left)."""
    deposit = (
        Deposit.objects.select_related("holder", "resource__published_version")
        .filter(pk=deposit_id)
        .first()
    )
    if deposit is None or deposit.state != Deposit.State.PENDING:
        return deposit
    workdir = Path(tempfile.mkdtemp(prefix=f"evidence-{deposit.pk}-"))
    saved: str | None = None
    # A product's file handed in, or the bytes of `deposit_of_bytes`.
    incoming = deposit.data_file.name or ""
    try:
        if job is not None:
            job_progress(job, 5)
        out_path = workdir / "data"
        if incoming:
            data = _product_file(deposit, out_path)
        elif deposit.kind == Deposit.Kind.RESOURCE_DATA:
            data = _snapshot(deposit, out_path)
        elif deposit.kind == Deposit.Kind.OPEN_DATA:
            data = _open_distribution(deposit, out_path)
        else:
            data = _product_file(deposit, out_path)
        if job is not None:
            job_progress(job, 70)
        if deposit.resource_id:
            stem = _safe_stem(deposit.resource.code)
        else:
            stem = _safe_stem(deposit.title) or "product"
        suffix = Path(incoming).suffix[:10] if incoming else ".csv"
        with out_path.open("rb") as fh:
            saved = default_storage.save(f"evidence/{deposit.public_id}/{stem}{suffix}", File(fh))
        if job is not None:
            job_progress(job, 85)
        deposited_at = timezone.now()
        metadata = canonical.canonical_json(metadata_of(deposit, data, deposited_at))
        with transaction.atomic():
            locked = Deposit.objects.select_for_update().get(pk=deposit.pk)
            if locked.state != Deposit.State.PENDING:
                raise DomainError(_("The deposit was changed while it was being made."))
            deposit.data_file.name = saved
            deposit.data_sha256 = data["sha256"]
            deposit.data_bytes = data["bytes"]
            deposit.data_rows = data["rows"]
            deposit.data_sealed = data["sealed"]
            deposit.zone = data["zone"]
            deposit.metadata_json = metadata.decode("utf-8")
            deposit.metadata_sha256 = canonical.sha256_hex(metadata)
            deposit.metadata_bytes = len(metadata)
            deposit.deposited_at = deposited_at
            deposit.leaf_id = ledger.append(LOG, canonical.canonical_json(ledger_entry_of(deposit)))
            deposit.state = Deposit.State.DONE
            deposit.error = ""
            audited_save(
                deposit, acting_user=deposit.created_by, reason="deposited", validate=False
            )
            audit.record(
                "evidence.deposit",
                obj=deposit,
                actor=deposit.created_by,
                details={
                    "kind": deposit.kind,
                    "data_sha256": deposit.data_sha256,
                    "bytes": deposit.data_bytes,
                },
            )
        if incoming and incoming != saved:
            transaction.on_commit(lambda: _delete([incoming]))
        return deposit
    except Exception as exc:
        logger.exception("deposit %s failed", deposit_id)
        if isinstance(exc, SoftTimeLimitExceeded):
            # The COPY may still run: cancel it so that the failure can be recorded.
            db_cancel_running_statement()
            db_drop_connection_if_broken()
        _delete([saved] if saved else [])
        message = str(exc)[:1000] or type(exc).__name__
        with transaction.atomic():
            Deposit.objects.filter(pk=deposit.pk, state=Deposit.State.PENDING).update(
                state=Deposit.State.FAILED, error=message
            )
        raise
    finally:
        for path in workdir.glob("*"):
            with contextlib.suppress(OSError):
                path.unlink()
        with contextlib.suppress(OSError):
            os.rmdir(workdir)


def deposit_of_bytes(
    *, kind: str, holder, resource=None, data: bytes, acting_user, title: str = ""
) -> Deposit:
    """A finished deposit of bytes in hand, made at once as the job makes one (stored,
    digested, logged in the evidence log): for demo data and tests, where a resource has no
    loaded table to snapshot. Never offered on a page."""
    deposit = Deposit(
        kind=kind, holder=holder, resource=resource, title=title, created_by=acting_user
    )
    deposit.data_file.save("handed-in.csv", ContentFile(data), save=False)
    deposit.save()
    return deposit_make(deposit_id=deposit.pk)


def _delete(names) -> None:
    for name in names:
        if name:
            with contextlib.suppress(OSError):
                default_storage.delete(name)


# --- checking -----------------------------------------------------------------------------------


def deposit_file_chunks(deposit: Deposit):
    """The clear bytes of the deposited file, chunk by chunk (a sealed file is opened)."""
    with deposit.data_file.open("rb") as handle:
        yield from clear_chunks(handle, CHUNK_SIZE)


def deposit_check(deposit: Deposit, *, read_file: bool = True) -> list[str]:
    """Everything a finished deposit claims, recomputed: its ledger entry against its row,
    the leaf hash against the entry, the metadata digest, the stored file's digest. Returns
    the problems found (empty: the deposit holds)."""
    from wuhan_pdr.kernel.ledger.models import LedgerEntry, LedgerLeaf

    problems: list[str] = []
    if deposit.state != Deposit.State.DONE:
        return [_("The deposit is not finished.")]
    leaf = LedgerLeaf.objects.filter(pk=deposit.leaf_id, log=LOG).first()
    entry = LedgerEntry.objects.filter(leaf_id=deposit.leaf_id).first()
    expected = canonical.canonical_json(ledger_entry_of(deposit))
    if leaf is None or entry is None:
        problems.append(_("The ledger holds no entry for this deposit."))
    else:
        stored = bytes(entry.entry)
        if ledger.leaf_hash_of(stored) != bytes(leaf.leaf_hash):
            problems.append(_("The ledger entry does not match its leaf hash."))
        if stored != expected:
            problems.append(_("The deposit's record differs from its ledger entry."))
    metadata = (deposit.metadata_json or "").encode("utf-8")
    if canonical.sha256_hex(metadata) != deposit.metadata_sha256:
        problems.append(_("The metadata does not match its digest."))
    if read_file:
        try:
            digest, size = canonical.stream_digest(deposit_file_chunks(deposit))
        except Exception:  # missing, unreadable or a sealed file that fails to open
            problems.append(_("The deposited file cannot be read."))
        else:
            if digest != deposit.data_sha256 or size != deposit.data_bytes:
                problems.append(_("The deposited file does not match its digest."))
    return problems
