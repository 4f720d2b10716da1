"""Loading a batch of rows into a resource's datastore table (Art. 16).

Every channel hands the loader the same thing: a CSV file with a header row, in UTF-8 (with
or without a byte-order mark) or GB18030 (`CsvSource`). The file upload channel passes the
uploaded file itself; the others write what they fetched to a spool file first, so that
fetching (with its retries) and loading (in one transaction) stay apart.

PostgreSQL parses the CSV: the rows go to the server with `COPY ... FROM STDIN (FORMAT csv)`,
streamed in blocks, never held in memory.

- **Full** update: a shadow table is filled and swapped for the live one in the same
  transaction. Readers see the old rows until the commit.
- **Incremental** update: rows are copied into a temporary table and merged into the live
  table by key (`INSERT ... ON CONFLICT DO UPDATE`), a row replacing the stored one only when
  its update flag is not older; the highest update flag becomes the channel's watermark.

Fast path first: COPY straight into a typed table. If PostgreSQL refuses a value, the copy is
rolled back to a savepoint and the slow path finds every bad row at once: the file is copied
into an all-text staging table, each row is checked by one set-based query per file (types,
lengths, required values) plus one for duplicate keys, and either the batch is refused with
the list of bad rows or, where the channel allows a reject file, the good rows are loaded
and the bad ones written to that file.

A killed worker, a dropped connection or any error rolls the whole transaction back: the live
table is untouched, and a retried batch starts again from the file.

A column masked by keyed hash has its hash written with it, in the same statement (`hashes`:
computed in Python in the fast COPY for text columns, in SQL everywhere else), and the table
records under which key (`DatastoreTable.stored_hashes`).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from django.db import DataError, IntegrityError, connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _
from psycopg import sql

from security import zones

from . import hashes
from .datastore import SCHEMA, Column, as_table_owner, primary_key_sql
from .datastore import qualified as _qualified
from .models import DatastoreTable

BLOCK = 1 << 20  # bytes per COPY write
MAX_ROW_ERRORS = 1000  # bad rows kept on the batch record (the reject file has them all)
ProgressFn = Callable[[int], None]


# Called by a full load just before the live table is dropped for the new one, in the load's
# transaction and role: hook(cur, schema=, table=, old=, new=, keys=[Column]) where `old` and
# `new` are the quoted live and new tables (authorization.supply records the removed keys).
_FULL_SWAP_HOOKS: list[Callable[..., None]] = []


def register_full_swap_hook(hook: Callable[..., None]) -> None:
    if hook not in _FULL_SWAP_HOOKS:
        _FULL_SWAP_HOOKS.append(hook)


class LoadRefused(Exception):
    """The batch cannot be loaded: a message, and the bad rows when there are any."""

    def __init__(
        self,
        message: str,
        row_errors: list[dict] | None = None,
        rejected: int = 0,
        received: int | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.row_errors = row_errors or []
        self.rejected = rejected
        self.received = received


class ShrinkHeld(Exception):
    """A full load would remove more of the table than the caller allows: nothing was
    changed (the caller's transaction rolls back the shadow table)."""

    def __init__(self, *, rows_before: int, rows_after: int, received: int, rejected: int):
        super().__init__(f"{rows_before} -> {rows_after}")
        self.rows_before = rows_before
        self.rows_after = rows_after
        self.received = received
        self.rejected = rejected


def shrink_exceeds(rows_before: int, rows_after: int, *, ratio: float, min_rows: int) -> bool:
    """Whether replacing `rows_before` rows by `rows_after` loses more than `ratio` of them
    (tables of fewer than `min_rows` rows are never held)."""
    if rows_before < max(min_rows, 1) or rows_after >= rows_before:
        return False
    return (rows_before - rows_after) > ratio * rows_before


@dataclass
class CsvSource:
    path: Path
    encoding: str  # PostgreSQL's name: UTF8 or GB18030
    header: list[str]
    bom: bool = False
    size: int = 0
    # Pushed rows: (chunk number, index of its first row among the data rows), in order, so
    # that a bad row is named by chunk and row within the chunk.
    origins: list[tuple[int, int]] | None = None


@dataclass
class LoadResult:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    rejected: int = 0
    row_errors: list[dict] = field(default_factory=list)
    reject_csv: Path | None = None
    watermark: str = ""
    table_rows: int = 0
    rows_before: int | None = None  # full loads: the rows the table held before


def detect_encoding(head: bytes) -> tuple[str, bool]:
    """UTF-8 (with or without BOM) or GB18030, judged on the first bytes of the file."""
    if head.startswith(codecs.BOM_UTF8):
        return "UTF8", True
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end is not an error
        return "UTF8", False
    except UnicodeDecodeError:
        return "GB18030", False


def open_csv(path: Path | str) -> CsvSource:
    """Describe a CSV file: its encoding and its header. Refuses an empty file or one whose
    header cannot be read."""
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as f:
        head = f.read(1 << 20)
    if not head.strip():
        raise LoadRefused(_("The file is empty."))
    encoding, bom = detect_encoding(head)
    py_encoding = "utf-8-sig" if encoding == "UTF8" else "gb18030"
    try:
        with path.open("r", encoding=py_encoding, newline="") as f:
            header = next(csv.reader(f))
    except UnicodeDecodeError as exc:
        raise LoadRefused(
            _(
                "The file is neither UTF-8 nor GB18030: save it as UTF-8 (or GB18030) and upload it again."
            )
        ) from exc
    except (StopIteration, csv.Error) as exc:
        raise LoadRefused(
            _("The header row cannot be read (%(error)s).") % {"error": str(exc)[:200]}
        ) from exc
    header = [h.strip() for h in header]
    if not any(header):
        raise LoadRefused(_("The first row must name the columns."))
    return CsvSource(path=path, encoding=encoding, header=header, bom=bom, size=size)


def map_header(
    header: list[str], columns: list[Column], mapping: dict[str, str] | None = None
) -> list[str | None]:
    """For each file column, the table column it fills (None: ignored). A file column matches
    by the channel's explicit mapping, then by column name, then by item name."""
    mapping = {str(k).strip(): str(v).strip() for k, v in (mapping or {}).items()}
    by_name = {c.name.lower(): c.name for c in columns}
    by_item = {c.item.strip(): c.name for c in columns}
    result: list[str | None] = []
    used: set[str] = set()
    for h in header:
        target = mapping.get(h) or by_name.get(h.lower()) or by_item.get(h)
        if target is not None and target not in by_name.values():
            target = None
        if target in used:
            raise LoadRefused(
                _("Columns %(a)s and %(b)s of the file both fill %(column)s.")
                % {"a": header[result.index(target)], "b": h, "column": target}
            )
        if target:
            used.add(target)
        result.append(target)
    missing = [c for c in columns if c.not_null and c.name not in used]
    if missing:
        raise LoadRefused(
            _("The file has no column for the required items: %(items)s.")
            % {"items": "、".join(f"{c.item}（{c.name}）" for c in missing)}
        )
    if not used:
        raise LoadRefused(_("No column of the file matches an item of the resource."))
    return result


# --- Checking values in SQL --------------------------------------------------------------

_NUMBER = r"^[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?$"
_NUMBER_RE = re.compile(_NUMBER)
_INTEGER = r"^[-+]?[0-9]{1,18}$"
_MONEY = r"^[-+]?[0-9]{1,16}(\.[0-9]*)?$"
# Chinese yes/no words are read as booleans too (PostgreSQL's boolean input knows only
# t/true/y/yes/on/1 and their opposites); both paths turn them into true/false.
BOOLEAN_WORDS = {
    "是": "true",
    "否": "false",
    "真": "true",
    "假": "false",
    "有": "true",
    "无": "false",
}
_BOOLEAN = ("t", "true", "y", "yes", "on", "1", "f", "false", "n", "no", "off", "0", *BOOLEAN_WORDS)


def _valid_sql(col: Column, ref: sql.Composable) -> tuple[sql.Composable, str] | None:
    """A predicate true when the staged text `ref` fits the column's type (NULL passes)."""
    v = sql.SQL("btrim({})").format(ref)
    dt = col.data_type
    if dt == "I":
        return sql.SQL("({} ~ {})").format(v, sql.Literal(_INTEGER)), _("not a whole number")
    if dt in ("N", "B", "F"):
        return sql.SQL("({} ~ {})").format(v, sql.Literal(_NUMBER)), _("not a number")
    if dt == "Y":
        return sql.SQL("({} ~ {})").format(v, sql.Literal(_MONEY)), _("not an amount of money")
    if dt == "D":
        return sql.SQL("datastore.is_date({})").format(v), _("not a date (YYYY-MM-DD)")
    if dt == "T":
        return (
            sql.SQL("datastore.is_timestamp({})").format(v),
            _("not a date and time (YYYY-MM-DD hh:mm:ss)"),
        )
    if dt == "L":
        return (
            sql.SQL("(lower({}) IN ({}))").format(
                v, sql.SQL(", ").join(map(sql.Literal, _BOOLEAN))
            ),
            _("not a yes/no value"),
        )
    if dt == "G":
        return sql.SQL("datastore.is_bytea({})").format(ref), _("not binary data")
    if col.length and col.type.startswith("varchar"):
        return (
            sql.SQL("(char_length({}) <= {})").format(ref, sql.Literal(int(col.length))),
            _("longer than %(n)d characters") % {"n": int(col.length)},
        )
    return None


def _cast_sql(col: Column, ref: sql.Composable) -> sql.Composable:
    if col.type in ("text",) or col.type.startswith("varchar"):
        return sql.SQL("{}::{}").format(ref, sql.SQL(col.type))
    if col.data_type == "L":
        cases = sql.SQL(" ").join(
            sql.SQL("WHEN {} THEN {}").format(sql.Literal(word), sql.Literal(value))
            for word, value in BOOLEAN_WORDS.items()
        )
        return sql.SQL(
            "(CASE btrim({ref}) {cases} ELSE NULLIF(btrim({ref}), '') END)::boolean"
        ).format(ref=ref, cases=cases)
    return sql.SQL("NULLIF(btrim({}), '')::{}").format(ref, sql.SQL(col.type))


# --- The load ----------------------------------------------------------------------------


class _Malformed(Exception):
    """A row the CSV reader could not take (wrong number of fields, broken encoding)."""

    def __init__(self, row: int, message: str):
        super().__init__(message)
        self.row = row
        self.message = message


class _CountingReader(io.RawIOBase):
    """A binary file that counts the bytes read from it (for progress)."""

    def __init__(self, f):
        self.f = f
        self.count = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        n = self.f.readinto(b)
        self.count += n or 0
        return n


csv.field_size_limit(16 * 1024 * 1024)


def iter_records(source: CsvSource, progress: ProgressFn | None = None, *, strict: bool = True):
    """(row number, fields) for each data row; the header is row 1, as in a spreadsheet.
    Strict: a row with another number of fields than the header raises `_Malformed`."""
    py_encoding = "utf-8-sig" if source.encoding == "UTF8" else "gb18030"
    width = len(source.header)
    with source.path.open("rb") as f:
        counted = _CountingReader(f)
        text = io.TextIOWrapper(io.BufferedReader(counted, BLOCK), encoding=py_encoding, newline="")
        reader = csv.reader(text)
        number = 1
        try:
            next(reader, None)
            for number, row in enumerate(reader, start=2):  # noqa: B007
                if len(row) != width:
                    if not row or (len(row) == 1 and not row[0]):
                        continue  # a blank line
                    if strict:
                        raise _Malformed(number, _fields_message(len(row), width))
                if progress and number % 50_000 == 0 and source.size:
                    progress(min(85, int(85 * counted.count / source.size)))
                yield number, row
        except UnicodeDecodeError as exc:
            raise _Malformed(
                number + 1,
                _("characters that are neither UTF-8 nor GB18030 (save the file as UTF-8)"),
            ) from exc
        except csv.Error as exc:
            raise _Malformed(
                number + 1, _("the row cannot be read as CSV (%(error)s)") % {"error": exc}
            ) from exc


def _fields_message(got: int, width: int) -> str:
    if got > width:
        return _("the row has %(got)d fields, more than the %(width)d columns of the header") % {
            "got": got,
            "width": width,
        }
    return _("the row has %(got)d fields, fewer than the %(width)d columns of the header") % {
        "got": got,
        "width": width,
    }


def _raw(cur):
    return cur.cursor if hasattr(cur, "cursor") else cur


def load_csv(
    *,
    table_name: str,
    columns: list[Column],
    source: CsvSource,
    schema: str = SCHEMA,
    mode: str,
    mapping: dict[str, str] | None = None,
    allow_reject: bool = False,
    reject_path: Path | None = None,
    progress: ProgressFn | None = None,
    previous_rows: int | None = None,
    previous_watermark: str = "",
    shrink_hold: tuple[float, int] | None = None,
) -> LoadResult:
    """Load `source` into the table `table_name` (full: replace; incremental: merge).
    Must run inside a transaction (the caller's), which it leaves to commit or roll back.
    An incremental load that is told the table's row count and watermark (both kept under
    the caller's lock) does not scan the live table for them.

    A full load counts the live table before the swap (`rows_before`). With `shrink_hold`
    = (ratio, min_rows) it raises `ShrinkHeld` instead of swapping when the new table would
    lose more than `ratio` of the rows of a table of at least `min_rows` rows.

    The table lives in `schema` (its storage zone's); every statement on it runs as the
    zone's role (`security.zones.zone_role`)."""
    if not connection.in_atomic_block:
        raise RuntimeError("load_csv must run inside transaction.atomic()")
    stored = (
        DatastoreTable.objects.filter(table_name=table_name)
        .values_list("stored_hashes", flat=True)
        .first()
    ) or {}
    if stored:
        hashes.hand_key()
    with as_table_owner(), zones.zone_role(zones.zone_of_schema(schema)):
        result = _load(
            hashed=list(stored),
            table_name=table_name,
            columns=columns,
            source=source,
            schema=schema,
            mode=mode,
            mapping=mapping,
            allow_reject=allow_reject,
            reject_path=reject_path,
            progress=progress,
            previous_rows=previous_rows,
            previous_watermark=previous_watermark,
            shrink_hold=shrink_hold,
        )
    if mode == "full":
        # New rows in a new table: page cursors into the old one are stale.
        DatastoreTable.objects.filter(table_name=table_name).update(generation=F("generation") + 1)
    if stored:
        _record_hashes(table_name, stored, mode)
    return result


def _record_hashes(table_name: str, stored: dict, mode: str) -> None:
    """After a load, which stored keyed hashes are current: all of a full load's (every row
    was hashed under the key in force); an incremental load's only where the table's were
    under that key already (else the table mixes two keys: a backfill is queued). When that
    changes, the read functions are made again in this transaction, so they never read a
    companion under a fingerprint it no longer has."""
    now = hashes.fingerprint()
    if mode == "full":
        after = dict.fromkeys(stored, now)
    else:
        after = {name: (fp if fp == now else "") for name, fp in stored.items()}
    if after == stored:
        return
    from .datastore import read_functions_refresh
    from .readfunctions import backfill_enqueue

    table = DatastoreTable.objects.select_related("resource").get(table_name=table_name)
    table.stored_hashes = after
    DatastoreTable.objects.filter(pk=table.pk).update(stored_hashes=after)
    read_functions_refresh(table)
    if not all(after.values()):
        backfill_enqueue([table.pk])


def _load(
    *,
    hashed: list[str],
    table_name: str,
    columns: list[Column],
    source: CsvSource,
    schema: str,
    mode: str,
    mapping: dict[str, str] | None,
    allow_reject: bool,
    reject_path: Path | None,
    progress: ProgressFn | None,
    previous_rows: int | None,
    previous_watermark: str,
    shrink_hold: tuple[float, int] | None,
) -> LoadResult:
    def qualified(name: str):
        return _qualified(name, schema)

    targets = map_header(source.header, columns, mapping)
    by_name = {c.name: c for c in columns}
    keys = [c.name for c in columns if c.key]
    flag = next((c.name for c in columns if c.update_flag), None)
    if mode == "incremental" and (not keys or not flag):
        raise LoadRefused(_("Incremental update needs key items and an update-flag item."))
    result = LoadResult()
    token = secrets.token_hex(3)
    # Full: a new table swapped in at the end. Incremental: a temporary table merged in.
    work = f"{table_name}_n{token}" if mode == "full" else f"inc_{token}"
    work_ref = qualified(work) if mode == "full" else sql.Identifier(work)
    positions = [i for i, t in enumerate(targets) if t]
    mapped = [targets[i] for i in positions]
    # Keyed hashes of mapped columns: text columns hashed in Python as they are sent, the
    # others in SQL. An unmapped column is NULL in the work table, and so is its hash there
    # (a merge writes both).
    unmapped = [n for n in hashed if n not in mapped and n in by_name]
    hashed = [n for n in hashed if n in mapped and n in by_name]
    py_hashed = [n for n in hashed if hashes.text_typed(by_name[n].type)]
    sql_hashed = [n for n in hashed if n not in py_hashed]
    py_at = [mapped.index(n) for n in py_hashed]
    hash_value = hashes.hasher() if py_hashed else None
    with connection.cursor() as cur:
        if mode == "full":
            cur.execute(
                sql.SQL("CREATE TABLE {} (LIKE {} INCLUDING DEFAULTS)").format(
                    work_ref, qualified(table_name)
                )
            )
        else:
            cur.execute(
                sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(
                    work_ref, qualified(table_name)
                )
            )
        fast_ok = True
        try:
            with transaction.atomic():
                # A full load with hashes SQL computes goes through a temporary table, so
                # that the new table is written once (an UPDATE would write it twice).
                copy_ref = work_ref
                if mode == "full" and sql_hashed:
                    copy_ref = sql.Identifier(f"fill_{token}")
                    cur.execute(
                        sql.SQL("CREATE TEMP TABLE {} (LIKE {}) ON COMMIT DROP").format(
                            copy_ref, qualified(table_name)
                        )
                    )
                query = sql.SQL("COPY {} ({}) FROM STDIN").format(
                    copy_ref,
                    sql.SQL(", ").join(
                        map(sql.Identifier, mapped + [hashes.companion(n) for n in py_hashed])
                    ),
                )
                received = 0
                booleans = [
                    n for n, i in enumerate(positions) if by_name[targets[i]].data_type == "L"
                ]
                with _raw(cur).copy(query) as copy:
                    write = copy.write_row
                    if hash_value is not None:
                        # The hashes of the text columns follow the row's values (a table
                        # without hashed column keeps the loop as it was).
                        def write(values, _write=copy.write_row):
                            values.extend([hash_value(values[n]) for n in py_at])
                            _write(values)

                    for _number, row in iter_records(source, progress):
                        # An empty field is NULL, whatever the column's type.
                        values = [row[i] or None for i in positions]
                        for n in booleans:
                            if values[n] is not None:
                                values[n] = BOOLEAN_WORDS.get(values[n].strip(), values[n])
                        write(values)
                        received += 1
                result.received = received
                if copy_ref is not work_ref:
                    _fill_from(cur, work_ref, copy_ref, columns, py_hashed, sql_hashed)
                if mode == "full" and keys:
                    cur.execute(
                        sql.SQL("ALTER TABLE {} ADD {}").format(
                            work_ref, primary_key_sql(work, keys)
                        )
                    )
        except (_Malformed, psycopg.DataError, psycopg.IntegrityError, DataError, IntegrityError):
            fast_ok = False
        if not fast_ok:
            _load_checked(
                cur,
                work_ref=work_ref,
                work=work,
                mode=mode,
                source=source,
                targets=targets,
                by_name=by_name,
                keys=keys,
                allow_reject=allow_reject,
                reject_path=reject_path,
                result=result,
                progress=progress,
                hashed=hashed,
            )
        if progress:
            progress(92)
        if mode == "full" and result.received - result.rejected <= 0:
            # Nothing lost on bad input: an empty file (or one whose every row is bad) does not
            # replace the table with nothing.
            raise LoadRefused(
                _(
                    "The file has no row that could be loaded: a full update would empty the table, so nothing was changed."
                )
                if result.received
                else _(
                    "The file has no data rows: a full update would empty the table, so nothing was changed."
                ),
                result.row_errors,
                rejected=result.rejected,
                received=result.received,
            )
        if mode == "full":
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(qualified(table_name)))
            result.rows_before = cur.fetchone()[0]
            incoming = result.received - result.rejected
            if shrink_hold is not None and shrink_exceeds(
                result.rows_before, incoming, ratio=shrink_hold[0], min_rows=shrink_hold[1]
            ):
                raise ShrinkHeld(
                    rows_before=result.rows_before,
                    rows_after=incoming,
                    received=result.received,
                    rejected=result.rejected,
                )
            for hook in _FULL_SWAP_HOOKS:
                hook(
                    _raw(cur),
                    schema=schema,
                    table=table_name,
                    old=qualified(table_name),
                    new=work_ref,
                    keys=[by_name[k] for k in keys],
                )
            cur.execute(sql.SQL("DROP TABLE {}").format(qualified(table_name)))
            cur.execute(
                sql.SQL("ALTER TABLE {} RENAME TO {}").format(work_ref, sql.Identifier(table_name))
            )
            if keys:
                cur.execute(
                    sql.SQL("ALTER TABLE {} RENAME CONSTRAINT {} TO {}").format(
                        qualified(table_name),
                        sql.Identifier(f"{work}_pkey"),
                        sql.Identifier(f"{table_name}_pkey"),
                    )
                )
            result.inserted = result.received - result.rejected
            result.table_rows = result.inserted
        else:
            _merge(
                cur,
                qualified(table_name),
                work_ref,
                columns,
                keys,
                flag,
                result,
                previous_rows,
                filled=(hashed if not fast_ok else py_hashed) + unmapped,
                computed=[] if not fast_ok else sql_hashed,
            )
        if flag and mode != "full" and previous_rows is not None:
            flag_type = sql.SQL(by_name[flag].type)
            cur.execute(
                sql.SQL("SELECT greatest(max({flag}), {prev}::{type})::text FROM {work}").format(
                    flag=sql.Identifier(flag),
                    prev=sql.Literal(previous_watermark or None),
                    type=flag_type,
                    work=work_ref,
                )
            )
            result.watermark = cur.fetchone()[0] or ""
        elif flag:
            cur.execute(
                sql.SQL("SELECT max({})::text FROM {}").format(
                    sql.Identifier(flag), qualified(table_name)
                )
            )
            result.watermark = cur.fetchone()[0] or ""
    return result


