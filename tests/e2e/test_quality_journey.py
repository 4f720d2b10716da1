"""The data quality journey of issue #7 in a real browser, with a real Celery worker, on the
real township data: the area list (areas.csv) and the township list (streets.csv) are loaded
through the file channel, the township's area code is bound to the same data element as the
area list's key, so the platform derives a consistency rule. A fault is injected (three
townships get an area code that does not exist); the provider runs the checks, finds the
issue in its issue list and answers "fixed"; it loads the corrected file, the run that the
batch triggers verifies the fix by itself; the bureau sees the city-wide board and closes
the issue."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from playwright.sync_api import expect

from aggregation import services
from aggregation.models import Batch, QualityIssue, QualityRule, QualityRun
from catalog.models import DataElement
from tests.aggregation.factories import assess_channel
from tests.aggregation.quality.factories import execute
from tests.catalog.conftest import ensure_catalog_base_data
from tests.catalog.factories import Agency, make_published
from tests.data import data_file
from tests.services import wait_for
from wuhan_pdr.accounts.models import User

from .conftest import login

pytestmark = [pytest.mark.e2e, pytest.mark.services]

BROKEN = ("420102002", "420102003", "420102004")


def _published_with_channel(agency: Agency, reviewer: User, name: str, items: list[dict]):
    # Code lists of divisions change irregularly (and carry no update flag, Art. 16).
    version = make_published(agency, reviewer, items=items, name=name, update_cycle="irregular")
    resource = version.resource
    resource.refresh_from_db()
    channel = services.channel_create(
        resource=resource,
        kind="file",
        name=f"{name}文件上传",
        access_requirements="政务外网",
        acting_user=agency.staff,
    )
    assess_channel(channel)
    channel = services.channel_activate(channel=channel, acting_user=agency.staff)
    return resource, channel


def _load(channel, path: Path, user: User) -> Batch:
    with transaction.atomic():
        batch = services.batch_upload(
            channel=channel,
            uploaded=SimpleUploadedFile(path.name, path.read_bytes()),
            acting_user=user,
        )
    batch = services.batch_run(batch_id=batch.pk)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    return batch


def _runs_settled(resource):
    return not QualityRun.objects.filter(
        resource=resource, status__in=["pending", "running"]
    ).exists()


def test_a_township_fault_is_found_answered_verified_and_closed(
    page, seeded, shot, celery_worker, celery_app_on_spare_redis
):
    ensure_catalog_base_data()
    staff = User.objects.get(username="demo_agency_staff")
    agency = Agency(
        org=staff.organization,
        staff=staff,
        admin=User.objects.get(username="demo_agency_admin"),
    )
    reviewer = User.objects.get(username="demo_city_reviewer")
    area_code = DataElement.objects.create(
        identifier="DE-QJ-AREA",
        name="县级行政区划代码",
        definition="GB/T 2260 县级区划代码。",
        data_type="C",
        format="n6",
        approved_at=dt.date(2024, 1, 1),
    )
    areas, areas_channel = _published_with_channel(
        agency,
        reviewer,
        "县级行政区划",
        [
            {
                "name": "code",
                "english_name": "code",
                "data_type": "C",
                "length": 6,
                "is_key": True,
                "element": area_code,
            },
            {"name": "name", "english_name": "name", "data_type": "C", "length": 50},
            {"name": "cityCode", "english_name": "city_code", "data_type": "C", "length": 4},
            {
                "name": "provinceCode",
                "english_name": "province_code",
                "data_type": "C",
                "length": 2,
            },
        ],
    )
    streets, streets_channel = _published_with_channel(
        agency,
        reviewer,
        "乡镇街道",
        [
            {
                "name": "code",
                "english_name": "code",
                "data_type": "C",
                "length": 12,
                "is_key": True,
            },
            {
                "name": "name",
                "english_name": "name",
                "data_type": "C",
                "length": 100,
                "nullable": False,
            },
            {
                "name": "areaCode",
                "english_name": "area_code",
                "data_type": "C",
                "length": 6,
                "element": area_code,
            },
            {
                "name": "provinceCode",
                "english_name": "province_code",
                "data_type": "C",
                "length": 2,
            },
            {"name": "cityCode", "english_name": "city_code", "data_type": "C", "length": 4},
        ],
    )
    _load(areas_channel, data_file("admin-divisions", "areas.csv"), staff)
    first = _load(streets_channel, data_file("admin-divisions", "streets.csv"), staff)
    assert first.rows_inserted == 41352
    # The worker checks the data after each batch; the real data is clean.
    wait_for(
        lambda: _runs_settled(streets) and _runs_settled(areas),
        timeout=120,
        what="batch-triggered runs",
    )
    run = QualityRun.objects.filter(resource=streets).latest("created_at")
    assert run.status == "done" and run.rows == 41352, (run.error, celery_worker.log_tail())
    assert QualityRule.objects.filter(resource=streets, kind="reference").exists()
    assert not QualityIssue.objects.filter(resource=streets).exists()

    # The fault: three Jiang'an townships get an area code that exists nowhere.
    execute("UPDATE {t} SET area_code = '999999' WHERE code IN (%s, %s, %s)", streets, BROKEN)

    login(page, "demo_agency_staff", seeded)
    page.goto(f"{page.base_url}/quality/resources/{streets.pk}/")
    expect(page.locator("#rules-h")).to_be_visible()
    shot(page, "01-provider-quality-page-clean")
    page.locator("#run-now").click()
    page.wait_for_load_state("domcontentloaded")
    wait_for(lambda: _runs_settled(streets), timeout=120, what="manual run")
    page.reload()
    issue = QualityIssue.objects.get(resource=streets)
    assert (issue.state, issue.rows_failed) == ("open", 3)
    assert sorted(issue.sample_keys) == list(BROKEN)
    assert issue.rule.kind == "reference" and issue.rule.dimension == "consistency"
    expect(page.locator(f"a[href='/quality/issues/{issue.pk}/']")).to_be_visible()
    shot(page, "02-provider-quality-page-failing")

    page.goto(f"{page.base_url}/quality/issues/")
    expect(page.locator(f"a[href='/quality/issues/{issue.pk}/']")).to_be_visible()
    shot(page, "03-provider-issue-list")
    page.locator(f"a[href='/quality/issues/{issue.pk}/']").click()
    expect(page.locator("#rows-failing")).to_have_text("3")
    page.locator("input[name=answer][value=fixed]").check()
    page.fill("textarea[name=text]", "三个街道的区划代码录入错误,已在业务系统更正并重新上传。")
    shot(page, "04-provider-answers")
    page.locator("form[action$='/answer/'] button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    issue.refresh_from_db()
    assert issue.state == "answered" and issue.answer == "fixed"

    # The provider loads the corrected file; the run the batch triggers verifies the fix.
    _load(streets_channel, data_file("admin-divisions", "streets.csv"), staff)
    wait_for(lambda: _runs_settled(streets), timeout=120, what="batch-triggered run")
    issue.refresh_from_db()
    assert (issue.state, issue.rows_failed) == ("verified", 0), celery_worker.log_tail()
    page.reload()
    shot(page, "05-provider-sees-verified")

    page.context.clear_cookies()
    login(page, "demo_city_reviewer", seeded)
    page.goto(f"{page.base_url}/quality/")
    expect(page.locator("table.q-board")).to_contain_text(agency.org.name)
    shot(page, "06-bureau-board")
    page.goto(f"{page.base_url}/quality/issues/?state=verified")
    page.locator(f"a[href='/quality/issues/{issue.pk}/']").click()
    page.locator("details.confirm summary").click()
    page.fill("#comment-close", "复核通过。")
    page.locator("#confirm-close").click()
    page.wait_for_load_state("domcontentloaded")
    issue.refresh_from_db()
    assert issue.state == "closed" and issue.closed_at is not None
    shot(page, "07-bureau-closed")
