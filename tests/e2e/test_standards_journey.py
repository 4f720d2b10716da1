"""The standards journey of issue #4 in a real browser: an agency's staff member proposes a
change to a data element used by two resources of two agencies; the city bureau's reviewer
sees the impact list naming both and approves; both providers are notified; the element page
shows version 2 and its history."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from catalog.models import DataElement, ElementChangeRequest
from catalog.standards import services
from tests.accounts.factories import DEFAULT_PASSWORD, OrganizationFactory, UserFactory
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.models import Notification

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

ELEMENT_NAME = "婚姻登记证字号"
RESOURCES = ("婚姻登记信息(演示)", "户籍迁移登记信息(演示)")


def _world(password: str) -> dict:
    """The element (version 1) and two published resources of two agencies whose items bind
    to it, made with the catalog's and the standards' own services."""
    ensure_catalog_base_data()
    staff = User.objects.get(username="demo_agency_staff")
    admin = User.objects.get(username="demo_agency_admin")
    reviewer = User.objects.get(username="demo_city_reviewer")
    civil = cf.Agency(org=staff.organization, staff=staff, admin=admin)
    police_org = OrganizationFactory(name="武汉市公安局(演示)", kind=Organization.Kind.CITY_AGENCY)
    police = cf.Agency(
        org=police_org,
        staff=UserFactory(
            username="police_staff", organization=police_org, roles=[Role.AGENCY_STAFF]
        ),
        admin=UserFactory(
            username="police_admin", organization=police_org, roles=[Role.AGENCY_ADMIN]
        ),
    )
    request = services.change_request_create(
        acting_user=staff,
        kind="add",
        reason="婚姻登记业务需要统一证件字号。",
        proposal={
            "name": ELEMENT_NAME,
            "english_name": "marriage certificate number",
            "pinyin": "hun yin deng ji zheng zi hao",
            "definition": "婚姻登记机关颁发的结婚证或离婚证上的字号。",
            "data_type": "C",
            "format": "c..20",
            "domain_kind": "none",
        },
    )
    services.change_request_transition(change_request=request, action="submit", acting_user=staff)
    services.change_request_transition(
        change_request=request, action="approve", acting_user=reviewer
    )
    element = ElementChangeRequest.objects.get(pk=request.pk).result
    for agency, name in zip((civil, police), RESOURCES, strict=True):
        items = cf.valid_items()
        items[1].update({"name": "证件字号", "english_name": "cert_no", "element": element})
        cf.make_published(agency, reviewer, items=items, name=name)
    Notification.objects.all().delete()
    return {"element": element, "civil": civil, "police": police, "reviewer": reviewer}


def test_change_an_element_used_by_two_resources_and_notify_both_providers(page, seeded, shot):
    password = seeded
    world = _world(password)
    identifier = world["element"].identifier
    element_url = f"{page.base_url}/standards/elements/{identifier}/"

    # Staff finds the element and proposes a longer format, beside the current version.
    login(page, "demo_agency_staff", password)
    page.goto(f"{page.base_url}/standards/?q=婚姻登记")
    page.locator(f"main a[href='/standards/elements/{identifier}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main h1")).to_contain_text(ELEMENT_NAME)
    page.locator("main a[href*='kind=change']").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".compare-current")).to_contain_text("c..20")
    expect(page.locator("#id_format")).to_have_value("c..20")
    page.fill("#id_format", "c..32")
    page.fill("#id_reason", "新版结婚证字号含地区前缀,长度超过20个字符。")
    shot(page, "01-change-form")
    page.locator("button[name=submit_after_save]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main .request-state-submitted").first).to_be_visible()
    request_url = page.url
    assert re.search(r"/standards/requests/\d+/$", request_url)
    shot(page, "02-submitted")
    logout(page)

    # The reviewer opens it from the work queue and sees the impact on both resources.
    login(page, "demo_city_reviewer", password)
    page.locator(f"main a[href='{request_url.removeprefix(page.base_url)}']").first.click()
    page.wait_for_load_state("domcontentloaded")
    impact = page.locator(".impact-table")
    for name in RESOURCES:
        expect(impact).to_contain_text(name)
    expect(impact).to_contain_text(world["police"].org.name)
    expect(page.locator(".proposal-table tr.changed")).to_contain_text("c..32")
    shot(page, "03-review-with-impact")
    page.locator("details[data-confirm=approve] > summary").click()
    page.locator("button[name=action][value=approve]").click()
    page.wait_for_load_state("domcontentloaded")

    # The element page shows version 2, both versions and the history of the change.
    assert page.url == element_url
    expect(page.locator(".element-version")).to_contain_text("2")
    expect(page.locator(".versions-table")).to_contain_text("v2")
    expect(page.locator(".versions-table")).to_contain_text("v1")
    expect(page.locator(".versions-table .element-status-superseded")).to_have_count(1)
    expect(page.locator("#versions .diff")).to_contain_text("c..32")
    expect(page.locator(".timeline li")).to_have_count(1)  # version 1 superseded
    expect(page.locator(".history tbody tr")).to_have_count(3)
    expect(page.locator("#usage")).to_contain_text(RESOURCES[0])
    shot(page, "04-element-version-2")
    logout(page)

    # Both providers' people are notified, with a link to the element.
    v2 = DataElement.objects.get(identifier=identifier, version=2)
    assert v2.format == "c..32"
    for agency in (world["civil"], world["police"]):
        for user in (agency.staff, agency.admin):
            assert Notification.objects.filter(
                recipient=user, url=f"/standards/elements/{identifier}/", title__contains=identifier
            ).exists(), user.username
    login(page, "police_admin", DEFAULT_PASSWORD)
    page.goto(f"{page.base_url}/notifications/")
    expect(page.locator(".notice-title").first).to_contain_text(identifier)
    shot(page, "05-provider-notified")
    page.locator(".notice form button").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url == element_url
    # The provider's resource shows its item still on version 1, with a newer one available.
    page.goto(f"{page.base_url}/catalog/mine/")
    page.get_by_role("link", name=RESOURCES[1]).first.click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main table")).to_contain_text(f"{identifier}")
    expect(page.locator("main .item-element .tag-warn")).to_have_count(1)
    shot(page, "06-item-keeps-version-1")
