"""Open data (issue #14, items 1 and 5): the one public rule, files built after each load
(masked, public columns only, XLSX split across sheets), anonymous pages, downloads and API
that show nothing else."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import connection
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from authorization.opendata import build, services
from authorization.opendata.models import OpenDataset, OpenFile
from catalog.models import CatalogEntry
from catalog.public import public_fields, public_resources_q
from security.audit.models import AuditEvent
from tests.naughty import naughty_strings
from wuhan_pdr.kernel.models import BackgroundJob

from .factories import city_licence, load, make_open, open_items, rows


def built(setup):
    return services.downloads_build(resource_id=setup.resource.pk)


def body(response) -> bytes:
    return b"".join(response.streaming_content)


def csv_lines(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def licence(db):
    return city_licence()


# --- the one rule -----------------------------------------------------------------------------


def test_public_fields_leave_out_items_of_a_stricter_grade(licence):
    setup = make_open(n=0, items=open_items(secret_grade=True))
    version = setup.resource.published_version
    names = [i.name for i in public_fields(version)]
    assert names == ["编号", "姓名", "电话", "年龄"]
    # The catalog's anonymous page lists the same items, the provider's staff all of them.
    html = Client().get(f"/catalog/resources/{setup.resource.pk}/").content.decode()
    assert "年龄" in html and "备注" not in html
    staff = Client()
    staff.force_login(setup.agency.staff)
    assert "备注" in staff.get(f"/catalog/resources/{setup.resource.pk}/").content.decode()


def test_public_resources_are_the_open_catalog(licence):
    open_ = make_open(n=0, name="开放资源")
    conditional = make_open(n=0, open_type="conditional", name="有条件开放资源")
    closed = make_open(n=0, open_type="none", name="不予开放资源")
    public = set(CatalogEntry.objects.filter(public_resources_q()).values_list("pk", flat=True))
    assert open_.resource.pk in public and conditional.resource.pk in public
    assert closed.resource.pk not in public


# --- files after each load --------------------------------------------------------------------


def test_a_load_queues_the_build_and_the_files_are_masked(licence):
    setup = make_open(n=0, items=open_items(secret_grade=True))
    with TestCase.captureOnCommitCallbacks(execute=False):
        load(setup, rows(7))
    job = BackgroundJob.objects.get(task_name="opendata.downloads_build")
    assert job.kwargs["resource_id"] == setup.resource.pk
    dataset = built(setup)
    assert dataset.state == OpenDataset.State.READY and dataset.rows == 7
    files = {f.format: f for f in dataset.files.all()}
    assert set(files) == {"csv", "xlsx", "json"}

    lines = csv_lines(files["csv"].file.read())
    assert lines[0] == ["编号", "姓名", "电话", "年龄"]  # the L0 remark is not public
    assert len(lines) == 1 + 7
    assert lines[1][0] == "K00001"
    assert lines[1][2] == "138****0001"  # kept the first 3 and last 4
    assert b"13800000001" not in files["csv"].file.open("rb").read()
    assert not any("备注" in cell for line in lines for cell in line)

    data = json.loads(files["json"].file.open("rb").read())
    assert [f["title"] for f in data["fields"]] == ["编号", "姓名", "电话", "年龄"]
    assert len(data["rows"]) == 7 and data["rows"][0]["phone"] == "138****0001"
    assert data["rows"][0]["age"] == 21 and "remark" not in data["rows"][0]

    wb = load_workbook(files["xlsx"].file.open("rb"), read_only=True)
    sheet_rows = list(wb.worksheets[0].iter_rows(values_only=True))
    assert sheet_rows[0] == ("编号", "姓名", "电话", "年龄")
    assert len(sheet_rows) == 8 and sheet_rows[1][2] == "138****0001"
    assert AuditEvent.objects.filter(action="opendata.build").exists()


def test_xlsx_splits_across_sheets(licence, monkeypatch):
    monkeypatch.setattr(build, "SHEET_ROWS", 4)  # a header and three rows a sheet
    setup = make_open(n=8)
    dataset = built(setup)
    xlsx = dataset.files.get(format="xlsx")
    assert xlsx.sheets == 3 and xlsx.rows == 8
    wb = load_workbook(xlsx.file.open("rb"), read_only=True)
    counts = [len(list(ws.iter_rows(values_only=True))) for ws in wb.worksheets]
    assert counts == [4, 4, 3]  # each sheet repeats the header
    assert all(next(ws.iter_rows(values_only=True))[0] == "编号" for ws in wb.worksheets)


def test_formulas_stay_text_in_xlsx(licence):
    setup = make_open(n=0)
    load(setup, '编号,姓名,电话,年龄,备注\nK1,=HYPERLINK("http://x"),1,2,@SUM(1)\n')
    xlsx = built(setup).files.get(format="xlsx")
    wb = load_workbook(xlsx.file.open("rb"))
    ws = wb.worksheets[0]
    assert ws["B2"].value == '=HYPERLINK("http://x")' and ws["B2"].data_type == "s"


def test_formulas_stay_text_in_csv_and_exact_in_json(licence):
    setup = make_open(n=0)
    load(
        setup, '编号,姓名,电话,年龄,备注\nK1,=HYPERLINK("http://x"),1,-2,@SUM(1)\nK2,-1+1,2,3,ok\n'
    )
    dataset = built(setup)
    lines = csv_lines(dataset.files.get(format="csv").file.open("rb").read())
    by_key = {line[0]: line for line in lines[1:]}
    # Text that a spreadsheet would run starts with a quote; a negative number stays a number.
    assert by_key["K1"][1] == '\'=HYPERLINK("http://x")'
    assert by_key["K2"][1] == "'-1+1"
    assert "-2" in by_key["K1"] and "'-2" not in by_key["K1"]
    assert not any(cell.startswith(("=", "+", "@")) for line in lines for cell in line)
    data = json.loads(dataset.files.get(format="json").file.open("rb").read())
    names = {row[next(iter(row))]: row for row in data["rows"]}
    assert '=HYPERLINK("http://x")' in names["K1"].values()


def test_a_resource_no_longer_open_loses_its_files(licence):
    setup = make_open(n=3)
    dataset = built(setup)
    name = dataset.files.get(format="csv").file.name
    CatalogEntry.objects.filter(resource=setup.resource).update(open_type="none")
    with TestCase.captureOnCommitCallbacks(execute=True):
        dataset = built(setup)
    assert dataset.state == OpenDataset.State.WITHDRAWN
    assert not OpenFile.objects.filter(dataset=dataset).exists()
    from django.core.files.storage import default_storage

    assert not default_storage.exists(name)


# --- what the anonymous visitor sees ----------------------------------------------------------


def test_anonymous_sees_and_downloads_open_data(licence):
    setup = make_open(n=4)
    built(setup)
    c = Client()
    page = c.get("/open/")
    assert page.status_code == 200 and "养老机构信息" in page.content.decode()
    detail = c.get(f"/open/{setup.resource.pk}/")
    assert detail.status_code == 200
    assert "武汉市公共数据开放许可协议" in detail.content.decode()
    response = c.get(f"/open/{setup.resource.pk}/download/csv/")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    assert len(csv_lines(body(response))) == 5
    f = OpenFile.objects.get(dataset__resource=setup.resource, format="csv")
    assert f.downloads == 1
    event = AuditEvent.objects.filter(action="opendata.download").latest("pk")
    assert event.details["rows"] == 4


@pytest.mark.parametrize("open_type", ["conditional", "none"])
def test_anonymous_sees_nothing_of_a_resource_that_is_not_open_data(licence, open_type):
    setup = make_open(n=3, open_type=open_type, name="不公开的资源")
    # Even files built by mistake (or before the resource was closed) are not served.
    dataset = services.dataset_ensure(resource=setup.resource)
    OpenFile.objects.create(
        dataset=dataset, format="csv", file="opendata/x.csv", built_at="2025-01-01T00:00Z"
    )
    c = Client()
    pk = setup.resource.pk
    assert "不公开的资源" not in c.get("/open/").content.decode()
    assert "不公开的资源" not in c.get("/open/?q=不公开").content.decode()
    for url in (
        f"/open/{pk}/",
        f"/open/{pk}/download/csv/",
        f"/api/v1/open/resources/{pk}/",
        f"/api/v1/open/resources/{pk}/download/csv/",
    ):
        assert c.get(url).status_code == 404, url
    listed = c.get("/api/v1/open/resources/").json()
    assert pk not in [r["id"] for r in listed["results"]]


def test_an_open_resource_without_data_is_not_listed(licence):
    setup = make_open(n=0)
    c = Client()
    assert c.get(f"/open/{setup.resource.pk}/").status_code == 404
    assert "养老机构信息" not in c.get("/open/").content.decode()


def test_unknown_format_is_404(licence):
    setup = make_open(n=2)
    built(setup)
    for fmt in ("xml", "..", "csv%00", "CSV"):
        assert Client().get(f"/open/{setup.resource.pk}/download/{fmt}/").status_code == 404


def test_naughty_search_never_500(licence):
    setup = make_open(n=2)
    built(setup)
    c = Client()
    for s in [*naughty_strings(), "\x00", "养老\x00", "a" * 5000]:
        for url in ("/open/", "/api/v1/open/resources/"):
            response = c.get(url, {"q": s, "provider": s, "resource_format": s, "licence": s})
            assert response.status_code in (200, 429), (url, s)


def test_open_list_query_count_is_constant(licence, django_assert_max_num_queries):
    for i in range(2):
        built(make_open(n=2, name=f"开放资源甲{i}"))
    c = Client()
    c.get("/open/")
    with CaptureQueriesContext(connection) as few:
        assert c.get("/open/").status_code == 200
    for i in range(4):
        built(make_open(n=2, name=f"开放资源乙{i}"))
    with CaptureQueriesContext(connection) as many:
        page = c.get("/open/")
    assert page.content.decode().count('class="result card"') == 6
    assert len(many) == len(few)


def test_facets_and_filters(licence):
    a = make_open(n=2, name="开放资源甲")
    b = make_open(n=2, name="开放资源乙")
    built(a), built(b)
    c = Client()
    html = c.get("/open/", {"provider": a.resource.provider_id}).content.decode()
    assert "开放资源甲" in html and "开放资源乙" not in html
    assert c.get("/open/").content.decode().count('class="result card"') == 2


def test_api_lists_details_and_downloads(licence):
    setup = make_open(n=3)
    built(setup)
    c = Client()
    listed = c.get("/api/v1/open/resources/", {"q": "养老"}).json()
    assert [r["id"] for r in listed["results"]] == [setup.resource.pk]
    detail = c.get(f"/api/v1/open/resources/{setup.resource.pk}/").json()
    assert detail["licence"]["name"] == "武汉市公共数据开放许可协议"
    assert [i["name"] for i in detail["items"]] == ["编号", "姓名", "电话", "年龄", "备注"]
    assert {f["format"] for f in detail["files"]} == {"csv", "xlsx", "json"}
    response = c.get(f"/api/v1/open/resources/{setup.resource.pk}/download/json/")
    assert response.status_code == 200
    assert len(json.loads(body(response))["rows"]) == 3


def test_behind_nginx_the_download_is_handed_over_and_still_counted(licence, settings):
    settings.OPENDATA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    setup = make_open(n=3)
    dataset = built(setup)
    csv_file = dataset.files.get(format="csv")
    before = csv_file.downloads
    response = Client().get(f"/api/v1/open/resources/{setup.resource.pk}/download/csv/")
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"] == "/protected-media/" + csv_file.file.name
    assert "attachment" in response["Content-Disposition"]
    csv_file.refresh_from_db()
    assert csv_file.downloads == before + 1


def test_api_has_its_own_rate_limit(licence, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "open_data": "3/min",
        },
    }
    c = Client()
    codes = [c.get("/api/v1/open/resources/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    cache.clear()
