"""A copy of a refused workbook with the bad cells marked: filled red, with a comment that
says what is wrong, and a first sheet listing every error. Written by streaming (openpyxl
read-only in, write-only out), so a large workbook does not have to fit in memory; values are
copied as they were (formulas stay formulas, text stays text), formatting is not. What the
filer needs to correct the copy and upload it again is put back as in the template: the
dropdowns (pointing at the copied 可选值 sheet), the header style, text-formatted text
columns and the frozen header row."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter

from .columns import ERRORS_SHEET, SHEETS, VALUES_SHEET, Column, normalise_header
from .reader import CellIssue
from .template import HEADER_FILL, REQUIRED_FILL, TEXT_KINDS, add_validations, values_range
from .vocabulary import LIST_TITLES

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
AUTHOR = "武汉市公共数据资源平台"


def _safe(value):
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    return value


def _placed_columns(ws, columns: tuple[Column, ...]) -> dict[int, Column]:
    """The template's columns found in the header row of `ws`, by (1-based) position."""
    header = next(ws.iter_rows(max_row=1, values_only=True), ())
    by_header = {c.header: c for c in columns}
    placed: dict[int, Column] = {}
    for i, text in enumerate(header, start=1):
        col = by_header.get(normalise_header(text))
        if col is not None and col not in placed.values():
            placed[i] = col
    return placed


def write_marked_copy(source: str | Path, issues: list[CellIssue], target: str | Path) -> None:
    """Write the marked copy of `source` to `target`."""
    marks: dict[str, dict[int, dict[int, list[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(list))
    )
    for issue in issues:
        if issue.row and issue.column:
            marks[issue.sheet][issue.row][column_index_from_string(issue.column)].append(
                issue.message
            )
        elif issue.row:
            marks[issue.sheet][issue.row][1].append(issue.message)

    src = load_workbook(source, read_only=True, data_only=False, keep_links=False)
    out = Workbook(write_only=True)
    data_sheets: list[tuple] = []
    list_columns: dict[int, str] = {}  # 可选值: column -> list title
    list_lengths: dict[int, int] = {}  # 可选值: column -> number of values
    try:
        errors_ws = out.create_sheet(ERRORS_SHEET)
        bold = Font(bold=True)
        head = []
        for title in ("表", "行", "列", "字段", "错误"):
            cell = WriteOnlyCell(errors_ws, value=title)
            cell.font = bold
            head.append(cell)
        errors_ws.append(head)
        for issue in issues:
            errors_ws.append(
                [issue.sheet, issue.row or "", issue.column, issue.field, _safe(issue.message)]
            )
        for name in src.sheetnames:
            ws = src[name]
            if not hasattr(ws, "iter_rows"):
                continue
            ws.reset_dimensions()
            target_ws = out.create_sheet(name)
            columns = SHEETS.get(name.strip())
            placed = _placed_columns(ws, columns) if columns else {}
            if placed:
                data_sheets.append((target_ws, name.strip(), placed))
                target_ws.freeze_panes = "B2"
            # Before any row: write-only sheets write their column settings first.
            for index in range(1, max(20, max(placed, default=0) + 1)):
                dim = target_ws.column_dimensions[get_column_letter(index)]
                col = placed.get(index)
                dim.width = col.width if col else 16
                if col is not None and col.kind in TEXT_KINDS:
                    dim.number_format = "@"
            if name.strip() == VALUES_SHEET:
                target_ws.protection.sheet = True  # read only, as in the template
            sheet_marks = marks.get(name.strip(), {})
            number = 0
            for number, cells in enumerate(ws.iter_rows(), start=1):
                row_marks = sheet_marks.get(number, {})
                width = max(len(cells), max(row_marks, default=0))
                row = []
                for i in range(width):
                    source_cell = cells[i] if i < len(cells) else None
                    value = getattr(source_cell, "value", None)
                    cell = WriteOnlyCell(target_ws, value=_safe(value))
                    if getattr(source_cell, "data_type", None) == "s":
                        cell.data_type = "s"  # text that looks like a formula stays text
                    if number == 1 and (i + 1) in placed:
                        cell.font = bold
                        cell.fill = REQUIRED_FILL if placed[i + 1].required else HEADER_FILL
                    if name.strip() == VALUES_SHEET and value not in (None, ""):
                        if number == 1:
                            list_columns[i + 1] = str(value).strip()
                        else:
                            list_lengths[i + 1] = number - 1
                    messages = row_marks.get(i + 1)
                    if messages:
                        cell.fill = BAD_FILL
                        cell.comment = Comment("\n".join(messages), AUTHOR, width=320, height=120)
                    row.append(cell)
                target_ws.append(row)
            # Marks below the last row of the file (none expected, but never lost).
            for extra in sorted(r for r in sheet_marks if r > number):
                row_marks = sheet_marks[extra]
                while number < extra - 1:
                    target_ws.append([])
                    number += 1
                row = []
                for i in range(max(row_marks)):
                    cell = WriteOnlyCell(target_ws, value=None)
                    if i + 1 in row_marks:
                        cell.fill = BAD_FILL
                        cell.comment = Comment("\n".join(row_marks[i + 1]), AUTHOR)
                    row.append(cell)
                target_ws.append(row)
                number = extra
        # The dropdowns, once the copied 可选值 sheet has been read (validations are written
        # after the rows, when the workbook is saved).
        list_names = {title: name for name, title in LIST_TITLES.items()}
        ranges = {
            list_names[title]: values_range(get_column_letter(index), list_lengths.get(index, 0))
            for index, title in list_columns.items()
            if title in list_names
        }
        for target_ws, title, placed in data_sheets:
            add_validations(
                target_ws,
                title,
                [(col, get_column_letter(i)) for i, col in placed.items()],
                ranges,
            )
        out.save(str(target))
    finally:
        src.close()
