"""Reads of the data supply API: a grant's rows, counts and deleted keys, through the table's
supply functions (`functions.py`), answered as JSON or CSV built by PostgreSQL.

A grant names its items, each with a delivery form; every other column is `omit`. The forms
go to the definer function, which masks in SQL; the page's JSON array is built by PostgreSQL
(`json_agg`) with the asked fields only, so a page of 5,000 rows costs one statement and no
Python work per row. Cursors are sealed (`wuhan_pdr.kernel.cursors`), bound to the table, its
generation, the order (key or storage position) and the grant.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from psycopg import sql

from aggregation.datastore import (
    columns_for,
    read_columns,
    read_functions_refresh,
    table_columns,
)
from aggregation.models import DatastoreTable
from catalog.models import Resource
from security import zones
from security.masking import hmac_key
from wuhan_pdr.kernel.cursors import AFTER, CursorScope, cursor_issue, cursor_open
from wuhan_pdr.kernel.forms import record_id

from . import functions
from .errors import SupplyError

MAX_LIMIT = functions.MAX_LIMIT
DEFAULT_LIMIT = 1000
# The most deleted keys one `changed_since` answer lists; older changes need a full load.
MAX_DELETED = 100_000


def resource_lookup(ident: str) -> Resource | None:
    """The resource named in the path: its id, or its code with "/" written as "-"."""
    ident = (ident or "").strip()
    if not ident or len(ident) > 80:
        return None
    if (pk := record_id(ident)) is not None:
        return Resource.objects.filter(pk=pk).first()
    return Resource.objects.filter(code__in={ident, ident.replace("-", "/")}).order_by("pk").first()


def resource_slug(resource: Resource) -> str:
    return resource.code.replace("/", "-")


@dataclass
class Plan:
    """What one call reads: the table, the forms per column, the fields shown, the order."""

    table: DatastoreTable
    names: list[str]  # every column, in table order
    forms: list[str]  # per column: clear | hmac | masked | omit
    fields: list[str]  # the columns shown, in table order
    keys: list[str]
    by_key: bool
    flag: str | None
    flag_type: str | None

    @property
    def ordering(self) -> tuple[str, ...]:
        return tuple(self.keys) if self.by_key else ("ctid",)


def grant_deliveries(grant, names: list[str]) -> dict[str, str]:
    """{column: delivery} of the grant's items that are columns of the table now."""
    out = {}
    for gi in grant.items.all():
        column = gi.column
        if column not in names:
            # An item without a usable English name is stored as c<position>.
            column = columns_for([gi.item])[0].name
        if column in names:
            out[column] = gi.delivery
    return out


def supply_plan(grant, table: DatastoreTable, fields: list[str] | None) -> Plan:
    """The forms for `grant` on `table`, showing `fields` (default: every granted column).
    A field the grant does not hold is refused with one code whether or not it exists."""
    columns = table_columns(table)
    names = [c.name for c in columns]
    granted = grant_deliveries(grant, names)
    if fields:
        unknown = [f for f in fields if f not in granted]
        if unknown:
            raise SupplyError("field_not_granted", field="fields")
        shown = [n for n in names if n in set(fields)]
    else:
        shown = [n for n in names if n in granted]
    if not shown:
        raise SupplyError("no_fields")
    keys = [c.name for c in columns if c.key]
    baked = zones.page_uses_position(read_columns(table, table.read_masked or {}))
    by_key = bool(keys) and not baked and all(granted.get(k) == functions.CLEAR for k in keys)
    forms = []
    for n in names:
        if n in shown or (by_key and n in keys):
            forms.append(granted[n])
        else:
            forms.append(functions.OMIT)
    flag = next((c for c in columns if c.update_flag), None)
    return Plan(
        table=table,
        names=names,
        forms=forms,
        fields=shown,
        keys=keys,
        by_key=by_key,
        flag=flag.name if flag else None,
        flag_type=flag.type if flag else None,
    )


