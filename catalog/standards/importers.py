"""Excel and CSV intake and export of code lists and data elements.

Intake goes load -> table -> one check of every row -> one write:

1. `read_table(source)` reads a CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM or GB18030) or
   an XLSX workbook (first sheet, openpyxl read-only with defusedxml) into a `Table` of rows
   numbered as a spreadsheet shows them (the header is row 1). Files over 20 MB, workbooks
   that would inflate past 200 MB or more than 100-fold (zip bombs), files that are not
   workbooks, merged cells and formulas are refused before any row is used.
2. The rows are checked; every problem becomes a `RowError(row, column, message)`.
3. Only when no row fails is anything written, in one transaction, with history.
   Otherwise `ImportRefused` carries the whole list and nothing is imported.

Code lists: `code_list_import` replaces the values valid on an effective date with the file's
(codes no longer present are closed the day before, new ones start on it, unchanged ones
stay). Elements: `elements_import` adds new elements and leaves identical ones alone; a
changed element goes through a change request, not through a file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.excel import stream_workbook
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.uploads import WorkbookRefused, inspect_workbook

from . import validation
from .models import CodeList, CodeValue, DataElement

__all__ = [
    "CodeListImportSummary",
    "ElementsImportSummary",
    "ImportRefused",
    "RowError",
    "Table",
    "code_list_export",
    "code_list_import",
    "elements_export",
    "elements_import",
    "read_table",
]

MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 200 * 1024 * 1024
MAX_COMPRESSION_RATIO = 100
MAX_ROWS = 100_000  # the largest official list we know (township level) has 41,352

XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls


@dataclass(frozen=True)
class RowError:
    """One problem: `row` as the spreadsheet numbers it (header = 1; 0 = the whole file),
    `column` the header of the column concerned ("" = the row or file as a whole)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        if self.row == 0:
            return self.message
        if self.column:
            return _("Row %(row)d, %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)d: %(message)s") % {"row": self.row, "message": self.message}


class ImportRefused(DomainError):
    """Nothing was imported; `errors` lists every problem found."""

    def __init__(self, errors: list[RowError]):
        self.errors = list(errors)
        if len(self.errors) == 1:
            message = str(self.errors[0])
        else:
            rows = len({e.row for e in self.errors})
            message = _("%(count)d problems in %(rows)d rows; nothing was imported.") % {
                "count": len(self.errors),
                "rows": rows,
            }
        super().__init__(message, code="import_refused")


def _refuse(message: str) -> ImportRefused:
    return ImportRefused([RowError(0, "", message)])


class Formula(str):
    """The text of a formula cell (refused wherever it appears: we import values)."""


@dataclass
class Table:
    """Rows of a file: `header` as written in row 1, `rows` as (row number, cells)."""

    header: list[str]
    rows: list[tuple[int, list]] = field(default_factory=list)
    name: str = ""

    @classmethod
    def from_records(cls, header: Iterable[str], records: Iterable[Iterable]) -> Table:
        """A table made in code (seeders, tests): rows numbered from 2 like a file's."""
        return cls(
            header=list(header),
            rows=[(i, list(r)) for i, r in enumerate(records, start=2)],
            name="",
        )


# --- reading files ----------------------------------------------------------------------


def _read_bytes(source, filename: str | None) -> tuple[bytes, str]:
    """The file's bytes (refused past MAX_FILE_BYTES without reading further) and name."""
    if isinstance(source, bytes | bytearray):
        data, name = bytes(source), filename or ""
    elif isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.is_file():
            raise _refuse(_("The file %(name)s does not exist.") % {"name": path.name})
        if path.stat().st_size > MAX_FILE_BYTES:
            raise _refuse(_too_large())
        data, name = path.read_bytes(), filename or path.name
    elif hasattr(source, "read"):
        name = filename or os.path.basename(getattr(source, "name", "") or "")
        size = getattr(source, "size", None)
        if isinstance(size, int) and size > MAX_FILE_BYTES:
            raise _refuse(_too_large())
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read(MAX_FILE_BYTES + 1)
        if isinstance(data, str):
            data = data.encode("utf-8")
    else:
        raise TypeError(f"cannot read rows from {type(source).__name__}")
    if len(data) > MAX_FILE_BYTES:
        raise _refuse(_too_large())
    return data, name


def _too_large() -> str:
    return _("The file is larger than %(mb)d MB: split it into smaller files.") % {
        "mb": MAX_FILE_BYTES // (1024 * 1024)
    }


