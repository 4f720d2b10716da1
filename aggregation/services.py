"""Writes of the aggregation chapter: channels, batches, downtime reports.

Each service takes `acting_user`, checks rights and state first, runs in one transaction and
records history naming the actor. Loads run in the worker (`batch_run`, through the durable
job `aggregation.run_batch`); a page follows them through `batch_progress`.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import logging
import secrets
import shutil
import tempfile
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import DatabaseError, connection, transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from catalog.models import Resource, UpdateMode
from security import audit
from security.assessments import has_valid_pass
from security.assessments.services import assessments_revoke
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import (
    db_cancel_running_statement,
    db_drop_connection_if_broken,
    job_enqueue,
    job_send,
    soft_time_limit_of,
    statement_cancelled_on_time_limit,
)
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.sealing import seal
from wuhan_pdr.kernel.uploads import WorkbookRefused, inspect_workbook

from . import channels as channel_kinds
from .after_load import after_load
from .datastore import (
    datastore_ensure,
    is_downgrade,
    published_columns,
    table_columns,
    zone_move_of,
)
from .loading import LoadRefused, ShrinkHeld, load_csv
from .models import Batch, Channel, ChannelKind, DatastoreTable, DowntimeReport, Schedule
from .permissions import (
    can_report_downtime,
    can_work_channel,
    is_security_admin,
    may_confirm_zone_move,
    works_for,
)
from .schedules import in_planned_window, next_run_after

logger = logging.getLogger(__name__)
B = Batch.Status
# Channels are assessed as subjects of this kind (registered in assessments.py).
ASSESSMENT_KIND = "channel"

CHANNEL_FIELDS = (
    "name",
    "source_kind",
    "information_system",
    "access_requirements",
    "schedule",
    "allow_reject_file",
    "config",
    "column_mapping",
)


def _require_worker(user, resource: Resource) -> None:
    if not works_for(user, resource.provider_id):
        raise AccessDenied(_("Only the provider's staff may set up its channels."))


def _check_information_system(resource: Resource, information_system) -> None:
    if (
        information_system is not None
        and information_system.organization_id != resource.provider_id
    ):
        raise DomainError(
            _("The system must be one of the provider's own systems."), field="information_system"
        )


@transaction.atomic
def channel_create(
    *,
    resource: Resource,
    kind: str,
    name: str,
    access_requirements: str,
    acting_user: User,
    **fields,
) -> Channel:
    """Set up a channel for a published resource; it starts as a draft."""
    _require_worker(acting_user, resource)
    if resource.published_version_id is None or resource.retired_at is not None:
        raise DomainError(_("Only a published resource can receive data."), field="resource")
    if kind not in ChannelKind.values:
        raise DomainError(_("Choose a channel kind."), field="kind")
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        raise TypeError(f"unknown channel fields: {sorted(unknown)}")
    _check_information_system(resource, fields.get("information_system"))
    channel = Channel(
        resource=resource,
        kind=kind,
        name=name,
        access_requirements=access_requirements,
        created_by=acting_user,
        **fields,
    )
    channel.config = channel_kinds.clean_config(kind, channel.config or {})
    audited_save(channel, acting_user=acting_user, reason="create")
    return channel


@transaction.atomic
def channel_update(
    *, channel: Channel, acting_user: User, secret: str | None = None, **fields
) -> Channel:
    """Change a channel's settings. Changed source settings need a new security assessment:
    the channel's pass is revoked and an active channel is suspended."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if not can_work_channel(acting_user, channel):
        raise AccessDenied(_("Only the provider's staff may change its channels."))
    unknown = set(fields) - set(CHANNEL_FIELDS)
    if unknown:
        raise TypeError(f"unknown channel fields: {sorted(unknown)}")
    _check_information_system(channel.resource, fields.get("information_system"))
    source_changed = False
    for name, value in fields.items():
        if name in ("config", "access_requirements") and getattr(channel, name) != value:
            source_changed = True
        setattr(channel, name, value)
    if secret:
        channel.secret = seal(secret)
        source_changed = True
    channel.config = channel_kinds.clean_config(channel.kind, channel.config or {})
    reason = "update"
    revoked = source_changed and assessments_revoke(
        subject_kind=ASSESSMENT_KIND,
        subject_id=channel.pk,
        reason="source settings changed",
        acting_user=acting_user,
    )
    if revoked and channel.state == Channel.State.ACTIVE:
        channel.state = Channel.State.SUSPENDED
        channel.next_run_at = None
        reason = "update: suspended until assessed again"
    audited_save(channel, acting_user=acting_user, reason=reason)
    return channel


@transaction.atomic
def channel_activate(*, channel: Channel, acting_user: User) -> Channel:
    """Start a channel. Refused unless it holds a valid security assessment pass (Art. 27)."""
    channel = Channel.objects.select_for_update().select_related("resource").get(pk=channel.pk)
    if not can_work_channel(acting_user, channel):
        raise AccessDenied(_("Only the provider's staff may start its channels."))
    if not has_valid_pass(ASSESSMENT_KIND, channel.pk):
        raise DomainError(
            _("A channel can be activated only while it holds a valid security assessment pass.")
        )
    if channel.resource.published_version_id is None or channel.resource.retired_at:
        raise DomainError(_("Only a published resource can receive data."))
    missing = channel_kinds.missing_settings(channel)
    if missing:
        raise DomainError(
            _("Fill in before activating: %(fields)s.") % {"fields": "、".join(map(str, missing))}
        )
    # The resource's table is made by the first load, in the worker: the web's database role
    # makes no table (security/dbroles.py).
    channel.state = Channel.State.ACTIVE
    channel.next_run_at = next_run_after(channel, timezone.now())
    audited_save(channel, acting_user=acting_user, reason="activate")
    return channel


