"""Issue 12 items 5 and 6 in a real browser, at 1280 px and 360 px, in Chinese: after the
agency's data officer approves a 江岸区 entry, its page and timeline say that the 江岸区 data
bureau reviews it next and by when; the public home page leads a visitor into the catalog
and its search."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from catalog import services
from catalog.models import CatalogEntry, ResourceVersion
from tests.accounts.factories import UserFactory
from tests.catalog import factories as f
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import SHANGHAI

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]
PO_FILE = Path(__file__).resolve().parents[2] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
WIDTHS = (1280, 360)


@pytest.fixture
def chinese(tmp_path, settings):
    """The portal in its own language: the working tree's .po compiled for this test."""
    mo_dir = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    subprocess.run(["msgfmt", "-o", str(mo_dir / "django.mo"), str(PO_FILE)], check=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]


def _seed_catalog() -> None:
    call_command("seed_demo", only=["catalog"], stdout=open(os.devnull, "w"))  # noqa: SIM115


def test_approved_district_entry_says_the_district_bureau_reviews_it_next(
    page, seeded, chinese, shot
):
    password = seeded
    agency = Organization.objects.get(name="武汉市江岸区民政局")
    bureau = Organization.objects.get(name="武汉市江岸区数据局")
    staff = UserFactory(organization=agency, roles=[Role.AGENCY_STAFF], password=password)
    officer = UserFactory(organization=agency, roles=[Role.AGENCY_ADMIN], password=password)
    people = f.Agency(org=agency, staff=staff, admin=officer)
    version = f.make_draft(people, name="江岸区低保救助对象信息")
    services.resource_transition(version=version, action="submit", acting_user=staff)

    login(page, officer.username, password)
    page.goto(page.base_url + f"/catalog/versions/{version.pk}/")
    expect(page.locator("p.next-step")).to_contain_text(agency.name)  # its data officer
    page.locator("button[name=action][value=agency_approve]").click()
    page.wait_for_load_state("domcontentloaded")

    version.refresh_from_db()
    assert version.state == ResourceVersion.State.AGENCY_APPROVED
    day = version.step_deadline.astimezone(SHANGHAI).strftime("%Y-%m-%d")
    status = page.locator("p.next-step")
    expect(status).to_contain_text(bureau.name)
    expect(status).to_contain_text("区数据主管部门审核员")  # the role, in Chinese
    expect(status).to_contain_text(day)
    expect(status).to_contain_text("下一步")
    timeline = page.locator(".timeline li.timeline-next")
    expect(timeline).to_contain_text(bureau.name)
    expect(timeline).to_contain_text(day)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"01-officer-after-approval-{width}")

    page.set_viewport_size({"width": 1280, "height": 900})
    logout(page)
    login(page, "demo_district_reviewer", password)
    page.goto(page.base_url + f"/catalog/versions/{version.pk}/")
    expect(page.locator("p.next-step")).to_contain_text(bureau.name)
    expect(page.locator("button[name=action][value=review]")).to_be_visible()
    shot(page, "02-district-reviewer-sees-its-turn-1280")


def test_public_home_page_leads_into_the_catalog_and_its_search(page, seeded, chinese, shot):
    _seed_catalog()
    page.goto(page.base_url + "/")
    expect(page.locator("main")).not_to_contain_text("即将上线")
    section = page.locator(".home-catalog")
    expect(section).to_be_visible()
    expect(section.locator(".home-newest li")).not_to_have_count(0)
    expect(section.locator(".home-chips li")).not_to_have_count(0)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        shot(page, f"01-home-{width}")

    newest = (
        CatalogEntry.objects.filter(open_type__in=["unconditional", "conditional"])
        .order_by("-published_at", "pk")
        .first()
    )
    word = newest.name[:2]
    page.fill("#home_q", word)
    page.locator(".home-search button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert "/catalog/?q=" in page.url
    expect(page.locator(".result-list")).to_contain_text(word)
    shot(page, "02-search-from-home-360")

    page.goto(page.base_url + "/")
    page.locator(".home-chips a").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert "classification=" in page.url
    expect(page.locator(".result-list li").first).to_be_visible()


def test_a_refused_save_shows_one_banner_and_focuses_the_first_error(page, seeded, chinese, shot):
    password = seeded
    login(page, "demo_agency_staff", password)
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(page.base_url + "/catalog/new/")
    page.locator("button[name=save]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".alert-error")).to_have_count(1)
    focused = page.evaluate("document.activeElement && document.activeElement.id")
    first_invalid = page.evaluate("document.querySelector('main form [aria-invalid=\"true\"]').id")
    assert focused == first_invalid == "id_name"
    shot(page, "01-refused-save-360")
