"""The data preview of a resource whose key is masked (issue 11, item 5), in a real browser:
the key shows masked, no link of the page carries it, "Next" and "Previous" page through
sealed cursors, the "starts with" box is not offered, and after a full reload an old "Next"
link answers with the first page and the reason."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.accounts.factories import DEFAULT_PASSWORD
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_preview import id_number, id_rows, load
from tests.catalog.conftest import ensure_catalog_base_data

from .conftest import login

pytestmark = [pytest.mark.e2e]


def test_masked_key_preview_pages_without_giving_the_key_away(page, transactional_db, shot):
    ensure_catalog_base_data()
    items = items_people()
    items[0]["masking_rule"] = "保留首尾"
    s = make_channel(items=items, name="身份证通道")
    load(s, id_rows(120))
    keys = [id_number(i) for i in range(1, 121)]

    login(page, s.agency.staff.username, DEFAULT_PASSWORD)
    page.goto(page.base_url + f"/aggregation/resources/{s.resource.pk}/preview/")
    first_cell = page.locator(".preview-table tbody tr").first.locator("td").first
    expect(first_cell).to_have_text("4********1")
    expect(page.locator("#id_prefix")).to_have_count(0)
    expect(page.locator("form.filter-bar")).to_contain_text("code")
    shot(page, "01-masked-first-page")

    def no_key_anywhere():
        html = page.content()
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)")
        for k in keys:
            assert k not in html and k[1:-1] not in html
            assert not any(k[1:-1] in h for h in hrefs)

    no_key_anywhere()
    page.get_by_role("link", name=re.compile("下一页|Next")).click()
    expect(first_cell).to_have_text("4********1")  # 420102199003070051
    expect(page.locator(".preview-table tbody tr")).to_have_count(50)
    no_key_anywhere()
    stale_next = page.get_by_role("link", name=re.compile("下一页|Next")).get_attribute("href")
    page.get_by_role("link", name=re.compile("上一页|Previous")).click()
    expect(page.locator(".preview-table tbody tr")).to_have_count(50)
    shot(page, "02-back-to-first")

    load(s, id_rows(120, start=500))  # a full reload: the old links are stale
    page.goto(page.base_url + f"/aggregation/resources/{s.resource.pk}/preview/{stale_next}")
    expect(page.locator(".messages")).to_contain_text(
        re.compile("数据表已重新加载|The table was reloaded")
    )
    expect(page).to_have_url(re.compile(r"/preview/$"))
    expect(first_cell).to_have_text("4********0")  # 420102199003070500
    shot(page, "03-stale-link-refused")
