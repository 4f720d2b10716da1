"""What the public sees (issue 11, items 12 and 13) in a real browser: an anonymous visitor
browses the open catalog of the demo data and cannot open an entry that is not open; staff of
an agency sign in and see the whole published catalog; code lists open by their id."""

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog.models import CatalogEntry, OpenType
from catalog.standards.models import CodeList

from .conftest import login

pytestmark = [pytest.mark.e2e]
NOT_OPEN = re.compile("不予开放|Not open")  # the open-type facet's value


def _total(page) -> int:
    text = page.locator(".results-count").inner_text()
    return int(re.search(r"\d+", text.replace(",", "")).group(0))


def test_public_sees_the_open_catalog_and_staff_the_whole(page, seeded, shot):
    password = seeded
    call_command("seed_demo", only=["catalog"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    every = CatalogEntry.objects.count()
    closed = CatalogEntry.objects.filter(open_type=OpenType.NONE).select_related("grade")
    hidden = closed.first()
    assert hidden is not None and every > closed.count() > 0

    page.goto(page.base_url + "/catalog/")
    public_total = _total(page)
    assert public_total < every
    expect(page.locator(".result-list")).not_to_contain_text(hidden.name)
    expect(page.locator(".facets")).not_to_contain_text(NOT_OPEN)
    shot(page, "01-anonymous-open-catalog")
    page.goto(page.base_url + f"/catalog/?q={hidden.name}")
    expect(page.locator(".result-list")).to_have_count(0)
    response = page.goto(page.base_url + f"/catalog/resources/{hidden.resource_id}/")
    assert response.status == 404
    shot(page, "02-anonymous-hidden-entry-404")

    login(page, "demo_agency_staff", password)
    page.goto(page.base_url + "/catalog/")
    assert _total(page) == every
    expect(page.locator(".facets")).to_contain_text(NOT_OPEN)
    shot(page, "03-agency-staff-whole-catalog")
    page.goto(page.base_url + f"/catalog/?q={hidden.name}")
    expect(page.locator(".result-list")).to_contain_text(hidden.name)
    response = page.goto(page.base_url + f"/catalog/resources/{hidden.resource_id}/")
    assert response.status == 200


def test_code_lists_open_by_id(page, seeded, shot):
    call_command("seed_demo", only=["catalog"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    code_list = CodeList.objects.filter(identifier__contains="/").first()
    assert code_list is not None
    page.goto(page.base_url + "/standards/code-lists/")
    page.locator(f"a[href='/standards/code-lists/{code_list.pk}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith(f"/standards/code-lists/{code_list.pk}/")
    expect(page.locator("main h1")).to_contain_text(code_list.identifier)
    shot(page, "01-code-list-by-id")