@transaction.atomic
def channel_suspend(*, channel: Channel, acting_user: User, reason: str = "") -> Channel:
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if not (can_work_channel(acting_user, channel) or is_security_admin(acting_user)):
        raise AccessDenied(_("You may not suspend this channel."))
    channel.state = Channel.State.SUSPENDED
    channel.next_run_at = None
    audited_save(channel, acting_user=acting_user, reason=("suspend: " + reason)[:100])
    return channel


@transaction.atomic
def channel_suspend_on_expiry(*, channel: Channel) -> Channel:
    """The platform suspends a channel whose security assessment ran out (called by the daily
    assessment job through the hook registered in assessments.py)."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if channel.state == Channel.State.ACTIVE:
        channel.state = Channel.State.SUSPENDED
        channel.next_run_at = None
        audited_save(channel, acting_user=None, reason="suspend: security assessment expired")
    return channel


def _token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def channel_token_rotate(*, channel: Channel, acting_user: User) -> str:
    """Issue a new push token (shown once; only its digest is kept). The old one stops
    working at once."""
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    if not can_work_channel(acting_user, channel):
        raise AccessDenied(_("Only the provider's staff may issue tokens for its channels."))
    if channel.kind != ChannelKind.PUSH:
        raise DomainError(_("Only push channels use tokens."))
    token = f"pdr_{channel.pk}_{secrets.token_urlsafe(32)}"
    channel.token_hash = _token_digest(token)
    audited_save(channel, acting_user=acting_user, reason="token issued")
    return token


def channel_for_token(token: str) -> Channel | None:
    """The push channel a token opens, or None."""
    if not token or len(token) > 200:
        return None
    return (
        Channel.objects.select_related("resource")
        .filter(kind=ChannelKind.PUSH, token_hash=_token_digest(token))
        .first()
    )


# --- Batches -------------------------------------------------------------------------------


def batch_mode_for(resource: Resource, requested: str | None = None) -> str:
    """Incremental when the resource is declared to update incrementally and has key items
    and an update flag (Art. 16; the catalog's rules require both for that declaration),
    full otherwise. A full reload may always be asked for."""
    if requested == Batch.Mode.FULL:
        return Batch.Mode.FULL
    version = resource.published_version
    if version is None or version.update_mode != UpdateMode.INCREMENTAL:
        return Batch.Mode.FULL
    columns = published_columns(resource)
    if any(c.update_flag for c in columns) and any(c.key for c in columns):
        return Batch.Mode.INCREMENTAL
    return Batch.Mode.FULL


def _check_can_load(channel: Channel) -> None:
    if channel.state != Channel.State.ACTIVE:
        raise DomainError(_("The channel is not active."))


RUN_KINDS = (ChannelKind.API_PULL, ChannelKind.DB_EXTRACT)
BUSY = "busy"


def _check_not_busy(channel: Channel, *, excluding=None) -> None:
    """One run at a time per pull or extraction channel: refuse another while a batch of the
    channel waits or loads. The caller holds the channel's row lock (SELECT ... FOR UPDATE),
    so two requests at once are checked one after the other, and the second sees the first's
    batch once the first commits."""
    busy = Batch.objects.filter(channel=channel, status__in=[B.PENDING, B.RUNNING])
    if excluding is not None:
        busy = busy.exclude(pk=excluding.pk)
    other = busy.order_by("created_at").only("pk", "status", "created_at").first()
    if other is not None:
        raise DomainError(
            _(
                "A run of this channel has not ended yet (batch %(batch)s, %(state)s, created "
                "%(when)s): wait for it to end before starting another."
            )
            % {
                "state": other.get_status_display(),
                "batch": str(other.pk)[:8],
                "when": timezone.localtime(other.created_at).strftime("%Y-%m-%d %H:%M:%S"),
            },
            code=BUSY,
        )


def _enqueue(batch: Batch, acting_user=None) -> Batch:
    job = job_enqueue(
        task_name="aggregation.run_batch",
        kwargs={"batch_id": str(batch.pk)},
        acting_user=acting_user,
    )
    Batch.objects.filter(pk=batch.pk).update(job=job)
    batch.job = job
    return batch


def batch_enqueue(batch: Batch, acting_user=None) -> Batch:
    """Queue the load of a batch once the caller's transaction commits (push commit)."""
    return _enqueue(batch, acting_user)


MAX_UPLOAD_BYTES = getattr(settings, "AGGREGATION_UPLOAD_MAX_BYTES", 1024 * 1024 * 1024)
MAX_XLSX_INFLATED = 1024 * 1024 * 1024
MAX_XLSX_RATIO = 100


def _check_upload(uploaded, name: str) -> None:
    size = getattr(uploaded, "size", None) or 0
    if size > MAX_UPLOAD_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)d MB.") % {"mb": MAX_UPLOAD_BYTES // (1024 * 1024)},
            field="file",
        )
    if size == 0:
        raise DomainError(_("The file is empty."), field="file")
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".txt", ".xlsx"):
        raise DomainError(_("Upload a CSV (.csv) or Excel (.xlsx) file."), field="file")
    head = uploaded.read(8192)
    uploaded.seek(0)
    if suffix == ".xlsx":
        try:
            inspect_workbook(
                uploaded, name=name, max_inflated=MAX_XLSX_INFLATED, max_ratio=MAX_XLSX_RATIO
            )
        except WorkbookRefused as exc:
            raise DomainError(exc.message, field="file") from exc
    elif b"\x00" in head:
        raise DomainError(_("The file is not a text CSV file."), field="file")


