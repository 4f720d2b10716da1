"""The datastore: one typed PostgreSQL table per resource, in the schema of its storage zone.

A resource's table lives in the schema of the zone of its most sensitive grade (the version's
or an item's; `security.zones`): `datastore` for the general zone, `datastore_restricted` /
`datastore_sensitive` (owned by the zone's role) for the others. Every statement on a zone
table runs as the zone's role (`security.zones.zone_role`), and every read of rows for a
person goes through the table's masked SECURITY DEFINER functions (`read_functions_refresh`).
A new version whose grade changes the zone records a pending "zone" change: the table moves
only when someone confirms it (`datastore_apply_pending`), like any other destructive change.

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
import tempfile
from dataclasses import asdict, dataclass

from django.db import connection, transaction
from django.utils.translation import gettext as _
from psycopg import sql

from catalog.models import DataItem, Resource
from security import zones
from security.dbroles import WORKER, acting_as
from wuhan_pdr.kernel.errors import DomainError

from . import hashes
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


def qualified(table, schema: str | None = None) -> sql.Composed:
    """`schema.table` quoted: `table` is a DatastoreTable (its own schema) or a table name (in
    `schema`, by default the general zone's)."""
    if isinstance(table, DatastoreTable):
        schema, table = table.schema, table.table_name
    return sql.SQL("{}.{}").format(sql.Identifier(schema or SCHEMA), sql.Identifier(table))


def ensure_schema(zone: str = zones.GENERAL) -> str:
    """The zone's schema exists (its migration makes it): asked first, because CREATE SCHEMA,
    even IF NOT EXISTS, needs a right on the database that only the owner has."""
    return zones.zone_schema_ensure(zone)


def as_table_owner():
    """The resources' tables belong to the worker's database role (security/dbroles.py): it
    creates, swaps and drops them. Their DDL runs as that role wherever the session may take
    it (`seed_demo` as the owner, the test suite as the superuser), so that the worker can
    replace every table later; the web may not take it, and makes no table. A zone table's
    statements then take the zone's role (`security.zones.zone_role`), from the worker's."""
    return acting_as(WORKER, if_available=True)


def resource_zone(resource: Resource) -> str:
    """The storage zone of the resource's published version: the zone of its most sensitive
    grade, the version's or one of its items'."""
    version = resource.published_version
    if version is None:
        return zones.GENERAL
    grades = [version.grade] + [
        i.grade for i in DataItem.objects.filter(version=version).select_related("grade")
    ]
    return zones.zone_of_grades(grades)


def table_zone(table: DatastoreTable) -> str:
    return zones.zone_of_schema(table.schema)


def zone_move_of(table: DatastoreTable) -> tuple[str, str] | None:
    """(from, to) when the resource's published grades ask for another zone than the
    table's, else None."""
    old, new = table_zone(table), resource_zone(table.resource)
    return (old, new) if old != new else None


def is_downgrade(old: str, new: str) -> bool:
    """A move to a less protected zone (confirmed by the security administrator only)."""
    return zones.ZONE_RANK.get(new, 0) < zones.ZONE_RANK.get(old, 0)


def masking_rules(resource: Resource) -> dict:
    """{column: masking rule} of the columns masked in the published version: an item's own
    rule, else the rule of the data element it follows (security.masking)."""
    version_id = resource.published_version_id
    if version_id is None:
        return {}
    items = list(
        DataItem.objects.filter(version_id=version_id)
        .select_related("masking_rule", "element__masking_rule")
        .order_by("position")
    )
    out = {}
    for item, column in zip(items, columns_for(items), strict=True):
        rule = item.masking_rule or (item.element.masking_rule if item.element_id else None)
        if rule is not None:
            out[column.name] = rule
    return out


def read_columns(
    table: DatastoreTable, masks: dict, stored: dict | None = None
) -> list[zones.ReadColumn]:
    """The table's columns for `security.zones`, each with its entry of `masks` (a masking
    rule, or anything that says the column is masked) and, from `stored` (the table's
    `stored_hashes` by default), the key fingerprint of its stored keyed hash."""
    stored = table.stored_hashes if stored is None else stored
    return [
        zones.ReadColumn(
            name=c.name,
            type=c.type,
            key=bool(c.key),
            mask=masks.get(c.name) or None,
            update_flag=bool(c.update_flag),
            stored_hash=(stored or {}).get(c.name) or "",
        )
        for c in table_columns(table)
    ]


def _signatures(rules: dict, stored: dict | None = None) -> dict[str, str]:
    signatures = {name: zones.mask_signature(rule.mask) for name, rule in rules.items()}
    builders = zones.builders_signature()
    if builders:
        # Not a column name (columns are identifiers of letters, digits and "_").
        signatures["@functions"] = builders
    kept = {
        name: fp
        for name, fp in (stored or {}).items()
        if fp and name in hashes.hashed_columns(rules, [name])
    }
    if kept:
        signatures["@stored_hashes"] = ",".join(f"{n}:{fp}" for n, fp in sorted(kept.items()))
    return signatures


def read_functions_current(table: DatastoreTable, rules: dict | None = None) -> bool:
    """Whether the table's read functions mask as the published version's masking asks (and
    read the stored keyed hashes the table has)."""
    if table.read_masked is None or not isinstance(table.read_masked, dict):
        return False
    rules = masking_rules(table.resource) if rules is None else rules
    return table.read_masked == _signatures(rules, table.stored_hashes)


def read_functions_refresh(table: DatastoreTable, *, fresh=()) -> None:
    """(Re)make the table's masked read functions in its schema, as its zone's role, with the
    masking of the published version; remember what they mask with. The table gets a
    companion column for each column masked by keyed hash and loses those no longer masked so
    (`hashes.sync_companions`; one made for a column in `fresh`, just made and empty, is
    current at once, any other waits for `stored_hashes_backfill`)."""
    rules = masking_rules(table.resource)
    masks = {name: rule.mask for name, rule in rules.items()}
    names = [c.name for c in table_columns(table)]
    with transaction.atomic(), as_table_owner(), zones.zone_role(table_zone(table)):
        stored = table.stored_hashes or {}
        wanted = hashes.hashed_columns(rules, names)
        if set(wanted) != set(stored):
            with connection.cursor() as cur:
                stored = hashes.sync_companions(
                    cur, qualified(table), stored=stored, wanted=wanted, fresh=fresh
                )
        zones.read_functions_create(
            schema=table.schema,
            table=table.table_name,
            columns=read_columns(table, masks, stored),
        )
    table.read_masked = _signatures(rules, stored)
    table.stored_hashes = stored
    if table.pk:
        DatastoreTable.objects.filter(pk=table.pk).update(
            read_masked=table.read_masked, stored_hashes=stored
        )


def stored_hashes_due(table: DatastoreTable, rules: dict | None = None) -> bool:
    """Whether the table lacks a companion column it should have (or has one it should not),
    or one is not filled under the masking key in force: a backfill is due."""
    rules = masking_rules(table.resource) if rules is None else rules
    wanted = hashes.hashed_columns(rules, [c.name for c in table_columns(table)])
    stored = table.stored_hashes or {}
    now = hashes.fingerprint()
    return set(wanted) != set(stored) or any(stored[n] != now for n in wanted)


def create_table_sql(
    table_name: str, columns: list[Column], *, with_key: bool = True, schema: str | None = None
):
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
    return sql.SQL("CREATE TABLE {} ({})").format(
        qualified(table_name, schema), sql.SQL(", ").join(parts)
    )


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
    zone = resource_zone(resource)
    with transaction.atomic(), as_table_owner():
        table = DatastoreTable.objects.select_for_update().filter(resource=resource).first()
        if table is None:
            schema = ensure_schema(zone)
            name = f"r{resource.pk}_{secrets.token_hex(3)}"
            with zones.zone_role(zone), connection.cursor() as cur:
                cur.execute(create_table_sql(name, wanted, schema=schema))
            table = DatastoreTable.objects.create(
                resource=resource,
                table_name=name,
                schema=schema,
                columns=[c.as_dict() for c in wanted],
            )
            read_functions_refresh(table, fresh={c.name for c in wanted})
            return table
        current = [Column.from_dict(d) for d in table.columns]
        added, pending = _diff(current, wanted)
        if zones.zone_schema(zone) != table.schema:
            pending.append({"action": "zone", "from": table_zone(table), "to": zone})
        if added:
            with zones.zone_role(table_zone(table)), connection.cursor() as cur:
                for c in added:
                    # New columns are nullable even for a required item: existing rows have
                    # no value. The NOT NULL is a pending change once rows are filled.
                    cur.execute(
                        sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                            qualified(table), sql.Identifier(c.name), sql.SQL(c.type)
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
        if added or not read_functions_current(table):
            read_functions_refresh(table, fresh={c.name for c in added})
        return table


def datastore_apply_pending(*, resource: Resource, confirm: bool) -> DatastoreTable:
    """Apply the destructive changes waiting on a resource's table: rebuild it in the
    published shape, in the schema of the resource's zone now, keeping the rows whose values
    still fit (one transaction; on any error nothing changes). `confirm` must be True: the
    caller asked the user.

    A move between zones copies the rows through the worker (read as the old zone's role,
    written as the new one's): no role holds both zones."""
    if not confirm:
        raise DomainError(_("Confirm that the table may lose columns or data."), field="confirm")
    wanted = published_columns(resource)
    new_zone = resource_zone(resource)
    with transaction.atomic(), as_table_owner():
        table = DatastoreTable.objects.select_for_update().get(resource=resource)
        old_zone, old_schema, old_name = table_zone(table), table.schema, table.table_name
        if (
            new_zone != old_zone
            and is_downgrade(old_zone, new_zone)
            and table.zone_move_to != new_zone
        ):
            raise DomainError(
                _(
                    "The move of the table to a less protected storage zone waits for the "
                    "security administrator's confirmation."
                )
            )
        new_schema = ensure_schema(new_zone)
        current = {d["name"]: d for d in table.columns}
        new_name = f"r{resource.pk}_{secrets.token_hex(3)}"
        kept = [c for c in wanted if c.name in current]
        # The keyed hashes move with the rows: copied where the column keeps its type and its
        # companion is current under the key in force, computed in the copy otherwise.
        hashed = hashes.hashed_columns(masking_rules(resource), [c.name for c in wanted])
        now = hashes.fingerprint()
        old_stored = table.stored_hashes or {}
        with zones.zone_role(new_zone), connection.cursor() as cur:
            cur.execute(create_table_sql(new_name, wanted, schema=new_schema))
            hashes.add_companions(cur, qualified(new_name, new_schema), hashed)
        if kept:
            names = [c.name for c in kept]
            exprs = [
                sql.SQL("{}::{}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in kept
            ]
            for c in kept:
                if c.name not in hashed:
                    continue
                names.append(hashes.companion(c.name))
                if old_stored.get(c.name) == now and current[c.name].get("type") == c.type:
                    exprs.append(sql.Identifier(hashes.companion(c.name)))
                else:
                    exprs.append(
                        hashes.hash_sql(
                            sql.SQL("{}::{}").format(sql.Identifier(c.name), sql.SQL(c.type)),
                            c.type,
                        )
                    )
            hashes.hand_key()
            cols = sql.SQL(", ").join(sql.Identifier(n) for n in names)
            casts = sql.SQL(", ").join(exprs)
            try:
                with transaction.atomic():
                    _copy_rows(
                        source=sql.SQL("SELECT {} FROM {}").format(
                            casts, qualified(old_name, old_schema)
                        ),
                        source_zone=old_zone,
                        target=sql.SQL("{} ({})").format(qualified(new_name, new_schema), cols),
                        target_zone=new_zone,
                    )
            except Exception as exc:
                raise DomainError(
                    _("The existing rows do not fit the new shape (%(error)s).")
                    % {"error": str(exc).splitlines()[0][:200]}
                ) from exc
        with zones.zone_role(old_zone), connection.cursor() as cur:
            zones.read_functions_drop(schema=old_schema, table=old_name)
            cur.execute(sql.SQL("DROP TABLE {}").format(qualified(old_name, old_schema)))
        with zones.zone_role(new_zone), connection.cursor() as cur:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(new_name, new_schema)))
            rows = cur.fetchone()[0]
        table.table_name = new_name
        table.schema = new_schema
        table.columns = [c.as_dict() for c in wanted]
        table.stored_hashes = dict.fromkeys(hashed, now)
        table.pending_changes = []
        if new_zone != old_zone:  # the confirmation was for this move only
            table.zone_move_to = ""
            table.zone_move_confirmed_by = None
            table.zone_move_confirmed_at = None
        table.row_count = rows
        table.generation += 1  # a new table: page cursors into the old one are stale
        table.save()
        read_functions_refresh(table)
        return table


def _copy_rows(*, source, source_zone: str, target, target_zone: str) -> None:
    """INSERT INTO target SELECT source, or, between zones, the same through a spool file:
    COPY out as the source zone's role, COPY in as the target zone's."""
    if source_zone == target_zone:
        with zones.zone_role(source_zone), connection.cursor() as cur:
            cur.execute(sql.SQL("INSERT INTO {} {}").format(target, source))
        return
    connection.ensure_connection()
    raw = connection.connection
    with tempfile.TemporaryFile() as spool:
        with (
            zones.zone_role(source_zone),
            raw.cursor() as cur,
            cur.copy(sql.SQL("COPY ({}) TO STDOUT").format(source)) as copy,
        ):
            for data in copy:
                spool.write(data)
        spool.seek(0)
        with (
            zones.zone_role(target_zone),
            raw.cursor() as cur,
            cur.copy(sql.SQL("COPY {} FROM STDIN").format(target)) as copy,
        ):
            while chunk := spool.read(1 << 20):
                copy.write(chunk)


def table_columns(table: DatastoreTable) -> list[Column]:
    return [Column.from_dict(d) for d in table.columns]


def table_exists(table_name: str, schema: str | None = None) -> bool:
    """Whether the table is there (the catalog answers even where its rows may not be read)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT 1 FROM pg_tables WHERE schemaname = %s AND tablename = %s",
            [schema or SCHEMA, table_name],
        )
        return cur.fetchone() is not None
