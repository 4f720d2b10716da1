"""The bulk filing pages: the agency's staff only, 404 for everyone else."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from catalog.bulk.models import BulkFiling
from catalog.bulk.services import bulk_filing_process, bulk_filing_upload
from tests.accounts.factories import UserFactory
from tests.catalog.bulk.conftest import upload
from tests.catalog.bulk.workbooks import make
from tests.catalog.factories import make_city_bureau
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = pytest.mark.django_db


def _refused(agency) -> BulkFiling:
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.with_rule_errors()))
    bulk_filing_process(filing_id=filing.pk)
    filing.refresh_from_db()
    return filing


def test_template_has_the_sheets_dropdowns_and_instructions(agency, login):
    response = login(agency.staff).get(reverse("catalog:bulk:template"))
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    assert {"资源", "信息项", "可选值", "填写说明"} <= set(wb.sheetnames)
    # The filer lands on 资源; the instructions come first and the list sheet last.
    assert wb.sheetnames == ["填写说明", "资源", "信息项", "可选值"]
    assert wb.active.title == "资源"
    assert wb["资源"]["B1"].value == "资源名称*"
    formulas = [dv.formula1 for dv in wb["资源"].data_validations.dataValidation]
    assert any("可选值" in f for f in formulas)
    values = [c.value for c in wb["可选值"]["A"] if c.value]
    assert "101 人口" in values
    assert "批量" in (wb["填写说明"]["A1"].value or "")


def test_template_round_trip_filled_by_a_filer_imports(agency):
    from catalog.bulk.template import build_template

    data = make.fill_template(build_template(), *make.valid_rows())
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(data))
    assert bulk_filing_process(filing_id=filing.pk) == "imported"


def test_pages_are_not_found_for_people_who_do_not_file(agency, login):
    city = make_city_bureau()
    requester = UserFactory(roles=[Role.REQUESTER])
    for user in (city.reviewer, requester):
        c = login(user)
        for name in ("list", "template", "upload"):
            assert c.get(reverse(f"catalog:bulk:{name}")).status_code == 404


def test_list_shows_the_agency_filings_with_constant_queries(
    agency, other_agency, login, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    c = login(agency.admin)
    with CaptureQueriesContext(connection) as one:
        c.get(reverse("catalog:bulk:list"))
    for _ in range(2):
        bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    bulk_filing_upload(acting_user=other_agency.staff, upload=upload(make.valid(), "别人的.xlsx"))
    with django_assert_max_num_queries(len(one)):
        response = c.get(reverse("catalog:bulk:list"))
    assert response.status_code == 200
    assert response.content.decode().count("资源.xlsx") == 3
    assert "别人的" not in response.content.decode()
    assert c.get(reverse("catalog:bulk:list"), {"state": "imported"}).status_code == 200


def test_empty_list_says_what_to_do(agency, login):
    response = login(agency.staff).get(reverse("catalog:bulk:list"))
    assert reverse("catalog:bulk:upload") in response.content.decode()


def test_upload_queues_the_check_and_redirects_to_progress(agency, login):
    c = login(agency.staff)
    response = c.post(reverse("catalog:bulk:upload"), {"workbook": upload(make.valid())})
    filing = BulkFiling.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("catalog:bulk:detail", kwargs={"pk": filing.pk})
    assert filing.organization == agency.org and filing.state == BulkFiling.State.PENDING
    assert BackgroundJob.objects.get(pk=filing.job_id).kwargs == {"filing_id": filing.pk}
    page = c.get(response.url).content.decode()
    assert "data-status-url" in page and "bulk.js" in page
    status = c.get(reverse("catalog:bulk:status", kwargs={"pk": filing.pk})).json()
    assert status["state"] == "pending" and status["done"] is False


def test_upload_of_a_file_that_is_not_a_workbook_shows_the_error_on_the_form(agency, login):
    c = login(agency.staff)
    response = c.post(
        reverse("catalog:bulk:upload"), {"workbook": upload(make.not_a_workbook(), "x.csv")}
    )
    assert response.status_code == 200
    assert "x.csv" in response.content.decode()
    assert not BulkFiling.objects.exists()


def test_refused_filing_shows_errors_and_offers_the_marked_workbook(agency, login):
    filing = _refused(agency)
    c = login(agency.staff)
    page = c.get(reverse("catalog:bulk:detail", kwargs={"pk": filing.pk})).content.decode()
    assert filing.errors[0]["message"] in page
    marked = c.get(reverse("catalog:bulk:marked", kwargs={"pk": filing.pk}))
    assert marked.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(marked.streaming_content)))
    assert "错误清单" in wb.sheetnames


def test_other_agency_gets_404_for_every_page_of_a_filing(agency, other_agency, login):
    filing = _refused(agency)
    c = login(other_agency.staff)
    for name in ("detail", "status", "marked"):
        url = reverse(f"catalog:bulk:{name}", kwargs={"pk": filing.pk})
        assert c.get(url).status_code == 404
    city = make_city_bureau()
    assert (
        login(city.reviewer)
        .get(reverse("catalog:bulk:detail", kwargs={"pk": filing.pk}))
        .status_code
        == 404
    )


def test_imported_filing_lists_its_drafts(agency, login):
    filing = bulk_filing_upload(acting_user=agency.staff, upload=upload(make.valid()))
    bulk_filing_process(filing_id=filing.pk)
    page = login(agency.staff).get(reverse("catalog:bulk:detail", kwargs={"pk": filing.pk}))
    text = page.content.decode()
    assert "2024-01 人口增量" in text and "101/" in text