def _fill_from(cur, work_ref, copy_ref, columns, py_hashed, sql_hashed) -> None:
    """INSERT the copied rows into the new table with the hashes SQL computes."""
    types = {c.name: c.type for c in columns}
    names = [c.name for c in columns] + [hashes.companion(n) for n in py_hashed + sql_hashed]
    exprs = [sql.Identifier(n) for n in names[: len(columns) + len(py_hashed)]] + [
        hashes.hash_sql(sql.Identifier(n), types[n]) for n in sql_hashed
    ]
    cur.execute(
        sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(
            work_ref,
            sql.SQL(", ").join(map(sql.Identifier, names)),
            sql.SQL(", ").join(exprs),
            copy_ref,
        )
    )


def _merge(
    cur,
    table_ref,
    work_ref,
    columns,
    keys,
    flag,
    result: LoadResult,
    previous_rows=None,
    *,
    filled=(),
    computed=(),
) -> None:
    """Merge the work table's rows into the table by key. `filled`: columns whose keyed hash
    the work table holds; `computed`: those whose hash is computed here."""
    names = [c.name for c in columns]
    types = {c.name: c.type for c in columns}
    companions = [hashes.companion(n) for n in list(filled) + list(computed)]
    src_exprs = [sql.Identifier(n) for n in names] + [
        sql.Identifier(hashes.companion(n)) for n in filled
    ]
    src_exprs += [
        sql.SQL("{} AS {}").format(
            hashes.hash_sql(sql.Identifier(n), types[n]), sql.Identifier(hashes.companion(n))
        )
        for n in computed
    ]
    src_cols = sql.SQL(", ").join(src_exprs)
    cols = sql.SQL(", ").join(map(sql.Identifier, names + companions))
    key_cols = sql.SQL(", ").join(map(sql.Identifier, keys))
    non_keys = [n for n in names if n not in keys] + companions
    flag_id = sql.Identifier(flag)
    updates = (
        sql.SQL(", ").join(
            sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(n), sql.Identifier(n))
            for n in non_keys
        )
        if non_keys
        else sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(keys[0]), sql.Identifier(keys[0]))
    )
    row_changed = sql.SQL("({}) IS DISTINCT FROM ({})").format(
        sql.SQL(", ").join(sql.SQL("t.{}").format(sql.Identifier(n)) for n in names),
        sql.SQL(", ").join(sql.SQL("EXCLUDED.{}").format(sql.Identifier(n)) for n in names),
    )
    cur.execute(
        sql.SQL(
            "WITH src AS (SELECT DISTINCT ON ({keys}) {src_cols} FROM {work} "
            "ORDER BY {keys}, {flag} DESC NULLS LAST), "
            "up AS (INSERT INTO {table} AS t ({cols}) SELECT {cols} FROM src "
            "ON CONFLICT ({keys}) DO UPDATE SET {updates} "
            "WHERE (t.{flag} IS NULL OR EXCLUDED.{flag} IS NULL OR EXCLUDED.{flag} >= t.{flag}) "
            "AND {changed} RETURNING (xmax = 0) AS inserted) "
            "SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM up"
        ).format(
            keys=key_cols,
            cols=cols,
            src_cols=src_cols,
            work=work_ref,
            flag=flag_id,
            table=table_ref,
            updates=updates,
            changed=row_changed,
        )
    )
    result.inserted, result.updated = cur.fetchone()
    if previous_rows is not None:
        result.table_rows = previous_rows + result.inserted
    else:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(table_ref))
        result.table_rows = cur.fetchone()[0]


