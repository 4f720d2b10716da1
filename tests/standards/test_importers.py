"""Code-list and data-element intake (catalog/standards/importers.py): the real GB/T 2260
files, dated replacement on re-import, files that must pass and files that must fail with
row-level reports, refusals of oversized files and ZIP bombs, nothing imported when any row
fails, and the Excel round trip of elements."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook

from catalog.models import CodeList, CodeValue, DataElement
from catalog.standards import importers
from catalog.standards.importers import (
    ImportRefused,
    RowError,
    Table,
    code_list_export,
    code_list_import,
    elements_export,
    elements_import,
    read_table,
)
from catalog.standards.validation import validate_value
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.demo import DISTRICTS
from wuhan_pdr.kernel.errors import AccessDenied

from .conftest import DATA, admin_division_file, make_code_list, make_element

pytestmark = pytest.mark.django_db

DAY = dt.date(2024, 1, 1)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def code_list(db) -> CodeList:
    return make_code_list(identifier="TEST-AREAS", name="测试行政区划")


def values_of(code_list: CodeList) -> dict[str, tuple]:
    return {
        (v.code, v.valid_from): (v.name, v.parent_code, v.valid_to)
        for v in CodeValue.objects.filter(code_list=code_list)
    }


def refused(**kwargs) -> list[tuple[int, str, str]]:
    """Import and expect a refusal: the (row, column, message) of every error."""
    with pytest.raises(ImportRefused) as caught:
        code_list_import(**kwargs)
    return [(e.row, e.column, e.message) for e in caught.value.errors]


def xlsx_bytes(rows: list[list]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# --- the real administrative divisions ------------------------------------------------------


def test_import_the_real_provinces_cities_and_areas(reviewer):
    lists = {
        name: make_code_list(identifier=f"GB2260-{name}", name=name)
        for name in ("provinces", "cities", "areas")
    }
    summaries = {
        "provinces": code_list_import(
            code_list=lists["provinces"],
            rows_source=admin_division_file("provinces.csv"),
            effective_date=dt.date(2022, 10, 31),
            acting_user=reviewer,
        ),
        "cities": code_list_import(
            code_list=lists["cities"],
            rows_source=admin_division_file("cities.csv"),
            effective_date=dt.date(2022, 10, 31),
            acting_user=reviewer,
            parent_column="provinceCode",
        ),
        "areas": code_list_import(
            code_list=lists["areas"],
            rows_source=admin_division_file("areas.csv"),
            effective_date=dt.date(2022, 10, 31),
            acting_user=reviewer,
            parent_column="cityCode",
        ),
    }
    assert {k: s.added for k, s in summaries.items()} == {
        "provinces": 31,
        "cities": 342,
        "areas": 2978,
    }
    assert CodeValue.objects.filter(code_list=lists["provinces"]).count() == 31
    assert CodeValue.objects.filter(code_list=lists["cities"]).count() == 342
    assert CodeValue.objects.filter(code_list=lists["areas"]).count() == 2978
    wuhan = dict(
        CodeValue.objects.filter(code_list=lists["areas"], parent_code="4201").values_list(
            "code", "name"
        )
    )
    assert wuhan == dict(DISTRICTS)
    hubei = CodeValue.objects.get(code_list=lists["provinces"], code="42")
    assert (hubei.name, hubei.valid_from, hubei.valid_to) == ("湖北省", dt.date(2022, 10, 31), None)
    assert CodeValue.objects.get(code_list=lists["cities"], code="4201").parent_code == "42"

    element = make_element(format="n6", code_list=lists["areas"])
    assert validate_value(element, "420102", at=dt.date(2023, 1, 1)) is None
    assert validate_value(element, "420100", at=dt.date(2023, 1, 1))  # a city, not an area


def test_a_reimport_closes_adds_and_keeps_values_with_the_right_dates(
    reviewer, code_list, tmp_path
):
    first = dt.date(2022, 10, 31)
    code_list_import(
        code_list=code_list,
        rows_source=admin_division_file("areas.csv"),
        effective_date=first,
        acting_user=reviewer,
        parent_column="cityCode",
    )
    lines = admin_division_file("areas.csv").read_text(encoding="utf-8").splitlines()
    changed = [line for line in lines if not line.startswith("420102,")]  # 江岸区 dropped
    changed = [line.replace('"江汉区"', '"江汉新区"') for line in changed]  # renamed
    changed.append('420199,"光谷新区",4201,42')  # new
    edited = tmp_path / "areas-2024.csv"
    edited.write_text("\n".join(changed) + "\n", encoding="utf-8")

    summary = code_list_import(
        code_list=code_list,
        rows_source=edited,
        effective_date=DAY,
        acting_user=reviewer,
        parent_column="cityCode",
        reason="2024年区划调整",
    )

    assert (summary.added, summary.closed, summary.changed, summary.unchanged) == (1, 1, 1, 2976)
    values = values_of(code_list)
    assert values[("420102", first)] == ("江岸区", "4201", dt.date(2023, 12, 31))
    assert values[("420103", first)] == ("江汉区", "4201", dt.date(2023, 12, 31))
    assert values[("420103", DAY)] == ("江汉新区", "4201", None)
    assert values[("420199", DAY)] == ("光谷新区", "4201", None)
    assert values[("420104", first)] == ("硚口区", "4201", None)
    assert len(values) == 2978 + 2
    history = list(code_list.history.order_by("history_date"))
    assert [h.history_user for h in history[-2:]] == [reviewer, reviewer]
    assert history[-1].history_change_reason == "2024年区划调整"


def test_reimporting_the_same_file_changes_nothing(reviewer, code_list):
    kwargs = dict(
        code_list=code_list,
        rows_source=DATA / "codes_utf8.csv",
        effective_date=DAY,
        acting_user=reviewer,
    )
    code_list_import(**kwargs)
    before, history = values_of(code_list), code_list.history.count()
    summary = code_list_import(**{**kwargs, "effective_date": DAY + dt.timedelta(days=30)})
    assert (summary.added, summary.closed, summary.changed, summary.unchanged) == (0, 0, 0, 4)
    assert values_of(code_list) == before
    assert code_list.history.count() == history


def test_a_correction_on_the_same_effective_date_edits_in_place(reviewer, code_list):
    header = ["code", "name"]
    code_list_import(
        code_list=code_list,
        rows_source=Table.from_records(header, [("1", "男"), ("2", "女"), ("3", "错码")]),
        effective_date=DAY,
        acting_user=reviewer,
    )
    summary = code_list_import(
        code_list=code_list,
        rows_source=Table.from_records(header, [("1", "男性"), ("2", "女")]),
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert (summary.changed, summary.closed, summary.unchanged) == (1, 1, 1)
    assert values_of(code_list) == {("1", DAY): ("男性", "", None), ("2", DAY): ("女", "", None)}


def test_a_value_dated_in_the_file_keeps_its_dates(reviewer, code_list):
    summary = code_list_import(
        code_list=code_list,
        rows_source=DATA / "codes_utf8.csv",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert summary.added == 4
    values = values_of(code_list)
    assert values[("420102", DAY)] == ("江岸区", "420100", None)
    assert values[("420103", dt.date(2020, 1, 1))] == ("江汉区, 含汉口老城", "420100", None)
    assert values[("420104", DAY)] == ('硚口区 "汉正街"', "420100", dt.date(2099, 12, 31))
    assert values[("420105", dt.date(2020, 1, 1))] == ("汉阳区", "420100", None)


def test_an_import_behind_values_already_dated_later_is_refused(reviewer, code_list):
    later = make_code_list(values=[("1", "男", dt.date(2025, 1, 1), None)])
    errors = refused(
        code_list=later,
        rows_source=Table.from_records(["code", "name"], [("1", "男")]),
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert errors == [
        (
            0,
            "",
            "The list already has values taking effect on 2025-01-01 (such as 1): import with "
            "an effective date on or after it.",
        )
    ]


def test_dates_in_the_file_must_fit_the_effective_date(reviewer, code_list):
    rows = [("1", "甲", "2024-06-01", ""), ("2", "乙", "", "2023-06-30"), ("3", "丙", "", "")]
    errors = refused(
        code_list=code_list,
        rows_source=Table.from_records(["code", "name", "valid_from", "valid_to"], rows),
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert [(row, column) for row, column, _ in errors] == [(2, "valid_from"), (3, "valid_to")]
    assert "after the import's effective date 2024-01-01" in errors[0][2]
    assert "before the import's effective date 2024-01-01" in errors[1][2]
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_a_new_value_may_not_overlap_an_earlier_one(reviewer):
    closed = make_code_list(values=[("1", "甲", dt.date(2020, 1, 1), dt.date(2023, 6, 30))])
    errors = refused(
        code_list=closed,
        rows_source=Table.from_records(["code", "name", "valid_from"], [("1", "甲", "2023-01-01")]),
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert errors == [
        (2, "valid_from", "Overlaps the earlier value of 1 that ended on 2023-06-30.")
    ]


def test_only_the_city_bureau_imports(agency_staff, code_list):
    with pytest.raises(AccessDenied):
        code_list_import(
            code_list=code_list,
            rows_source=DATA / "codes_utf8.csv",
            effective_date=DAY,
            acting_user=agency_staff,
        )
    assert not CodeValue.objects.filter(code_list=code_list).exists()


# --- files that must pass --------------------------------------------------------------------


def test_utf8_with_bom_and_chinese_headers_passes(reviewer, code_list):
    assert (DATA / "codes_utf8_bom.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    summary = code_list_import(
        code_list=code_list,
        rows_source=DATA / "codes_utf8_bom.csv",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert summary.added == 3
    assert {c for c, _ in values_of(code_list)} == {"1", "2", "9"}


def test_gb18030_passes(reviewer, code_list):
    data = (DATA / "codes_gb18030.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8
    summary = code_list_import(
        code_list=code_list,
        rows_source=data,
        filename="民族.csv",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert summary.added == 4
    values = values_of(code_list)
    assert values[("22", DAY)] == ("畲族", "", None)
    assert values[("104", DAY)] == ("硚口区", "", None)
    assert values[("29", dt.date(2020, 1, 1))] == ("柯尔克孜族", "", None)


def test_xlsx_with_number_codes_date_cells_and_blank_rows_passes(reviewer, code_list):
    summary = code_list_import(
        code_list=code_list,
        rows_source=DATA / "codes_ok.xlsx",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert summary.added == 4
    values = values_of(code_list)
    assert values[("420102", dt.date(2020, 1, 1))] == ("江岸区", "420100", None)
    assert values[("420103", DAY)] == ("江汉区", "420100", None)  # 420103 typed as a number
    assert values[("420104", dt.date(2020, 1, 1))] == ("硚口区", "420100", None)  # 20200101
    assert values[("420105", dt.date(2020, 1, 1))] == ("汉阳区", "420100", dt.date(2099, 12, 31))


def test_an_upload_passes_like_a_file(reviewer, code_list):
    upload = SimpleUploadedFile(
        "codes.xlsx", (DATA / "codes_ok.xlsx").read_bytes(), content_type="application/octet-stream"
    )
    summary = code_list_import(
        code_list=code_list, rows_source=upload, effective_date=DAY, acting_user=reviewer
    )
    assert summary.added == 4


def test_utf16_tab_separated_text_from_excel_passes():
    data = "代码\t名称\n1\t男性\n".encode("utf-16")
    table = read_table(data, filename="sex.txt")
    assert table.header == ["代码", "名称"]
    assert table.rows == [(2, ["1", "男性"])]


# --- files that must fail --------------------------------------------------------------------


def test_duplicate_codes_are_refused_row_by_row(reviewer, code_list):
    assert refused(
        code_list=code_list,
        rows_source=DATA / "codes_duplicate.csv",
        effective_date=DAY,
        acting_user=reviewer,
    ) == [
        (4, "code", "The code 420102 appears again (first in row 2)."),
        (5, "code", "The code 420103 appears again (first in row 3)."),
    ]
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_empty_names_and_codes_are_refused(reviewer, code_list):
    assert refused(
        code_list=code_list,
        rows_source=DATA / "codes_empty_names.csv",
        effective_date=DAY,
        acting_user=reviewer,
    ) == [
        (3, "name", "The name is empty."),
        (4, "code", "The code is empty."),
        (5, "name", "The name is empty."),
    ]
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_bad_dates_are_refused(reviewer, code_list):
    assert refused(
        code_list=code_list,
        rows_source=DATA / "codes_bad_dates.csv",
        effective_date=DAY,
        acting_user=reviewer,
    ) == [
        (2, "valid_from", "“2024-02-30” is not a date of the calendar."),
        (3, "valid_from", "“昨天” is not a date: write YYYY-MM-DD."),
        (4, "valid_to", "The end date 2024-01-01 is before the start date 2024-06-01."),
    ]
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_a_file_that_is_not_a_workbook_is_refused(reviewer, code_list):
    assert refused(
        code_list=code_list,
        rows_source=DATA / "codes_not_a_workbook.xlsx",
        effective_date=DAY,
        acting_user=reviewer,
    ) == [
        (
            0,
            "",
            "codes_not_a_workbook.xlsx is not an Excel workbook (.xlsx): it may be damaged or "
            "renamed.",
        )
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"PK\x03\x04 damaged", "is not an Excel workbook (.xlsx)"),
        (None, "is a ZIP archive but not an Excel workbook"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Excel 97-2003 (.xls)"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "is not a CSV text file"),
        (b"", "The file is empty."),
    ],
)
def test_other_files_that_are_no_tables_are_refused(content, message):
    if content is None:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr("word/document.xml", "<w:document/>")
        content = buf.getvalue()
    with pytest.raises(ImportRefused) as caught:
        read_table(content, filename="upload.xlsx" if content.startswith(b"PK") else "upload.csv")
    assert message in str(caught.value)


def test_formula_cells_are_refused(reviewer, code_list):
    errors = refused(
        code_list=code_list,
        rows_source=DATA / "codes_formula.xlsx",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert [(row, column) for row, column, _ in errors] == [(3, "name"), (4, "code")]
    assert errors[0][2] == (
        'This cell holds a formula (=CONCATENATE("江","汉区")): enter the value itself.'
    )
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_merged_cells_are_refused(reviewer, code_list):
    assert refused(
        code_list=code_list,
        rows_source=DATA / "codes_merged.xlsx",
        effective_date=DAY,
        acting_user=reviewer,
    ) == [(3, "name", "Cells B3:B4 are merged: unmerge them and fill in every cell.")]


def test_dates_stored_as_numbers_are_refused_real_date_cells_pass(reviewer, code_list):
    errors = refused(
        code_list=code_list,
        rows_source=DATA / "codes_number_dates.xlsx",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert errors == [
        (
            2,
            "valid_from",
            "A date stored as a number (45292): format the cell as a date, or write it as "
            "YYYY-MM-DD.",
        ),
        (
            3,
            "valid_from",
            "A date stored as a number (45292.5): format the cell as a date, or write it as "
            "YYYY-MM-DD.",
        ),
    ]  # row 4 (a date cell) is fine
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_a_code_excel_turned_into_a_date_is_refused(reviewer, code_list):
    data = xlsx_bytes([["code", "name"], [dt.datetime(2024, 1, 2), "一月二日"]])
    assert refused(
        code_list=code_list,
        rows_source=data,
        effective_date=DAY,
        acting_user=reviewer,
    ) == [
        (
            2,
            "code",
            "Excel turned this into a date (2024-01-02): format the column as text and enter it "
            "again.",
        )
    ]


def test_one_bad_row_among_many_imports_nothing(reviewer, code_list):
    rows = [(f"{i:06d}", f"代码{i}") for i in range(1, 501)]
    rows[321] = ("000322", "")
    errors = refused(
        code_list=code_list,
        rows_source=Table.from_records(["code", "name"], rows),
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert errors == [(323, "name", "The name is empty.")]
    assert not CodeValue.objects.filter(code_list=code_list).exists()
    assert not code_list.history.exclude(history_type="+").exists()


@pytest.mark.parametrize(
    ("cells", "column", "message"),
    [
        (("4201 02", "江岸区"), "code", "A code may not contain spaces or control characters."),
        (("X" * 51, "江岸区"), "code", "A code has at most 50 characters."),
        (("420102", "江岸\x00区"), "name", "The name contains a control character"),
        (("420102", "江" * 201), "name", "A name has at most 200 characters."),
        (("420102", "江岸区", "4201 00"), "parent_code", "A parent code has at most 50"),
    ],
)
def test_bad_cells_are_refused(reviewer, code_list, cells, column, message):
    header = ["code", "name", "parent_code"][: len(cells)]
    errors = refused(
        code_list=code_list,
        rows_source=Table.from_records(header, [cells]),
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert [(row, col) for row, col, _ in errors] == [(2, column)]
    assert errors[0][2].startswith(message)


def test_missing_columns_are_named(reviewer, code_list):
    errors = refused(
        code_list=code_list,
        rows_source=b"id,label\n1,x\n",
        filename="x.csv",
        effective_date=DAY,
        acting_user=reviewer,
    )
    assert [(row, column) for row, column, _ in errors] == [(1, ""), (1, "")]
    assert "found: id, label" in errors[0][2]
    mapped = refused(
        code_list=code_list,
        rows_source=admin_division_file("provinces.csv"),
        effective_date=DAY,
        acting_user=reviewer,
        parent_column="cityCode",
    )
    assert mapped == [(1, "cityCode", "The column “cityCode” is not in row 1 (found: code, name).")]


def test_a_file_over_20_mb_is_refused(reviewer, code_list, tmp_path):
    big = tmp_path / "big.csv"
    with big.open("wb") as out:
        out.write(b"code,name\n")
        out.truncate(importers.MAX_FILE_BYTES + 1)
    message = "The file is larger than 20 MB: split it into smaller files."
    assert refused(
        code_list=code_list, rows_source=big, effective_date=DAY, acting_user=reviewer
    ) == [(0, "", message)]
    # An open file without a known size: read no further than the limit.
    with big.open("rb") as stream, pytest.raises(ImportRefused, match="larger than 20 MB"):
        read_table(stream)
    upload = SimpleUploadedFile("big.csv", b"code,name\n")
    upload.size = importers.MAX_FILE_BYTES + 1
    with pytest.raises(ImportRefused, match="larger than 20 MB"):
        read_table(upload)


def test_a_zip_bomb_workbook_is_refused(reviewer, code_list, tmp_path):
    """A real workbook with one more part that inflates a thousandfold (50 MB of zeros in
    about 50 kB): refused from the ZIP directory, before openpyxl opens anything."""
    bomb = tmp_path / "bomb.xlsx"
    shutil.copy(DATA / "codes_ok.xlsx", bomb)
    with (
        zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("xl/media/padding.bin", "w") as part,
    ):
        for _ in range(50):
            part.write(b"\0" * (1024 * 1024))
    assert bomb.stat().st_size < 200_000
    errors = refused(
        code_list=code_list, rows_source=bomb, effective_date=DAY, acting_user=reviewer
    )
    assert len(errors) == 1 and "possible ZIP bomb" in errors[0][2]
    assert not CodeValue.objects.filter(code_list=code_list).exists()


def test_a_workbook_that_would_inflate_past_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(importers, "MAX_UNCOMPRESSED_BYTES", 2000)
    with pytest.raises(ImportRefused, match="possible ZIP bomb"):
        read_table(DATA / "codes_ok.xlsx")


def test_naughty_strings_are_stored_unchanged_or_refused_clearly(reviewer, code_list):
    strings = [s for s in naughty_strings() if s.strip()]
    rows = [(f"N{i:04d}", s) for i, s in enumerate(strings)]
    try:
        code_list_import(
            code_list=code_list,
            rows_source=Table.from_records(["code", "name"], rows),
            effective_date=DAY,
            acting_user=reviewer,
        )
    except ImportRefused as caught:
        refusals = {e.row for e in caught.errors}
        assert all(e.column == "name" for e in caught.errors)
        accepted = [r for n, r in enumerate(rows, start=2) if n not in refusals]
        assert len(accepted) > len(rows) * 0.8
        code_list_import(
            code_list=code_list,
            rows_source=Table.from_records(["code", "name"], accepted),
            effective_date=DAY,
            acting_user=reviewer,
        )
    else:
        accepted = rows
    stored = dict(CodeValue.objects.filter(code_list=code_list).values_list("code", "name"))
    assert stored == {code: name.strip() for code, name in accepted}


def test_row_errors_read_well():
    assert str(RowError(5, "code", "The code is empty.")) == "Row 5, code: The code is empty."
    assert str(RowError(5, "", "Broken.")) == "Row 5: Broken."
    assert str(ImportRefused([RowError(2, "a", "x"), RowError(3, "b", "y")])) == (
        "2 problems in 2 rows; nothing was imported."
    )


# --- code list export ------------------------------------------------------------------------


def workbook_rows(response) -> list[tuple]:
    data = b"".join(response.streaming_content)
    ws = load_workbook(io.BytesIO(data)).active
    return [tuple(c.value for c in row) for row in ws.iter_rows()]


def test_code_list_export_reads_back_unchanged(reviewer, code_list):
    code_list_import(
        code_list=code_list,
        rows_source=DATA / "codes_utf8.csv",
        effective_date=DAY,
        acting_user=reviewer,
    )
    response = code_list_export(code_list=code_list, at=DAY)
    rows = workbook_rows(response)
    assert rows[0] == ("代码", "名称", "上级代码", "生效日期", "失效日期")
    assert rows[1][:3] == ("420102", "江岸区", "420100")
    data = b"".join(code_list_export(code_list=code_list, at=DAY).streaming_content)
    summary = code_list_import(
        code_list=code_list, rows_source=data, effective_date=DAY, acting_user=reviewer
    )
    assert (summary.added, summary.closed, summary.changed, summary.unchanged) == (0, 0, 0, 4)


def test_code_list_export_at_a_date_or_with_history(reviewer):
    dated = make_code_list(
        values=[("1", "甲"), ("2", "乙", None, dt.date(2023, 12, 31)), ("3", "丙", DAY, None)]
    )
    assert [r[0] for r in workbook_rows(code_list_export(code_list=dated, at=DAY))[1:]] == [
        "1",
        "3",
    ]
    old = workbook_rows(code_list_export(code_list=dated, at=dt.date(2023, 1, 1)))
    assert [r[0] for r in old[1:]] == ["1", "2"]
    every = workbook_rows(code_list_export(code_list=dated, include_history=True))
    assert [r[0] for r in every[1:]] == ["1", "2", "3"]


# --- data elements ---------------------------------------------------------------------------


@pytest.fixture
def sex_list(db) -> CodeList:
    return make_code_list(identifier="TEST-SEX", values=[("1", "男性"), ("2", "女性")])


def test_elements_workbook_that_must_pass(reviewer, sex_list):
    summary = elements_import(source=DATA / "elements_ok.xlsx", acting_user=reviewer)
    assert len(summary.added) == 3
    by_name = {e.name: e for e in DataElement.objects.filter(name__startswith="测试")}
    ident = by_name["测试身份号码"]
    assert (ident.identifier, ident.version, ident.status, ident.checksum, ident.format) == (
        "TE00001",
        1,
        DataElement.Status.STANDARD,
        "cn_ric",
        "an18",
    )
    assert ident.submitted_by == reviewer.organization
    assert ident.approved_at == dt.date(2024, 1, 1)
    sex = by_name["测试性别代码"]
    assert (sex.domain_kind, sex.code_list) == ("code_list", sex_list)
    postal = by_name["测试邮政编码"]
    assert postal.identifier.startswith("DE") and len(postal.identifier) == 7
    assert (postal.domain_kind, postal.pattern) == ("pattern", "[1-9][0-9]{5}")
    assert validate_value(postal, "430000") is None
    assert validate_value(postal, "030000")
    assert ident.history.get().history_user == reviewer


def test_elements_workbook_that_must_fail_reports_every_row(reviewer, sex_list):
    with pytest.raises(ImportRefused) as caught:
        elements_import(source=DATA / "elements_bad.xlsx", acting_user=reviewer)
    found = {(e.row, e.column) for e in caught.value.errors}
    assert found == {
        (2, "数据格式"),
        (3, "代码表"),
        (4, "数据类型"),
        (5, "中文名称"),
        (6, "标识符"),
        (7, "模式"),
        (8, "批准日期"),
        (9, "校验规则"),
    }
    messages = {e.row: e.message for e in caught.value.errors}
    assert "Unknown format “varchar(50)”" in messages[2]
    assert messages[3] == "There is no code list NO-SUCH-LIST."
    assert messages[6] == "The identifier TE10001 appears again (first in row 2)."
    assert not DataElement.objects.filter(identifier__startswith="TE1").exists()


def test_elements_round_trip_through_excel(reviewer, sex_list):
    originals = [
        make_element(
            identifier="RT00001",
            name="=1+1",  # looks like a formula: must stay text
            english_name="@SUM(A1)",
            definition="-2+3 开头的定义",
            format="an18",
            checksum="cn_uscc",
            synonyms="信用代码,社会信用代码",
            unit="",
        ),
        make_element(identifier="RT00002", name="往返性别", format="n1", code_list=sex_list),
        make_element(
            identifier="RT00003",
            name="往返邮编",
            format="n6",
            pattern="[1-9][0-9]{5}",
            data_type="N",
            unit="个",
        ),
    ]
    response = elements_export(elements=DataElement.objects.filter(identifier__startswith="RT"))
    data = b"".join(response.streaming_content)
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    assert [c.value for c in ws[1]] == list(importers.ELEMENT_COLUMNS.values())
    name_cell = ws.cell(row=2, column=4)
    assert (name_cell.value, name_cell.data_type) == ("=1+1", "s")  # text, not a formula
    assert ws.cell(row=2, column=5).data_type == "s"

    # Read back as is: every element is the same as its current version.
    again = elements_import(source=data, acting_user=reviewer)
    assert (len(again.added), again.unchanged) == (0, 3)

    # Under new identifiers (another platform's copy): equal field by field.
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=1).value = ws.cell(row=row, column=1).value.replace("RT", "RX")
    buf = io.BytesIO()
    wb.save(buf)
    copied = elements_import(source=buf.getvalue(), acting_user=reviewer)
    assert len(copied.added) == 3
    fields = [*importers.ELEMENT_CONTENT_FIELDS, "approved_at", "status", "version"]
    for original in originals:
        copy = DataElement.objects.get(identifier=original.identifier.replace("RT", "RX"))
        assert {f: getattr(copy, f) for f in fields} == {f: getattr(original, f) for f in fields}


def test_an_element_changed_in_a_file_is_refused(reviewer):
    make_element(identifier="CH00001", name="原名称", definition="原定义。")
    data = xlsx_bytes(
        [
            ["标识符", "中文名称", "定义", "数据类型", "数据格式"],
            ["CH00001", "原名称", "改过的定义。", "C", "c..50"],
        ]
    )
    with pytest.raises(ImportRefused) as caught:
        elements_import(source=data, acting_user=reviewer)
    (error,) = caught.value.errors
    assert (error.row, error.column) == (2, "标识符")
    assert "differs from its version 1 (definition)" in error.message
    assert "change request" in error.message
    assert DataElement.objects.get(identifier="CH00001").definition == "原定义。"


def test_only_the_city_bureau_imports_elements(agency_staff):
    with pytest.raises(AccessDenied):
        elements_import(source=DATA / "elements_ok.xlsx", acting_user=agency_staff)
    assert not DataElement.objects.filter(name__startswith="测试").exists()


# --- the command line ------------------------------------------------------------------------


def test_import_code_list_command_creates_and_fills_a_list(reviewer):
    out = io.StringIO()
    call_command(
        "import_code_list",
        "GB/T 2260-CITIES",
        str(admin_division_file("cities.csv")),
        "--name=地级行政区划代码",
        "--effective-date=2022-10-31",
        f"--user={reviewer.username}",
        "--parent-column=provinceCode",
        stdout=out,
    )
    assert "342 added, 0 closed, 0 changed, 0 unchanged" in out.getvalue()
    code_list = CodeList.objects.get(identifier="GB/T 2260-CITIES")
    assert code_list.values.count() == 342
    assert code_list.owner == reviewer.organization


def test_import_code_list_command_lists_every_problem_and_imports_nothing(reviewer):
    err = io.StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(
            "import_code_list",
            "DUPLICATES",
            str(DATA / "codes_duplicate.csv"),
            "--name=重复代码",
            "--effective-date=2024-01-01",
            f"--user={reviewer.username}",
            stderr=err,
        )
    assert err.getvalue().splitlines() == [
        "Row 4, code: The code 420102 appears again (first in row 2).",
        "Row 5, code: The code 420103 appears again (first in row 3).",
    ]
    assert not CodeList.objects.filter(identifier="DUPLICATES").exists()


def test_import_code_list_command_refuses_others(agency_staff):
    with pytest.raises(CommandError, match="Only the city data bureau"):
        call_command(
            "import_code_list",
            "NEW-LIST",
            str(DATA / "codes_utf8.csv"),
            "--name=新代码表",
            "--effective-date=2024-01-01",
            f"--user={agency_staff.username}",
        )
    assert not CodeList.objects.filter(identifier="NEW-LIST").exists()
