"""The datastore: one typed PostgreSQL table per resource, in the schema `datastore`.

A table's shape follows the published version's data items: one column per item (named by
the item's column name, or `c<position>` when it has none), typed from the item's data type,
with a primary key over the key items. `datastore_ensure` creates the table or brings it up
to date: adding a column happens by itself; dropping one, changing a type or changing the key
is destructive, so it is recorded as a pending change and waits for `datastore_apply_pending`
with an explicit confirmation. See docs/decisions/0009-datastore.md.

Identifiers here never come from user text: table names are generated, and column names
passed the catalog's column-name rule (lowercase letters, digits, underscore) or are
generated. They are still quoted with psycopg's `sql.Identifier`.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _
from psycopg import sql

from catalog.models import DataItem, Resource
from security.dbroles import WORKER, acting_as
from wuhan_pdr.kernel.errors import DomainError

from .models import DatastoreTable

SCHEMA = "datastore"
SAFE_COLUMN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# Column names PostgreSQL or the loader reserve.
RESERVED = {"ctid", "xmin", "xmax", "cmin", "cmax", "tableoid", "oid", "_line"}


@dataclass(frozen=True)
class Column:
    name: str
    item: str  # the item's (Chinese) name, for messages
    type: str  # SQL type
    data_type: str  # catalog DataType letter
    key: bool = False
    not_null: bool = False
    update_flag: bool = False
    length: int | None = None

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> Column:
        return cls(**{k: d.get(k) for k in cls.__dataclass_fields__ if k in d})


def sql_type(data_type: str, length: int | None) -> str:
    """The column type for a catalog data type (GB/T 21063 letters)."""
    if data_type == "C":
        return f"varchar({int(length)})" if length else "text"
    return {
        "N": "numeric",
        "Y": "numeric(18,2)",
        "D": "date",
        "T": "timestamp",
        "L": "boolean",
        "M": "text",
        "G": "bytea",
        "B": "double precision",
        "I": "bigint",
        "F": "double precision",
    }.get(data_type, "text")


def columns_for(items) -> list[Column]:
    """The table columns for a version's data items, in item order."""
    columns: list[Column] = []
    used: set[str] = set()
    for item in sorted(items, key=lambda it: it.position):
        name = (item.english_name or "").strip().lower()
        if not SAFE_COLUMN.match(name) or name in RESERVED or name in used:
            name = f"c{item.position}"
        used.add(name)
        columns.append(
            Column(
                name=name,
                item=item.name,
                type=sql_type(item.data_type, item.length),
                data_type=item.data_type,
                key=item.is_key,
                not_null=item.is_key or not item.nullable,
                update_flag=item.is_update_flag,
                length=item.length,
            )
        )
    return columns


def published_columns(resource: Resource) -> list[Column]:
    version = resource.published_version
    if version is None:
        raise DomainError(_("Only a published resource can receive data."))
    return columns_for(DataItem.objects.filter(version=version).order_by("position"))


def qualified(table_name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(table_name))


def ensure_schema() -> None:
    """The schema exists (its migration makes it): asked first, because CREATE SCHEMA, even
    IF NOT EXISTS, needs a right on the database that only the owner has."""
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [SCHEMA])
        if cur.fetchone() is None:
            cur.execute(sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(SCHEMA)))


def as_table_owner():
    """The resources' tables belong to the worker's database role (security/dbroles.py): it
    creates, swaps and drops them. Their DDL runs as that role wherever the session may take
    it (`seed_demo` as the owner, the test suite as the superuser), so that the worker can
    replace every table later; the web may not take it, and makes no table."""
    return acting_as(WORKER, if_available=True)


def create_table_sql(table_name: str, columns: list[Column], *, with_key: bool = True):
    parts = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(c.name),
            sql.SQL(c.type),
            sql.SQL(" NOT NULL") if c.not_null else sql.SQL(""),
        )
        for c in columns
    ]
    keys = [c.name for c in columns if c.key]
    if with_key and keys:
        parts.append(primary_key_sql(table_name, keys))
    return sql.SQL("CREATE TABLE {} ({})").format(qualified(table_name), sql.SQL(", ").join(parts))


def primary_key_sql(table_name: str, keys: list[str]):
    return sql.SQL("CONSTRAINT {} PRIMARY KEY ({})").format(
        sql.Identifier(f"{table_name}_pkey"), sql.SQL(", ").join(map(sql.Identifier, keys))
    )