def read_table(source, *, filename: str | None = None) -> Table:
    """The rows of a CSV or XLSX file (a path, bytes, or an open binary file such as an
    upload); a `Table` is returned as it is. The kind is told by the content, the name
    only decides how to explain a file that is neither."""
    if isinstance(source, Table):
        return source
    data, name = _read_bytes(source, filename)
    suffix = Path(name).suffix.lower()
    if data.startswith(XLSX_MAGIC):
        return _read_xlsx(data, name)
    if data.startswith(OLE2_MAGIC):
        raise _refuse(
            _(
                "This is an Excel 97-2003 (.xls) file: save it as .xlsx or CSV (UTF-8) and try again."
            )
        )
    if suffix in (".xlsx", ".xlsm"):
        raise _refuse(
            _("%(name)s is not an Excel workbook (.xlsx): it may be damaged or renamed.")
            % {"name": name}
        )
    return _read_csv(data, name)


def _decode(data: bytes) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refuse(_("The file's text encoding is not UTF-8 or GB18030: save it as CSV (UTF-8)."))


def _read_csv(data: bytes, name: str) -> Table:
    try:
        text = _decode(data)
    except UnicodeDecodeError as exc:
        raise _refuse(
            _("The file's text encoding is not UTF-8 or GB18030: save it as CSV (UTF-8).")
        ) from exc
    if "\x00" in text:
        raise _refuse(_("%(name)s is not a CSV text file.") % {"name": name or _("The file")})
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[tuple[int, list]] = []
    try:
        header = next(reader, None)
        if header is None:
            raise _refuse(_("The file is empty."))
        for number, record in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise _refuse(_too_many_rows())
            rows.append((number, record))
    except csv.Error as exc:
        raise _refuse(
            _("The file is not valid CSV near line %(line)d: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from exc
    return Table(header=[h.strip() for h in header], rows=rows, name=name)


def _too_many_rows() -> str:
    return _("The file has more than %(n)d rows: split it into smaller files.") % {"n": MAX_ROWS}


def _check_zip(data: bytes, name: str) -> zipfile.ZipFile:
    buffer = io.BytesIO(data)
    try:
        inspect_workbook(
            buffer,
            name=name,
            max_inflated=MAX_UNCOMPRESSED_BYTES,
            max_ratio=MAX_COMPRESSION_RATIO,
        )
    except WorkbookRefused as exc:
        raise _refuse(exc.message) from exc
    return zipfile.ZipFile(buffer)


def _merged_ranges(archive: zipfile.ZipFile, sheet_path: str) -> list[str]:
    """The merged cell ranges ("A3:A5") of a worksheet, read with defusedxml."""
    from defusedxml.ElementTree import iterparse

    ranges = []
    with archive.open(sheet_path.lstrip("/")) as src:
        for _event, element in iterparse(src, events=("end",)):
            if element.tag.endswith("}mergeCell") or element.tag == "mergeCell":
                ref = element.get("ref")
                if ref:
                    ranges.append(ref)
            if element.tag.endswith("}row"):
                element.clear()
    return ranges


def _read_xlsx(data: bytes, name: str) -> Table:
    import openpyxl
    from openpyxl.utils.cell import range_boundaries

    if not openpyxl.DEFUSEDXML:
        raise DomainError(
            _("Workbooks cannot be read safely on this server (defusedxml is missing).")
        )
    archive = _check_zip(data, name)
    try:
        workbook = openpyxl.load_workbook(
            io.BytesIO(data), read_only=True, data_only=False, keep_links=False
        )
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise _refuse(
            _("%(name)s is not an Excel workbook (.xlsx): it may be damaged or renamed.")
            % {"name": name or _("The file")}
        ) from exc
    try:
        sheets = [ws for ws in workbook.worksheets if hasattr(ws, "iter_rows")]
        if not sheets:
            raise _refuse(_("The workbook has no worksheet."))
        ws = sheets[0]
        ws.reset_dimensions()  # the declared size may be wrong; read what is there
        rows: list[tuple[int, list]] = []
        header: list[str] | None = None
        for number, cells in enumerate(ws.iter_rows(), start=1):
            values = []
            for cell in cells:
                value = getattr(cell, "value", None)
                if getattr(cell, "data_type", None) == "f" and value is not None:
                    value = Formula(str(value))
                values.append(value)
            if header is None:
                header = ["" if v is None else str(v).strip() for v in values]
                continue
            if len(rows) >= MAX_ROWS:
                raise _refuse(_too_many_rows())
            rows.append((number, values))
        sheet_path = getattr(ws, "_worksheet_path", "")
        merged = _merged_ranges(archive, sheet_path) if sheet_path else []
    finally:
        workbook.close()
    if header is None:
        raise _refuse(_("The workbook's first sheet is empty."))
    table = Table(header=header, rows=rows, name=name)
    if merged:
        errors = []
        for ref in merged:
            min_col, min_row, _max_col, _max_row = range_boundaries(ref)
            column = header[min_col - 1] if min_col - 1 < len(header) else ""
            errors.append(
                RowError(
                    min_row,
                    column,
                    _("Cells %(range)s are merged: unmerge them and fill in every cell.")
                    % {"range": ref},
                )
            )
        raise ImportRefused(errors)
    return table


# --- turning cells into values ------------------------------------------------------------

_DATE_TEXT = re.compile(
    r"(?P<y>[0-9]{4})(?:(?P<s>[-/.])(?P<m>[0-9]{1,2})(?P=s)(?P<d>[0-9]{1,2})"
    r"|(?P<m8>[0-9]{2})(?P<d8>[0-9]{2})|年(?P<mz>[0-9]{1,2})月(?P<dz>[0-9]{1,2})日)"
)


class CellError(ValueError):
    pass


def _is_blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value) -> str:
    """A cell as text: numbers without a trailing .0, strings stripped."""
    if isinstance(value, Formula):
        raise CellError(
            _("This cell holds a formula (%(formula)s): enter the value itself.")
            % {"formula": str(value)[:40]}
        )
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        raise CellError(
            _(
                "Excel turned this into a date (%(date)s): format the column as text and enter it again."
            )
            % {"date": value.strftime("%Y-%m-%d")}
        )
    return str(value).strip()


def _date(value) -> dt.date | None:
    if isinstance(value, Formula):
        _text(value)  # raises
    if _is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, int) or value.is_integer():
            digits = str(int(value))
            if len(digits) == 8:  # 20240101 typed into a number cell: read as YYYYMMDD
                return _date(digits)
        raise CellError(
            _(
                "A date stored as a number (%(value)s): format the cell as a date, or write it "
                "as YYYY-MM-DD."
            )
            % {"value": value}
        )
    text = str(value).strip()
    m = _DATE_TEXT.fullmatch(text)
    if m is None:
        raise CellError(_("“%(value)s” is not a date: write YYYY-MM-DD.") % {"value": text[:40]})
    month = m["m"] or m["m8"] or m["mz"]
    day = m["d"] or m["d8"] or m["dz"]
    try:
        return dt.date(int(m["y"]), int(month), int(day))
    except ValueError as exc:
        raise CellError(
            _("“%(value)s” is not a date of the calendar.") % {"value": text[:40]}
        ) from exc


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


