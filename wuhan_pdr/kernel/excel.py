"""Excel helpers shared by every export: streaming workbooks that never turn user text into
live formulas."""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Iterable, Sequence

from django.http import FileResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_value(value):
    """A cell value that Excel shows as the text it is: strings that would start a formula
    (or DDE payload) are stored as explicit strings."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (
            value.replace(tzinfo=None)
            if value.tzinfo is None
            else value.astimezone().replace(tzinfo=None)
        )
    if isinstance(value, (int, float, dt.date)) and not isinstance(value, bool):
        return value
    if isinstance(value, bool):
        return "是" if value else "否"
    text = str(value)
    # Strip control characters openpyxl refuses (it raises IllegalCharacterError).
    text = "".join(ch for ch in text if ch in "\t\n\r" or ord(ch) >= 32)
    return text


def _cell(ws, value):
    value = safe_value(value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        cell.data_type = "s"  # text, never a formula
    return cell


def stream_workbook(
    *, filename: str, sheet_title: str, header: Sequence[str], rows: Iterable[Sequence]
) -> FileResponse:
    """Write rows with openpyxl's write-only mode to a temporary file and stream it back."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=sheet_title[:31])
    bold = Font(bold=True)
    head = []
    for title in header:
        c = WriteOnlyCell(ws, value=str(title))
        c.font = bold
        head.append(c)
    ws.append(head)
    for row in rows:
        ws.append([_cell(ws, v) for v in row])
    tmp = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115 - FileResponse closes it
    wb.save(tmp)
    tmp.seek(0)
    return FileResponse(
        tmp,
        as_attachment=True,
        filename=filename,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