@transaction.atomic
def batch_upload(
    *, channel: Channel, uploaded, acting_user: User, mode: str | None = None
) -> Batch:
    """Receive a file for a file channel and queue its load."""
    channel = Channel.objects.select_for_update().select_related("resource").get(pk=channel.pk)
    if not can_work_channel(acting_user, channel):
        raise AccessDenied(_("Only the provider's staff may upload data."))
    if channel.kind != ChannelKind.FILE:
        raise DomainError(_("This channel does not take files."))
    _check_can_load(channel)
    name = Path(getattr(uploaded, "name", "") or "upload.csv").name[:255]
    _check_upload(uploaded, name)
    batch = Batch(
        channel=channel,
        mode=batch_mode_for(channel.resource, mode),
        status=B.PENDING,
        source_name=name,
        bytes_received=getattr(uploaded, "size", 0) or 0,
        triggered_by=acting_user,
    )
    channel_kinds.keep_file(
        batch.source_file,
        f"{channel.pk}-{secrets.token_hex(4)}{Path(name).suffix.lower()}",
        uploaded,
        resource=channel.resource,
    )
    batch.save()
    return _enqueue(batch, acting_user)


@transaction.atomic
def batch_start(
    *,
    channel: Channel,
    acting_user: User | None = None,
    mode: str | None = None,
    scheduled: bool = False,
) -> Batch:
    """Start a run of a pull or extraction channel (by hand, or on schedule when
    `acting_user` is None). A scheduled run inside a planned downtime window is recorded as
    skipped."""
    channel = Channel.objects.select_for_update().select_related("resource").get(pk=channel.pk)
    if acting_user is not None and not can_work_channel(acting_user, channel):
        raise AccessDenied(_("Only the provider's staff may start a run."))
    if channel.kind not in RUN_KINDS:
        raise DomainError(_("Runs of this channel start when data arrives."))
    _check_can_load(channel)
    _check_not_busy(channel)
    now = timezone.now()
    batch = Batch(
        channel=channel, mode=batch_mode_for(channel.resource, mode), triggered_by=acting_user
    )
    window = in_planned_window(channel, now) if scheduled else None
    if window is not None:
        batch.status = B.SKIPPED
        batch.error = _("Planned downtime until %(end)s: %(what)s") % {
            "end": timezone.localtime(window.ends_at).strftime("%Y-%m-%d %H:%M"),
            "what": window.description[:200],
        }
        batch.finished_at = now
    batch.save()
    if scheduled:
        channel.next_run_at = next_run_after(channel, now)
        channel.save(update_fields=["next_run_at"])
    if batch.status == B.SKIPPED:
        return batch
    return _enqueue(batch, acting_user)


def _progress_key(batch_id) -> str:
    return f"aggregation:batch:{batch_id}:progress"


def batch_progress(batch: Batch) -> int:
    """Progress (0-100) of a batch: live from the worker while it loads."""
    if batch.status in (B.SUCCEEDED, B.FAILED, B.SKIPPED, B.HELD, B.DISCARDED):
        return 100
    if batch.status != B.RUNNING:
        return 0
    return int(cache.get(_progress_key(batch.pk)) or 0)


def _recipients_for_failure(channel: Channel):
    return User.objects.filter(
        organization_id=channel.resource.provider_id,
        is_active=True,
        groups__name__in=[Role.AGENCY_STAFF, Role.AGENCY_ADMIN],
    ).distinct()


def _fail(
    batch_id, message: str, row_errors=None, rejected: int = 0, received: int | None = None
) -> Batch:
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update().select_related("channel__resource").get(pk=batch_id)
        )
        if received is not None:
            batch.rows_received = received
        batch.status = B.FAILED
        batch.error = message[:4000]
        batch.row_errors = (row_errors or [])[:1000]
        batch.rows_rejected = rejected
        batch.rows_inserted = batch.rows_updated = 0
        batch.finished_at = timezone.now()
        batch.save()
        channel = batch.channel
        notify(
            recipients=_recipients_for_failure(channel),
            title=_("Loading into %(resource)s failed") % {"resource": channel.resource.code},
            body=message[:500],
            url=reverse("aggregation:batch-detail", args=[batch.pk]),
        )
    cache.delete(_progress_key(batch_id))
    return batch


def _locate_pushed_rows(errors: list[dict], source) -> list[dict]:
    """Name a pushed batch's bad rows by chunk and row within the chunk (the spool's row
    numbers mean nothing to the sender). Other batches' errors are returned as they are."""
    origins = getattr(source, "origins", None)
    if not origins or not errors:
        return errors
    starts = [start for _number, start in origins]
    located = []
    for error in errors:
        row = error.get("row")
        if isinstance(row, int) and row >= 2:
            index = row - 2  # the spool's header is row 1
            at = bisect.bisect_right(starts, index) - 1
            if at >= 0:
                number, start = origins[at]
                error = {**error, "chunk": number, "row": index - start + 1}
        located.append(error)
    return located


def _resource_lock_key(resource_id: int) -> int:
    # One namespace for the datastore's per-resource locks (see kernel.jobs for job locks).
    return (0x5044 << 32) | int(resource_id)


