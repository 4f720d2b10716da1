"""Reads of the aggregation pages: channels, batches, the datastore preview, the aggregation
board (Art. 15), downtime windows (Art. 10) and the work queues. Every list is restricted to
what the user may see (aggregation.permissions) and keeps a constant query count.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.filing.models import InformationSystem
from catalog.models import Resource, UpdateCycle
from security import zones
from security.assessments.selectors import assessed_exists, valid_pass_exists
from security.masking import mask_row
from security.models import Grade
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.cursors import AFTER, BEFORE, CursorScope, cursor_issue, cursor_open
from wuhan_pdr.kernel.errors import DomainError

from .datastore import (
    Column,
    columns_for,
    masking_rules,
    read_columns,
    read_functions_current,
    read_functions_refresh,
    table_columns,
)
from .models import Batch, Channel, DatastoreTable, DowntimeReport, SourceKind
from .permissions import channels_visible_to, sees_all_channels, works_for

# --- channels -------------------------------------------------------------------------------


def channel_list(
    user,
    *,
    q: str = "",
    agency: Organization | None = None,
    kind: str = "",
    state: str = "",
    source_kind: str = "",
) -> QuerySet[Channel]:
    """The channels `user` may see, filtered, each with its latest batch's status and time."""
    qs = channels_visible_to(user)
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(resource__code__icontains=q)
            | Q(resource__published_version__name__icontains=q)
        )
    if agency is not None:
        qs = qs.filter(resource__provider=agency)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    if source_kind:
        qs = qs.filter(source_kind=source_kind)
    last = Batch.objects.filter(channel=OuterRef("pk")).order_by("-created_at")
    return (
        qs.select_related("resource__published_version")
        .annotate(
            last_status=Subquery(last.values("status")[:1]),
            last_at=Subquery(last.values("created_at")[:1]),
            assessment_valid=valid_pass_exists("channel"),
        )
        .order_by("resource__provider__name", "resource__code", "name")
    )


def agencies_with_channels() -> QuerySet[Organization]:
    return (
        Organization.objects.filter(resources__channels__isnull=False).distinct().order_by("name")
    )


def resources_for_channel(user) -> QuerySet[Resource]:
    """Published, current resources of the user's agency (where a channel can be set up)."""
    if not works_for(user, user.organization_id):
        return Resource.objects.none()
    return (
        Resource.objects.filter(
            provider_id=user.organization_id,
            published_version__isnull=False,
            retired_at__isnull=True,
        )
        .select_related("published_version")
        .order_by("code")
    )


def systems_of(organization_id) -> QuerySet[InformationSystem]:
    return InformationSystem.objects.filter(organization_id=organization_id).order_by("name")


def channel_batches(channel: Channel) -> QuerySet[Batch]:
    return channel.batches.select_related("triggered_by", "job").order_by("-created_at")


@dataclass
class ChartPoint:
    batch: Batch
    rows: int
    seconds: float
    x: float = 0
    rows_y: float = 0
    seconds_y: float = 0


@dataclass
class Chart:
    points: list[ChartPoint] = field(default_factory=list)
    max_rows: int = 0
    max_seconds: float = 0
    width: int = 720
    height: int = 180
    bar_width: float = 0
    seconds_path: str = ""


def batch_chart(channel: Channel, *, last: int = 30) -> Chart:
    """Rows loaded (bars) and durations (line) of the channel's last finished batches, oldest
    first, scaled to an SVG drawn by the template (no script needed)."""
    batches = list(
        channel.batches.filter(finished_at__isnull=False, started_at__isnull=False)
        .exclude(status=Batch.Status.SKIPPED)
        .order_by("-created_at")[:last]
    )[::-1]
    chart = Chart()
    if not batches:
        return chart
    pad, plot_h = 8, chart.height - 16
    points = [
        ChartPoint(
            batch=b,
            rows=b.rows_inserted + b.rows_updated,
            seconds=round(b.duration_seconds or 0, 2),
        )
        for b in batches
    ]
    chart.max_rows = max(p.rows for p in points) or 1
    chart.max_seconds = max(p.seconds for p in points) or 1
    step = (chart.width - 2 * pad) / len(points)
    chart.bar_width = min(max(step * 0.6, 2), 36)
    coords = []
    for i, p in enumerate(points):
        p.x = round(pad + i * step + (step - chart.bar_width) / 2, 1)
        p.rows_y = round(pad + plot_h * (1 - p.rows / chart.max_rows), 1)
        p.seconds_y = round(pad + plot_h * (1 - p.seconds / chart.max_seconds), 1)
        coords.append(f"{p.x + chart.bar_width / 2:.1f},{p.seconds_y:.1f}")
    chart.bar_width = round(chart.bar_width, 1)
    chart.points = points
    chart.seconds_path = "M" + " L".join(coords)
    return chart


