"""Issue 12, items 8 and 10, in a real browser at 1280 px and 360 px.

Item 8: the data-item table of the filing form fits a desktop screen (every column header and
the first row's remove box inside the viewport, no overflow of its container), and on a phone
each item is a card with labelled fields, without sideways scrolling; rows added without a
reload take the same layout.
Item 10: the catalog search folds its filters on a phone so the first result is on the first
screen, and shows them on a desktop."""

from __future__ import annotations

import os

import pytest
from django.core.management import call_command
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import User

from .conftest import login

pytestmark = [pytest.mark.e2e]


def _portal(msgid: str) -> str:
    with translation.override("zh-hans"):  # the portal's language (no language cookie)
        return gettext(msgid)


def _edit_page(page, seeded):
    ensure_catalog_base_data()
    staff = User.objects.get(username="demo_agency_staff")
    admin = User.objects.get(username="demo_agency_admin")
    agency = cf.Agency(org=staff.organization, staff=staff, admin=admin)
    draft = cf.make_draft(agency, name="婚姻登记信息(演示)")
    login(page, "demo_agency_staff", seeded)
    page.goto(page.base_url + f"/catalog/versions/{draft.pk}/edit/")
    expect(page.locator("#items-table")).to_be_visible()
    return draft


def _box(locator) -> dict:
    box = locator.bounding_box()
    assert box is not None, "not rendered"
    return box


def test_items_table_fits_at_1280(page, seeded, shot):
    page.set_viewport_size({"width": 1280, "height": 900})
    _edit_page(page, seeded)
    page.locator("#items-table").scroll_into_view_if_needed()
    width = page.evaluate("window.innerWidth")

    headers = page.locator("#items-table thead th")
    assert headers.count() == 12
    for i in range(headers.count()):
        box = _box(headers.nth(i))
        name = headers.nth(i).inner_text()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, f"header {name!r} cut off"
    remove = page.locator("#items-body tr").first.locator("td.cell-delete input[type=checkbox]")
    box = _box(remove)
    assert box["x"] >= 0 and box["x"] + box["width"] <= width
    overflow = page.evaluate(
        "(() => { const w = document.querySelector('#items-table').parentElement;"
        " return w.scrollWidth - w.clientWidth; })()"
    )
    assert overflow <= 0, f"the item table overflows its container by {overflow}px"
    # The description wraps in a text area instead of clipping.
    expect(
        page.locator("#items-body tr").first.locator("td.cell-description textarea")
    ).to_be_visible()

    page.locator("#add-item").click()
    assert page.locator("#items-body tr.item-row").count() == 4
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    folder = shot(page, "items-1280").parent
    page.locator(".items-card").screenshot(path=str(folder / "items-1280-table.png"))


def test_items_are_cards_at_360(page, seeded, shot):
    page.set_viewport_size({"width": 360, "height": 740})
    _edit_page(page, seeded)
    page.locator("#add-item").click()  # a row added without reload takes the card layout too
    rows = page.locator("#items-body tr.item-row")
    assert rows.count() == 4
    for i in range(rows.count()):
        row = rows.nth(i)
        data_type = row.locator("td.cell-data_type select")
        # Scroll the page down to the item, never sideways (scroll_into_view would also
        # scroll the table's own wrapper to the right).
        row.evaluate("r => window.scrollTo(0, r.getBoundingClientRect().top + window.scrollY)")
        expect(data_type).to_be_visible()
        box = _box(data_type)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, f"type of item {i + 1} cut off"
        # Each field of the card says what it is.
        expect(row.locator("td.cell-data_type .cell-label")).to_be_visible()
        expect(row.locator("td.cell-data_type .cell-label")).to_contain_text(_portal("data type"))
        remove = row.locator("td.cell-delete input[type=checkbox]")
        box = _box(remove)
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= scroll[1], f"sideways scroll: {scroll}"
    folder = shot(page, "items-360").parent
    page.locator(".items-card").screenshot(path=str(folder / "items-360-cards.png"))


def _catalog(page):
    call_command("seed_demo", only=["catalog"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    page.goto(page.base_url + "/catalog/")
    expect(page.locator(".result").first).to_be_attached()


def test_catalog_filters_fold_at_360(page, seeded, shot):
    page.set_viewport_size({"width": 360, "height": 740})
    _catalog(page)
    toggle = page.locator("details.facets-toggle")
    assert toggle.evaluate("d => d.open") is False
    expect(page.locator(".facet").first).to_be_hidden()
    top = page.evaluate("document.querySelector('.result').getBoundingClientRect().top")
    assert top <= 700, f"the first result starts {top}px down"
    scroll = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll[0] <= scroll[1]
    folder = shot(page, "catalog-360-folded").parent
    page.screenshot(path=str(folder / "catalog-360-first-screen.png"))
    page.locator("details.facets-toggle > summary").click()
    expect(page.locator(".facet").first).to_be_visible()
    page.screenshot(path=str(folder / "catalog-360-unfolded-first-screen.png"))
    # A chosen filter stays in sight on the folded summary.
    page.goto(page.base_url + "/catalog/?update_cycle=weekly")
    assert page.locator("details.facets-toggle").evaluate("d => d.open") is False
    expect(page.locator("details.facets-toggle > summary .facet-chosen")).to_have_text(
        _portal("Weekly")
    )
    page.screenshot(path=str(folder / "catalog-360-filtered-first-screen.png"))


def test_catalog_filters_shown_at_1280(page, seeded, shot):
    page.set_viewport_size({"width": 1280, "height": 900})
    _catalog(page)
    assert page.locator("details.facets-toggle").evaluate("d => d.open") is True
    expect(page.locator(".facet").first).to_be_visible()
    expect(page.locator("details.facets-toggle > summary")).to_be_hidden()
    top = page.evaluate("document.querySelector('.result').getBoundingClientRect().top")
    assert top <= 700
    folder = shot(page, "catalog-1280").parent
    page.screenshot(path=str(folder / "catalog-1280-first-screen.png"))
