"""Example workbooks of the bulk filing tests, written with openpyxl as a filer would fill
the template: `python -m tests.catalog.bulk.workbooks.make` (with Django set up) rewrites the
small committed examples in this folder; tests build the large ones into tmp_path.

Each builder takes the template (bytes from `catalog.bulk.template.build_template`) or, for
speed, writes plain sheets with the template's headers."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

from openpyxl import Workbook, load_workbook

from catalog.bulk.columns import ITEM_COLUMNS, ITEMS_SHEET, RESOURCE_COLUMNS, RESOURCES_SHEET

HERE = Path(__file__).resolve().parent
RES_HEADERS = [c.title for c in RESOURCE_COLUMNS]
ITEM_HEADERS = [c.title for c in ITEM_COLUMNS]


def resource_row(key: str, name: str, **over) -> list:
    """A valid resource row: 101 人口, L2, shared under conditions, not open."""
    values = {
        "key": key,
        "name": name,
        "classification": "101 人口",
        "summary": f"{name}的摘要。",
        "source_system": "业务系统",
        "format": "数据库表",
        "themes": "",
        "grade": "L2 低敏感",
        "share_type": "有条件共享",
        "share_conditions": "用于政务服务",
        "share_method": "通过共享平台",
        "share_legal_basis": "",
        "open_type": "不予开放",
        "open_conditions": "",
        "open_legal_basis": "涉及个人信息",
        "operation_eligible": "否",
        "update_cycle": "每月",
        "update_mode": "全量",
        "related": "",
    }
    values.update(over)
    return [values[c.key] for c in RESOURCE_COLUMNS]


def item_row(key: str, name: str, column: str, **over) -> list:
    values = {
        "resource_key": key,
        "name": name,
        "english_name": column,
        "data_type": "C",
        "length": 50,
        "is_key": "否",
        "is_update_flag": "否",
        "nullable": "是",
        "grade": "",
        "masking_rule": "",
        "description": "",
        "element": "",
    }
    values.update(over)
    return [values[c.key] for c in ITEM_COLUMNS]


def fill_template(template: bytes, resources: list[list], items: list[list]) -> bytes:
    """The template with rows written under the headers, as a filer does."""
    wb = load_workbook(io.BytesIO(template))
    for sheet, rows in ((RESOURCES_SHEET, resources), (ITEMS_SHEET, items)):
        ws = wb[sheet]
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                ws.cell(row=r, column=c, value=value if value != "" else None)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def plain_workbook(resources: list[list], items: list[list], *, write_only: bool = True) -> bytes:
    """The two data sheets with the template's headers, written in streaming mode."""
    wb = Workbook(write_only=write_only)
    if not write_only:
        wb.remove(wb.active)
    for sheet, header, rows in (
        (RESOURCES_SHEET, RES_HEADERS, resources),
        (ITEMS_SHEET, ITEM_HEADERS, items),
    ):
        ws = wb.create_sheet(sheet)
        ws.append(header)
        for row in rows:
            ws.append([v if v != "" else None for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def valid_rows(n_resources: int = 2, items_each: int = 3) -> tuple[list[list], list[list]]:
    """Resources updated monthly whose last item, a time, is the update flag (Art. 16)."""
    resources, items = [], []
    for i in range(1, n_resources + 1):
        key = f"R{i}"
        resources.append(resource_row(key, f"批量资源{i}"))
        for j in range(1, items_each + 1):
            if j == items_each:
                items.append(
                    item_row(
                        key, "更新时间", f"col_{j}", data_type="T", length=None, is_update_flag="是"
                    )
                )
            else:
                items.append(
                    item_row(key, f"信息项{j}", f"col_{j}", is_key="是" if j == 1 else "否")
                )
    return resources, items


def valid() -> bytes:
    """Two resources of three items each, and an incremental one with its key and update
    flag, themes, a name that looks like a date and a length written as text."""
    resources, items = valid_rows()
    resources.append(
        resource_row(
            "R3",
            "2024-01 人口增量",
            themes="201、202",
            update_mode="增量",
            update_cycle="每日",
            summary="按日更新",
        )
    )
    items += [
        item_row("R3", "身份证号", "id_no", is_key="是", length=18),
        item_row("R3", "更新时间", "updated_at", data_type="T", length=None, is_update_flag="是"),
        item_row("R3", "编码", "code", length="0012"),
    ]
    return plain_workbook(resources, items, write_only=False)


def with_formula() -> bytes:
    wb = load_workbook(io.BytesIO(plain_workbook(*valid_rows(), write_only=False)))
    wb[RESOURCES_SHEET]["B2"] = '=CONCATENATE("人口","信息")'
    return _save(wb)


def with_merged_cells() -> bytes:
    wb = load_workbook(io.BytesIO(plain_workbook(*valid_rows(), write_only=False)))
    wb[ITEMS_SHEET].merge_cells("A2:A4")
    return _save(wb)


def with_date_as_number() -> bytes:
    """A name cell Excel turned into a date: a serial number formatted as a date."""
    wb = load_workbook(io.BytesIO(plain_workbook(*valid_rows(), write_only=False)))
    cell = wb[RESOURCES_SHEET]["B3"]
    cell.value = 45292  # 2024-01-01
    cell.number_format = "yyyy-mm-dd"
    return _save(wb)


def with_quote_prefix() -> bytes:
    """Text entered with a leading apostrophe: 0012 and =SUM(...) stay text."""
    wb = load_workbook(io.BytesIO(plain_workbook(*valid_rows(), write_only=False)))
    ws = wb[RESOURCES_SHEET]
    ws["B2"] = "=SUM(1,2) 统计"
    ws["B2"].data_type = "s"
    ws["B2"].quotePrefix = True
    ws["D2"] = "0012"
    ws["D2"].quotePrefix = True
    return _save(wb)


def with_rule_errors() -> bytes:
    resources, items = valid_rows()
    resources[0][RES_HEADERS.index("共享条件")] = ""  # conditional share without conditions
    resources[1][RES_HEADERS.index("安全级别*")] = "L9"  # no such grade
    items[1][ITEM_HEADERS.index("英文列名")] = "Bad Name"
    return plain_workbook(resources, items)


def with_periodic_without_update_flag() -> bytes:
    """The second resource is updated monthly but no item of it is the update flag."""
    resources, items = valid_rows()
    flag = ITEM_HEADERS.index("更新标识")
    for row in items:
        if row[0] == "R2":
            row[flag] = "否"
    return plain_workbook(resources, items)


def with_wrong_sheets() -> bytes:
    wb = Workbook()
    wb.active.title = "Sheet1"
    wb.active.append(["名称", "分类"])
    return _save(wb)


def with_trailing_blank_rows_and_spaces() -> bytes:
    resources, items = valid_rows()
    resources[0][1] = "  批量资源1  "
    wb = load_workbook(io.BytesIO(plain_workbook(resources, items, write_only=False)))
    ws = wb[RESOURCES_SHEET]
    for r in range(10, 30):
        ws.cell(row=r, column=2, value="   ")
    ws.cell(row=40, column=1, value=None)
    return _save(wb)


def not_a_workbook() -> bytes:
    return "资源名称,资源分类\n人口信息,101\n".encode()


def xls_file() -> bytes:
    return b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504


def zip_bomb(path: Path, *, inflated_mb: int = 300) -> Path:
    """A ZIP named like a workbook whose one sheet inflates to `inflated_mb` MB of zeros."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            chunk = b"\0" * (1024 * 1024)
            for _ in range(inflated_mb):
                sheet.write(chunk)
    return path


def large_file(path: Path, *, mb: int = 50) -> Path:
    """A valid workbook of about `mb` MB: a few good rows plus an incompressible media part
    (as a workbook with pictures has), so that its size, not its rows, is what is large."""
    data = plain_workbook(*valid_rows())
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            out.writestr(info, src.read(info.filename))
        with out.open("xl/media/image1.bin", "w", force_zip64=True) as media:
            for _ in range(mb):
                media.write(os.urandom(1024 * 1024))
    return path


def _save(wb) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


EXAMPLES = {
    "pass_valid.xlsx": valid,
    "pass_quote_prefix.xlsx": with_quote_prefix,
    "pass_blank_rows_and_spaces.xlsx": with_trailing_blank_rows_and_spaces,
    "fail_formula.xlsx": with_formula,
    "fail_merged_cells.xlsx": with_merged_cells,
    "fail_date_as_number.xlsx": with_date_as_number,
    "fail_rule_errors.xlsx": with_rule_errors,
    "fail_periodic_without_update_flag.xlsx": with_periodic_without_update_flag,
    "fail_wrong_sheets.xlsx": with_wrong_sheets,
    "fail_not_a_workbook.xlsx": not_a_workbook,
    "fail_xls_renamed.xlsx": xls_file,
}


def main() -> None:
    for name, build in EXAMPLES.items():
        (HERE / name).write_bytes(build())
        print("wrote", name)


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wuhan_pdr.settings.test")
    django.setup()
    main()
