"""The stored values a proposed data element would reject (catalog/standards/impact.py asks).

For every item bound to the element in the published version of its resource, the column of
the resource's datastore table is counted set-based:

- a code-list value domain: one SQL statement compares the column with the values the
  proposed element accepts (the codes valid today that also pass its format and checksum);
- any other format, pattern or checksum: PostgreSQL groups the column into its distinct
  values, and a server-side cursor streams only those, with their row counts, through the
  catalog's compiled validator in chunks (exact: the very checks a value meets anywhere else).

Samples are the most frequent failing values, masked as the data preview masks the column.
"""

from __future__ import annotations

import heapq
import itertools

from django.conf import settings
from django.db import connection, transaction
from django.utils import translation
from psycopg import sql

from catalog.models import DataItem
from catalog.standards.impact import SAMPLES, ColumnCount
from catalog.standards.validation import compile_validator
from security import zones
from security.masking import mask_value

from .datastore import (
    columns_for,
    qualified,
    read_functions_current,
    read_functions_refresh,
    table_zone,
)
from .models import DatastoreTable
from .selectors import can_preview, masked_columns

CHUNK = 20_000  # distinct values fetched and validated at a time
_names = itertools.count(1)


def _text(column: str, data_type: str) -> sql.Composable:
    """The column as the text a value of it is written as (timestamps with the ISO "T")."""
    ident = sql.Identifier(column)
    if data_type == "T":
        return sql.SQL("to_char({}, 'YYYY-MM-DD\"T\"HH24:MI:SS')").format(ident)
    return sql.SQL("{}::text").format(ident)


def _count_codes(table: DatastoreTable, column: str, accepted: list[str]):
    """(non-empty values, failing values, [(value as shown, rows)] most frequent failing
    first), counted by the table's read function: the samples leave it masked when the
    column is."""
    with transaction.atomic():
        if not read_functions_current(table):
            read_functions_refresh(table)
        return zones.read_count(
            schema=table.schema, table=table.table_name, column=column, accepted=accepted
        )


def _count_streamed(table: DatastoreTable, value: sql.Composable, validator):
    """The same, by streaming the column's distinct values through `validator` (the values
    are checked by the catalog's Python validator, so they are read in clear: this runs in
    the worker's count job, as the zone's role for a zone table, and only counts and masked
    samples leave it)."""
    checked = failing = 0
    worst: list[tuple[int, str]] = []  # a min-heap of (rows, value), SAMPLES long
    query = sql.SQL(
        "SELECT v, count(*) FROM (SELECT {} AS v FROM {}) s"
        " WHERE v IS NOT NULL AND v <> '' GROUP BY v"
    ).format(value, qualified(table))
    with transaction.atomic(), zones.zone_role(table_zone(table)):
        # A named (server-side) cursor lives in a transaction.
        raw = connection.connection
        with raw.cursor(name=f"impact_{next(_names)}") as cur:
            cur.itersize = CHUNK
            cur.execute(query)
            while True:
                chunk = cur.fetchmany(CHUNK)
                if not chunk:
                    break
                values = [v for v, _ in chunk]
                checked += sum(n for _, n in chunk)
                for index, _message in validator.bulk(values):
                    rows = chunk[index][1]
                    failing += rows
                    entry = (rows, values[index])
                    if len(worst) < SAMPLES:
                        heapq.heappush(worst, entry)
                    elif entry > worst[0]:
                        heapq.heapreplace(worst, entry)
    samples = [(v, n) for n, v in sorted(worst, key=lambda e: (-e[0], e[1]))]
    return checked, failing, samples


def _sample(validator, value: str, rows: int, *, rule=None, already_masked: bool = False) -> dict:
    """A failing value as it may be shown (masked by the column's `rule`, if any), and why it
    fails in each language of the portal (a message that quotes the value quotes it masked
    too). The value is the column's text as PostgreSQL writes it, so the masking agrees with
    the SQL masking of the preview. A value `already_masked` by the table's read function is
    shown as it came."""
    if already_masked:
        messages = {}
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                messages[code] = (validator(value) or "")[:300]
        return {"value": value, "count": rows, "messages": messages}
    masked = rule is not None
    shown = mask_value(value, rule) if masked else value[:200]
    messages = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            message = validator(value) or ""
        if masked:  # the code-list message quotes the value: quote it masked
            message = message.replace(f"“{value[:50]}”", f"“{shown}”")
        messages[code] = message[:300]
    return {"value": shown, "count": rows, "messages": messages}


class DatastoreCounter:
    """The counter the catalog's change requests use (registered in AggregationConfig)."""

    def count(self, element, items: list[DataItem]) -> list[ColumnCount]:
        validator = compile_validator(element)
        out: list[ColumnCount] = []
        by_version: dict[int, list[DataItem]] = {}
        for item in items:
            by_version.setdefault(item.version_id, []).append(item)
        for version_id, bound in by_version.items():
            resource = bound[0].version.resource
            all_items = sorted(
                DataItem.objects.filter(version_id=version_id), key=lambda i: i.position
            )
            names = {i.pk: c.name for i, c in zip(all_items, columns_for(all_items), strict=True)}
            table = DatastoreTable.objects.filter(resource=resource).first()
            present = {d["name"] for d in table.columns} if table else set()
            masked = masked_columns(table) if table else {}
            for item in bound:
                column = names.get(item.pk, "")
                result = ColumnCount(
                    resource_id=resource.pk, item_id=item.pk, item_name=item.name, column=column
                )
                out.append(result)
                if table is None or column not in present:
                    continue
                result.stored = True
                value = _text(column, item.data_type)
                if validator.accepted is not None:
                    checked, failing, samples = _count_codes(
                        table, column, sorted(validator.accepted - {""})
                    )
                    shown_masked = column in (table.read_masked or {})
                else:
                    checked, failing, samples = _count_streamed(table, value, validator)
                    shown_masked = False
                result.checked, result.failing = checked, failing
                result.samples = [
                    _sample(validator, v, n, rule=masked.get(column), already_masked=shown_masked)
                    for v, n in samples
                ]
        return out

    def may_see_samples(self, user, resource) -> bool:
        return bool(getattr(user, "is_authenticated", False)) and can_preview(user, resource)


counter = DatastoreCounter()
