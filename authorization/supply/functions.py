"""The supply API's SECURITY DEFINER functions, made with every table's read functions.

`security.zones` makes three functions per datastore table that mask by the table's fixed
rules (the preview's path). The supply API delivers each column in the form a grant chose for
it, so it needs functions that take the forms as an argument. They are generated here and
registered as a `zones.ReadFunctionBuilder` (hooks.py), so they are made, remade and dropped
with the table's other read functions, in its schema and as its owner (the zone's role for a
zone table): the web role still reads no zone table, only calls these.

Per table `<t>`:

- `<t>_supply(p_forms text[], p_after text[], p_limit integer, p_changed_since text,
  p_hmac_key text)`: a keyset page. `p_forms` has one entry per column, in column order:
  `clear` (the stored value as text), `hmac` (hex HMAC-SHA256 under `p_hmac_key`), `masked`
  (the column's masking rule, or the default masking where it has none) or `omit` (NULL).
  Rows come in key order when the table's key columns are unmasked and every key column is
  asked `clear`; otherwise in storage order (`ctid`), because a key that leaves masked or not
  at all is never a sort key (its order, and the cursor's raw value, would tell it). `_pos` is
  the row's `ctid` in storage order (NULL in key order, where the key columns are the
  position). `p_changed_since` (the update-flag column's type, as text) keeps the rows whose
  update flag is not older; it is refused unless the flag column is asked `clear`.
- `<t>_supply_count(p_forms text[], p_changed_since text)`: how many rows the same filter keeps.
- `<t>_supply_deleted(p_forms text[], p_since timestamptz, p_limit integer, p_hmac_key text)`:
  the keys full loads removed since `p_since` (`<t>_deleted`, written by `deletions.py`), each
  key column in its form, oldest first.

Every value is a parameter: the bodies hold quoted identifiers and form names, never a value
or a secret (the HMAC key is an argument, as in `security.zones`).
"""

from __future__ import annotations

from psycopg import sql

from security import zones
from security.masking import DEFAULT_MASK, HMAC, Mask, mask_expression

VERSION = 1
KEY = "supply"
SIGNATURE = f"{KEY}:{VERSION}"  # as `zones.builders_signature` writes it

CLEAR = "clear"
HMAC_FORM = "hmac"
MASKED = "masked"
OMIT = "omit"
FORMS = (CLEAR, HMAC_FORM, MASKED, OMIT)
# The most rows a page may ask for (the API's `limit` is at most this).
MAX_LIMIT = 5000

FLAG_TYPES = ("date", "timestamp", "timestamptz", "timestamp with time zone")


def names(table: str) -> list[str]:
    return [f"{table}_supply", f"{table}_supply_count", f"{table}_supply_deleted"]


def deleted_table(table: str) -> str:
    """The table (beside `table`, in its schema) of the keys full loads removed."""
    return f"{table}_deleted"


def _ident(*parts: str) -> sql.Composed:
    return sql.SQL(".").join(sql.Identifier(p) for p in parts)


def keyed_order(columns: list[zones.ReadColumn]) -> bool:
    """Whether the table can be paged in key order at all (keys, none of them masked)."""
    return not zones.page_uses_position(columns)


def _flag(columns: list[zones.ReadColumn]) -> tuple[str, str] | None:
    """(name, type) of the table's update-flag column."""
    for c in columns:
        if getattr(c, "update_flag", False):
            return c.name, c.type
    return None


def delivered(column: zones.ReadColumn, index: int, ref: sql.Composable) -> sql.Composable:
    """The column in the form `p_forms[index]` asks, as text (NULL when omitted)."""
    text = ref if column.type in ("text",) else sql.SQL("({})::text").format(ref)
    hmac = mask_expression(ref, Mask(HMAC), sql_type=column.type, hmac_key_sql=zones.HMAC_KEY_ARG)
    masked = mask_expression(
        ref,
        column.mask if column.masked else DEFAULT_MASK,
        sql_type=column.type,
        hmac_key_sql=zones.HMAC_KEY_ARG,
    )
    return sql.SQL(
        "CASE p_forms[{i}] WHEN 'clear' THEN {text} WHEN 'hmac' THEN {hmac} "
        "WHEN 'masked' THEN ({masked})::text ELSE NULL::text END"
    ).format(i=sql.Literal(index), text=text, hmac=hmac, masked=masked)