def batch_run(*, batch_id) -> Batch:
    """Load a batch (in the worker). Idempotent: a batch that finished is left alone; one left
    running by a killed worker is loaded again from its source. Loading never touches the
    live table until its last step, inside one transaction."""
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update().select_related("channel__resource").get(pk=batch_id)
        )
        if batch.status not in (B.PENDING, B.RUNNING):
            return batch
        batch.status = B.RUNNING
        batch.started_at = timezone.now()
        batch.finished_at = None
        batch.attempts = F("attempts") + 1
        if batch.channel.kind != ChannelKind.PUSH:  # a push batch counted its rows at commit
            batch.rows_received = 0
        batch.rows_inserted = batch.rows_updated = batch.rows_rejected = 0
        batch.row_errors = []
        batch.error = ""
        batch.save()
        batch.refresh_from_db()
    channel = batch.channel
    key = _progress_key(batch.pk)

    def progress(pct: int) -> None:
        cache.set(key, pct, timeout=24 * 3600)

    progress(1)
    workdir = Path(tempfile.mkdtemp(prefix=f"batch-{batch.pk}-", dir=_work_root()))
    source = None
    try:
        table = datastore_ensure(resource=channel.resource)
        if table.pending_changes:
            raise LoadRefused(
                _(
                    "The resource's items changed in a way that needs a confirmed change of its "
                    "table before data can be loaded."
                )
            )
        if batch.hold_decision == CONFIRMED and channel.kind in RUN_KINDS and batch.source_file:
            # A confirmed pull or extraction loads the rows that were shown, kept at the hold.
            source = channel_kinds.fetch_file(batch, workdir, progress=progress)
        else:
            source = channel_kinds.fetch(batch, workdir, progress=progress)
        reject_path = workdir / "rejects.csv"
        with transaction.atomic(), statement_cancelled_on_time_limit():
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT pg_advisory_xact_lock(%s)", [_resource_lock_key(channel.resource_id)]
                )
            table = DatastoreTable.objects.select_for_update().get(pk=table.pk)
            result = load_csv(
                table_name=table.table_name,
                schema=table.schema,
                columns=table_columns(table),
                source=source,
                mode=batch.mode,
                mapping=channel.column_mapping,
                allow_reject=channel.allow_reject_file,
                reject_path=reject_path,
                progress=progress,
                previous_rows=table.row_count if table.last_loaded_at else None,
                previous_watermark=channel.watermark,
                shrink_hold=_shrink_hold_for(batch),
            )
            now = timezone.now()
            batch.status = B.SUCCEEDED
            batch.rows_received = result.received
            batch.rows_inserted = result.inserted
            batch.rows_updated = result.updated
            batch.rows_rejected = result.rejected
            batch.row_errors = _locate_pushed_rows(result.row_errors[:1000], source)
            batch.watermark_before = channel.watermark
            batch.watermark_after = result.watermark
            batch.bytes_received = batch.bytes_received or source.size
            batch.rows_before = result.rows_before
            if result.rows_before is not None:
                batch.rows_after = result.table_rows
            batch.finished_at = now
            if result.reject_csv is not None:
                with result.reject_csv.open("rb") as f:
                    channel_kinds.keep_file(
                        batch.reject_file, f"{batch.pk}.csv", File(f), resource=channel.resource
                    )
            batch.save()
            Channel.objects.filter(pk=channel.pk).update(watermark=result.watermark)
            DatastoreTable.objects.filter(pk=table.pk).update(
                row_count=result.table_rows, last_loaded_at=now, last_batch=batch
            )
            # Check the new data: the quality run is queued and sent when this commits.
            from .quality.services import quality_run_after_batch

            quality_run_after_batch(batch=batch)
            after_load(batch=batch)  # other chapters' follow-up work (open-data files)
        cache.delete(key)
        return batch
    except ShrinkHeld as exc:
        return _hold(batch.pk, exc, source)
    except LoadRefused as exc:
        errors = _locate_pushed_rows(exc.row_errors, source)
        message = exc.message
        if source is not None and source.origins and exc.rejected and errors:
            first = errors[0]
            message = _(
                "%(n)d pushed rows are bad, for example chunk %(chunk)s, row %(row)s, %(column)s: "
                "%(message)s. Nothing was loaded."
            ) % {"n": exc.rejected, **first}
        return _fail(batch.pk, message, errors, exc.rejected, exc.received)
    except channel_kinds.SourceUnavailable as exc:
        return _fail(batch.pk, str(exc))
    except SoftTimeLimitExceeded:
        # The load's transaction was rolled back: the table keeps its previous rows.
        db_cancel_running_statement()
        db_drop_connection_if_broken()
        logger.error("batch %s stopped at its time limit", batch.pk)
        return _fail(batch.pk, _load_time_limit_message())
    except Exception as exc:
        logger.exception("batch %s failed", batch.pk)
        return _fail(batch.pk, _("The load failed: %(error)s") % {"error": str(exc)[:500]})
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- Full loads that would shrink a table ------------------------------------------------------

CONFIRMED = "confirmed"
DISCARDED = "discarded"


def shrink_hold_settings() -> tuple[float, int]:
    """(ratio, min_rows): a full load that would remove more than `ratio` of the rows of a
    table of at least `min_rows` rows waits for the provider's confirmation."""
    ratio = float(getattr(settings, "AGGREGATION_SHRINK_HOLD_RATIO", 0.5))
    min_rows = int(getattr(settings, "AGGREGATION_SHRINK_HOLD_MIN_ROWS", 10))
    return ratio, min_rows


