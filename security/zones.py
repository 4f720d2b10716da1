"""Storage zones (Art. 27: access between storage zones of different levels is controlled).

A grade names its storage zone (`Grade.storage_zone`). Stored rows of a resource live in the
schema of its zone: `datastore` for the general zone, `datastore_restricted` and
`datastore_sensitive` for the others, owned by the zone's database role
(`<db>_zone_restricted`, `<db>_zone_sensitive`, made by `manage.py db_roles`). The web role has
no right on a zone table; the worker is a NOINHERIT member of the zone roles, so it touches
zone data only inside `zone_role(zone)` (`SET LOCAL ROLE`).

Every read of stored rows for a person goes through three SECURITY DEFINER functions made per
table by `read_functions_create` (for general tables too, so there is one path):

- `<table>_page(after text[], backwards boolean, prefix text, lim integer)`: a keyset page in
  key order (in `ctid` order when the table has no key or a masked key column), every masked
  column masked in SQL, plus `_pos`, the row's position for the next cursor;
- `<table>_rows(keys text[])`: the rows with these keys (compared as text; a table whose key
  has a masked column refuses: a masked column is never an equality filter);
- `<table>_count(col text, accepted text[])`: how many values of a column are set and how many
  are not among `accepted`, with the most frequent failing values masked when the column is.

They are owned by the table's owner (the zone role for zone tables), pin `search_path`, are
executable by nobody but the web and worker roles, and take every value as a parameter: the
generated bodies hold identifiers quoted by psycopg and no value and no secret. This module
imports no chapter app: callers hand it schema, table and column descriptions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from django.db import connection, transaction
from psycopg import sql

from .dbroles import acting_as, role_name
from .masking import mask_expression
from .masking.core import StoredHash, as_mask, hmac_key, stored_hash_column

GENERAL = "general"
RESTRICTED = "restricted"
SENSITIVE = "sensitive"

SCHEMAS = {
    GENERAL: "datastore",
    RESTRICTED: "datastore_restricted",
    SENSITIVE: "datastore_sensitive",
}
ZONE_RANK = {GENERAL: 0, RESTRICTED: 1, SENSITIVE: 2}
# How many most frequent failing values `<table>_count` returns.
COUNT_SAMPLES = 5


def zone_schema(zone: str) -> str:
    return SCHEMAS.get(zone or GENERAL, SCHEMAS[GENERAL])


def zone_of_schema(schema: str) -> str:
    for zone, name in SCHEMAS.items():
        if name == schema:
            return zone
    return GENERAL


def is_zone(zone: str) -> bool:
    """A restricted or sensitive zone (the general zone is the plain `datastore`)."""
    return (zone or GENERAL) != GENERAL


def zone_of_grades(grades) -> str:
    """The zone of the most sensitive zone among `grades` (None entries ignored)."""
    zones = [g.storage_zone for g in grades if g is not None and g.storage_zone in ZONE_RANK]
    return max(zones, key=ZONE_RANK.__getitem__, default=GENERAL)


# --- roles ------------------------------------------------------------------------------------


def role_for(kind: str) -> str:
    """The server role of this database for `kind` (owner, web, worker, zone_restricted,
    zone_sensitive; `security.dbroles`)."""
    return role_name(kind)


def zone_role_name(zone: str) -> str | None:
    """The role owning the zone's schema; None for the general zone."""
    return role_for(f"zone_{zone}") if is_zone(zone) else None


def role_exists(name: str | None) -> bool:
    if not name:
        return False
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [name])
        return cur.fetchone() is not None


@contextlib.contextmanager
def zone_role(zone: str):
    """Run the block as the zone's role (`dbroles.acting_as`: SET LOCAL ROLE in a savepoint,
    the previous role put back after). A general zone, or a database whose roles were never
    made (a developer's database before `manage.py db_roles`), runs the block as it is. A
    session that may not take the role (the web's) is refused by PostgreSQL."""
    if not is_zone(zone) or not role_exists(zone_role_name(zone)):
        with transaction.atomic():
            yield
        return
    with acting_as(f"zone_{zone}"):
        yield