def grant_hmac_key(grant) -> str:
    """The HMAC key of the `hmac` form for this grant's holder: derived from the platform's
    key per grantee organization, so one organization can join its own deliveries, but two
    organizations cannot match theirs, and neither learns the platform's key."""
    return hmac.new(
        hmac_key().encode(), f"supply:grantee:{grant.grantee_id}".encode(), hashlib.sha256
    ).hexdigest()


def scope_for(plan: Plan, grant) -> CursorScope:
    return CursorScope(
        table=f"supply:{plan.table.pk}",
        generation=plan.table.generation,
        ordering=plan.ordering,
        holder=f"grant:{grant.pk}:{grant.key_prefix}",
    )


def parse_changed_since(value: str, plan: Plan) -> tuple[str, dt.datetime] | None:
    """`changed_since` as (the update flag's local text, the instant): an ISO date or
    date-time; without an offset it is Asia/Shanghai time. Refused when the table has no
    update flag, or the grant does not hold it in clear."""
    value = (value or "").strip()
    if not value:
        return None
    if plan.flag is None or plan.flag_type not in functions.FLAG_TYPES:
        raise SupplyError("changed_since_unavailable", field="changed_since")
    if dict(zip(plan.names, plan.forms, strict=True)).get(plan.flag) != functions.CLEAR:
        # The flag compared with a chosen instant would tell a value the grant does not hold.
        raise SupplyError("changed_since_unavailable", field="changed_since")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise SupplyError("changed_since_invalid", field="changed_since") from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    local = timezone.localtime(moment, timezone.get_default_timezone()).replace(tzinfo=None)
    return local.isoformat(sep=" "), moment


def _fn(plan: Plan, suffix: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(
        sql.Identifier(plan.table.schema), sql.Identifier(f"{plan.table.table_name}{suffix}")
    )


@dataclass
class Page:
    body: str  # the JSON array of the rows
    rows: int
    next_cursor: str | None
    deleted: str | None = None  # the JSON array of deleted keys (changed_since, first page)
    deleted_rows: int = 0


def rows_page(
    plan: Plan, grant, *, cursor: str, limit: int, changed_since: tuple[str, dt.datetime] | None
) -> Page:
    """One page of rows as a JSON array (built in PostgreSQL) and the next cursor."""
    scope = scope_for(plan, grant)
    after = cursor_open(cursor, scope=scope, direction=AFTER).values if cursor else None
    obj = sql.SQL(", ").join(
        sql.SQL("{}, s.{}").format(sql.Literal(n), sql.Identifier(n)) for n in plan.fields
    )
    positions = plan.keys if plan.by_key else ["_pos"]
    lasts = sql.SQL(", ").join(
        sql.SQL("(array_agg(s.{}))[count(*)]").format(sql.Identifier(n)) for n in positions
    )
    query = sql.SQL(
        "SELECT coalesce(json_agg(json_build_object({obj})), '[]')::text, count(*), {lasts} "
        "FROM {fn}(%s::text[], %s::text[], %s, %s, %s) s"
    ).format(obj=obj, lasts=lasts, fn=_fn(plan, "_supply"))
    with connection.cursor() as cur:
        cur.execute(
            query,
            [
                plan.forms,
                after,
                limit,
                changed_since[0] if changed_since else None,
                grant_hmac_key(grant),
            ],
        )
        body, count, *last = cur.fetchone()
    next_cursor = None
    if count and count >= limit:
        next_cursor = cursor_issue(last, scope=scope, direction=AFTER)
    page = Page(body=body, rows=count, next_cursor=next_cursor)
    if changed_since and not cursor and plan.keys:
        page.deleted, page.deleted_rows = deleted_keys(plan, grant, since=changed_since[1])
    return page


def deleted_keys(plan: Plan, grant, *, since: dt.datetime) -> tuple[str, int]:
    """The keys full loads removed since `since`, as a JSON array of objects (each key
    column in its form, plus `deleted_at`)."""
    key_forms = dict(zip(plan.names, plan.forms, strict=True))
    keys = [k for k in plan.keys if key_forms[k] != functions.OMIT]
    obj = sql.SQL(", ").join(
        [sql.SQL("{}, d.{}").format(sql.Literal(k), sql.Identifier(k)) for k in keys]
        + [sql.SQL("'deleted_at', d.deleted_at")]
    )
    query = sql.SQL(
        "SELECT coalesce(json_agg(json_build_object({obj})), '[]')::text, count(*) "
        "FROM {fn}(%s::text[], %s, %s, %s) d"
    ).format(obj=obj, fn=_fn(plan, "_supply_deleted"))
    with connection.cursor() as cur:
        cur.execute(query, [plan.forms, since, MAX_DELETED + 1, grant_hmac_key(grant)])
        body, count = cur.fetchone()
    if count > MAX_DELETED:
        raise SupplyError("changed_since_too_old", field="changed_since")
    return body, count


def rows_count(plan: Plan, *, changed_since: tuple[str, dt.datetime] | None) -> int:
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT {}(%s::text[], %s)").format(_fn(plan, "_supply_count")),
            [plan.forms, changed_since[0] if changed_since else None],
        )
        return int(cur.fetchone()[0] or 0)


