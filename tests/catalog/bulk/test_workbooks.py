"""Example workbooks that must pass and must fail, run through the same service the worker
runs (`bulk_filing_process`): each failing one is refused with a message naming the sheet,
row and column where it applies, and nothing is imported; none makes the process crash."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import load_workbook

from catalog.bulk.models import BulkFiling
from catalog.bulk.reader import BulkRefused
from catalog.bulk.services import bulk_filing_process, bulk_filing_upload
from catalog.models import DataItem, Resource, ResourceVersion
from tests.catalog.bulk.conftest import upload
from tests.catalog.bulk.workbooks import make
from tests.messages import message, message_parts

HERE = Path(make.__file__).resolve().parent
S = BulkFiling.State


def _run(agency, data: bytes, name: str = "资源.xlsx") -> BulkFiling:
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(data, name))
    assert bulk_filing_process(filing_id=filing.pk) in ("imported", "refused")
    filing.refresh_from_db()
    return filing


def _messages(filing) -> list[tuple]:
    return [(e["sheet"], e["row"], e["column"], e["message"]) for e in filing.errors]


@pytest.mark.parametrize(
    "example", sorted(p.name for p in HERE.glob("pass_*.xlsx")), ids=lambda n: n
)
def test_committed_passing_examples_import(agency, example):
    filing = _run(agency, (HERE / example).read_bytes(), example)
    assert filing.state == S.IMPORTED, filing.errors
    assert filing.resources_count >= 2
    assert Resource.objects.filter(provider=agency.org).count() == filing.resources_count


@pytest.mark.parametrize(
    "example", sorted(p.name for p in HERE.glob("fail_*.xlsx")), ids=lambda n: n
)
def test_committed_failing_examples_are_refused_without_import(agency, example):
    data = (HERE / example).read_bytes()
    try:
        filing = _run(agency, data, example)
    except BulkRefused as exc:  # refused at upload: not even stored
        assert str(exc)
        assert not BulkFiling.objects.exists()
    else:
        assert filing.state == S.REFUSED
        assert filing.error_count >= 1 and filing.errors
    assert not Resource.objects.filter(provider=agency.org).exists()


def test_committed_examples_are_what_the_generator_writes():
    # A changed generator must be run again (python -m tests.catalog.bulk.workbooks.make).
    for name in make.EXAMPLES:
        assert (HERE / name).exists(), name


def test_valid_workbook_imports_drafts_with_items_in_row_order(agency):
    filing = _run(agency, make.valid())
    assert filing.state == S.IMPORTED
    assert (filing.resources_count, filing.items_count) == (3, 9)
    v = ResourceVersion.objects.get(resource__provider=agency.org, name="2024-01 人口增量")
    assert v.state == ResourceVersion.State.DRAFT and v.number == 1
    assert v.update_mode == "incremental" and v.update_cycle == "daily"
    assert sorted(t.code for t in v.themes.all()) == ["201", "202"]
    items = list(v.items.order_by("position"))
    assert [i.name for i in items] == ["身份证号", "更新时间", "编码"]
    assert [i.position for i in items] == [1, 2, 3]
    assert items[0].is_key and items[1].is_update_flag and items[2].length == 12
    assert v.resource.code.startswith("101/")


def test_quote_prefixed_text_is_taken_as_it_is(agency):
    filing = _run(agency, make.with_quote_prefix())
    assert filing.state == S.IMPORTED, filing.errors
    v = ResourceVersion.objects.get(resource__provider=agency.org, name="=SUM(1,2) 统计")
    assert v.summary == "0012"


def test_blank_rows_and_spaces_are_ignored(agency):
    filing = _run(agency, make.with_trailing_blank_rows_and_spaces())
    assert filing.state == S.IMPORTED, filing.errors
    assert filing.resources_count == 2
    assert ResourceVersion.objects.filter(name="批量资源1").exists()


def test_formula_cell_is_refused_naming_its_cell(agency):
    filing = _run(agency, make.with_formula())
    assert filing.state == S.REFUSED
    [(sheet, row, column, message)] = _messages(filing)
    assert (sheet, row, column) == ("资源", 2, "B")
    assert "CONCATENATE" in message


def test_merged_cells_are_refused_naming_the_range(agency):
    filing = _run(agency, make.with_merged_cells())
    assert filing.state == S.REFUSED
    merged = [e for e in _messages(filing) if "A2:A4" in e[3]]
    assert merged and merged[0][:3] == ("信息项", 2, "A")


def test_date_stored_as_number_in_a_text_cell_is_refused(agency):
    filing = _run(agency, make.with_date_as_number())
    assert filing.state == S.REFUSED
    assert [(s, r, c) for s, r, c, _m in _messages(filing)] == [("资源", 3, "B")]
    assert "2024-01-01" in filing.errors[0]["message"]


def test_rule_errors_name_sheet_row_column_and_mark_the_cells(agency):
    filing = _run(agency, make.with_rule_errors())
    assert filing.state == S.REFUSED
    cells = {(s, r, c) for s, r, c, _m in _messages(filing)}
    assert ("资源", 2, "J") in cells  # share conditions
    assert ("资源", 3, "H") in cells  # grade L9
    assert ("信息项", 3, "C") in cells  # column name
    assert filing.marked_workbook
    wb = load_workbook(filing.marked_workbook.path)
    assert wb.sheetnames[0] == "错误清单"
    assert wb["错误清单"].max_row == filing.error_count + 1
    bad = wb["资源"]["J2"]
    assert bad.fill.fgColor.rgb.endswith("FFC7CE")
    assert bad.comment is not None and bad.comment.text
    assert wb["资源"]["B2"].fill.fgColor.rgb != bad.fill.fgColor.rgb


def test_marked_copy_of_the_template_keeps_what_the_filer_needs_to_correct_it(agency):
    from catalog.bulk.template import build_template

    template = load_workbook(io.BytesIO(build_template()))
    resources, items = make.valid_rows()
    resources[1][make.RES_HEADERS.index("安全级别*")] = "L9"
    filing = _run(agency, make.fill_template(build_template(), resources, items))
    assert filing.state == S.REFUSED
    wb = load_workbook(filing.marked_workbook.path)
    for sheet in ("资源", "信息项"):
        marked, blank = wb[sheet], template[sheet]
        # The same dropdowns as the template, pointing at the copied 可选值 sheet.
        assert [(dv.formula1, str(dv.sqref)) for dv in marked.data_validations.dataValidation] == [
            (dv.formula1, str(dv.sqref)) for dv in blank.data_validations.dataValidation
        ]
        assert marked.freeze_panes == "B2"
        assert marked["A1"].font.b and marked["A1"].fill.fgColor.rgb.endswith("FCE4D6")
        assert marked.column_dimensions["A"].number_format == "@"  # text stays text
    assert wb["可选值"].protection.sheet
    assert wb["资源"]["H3"].fill.fgColor.rgb.endswith("FFC7CE")
    # Corrected in the marked copy and uploaded again, it imports.
    wb["资源"]["H3"] = "L2 低敏感"
    out = io.BytesIO()
    wb.save(out)
    assert _run(agency, out.getvalue()).state == S.IMPORTED


def test_filing_history_reasons_are_messages_not_codes(agency):
    refused = _run(agency, make.with_rule_errors())
    reasons = list(
        refused.history.order_by("history_date").values_list("history_change_reason", flat=True)
    )
    assert reasons == [message("Workbook uploaded"), message("Refused: errors found")]
    imported = _run(agency, make.valid())
    assert imported.history.latest("history_date").history_change_reason == message(
        "Imported as drafts"
    )


def test_wrong_sheets_are_named(agency):
    filing = _run(agency, make.with_wrong_sheets())
    assert filing.state == S.REFUSED
    text = " ".join(e["message"] for e in filing.errors)
    assert "资源" in text and "信息项" in text and "Sheet1" in text


def test_wrong_header_is_named(agency):
    resources, items = make.valid_rows()
    header_broken = make.RES_HEADERS.copy()
    header_broken[1] = "名字"
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "资源"
    ws.append(header_broken)
    for r in resources:
        ws.append(r)
    ws2 = wb.create_sheet("信息项")
    ws2.append(make.ITEM_HEADERS)
    for r in items:
        ws2.append(r)
    out = io.BytesIO()
    wb.save(out)
    filing = _run(agency, out.getvalue())
    assert filing.state == S.REFUSED
    assert any(e["row"] == 1 and "资源名称" in e["message"] for e in filing.errors)


def test_item_pointing_to_no_resource_and_duplicate_keys(agency):
    resources, items = make.valid_rows()
    resources.append(make.resource_row("R1", "重复编号"))
    items.append(make.item_row("R9", "孤儿", "orphan"))
    filing = _run(agency, make.plain_workbook(resources, items))
    assert filing.state == S.REFUSED
    cells = {(s, r, c) for s, r, c, _m in _messages(filing)}
    assert ("资源", 4, "A") in cells
    assert ("信息项", 8, "A") in cells


def test_not_a_workbook_is_refused_at_upload(agency):
    with pytest.raises(BulkRefused) as refused:
        bulk_filing_upload(acting_user=agency.staff, upload=upload(make.not_a_workbook()))
    assert str(refused.value) == message(
        "%(name)s is not an Excel workbook (.xlsx): download the template and fill it in.",
        name="资源.xlsx",
    )
    with pytest.raises(BulkRefused) as refused:
        bulk_filing_upload(acting_user=agency.staff, upload=upload(make.xls_file(), "a.xls"))
    assert str(refused.value) == message(
        "%(name)s is an Excel 97-2003 (.xls) file: save it as an Excel workbook (.xlsx).",
        name="a.xls",
    )


ZIP_BOMB = (
    "The workbook would expand to %(mb)d MB (%(ratio)d times its size): refused as a "
    "possible ZIP bomb. Save it again from Excel, or split it."
)


def test_zip_bomb_is_refused_at_upload(agency, tmp_path):
    path = make.zip_bomb(tmp_path / "bomb.xlsx", inflated_mb=300)
    with pytest.raises(BulkRefused) as refused:
        bulk_filing_upload(acting_user=agency.staff, upload=upload(path.read_bytes()))
    assert int(message_parts(str(refused.value), ZIP_BOMB, mb=300)["ratio"]) > 100
    assert not BulkFiling.objects.exists()


def test_zip_bomb_that_reaches_the_worker_is_refused_not_crashing(agency, tmp_path, settings):
    """A file stored before a stricter limit came into force is refused by the worker."""
    data = make.plain_workbook(*make.valid_rows())
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(data))
    make.zip_bomb(Path(filing.workbook.path), inflated_mb=300)
    assert bulk_filing_process(filing_id=filing.pk) == "refused"
    filing.refresh_from_db()
    assert filing.state == S.REFUSED
    with translation.override(settings.LANGUAGE_CODE):  # the worker's language
        refused = message_parts(filing.errors[0]["message"], ZIP_BOMB, mb=300)
    assert int(refused["ratio"]) > 100


def test_fifty_megabyte_workbook_within_the_limit_is_imported(agency, tmp_path):
    path = make.large_file(tmp_path / "large.xlsx", mb=50)
    assert path.stat().st_size > 50 * 1024 * 1024
    filing = _run(agency, path.read_bytes(), "large.xlsx")
    assert filing.state == S.IMPORTED, filing.errors
    assert filing.size_bytes > 50 * 1024 * 1024


def test_fifty_megabyte_workbook_over_the_limit_is_refused(agency, tmp_path, settings):
    settings.CATALOG_BULK_MAX_BYTES = 40 * 1024 * 1024
    path = make.large_file(tmp_path / "large.xlsx", mb=50)
    with pytest.raises(BulkRefused) as refused:
        bulk_filing_upload(acting_user=agency.staff, upload=upload(path.read_bytes()))
    assert str(refused.value) == message(
        "The file is %(size)d MB, more than the %(max)d MB allowed: split it into smaller files.",
        size=path.stat().st_size // (1024 * 1024),
        max=40,
    )


def test_damaged_stored_file_fails_cleanly(agency):
    filing = bulk_filing_upload(
        acting_user=agency.staff, upload=upload(make.plain_workbook(*make.valid_rows()))
    )
    Path(filing.workbook.path).write_bytes(b"PK\x03\x04 truncated")
    assert bulk_filing_process(filing_id=filing.pk) == "refused"
    filing.refresh_from_db()
    assert filing.state == S.REFUSED and filing.errors[0]["message"]
    assert not DataItem.objects.exists()


def test_running_twice_imports_once(agency):
    filing = _run(agency, make.valid())
    assert bulk_filing_process(filing_id=filing.pk) == "skipped"
    assert Resource.objects.filter(provider=agency.org).count() == 3


def test_date_in_a_number_column_and_numbers_in_text_columns(agency):
    import datetime as dt

    resources, items = make.valid_rows()
    resources[0][make.RES_HEADERS.index("资源名称*")] = 2024  # a number in a text column
    items[0][make.ITEM_HEADERS.index("长度")] = dt.datetime(2024, 1, 1)
    filing = _run(agency, make.plain_workbook(resources, items, write_only=False))
    assert filing.state == S.REFUSED
    assert [(s, r, c) for s, r, c, _m in _messages(filing)] == [("信息项", 2, "E")]