def datastore_table(resource: Resource) -> DatastoreTable | None:
    return DatastoreTable.objects.filter(resource=resource).select_related("last_batch").first()


def table_pending_changes(table: DatastoreTable, resource: Resource) -> list[dict]:
    """The destructive changes the resource's published items ask of its table: those
    recorded at the last load, or, when a new version was published since, those it will
    need (read only: the table is changed by the next load or by the confirmed rebuild)."""
    from .datastore import _diff, published_columns, resource_zone, table_zone

    if table.pending_changes:
        return [_labelled(c) for c in table.pending_changes]
    try:
        wanted = published_columns(resource)
    except DomainError:
        return []
    _added, pending = _diff(table_columns(table), wanted)
    zone = resource_zone(resource)
    if zone != table_zone(table):
        pending.append({"action": "zone", "from": table_zone(table), "to": zone})
    return [_labelled(c) for c in pending]


def zone_move_state(table: DatastoreTable, pending: list[dict], user) -> dict | None:
    """What the channel page says of a pending move of the table to another zone: the zones,
    whether it is a downgrade, who confirmed it (if anyone), whether `user` may confirm it,
    and whether the provider's rebuild must wait for the security administrator."""
    from .datastore import is_downgrade
    from .permissions import may_confirm_zone_move

    change = next((c for c in pending if c.get("action") == "zone"), None)
    if change is None:
        return None
    downgrade = is_downgrade(change["from"], change["to"])
    confirmed = table.zone_move_to == change["to"]
    return {
        **change,
        "downgrade": downgrade,
        "confirmed": confirmed,
        "confirmed_by": table.zone_move_confirmed_by if confirmed else None,
        "confirmed_at": table.zone_move_confirmed_at if confirmed else None,
        "can_confirm": not confirmed
        and may_confirm_zone_move(user, table.resource, downgrade=downgrade),
        "waits_for_security": downgrade and not confirmed,
    }


@dataclass(frozen=True)
class ZoneMove:
    table: DatastoreTable
    from_zone: str
    to_zone: str
    downgrade: bool
    confirmed: bool


def pending_zone_moves() -> list[ZoneMove]:
    """Every datastore table whose resource's published grades ask for another storage zone
    than the one it is in (two queries, whatever the number of tables), downgrades first.
    For the security administrator (work queue): the zones, never a row."""
    from catalog.models import DataItem

    from .datastore import is_downgrade, table_zone

    tables = list(
        DatastoreTable.objects.select_related(
            "resource__published_version__grade", "resource__provider"
        )
        .filter(resource__published_version__isnull=False)
        .order_by("resource__code")
    )
    item_zones = defaultdict(list)
    for version_id, zone in (
        DataItem.objects.filter(
            version_id__in=[t.resource.published_version_id for t in tables],
            grade__isnull=False,
        )
        .values_list("version_id", "grade__storage_zone")
        .distinct()
    ):
        item_zones[version_id].append(zone)
    moves = []
    for table in tables:
        version = table.resource.published_version
        grades = [version.grade] + [Grade(storage_zone=z) for z in item_zones[version.pk]]
        want, have = zones.zone_of_grades(grades), table_zone(table)
        if want != have:
            moves.append(
                ZoneMove(
                    table=table,
                    from_zone=have,
                    to_zone=want,
                    downgrade=is_downgrade(have, want),
                    confirmed=table.zone_move_to == want,
                )
            )
    moves.sort(key=lambda m: (not m.downgrade, m.confirmed))
    return moves


