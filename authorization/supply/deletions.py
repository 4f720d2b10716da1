"""Keys removed by full loads, for the supply API's `changed_since`.

A full load replaces a table with the rows of the new file; a row whose key is not in the
file is gone, and a client that pulls changes by the update flag would never learn it. So,
just before the swap (`aggregation.loading.register_full_swap_hook`), the keys of the live
table missing from the new one are appended to `<table>_deleted` (in the table's schema, as
the table's owner: the keys of a zone table stay in its zone), and keys that come back are
taken out of it (a key deleted, then loaded again, is not reported deleted). The supply
functions read it through `<table>_supply_deleted`, each key column in the grant's form.

A table without key has no deleted keys (its rows cannot be named).
"""

from __future__ import annotations

from psycopg import sql

from .functions import deleted_table


def record_deleted_keys(cur, *, schema: str, table: str, old, new, keys) -> None:
    if not keys:
        return
    deleted = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(deleted_table(table)))
    cols = sql.SQL(", ").join(sql.Identifier(k.name) for k in keys)
    cur.execute(
        sql.SQL(
            "CREATE TABLE IF NOT EXISTS {} ({}, deleted_at timestamptz NOT NULL DEFAULT now())"
        ).format(
            deleted,
            sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(k.name), sql.SQL(k.type)) for k in keys
            ),
        )
    )
    match = sql.SQL(" AND ").join(
        sql.SQL("n.{c} = o.{c}").format(c=sql.Identifier(k.name)) for k in keys
    )
    cur.execute(
        sql.SQL(
            "INSERT INTO {deleted} ({cols}) SELECT {ocols} FROM {old} o "
            "WHERE NOT EXISTS (SELECT 1 FROM {new} n WHERE {match})"
        ).format(
            deleted=deleted,
            cols=cols,
            ocols=sql.SQL(", ").join(sql.SQL("o.{}").format(sql.Identifier(k.name)) for k in keys),
            old=old,
            new=new,
            match=match,
        )
    )
    back = sql.SQL(" AND ").join(
        sql.SQL("n.{c} = d.{c}").format(c=sql.Identifier(k.name)) for k in keys
    )
    cur.execute(
        sql.SQL("DELETE FROM {deleted} d WHERE EXISTS (SELECT 1 FROM {new} n WHERE {back})").format(
            deleted=deleted, new=new, back=back
        )
    )