def zone_schema_ensure(zone: str) -> str:
    """Create the zone's schema if missing (owned by the zone role where it exists), let the
    web and worker roles look functions up in it (USAGE: no right on its tables), and return
    its name. Idempotent; `manage.py db_roles` runs it with the admin connection too."""
    schema = zone_schema(zone)
    owner = zone_role_name(zone)
    with connection.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [schema])
        exists = cur.fetchone() is not None
        if not exists:
            if owner and role_exists(owner):
                cur.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                        sql.Identifier(schema), sql.Identifier(owner)
                    )
                )
            else:
                cur.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(schema))
                )
        if is_zone(zone):
            for kind in ("web", "worker"):
                grantee = role_for(kind)
                if role_exists(grantee) and not _has_schema_usage(cur, grantee, schema):
                    cur.execute(
                        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(
                            sql.Identifier(schema), sql.Identifier(grantee)
                        )
                    )
    return schema


def _has_schema_usage(cur, role: str, schema: str) -> bool:
    cur.execute("SELECT has_schema_privilege(%s, %s, 'USAGE')", [role, schema])
    return bool(cur.fetchone()[0])


# --- masked reads through SECURITY DEFINER functions -------------------------------------------


@dataclass(frozen=True)
class ReadColumn:
    name: str
    type: str  # SQL type
    key: bool = False
    # The column's masking (`security.masking.Mask`), or None: shown as stored. Where only
    # whether it is masked matters, any other non-None value says so.
    mask: object = None
    # The column is the table's update flag (the supply functions filter by it).
    update_flag: bool = False
    # The fingerprint of the key under which the table stores this column's keyed hash in
    # its companion column (`security.masking.stored_hash_column`), or "": none current.
    stored_hash: str = ""

    @property
    def masked(self) -> bool:
        return self.mask is not None


# The functions take the key of the `hmac` method as their last argument: it is never written
# into their bodies (pg_proc is readable by every role).
HMAC_KEY_ARG = sql.SQL("p_hmac_key")


def mask_signature(mask) -> str:
    """What a masking is, as text: the read functions remember what they were made with."""
    return repr(as_mask(mask))


def masked_expression(
    column: ReadColumn, ref: sql.Composable, alias: str | None = None
) -> sql.Composable:
    """The column as it may leave its zone: masked by `security.masking` in SQL, or as it is.
    With the table's `alias`, a keyed hash the table stores is read from its companion column
    (where the caller's key is the one it was stored under)."""
    if not column.masked:
        return ref
    stored = None
    if column.stored_hash and alias:
        stored = StoredHash(
            ref=sql.SQL("{}.{}").format(
                sql.Identifier(alias), sql.Identifier(stored_hash_column(column.name))
            ),
            fingerprint=column.stored_hash,
        )
    return mask_expression(
        ref, column.mask, sql_type=column.type, hmac_key_sql=HMAC_KEY_ARG, stored=stored
    )


def function_names(table: str) -> dict[str, str]:
    return {"page": f"{table}_page", "rows": f"{table}_rows", "count": f"{table}_count"}


@dataclass(frozen=True)
class ReadFunctionBuilder:
    """More definer functions a later chapter makes beside the three above (the supply API's
    rows in each grant's delivery forms, the sandbox's aggregates), made and dropped with them,
    in the same transaction and as the same role, so they follow the table through its zone.

    `names(table)` lists the functions' names; `create(cur, *, schema, table, columns,
    grantees)` (re)creates them with the raw psycopg cursor (drop, create, REVOKE ALL FROM
    PUBLIC, GRANT EXECUTE to `grantees`); `version` is remembered with the table's masking, so
    a changed builder makes `manage.py datastore_read_functions` remake older tables."""

    key: str
    version: int
    names: object  # Callable[[str], list[str]]
    create: object  # Callable[..., None]
    # Optional: drop(cur, *, schema, table) removes what `create` made beside the functions
    # (a side table), when the table itself is dropped (a rebuild, a move between zones).
    drop: object = None


