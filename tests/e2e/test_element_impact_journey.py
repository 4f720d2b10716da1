"""Issue 12 item 1 in a real browser: a change request to a data element whose column holds
stored rows. The reviewer opens it while the count runs ("counting…", the page polls), the
count finishes and the page shows by itself how many stored values would fail, as of when,
with masked examples, in the decision form too; at 360 px the table becomes cards. The
requesting agency, which may not preview the provider's data, sees the counts but no values."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import DEFAULT_PASSWORD
from tests.catalog.conftest import ensure_catalog_base_data
from tests.standards.test_stored_impact import World
from wuhan_pdr.kernel.jobs import job_run

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]


def test_reviewer_sees_the_stored_values_a_change_would_reject(page, transactional_db, shot):
    ensure_catalog_base_data()
    world = World(masked=True)
    world.fill(["ABCDEFGHIJKL"] * 2, start=100)
    request = world.request()
    url = page.base_url + f"/standards/requests/{request.pk}/"

    login(page, world.reviewer.username, DEFAULT_PASSWORD)
    page.goto(url)
    stored = page.locator("#stored-values")
    expect(stored).to_contain_text("正在统计存量数据…")
    expect(page.locator(".decision-impact")).to_contain_text("正在统计存量数据…")
    shot(page, "01-counting-1280")

    request.refresh_from_db()
    assert job_run(job_id=str(request.impact_job_id)) == "done"
    # No reload by the test: the page polls the count's state and reloads itself.
    as_of = re.compile(r"截至 \d{4}-\d\d-\d\d \d\d:\d\d，有 6 个已存储的值将不符合。")
    expect(stored.locator(".as-of")).to_have_text(as_of, timeout=30_000)
    expect(page.locator(".decision-impact")).to_contain_text(as_of)
    expect(stored.locator(".samples")).to_contain_text("A********L")
    expect(stored).not_to_contain_text("ABCDEFGHIJKL")
    expect(stored.get_by_role("button", name="重新统计")).to_be_visible()
    stored.scroll_into_view_if_needed()
    shot(page, "02-counted-1280")

    page.set_viewport_size({"width": 360, "height": 780})
    page.reload()
    expect(stored.locator(".as-of")).to_have_text(as_of)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"the page scrolls sideways at 360 px ({width} px)"
    full = shot(page, "03-counted-360")
    stored.screenshot(path=str(full.with_name("03b-stored-values-360.png")))

    logout(page)
    login(page, world.other.staff.username, DEFAULT_PASSWORD)
    page.goto(url)
    expect(stored.locator(".as-of")).to_have_text(as_of)
    expect(stored).to_contain_text("只有提供部门和数据局可以查看这些值。")
    expect(stored.locator(".samples")).to_have_count(0)
    expect(stored.get_by_role("button", name="重新统计")).to_have_count(0)
    full = shot(page, "04-requesting-agency-360")
    stored.screenshot(path=str(full.with_name("04b-stored-values-360.png")))