def _load_checked(
    cur,
    *,
    work_ref,
    work: str,
    mode: str,
    source: CsvSource,
    targets: list[str | None],
    by_name: dict[str, Column],
    keys: list[str],
    allow_reject: bool,
    reject_path: Path | None,
    result: LoadResult,
    progress: ProgressFn | None,
    hashed: list[str] = (),
) -> None:
    """The slow path: stage the file as text, find every bad row, then load the good ones
    (with the keyed hashes of `hashed` columns computed in the same INSERT)."""
    stage = f"stage_{secrets.token_hex(3)}"
    stage_ref = sql.Identifier(stage)
    staged = [f"s{i}" for i in range(len(targets))]
    width = len(targets)
    cur.execute(
        sql.SQL("CREATE TEMP TABLE {} (_line bigint, {}) ON COMMIT DROP").format(
            stage_ref,
            sql.SQL(", ").join(sql.SQL("{} text").format(sql.Identifier(s)) for s in staged),
        )
    )
    malformed: list[tuple[int, str]] = []
    received = 0
    try:
        with _raw(cur).copy(
            sql.SQL("COPY {} (_line, {}) FROM STDIN").format(
                stage_ref, sql.SQL(", ").join(map(sql.Identifier, staged))
            )
        ) as copy:
            for number, row in iter_records(source, progress, strict=False):
                received += 1
                if len(row) != width:
                    malformed.append((number, _fields_message(len(row), width)))
                    row = (row + [""] * width)[:width]
                copy.write_row([number, *(v or None for v in row)])
    except _Malformed as exc:
        raise LoadRefused(
            _("Row %(row)s: %(message)s") % {"row": exc.row, "message": exc.message},
            [{"row": exc.row, "column": "", "message": exc.message}],
        ) from exc
    result.received = received

    # One scan: for each row, the list of (file column index, problem) that fail.
    checks: list[sql.Composable] = []
    labels: dict[str, tuple[str, str]] = {}
    for i, target in enumerate(targets):
        if not target:
            continue
        col = by_name[target]
        ref = sql.Identifier(staged[i])
        if col.not_null:
            code = f"{i}:null"
            labels[code] = (col.item, _("is empty but required"))
            checks.append(
                sql.SQL("CASE WHEN NULLIF(btrim({}), '') IS NULL THEN {} END").format(
                    ref, sql.Literal(code)
                )
            )
        valid = _valid_sql(col, ref)
        if valid:
            predicate, message = valid
            code = f"{i}:type"
            labels[code] = (col.item, message)
            checks.append(
                sql.SQL(
                    "CASE WHEN NULLIF(btrim({}), '') IS NOT NULL AND NOT {} THEN {} END"
                ).format(ref, predicate, sql.Literal(code))
            )
    bad_table = sql.Identifier(f"bad_{secrets.token_hex(3)}")
    cur.execute(
        sql.SQL(
            "CREATE TEMP TABLE {} (_line bigint PRIMARY KEY, codes text[]) ON COMMIT DROP"
        ).format(bad_table)
    )
    if malformed:
        for number, message in malformed:
            labels[f"cols:{number}"] = ("", message)
        _raw(cur).executemany(
            sql.SQL("INSERT INTO {} VALUES (%s, ARRAY[%s])").format(bad_table),
            [(number, f"cols:{number}") for number, _m in malformed],
        )
    if checks:
        cur.execute(
            sql.SQL(
                "INSERT INTO {bad} SELECT _line, codes FROM (SELECT _line, "
                "array_remove(ARRAY[{checks}], NULL) AS codes FROM {stage}) x "
                "WHERE cardinality(codes) > 0 ON CONFLICT (_line) DO NOTHING"
            ).format(bad=bad_table, checks=sql.SQL(", ").join(checks), stage=stage_ref)
        )
    key_idx = [targets.index(k) for k in keys if k in targets]
    if keys and len(key_idx) == len(keys):
        key_exprs = sql.SQL(", ").join(
            sql.SQL("btrim({})").format(sql.Identifier(staged[i])) for i in key_idx
        )
        labels["dup"] = (
            "、".join(by_name[k].item for k in keys),
            _("the key repeats an earlier row"),
        )
        cur.execute(
            sql.SQL(
                "INSERT INTO {bad} SELECT _line, ARRAY['dup'] FROM (SELECT _line, row_number() "
                "OVER (PARTITION BY {keys} ORDER BY _line) AS n FROM {stage}) x WHERE n > 1 "
                "ON CONFLICT (_line) DO UPDATE SET codes = {bad}.codes || 'dup'::text"
            ).format(bad=bad_table, keys=key_exprs, stage=stage_ref)
        )
    cur.execute(sql.SQL("SELECT count(*) FROM {}").format(bad_table))
    result.rejected = cur.fetchone()[0]
    if result.rejected:
        cur.execute(
            sql.SQL("SELECT _line, codes FROM {} ORDER BY _line LIMIT {}").format(
                bad_table, sql.Literal(MAX_ROW_ERRORS)
            )
        )
        for line, codes in cur.fetchall():
            for code in codes:
                item, message = labels.get(code, ("", code))
                # Row numbers as the user sees them in a spreadsheet: the header is row 1.
                result.row_errors.append({"row": line, "column": item, "message": message})
        if not allow_reject:
            first = result.row_errors[0]
            raise LoadRefused(
                _(
                    "%(n)d rows are bad, for example row %(row)d, %(column)s: %(message)s. Nothing was loaded."
                )
                % {"n": result.rejected, **first},
                result.row_errors,
                rejected=result.rejected,
                received=result.received,
            )
        if reject_path is not None:
            _write_rejects(cur, stage_ref, bad_table, staged, source.header, labels, reject_path)
            result.reject_csv = reject_path

    pairs = [(t, staged[i]) for i, t in enumerate(targets) if t]
    cur.execute(
        sql.SQL(
            "INSERT INTO {work} ({cols}) SELECT {outer} FROM (SELECT {casts} FROM {stage} s "
            "WHERE NOT EXISTS (SELECT 1 FROM {bad} b WHERE b._line = s._line) ORDER BY _line) c"
        ).format(
            work=work_ref,
            cols=sql.SQL(", ").join(
                [sql.Identifier(t) for t, _s in pairs]
                + [sql.Identifier(hashes.companion(n)) for n in hashed]
            ),
            outer=sql.SQL(", ").join(
                [sql.SQL("c.{}").format(sql.Identifier(t)) for t, _s in pairs]
                + [
                    hashes.hash_sql(sql.SQL("c.{}").format(sql.Identifier(n)), by_name[n].type)
                    for n in hashed
                ]
            ),
            casts=sql.SQL(", ").join(
                sql.SQL("{} AS {}").format(
                    _cast_sql(by_name[t], sql.Identifier(s)), sql.Identifier(t)
                )
                for t, s in pairs
            ),
            stage=stage_ref,
            bad=bad_table,
        )
    )
    if mode == "full" and keys:
        cur.execute(sql.SQL("ALTER TABLE {} ADD {}").format(work_ref, primary_key_sql(work, keys)))