def _shrink_hold_for(batch: Batch):
    """What `load_csv` is told to hold: None for incremental loads or when the ratio is 1 or
    more (never held). A confirmed batch is held again only if the table now holds more rows
    than the provider was shown when confirming (more would be lost than was agreed)."""
    ratio, min_rows = shrink_hold_settings()
    if batch.mode != Batch.Mode.FULL or ratio >= 1:
        return None
    if batch.hold_decision == CONFIRMED and batch.rows_before is not None:
        return (ratio, max(min_rows, batch.rows_before + 1))
    return (ratio, min_rows)


def _hold(batch_id, exc: ShrinkHeld, source) -> Batch:
    """Record a full load that would shrink the table past the threshold. Nothing of the
    table changed. A run started by a person (an upload, a push, a run by hand) waits for
    the provider's confirmation, its source kept; a scheduled run is refused. Either way
    the provider is told."""
    with transaction.atomic():
        batch = (
            Batch.objects.select_for_update().select_related("channel__resource").get(pk=batch_id)
        )
        channel = batch.channel
        ratio, _min_rows = shrink_hold_settings()
        counts = {
            "before": exc.rows_before,
            "after": exc.rows_after,
            "lost": exc.rows_before - exc.rows_after,
            "pct": round(ratio * 100),
        }
        batch.rows_received = exc.received
        batch.rows_rejected = exc.rejected
        batch.rows_inserted = batch.rows_updated = 0
        batch.rows_before = exc.rows_before
        batch.rows_after = exc.rows_after
        batch.finished_at = timezone.now()
        scheduled = channel.kind in RUN_KINDS and batch.triggered_by_id is None
        if scheduled:
            batch.status = B.FAILED
            batch.error = (
                _(
                    "Refused: this full load would replace the %(before)d rows of the table "
                    "with %(after)d rows, removing %(lost)d (more than %(pct)d%%). A "
                    "scheduled run does not do that on its own, so nothing was changed. If "
                    "the source really holds fewer rows now, run the channel by hand and "
                    "confirm the load."
                )
                % counts
            )
            title = _("A scheduled load into %(resource)s was refused: the table would shrink")
        else:
            if channel.kind in RUN_KINDS and source is not None and not batch.source_file:
                # Keep the fetched rows: a confirmation loads exactly what was shown.
                with Path(source.path).open("rb") as f:
                    channel_kinds.keep_file(
                        batch.source_file,
                        f"{channel.pk}-held-{secrets.token_hex(4)}.csv",
                        File(f),
                        resource=channel.resource,
                    )
            batch.status = B.HELD
            batch.error = ""
            title = _("A load into %(resource)s awaits your confirmation: the table would shrink")
        batch.save()
        notify(
            recipients=_recipients_for_failure(channel),
            title=title % {"resource": channel.resource.code},
            body=(
                _(
                    "The full load would replace the %(before)d rows of the table with "
                    "%(after)d rows (%(lost)d fewer). The table keeps its rows until the "
                    "load is confirmed."
                )
                % counts
            ),
            url=reverse("aggregation:batch-detail", args=[batch.pk]),
        )
    cache.delete(_progress_key(batch_id))
    return batch


def _lock_held(batch: Batch, acting_user: User) -> tuple[Channel, Batch]:
    channel = (
        Channel.objects.select_for_update().select_related("resource").get(pk=batch.channel_id)
    )
    batch = Batch.objects.select_for_update().select_related("channel__resource").get(pk=batch.pk)
    if not can_work_channel(acting_user, batch.channel):
        raise AccessDenied(_("Only the provider's staff may decide on a held batch."))
    return channel, batch


@transaction.atomic
def batch_hold_confirm(*, batch: Batch, acting_user: User) -> Batch:
    """Confirm a held full load: it loads again from its kept source and replaces the table.
    A second confirmation does nothing new."""
    channel, batch = _lock_held(batch, acting_user)
    if batch.status != B.HELD:
        if batch.hold_decision == CONFIRMED:
            return batch
        raise DomainError(_("Only a batch awaiting confirmation can be confirmed."))
    _check_can_load(channel)
    later = Batch.objects.filter(
        channel__resource_id=channel.resource_id,
        status=B.SUCCEEDED,
        finished_at__gt=batch.finished_at,
    ).exists()
    if later:
        raise DomainError(
            _(
                "Another batch has been loaded into the table since this one was held: its "
                "rows are out of date. Discard it, and load the data again if needed."
            )
        )
    if channel.kind in RUN_KINDS:
        _check_not_busy(channel, excluding=batch)
    batch.status = B.PENDING
    batch.hold_decision = CONFIRMED
    batch.hold_decided_by = acting_user
    batch.hold_decided_at = timezone.now()
    batch.finished_at = None
    batch.save(
        update_fields=[
            "status",
            "hold_decision",
            "hold_decided_by",
            "hold_decided_at",
            "finished_at",
        ]
    )
    audited_save(
        channel,
        acting_user=acting_user,
        reason=f"held batch confirmed: {str(batch.pk)[:8]}",
        validate=False,
    )
    return _enqueue(batch, acting_user)


