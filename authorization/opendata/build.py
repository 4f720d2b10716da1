"""Writing the open-data files of a resource (in the worker).

Rows leave their table only through the table's masked SECURITY DEFINER page function
(`security.zones`, `<table>_page`), called once for the whole table in key order, and only the
columns of `catalog.public.public_fields`. The key of the HMAC masking is handed to the
function through a transaction-local setting, so it is never written into a statement's text.

- CSV: `COPY (SELECT <public columns> FROM <table>_page(...)) TO STDOUT (FORMAT csv)` streamed
  into the file after a header row of the items' Chinese names (UTF-8 with a BOM, so that
  Excel reads the Chinese): PostgreSQL formats the rows, Python only copies bytes. The file is
  made for spreadsheets, so a text value that would start a formula there (`=`, `+`, `-`, `@`,
  tab, carriage return) is written with a leading `'` (OWASP's CSV-injection advice); the JSON
  file and the APIs keep every value exactly as stored.
- XLSX and JSON: one pass over a server-side cursor, written together. XLSX with openpyxl's
  write-only mode, a new sheet (header repeated) every `SHEET_ROWS` rows, since Excel holds
  1,048,576 rows a sheet; text that would start a formula is stored as text.
- JSON: `{"resource", "name", "licence", "fields": [{"name", "title"}], "rows": [{...}]}`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import connection
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from psycopg import sql

from security.masking import hmac_key
from security.zones import function_names
from wuhan_pdr.kernel.excel import FORMULA_PREFIXES, safe_value

# Rows of a sheet, the header included (Excel's limit).
SHEET_ROWS = 1_048_576
FETCH_ROWS = 5000
KEY_SETTING = "pdr.open_hmac_key"


@dataclass(frozen=True)
class PublicColumn:
    name: str  # the datastore column
    title: str  # the item's (Chinese) name
    text: bool = False  # text a person typed (or masked text): guarded against formulas in CSV


@dataclass
class Built:
    rows: int
    sheets: int = 1


def _page_function(schema: str, table: str) -> sql.Composed:
    return sql.SQL("{}.{}").format(
        sql.Identifier(schema), sql.Identifier(function_names(table)["page"])
    )


def rows_query(*, schema: str, table: str, columns: list[PublicColumn]) -> sql.Composed:
    """Every row of the table in key order, masked, public columns only."""
    return sql.SQL(
        "SELECT {cols} FROM {fn}(NULL::text[], false, NULL::text, NULL::integer, "
        "current_setting({setting}))"
    ).format(
        cols=sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        fn=_page_function(schema, table),
        setting=sql.Literal(KEY_SETTING),
    )


def _raw():
    connection.ensure_connection()
    return connection.connection


def hand_key(cur) -> None:
    """The masking key for this transaction only (call inside `transaction.atomic`)."""
    cur.execute("SELECT set_config(%s, %s, true)", [KEY_SETTING, hmac_key()])


def csv_query(query: sql.Composed, columns: list[PublicColumn]) -> sql.Composed:
    """`query` with each text column that starts as a spreadsheet formula would prefixed by
    `'`, so that no cell of the CSV becomes a live formula when a spreadsheet opens it."""
    prefixes = sql.SQL(", ").join(sql.Literal(p) for p in FORMULA_PREFIXES)
    exprs = []
    for c in columns:
        ref = sql.SQL("q.{}").format(sql.Identifier(c.name))
        if c.text:
            exprs.append(
                sql.SQL(
                    "CASE WHEN left({r}::text, 1) IN ({p}) THEN '''' || {r}::text "
                    "ELSE {r}::text END AS {n}"
                ).format(r=ref, p=prefixes, n=sql.Identifier(c.name))
            )
        else:
            exprs.append(ref)
    return sql.SQL("SELECT {} FROM ({}) q").format(sql.SQL(", ").join(exprs), query)


def write_csv(path: Path, *, query: sql.Composed, columns: list[PublicColumn]) -> Built:
    rows = 0
    with path.open("wb") as out, _raw().cursor() as cur:
        hand_key(cur)
        head = io.StringIO()
        csv.writer(head, lineterminator="\r\n").writerow([c.title for c in columns])
        out.write(("\ufeff" + head.getvalue()).encode())
        copy_sql = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv)").format(
            csv_query(query, columns)
        )
        with cur.copy(copy_sql) as copy:
            for chunk in copy:
                out.write(chunk)
        rows = cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
    return Built(rows=rows)


def _json_value(value) -> str:
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else "null"
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return json.dumps(value.isoformat())
    if isinstance(value, (bytes, memoryview)):
        return json.dumps(bytes(value).hex())
    return json.dumps(value, ensure_ascii=False)


def _xlsx_value(value):
    if isinstance(value, Decimal):
        return float(value) if value.is_finite() else str(value)
    if isinstance(value, (bytes, memoryview)):
        return bytes(value).hex()
    return value


class _Sheets:
    def __init__(self, columns: list[PublicColumn], sheet_title: str):
        self.wb = Workbook(write_only=True)
        self.columns = columns
        self.title = sheet_title[:25]
        self.count = 0
        self.in_sheet = SHEET_ROWS  # start a sheet at the first row
        self.ws = None
        self.bold = Font(bold=True)

    def _new_sheet(self) -> None:
        self.count += 1
        self.ws = self.wb.create_sheet(title=f"{self.title}{self.count}")
        head = []
        for c in self.columns:
            cell = WriteOnlyCell(self.ws, value=c.title)
            cell.font = self.bold
            head.append(cell)
        self.ws.append(head)
        self.in_sheet = 1

    def append(self, row) -> None:
        if self.in_sheet >= SHEET_ROWS:
            self._new_sheet()
        ws = self.ws
        cells = []
        for v in row:
            value = safe_value(_xlsx_value(v))
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
                cell.data_type = "s"  # text, never a formula
            cells.append(cell)
        ws.append(cells)
        self.in_sheet += 1

    def save(self, path: Path) -> int:
        if self.ws is None:
            self._new_sheet()  # an empty table still has its header
        self.wb.save(str(path))
        return self.count


def write_xlsx_and_json(
    xlsx_path: Path,
    json_path: Path,
    *,
    query: sql.Composed,
    columns: list[PublicColumn],
    meta: dict,
    sheet_title: str,
) -> tuple[Built, Built]:
    rows = 0
    sheets = _Sheets(columns, sheet_title)
    keys = [json.dumps(c.name) for c in columns]
    with json_path.open("w", encoding="utf-8") as out:
        head = dict(meta)
        head["fields"] = [{"name": c.name, "title": c.title} for c in columns]
        opening = json.dumps(head, ensure_ascii=False)
        out.write(opening[:-1] + ', "rows": [')
        raw = _raw()
        with raw.cursor() as cur:
            hand_key(cur)
        with raw.cursor(name="opendata_rows") as cur:
            cur.itersize = FETCH_ROWS
            cur.execute(query)
            for row in cur:
                if rows:
                    out.write(",")
                out.write(
                    "\n{"
                    + ", ".join(f"{k}: {_json_value(v)}" for k, v in zip(keys, row, strict=True))
                    + "}"
                )
                sheets.append(row)
                rows += 1
        out.write("\n]}\n")
    count = sheets.save(xlsx_path)
    return Built(rows=rows, sheets=count), Built(rows=rows)