_BUILDERS: dict[str, ReadFunctionBuilder] = {}


def register_read_function_builder(builder: ReadFunctionBuilder) -> None:
    _BUILDERS[builder.key] = builder


def read_function_builders() -> list[ReadFunctionBuilder]:
    return [_BUILDERS[k] for k in sorted(_BUILDERS)]


def builders_signature() -> str:
    """What the registered builders are, as text (kept with the table's read masking)."""
    return ",".join(f"{b.key}:{b.version}" for b in read_function_builders())


def definer_function_sql(
    cur,
    *,
    schema: str,
    name: str,
    args: sql.Composable,
    returns: sql.Composable,
    body: sql.Composable,
    grantees: list[str],
) -> None:
    """Create one SECURITY DEFINER function as the read functions are made: plpgsql, STABLE,
    `search_path` pinned, no PUBLIC execute, EXECUTE granted to `grantees` only."""
    fn = _fn(schema, name)
    cur.execute(sql.SQL("DROP FUNCTION IF EXISTS {}").format(fn))
    cur.execute(
        sql.SQL(
            "CREATE FUNCTION {fn}({args}) RETURNS {returns} LANGUAGE plpgsql STABLE "
            "SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS {body}"
        ).format(fn=fn, args=args, returns=returns, body=_body(cur, body))
    )
    cur.execute(sql.SQL("REVOKE ALL ON FUNCTION {} FROM PUBLIC").format(fn))
    for grantee in grantees:
        cur.execute(
            sql.SQL("GRANT EXECUTE ON FUNCTION {} TO {}").format(fn, sql.Identifier(grantee))
        )


def reader_roles() -> list[str]:
    """The roles that may execute read functions: web and worker, where they exist."""
    return [r for r in (role_for("web"), role_for("worker")) if role_exists(r)]


def _fn(schema: str, name: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))


def _body(cur, query: sql.Composable) -> sql.Literal:
    return sql.Literal(query.as_string(cur.connection if hasattr(cur, "connection") else cur))


def _raw_connection():
    connection.ensure_connection()
    return connection.connection


def page_uses_position(columns: list[ReadColumn]) -> bool:
    """A page is in `ctid` order when the table has no key or a masked key column."""
    keys = [c for c in columns if c.key]
    return not keys or any(c.masked for c in keys)


def read_functions_drop(*, schema: str, table: str) -> None:
    names = list(function_names(table).values())
    for builder in read_function_builders():
        names.extend(builder.names(table))
    with connection.cursor() as cur:
        for name in names:
            cur.execute(sql.SQL("DROP FUNCTION IF EXISTS {}").format(_fn(schema, name)))
        for builder in read_function_builders():
            if builder.drop is not None:
                builder.drop(cur, schema=schema, table=table)


