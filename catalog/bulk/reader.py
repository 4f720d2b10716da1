"""Workbook -> intermediate rows.

`inspect_file` refuses, before anything else is read, a file that is too large, is not an
XLSX workbook (an .xls, a renamed file, a damaged archive) or would inflate far past its size
(a ZIP bomb). `read_workbook` then streams the two data sheets with openpyxl in read-only mode
(XML parsed through defusedxml) into rows of raw cell values, in the order of the columns of
`columns.py`, and notes every problem of the workbook's shape as a `CellIssue`: a missing sheet
or header, a formula (refused: we cannot trust the value Excel cached for it), a merged range.

What a cell holds is taken as it is: a string entered with a leading apostrophe (quotePrefix)
is that string, never a formula; numbers and dates stay numbers and dates for the check to
judge. Rows with nothing in them (trailing empty rows, spacer rows) are skipped.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.uploads import WorkbookRefused, inspect_workbook

from .columns import ITEMS_SHEET, RESOURCES_SHEET, SHEETS, Column, normalise_header

XLSX_MAGIC = b"PK\x03\x04"
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls
MAX_COLUMNS = 60  # columns read from a data sheet; the template has 19


def max_bytes() -> int:
    return getattr(settings, "CATALOG_BULK_MAX_BYTES", 60 * 1024 * 1024)


def max_uncompressed_bytes() -> int:
    return getattr(settings, "CATALOG_BULK_MAX_UNCOMPRESSED_BYTES", 1024 * 1024 * 1024)


def max_ratio() -> int:
    return getattr(settings, "CATALOG_BULK_MAX_COMPRESSION_RATIO", 100)


def max_rows() -> dict[str, int]:
    return {
        RESOURCES_SHEET: getattr(settings, "CATALOG_BULK_MAX_RESOURCES", 10_000),
        ITEMS_SHEET: getattr(settings, "CATALOG_BULK_MAX_ITEMS", 200_000),
    }


class BulkRefused(DomainError):
    """The file as a whole cannot be read; nothing in it was checked."""

    def __init__(self, message: str):
        super().__init__(message, field="workbook", code="bulk_refused")


@dataclass(frozen=True)
class CellIssue:
    """A problem at a cell (`row` as Excel numbers it, `column` its letter; "" = the sheet)."""

    sheet: str
    row: int
    column: str
    field: str
    message: str

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "message": self.message,
        }


@dataclass
class SheetRows:
    name: str
    columns: tuple[Column, ...]
    letters: dict[str, str] = field(default_factory=dict)  # column key -> letter in the file
    rows: list[tuple[int, list]] = field(default_factory=list)  # (row number, values)


@dataclass
class WorkbookRows:
    sheets: dict[str, SheetRows]
    issues: list[CellIssue] = field(default_factory=list)

    @property
    def resources(self) -> SheetRows:
        return self.sheets[RESOURCES_SHEET]

    @property
    def items(self) -> SheetRows:
        return self.sheets[ITEMS_SHEET]


class Formula(str):
    """The text of a formula cell."""


def _mb(n: int) -> int:
    return n // (1024 * 1024)


def inspect_file(path: str | Path, *, name: str = "") -> None:
    """Refuse a file that is too large, not an XLSX workbook, or a ZIP bomb."""
    path = Path(path)
    name = name or path.name
    size = path.stat().st_size
    if size > max_bytes():
        raise BulkRefused(
            _(
                "The file is %(size)d MB, more than the %(max)d MB allowed: split it into smaller files."
            )
            % {"size": _mb(size), "max": _mb(max_bytes())}
        )
    if size == 0:
        raise BulkRefused(_("The file %(name)s is empty.") % {"name": name})
    with open(path, "rb") as f:
        head = f.read(8)
    if head.startswith(OLE2_MAGIC):
        raise BulkRefused(
            _("%(name)s is an Excel 97-2003 (.xls) file: save it as an Excel workbook (.xlsx).")
            % {"name": name}
        )
    if not head.startswith(XLSX_MAGIC):
        raise BulkRefused(
            _("%(name)s is not an Excel workbook (.xlsx): download the template and fill it in.")
            % {"name": name}
        )
    try:
        inspect_workbook(
            path,
            name=name,
            max_inflated=max_uncompressed_bytes(),
            max_ratio=max_ratio(),
            max_member_ratio=max_ratio() * 10,
        )
    except WorkbookRefused as exc:
        raise BulkRefused(exc.message) from exc


_MERGE = re.compile(rb'<(?:[A-Za-z0-9_]+:)?mergeCell\b[^>]*?\bref="([A-Za-z0-9:$]+)"')


def _merged_ranges(archive: zipfile.ZipFile, member: str) -> list[str]:
    """The merged ranges of a worksheet, found by scanning its XML (not parsing it again)."""
    found: list[str] = []
    tail = b""
    with archive.open(member) as src:
        while chunk := src.read(1 << 20):
            data = tail + chunk
            last_end = 0
            for m in _MERGE.finditer(data):
                found.append(m.group(1).decode("ascii").replace("$", ""))
                last_end = m.end()
            tail = data[max(last_end, len(data) - 200) :]
    return found


def _header_issue(sheet: str, message: str) -> CellIssue:
    return CellIssue(sheet, 1, "", "", message)


def _locate(sheet: str, header: list, columns: tuple[Column, ...], issues: list[CellIssue]):
    from openpyxl.utils import get_column_letter

    wanted = {c.header: c for c in columns}
    index: dict[str, int] = {}
    for i, text in enumerate(header):
        name = normalise_header(text)
        col = wanted.get(name)
        if col is None:
            continue
        if col.key in index:
            issues.append(
                CellIssue(
                    sheet,
                    1,
                    get_column_letter(i + 1),
                    name,
                    _("The column %(header)s appears twice.") % {"header": name},
                )
            )
            continue
        index[col.key] = i
    missing = [c.header for c in columns if c.key not in index and c.required]
    if missing:
        issues.append(
            _header_issue(
                sheet,
                _("Row 1 lacks the columns %(headers)s: use the headers of the template.")
                % {"headers": "、".join(missing)},
            )
        )
    return index


def read_workbook(
    path: str | Path, *, name: str = "", progress: Callable[[float], None] | None = None
) -> WorkbookRows:
    """The rows of the two data sheets. Raises `BulkRefused` for an unreadable file; problems
    of shape (sheets, headers, formulas, merged cells, too many rows) are returned as issues."""
    import openpyxl
    from openpyxl.utils import get_column_letter

    if not openpyxl.DEFUSEDXML:
        raise BulkRefused(
            _("Workbooks cannot be read safely on this server (defusedxml is missing).")
        )
    inspect_file(path, name=name)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=False, keep_links=False)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise BulkRefused(
            _("%(name)s is not an Excel workbook (.xlsx): it may be damaged or renamed.")
            % {"name": name or Path(path).name}
        ) from exc
    result = WorkbookRows(sheets={})
    issues = result.issues
    limits = max_rows()
    try:
        present = {s.strip(): s for s in workbook.sheetnames}
        for sheet, columns in SHEETS.items():
            result.sheets[sheet] = rows = SheetRows(sheet, columns)
            if sheet not in present:
                issues.append(
                    CellIssue(
                        sheet,
                        0,
                        "",
                        "",
                        _(
                            "The workbook has no sheet named %(sheet)s (it has %(sheets)s): use the template."
                        )
                        % {"sheet": sheet, "sheets": "、".join(workbook.sheetnames)},
                    )
                )
        total = 0
        for sheet in SHEETS:
            if sheet not in present:
                continue
            ws = workbook[present[sheet]]
            total += ws.max_row or 0
        done = 0
        with zipfile.ZipFile(path) as archive:
            for sheet, columns in SHEETS.items():
                if sheet not in present:
                    continue
                rows = result.sheets[sheet]
                ws = workbook[present[sheet]]
                member = getattr(ws, "_worksheet_path", "").lstrip("/")
                ws.reset_dimensions()
                index: dict[str, int] | None = None
                order: list[tuple[int, int]] = []  # (position in the spec, index in the file)
                width = 0
                keys = [c.key for c in columns]
                for number, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
                    if index is None:
                        index = _locate(sheet, [c.value for c in cells], columns, issues)
                        rows.letters = {k: get_column_letter(i + 1) for k, i in index.items()}
                        order = [(keys.index(k), i) for k, i in index.items()]
                        width = len(columns)
                        continue
                    values: list = [None] * width
                    blank = True
                    for pos, i in order:
                        if i >= len(cells):
                            continue
                        cell = cells[i]
                        value = cell.value
                        if value is None:
                            continue
                        if cell.data_type == "f":
                            value = Formula(value)
                        elif isinstance(value, str) and not value.strip():
                            continue
                        blank = False
                        values[pos] = value
                    if blank:
                        continue
                    if len(rows.rows) >= limits[sheet]:
                        issues.append(
                            CellIssue(
                                sheet,
                                number,
                                "",
                                "",
                                _("The sheet %(sheet)s has more than %(n)d rows: split the file.")
                                % {"sheet": sheet, "n": limits[sheet]},
                            )
                        )
                        break
                    rows.rows.append((number, values))
                    done += 1
                    if progress is not None and done % 2000 == 0 and total:
                        progress(min(done / total, 1.0))
                if index is None:
                    issues.append(
                        _header_issue(sheet, _("The sheet %(sheet)s is empty.") % {"sheet": sheet})
                    )
                if member:
                    for ref in _merged_ranges(archive, member):
                        first = ref.split(":")[0]
                        issues.append(
                            CellIssue(
                                sheet,
                                int(re.sub(r"[A-Z]+", "", first) or 0),
                                re.sub(r"[0-9]+", "", first),
                                "",
                                _(
                                    "Cells %(range)s are merged: unmerge them and fill in every cell."
                                )
                                % {"range": ref},
                            )
                        )
    except BulkRefused:
        raise
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        raise BulkRefused(
            _("%(name)s could not be read as an Excel workbook: it may be damaged.")
            % {"name": name or Path(path).name}
        ) from exc
    finally:
        workbook.close()
    return result


def cell_is_date(value) -> bool:
    return isinstance(value, dt.datetime | dt.date | dt.time)