def _write_rejects(cur, stage_ref, bad_table, staged, header, labels, path: Path) -> None:
    """The bad rows as CSV (UTF-8 with BOM, so that Excel opens it): row number, reasons,
    then the row as it came."""
    reasons = {
        code: f"{item}: {message}" if item else message for code, (item, message) in labels.items()
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = cur.cursor if hasattr(cur, "cursor") else cur
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([_("row"), _("problems"), *header])
        raw.execute(
            sql.SQL(
                "SELECT s._line, b.codes, {cols} FROM {stage} s JOIN {bad} b USING (_line) "
                "ORDER BY s._line"
            ).format(
                cols=sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(c)) for c in staged),
                stage=stage_ref,
                bad=bad_table,
            )
        )
        while rows := raw.fetchmany(5000):
            for line, codes, *values in rows:
                writer.writerow(
                    [
                        line,
                        "; ".join(reasons.get(c, c) for c in codes),
                        *("" if v is None else csv_cell_safe(v) for v in values),
                    ]
                )


_FORMULA_START = ("=", "@", "\t", "\r")


def csv_cell_safe(value: str) -> str:
    """Text a spreadsheet opens as text: a value that Excel would run as a formula (starting
    with =, @, a tab, or + / - not followed by a number) gets a leading apostrophe."""
    if not value:
        return value
    first = value[0]
    if first in _FORMULA_START:
        return "'" + value
    if first in "+-" and not _NUMBER_RE.match(value.strip()):
        return "'" + value
    return value