def _labelled(change: dict) -> dict:
    """A pending change as the page shows it: a zone move names the zones."""
    if change.get("action") != "zone":
        return change
    labels = dict(Grade.Zone.choices)
    return {
        **change,
        "from_label": labels.get(change["from"], change["from"]),
        "to_label": labels.get(change["to"], change["to"]),
    }


# --- data preview ----------------------------------------------------------------------------

PREVIEW_PAGE = 50


def can_preview(user, resource: Resource) -> bool:
    return works_for(user, resource.provider_id) or sees_all_channels(user)


class PreviewRefused(DomainError):
    """A preview parameter that is not accepted (a filter on a masked column)."""


def preview_scope(table: DatastoreTable, user, ordering: list[str]) -> CursorScope:
    """What a preview cursor is bound to: this table, its generation, its order, the user."""
    return CursorScope(
        table=f"datastore:{table.pk}",
        generation=table.generation,
        ordering=tuple(ordering),
        holder=f"user:{user.pk}",
    )


@dataclass
class PreviewPage:
    columns: list[Column]
    masked: set[str]
    rows: list[list]
    next_cursor: str = ""
    prev_cursor: str = ""
    order_by: list[str] = field(default_factory=list)
    by_ctid: bool = False
    # The "starts with" filter on the first key column; not offered when that column is
    # masked (it would give the masked value away one character at a time).
    can_filter: bool = False
    # The first key column when it is masked (no filter on it; rows in storage order).
    masked_key: str = ""
    headers: list[tuple[Column, str]] = field(default_factory=list)  # (column, its rule's name)


def preview_page(
    table: DatastoreTable,
    *,
    user,
    after: str = "",
    before: str = "",
    prefix: str = "",
    limit: int = PREVIEW_PAGE,
) -> PreviewPage:
    """One page of a datastore table in key order, as `user` may see it (masked columns
    through `security.masking.mask_row`).

    Keyset pagination: `after` / `before` are sealed cursors (kernel/cursors.py) this
    function issued to `user` for the last / first row of the page the reader comes from;
    the key values never leave the server readable, and a reader cannot choose them. A
    tampered, foreign, expired or stale cursor (the table was replaced since) raises a
    `CursorRefused`.

    The order is the primary key. A table without key items is paged by `ctid` (the row's
    physical position): stable between loads, which rewrite the table anyway (and bump its
    generation; such a table takes only full loads, incremental ones need a key). `prefix`
    filters on the first key column's text (a table without key has no prefix filter); on a
    masked column it raises `PreviewRefused`.
    """
    columns = table_columns(table)
    keys = [c for c in columns if c.key]
    masked = masked_columns(table)
    if not read_functions_current(table, masked):
        # Functions from before, or made before the masking changed: remake them where this
        # process may (the worker, the owner of the general zone's tables).
        with contextlib.suppress(Exception), _savepoint():
            read_functions_refresh(table)
    # The read functions mask as they were made; a column whose rule changed since is masked
    # again here by its rule now (never shown less masked than either asks).
    baked = table.read_masked or {}
    extra = {
        name: rule
        for name, rule in masked.items()
        if baked.get(name) != zones.mask_signature(rule.mask)
    }
    by_position = zones.page_uses_position(read_columns(table, baked))
    ordering = ["ctid"] if by_position else [c.name for c in keys]
    can_filter = bool(keys) and keys[0].name not in masked
    if prefix and keys and not can_filter:
        raise PreviewRefused(
            _("The key column %(column)s is masked: rows cannot be filtered by its value.")
            % {"column": keys[0].name},
            field="prefix",
        )
    scope = preview_scope(table, user, ordering)
    cursor = None
    backwards = False
    if after:
        cursor = cursor_open(after, scope=scope, direction=AFTER).values
    elif before:
        cursor = cursor_open(before, scope=scope, direction=BEFORE).values
        backwards = True
    pattern = None
    if prefix and keys:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = escaped + "%"
    try:
        with _savepoint():
            fetched = zones.read_page(
                schema=table.schema,
                table=table.table_name,
                after=list(cursor) if cursor is not None else None,
                backwards=backwards,
                prefix=pattern,
                limit=limit + 1,
            )
    except Exception:  # a stored value that does not cast back to the key's type
        fetched = []
    more = len(fetched) > limit
    fetched = fetched[:limit]
    if backwards:
        fetched.reverse()
    key_index = [len(columns)] if by_position else [columns.index(c) for c in keys]
    page = PreviewPage(
        columns=columns,
        masked=set(masked),
        rows=[],
        order_by=ordering,
        by_ctid=by_position,
        can_filter=can_filter,
        masked_key=keys[0].name if keys and not can_filter else "",
        headers=[(c, masked[c.name].name if c.name in masked else "") for c in columns],
    )
    names = [c.name for c in columns]
    for row in fetched:
        page.rows.append(mask_row(names, row[: len(columns)], extra))
    if fetched:
        first = [fetched[0][i] for i in key_index]
        last_ = [fetched[-1][i] for i in key_index]
        has_prev = (cursor is not None and not backwards) or (backwards and more)
        has_next = (not backwards and more) or backwards
        if has_next:
            page.next_cursor = cursor_issue(last_, scope=scope, direction=AFTER)
        if has_prev:
            page.prev_cursor = cursor_issue(first, scope=scope, direction=BEFORE)
    elif backwards and cursor is not None:
        page.next_cursor = cursor_issue(cursor, scope=scope, direction=AFTER)
    return page