@transaction.atomic
def batch_hold_discard(*, batch: Batch, acting_user: User) -> Batch:
    """Discard a held full load: the table keeps its rows. A second discard does nothing."""
    channel, batch = _lock_held(batch, acting_user)
    if batch.status != B.HELD:
        if batch.hold_decision == DISCARDED:
            return batch
        raise DomainError(_("Only a batch awaiting confirmation can be discarded."))
    batch.status = B.DISCARDED
    batch.hold_decision = DISCARDED
    batch.hold_decided_by = acting_user
    batch.hold_decided_at = timezone.now()
    batch.save(update_fields=["status", "hold_decision", "hold_decided_by", "hold_decided_at"])
    audited_save(
        channel,
        acting_user=acting_user,
        reason=f"held batch discarded: {str(batch.pk)[:8]}",
        validate=False,
    )
    return batch


# --- Batches whose job was lost ------------------------------------------------------------


def batch_waiting_info(batch: Batch, *, now: dt.datetime | None = None) -> dict | None:
    """For a waiting batch: how long it has waited, when the outbox sweep sends its job
    again, and whether the provider may send it again by hand. None for other batches."""
    if batch.status != B.PENDING:
        return None
    now = now or timezone.now()
    resend_after = settings.BACKGROUND_JOB_RESEND_AFTER
    sweep = settings.CELERY_BEAT_SCHEDULE.get("kernel.sweep_background_jobs", {}).get(
        "schedule", dt.timedelta(minutes=1)
    )
    sweep = sweep if isinstance(sweep, dt.timedelta) else dt.timedelta(minutes=1)
    job = batch.job
    queued_at = job.created_at if job is not None else batch.created_at
    since = max(queued_at, batch.resent_at or queued_at)
    if job is not None and job.state == job.State.PENDING:
        last = job.last_sent_at or job.created_at
        next_send = max(last + resend_after, now) + sweep
    else:
        next_send = None  # no job to sweep (lost, or ended without running the batch)
    retry_after = batch_retry_waiting_after()
    return {
        "since": since,
        "queued_at": queued_at,
        "waited": now - queued_at,
        "next_send": next_send,
        "job_state": job.state if job is not None else "",
        "may_resend": now - since >= retry_after,
        "resend_at": since + retry_after,
        "resent_at": batch.resent_at,
    }


def batch_retry_waiting_after() -> dt.timedelta:
    value = getattr(settings, "AGGREGATION_BATCH_RESEND_AFTER", dt.timedelta(minutes=15))
    return value if isinstance(value, dt.timedelta) else dt.timedelta(seconds=int(value))


@transaction.atomic
def batch_resend(*, batch: Batch, acting_user: User) -> Batch:
    """Send a batch that has waited past `AGGREGATION_BATCH_RESEND_AFTER` to the workers again
    (its job lost: a broker restarted, a queue emptied). Its job is sent again, or a new one
    is queued when the old one ended or is gone. De-duplicated: a second request before the
    next waiting period is over does nothing new."""
    channel = Channel.objects.select_for_update().get(pk=batch.channel_id)
    batch = (
        Batch.objects.select_for_update(of=("self",))
        .select_related("channel", "job")
        .get(pk=batch.pk)
    )
    if not can_work_channel(acting_user, batch.channel):
        raise AccessDenied(_("Only the provider's staff may send a batch again."))
    if batch.status != B.PENDING:
        if batch.resent_at is not None:
            return batch  # it has started since (a second click)
        raise DomainError(_("Only a waiting batch can be sent again."))
    info = batch_waiting_info(batch)
    if not info["may_resend"]:
        if batch.resent_at is not None:
            return batch  # sent again a moment ago (a second click)
        raise DomainError(
            _("The batch can be sent again from %(when)s.")
            % {"when": timezone.localtime(info["resend_at"]).strftime("%Y-%m-%d %H:%M")}
        )
    _check_can_load(channel)
    batch.resent_at = timezone.now()
    batch.save(update_fields=["resent_at"])
    job = batch.job
    if job is None or job.state in (job.State.DONE, job.State.FAILED):
        return _enqueue(batch, acting_user)
    transaction.on_commit(lambda: job_send(job_id=job.pk))
    return batch


def _load_time_limit_message() -> str:
    minutes = round((soft_time_limit_of("aggregation.run_batch") or 0) / 60, 1)
    return _(
        "The load ran longer than its time limit of %(minutes)s minutes and was stopped; "
        "the table keeps its previous data. Load a smaller batch, or ask the administrator "
        "to raise AGGREGATION_LOAD_SOFT_TIME_LIMIT."
    ) % {"minutes": minutes}


def _work_root() -> str:
    root = Path(getattr(settings, "AGGREGATION_WORK_DIR", Path(settings.MEDIA_ROOT) / "work"))
    root.mkdir(parents=True, exist_ok=True)
    return str(root)


@transaction.atomic
def batch_retry(*, batch: Batch, acting_user: User) -> Batch:
    """Run a failed batch again from its source (a file channel keeps its file)."""
    # The channel's row lock first (as batch_start takes it), then the batch's.
    channel = Channel.objects.select_for_update().get(pk=batch.channel_id)
    batch = Batch.objects.select_for_update().select_related("channel__resource").get(pk=batch.pk)
    if not can_work_channel(acting_user, batch.channel):
        raise AccessDenied(_("Only the provider's staff may retry a batch."))
    if batch.status != B.FAILED:
        raise DomainError(_("Only a failed batch can be run again."))
    if batch.channel.kind == ChannelKind.PUSH and not batch.chunks.exists():
        raise DomainError(_("The pushed rows of this batch are gone; push them again."))
    _check_can_load(batch.channel)
    if channel.kind in RUN_KINDS:
        _check_not_busy(channel, excluding=batch)
    batch.status = B.PENDING
    fields = ["status"]
    if batch.triggered_by_id is None and channel.kind in RUN_KINDS:
        # A person runs it now: a full load that would shrink the table waits for their
        # confirmation instead of being refused as a scheduled one is.
        batch.triggered_by = acting_user
        fields.append("triggered_by")
    batch.save(update_fields=fields)
    return _enqueue(batch, acting_user)


