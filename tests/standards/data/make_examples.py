"""Write the example files of the import tests: files that must pass and files that must fail.

    .venv/bin/python tests/standards/data/make_examples.py

The files are committed; run this again only to change them. Large files (over 20 MB) and
ZIP bombs are not committed: the tests make them in a temporary folder.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent


def csv_file(name: str, text: str, encoding: str = "utf-8", newline: str = "\n") -> None:
    (HERE / name).write_bytes(text.replace("\n", newline).encode(encoding))


def workbook(name: str, rows: list[list], fill=None) -> None:
    wb = Workbook()
    ws = wb.active
    ws.title = "代码表"
    for row in rows:
        ws.append(row)
    if fill:
        fill(ws)
    wb.save(HERE / name)


def main() -> None:
    # --- must pass ---------------------------------------------------------------------
    csv_file(
        "codes_utf8.csv",
        "code,name,parent_code,valid_from,valid_to\n"
        "420102,江岸区,420100,,\n"
        '420103,"江汉区, 含汉口老城",420100,2020-01-01,\n'
        '420104,"硚口区 ""汉正街""",420100,,2099-12-31\n'
        "\n"
        "420105,汉阳区,420100,2020/1/1,\n",
        newline="\r\n",
    )
    csv_file(
        "codes_utf8_bom.csv",
        "代码,名称,上级代码\n1,男性,\n2,女性,\n9,未说明的性别,\n",
        encoding="utf-8-sig",
    )
    csv_file(
        "codes_gb18030.csv",
        "代码,名称,上级代码,生效日期\n01,汉族,,\n22,畲族,,\n29,柯尔克孜族,,2020年1月1日\n"
        "104,硚口区,,\n",
        encoding="gb18030",
    )
    workbook(
        "codes_ok.xlsx",
        [
            ["代码", "名称", "上级代码", "生效日期", "失效日期"],
            ["420102", "江岸区", "420100", dt.date(2020, 1, 1), None],
            [420103, "江汉区", 420100, None, None],  # codes typed as numbers
            ["420104", "硚口区", "420100", 20200101, None],  # a date typed as YYYYMMDD
            [None, None, None, None, None],
            ["420105", "汉阳区", "420100", "2020-01-01", dt.datetime(2099, 12, 31)],
        ],
    )
    # --- must fail ---------------------------------------------------------------------
    csv_file(
        "codes_duplicate.csv",
        "code,name\n420102,江岸区\n420103,江汉区\n420102,江岸区(重复)\n420103,江汉区\n",
    )
    csv_file(
        "codes_empty_names.csv",
        "code,name\n420102,江岸区\n420103,\n,无代码的名称\n420105,   \n",
    )
    csv_file(
        "codes_bad_dates.csv",
        "code,name,valid_from,valid_to\n"
        "420102,江岸区,2024-02-30,\n"
        "420103,江汉区,昨天,\n"
        "420104,硚口区,2024-06-01,2024-01-01\n"
        "420105,汉阳区,2024-01-01,2024-12-31\n",
    )
    (HERE / "codes_not_a_workbook.xlsx").write_text("code,name\n420102,江岸区\n", encoding="utf-8")
    workbook(
        "codes_formula.xlsx",
        [
            ["code", "name"],
            ["420102", "江岸区"],
            ["420103", '=CONCATENATE("江","汉区")'],
            ["=A2+1", "硚口区"],
        ],
    )

    def merge(ws):
        ws.merge_cells("B3:B4")

    workbook(
        "codes_merged.xlsx",
        [["code", "name"], ["420102", "江岸区"], ["420103", "江汉区"], ["420104", None]],
        fill=merge,
    )
    workbook(
        "codes_number_dates.xlsx",
        [
            ["code", "name", "valid_from"],
            ["420102", "江岸区", 45292],  # an Excel serial number without a date format
            ["420103", "江汉区", 45292.5],
            ["420104", "硚口区", dt.date(2024, 1, 1)],  # a real date cell: fine
        ],
    )
    elements_header = [
        "标识符",
        "中文名称",
        "英文名称",
        "定义",
        "数据类型",
        "数据格式",
        "代码表",
        "模式",
        "校验规则",
        "计量单位",
        "批准日期",
    ]
    workbook(
        "elements_ok.xlsx",
        [
            elements_header,
            ["TE00001", "测试身份号码", "test id number", "测试用的公民身份号码。", "C", "an18", None, None, "cn_ric", None, dt.date(2024, 1, 1)],
            ["TE00002", "测试性别代码", "test sex code", "测试用的性别代码。", "C", "n1", "TEST-SEX", None, None, None, dt.date(2024, 1, 1)],
            [None, "测试邮政编码", "test postal code", "没有标识符:导入时编号。", "C", "n6", None, "[1-9][0-9]{5}", None, None, None],
        ],
    )  # fmt: skip
    workbook(
        "elements_bad.xlsx",
        [
            elements_header,
            ["TE10001", "格式不明", "", "未知格式。", "C", "varchar(50)", None, None, None, None, None],
            ["TE10002", "代码表不存在", "", "代码表不存在。", "C", "n2", "NO-SUCH-LIST", None, None, None, None],
            ["TE10003", "类型不明", "", "数据类型不明。", "X", "c..10", None, None, None, None, None],
            ["TE10004", None, "", "缺少名称。", "C", "c..10", None, None, None, None, None],
            ["TE10001", "标识符重复", "", "标识符重复。", "C", "c..10", None, None, None, None, None],
            ["TE10006", "模式错误", "", "模式错误。", "C", "c..10", None, "[0-9", None, None, None],
            ["TE10007", "日期错误", "", "日期错误。", "C", "c..10", None, None, None, None, "2024-13-01"],
            ["TE10008", "校验规则不明", "", "校验规则不明。", "C", "an18", None, None, "luhn", None, None],
        ],
    )  # fmt: skip


if __name__ == "__main__":
    main()