def _savepoint():
    from django.db import transaction

    return transaction.atomic()


def masked_columns(table: DatastoreTable) -> dict:
    """{column: masking rule} of the columns masked in the published version: an item's own
    rule, else the rule of the data element it follows (security.masking)."""
    return masking_rules(table.resource)


# --- the aggregation board (Art. 15) ----------------------------------------------------------

# Data is fresh when the last successful load is no older than the resource's update cycle.
FRESHNESS: dict[str, dt.timedelta] = {
    UpdateCycle.REALTIME: dt.timedelta(days=1),
    UpdateCycle.DAILY: dt.timedelta(days=1),
    UpdateCycle.WEEKLY: dt.timedelta(days=7),
    UpdateCycle.MONTHLY: dt.timedelta(days=31),
    UpdateCycle.QUARTERLY: dt.timedelta(days=92),
    UpdateCycle.YEARLY: dt.timedelta(days=366),
    UpdateCycle.IRREGULAR: dt.timedelta(days=90),
}
FRESHNESS_LEGEND = [
    (UpdateCycle.REALTIME.label, 1),
    (UpdateCycle.DAILY.label, 1),
    (UpdateCycle.WEEKLY.label, 7),
    (UpdateCycle.MONTHLY.label, 31),
    (UpdateCycle.QUARTERLY.label, 92),
    (UpdateCycle.YEARLY.label, 366),
    (UpdateCycle.IRREGULAR.label, 90),
]


@dataclass
class BoardRow:
    key: str
    name: str
    division: str = ""
    catalogued: int = 0
    with_channel: int = 0
    fresh: int = 0
    by_source: dict = field(default_factory=dict)

    @property
    def channel_rate(self) -> int:
        return round(100 * self.with_channel / self.catalogued) if self.catalogued else 0

    @property
    def fresh_rate(self) -> int:
        return round(100 * self.fresh / self.catalogued) if self.catalogued else 0

    @property
    def sources(self) -> list[tuple[str, int]]:
        return [(label, self.by_source.get(value, 0)) for value, label in SourceKind.choices]


# Short column headers for the board (the full label is the header's title).
SOURCE_SHORT = {
    SourceKind.LOCAL: _("Own systems"),
    SourceKind.VERTICAL_RETURN: _("Vertical return"),
    SourceKind.DISTRICT: _("From districts"),
}


def source_columns() -> list[tuple[str, str]]:
    return [(SOURCE_SHORT[value], label) for value, label in SourceKind.choices]


BOARD_SORTS = {
    "name": lambda r: r.name,
    "catalogued": lambda r: -r.catalogued,
    "with_channel": lambda r: -r.with_channel,
    "fresh": lambda r: -r.fresh,
    "fresh_rate": lambda r: -r.fresh_rate,
}


def board_scope(user) -> Q | None:
    """Which providers' rows `user` sees on the board: the bureau (and oversight roles) all,
    a district reviewer the agencies of its district, an agency its own row; None: nothing."""
    if sees_all_channels(user):
        return Q()
    if not (user.is_authenticated and user.organization_id):
        return None
    if has_role(user, Role.DISTRICT_REVIEWER):
        return Q(provider__division_id=user.organization.division_id)
    if works_for(user, user.organization_id):
        return Q(provider_id=user.organization_id)
    return None