def batch_files_purge(*, now: dt.datetime | None = None) -> int:
    """Daily (beat): delete the stored upload and reject files of batches that ended more
    than `AGGREGATION_KEEP_FILES_DAYS` ago (their rows are in the datastore; the batch
    record with its counts and bad-row list stays). Returns how many batches lost files."""
    now = now or timezone.now()
    days = getattr(settings, "AGGREGATION_KEEP_FILES_DAYS", 90)
    old = (
        Batch.objects.filter(
            status__in=[B.SUCCEEDED, B.FAILED, B.SKIPPED, B.DISCARDED],
            finished_at__lt=now - dt.timedelta(days=days),
        )
        .exclude(source_file="", reject_file="")
        .only("pk", "source_file", "reject_file")
    )
    purged = 0
    for batch in old.iterator(chunk_size=200):
        for field in (batch.source_file, batch.reject_file):
            if field:
                field.delete(save=False)  # the file in storage; the name is cleared below
        Batch.objects.filter(pk=batch.pk).update(source_file="", reject_file="")
        purged += 1
    return purged


def schedule_due_channels(*, now: dt.datetime | None = None) -> int:
    """Start every scheduled channel whose time has come (beat, every minute). Returns the
    number of batches created (skipped ones included)."""
    now = now or timezone.now()
    due = Channel.objects.filter(
        state=Channel.State.ACTIVE,
        kind__in=[ChannelKind.API_PULL, ChannelKind.DB_EXTRACT],
        next_run_at__lte=now,
    ).exclude(schedule=Schedule.MANUAL)
    started = 0
    for channel in due.only("pk"):
        try:
            batch_start(channel=channel, scheduled=True)
            started += 1
        except DomainError as exc:
            logger.warning("channel %s not started: %s", channel.pk, exc)
            if exc.code == BUSY:
                # The previous run is still waiting or loading: skip this turn, do not pile up.
                channel = Channel.objects.select_related("resource").get(pk=channel.pk)
                Channel.objects.filter(pk=channel.pk).update(
                    next_run_at=next_run_after(channel, now)
                )
    return started


# --- Datastore schema changes --------------------------------------------------------------


ZONE_MOVE_CONFIRMED = gettext_noop("Move to another storage zone confirmed")


def _zone_move_record(table: DatastoreTable, move: tuple[str, str], acting_user: User) -> None:
    """Record who confirmed the table's move (its history and the audit log)."""
    table.zone_move_to = move[1]
    table.zone_move_confirmed_by = acting_user
    table.zone_move_confirmed_at = timezone.now()
    audited_save(table, acting_user=acting_user, reason=ZONE_MOVE_CONFIRMED, validate=False)
    audit.record(
        "datastore.zone_move_confirmed",
        actor=acting_user,
        obj=table,
        details={
            "resource": table.resource.code,
            "from": move[0],
            "to": move[1],
            "downgrade": is_downgrade(*move),
        },
    )


def _table_for_confirmation(resource: Resource) -> DatastoreTable | None:
    """The resource's table, its row locked for the confirmation; a page never waits for a
    load or a rebuild holding it: the user is asked to try again."""
    try:
        with transaction.atomic():
            return (
                DatastoreTable.objects.select_for_update(of=("self",), nowait=True)
                .select_related("resource")
                .filter(resource=resource)
                .first()
            )
    except DatabaseError as exc:
        raise DomainError(
            _("The table is being loaded or rebuilt; confirm again when that has finished."),
            field="confirm",
        ) from exc


def _rebuild_enqueue(resource: Resource, acting_user: User):
    return job_enqueue(
        task_name="aggregation.datastore_rebuild",
        kwargs={"resource_id": resource.pk, "user_id": acting_user.pk},
        acting_user=acting_user,
    )


@observe_refusals("datastore.confirm_changes", object_arg="resource")
def datastore_confirm_changes(*, resource: Resource, confirm: bool, acting_user: User):
    """The user confirmed that the destructive table changes a new version of the items needs
    may lose columns or values: queue the rebuild (`datastore_rebuild`). It runs in the
    worker, whose database role owns the datastore's tables; the web's makes and drops none
    (security/dbroles.py). Returns the job.

    A move to another storage zone among the changes: to a more protected zone the provider
    confirms it here (recorded); to a less protected one the security administrator must
    have confirmed it first (`datastore_zone_move_confirm`)."""
    if not works_for(acting_user, resource.provider_id):
        raise AccessDenied(_("Only the provider's staff may change its tables."))
    if not confirm:
        raise DomainError(_("Confirm that the table may lose columns or data."), field="confirm")
    with transaction.atomic():
        table = _table_for_confirmation(resource)
        move = zone_move_of(table) if table is not None else None
        if move is not None and table.zone_move_to != move[1]:
            if is_downgrade(*move):
                raise DomainError(
                    _(
                        "Moving the table to a less protected storage zone is confirmed by the "
                        "security administrator; the rebuild can be confirmed after that."
                    ),
                    field="confirm",
                )
            _zone_move_record(table, move, acting_user)
        return _rebuild_enqueue(resource, acting_user)