_CODE_SPACE = re.compile(r"\s")


# --- column mapping ---------------------------------------------------------------------

CODE_LIST_COLUMNS = {
    "code": ("code", "代码", "编码", "代码值"),
    "name": ("name", "名称", "代码名称", "含义"),
    "parent_code": ("parent_code", "上级代码", "父级代码"),
    "valid_from": ("valid_from", "生效日期", "启用日期"),
    "valid_to": ("valid_to", "失效日期", "停用日期"),
}
CODE_LIST_REQUIRED = ("code", "name")


def _locate(
    table: Table,
    aliases: Mapping[str, tuple[str, ...]],
    required: Iterable[str],
    columns: Mapping[str, str] | None,
) -> dict[str, int]:
    """Field -> column index, by the explicit mapping first, then the known headers."""
    normal = [h.strip().lstrip("\ufeff").lower() for h in table.header]
    errors: list[RowError] = []
    seen: dict[str, int] = {}
    for index, h in enumerate(normal):
        if h and h in seen:
            errors.append(
                RowError(1, table.header[index], _("This column name appears twice in row 1."))
            )
        seen.setdefault(h, index)
    found: dict[str, int] = {}
    for fieldname, names in aliases.items():
        wanted = (columns or {}).get(fieldname)
        if wanted:
            index = seen.get(wanted.strip().lower())
            if index is None:
                errors.append(
                    RowError(
                        1,
                        wanted,
                        _("The column “%(column)s” is not in row 1 (found: %(found)s).")
                        % {"column": wanted, "found": ", ".join(h for h in table.header if h)},
                    )
                )
                continue
            found[fieldname] = index
            continue
        for alias in names:
            if alias.lower() in seen:
                found[fieldname] = seen[alias.lower()]
                break
    for fieldname in required:
        if fieldname not in found and not (columns or {}).get(fieldname):
            errors.append(
                RowError(
                    1,
                    "",
                    _("Row 1 must name the column %(field)s (or %(alias)s); found: %(found)s.")
                    % {
                        "field": fieldname,
                        "alias": " / ".join(aliases[fieldname][1:]),
                        "found": ", ".join(h for h in table.header if h) or "-",
                    },
                )
            )
    if errors:
        raise ImportRefused(errors)
    return found