def aggregation_board(
    user, *, group: str = "agency", q: str = "", sort: str = "name", now=None
) -> tuple[list[BoardRow], BoardRow]:
    """Per agency (or per district): published resources, those with an active channel, those
    with fresh data (see FRESHNESS), and active channels by source kind. Two queries."""
    scope = board_scope(user)
    if scope is None:
        return [], BoardRow(key="", name="")
    now = now or timezone.now()
    resources = (
        Resource.objects.filter(scope, published_version__isnull=False, retired_at__isnull=True)
        .values(
            "pk",
            "provider_id",
            "provider__name",
            "provider__division__code",
            "provider__division__name",
            "published_version__update_cycle",
            "datastore__last_loaded_at",
        )
        .annotate(active=Count("channels", filter=Q(channels__state=Channel.State.ACTIVE)))
    )
    channels = (
        Channel.objects.filter(state=Channel.State.ACTIVE, resource__retired_at__isnull=True)
        .filter(resource__published_version__isnull=False)
        .filter(_prefix(scope, "resource__"))
        .values("resource__provider_id", "resource__provider__division__code", "source_kind")
        .annotate(n=Count("pk"))
    )
    rows: dict[str, BoardRow] = {}

    def row_for(r: dict) -> BoardRow:
        if group == "district":
            key = r["provider__division__code"] or ""
            name = r["provider__division__name"] or str(key)
            return rows.setdefault(key, BoardRow(key=key, name=name))
        key = str(r["provider_id"])
        return rows.setdefault(
            key,
            BoardRow(key=key, name=r["provider__name"], division=r["provider__division__name"]),
        )

    for r in resources:
        row = row_for(r)
        row.catalogued += 1
        if r["active"]:
            row.with_channel += 1
        loaded = r["datastore__last_loaded_at"]
        window = FRESHNESS.get(r["published_version__update_cycle"], dt.timedelta(days=90))
        if loaded is not None and loaded >= now - window:
            row.fresh += 1
    for c in channels:
        key = (
            (c["resource__provider__division__code"] or "")
            if group == "district"
            else str(c["resource__provider_id"])
        )
        if key in rows:
            rows[key].by_source[c["source_kind"]] = (
                rows[key].by_source.get(c["source_kind"], 0) + c["n"]
            )
    result = list(rows.values())
    if q:
        result = [r for r in result if q in r.name or q in r.division]
    result.sort(key=lambda r: r.name)
    if sort in BOARD_SORTS and sort != "name":
        result.sort(key=BOARD_SORTS[sort])
    total = BoardRow(key="", name=str(_("Total")))
    for r in result:
        total.catalogued += r.catalogued
        total.with_channel += r.with_channel
        total.fresh += r.fresh
        for k, v in r.by_source.items():
            total.by_source[k] = total.by_source.get(k, 0) + v
    return result, total


def _prefix(scope: Q, prefix: str) -> Q:
    """The board scope (written on Resource) for a query on Channel."""
    if not scope.children:
        return Q()
    out = Q()
    out.connector = scope.connector
    out.negated = scope.negated
    for child in scope.children:
        if isinstance(child, Q):
            out.children.append(_prefix(child, prefix))
        else:
            name, value = child
            out.children.append((prefix + name, value))
    return out


# --- downtime (Art. 10) ---------------------------------------------------------------------

DOWNTIME_WHEN = ("upcoming", "current", "past", "all")