def _checks(columns, flag) -> sql.Composable:
    """The argument checks every function starts with."""
    flag_check = sql.SQL("")
    if flag is None:
        flag_check = sql.SQL(
            "IF p_changed_since IS NOT NULL THEN RAISE EXCEPTION 'no update flag' "
            "USING ERRCODE = '42501'; END IF; "
        )
    else:
        index = next(i for i, c in enumerate(columns, 1) if c.name == flag[0])
        flag_check = sql.SQL(
            "IF p_changed_since IS NOT NULL AND p_forms[{i}] IS DISTINCT FROM 'clear' THEN "
            "RAISE EXCEPTION 'the update flag is not delivered in clear' "
            "USING ERRCODE = '42501'; END IF; "
        ).format(i=sql.Literal(index))
    return sql.SQL(
        "IF coalesce(cardinality(p_forms), 0) <> {n} OR EXISTS (SELECT 1 FROM unnest(p_forms) f "
        "WHERE f IS NULL OR f NOT IN ('clear', 'hmac', 'masked', 'omit')) THEN "
        "RAISE EXCEPTION 'one form per column' USING ERRCODE = '22023'; END IF; {flag}"
    ).format(n=sql.Literal(len(columns)), flag=flag_check)


def create(cur, *, schema: str, table: str, columns: list[zones.ReadColumn], grantees) -> None:
    """(Re)create the three supply functions of `schema.table` and its deleted-keys table."""
    tbl = _ident(schema, table)
    keys = [(i, c) for i, c in enumerate(columns, 1) if c.key]
    flag = _flag(columns)
    out_cols = [sql.SQL("{} text").format(sql.Identifier(c.name)) for c in columns]
    selected = sql.SQL(", ").join(
        delivered(c, i, sql.SQL("t.{}").format(sql.Identifier(c.name)))
        for i, c in enumerate(columns, 1)
    )
    if flag is not None:
        changed = sql.SQL("(p_changed_since IS NULL OR t.{} >= p_changed_since::{})").format(
            sql.Identifier(flag[0]), sql.SQL(flag[1])
        )
    else:
        changed = sql.SQL("TRUE")
    limit = sql.SQL("least(greatest(coalesce(p_limit, 0), 0), {})").format(
        sql.Literal(MAX_LIMIT + 1)
    )

    def page(order: list[sql.Composable], after: sql.Composable | None, pos) -> sql.Composable:
        row = sql.SQL("({})").format(sql.SQL(", ").join(order))
        where = changed
        if after is not None:
            where = sql.SQL("{} AND {} > {}").format(changed, row, after)
        return sql.SQL(
            "SELECT {sel}, {pos} FROM {tbl} t WHERE {where} ORDER BY {order} LIMIT {lim}"
        ).format(
            sel=selected,
            pos=pos,
            tbl=tbl,
            where=where,
            order=sql.SQL(", ").join(order),
            lim=limit,
        )

    by_position = [
        sql.SQL(
            "IF p_after IS NULL THEN RETURN QUERY {first}; ELSE RETURN QUERY {next}; END IF;"
        ).format(
            first=page([sql.SQL("t.ctid")], None, sql.SQL("t.ctid::text")),
            next=page([sql.SQL("t.ctid")], sql.SQL("(p_after[1]::tid)"), sql.SQL("t.ctid::text")),
        )
    ]
    if keyed_order(columns):
        order = [sql.SQL("t.{}").format(sql.Identifier(c.name)) for _, c in keys]
        after = sql.SQL("({})").format(
            sql.SQL(", ").join(
                sql.SQL("p_after[{}]::{}").format(sql.Literal(n), sql.SQL(c.type))
                for n, (_, c) in enumerate(keys, 1)
            )
        )
        all_clear = sql.SQL(" AND ").join(
            sql.SQL("p_forms[{}] = 'clear'").format(sql.Literal(i)) for i, _ in keys
        )
        body = sql.SQL(
            "IF {all_clear} THEN IF p_after IS NULL THEN RETURN QUERY {first}; "
            "ELSE RETURN QUERY {next}; END IF; ELSE {by_position} END IF;"
        ).format(
            all_clear=all_clear,
            first=page(order, None, sql.SQL("NULL::text")),
            next=page(order, after, sql.SQL("NULL::text")),
            by_position=by_position[0],
        )
    else:
        body = by_position[0]
    supply_body = sql.SQL("#variable_conflict use_column\nBEGIN {checks} {body} END").format(
        checks=_checks(columns, flag), body=body
    )

    count_body = sql.SQL(
        "#variable_conflict use_column\nDECLARE n bigint; BEGIN {checks} "
        "SELECT count(*) INTO n FROM {tbl} t WHERE {changed}; RETURN n; END"
    ).format(checks=_checks(columns, flag), tbl=tbl, changed=changed)

    # -- the deleted-keys table and its reader
    deleted = _ident(schema, deleted_table(table))
    if keys:
        cur.execute(
            sql.SQL(
                "CREATE TABLE IF NOT EXISTS {} ({}, deleted_at timestamptz NOT NULL DEFAULT now())"
            ).format(
                deleted,
                sql.SQL(", ").join(
                    sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))
                    for _, c in keys
                ),
            )
        )
        cur.execute(
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (deleted_at)").format(
                sql.Identifier(f"{deleted_table(table)}_at"), deleted
            )
        )
        key_sel = sql.SQL(", ").join(
            delivered(c, i, sql.SQL("d.{}").format(sql.Identifier(c.name))) for i, c in keys
        )
        deleted_body = sql.SQL(
            "#variable_conflict use_column\nBEGIN {checks} RETURN QUERY SELECT {sel}, d.deleted_at "
            "FROM {deleted} d WHERE d.deleted_at >= p_since ORDER BY d.deleted_at LIMIT {lim}; END"
        ).format(
            checks=sql.SQL(
                "IF coalesce(cardinality(p_forms), 0) <> {} THEN RAISE EXCEPTION "
                "'one form per column' USING ERRCODE = '22023'; END IF;"
            ).format(sql.Literal(len(columns))),
            sel=key_sel,
            deleted=deleted,
            lim=sql.SQL("greatest(coalesce(p_limit, 0), 0)"),
        )
        deleted_returns = sql.SQL("TABLE ({}, deleted_at timestamptz)").format(
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(c.name)) for _, c in keys)
        )
    else:
        deleted_body = sql.SQL(
            "BEGIN RAISE EXCEPTION 'a table without key has no deleted keys' "
            "USING ERRCODE = '42501'; END"
        )
        deleted_returns = sql.SQL("TABLE (deleted_at timestamptz)")

    definitions = [
        (
            f"{table}_supply",
            sql.SQL(
                "p_forms text[], p_after text[], p_limit integer, p_changed_since text, "
                "p_hmac_key text"
            ),
            sql.SQL("TABLE ({}, _pos text)").format(sql.SQL(", ").join(out_cols)),
            supply_body,
        ),
        (
            f"{table}_supply_count",
            sql.SQL("p_forms text[], p_changed_since text"),
            sql.SQL("bigint"),
            count_body,
        ),
        (
            f"{table}_supply_deleted",
            sql.SQL("p_forms text[], p_since timestamptz, p_limit integer, p_hmac_key text"),
            deleted_returns,
            deleted_body,
        ),
    ]
    for name, args, returns, body in definitions:
        zones.definer_function_sql(
            cur, schema=schema, name=name, args=args, returns=returns, body=body, grantees=grantees
        )


def drop(cur, *, schema: str, table: str) -> None:
    """With the table (a rebuild or a move between zones): its deleted-keys table too. The
    rebuilt table has a new generation; its clients start again from a full load."""
    cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(_ident(schema, deleted_table(table))))


BUILDER = zones.ReadFunctionBuilder(key=KEY, version=VERSION, names=names, create=create, drop=drop)