def _cell(row: list, index: int | None):
    if index is None or index >= len(row):
        return None
    return row[index]


# --- code lists -------------------------------------------------------------------------


@dataclass(frozen=True)
class CodeListImportSummary:
    """What an import did: codes `added`, codes `closed` (no longer in the file), codes
    whose meaning `changed` (the old value closed, the new one added), and `unchanged`."""

    added: int = 0
    closed: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def touched(self) -> bool:
        return bool(self.added or self.closed or self.changed)


@dataclass
class _CodeRow:
    row: int
    code: str
    name: str
    parent_code: str
    valid_from: dt.date | None
    valid_to: dt.date | None


def _require_bureau(user) -> None:
    if not getattr(user, "is_active", False) or not (
        getattr(user, "is_superuser", False) or has_role(user, Role.CITY_REVIEWER)
    ):
        raise AccessDenied(_("Only the city data bureau maintains code lists and data elements."))


def _code_rows(
    table: Table, columns: Mapping[str, int], effective_date: dt.date
) -> tuple[list[_CodeRow], list[RowError]]:
    header = table.header
    errors: list[RowError] = []
    rows: list[_CodeRow] = []
    first_row: dict[str, int] = {}

    def col(fieldname: str) -> str:
        return header[columns[fieldname]] if fieldname in columns else fieldname

    for number, cells in table.rows:
        if all(_is_blank(c) for c in cells):
            continue  # blank lines between or after the rows
        values: dict = {}
        row_errors: list[RowError] = []
        for fieldname in ("code", "name", "parent_code"):
            try:
                values[fieldname] = _text(_cell(cells, columns.get(fieldname)))
            except CellError as exc:
                row_errors.append(RowError(number, col(fieldname), str(exc)))
                values[fieldname] = None
        for fieldname in ("valid_from", "valid_to"):
            try:
                values[fieldname] = _date(_cell(cells, columns.get(fieldname)))
            except CellError as exc:
                row_errors.append(RowError(number, col(fieldname), str(exc)))
                values[fieldname] = None
        code, name, parent = values["code"], values["name"], values["parent_code"]
        if code == "":
            row_errors.append(RowError(number, col("code"), _("The code is empty.")))
        elif code is not None:
            if len(code) > 50:
                row_errors.append(
                    RowError(number, col("code"), _("A code has at most 50 characters."))
                )
            elif _CODE_SPACE.search(code) or _has_control(code):
                row_errors.append(
                    RowError(
                        number,
                        col("code"),
                        _("A code may not contain spaces or control characters."),
                    )
                )
            elif code in first_row:
                row_errors.append(
                    RowError(
                        number,
                        col("code"),
                        _("The code %(code)s appears again (first in row %(row)d).")
                        % {"code": code, "row": first_row[code]},
                    )
                )
            else:
                first_row[code] = number
        if name == "":
            row_errors.append(RowError(number, col("name"), _("The name is empty.")))
        elif name is not None:
            if len(name) > 200:
                row_errors.append(
                    RowError(number, col("name"), _("A name has at most 200 characters."))
                )
            elif _has_control(name):
                row_errors.append(
                    RowError(
                        number,
                        col("name"),
                        _("The name contains a control character (such as a line break)."),
                    )
                )
        if parent and (len(parent) > 50 or _CODE_SPACE.search(parent) or _has_control(parent)):
            row_errors.append(
                RowError(
                    number,
                    col("parent_code"),
                    _("A parent code has at most 50 characters, without spaces."),
                )
            )
        start, end = values["valid_from"], values["valid_to"]
        if start and end and end < start:
            row_errors.append(
                RowError(
                    number,
                    col("valid_to"),
                    _("The end date %(end)s is before the start date %(start)s.")
                    % {"end": end.isoformat(), "start": start.isoformat()},
                )
            )
        elif start and start > effective_date:
            row_errors.append(
                RowError(
                    number,
                    col("valid_from"),
                    _(
                        "Starts on %(start)s, after the import's effective date %(date)s: import "
                        "it with that effective date instead."
                    )
                    % {"start": start.isoformat(), "date": effective_date.isoformat()},
                )
            )
        elif end and end < effective_date:
            row_errors.append(
                RowError(
                    number,
                    col("valid_to"),
                    _(
                        "Ended on %(end)s, before the import's effective date %(date)s: leave it "
                        "out of the file."
                    )
                    % {"end": end.isoformat(), "date": effective_date.isoformat()},
                )
            )
        if row_errors:
            errors += row_errors
            continue
        rows.append(
            _CodeRow(number, code, name, parent or "", values["valid_from"], values["valid_to"])
        )
    return rows, errors