@observe_refusals("datastore.zone_move_confirm", object_arg="resource")
def datastore_zone_move_confirm(*, resource: Resource, confirm: bool, acting_user: User):
    """Confirm the move of the resource's table to the storage zone its grades ask for now: a
    move to a less protected zone by the security administrator only, to a more protected
    one by the security administrator or the provider. Recorded in the table's history and
    the audit log. When the move is the only change waiting, the rebuild is queued at once
    (returned); otherwise the provider confirms the other changes, and is told so."""
    if not (is_security_admin(acting_user) or works_for(acting_user, resource.provider_id)):
        raise AccessDenied(_("Only the security administrator may confirm this move."))
    with transaction.atomic():
        table = _table_for_confirmation(resource)
        move = zone_move_of(table) if table is not None else None
        if move is None:
            raise DomainError(_("No move of the table to another storage zone is waiting."))
        if not may_confirm_zone_move(acting_user, resource, downgrade=is_downgrade(*move)):
            raise AccessDenied(
                _(
                    "Only the security administrator may move a table to a less protected "
                    "storage zone."
                )
            )
        if not confirm:
            raise DomainError(
                _("Confirm that the table moves to the other storage zone."), field="confirm"
            )
        if table.zone_move_to == move[1]:
            return None  # confirmed already: a second confirmation does nothing new
        _zone_move_record(table, move, acting_user)
        from .selectors import table_pending_changes

        others = [c for c in table_pending_changes(table, resource) if c["action"] != "zone"]
        if not others:
            return _rebuild_enqueue(resource, acting_user)
        channel = Channel.objects.filter(resource=resource).select_related("resource").first()
        if channel is not None:
            notify(
                recipients=[u for u in _recipients_for_failure(channel) if u.pk != acting_user.pk],
                title=_("The move of the table of %(resource)s to another zone was confirmed")
                % {"resource": resource.code},
                body=_("Confirm the other changes of the table so that it is rebuilt."),
                url=reverse("aggregation:channel-detail", args=[channel.pk]),
            )
        return None


def datastore_rebuild(*, resource_id: int, user_id: int) -> DatastoreTable | None:
    """The job of `datastore_confirm_changes`: apply the confirmed changes (one transaction,
    under the resource's load lock) and tell the user how it went. The durable job runs it
    once (kernel/jobs.py)."""
    from .datastore import datastore_apply_pending

    resource = Resource.objects.get(pk=resource_id)
    user = User.objects.get(pk=user_id)
    channel = Channel.objects.filter(resource=resource).order_by("pk").first()
    url = reverse("aggregation:channel-detail", args=[channel.pk]) if channel else ""
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", [_resource_lock_key(resource.pk)])
            table = datastore_apply_pending(resource=resource, confirm=True)
            audited_save(table, acting_user=user, reason="schema change confirmed", validate=False)
    except DomainError as exc:
        notify(
            recipients=[user],
            title=_("The table of %(resource)s was not rebuilt") % {"resource": resource.code},
            body=str(exc.message)[:500],
            url=url,
        )
        return None
    notify(
        recipients=[user],
        title=_("The table of %(resource)s was rebuilt in the new shape")
        % {"resource": resource.code},
        body="",
        url=url,
    )
    return table


# --- Downtime reports ------------------------------------------------------------------------


@transaction.atomic
def downtime_report_create(
    *, information_system, kind: str, starts_at, ends_at, description: str, acting_user: User
) -> DowntimeReport:
    """Report a planned window or an unplanned outage of one of the agency's systems."""
    if not can_report_downtime(acting_user, information_system):
        raise AccessDenied(_("Only the system's agency may report its downtime."))
    if ends_at <= starts_at:
        raise DomainError(_("The end must come after the start."), field="ends_at")
    if kind != DowntimeReport.Kind.OUTAGE and starts_at < timezone.now() - dt.timedelta(hours=1):
        raise DomainError(_("Planned downtime is reported before it starts."), field="starts_at")
    report = DowntimeReport(
        information_system=information_system,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        description=description,
        reported_by=acting_user,
    )
    audited_save(report, acting_user=acting_user, reason="report")
    return report


@transaction.atomic
def downtime_report_end(*, report: DowntimeReport, acting_user: User) -> DowntimeReport:
    """End a window that is under way now (the system is back earlier than reported): its end
    becomes now, so the status page and the schedule see the system as available again."""
    report = DowntimeReport.objects.select_for_update().get(pk=report.pk)
    if not can_report_downtime(acting_user, report.information_system):
        raise AccessDenied(_("Only the system's agency may end its downtime."))
    now = timezone.now()
    if report.cancelled_at is not None or not (report.starts_at <= now < report.ends_at):
        raise DomainError(_("Only a window that is under way can be ended."))
    report.ends_at = now
    audited_save(report, acting_user=acting_user, reason=_("Ended: the system is back"))
    return report


@transaction.atomic
def downtime_report_cancel(*, report: DowntimeReport, acting_user: User) -> DowntimeReport:
    report = DowntimeReport.objects.select_for_update().get(pk=report.pk)
    if not can_report_downtime(acting_user, report.information_system):
        raise AccessDenied(_("Only the system's agency may cancel its report."))
    if report.cancelled_at is not None:
        raise DomainError(_("The report is already cancelled."))
    if report.ends_at <= timezone.now():
        raise DomainError(_("A window that has ended cannot be cancelled."))
    report.cancelled_at = timezone.now()
    audited_save(report, acting_user=acting_user, reason="cancel")
    return report