def read_functions_create(*, schema: str, table: str, columns: list[ReadColumn]) -> None:
    """(Re)create the table's three read functions. Run by whoever owns the table (inside
    `zone_role` for a zone table), in the caller's transaction."""
    raw = _raw_connection()
    names = function_names(table)
    tbl = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    keys = [c for c in columns if c.key]
    by_position = page_uses_position(columns)
    out_cols = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL("text" if c.masked else c.type))
        for c in columns
    ]
    selected = [
        masked_expression(c, sql.SQL("t.{}").format(sql.Identifier(c.name)), "t") for c in columns
    ]
    pos = sql.SQL("t.ctid::text") if by_position else sql.SQL("NULL::text")

    # -- page
    if by_position:
        order = [sql.SQL("t.ctid")]
        cast = [sql.SQL("p_after[1]::tid")]
    else:
        order = [sql.SQL("t.{}").format(sql.Identifier(c.name)) for c in keys]
        cast = [
            sql.SQL("p_after[{}]::{}").format(sql.Literal(i + 1), sql.SQL(c.type))
            for i, c in enumerate(keys)
        ]
    row_ = sql.SQL("({})").format(sql.SQL(", ").join(order))
    after = sql.SQL("({})").format(sql.SQL(", ").join(cast))
    prefix_ok = bool(keys) and not keys[0].masked
    prefix = (
        sql.SQL("(p_prefix IS NULL OR t.{}::text LIKE p_prefix)").format(
            sql.Identifier(keys[0].name)
        )
        if prefix_ok
        else sql.SQL("TRUE")
    )

    def page_query(desc: bool) -> sql.Composable:
        return sql.SQL(
            "SELECT {sel}, {pos} FROM {tbl} t WHERE {prefix} AND (p_after IS NULL OR {row} {op} {after}) "
            "ORDER BY {order} LIMIT p_limit"
        ).format(
            sel=sql.SQL(", ").join(selected),
            pos=pos,
            tbl=tbl,
            prefix=prefix,
            row=row_,
            op=sql.SQL("<" if desc else ">"),
            after=after,
            order=sql.SQL(", ").join(
                sql.SQL("{}{}").format(o, sql.SQL(" DESC" if desc else "")) for o in order
            ),
        )

    refuse_prefix = (
        sql.SQL("")
        if prefix_ok
        else sql.SQL(
            "IF p_prefix IS NOT NULL THEN RAISE EXCEPTION 'no filter on a masked or missing key' "
            "USING ERRCODE = '42501'; END IF; "
        )
    )
    page_body = sql.SQL(
        "#variable_conflict use_column\nBEGIN {refuse} IF p_backwards THEN RETURN QUERY {desc}; "
        "ELSE RETURN QUERY {asc}; END IF; END"
    ).format(refuse=refuse_prefix, desc=page_query(True), asc=page_query(False))

    # -- rows by key
    if keys and not any(c.masked for c in keys):
        n = len(keys)
        picks = sql.SQL(", ").join(
            sql.SQL("p_keys[(i - 1) * {} + {}]").format(sql.Literal(n), sql.Literal(j + 1))
            for j in range(n)
        )
        key_text = sql.SQL(", ").join(
            sql.SQL("t.{}::text").format(sql.Identifier(c.name)) for c in keys
        )
        rows_body = sql.SQL(
            "#variable_conflict use_column\nBEGIN RETURN QUERY SELECT {sel} FROM {tbl} t "
            "WHERE ({key}) IN (SELECT {picks} FROM generate_series(1, "
            "coalesce(cardinality(p_keys), 0) / {n}) AS i); END"
        ).format(
            sel=sql.SQL(", ").join(sql.SQL("({})::text").format(e) for e in selected),
            tbl=tbl,
            key=key_text,
            picks=picks,
            n=sql.Literal(n),
        )
    else:
        rows_body = sql.SQL(
            "BEGIN RAISE EXCEPTION 'rows are named by an unmasked key only' "
            "USING ERRCODE = '42501'; END"
        )
    text_cols = [sql.SQL("{} text").format(sql.Identifier(c.name)) for c in columns]

    # -- counts: one branch per column, each with its own masking
    branches = []
    for c in columns:
        ref = sql.SQL("t.{}").format(sql.Identifier(c.name))
        value = (
            sql.SQL("to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS')").format(ref)
            if c.type.startswith("timestamp")
            else sql.SQL("{}::text").format(ref)
        )
        shown = (
            mask_expression(sql.SQL("g.v"), c.mask, sql_type="text", hmac_key_sql=HMAC_KEY_ARG)
            if c.masked
            else sql.SQL("left(g.v, 200)")
        )
        branches.append(
            sql.SQL(
                "IF p_column = {lit} THEN "
                "SELECT count(*) FILTER (WHERE s.v <> ''), "
                "count(*) FILTER (WHERE s.v <> '' AND NOT s.v = ANY(p_accepted)) "
                "INTO checked, failing FROM (SELECT {v} AS v FROM {tbl} t) s WHERE s.v IS NOT NULL; "
                "RETURN QUERY SELECT checked, failing, NULL::text, NULL::bigint; "
                "RETURN QUERY SELECT NULL::bigint, NULL::bigint, {shown}, g.n FROM ("
                "SELECT s.v, count(*) AS n FROM (SELECT {v} AS v FROM {tbl} t) s "
                "WHERE s.v IS NOT NULL AND s.v <> '' AND NOT s.v = ANY(p_accepted) "
                "GROUP BY s.v ORDER BY count(*) DESC, s.v LIMIT {lim}) g "
                "ORDER BY g.n DESC, g.v; RETURN; END IF;"
            ).format(
                lit=sql.Literal(c.name),
                v=value,
                tbl=tbl,
                shown=shown,
                lim=sql.Literal(COUNT_SAMPLES),
            )
        )
    count_body = sql.SQL(
        "#variable_conflict use_column\nDECLARE checked bigint; failing bigint; BEGIN {branches} "
        "RAISE EXCEPTION 'no such column' USING ERRCODE = '42703'; END"
    ).format(branches=sql.SQL(" ").join(branches))

    grantees = reader_roles()
    with raw.cursor() as cur:
        for name in names.values():
            cur.execute(sql.SQL("DROP FUNCTION IF EXISTS {}").format(_fn(schema, name)))
        definitions = [
            (
                names["page"],
                sql.SQL(
                    "p_after text[], p_backwards boolean, p_prefix text, p_limit integer, "
                    "p_hmac_key text"
                ),
                sql.SQL("TABLE ({}, _pos text)").format(sql.SQL(", ").join(out_cols)),
                page_body,
            ),
            (
                names["rows"],
                sql.SQL("p_keys text[], p_hmac_key text"),
                sql.SQL("TABLE ({})").format(sql.SQL(", ").join(text_cols)),
                rows_body,
            ),
            (
                names["count"],
                sql.SQL("p_column text, p_accepted text[], p_hmac_key text"),
                sql.SQL(
                    "TABLE (checked_rows bigint, failing_rows bigint, sample text, sample_rows bigint)"
                ),
                count_body,
            ),
        ]
        for name, args, returns, body in definitions:
            definer_function_sql(
                cur,
                schema=schema,
                name=name,
                args=args,
                returns=returns,
                body=body,
                grantees=grantees,
            )
        for builder in read_function_builders():
            builder.create(cur, schema=schema, table=table, columns=columns, grantees=grantees)


