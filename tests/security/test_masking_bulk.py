"""The bulk filing workbook names masking rules: its 脱敏规则 column is a dropdown of the rule
names, a cell may name a rule (or an old free text that maps to one), and an unknown name is
refused like any value not in a dropdown."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from catalog.bulk.columns import ITEMS_SHEET, VALUES_SHEET
from catalog.bulk.services import bulk_filing_process, bulk_filing_upload
from catalog.bulk.template import build_template
from catalog.models import DataItem
from security.masking.models import MaskingRule
from tests.catalog.bulk.conftest import upload
from tests.catalog.bulk.workbooks import make

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _base(db, settings, tmp_path):
    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def agency(db):
    from tests.catalog.factories import make_agency

    return make_agency()


def test_the_template_offers_the_rules_in_a_dropdown():
    wb = load_workbook(io.BytesIO(build_template()))
    values = wb[VALUES_SHEET]
    columns = {values.cell(row=1, column=c).value: c for c in range(1, values.max_column + 1)}
    c = columns["脱敏规则"]
    listed = {values.cell(row=r, column=c).value for r in range(2, values.max_row + 1)} - {None}
    assert listed == set(MaskingRule.objects.values_list("name", flat=True))
    ws = wb[ITEMS_SHEET]
    header = {ws.cell(row=1, column=i).value: i for i in range(1, ws.max_column + 1)}
    assert "脱敏规则" in header
    formulas = [dv.formula1 for dv in ws.data_validations.dataValidation]
    assert any("可选值" in (f or "") for f in formulas)


def test_a_rule_named_in_the_workbook_is_the_item_rule_and_an_unknown_one_is_refused(agency):
    resources, items = make.valid_rows(1, 3)
    items[1][9] = "保留姓氏"  # 脱敏规则 is the tenth column
    items[0][9] = "保留至小区"  # an old free text: mapped to its rule
    filing = bulk_filing_upload(
        acting_user=agency.staff, upload=upload(make.plain_workbook(resources, items))
    )
    bulk_filing_process(filing_id=filing.pk)
    filing.refresh_from_db()
    assert filing.error_count == 0, filing.errors
    got = dict(
        DataItem.objects.filter(version__name="批量资源1").values_list("name", "masking_rule__name")
    )
    assert got == {"信息项1": "保留至区县", "信息项2": "保留姓氏", "更新时间": None}

    items[1][9] = "没有这个规则"
    bad = bulk_filing_upload(
        acting_user=agency.staff, upload=upload(make.plain_workbook(resources, items))
    )
    bulk_filing_process(filing_id=bad.pk)
    bad.refresh_from_db()
    assert bad.error_count == 1
    assert "没有这个规则" in str(bad.errors)
