"""The canonical forms of a deposit (decision "evidence-canonical-form", docs/evidence.md).

- Data: a resource's stored rows as the CSV that PostgreSQL's
  `COPY (SELECT <columns> FROM <table> ORDER BY <key> COLLATE "C") TO STDOUT (FORMAT csv, HEADER)`
  writes under fixed session settings (`SESSION_SETTINGS`, set for the transaction only), so
  that anyone holding the same rows produces the same bytes with `psql`.
- Metadata: a JSON object serialized by RFC 8785 (JSON Canonicalization Scheme) with the
  `rfc8785` package: sorted keys, no spaces, UTF-8, no floats in what we write.

The bytes are digested (SHA-256) as they stream to their file: one pass, memory of one chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, BinaryIO

import rfc8785
from psycopg import sql

# The form names written into the metadata (`data.form`).
FORM_SNAPSHOT = "wuhan-pdr canonical csv 1"
FORM_OPEN = "wuhan-pdr open distribution csv"
FORM_FILE = "file as handed in"
METADATA_FORMAT = "wuhan-pdr deposit metadata 1"
ENTRY_TYPE = "wuhan-pdr deposit 1"

# The session settings every snapshot is written under (SET LOCAL: this transaction only). The
# values that change how a value is printed: dates and times (DateStyle, IntervalStyle,
# TimeZone), floating point (extra_float_digits = 1: the shortest text that reads back to the
# same double, PostgreSQL 12 and later), bytea (hex), and the encoding of the text (UTF-8).
SESSION_SETTINGS: tuple[tuple[str, str], ...] = (
    ("client_encoding", "UTF8"),
    ("DateStyle", "ISO, YMD"),
    ("IntervalStyle", "postgres"),
    ("TimeZone", "UTC"),
    ("extra_float_digits", "1"),
    ("bytea_output", "hex"),
)

TEXT_TYPES = ("text", "varchar", "character varying", "char", "character")


def is_text(sql_type: str) -> bool:
    base = (sql_type or "").split("(")[0].strip().lower()
    return base in TEXT_TYPES


def settings_statement() -> sql.Composed:
    """One statement setting `SESSION_SETTINGS` for the current transaction."""
    return sql.SQL("SELECT {}").format(
        sql.SQL(", ").join(
            sql.SQL("set_config({}, {}, true)").format(sql.Literal(name), sql.Literal(value))
            for name, value in SESSION_SETTINGS
        )
    )


def settings_psql() -> str:
    """The same settings as `SET` lines for psql (docs, the offline steps, the tests)."""
    return "".join(f"SET {name} = '{value}';\n" for name, value in SESSION_SETTINGS)


@dataclass(frozen=True)
class SnapshotColumn:
    name: str
    type: str
    key: bool = False


def order_columns(columns: list[SnapshotColumn]) -> list[SnapshotColumn]:
    """The columns the rows are ordered by: the key's, in table order; every column for a
    table without a key (identical rows then print identically, whatever their order)."""
    keys = [c for c in columns if c.key]
    return keys or list(columns)


def snapshot_select(*, schema: str, table: str, columns: list[SnapshotColumn]) -> sql.Composed:
    """SELECT <columns> FROM <schema>.<table> ORDER BY <order columns, text COLLATE "C">."""
    order = []
    for c in order_columns(columns):
        ref = sql.Identifier(c.name)
        if is_text(c.type):
            order.append(sql.SQL('{} COLLATE "C" ASC NULLS LAST').format(ref))
        else:
            order.append(sql.SQL("{} ASC NULLS LAST").format(ref))
    return sql.SQL("SELECT {} FROM {}.{} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c.name) for c in columns),
        sql.Identifier(schema),
        sql.Identifier(table),
        sql.SQL(", ").join(order),
    )


def snapshot_copy(*, schema: str, table: str, columns: list[SnapshotColumn]) -> sql.Composed:
    return sql.SQL("COPY ({}) TO STDOUT (FORMAT csv, HEADER)").format(
        snapshot_select(schema=schema, table=table, columns=columns)
    )


class DigestWriter:
    """Writes to `out` (a file object, sealed or plain) and digests the clear bytes."""

    def __init__(self, out: BinaryIO | None):
        self._out = out
        self._hash = hashlib.sha256()
        self.size = 0

    def write(self, chunk) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)
        if self._out is not None:
            self._out.write(chunk)

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


def write_snapshot(cur, *, schema: str, table: str, columns: list[SnapshotColumn], writer) -> int:
    """Stream the canonical snapshot into `writer` with the raw psycopg cursor `cur` (in a
    transaction, as a role that may read the table); returns the number of rows."""
    names = [name for name, _value in SESSION_SETTINGS]
    cur.execute(
        sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(sql.SQL("current_setting({})").format(sql.Literal(n)) for n in names)
        )
    )
    before = cur.fetchone()
    cur.execute(settings_statement())
    with cur.copy(snapshot_copy(schema=schema, table=table, columns=columns)) as copy:
        for chunk in copy:
            writer.write(chunk)
    rows = cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
    # Put the caller's settings back (also inside a longer transaction of the caller's).
    cur.execute(
        sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(
                sql.SQL("set_config({}, {}, true)").format(sql.Literal(n), sql.Literal(v))
                for n, v in zip(names, before, strict=True)
            )
        )
    )
    return rows


def stream_digest(chunks: Iterable[bytes], out: BinaryIO | None = None) -> tuple[str, int]:
    writer = DigestWriter(out)
    for chunk in chunks:
        writer.write(chunk)
    return writer.hexdigest(), writer.size


def canonical_json(value: Any) -> bytes:
    """RFC 8785 bytes of `value` (dicts, lists, strings, integers, booleans, None)."""
    return rfc8785.dumps(value)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