def read_page(
    *,
    schema: str,
    table: str,
    after: list | None,
    backwards: bool,
    prefix: str | None,
    limit: int,
) -> list[tuple]:
    """Rows of a page through `<table>_page`: each row's values (masked) then `_pos`."""
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}(%s::text[], %s, %s, %s, %s)").format(
                _fn(schema, function_names(table)["page"])
            ),
            [
                [None if v is None else str(v) for v in after] if after is not None else None,
                backwards,
                prefix,
                limit,
                hmac_key(),
            ],
        )
        return cur.fetchall()


def read_rows(*, schema: str, table: str, keys: list[list[str]]) -> list[tuple]:
    """The rows (as text, masked) with these keys through `<table>_rows`."""
    flat = [str(v) for key in keys for v in key]
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}(%s::text[], %s)").format(
                _fn(schema, function_names(table)["rows"])
            ),
            [flat, hmac_key()],
        )
        return cur.fetchall()


def read_count(
    *, schema: str, table: str, column: str, accepted: list[str]
) -> tuple[int, int, list[tuple[str, int]]]:
    """(non-empty values, values not in `accepted`, [(shown value, rows)] most frequent
    failing first) of a column through `<table>_count`."""
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT * FROM {}(%s, %s::text[], %s)").format(
                _fn(schema, function_names(table)["count"])
            ),
            [column, accepted, hmac_key()],
        )
        found = cur.fetchall()
    checked, failing = found[0][0], found[0][1]
    return checked or 0, failing or 0, [(r[2], r[3]) for r in found[1:]]
