"""A copy of a refused workbook with the bad cells marked: filled red, with a comment that
says what is wrong, and a first sheet listing every error. Written by streaming (openpyxl
read-only in, write-only out), so a large workbook does not have to fit in memory; values are
copied as they were (formulas stay formulas, text stays text), formatting is not."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import column_index_from_string, get_column_letter

from .columns import ERRORS_SHEET
from .reader import CellIssue

BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
AUTHOR = "武汉市公共数据资源平台"


def _safe(value):
    if isinstance(value, str):
        return "".join(ch for ch in value if ch in "\t\n\r" or ord(ch) >= 32)
    return value


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
            for index in range(1, 20):  # before any row: write-only sheets write them first
                target_ws.column_dimensions[get_column_letter(index)].width = 16
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
        out.save(str(target))
    finally:
        src.close()
