"""Issue 13, item 2 in a real browser: an L3 resource's grade falls to L2, so its table waits
to move to the general zone. The provider's channel page says the security administrator
confirms it (no rebuild button); the security administrator finds the move in the work queue
on the home page, confirms it on the channel page (a confirmation step), and the page tells
who confirmed. Screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from aggregation.models import Batch, DatastoreTable
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.aggregation.factories import items_people, make_channel, security_admin
from tests.aggregation.test_views import csv_rows, load
from tests.catalog.conftest import ensure_catalog_base_data
from tests.catalog.factories import grade

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]


def test_the_security_admin_confirms_a_move_down_from_the_work_queue(page, transactional_db, shot):
    ensure_catalog_base_data()
    setup = make_channel(items=items_people(), grade="L3", name="受限通道")
    assert load(setup, csv_rows(5)).status == Batch.Status.SUCCEEDED
    version = setup.resource.published_version
    version.grade = grade("L2")
    version.save(update_fields=["grade"])
    admin = security_admin()

    login(page, setup.agency.staff.username, DEFAULT_PASSWORD)
    page.goto(page.base_url + f"/aggregation/channels/{setup.channel.pk}/")
    expect(page.locator(".pending-changes")).to_contain_text("安全管理员")
    expect(page.locator(".pending-changes button")).to_have_count(0)
    shot(page, "provider-waits")
    logout(page)

    login(page, admin.username, DEFAULT_PASSWORD)
    page.goto(page.base_url + "/")
    link = page.get_by_role("link", name=setup.resource.code, exact=False).first
    expect(link).to_be_visible()
    shot(page, "work-queue")
    link.click()
    page.wait_for_load_state("domcontentloaded")
    page.locator(".pending-changes summary").click()
    page.locator("#id_confirm").check()
    shot(page, "confirm-step")
    page.locator(".pending-changes form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".pending-changes")).to_contain_text("确认")
    shot(page, "confirmed")
    assert DatastoreTable.objects.get(resource=setup.resource).zone_move_to == "general"