def code_list_import(
    *,
    code_list: CodeList,
    rows_source,
    effective_date: dt.date,
    acting_user,
    columns: Mapping[str, str] | None = None,
    parent_column: str | None = None,
    filename: str | None = None,
    reason: str = "",
) -> CodeListImportSummary:
    """Make the values of `code_list` valid on `effective_date` exactly those of the file.

    `rows_source` is a CSV or XLSX file (path, bytes, open file) or a `Table`. Columns are
    found by their headers (code / 代码, name / 名称, parent_code / 上级代码, valid_from /
    生效日期, valid_to / 失效日期) or by `columns` ({"parent_code": "cityCode"});
    `parent_column` is a shortcut for the parent code's column. Codes no longer in the file
    end the day before `effective_date`; new codes start on it (or on their own valid_from,
    if earlier); a code whose name or parent changed ends and starts again; others are kept.
    A value that started on `effective_date` itself is corrected in place or removed.

    Raises ImportRefused (nothing imported) listing every bad row, AccessDenied for anyone
    but the city data bureau."""
    _require_bureau(acting_user)
    if parent_column:
        columns = {**(columns or {}), "parent_code": parent_column}
    table = read_table(rows_source, filename=filename)
    located = _locate(table, CODE_LIST_COLUMNS, CODE_LIST_REQUIRED, columns)
    rows, errors = _code_rows(table, located, effective_date)
    if errors:
        raise ImportRefused(errors)
    if not rows:
        raise _refuse(_("The file has no rows of codes."))

    day_before = effective_date - dt.timedelta(days=1)
    with transaction.atomic():
        CodeList.objects.select_for_update().filter(pk=code_list.pk).first()
        values = CodeValue.objects.filter(code_list=code_list)
        later = values.filter(valid_from__gt=effective_date).order_by("valid_from").first()
        if later is not None:
            raise _refuse(
                _(
                    "The list already has values taking effect on %(date)s (such as %(code)s): "
                    "import with an effective date on or after it."
                )
                % {"date": later.valid_from.isoformat(), "code": later.code}
            )
        valid_now = Q(valid_from__isnull=True) | Q(valid_from__lte=effective_date)
        valid_now &= Q(valid_to__isnull=True) | Q(valid_to__gte=effective_date)
        current = {v.code: v for v in values.filter(valid_now)}
        # The latest end of the earlier values of each code, to refuse overlaps.
        ended: dict[str, dt.date] = {}
        for code, end in values.exclude(valid_now).values_list("code", "valid_to"):
            if end is not None and (code not in ended or end > ended[code]):
                ended[code] = end

        create: list[CodeValue] = []
        update: list[CodeValue] = []
        close_ids: list[int] = []
        delete_ids: list[int] = []
        added = closed = changed = unchanged = 0
        for row in rows:
            old = current.pop(row.code, None)
            if old is None:
                start = row.valid_from or effective_date
                if row.code in ended and ended[row.code] >= start:
                    errors.append(
                        RowError(
                            row.row,
                            table.header[located["valid_from"]] if "valid_from" in located else "",
                            _("Overlaps the earlier value of %(code)s that ended on %(end)s.")
                            % {"code": row.code, "end": ended[row.code].isoformat()},
                        )
                    )
                    continue
                create.append(_new_value(code_list, row, start))
                added += 1
            elif old.name == row.name and old.parent_code == row.parent_code:
                if row.valid_to is not None and row.valid_to != old.valid_to:
                    old.valid_to = row.valid_to
                    update.append(old)
                    changed += 1
                else:
                    unchanged += 1
            elif old.valid_from == effective_date:
                old.name, old.parent_code = row.name, row.parent_code
                old.valid_to = row.valid_to
                update.append(old)
                changed += 1
            else:
                close_ids.append(old.pk)
                create.append(_new_value(code_list, row, effective_date))
                changed += 1
        if errors:
            raise ImportRefused(errors)
        for old in current.values():
            (delete_ids if old.valid_from == effective_date else close_ids).append(old.pk)
            closed += 1

        if close_ids:
            CodeValue.objects.filter(pk__in=close_ids).update(valid_to=day_before)
        if delete_ids:
            CodeValue.objects.filter(pk__in=delete_ids).delete()
        if update:
            CodeValue.objects.bulk_update(
                update, ["name", "parent_code", "valid_to"], batch_size=1000
            )
        if create:
            CodeValue.objects.bulk_create(create, batch_size=1000)
        summary = CodeListImportSummary(added, closed, changed, unchanged)
        if summary.touched:
            note = reason or _(
                "Import effective %(date)s: %(added)d added, %(closed)d closed, %(changed)d changed"
            ) % {
                "date": effective_date.isoformat(),
                "added": added,
                "closed": closed,
                "changed": changed,
            }
            audited_save(code_list, acting_user=acting_user, reason=note)
            transaction.on_commit(validation.clear_cache)
    return summary


