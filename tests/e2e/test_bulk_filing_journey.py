"""The Excel bulk filing journey of issue #5 in a real browser, with a real Celery worker:
agency staff downloads the template, fills it (written here with openpyxl, as a filer would
in Excel), uploads it, watches the check, sees the errors by sheet, row and column, fixes
them, uploads again and finds the resources among the agency's drafts."""

from __future__ import annotations

import io
import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from openpyxl import load_workbook
from playwright.sync_api import expect

from catalog.bulk.columns import ITEMS_SHEET, RESOURCES_SHEET
from catalog.models import ResourceVersion
from tests.catalog.bulk.workbooks.make import item_row, resource_row
from tests.catalog.conftest import ensure_catalog_base_data

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.services]

NAMES = ["城市道路桥梁基础信息", "公共停车场泊位信息"]


@pytest.fixture
def shared_media(settings):
    root = Path(os.environ.get("DJANGO_MEDIA_ROOT") or django_settings.BASE_DIR / "var" / "media")
    settings.MEDIA_ROOT = str(root)
    yield root
    shutil.rmtree(root / "bulk-filings", ignore_errors=True)


def _fill(template: bytes, *, broken: bool) -> bytes:
    wb = load_workbook(io.BytesIO(template))
    resources = [
        resource_row(
            "R1",
            NAMES[0],
            classification="207 城乡建设",
            share_conditions="" if broken else "用于城市管理",
            update_cycle="不定期",  # no update flag: not periodic (Art. 16)
        ),
        resource_row(
            "R2",
            NAMES[1],
            classification="205 交通出行",
            grade="L9" if broken else "L1 不敏感",
            share_type="无条件共享",
            share_conditions="",
            open_type="有条件开放",
            open_conditions="经申请后开放",
            open_legal_basis="",
        ),
    ]
    items = [
        item_row("R1", "桥梁编号", "bridge_code", is_key="是", length=20),
        item_row("R1", "桥梁名称", "bridge_name", length=100),
        item_row("R2", "停车场编号", "lot_code", is_key="是", length=20),
        item_row("R2", "空余泊位", "free_spaces", data_type="I 整型", length=None),
        item_row(
            "R2",
            "Bad Column" if broken else "更新时间",
            "Bad Column" if broken else "updated_at",
            data_type="T 日期时间型",
            length=None,
            is_update_flag="是",  # R2 is updated monthly (Art. 16)
        ),
    ]
    for sheet, rows in ((RESOURCES_SHEET, resources), (ITEMS_SHEET, items)):
        ws = wb[sheet]
        for r, row in enumerate(rows, start=2):
            for c, value in enumerate(row, start=1):
                ws.cell(row=r, column=c, value=value if value != "" else None)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _upload(page, path: Path) -> None:
    page.goto(page.base_url + "/catalog/bulk/upload/")
    page.set_input_files("#id_workbook", str(path))
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")


def test_download_fill_upload_fix_and_find_the_drafts(
    page, seeded, shot, tmp_path, celery_worker, celery_app_on_spare_redis, shared_media
):
    ensure_catalog_base_data()
    login(page, "demo_agency_staff", seeded)

    page.goto(page.base_url + "/catalog/mine/")
    page.locator("a[href='/catalog/bulk/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    shot(page, "01-bulk-list-empty")
    with page.expect_download() as download_info:
        page.locator("a[href='/catalog/bulk/template.xlsx']").first.click()
    template = Path(download_info.value.path()).read_bytes()
    assert {"资源", "信息项", "可选值", "填写说明"} <= set(
        load_workbook(io.BytesIO(template)).sheetnames
    )

    broken = tmp_path / "资源目录-第一版.xlsx"
    broken.write_bytes(_fill(template, broken=True))
    _upload(page, broken)
    shot(page, "02-checking")
    errors = page.locator("table.bulk-errors tbody tr")
    expect(errors.first).to_be_visible(timeout=60_000)
    shot(page, "03-errors")
    text = page.locator("table.bulk-errors").inner_text()
    assert "资源" in text and "信息项" in text
    assert "L9" in text
    rows = [r.inner_text() for r in errors.all()]
    assert any("\t2\tJ\t" in r for r in rows), rows  # share conditions of R1
    assert any("\t3\tH\t" in r for r in rows), rows  # grade of R2
    assert any("\t6\tC\t" in r for r in rows), rows  # column name of the fifth item
    with page.expect_download() as marked_info:
        page.locator("a[href$='/marked.xlsx']").click()
    marked = load_workbook(io.BytesIO(Path(marked_info.value.path()).read_bytes()))
    assert marked["资源"]["J2"].comment is not None
    assert not ResourceVersion.objects.filter(name__in=NAMES).exists()

    fixed = tmp_path / "资源目录-修改后.xlsx"
    fixed.write_bytes(_fill(template, broken=False))
    _upload(page, fixed)
    expect(page.locator(".bulk-ok")).to_be_visible(timeout=60_000)
    shot(page, "04-imported")
    expect(page.locator(".bulk-ok table")).to_contain_text(NAMES[0])

    page.locator(".bulk-ok a.btn-primary").click()
    page.wait_for_load_state("domcontentloaded")
    for name in NAMES:
        expect(page.locator("main")).to_contain_text(name)
    shot(page, "05-drafts-in-my-resources")
    versions = ResourceVersion.objects.filter(name__in=NAMES)
    assert versions.count() == 2
    assert {v.state for v in versions} == {ResourceVersion.State.DRAFT}
    assert {v.resource.provider.name for v in versions} == {"武汉市民政局"}

    page.goto(page.base_url + "/catalog/bulk/")
    shot(page, "06-bulk-list")
    expect(page.locator("table")).to_contain_text("资源目录-修改后.xlsx")
