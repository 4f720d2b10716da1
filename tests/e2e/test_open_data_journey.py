"""An anonymous visitor finds an open resource on /open/ by searching, opens it and downloads
its CSV and XLSX files (issue #14, item 5): the files hold the Chinese header row, every
row, and the contact phone masked. The demo lists at least three open resources with data
and built downloads (item 8)."""

from __future__ import annotations

import csv
import io
import os

import pytest
from django.core.management import call_command
from openpyxl import load_workbook
from playwright.sync_api import expect

from authorization.opendata.models import OpenDataset

pytestmark = [pytest.mark.e2e]


def test_anonymous_visitor_finds_and_downloads_open_data(page, seeded, shot, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", only=["opendata"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    dataset = OpenDataset.objects.get(resource__published_version__name="养老机构信息")
    assert dataset.state == OpenDataset.State.READY and dataset.rows > 0

    # The demo has at least three open resources with data and built downloads, all listed.
    ready = OpenDataset.objects.filter(state=OpenDataset.State.READY, rows__gt=0)
    assert ready.count() >= 3
    assert all(d.files.count() == 3 for d in ready)  # CSV, XLSX, JSON
    page.goto(page.base_url + "/open/")
    for name in ready.values_list("resource__published_version__name", flat=True):
        expect(page.locator(".result-list")).to_contain_text(name)
    shot(page, "01-open-data")
    page.fill("#id_q", "养老机构")
    page.locator("form.catalog-search button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".result-list")).to_contain_text("养老机构信息")
    expect(page.locator(".result-list")).not_to_contain_text("地名信息")
    shot(page, "02-search")
    page.get_by_role("link", name="养老机构信息").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main h1")).to_contain_text("养老机构信息")
    expect(page.locator("main")).to_contain_text("武汉市公共数据开放许可协议")
    shot(page, "03-resource")

    with page.expect_download() as info:
        page.locator("a.download-csv").click()
    assert info.value.suggested_filename.endswith(".csv")
    data = open(info.value.path(), "rb").read()  # noqa: SIM115
    assert data.startswith(b"\xef\xbb\xbf")  # a BOM, so that Excel reads the Chinese
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = lines[0]
    assert header[:3] == ["统一社会信用代码", "机构名称", "地址"] and "联系电话" in header
    assert len(lines) == 1 + dataset.rows
    phone = header.index("联系电话")
    assert all("****" in line[phone] for line in lines[1:])

    with page.expect_download() as info:
        page.locator("a.download-xlsx").click()
    assert info.value.suggested_filename.endswith(".xlsx")
    wb = load_workbook(io.BytesIO(open(info.value.path(), "rb").read()), read_only=True)  # noqa: SIM115
    sheet = list(wb.worksheets[0].iter_rows(values_only=True))
    assert list(sheet[0]) == header
    assert len(sheet) == 1 + dataset.rows

    page.reload()
    expect(page.locator("table.downloads")).to_contain_text("1")  # counted
    shot(page, "04-downloaded")
    assert sum(f.downloads for f in dataset.files.all()) == 2
