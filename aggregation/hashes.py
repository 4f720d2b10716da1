"""Keyed hashes stored beside their columns (decision "stored-keyed-hash").

The `hmac` masking method costs about as much as reading the row (decision 0017), so a table
keeps, beside each column whose rule is `hmac`, a companion column
(`security.masking.stored_hash_column`, `_hmac_<column>`, text) holding the hex HMAC-SHA256 of
the value's text under the masking key, written with the rows:

- a fast COPY of a load computes it in Python for text columns (`KeyedHasher`, the text sent is
  the text stored); for other types the rows are copied into a temporary table first and
  inserted with the hash computed in SQL;
- the checked path's INSERT, an incremental merge and a rebuild (zone move) compute it in the
  statement that writes the rows.

`DatastoreTable.stored_hashes` says, per column, the fingerprint of the key every row's
companion was filled under, or "" (not all were: a rule just set, an incremental load after a
key rotation). The read functions read a companion only where the fingerprint is known, and
only when the caller's key has that fingerprint; otherwise they compute the hash as before.
`backfill` (the job `aggregation.stored_hashes_backfill`, queued by a rule change, a mixed
load, the hourly sweep and `manage.py datastore_read_functions`) fills what is missing.

The key never appears in a statement's text nor in DDL: SQL reads it from a setting of the
transaction (`hand_key`, sent as a bound parameter). Companion columns are never data: every
reader of a datastore table names its columns (`DatastoreTable.columns`), and no companion is
listed there.
"""

from __future__ import annotations

import psycopg
from django.db import connection
from psycopg import sql

from security.masking import HMAC, KeyedHasher, as_mask, key_fingerprint, stored_hash_column
from security.masking.core import keyed_hash_sql

KEY_SETTING = "pdr.masking_key"
# The key as SQL, read once a statement (an InitPlan) from the transaction's setting.
KEY_SQL = sql.SQL("(SELECT current_setting({}))").format(sql.Literal(KEY_SETTING))
TEXT_TYPES = ("text", "varchar", "character varying")

companion = stored_hash_column


def hashed_columns(rules: dict, names) -> list[str]:
    """Of the table's column `names`, those whose masking rule (in `rules`) is `hmac`."""
    out = []
    for name in names:
        mask = as_mask(getattr(rules.get(name), "mask", rules.get(name)))
        if mask is not None and mask.method == HMAC:
            out.append(name)
    return out


def fingerprint() -> str:
    return key_fingerprint()


def text_typed(sql_type: str) -> bool:
    """Whether the column's text is the text that was sent (its hash computed in Python)."""
    return (sql_type or "").split("(")[0].strip().lower() in TEXT_TYPES


def hasher() -> KeyedHasher:
    return KeyedHasher()


def hand_key(raw_connection=None) -> None:
    """The masking key as this transaction's setting `KEY_SETTING` (call inside a
    transaction), bound as a parameter: the statement's text holds `$1`, not the key."""
    if raw_connection is None:
        connection.ensure_connection()
        raw_connection = connection.connection
    from security.masking import hmac_key

    with psycopg.Cursor(raw_connection) as cur:
        cur.execute("SELECT set_config(%s, %s, true)", [KEY_SETTING, hmac_key()])


def hash_sql(ref: sql.Composable, sql_type: str | None) -> sql.Composable:
    """The keyed hash of `ref` under the handed key (`hand_key` first)."""
    return keyed_hash_sql(ref, sql_type=sql_type, key_sql=KEY_SQL)


def add_companions(cur, table_ref: sql.Composable, names) -> None:
    for name in names:
        cur.execute(
            sql.SQL("ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} text").format(
                table_ref, sql.Identifier(companion(name))
            )
        )


def drop_companions(cur, table_ref: sql.Composable, names) -> None:
    for name in names:
        cur.execute(
            sql.SQL("ALTER TABLE {} DROP COLUMN IF EXISTS {}").format(
                table_ref, sql.Identifier(companion(name))
            )
        )


def sync_companions(
    cur, table_ref: sql.Composable, *, stored: dict, wanted: list[str], fresh=()
) -> dict:
    """Give the table a companion column for each of `wanted` and none for the others; return
    the new `stored_hashes`: a new companion is current at once where its column is `fresh`
    (just made: no value yet), else "" (a backfill is due)."""
    now = fingerprint()
    out = {name: fp for name, fp in stored.items() if name in wanted}
    added = [name for name in wanted if name not in stored]
    dropped = [name for name in stored if name not in wanted]
    if added:
        add_companions(cur, table_ref, added)
    if dropped:
        drop_companions(cur, table_ref, dropped)
    for name in added:
        out[name] = now if name in fresh else ""
    return out


def fill_sql(table_ref: sql.Composable, columns: dict[str, str]) -> sql.Composed:
    """UPDATE the companions of `columns` ({name: type}) to the hash under the handed key (a
    rotation or a new rule leaves no row right, so every row is written)."""
    sets = sql.SQL(", ").join(
        sql.SQL("{} = {}").format(sql.Identifier(companion(n)), hash_sql(sql.Identifier(n), t))
        for n, t in columns.items()
    )
    return sql.SQL("UPDATE {} SET {}").format(table_ref, sets)