def _new_value(code_list: CodeList, row: _CodeRow, start: dt.date) -> CodeValue:
    return CodeValue(
        code_list=code_list,
        code=row.code,
        name=row.name,
        parent_code=row.parent_code,
        valid_from=start,
        valid_to=row.valid_to,
    )


CODE_LIST_EXPORT_HEADER = ("代码", "名称", "上级代码", "生效日期", "失效日期")


def code_list_export(
    *, code_list: CodeList, at: dt.date | None = None, include_history: bool = False
):
    """The values of `code_list` valid on `at` (default today; every value ever with
    `include_history`) as an XLSX download that `code_list_import` reads back."""
    values = CodeValue.objects.filter(code_list=code_list).order_by("code", "valid_from")
    if not include_history:
        at = at or timezone.localdate()
        values = values.filter(Q(valid_from__isnull=True) | Q(valid_from__lte=at)).filter(
            Q(valid_to__isnull=True) | Q(valid_to__gte=at)
        )
    rows = (
        (v.code, v.name, v.parent_code, v.valid_from, v.valid_to)
        for v in values.iterator(chunk_size=2000)
    )
    return stream_workbook(
        filename=f"{_safe_filename(code_list.identifier)}.xlsx",
        sheet_title=code_list.name or code_list.identifier,
        header=CODE_LIST_EXPORT_HEADER,
        rows=rows,
    )


def _safe_filename(text: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", text).strip("_") or "export"


# --- data elements ----------------------------------------------------------------------

# field -> the header written on export (Chinese, as the bureau's templates name them);
# the field name itself is accepted as a header too.
ELEMENT_COLUMNS = {
    "identifier": "标识符",
    "version": "版本",
    "status": "状态",
    "name": "中文名称",
    "english_name": "英文名称",
    "pinyin": "拼音",
    "definition": "定义",
    "object_class": "对象类",
    "property": "特性",
    "representation": "表示",
    "data_type": "数据类型",
    "format": "数据格式",
    "domain_kind": "值域类型",
    "code_list": "代码表",
    "pattern": "模式",
    "checksum": "校验规则",
    "unit": "计量单位",
    "classification": "分类",
    "synonyms": "同义名称",
    "submitted_by": "提交机构",
    "approved_at": "批准日期",
}
ELEMENT_REQUIRED = ("name", "definition", "data_type", "format")
ELEMENT_TEXT_FIELDS = (
    "name",
    "english_name",
    "pinyin",
    "definition",
    "object_class",
    "property",
    "representation",
    "format",
    "pattern",
    "unit",
    "classification",
    "synonyms",
)
# What decides whether a row is the same element as the current version.
ELEMENT_CONTENT_FIELDS = (
    *ELEMENT_TEXT_FIELDS,
    "data_type",
    "domain_kind",
    "code_list_id",
    "checksum",
)
IDENTIFIER = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,29}")
CURRENT = (DataElement.Status.CANDIDATE, DataElement.Status.STANDARD)


@dataclass
class ElementsImportSummary:
    added: list[DataElement] = field(default_factory=list)
    unchanged: int = 0


def _choice(value: str, choices) -> str | None:
    """The stored value of a choice given as its value or its label (in any case)."""
    text = value.strip()
    for stored, label in choices:
        if text.lower() in (str(stored).lower(), str(label).lower()):
            return stored
    return None


def _next_identifiers():
    taken = set(DataElement.objects.values_list("identifier", flat=True))
    n = 0
    for ident in taken:
        m = re.fullmatch(r"DE([0-9]{5,})", ident)
        if m:
            n = max(n, int(m[1]))
    while True:
        n += 1
        ident = f"DE{n:05d}"
        if ident not in taken:
            yield ident