def downtime_list(
    *,
    when: str = "upcoming",
    kind: str = "",
    organization: Organization | None = None,
    q: str = "",
    now=None,
) -> QuerySet[DowntimeReport]:
    """Downtime windows for the status page (everyone signed in sees them). `upcoming`: now
    and coming (not cancelled); `current`: under way; `past`: ended in the last 90 days."""
    now = now or timezone.now()
    qs = DowntimeReport.objects.select_related(
        "information_system", "information_system__organization"
    )
    if when == "current":
        qs = qs.filter(cancelled_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
    elif when == "past":
        qs = qs.filter(ends_at__lte=now, ends_at__gte=now - dt.timedelta(days=90))
    elif when == "upcoming":
        qs = qs.filter(cancelled_at__isnull=True, ends_at__gt=now)
    if kind:
        qs = qs.filter(kind=kind)
    if organization is not None:
        qs = qs.filter(information_system__organization=organization)
    if q:
        qs = qs.filter(
            Q(information_system__name__icontains=q)
            | Q(description__icontains=q)
            | Q(information_system__organization__name__icontains=q)
        )
    if when == "past":
        return qs.order_by("-ends_at")
    return qs.order_by("starts_at")


def downtime_current(*, now=None) -> list[DowntimeReport]:
    now = now or timezone.now()
    return list(
        DowntimeReport.objects.select_related(
            "information_system", "information_system__organization"
        )
        .filter(cancelled_at__isnull=True, starts_at__lte=now, ends_at__gt=now)
        .order_by("ends_at")[:20]
    )


def organizations_with_systems() -> QuerySet[Organization]:
    return (
        Organization.objects.filter(information_systems__isnull=False).distinct().order_by("name")
    )


# --- work queues ------------------------------------------------------------------------------

FAILED_WINDOW = dt.timedelta(days=7)


def failed_batches_for(user, *, now=None) -> QuerySet[Batch]:
    """Failed batches of the last 7 days whose channel `user` works (agency) or supervises
    (bureau), leaving out channels whose latest batch has succeeded since."""
    now = now or timezone.now()
    qs = Batch.objects.filter(
        status=Batch.Status.FAILED,
        created_at__gte=now - FAILED_WINDOW,
        channel__in=channels_visible_to(user),
    )
    later_success = Batch.objects.filter(
        channel=OuterRef("channel"),
        status=Batch.Status.SUCCEEDED,
        created_at__gt=OuterRef("created_at"),
    )
    from django.db.models import Exists

    return (
        qs.exclude(Exists(later_success))
        .select_related("channel", "channel__resource")
        .order_by("-created_at")
    )


def channels_never_assessed() -> QuerySet[Channel]:
    """Channels waiting for their first security assessment (for the security admin's
    overdue list and work queue)."""
    return (
        Channel.objects.filter(~assessed_exists("channel"))
        .select_related("resource", "resource__provider")
        .order_by("created_at")
    )


def counts_by_state(channels: QuerySet[Channel]) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for row in channels.order_by().values("state").annotate(n=Count("pk")):
        out[row["state"]] = row["n"]
    return dict(out)


def channels_visible_for_resource(user, resource: Resource) -> QuerySet[Channel]:
    return channels_visible_to(user).filter(resource=resource).order_by("pk")


# --- masking suggestions: stored sample values (registered in catalog.masking) --------------

SAMPLE_ROWS = 200


def stored_samples(version, items) -> dict[int, list]:
    """Up to `SAMPLE_ROWS` stored values (as text) of the columns of `items`, by item pk,
    where the resource has a loaded table holding them. Read to recognise personal data
    (catalog.masking), never shown."""
    from django.db import DatabaseError, connection
    from psycopg import sql

    from .datastore import qualified, table_zone

    table = DatastoreTable.objects.filter(resource_id=version.resource_id).first()
    if table is None or not table.last_loaded_at:
        return {}
    present = {c.name for c in table_columns(table)}
    all_items = sorted(version.items.all(), key=lambda i: i.position)
    by_pk = {i.pk: c.name for i, c in zip(all_items, columns_for(all_items), strict=True)}
    wanted = [(i.pk, by_pk[i.pk]) for i in items if by_pk.get(i.pk) in present]
    if not wanted:
        return {}
    query = sql.SQL("SELECT {} FROM {} LIMIT {}").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(n)) for _pk, n in wanted),
        qualified(table),
        sql.Literal(SAMPLE_ROWS),
    )
    try:
        # A zone table is read as its zone's role, which the web may not take (storage
        # zones, issue #13): there the suggestions come from names and elements only.
        with zones.zone_role(table_zone(table)), connection.cursor() as cur:
            cur.execute(query)
            rows = cur.fetchall()
    except DatabaseError:
        return {}
    return {pk: [r[i] for r in rows] for i, (pk, _n) in enumerate(wanted)}