def csv_chunks(plan: Plan, grant, *, changed_since, fetch: int = MAX_LIMIT):
    """Every row (from the first) as CSV (RFC 4180) text, page by page through the same
    function: the header line, then one block per page, each built by PostgreSQL. Yields
    (text, rows). The values are exactly the delivered ones (a feed for systems; NULL is an
    empty cell)."""
    yield ",".join(_csv_quote(f) for f in plan.fields) + "\r\n", 0
    cells = sql.SQL(", ").join(
        sql.SQL(
            "CASE WHEN s.{c} ~ '[,\"\\r\\n]' "
            "THEN '\"' || replace(s.{c}, '\"', '\"\"') || '\"' ELSE coalesce(s.{c}, '') END"
        ).format(c=sql.Identifier(n))
        for n in plan.fields
    )
    positions = plan.keys if plan.by_key else ["_pos"]
    lasts = sql.SQL(", ").join(
        sql.SQL("(array_agg(s.{}))[count(*)]").format(sql.Identifier(n)) for n in positions
    )
    query = sql.SQL(
        "SELECT string_agg(concat_ws(',', {cells}), E'\\r\\n') || E'\\r\\n', count(*), {lasts} "
        "FROM {fn}(%s::text[], %s::text[], %s, %s, %s) s"
    ).format(cells=cells, lasts=lasts, fn=_fn(plan, "_supply"))
    after = None
    key = grant_hmac_key(grant)
    since = changed_since[0] if changed_since else None
    while True:
        with connection.cursor() as cur:
            cur.execute(query, [plan.forms, after, fetch, since, key])
            text, count, *last = cur.fetchone()
        if not count:
            return
        yield text, count
        if count < fetch:
            return
        after = last


def _csv_quote(value: str) -> str:
    if any(ch in value for ch in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def supply_table(resource: Resource) -> DatastoreTable | None:
    """The resource's table. Where its supply functions are older than this code (a table
    made before them, or by an older builder), they are remade where this process may (the
    worker; the web role may not, and `manage.py datastore_read_functions` does it)."""
    table = DatastoreTable.objects.filter(resource=resource).first()
    if table is not None and functions.SIGNATURE not in _builders_of(table):
        with contextlib.suppress(Exception), transaction.atomic():
            read_functions_refresh(table)
    return table


def _builders_of(table: DatastoreTable) -> list[str]:
    made = (
        (table.read_masked or {}).get("@functions", "")
        if isinstance(table.read_masked, dict)
        else ""
    )
    return made.split(",")