class _ElementRows:
    """Turns the rows of an elements file into unsaved DataElements, noting every problem
    of a row as a RowError of the column concerned."""

    def __init__(self, table: Table, located: dict[str, int], acting_user):
        self.header = table.header
        self.located = located
        self.acting_user = acting_user
        self.code_lists = {c.identifier: c for c in CodeList.objects.all()}
        self.orgs: dict[str, Organization | None] = {}
        self.seen: dict[str, int] = {}
        self.today = timezone.localdate()

    def col(self, fieldname: str) -> str:
        if fieldname in self.located:
            return self.header[self.located[fieldname]]
        return ELEMENT_COLUMNS[fieldname]

    def read(self, number: int, cells: list) -> tuple[DataElement, list[RowError]]:
        errors: list[RowError] = []

        def error(fieldname: str, message: str) -> None:
            errors.append(RowError(number, self.col(fieldname), message))

        raw: dict[str, str] = {}
        for fieldname in ELEMENT_COLUMNS:
            if fieldname != "approved_at":
                try:
                    raw[fieldname] = _text(_cell(cells, self.located.get(fieldname)))
                except CellError as exc:
                    error(fieldname, str(exc))
                    raw[fieldname] = ""
        try:
            approved = _date(_cell(cells, self.located.get("approved_at")))
        except CellError as exc:
            error("approved_at", str(exc))
            approved = None

        element = DataElement(version=1, identifier=raw["identifier"])
        for fieldname in ELEMENT_TEXT_FIELDS:
            setattr(element, fieldname, raw[fieldname])
        for fieldname in ("name", "definition"):
            if not raw[fieldname]:
                error(fieldname, _("This field is required."))
        element.data_type = (
            _choice(raw["data_type"], DataElement._meta.get_field("data_type").choices) or ""
        )
        if not element.data_type:
            error(
                "data_type",
                _("“%(value)s” is not a data type (C, N, Y, D, T, L, M, G, B, I or F).")
                % {"value": raw["data_type"][:20]},
            )
        try:
            validation.parse_format(raw["format"])
        except DomainError as exc:
            error("format", str(exc))
        element.checksum = (
            _choice(raw["checksum"], DataElement._meta.get_field("checksum").choices) or ""
        )
        if raw["checksum"] and not element.checksum:
            error(
                "checksum",
                _("“%(value)s” is not a checksum rule (cn_ric or cn_uscc).")
                % {"value": raw["checksum"][:20]},
            )
        self._domain(element, raw, error)
        status = _choice(raw["status"], DataElement.Status.choices) if raw["status"] else None
        if raw["status"] and status not in CURRENT:
            error(
                "status",
                _("A new element is a candidate or a standard, not “%(value)s”.")
                % {"value": raw["status"][:20]},
            )
        element.status = status if status in CURRENT else DataElement.Status.STANDARD
        element.submitted_by = self._organization(raw["submitted_by"], error)
        if approved is None and element.status == DataElement.Status.STANDARD:
            approved = self.today
        element.approved_at = approved
        self._identifier(number, raw["identifier"], error)
        return element, errors

    def _domain(self, element: DataElement, raw: dict[str, str], error) -> None:
        if raw["code_list"]:
            element.code_list = self.code_lists.get(raw["code_list"])
            if element.code_list is None:
                error(
                    "code_list",
                    _("There is no code list %(identifier)s.")
                    % {"identifier": raw["code_list"][:50]},
                )
        if raw["domain_kind"]:
            kind = _choice(raw["domain_kind"], DataElement.DomainKind.choices)
            if kind is None:
                error(
                    "domain_kind",
                    _("“%(value)s” is not a kind of value domain (none, code_list, pattern).")
                    % {"value": raw["domain_kind"][:20]},
                )
        else:
            kind = "code_list" if raw["code_list"] else "pattern" if raw["pattern"] else "none"
        element.domain_kind = kind or "none"
        if element.domain_kind == "code_list" and not raw["code_list"]:
            error("code_list", _("Name the code list of this value domain."))
        if element.domain_kind == "pattern":
            if not raw["pattern"]:
                error("pattern", _("Give the pattern of this value domain."))
            elif not validation.pattern_is_valid(raw["pattern"]):
                error("pattern", _("The pattern is not a valid regular expression."))

    def _organization(self, name: str, error) -> Organization | None:
        if not name:
            return getattr(self.acting_user, "organization", None)
        if name not in self.orgs:
            self.orgs[name] = Organization.objects.filter(name=name).first()
        if self.orgs[name] is None:
            error(
                "submitted_by", _("There is no organization named %(name)s.") % {"name": name[:100]}
            )
        return self.orgs[name]

    def _identifier(self, number: int, identifier: str, error) -> None:
        if not identifier:
            return
        if not IDENTIFIER.fullmatch(identifier):
            error(
                "identifier",
                _("An identifier has up to 30 letters, digits, dots, dashes or underscores."),
            )
        elif identifier in self.seen:
            error(
                "identifier",
                _("The identifier %(identifier)s appears again (first in row %(row)d).")
                % {"identifier": identifier, "row": self.seen[identifier]},
            )
        else:
            self.seen[identifier] = number


