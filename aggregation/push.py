"""Push batches (前置机推送): a front-end machine opens a batch, sends its rows in numbered JSON
chunks and commits; the load then runs in the worker like any other batch.

Every step is idempotent, so a sender that lost an answer simply sends the same request again:

- opening a batch id the channel already used returns that batch;
- a chunk number already received with the same content is acknowledged again and stored once;
  the same number with different content is refused (the sender has a bug, and guessing which
  version is right would lose data);
- committing a batch that is already committed answers the same and queues nothing.

The front-end machine acts through its channel's token, not as a user: these services take the
channel the token opened, and the API (api.py) checks that the batch belongs to it. Each write is
one transaction; the commit queues the durable job `aggregation.run_batch` after it commits.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wuhan_pdr.kernel.errors import DomainError

from .channels import chunk_rows_kept
from .datastore import published_columns
from .models import Batch, Channel, ChannelKind, PushChunk
from .services import batch_enqueue, batch_mode_for

B = Batch.Status

MAX_CHUNK_BYTES = getattr(settings, "AGGREGATION_PUSH_MAX_CHUNK_BYTES", 10 * 1024 * 1024)
MAX_CHUNK_ROWS = getattr(settings, "AGGREGATION_PUSH_MAX_CHUNK_ROWS", 10_000)
MAX_CHUNKS = getattr(settings, "AGGREGATION_PUSH_MAX_CHUNKS", 100_000)
MAX_BATCH_ID = 100


class PushRefused(DomainError):
    """A push request the platform refuses. `status` is the HTTP answer the API gives;
    `extra` adds details to the answer (e.g. the missing chunk numbers)."""

    def __init__(self, message, *, status: int = 400, code: str = "invalid", **extra):
        super().__init__(message, code=code)
        self.status = status
        self.extra = extra


@dataclass
class ChunkReceipt:
    chunk: PushChunk
    created: bool


def _check_channel(channel: Channel) -> None:
    if channel.kind != ChannelKind.PUSH:
        raise PushRefused(_("This channel does not take pushed data."), status=403)
    if channel.state != Channel.State.ACTIVE:
        raise PushRefused(
            _("The channel is not active; ask the data provider to activate it."),
            status=403,
            code="inactive",
        )


def _clean_batch_id(value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise PushRefused(_("Give batch_id: your own id of this batch (text)."), code="batch_id")
    value = value.strip()
    if len(value) > MAX_BATCH_ID:
        raise PushRefused(
            _("batch_id is longer than %(n)d characters.") % {"n": MAX_BATCH_ID}, code="batch_id"
        )
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in value):
        raise PushRefused(_("batch_id contains control characters."), code="batch_id")
    return value


def push_batch_open(*, channel: Channel, batch_id, mode=None) -> tuple[Batch, bool]:
    """Open a batch on a push channel under the sender's own `batch_id`, or return the batch
    already opened under it. Returns (batch, created). `mode` "full" asks for a full reload;
    otherwise the resource decides (incremental when it has keys and an update flag)."""
    external_id = _clean_batch_id(batch_id)
    if mode not in (None, "", Batch.Mode.FULL, Batch.Mode.INCREMENTAL):
        raise PushRefused(_("mode is full or incremental."), code="mode")
    with transaction.atomic():
        # The channel row lock makes two opens of the same id wait for each other.
        channel = (
            Channel.objects.select_for_update(of=("self",))
            .select_related("resource")
            .get(pk=channel.pk)
        )
        existing = Batch.objects.filter(channel=channel, external_id=external_id).first()
        if existing is not None:
            return existing, False
        _check_channel(channel)
        try:
            batch_mode = batch_mode_for(channel.resource, mode or None)
        except DomainError as exc:
            raise PushRefused(str(exc), status=409, code="resource") from exc
        batch = Batch.objects.create(
            channel=channel,
            mode=batch_mode,
            status=B.OPEN,
            external_id=external_id,
            source_name=external_id,
        )
        return batch, True


def _field_names(channel: Channel) -> dict[str, str]:
    """Every name a pushed field may have (column name, item name, channel mapping) ->
    the table column it fills."""
    columns = published_columns(channel.resource)
    names = {c.name: c.name for c in columns} | {c.item: c.name for c in columns}
    for source, target in (channel.column_mapping or {}).items():
        if target in names.values():
            names[str(source)] = target
    return names


def _bad_text(value: str) -> str | None:
    if "\x00" in value:
        return _("contains a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("is not valid Unicode text")
    return None


def _check_rows(rows, names: dict[str, str], number: int) -> None:
    if not isinstance(rows, list):
        raise PushRefused(_("The chunk must be a JSON list of row objects."), code="not_a_list")
    if not rows:
        raise PushRefused(_("The chunk has no rows."), code="empty")
    if len(rows) > MAX_CHUNK_ROWS:
        raise PushRefused(
            _("The chunk has %(n)d rows; at most %(max)d are allowed per chunk.")
            % {"n": len(rows), "max": MAX_CHUNK_ROWS},
            code="too_many_rows",
        )
    for n, row in enumerate(rows, start=1):
        where = {"chunk": number, "row": n}
        if not isinstance(row, dict):
            raise PushRefused(
                _("Chunk %(chunk)d, row %(row)d is not an object.") % where, code="row", row=n
            )
        targets: set[str] = set()
        for key, value in row.items():
            problem = _bad_text(key)
            target = None if problem else names.get(key)
            if target is None:
                raise PushRefused(
                    _("Chunk %(chunk)d, row %(row)d: unknown field “%(field)s”.")
                    % {**where, "field": key[:60].encode("utf-8", "replace").decode()},
                    code="field",
                    row=n,
                )
            if target in targets:
                raise PushRefused(
                    _("Chunk %(chunk)d, row %(row)d: two fields fill the column %(column)s.")
                    % {**where, "column": target},
                    code="field",
                    row=n,
                )
            targets.add(target)
            if isinstance(value, dict | list):
                raise PushRefused(
                    _("Chunk %(chunk)d, row %(row)d, field %(field)s: give a single value.")
                    % {**where, "field": target},
                    code="value",
                    row=n,
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise PushRefused(
                    _("Chunk %(chunk)d, row %(row)d, field %(field)s: the number is too large.")
                    % {**where, "field": target},
                    code="value",
                    row=n,
                )
            if isinstance(value, str) and (problem := _bad_text(value)):
                raise PushRefused(
                    _("Chunk %(chunk)d, row %(row)d, field %(field)s %(problem)s.")
                    % {**where, "field": target, "problem": problem},
                    code="value",
                    row=n,
                )


def chunk_digest(rows) -> str:
    """sha256 of the chunk's rows in a canonical JSON form (key order and white space do not
    matter), so that a resent chunk is recognised."""
    canonical = json.dumps(rows, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _lock_open_batch(channel: Channel, batch_pk) -> Batch:
    batch = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("channel__resource")
        .filter(pk=batch_pk, channel=channel)
        .first()
    )
    if batch is None:
        raise PushRefused(_("No such batch."), status=404, code="not_found")
    return batch


def push_chunk_put(
    *, channel: Channel, batch: Batch, number: int, rows, size: int = 0
) -> ChunkReceipt:
    """Store chunk `number` (1, 2, ...) of an open batch: a list of row objects whose keys
    are column names, item names or names of the channel's column mapping. A chunk received
    before with the same rows is acknowledged again (created False); with other rows it is
    refused (409). `size` is the request body's size in bytes, for the batch's statistics."""
    if not isinstance(number, int) or not 1 <= number <= MAX_CHUNKS:
        raise PushRefused(
            _("Chunks are numbered 1 to %(max)d.") % {"max": MAX_CHUNKS}, code="number"
        )
    with transaction.atomic():
        batch = _lock_open_batch(channel, batch.pk)
        digest = chunk_digest(rows)
        previous = PushChunk.objects.filter(batch=batch, number=number).only("digest").first()
        if previous is not None:
            if previous.digest == digest:
                return ChunkReceipt(previous, False)
            raise PushRefused(
                _(
                    "Chunk %(n)d was received before with different rows; a chunk cannot be "
                    "replaced. Open a new batch to send other data."
                )
                % {"n": number},
                status=409,
                code="chunk_differs",
                chunk=number,
            )
        if batch.status != B.OPEN:
            raise PushRefused(
                _("The batch is committed; it takes no more chunks."),
                status=409,
                code="committed",
            )
        _check_channel(batch.channel)
        _check_rows(rows, _field_names(batch.channel), number)
        chunk = PushChunk.objects.create(
            batch=batch,
            number=number,
            rows=chunk_rows_kept(batch.channel, rows),
            row_count=len(rows),
            digest=digest,
        )
        Batch.objects.filter(pk=batch.pk).update(
            rows_received=F("rows_received") + len(rows),
            bytes_received=F("bytes_received") + max(0, int(size)),
        )
        return ChunkReceipt(chunk, True)


def _ranges(numbers: list[int]) -> str:
    """1, 2, 3, 7, 9, 10 -> "1-3, 7, 9-10" (short messages for long gaps)."""
    parts: list[str] = []
    start = prev = None
    for n in numbers:
        if start is None:
            start = prev = n
        elif n == prev + 1:
            prev = n
        else:
            parts.append(f"{start}-{prev}" if prev != start else str(start))
            start = prev = n
    if start is not None:
        parts.append(f"{start}-{prev}" if prev != start else str(start))
    return ", ".join(parts)


def push_batch_commit(*, channel: Channel, batch: Batch, chunks) -> tuple[Batch, bool]:
    """Close an open batch that should hold chunks 1..`chunks` and queue its load. Refused,
    listing them, while chunks are missing (or beyond the count). Committing again with the
    same count answers with the batch and queues nothing. Returns (batch, queued now)."""
    if isinstance(chunks, bool) or not isinstance(chunks, int) or not 1 <= chunks <= MAX_CHUNKS:
        raise PushRefused(
            _("Give chunks: the number of chunks sent (1 to %(max)d).") % {"max": MAX_CHUNKS},
            code="chunks",
        )
    with transaction.atomic():
        batch = _lock_open_batch(channel, batch.pk)
        received = list(batch.chunks.order_by("number").values_list("number", flat=True))
        if batch.status != B.OPEN:
            if len(received) == chunks:
                return batch, False
            raise PushRefused(
                _("The batch was committed with %(n)d chunks.") % {"n": len(received)},
                status=409,
                code="committed",
            )
        _check_channel(batch.channel)
        have = set(received)
        missing = [n for n in range(1, chunks + 1) if n not in have]
        beyond = [n for n in received if n > chunks]
        if missing:
            raise PushRefused(
                ngettext(
                    "Chunk %(numbers)s is missing; send it, then commit again.",
                    "Chunks %(numbers)s are missing; send them, then commit again.",
                    len(missing),
                )
                % {"numbers": _ranges(missing)},
                code="missing",
                missing=missing[:1000],
            )
        if beyond:
            raise PushRefused(
                _("Chunks %(numbers)s were received beyond the %(n)d announced.")
                % {"numbers": _ranges(beyond), "n": chunks},
                code="beyond",
                beyond=beyond[:1000],
            )
        total = batch.chunks.aggregate(n=Sum("row_count"))["n"] or 0
        batch.status = B.PENDING
        batch.rows_received = total
        batch.save(update_fields=["status", "rows_received"])
        return batch_enqueue(batch), True


def push_batch_chunk_count(batch: Batch) -> int:
    return batch.chunks.count()


def push_demo_rows(*, channel: Channel, batch_id: str, rows: list[dict], chunk_rows: int = 500):
    """Push `rows` through the same services the API calls (for the demo seed): open the
    batch, send the rows in chunks of `chunk_rows`, commit. Idempotent by `batch_id`."""
    batch, _created = push_batch_open(channel=channel, batch_id=batch_id)
    count = 0
    for count, start in enumerate(range(0, len(rows), chunk_rows), start=1):
        push_chunk_put(
            channel=channel, batch=batch, number=count, rows=rows[start : start + chunk_rows]
        )
    batch, _queued = push_batch_commit(channel=channel, batch=batch, chunks=max(count, 1))
    return batch


def push_housekeeping(*, now=None) -> tuple[int, int]:
    """Daily (beat): a batch opened but never committed within `AGGREGATION_PUSH_OPEN_HOURS`
    fails as expired (its chunks are dropped), and the chunks of batches that succeeded more
    than `AGGREGATION_PUSH_KEEP_DAYS` ago are deleted (they were kept so that a failed load
    can be retried). Returns (expired batches, deleted chunks)."""
    now = now or timezone.now()
    open_hours = getattr(settings, "AGGREGATION_PUSH_OPEN_HOURS", 48)
    keep_days = getattr(settings, "AGGREGATION_PUSH_KEEP_DAYS", 30)
    expired = 0
    with transaction.atomic():
        stale = Batch.objects.select_for_update(skip_locked=True).filter(
            channel__kind=ChannelKind.PUSH,
            status=Batch.Status.OPEN,
            created_at__lt=now - dt.timedelta(hours=open_hours),
        )
        for batch in stale:
            batch.status = Batch.Status.FAILED
            batch.error = _(
                "Expired: the batch was opened but not committed within %(hours)d hours."
            ) % {"hours": open_hours}
            batch.finished_at = now
            batch.save(update_fields=["status", "error", "finished_at"])
            PushChunk.objects.filter(batch=batch).delete()
            expired += 1
        deleted, _by_model = PushChunk.objects.filter(
            batch__status=Batch.Status.SUCCEEDED,
            batch__finished_at__lt=now - dt.timedelta(days=keep_days),
        ).delete()
    return expired, deleted