def rows_to_csv(path: Path, header: list[str], rows) -> int:
    """Write rows (sequences of values) as a UTF-8 CSV spool for the loader. Returns the
    number of rows. None becomes an empty field (NULL)."""
    n = 0
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else _text(v) for v in row])
            n += 1
    return n


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def xlsx_to_csv(xlsx_path: Path, csv_path: Path, *, max_rows: int = 2_000_000) -> None:
    """Convert the first sheet of a workbook to a CSV spool (streamed, read-only mode). A
    formula cell is refused: its cached value may be stale or missing."""
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:
        wb = load_workbook(xlsx_path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise LoadRefused(_("The file is not a readable Excel workbook (.xlsx).")) from exc
    try:
        ws = wb.worksheets[0]
        rows = ws.iter_rows()
        header_cells = next(rows, None)
        if not header_cells:
            raise LoadRefused(_("The file is empty."))
        header = ["" if c.value is None else str(c.value).strip() for c in header_cells]
        width = len(header)

        def body():
            for number, row in enumerate(rows, start=2):
                if number > max_rows:
                    raise LoadRefused(_("The workbook has too many rows."))
                values = []
                for index, cell in enumerate(row[:width]):
                    if getattr(cell, "data_type", None) == "f":
                        raise LoadRefused(
                            _("Row %(row)d, column %(column)s holds a formula: paste it as values.")
                            % {"row": number, "column": get_column_letter(index + 1)},
                            [
                                {
                                    "row": number,
                                    "column": header[index],
                                    "message": _("a formula, not a value"),
                                }
                            ],
                        )
                    values.append(getattr(cell, "value", None))
                values += [None] * (width - len(values))
                if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
                    continue
                yield values

        rows_to_csv(csv_path, header, body())
    finally:
        wb.close()


def file_is_text_csv(path: Path) -> bool:
    """A quick look: a CSV file has no NUL bytes in its first kilobytes."""
    with path.open("rb") as f:
        return b"\x00" not in f.read(8192)


__all__ = [
    "CsvSource",
    "LoadRefused",
    "LoadResult",
    "ShrinkHeld",
    "detect_encoding",
    "file_is_text_csv",
    "load_csv",
    "map_header",
    "open_csv",
    "rows_to_csv",
    "shrink_exceeds",
    "xlsx_to_csv",
]
