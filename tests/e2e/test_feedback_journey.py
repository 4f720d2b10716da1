"""Catalog feedback (Art. 14) in the browser: a requester reports, the provider proposes, the
city bureau sends the proposal back, the provider proposes again, the bureau agrees, the
provider adjusts; a second report closes with no adjustment and a third is rejected. Each
step is done through the page by the demo user who may, and each state is photographed
(test-artifacts/e2e/<test>/)."""

from __future__ import annotations

import pytest

from catalog import services
from catalog.models import CatalogFeedback
from tests.catalog import factories as f
from tests.e2e.conftest import login, logout
from tests.test_translations import compiled_catalog  # noqa: F401 (the pages in Chinese)
from wuhan_pdr.accounts.models import User

pytestmark = pytest.mark.django_db(transaction=True)
F = CatalogFeedback.State


def act(browser_page, action: str, comment: str = "", version: int | None = None) -> None:
    if comment:
        browser_page.fill("#id_comment", comment)
    if version is not None:
        browser_page.select_option("#id_version", str(version))
    browser_page.locator(f"button[name=action][value={action}]").click()
    browser_page.wait_for_load_state("domcontentloaded")


def state_of(pk: int) -> str:
    return CatalogFeedback.objects.get(pk=pk).state


def test_feedback_moves_to_agreement_in_the_browser(page, seeded, shot, compiled_catalog):  # noqa: F811
    password = seeded
    users = {u.username: u for u in User.objects.filter(username__startswith="demo_")}
    staff, admin = users["demo_agency_staff"], users["demo_agency_admin"]
    reviewer = users["demo_city_reviewer"]
    agency = f.Agency(org=staff.organization, staff=staff, admin=admin)
    # Open under conditions: in the open catalog, so a company's requester sees it.
    published = f.make_published(
        agency,
        reviewer,
        name="婚姻登记机关信息",
        open_type="conditional",
        open_conditions="经审批后开放。",
        open_legal_basis="",
    )

    def as_user(username: str, url: str) -> None:
        login(page, username, password)
        page.goto(page.base_url + url)

    # The requester reports a problem with the published entry.
    as_user("demo_requester", f"/catalog/feedback/new/?resource={published.resource.pk}")
    page.select_option("#id_kind", "outdated")
    page.fill("#id_description", "婚姻登记机关的办公时间已调整,目录中仍是旧的办公时间。")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    fb = CatalogFeedback.objects.get(requester=users["demo_requester"])
    url = f"/catalog/feedback/{fb.pk}/"
    assert page.url.endswith(url)
    assert state_of(fb.pk) == F.OPEN
    shot(page, "1-open-requester")
    logout(page)

    # The provider proposes no adjustment; the bureau sends it back with a comment.
    as_user("demo_agency_staff", url)
    shot(page, "2-open-provider")
    act(page, "propose_no_change", "办公时间以各登记处现场公示为准,目录无需调整。")
    assert state_of(fb.pk) == F.NO_CHANGE_PROPOSED
    shot(page, "3-no-change-proposed")
    logout(page)
    as_user("demo_city_reviewer", url)
    shot(page, "4-no-change-proposed-bureau")
    act(page, "send_back", "目录应与公示一致,请提出更新办公时间的调整方案。")
    assert state_of(fb.pk) == F.RETURNED
    shot(page, "5-returned")
    logout(page)

    # The provider proposes an adjustment; the bureau agrees.
    as_user("demo_agency_staff", url)
    act(page, "propose_adjustment", "更新各登记处办公时间,并改为每月核实。")
    assert state_of(fb.pk) == F.ADJUSTMENT_PROPOSED
    shot(page, "6-adjustment-proposed")
    logout(page)
    as_user("demo_city_reviewer", url)
    act(page, "agree_adjustment", "同意。")
    assert state_of(fb.pk) == F.AGREED
    shot(page, "7-agreed")
    logout(page)

    # Only now does the provider adjust, linking its new version.
    revision = services.resource_revise(resource=published.resource, acting_user=staff)
    as_user("demo_agency_admin", url)
    shot(page, "8-agreed-provider")
    act(page, "adjust", "已在新版本中更新办公时间。", version=revision.pk)
    assert state_of(fb.pk) == F.ADJUSTED
    logout(page)
    as_user("demo_requester", url)
    assert page.locator(".feedback-outcome").count() == 1
    shot(page, "9-adjusted-requester")
    logout(page)

    # A second report closes with no adjustment, a third is rejected.
    second = services.feedback_create(
        acting_user=users["demo_requester"],
        kind="error",
        description="预约电话与官网不一致。",
        resource=published.resource,
    )
    services.feedback_transition(
        feedback=second, action="propose_no_change", acting_user=staff, comment="官网已同步。"
    )
    third = services.feedback_create(
        acting_user=users["demo_requester"],
        kind="other",
        description="请提供全部结婚登记记录。",
        resource=published.resource,
    )
    as_user("demo_city_reviewer", f"/catalog/feedback/{second.pk}/")
    act(page, "agree_no_change", "核实一致,同意不作调整。")
    assert state_of(second.pk) == F.NO_CHANGE
    page.goto(page.base_url + f"/catalog/feedback/{third.pk}/")
    act(page, "reject", "不属于目录内容的纠错,请通过共享申请提出。")
    assert state_of(third.pk) == F.REJECTED
    logout(page)
    as_user("demo_requester", f"/catalog/feedback/{second.pk}/")
    shot(page, "10-no-change-requester")
    page.goto(page.base_url + f"/catalog/feedback/{third.pk}/")
    shot(page, "11-rejected-requester")
    page.goto(page.base_url + "/catalog/feedback/")
    shot(page, "12-list-requester")
