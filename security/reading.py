"""The one read of stored rows shown to people: a keyset page of a table, masked in SQL.

The data preview (and, through the zones' definer functions, every reader of zone tables)
reads rows here. The page is ordered by the key columns (by `ctid` where the table has no
key) and positioned by key values that come from a sealed cursor (kernel/cursors.py: the
reader cannot choose them), so a masked column is never a sort key or filter a reader
controls. The only filter offered, a prefix of the first key column, is refused on a masked
column. The masked columns come out of PostgreSQL masked (`security.masking.masked_select`);
their clear values never reach Python, except the key values of the first and last row,
which the caller seals into the next cursors (`Page.first_key`, `Page.last_key`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.db import DataError, connection, transaction
from django.utils.translation import gettext_lazy as _
from psycopg import sql

from wuhan_pdr.kernel.errors import DomainError

from .masking import masked_select


class ReadRefused(DomainError):
    """A read the masking does not allow (a filter on a masked column)."""


@dataclass
class Page:
    rows: list[list] = field(default_factory=list)  # masked, in the order of `columns`
    more: bool = False  # rows beyond `limit` in the direction read
    first_key: list | None = None  # order values of the first / last row: seal them, never
    last_key: list | None = None  # show them


def read_rows(
    *,
    schema: str,
    table: str,
    columns: Sequence,
    key_columns: Sequence,
    rules: Mapping[str, object],
    after: Sequence | None = None,
    before: Sequence | None = None,
    prefix: str = "",
    limit: int = 50,
    hmac_key_sql: sql.Composable | None = None,
) -> Page:
    """Up to `limit` rows of `schema.table` after (or, with `before`, just before) the keyset
    position, in key order, each column masked by `rules[column]`.

    `columns` / `key_columns`: objects with `.name` and `.type` (aggregation's datastore
    `Column`); without key columns the table is paged by `ctid`. `after` / `before`: the order
    values of a row, as an opened cursor holds them. `prefix`: only rows whose first key
    column's text starts with it (refused when that column is masked: `ReadRefused`). A
    stored value that does not cast back to its key's type reads as no rows."""
    keys = list(key_columns)
    if prefix and keys and keys[0].name in rules and rules[keys[0].name] is not None:
        raise ReadRefused(
            _("The key column %(column)s is masked: rows cannot be filtered by its value.")
            % {"column": keys[0].name},
            field="prefix",
        )
    target = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    select = masked_select(columns, rules, qualifier="t", hmac_key_sql=hmac_key_sql)
    if keys:
        order_cols = [sql.Identifier("t", c.name) for c in keys]
        casts = [sql.SQL("%s::{}").format(sql.SQL(c.type)) for c in keys]
        extra = sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(sql.Identifier("t", c.name), sql.Identifier(f"_k{i}"))
            for i, c in enumerate(keys)
        )
    else:
        order_cols = [sql.SQL("t.ctid")]
        casts = [sql.SQL("%s::tid")]
        extra = sql.SQL("t.ctid::text AS _k0")
    where: list = []
    params: list = []
    if prefix and keys:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        where.append(sql.SQL("{}::text LIKE %s").format(sql.Identifier("t", keys[0].name)))
        params.append(escaped + "%")
    backwards = before is not None
    position = before if backwards else after
    if position is not None:
        where.append(
            sql.SQL("({}) {} ({})").format(
                sql.SQL(", ").join(order_cols),
                sql.SQL("<" if backwards else ">"),
                sql.SQL(", ").join(casts),
            )
        )
        params.extend(position)
    direction = sql.SQL(" DESC" if backwards else "")
    query = sql.SQL("SELECT {}, {} FROM {} AS t{} ORDER BY {} LIMIT {}").format(
        select,
        extra,
        target,
        sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
        sql.SQL(", ").join(sql.SQL("{}{}").format(c, direction) for c in order_cols),
        sql.Literal(limit + 1),
    )
    with connection.cursor() as cur:
        try:
            with transaction.atomic():
                cur.execute(query, params)
                fetched = cur.fetchall()
        except DataError:  # a cursor value that does not cast back to the key's type
            fetched = []
    more = len(fetched) > limit
    fetched = fetched[:limit]
    if backwards:
        fetched.reverse()
    n = len(columns)
    page = Page(rows=[list(r[:n]) for r in fetched], more=more)
    if fetched:
        page.first_key = list(fetched[0][n:])
        page.last_key = list(fetched[-1][n:])
    return page