def elements_import(*, source, acting_user, filename: str | None = None) -> ElementsImportSummary:
    """Add the data elements of an XLSX (or CSV) file, as the export writes them.

    A row without identifier gets the next `DE#####` (so a file of such rows adds them
    again each time it is imported). A row whose identifier has a current version with the
    same content is left alone; one that differs is refused: a change is made by a change
    request, reviewed, not by a file. New elements are `standard` (or `candidate`, if the
    status column says so), version 1, submitted by the organization named (default: the
    acting user's), approved on the date given (default today for a standard).

    Raises ImportRefused (nothing imported) listing every bad row, AccessDenied for anyone
    but the city data bureau."""
    _require_bureau(acting_user)
    table = read_table(source, filename=filename)
    aliases = {f: (f, header) for f, header in ELEMENT_COLUMNS.items()}
    reader = _ElementRows(table, _locate(table, aliases, ELEMENT_REQUIRED, None), acting_user)
    current = {
        e.identifier: e
        for e in DataElement.objects.filter(status__in=CURRENT).select_related("code_list")
    }
    used = set(DataElement.objects.values_list("identifier", flat=True))

    errors: list[RowError] = []
    pending: list[DataElement] = []
    unchanged = 0
    for number, cells in table.rows:
        if all(_is_blank(c) for c in cells):
            continue
        element, row_errors = reader.read(number, cells)
        if row_errors:
            errors += row_errors
            continue
        identifier = element.identifier
        existing = current.get(identifier) if identifier else None
        if existing is not None:
            differs = [
                f
                for f in ELEMENT_CONTENT_FIELDS
                if (getattr(existing, f) or "") != (getattr(element, f) or "")
            ]
            if not differs:
                unchanged += 1
                continue
            message = _(
                "%(identifier)s differs from its version %(version)d (%(fields)s): propose the "
                "change with a change request."
            ) % {
                "identifier": identifier,
                "version": existing.version,
                "fields": ", ".join(str(_field_label(f)) for f in differs),
            }
            errors.append(RowError(number, reader.col("identifier"), message))
            continue
        if identifier in used:
            message = _(
                "%(identifier)s is a retired element: a new element needs a new identifier."
            ) % {"identifier": identifier}
            errors.append(RowError(number, reader.col("identifier"), message))
            continue
        try:
            element.full_clean(exclude=["identifier"], validate_constraints=False)
        except ValidationError as exc:
            for fieldname, messages in exc.message_dict.items():
                name = fieldname.removesuffix("_id")
                column = reader.col(name) if name in ELEMENT_COLUMNS else ""
                errors += [RowError(number, column, message) for message in messages]
            continue
        pending.append(element)

    if errors:
        raise ImportRefused(errors)
    summary = ElementsImportSummary(unchanged=unchanged)
    with transaction.atomic():
        new_ids = _next_identifiers()
        for element in pending:
            if not element.identifier:
                element.identifier = next(new_ids)
            audited_save(
                element,
                acting_user=acting_user,
                reason=_("Imported from a workbook"),
                validate=False,
            )
            summary.added.append(element)
    return summary


def _field_label(fieldname: str) -> str:
    name = fieldname.removesuffix("_id")
    return DataElement._meta.get_field(name).verbose_name


def elements_export(*, elements: Iterable[DataElement] | None = None):
    """Data elements (default: the current version of each) as an XLSX download that
    `elements_import` reads back; text that looks like a formula stays text."""
    if elements is None:
        elements = DataElement.objects.filter(status__in=CURRENT)
    if hasattr(elements, "select_related"):
        elements = elements.select_related("code_list", "submitted_by").order_by(
            "identifier", "-version"
        )

    def rows():
        for e in elements:
            yield (
                e.identifier,
                e.version,
                e.status,
                e.name,
                e.english_name,
                e.pinyin,
                e.definition,
                e.object_class,
                e.property,
                e.representation,
                e.data_type,
                e.format,
                e.domain_kind,
                e.code_list.identifier if e.code_list_id else "",
                e.pattern,
                e.checksum,
                e.unit,
                e.classification,
                e.synonyms,
                e.submitted_by.name if e.submitted_by_id else "",
                e.approved_at,
            )

    return stream_workbook(
        filename="data-elements.xlsx",
        sheet_title="数据元",
        header=list(ELEMENT_COLUMNS.values()),
        rows=rows(),
    )
