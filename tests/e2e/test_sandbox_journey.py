"""The data sandbox in a real browser (issue #14, item 6): a requester with an approved session
opens the query builder, counts by age and sees the released table with the small group
suppressed; the released table downloads as CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import DEFAULT_PASSWORD
from tests.authorization.sandbox.factories import make_world
from tests.catalog.conftest import ensure_catalog_base_data

from .conftest import login

pytestmark = [pytest.mark.e2e]


def test_a_requesters_sandbox_query_shows_a_suppressed_small_group(page, transactional_db, shot):
    ensure_catalog_base_data()
    world = make_world()
    login(page, world.requester.username, DEFAULT_PASSWORD)

    page.goto(page.base_url + "/sandbox/")
    expect(page.locator("main")).to_contain_text(f"#{world.session.pk}")
    shot(page, "01-my-sessions")
    page.get_by_role("link", name=f"#{world.session.pk}").click()
    page.get_by_role("link", name=re.compile("查询构建器|query builder")).click()
    expect(page.locator("form.builder")).to_be_visible()
    page.select_option("#id_measure", "count")
    page.select_option("#id_group1", "age")
    page.select_option("#id_epsilon", "1.0")
    shot(page, "02-builder")
    page.get_by_role("button", name=re.compile("运行查询|Run the query")).click()

    table = page.locator(".result-table tbody tr")
    expect(table).to_have_count(2)
    expect(page.locator(".result-table tbody")).not_to_contain_text("50")
    expect(page.locator(".suppressed-note")).to_contain_text(re.compile("1"))
    expect(page.locator(".suppressed-note")).to_contain_text("10")
    shot(page, "03-result-suppressed")

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("CSV")).click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) == 3
