"""The downloadable bulk filing template: the two data sheets with their headers, the sheet
of allowed values feeding the dropdowns (list data validations referencing its ranges) and
the instructions in Chinese."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation

from .columns import (
    HELP_SHEET,
    ITEM_COLUMNS,
    ITEMS_SHEET,
    RESOURCE_COLUMNS,
    RESOURCES_SHEET,
    VALUES_SHEET,
    Column,
)
from .vocabulary import LIST_TITLES, Vocabulary

VALIDATED_ROWS = {RESOURCES_SHEET: 10_001, ITEMS_SHEET: 200_001}
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
REQUIRED_FILL = PatternFill("solid", fgColor="FCE4D6")

INSTRUCTIONS = [
    ("武汉市公共数据资源目录 · 批量编目模板", True),
    ("", False),
    ("一、文件结构", True),
    ("1. “资源”表:每行一个数据资源,填写与在线编目表单相同的内容。", False),
    (
        "2. “信息项”表:每行一个信息项(数据项),第一列“资源编号”填写该信息项所属资源在“资源”表中的编号。",
        False,
    ),
    ("3. 同一资源的信息项按其在“信息项”表中出现的先后顺序编排序号。", False),
    ("4. “可选值”表列出下拉框的全部可选值,请勿修改;“填写说明”表仅供阅读。", False),
    ("", False),
    ("二、填写要求", True),
    ("1. 表头带 * 的列必须填写;请勿修改表名和表头,可以调整列的顺序。", False),
    (
        "2. “编号”由您自定(如 R1、R2 或 1、2),在本文件内不得重复;导入后系统按资源分类自动分配资源代码。",
        False,
    ),
    (
        "3. 资源分类、资源格式、安全级别、共享类型、共享方式、开放类型、更新周期、更新方式、数据类型请从下拉框中选择;也可只填代码(如 101、L2)。",
        False,
    ),
    ("4. 主题分类可填多个,用逗号、顿号或空格分隔,只填代码即可(如 201、202)。", False),
    ("5. 关联资源代码填写已发布资源的代码,多个用逗号分隔。", False),
    ("6. “是否”类列(可授权运营、主键、更新标识、可为空)填“是”或“否”;“可为空”不填视为“是”。", False),
    (
        "7. 共享类型为“有条件共享”时须填写共享条件;“不予共享”时须填写不予共享依据。开放类型同理。",
        False,
    ),
    (
        "8. 安全级别限制共享、开放方式(如较敏感数据不得无条件共享、开放);信息项分级不得高于资源的安全级别。",
        False,
    ),
    (
        "9. 更新方式为“增量”时,须有且只有一个信息项标为更新标识(日期、时间或数值类型),并至少有一个主键信息项。",
        False,
    ),
    (
        "10. 字符型(C)、数值型(N)、货币型(Y)信息项须填写长度;英文列名以小写字母开头,只含小写字母、数字和下划线。",
        False,
    ),
    ("11. 数据元填写数据元标识符(如 DE00001),须为现行数据元。", False),
    ("", False),
    ("三、注意事项", True),
    ("1. 单元格中请直接填写值,不要使用公式;含公式的单元格会被拒绝。", False),
    ("2. 不要合并单元格;合并的单元格会被拒绝。", False),
    ("3. 文本列被 Excel 自动转换为日期的,请将该列设为文本格式后重新填写。", False),
    ("4. 以单引号开头输入的内容按文本原样读取。", False),
    ("5. 文件须为 .xlsx 格式,大小不超过系统上限;空行会被忽略。", False),
    (
        "6. 上传后系统逐行检查;只要有一处错误,整个文件都不会导入。检查报告列出每个错误所在的表、行、列,"
        "并可下载标出错误单元格的工作簿,修改后重新上传。",
        False,
    ),
    (
        "7. 检查通过后,全部资源以草稿状态导入本单位目录,可在“我的资源”中逐条查看、修改并提交审核。",
        False,
    ),
]


def _column_letters(columns: tuple[Column, ...]) -> dict[str, str]:
    return {c.key: get_column_letter(i) for i, c in enumerate(columns, start=1)}


def _data_sheet(wb: Workbook, title: str, columns: tuple[Column, ...], ranges: dict) -> None:
    ws = wb.create_sheet(title)
    bold = Font(bold=True)
    for i, col in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=col.title)
        cell.font = bold
        cell.fill = REQUIRED_FILL if col.required else HEADER_FILL
        cell.alignment = Alignment(horizontal="center")
        if col.note:
            cell.comment = Comment(col.note, "武汉市公共数据资源平台")
        ws.column_dimensions[get_column_letter(i)].width = col.width
    ws.freeze_panes = "B2"
    letters = _column_letters(columns)
    add_validations(ws, title, [(c, letters[c.key]) for c in columns], ranges)
    # Every text cell is text, so Excel does not turn 2024-01 into a date or 0012 into 12.
    for col in columns:
        if col.kind in TEXT_KINDS:
            ws.column_dimensions[letters[col.key]].number_format = "@"


TEXT_KINDS = ("text", "key", "related", "themes")


def add_validations(ws, title: str, placed: list[tuple[Column, str]], ranges: dict) -> None:
    """The dropdowns of a data sheet: each (column, letter) whose column takes its values
    from a list gets a list validation on its letter; `ranges` maps a list's name to its
    range on the 可选值 sheet (a list missing from it gets no dropdown). Used by the
    template and by the marked copy of a refused workbook."""
    last = VALIDATED_ROWS[title]
    for col, letter in placed:
        if not col.values or col.kind == "themes":
            continue
        strict = col.kind != "element"  # an identifier may also be typed
        if col.values == "bool":
            dv = DataValidation(type="list", formula1='"是,否"', allow_blank=True)
        elif col.values in ranges:
            dv = DataValidation(type="list", formula1=ranges[col.values], allow_blank=True)
        else:
            continue
        dv.showErrorMessage = strict
        dv.errorTitle = "请从下拉框中选择"
        dv.error = "请从下拉框中选择可选值,或查看“可选值”表。"
        dv.add(f"{letter}2:{letter}{last}")
        ws.data_validations.append(dv)


def values_range(letter: str, count: int) -> str:
    """The range of a list of `count` values in column `letter` of the 可选值 sheet."""
    return f"{quote_sheetname(VALUES_SHEET)}!${letter}$2:${letter}${max(count, 1) + 1}"


def build_template(vocabulary: Vocabulary | None = None) -> bytes:
    """The template workbook as bytes."""
    vocabulary = vocabulary or Vocabulary.load()
    wb = Workbook()
    help_ws = wb.active
    help_ws.title = HELP_SHEET
    help_ws.column_dimensions["A"].width = 120
    for row, (text, strong) in enumerate(INSTRUCTIONS, start=1):
        cell = help_ws.cell(row=row, column=1, value=text)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if strong:
            cell.font = Font(bold=True, size=13 if row == 1 else 11)

    values_ws = wb.create_sheet(VALUES_SHEET)
    ranges: dict[str, str] = {}
    for i, (name, title) in enumerate(LIST_TITLES.items(), start=1):
        letter = get_column_letter(i)
        values = vocabulary.lists.get(name, [])
        values_ws.cell(row=1, column=i, value=title).font = Font(bold=True)
        for r, text in enumerate(values, start=2):
            values_ws.cell(row=r, column=i, value=text)
        values_ws.column_dimensions[letter].width = 24
        ranges[name] = values_range(letter, len(values))
    values_ws.protection.sheet = True  # read only: the dropdowns depend on it

    _data_sheet(wb, RESOURCES_SHEET, RESOURCE_COLUMNS, ranges)
    _data_sheet(wb, ITEMS_SHEET, ITEM_COLUMNS, ranges)
    # 填写说明, 资源, 信息项, then the list sheet the filer need not open: the values sheet
    # was created first (the data sheets' validations refer to it).
    wb.move_sheet(VALUES_SHEET, offset=len(wb.sheetnames) - 1 - wb.sheetnames.index(VALUES_SHEET))
    wb.active = wb.sheetnames.index(RESOURCES_SHEET)
    for ws in wb.worksheets:  # one selected tab: Excel would edit grouped sheets together
        ws.sheet_view.tabSelected = ws.title == RESOURCES_SHEET
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