def _diff(current: list[Column], wanted: list[Column]) -> tuple[list[Column], list[dict]]:
    """Columns to add, and destructive changes (drop, retype, key change) to confirm."""
    have = {c.name: c for c in current}
    want = {c.name: c for c in wanted}
    added = [c for c in wanted if c.name not in have]
    pending: list[dict] = []
    for c in current:
        if c.name not in want:
            pending.append({"action": "drop", "column": c.name, "item": c.item})
        elif want[c.name].type != c.type:
            pending.append(
                {
                    "action": "retype",
                    "column": c.name,
                    "item": want[c.name].item,
                    "from": c.type,
                    "to": want[c.name].type,
                }
            )
        elif want[c.name].not_null != c.not_null and not want[c.name].key:
            pending.append(
                {
                    "action": "not_null" if want[c.name].not_null else "nullable",
                    "column": c.name,
                    "item": want[c.name].item,
                }
            )
    if sorted(c.name for c in current if c.key) != sorted(c.name for c in wanted if c.key):
        pending.append(
            {
                "action": "key",
                "from": [c.name for c in current if c.key],
                "to": [c.name for c in wanted if c.key],
            }
        )
    return added, pending


def datastore_ensure(*, resource: Resource) -> DatastoreTable:
    """Create the resource's table, or add the columns new items need. Destructive
    differences are stored in `pending_changes` and not applied."""
    wanted = published_columns(resource)
    with transaction.atomic(), as_table_owner():
        ensure_schema()
        table = DatastoreTable.objects.select_for_update().filter(resource=resource).first()
        if table is None:
            name = f"r{resource.pk}_{secrets.token_hex(3)}"
            with connection.cursor() as cur:
                cur.execute(create_table_sql(name, wanted))
            return DatastoreTable.objects.create(
                resource=resource, table_name=name, columns=[c.as_dict() for c in wanted]
            )
        current = [Column.from_dict(d) for d in table.columns]
        added, pending = _diff(current, wanted)
        if added:
            with connection.cursor() as cur:
                for c in added:
                    # New columns are nullable even for a required item: existing rows have
                    # no value. The NOT NULL is a pending change once rows are filled.
                    cur.execute(
                        sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                            qualified(table.table_name), sql.Identifier(c.name), sql.SQL(c.type)
                        )
                    )
            nullable_added = [
                Column(**{**c.as_dict(), "not_null": False}) if not c.key else c for c in added
            ]
            table.columns = [c.as_dict() for c in current + nullable_added]
            pending += [
                {"action": "not_null", "column": c.name, "item": c.item}
                for c in added
                if c.not_null and not c.key
            ]
        table.pending_changes = pending
        table.save(update_fields=["columns", "pending_changes", "updated_at"])
        return table


def datastore_apply_pending(*, resource: Resource, confirm: bool) -> DatastoreTable:
    """Apply the destructive changes waiting on a resource's table: rebuild it in the
    published shape, keeping the rows whose values still fit (one transaction; on any error
    nothing changes). `confirm` must be True: the caller asked the user."""
    if not confirm:
        raise DomainError(_("Confirm that the table may lose columns or data."), field="confirm")
    wanted = published_columns(resource)
    with transaction.atomic(), as_table_owner():
        table = DatastoreTable.objects.select_for_update().get(resource=resource)
        current = {d["name"] for d in table.columns}
        new_name = f"r{resource.pk}_{secrets.token_hex(3)}"
        kept = [c for c in wanted if c.name in current]
        with connection.cursor() as cur:
            cur.execute(create_table_sql(new_name, wanted))
            if kept:
                cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in kept)
                casts = sql.SQL(", ").join(
                    sql.SQL("{}::{}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in kept
                )
                try:
                    with transaction.atomic():
                        cur.execute(
                            sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
                                qualified(new_name), cols, casts, qualified(table.table_name)
                            )
                        )
                except Exception as exc:
                    raise DomainError(
                        _("The existing rows do not fit the new shape (%(error)s).")
                        % {"error": str(exc).splitlines()[0][:200]}
                    ) from exc
            cur.execute(sql.SQL("DROP TABLE {}").format(qualified(table.table_name)))
            cur.execute(
                sql.SQL("SELECT count(*) FROM {}").format(qualified(new_name)),
            )
            rows = cur.fetchone()[0]
        table.table_name = new_name
        table.columns = [c.as_dict() for c in wanted]
        table.pending_changes = []
        table.row_count = rows
        table.generation += 1  # a new table: page cursors into the old one are stale
        table.save()
        return table


def table_columns(table: DatastoreTable) -> list[Column]:
    return [Column.from_dict(d) for d in table.columns]


def table_exists(table_name: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass(%s) IS NOT NULL", [f'{SCHEMA}."{table_name}"'])
        return cur.fetchone()[0]
