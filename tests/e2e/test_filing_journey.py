"""The filing journey of issue #5 (items 1-4) in a real browser: the demo agency's staff
registers an information system and links a resource; the city reviewer opens the 2026
compilation campaign and sees the progress board; an IT project is refused approval while
its data list is empty and approved once an entry is listed; its submission for acceptance
is refused with the list of what is missing."""

from __future__ import annotations

import pytest
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import expect

from catalog.filing.models import CompilationCampaign, InformationSystem, ITProject
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.accounts.models import User

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

SYSTEM = "婚姻登记管理信息系统(演示)"
PROJECT = "智慧养老服务平台升级项目(演示)"
PLANNED = "养老服务补贴申领信息"


def _submit(page, selector: str) -> None:
    page.locator(selector).click()
    page.wait_for_load_state("domcontentloaded")


def test_census_campaign_and_project_gates(page, seeded, shot):
    password = seeded
    ensure_catalog_base_data()
    staff = User.objects.get(username="demo_agency_staff")
    admin = User.objects.get(username="demo_agency_admin")
    civil = cf.Agency(org=staff.organization, staff=staff, admin=admin)
    draft = cf.make_draft(civil, name="婚姻登记信息(演示)")
    code = draft.resource.code

    # 1. The agency's staff registers a system and links its resource.
    login(page, "demo_agency_staff", password)
    page.goto(page.base_url + "/filing/systems/")
    shot(page, "01-systems-empty")
    _submit(page, "main .page-actions a[href='/filing/systems/new/']")
    page.fill("#id_name", SYSTEM)
    page.fill("#id_purpose", "全市婚姻登记业务办理。")
    page.fill("#id_builder", "武汉市大数据中心")
    page.fill("#id_go_live_date", "2018-05-01")
    page.select_option("#id_database_kind", "dameng")
    page.fill("#id_data_volume_gb", "120.5")
    page.fill("#id_contact_name", "张伟")
    page.fill("#id_contact_phone", "027-85550000")
    page.check(f"input[name=resources][value='{draft.resource.pk}']")
    shot(page, "02-system-form")
    _submit(page, "main form button[type=submit].btn-primary")
    expect(page.locator("main h1")).to_contain_text(SYSTEM)
    expect(page.locator("main")).to_contain_text(code)
    shot(page, "03-system-registered")
    system = InformationSystem.objects.get(name=SYSTEM)
    assert list(system.resources.values_list("pk", flat=True)) == [draft.resource.pk]

    # 2. A project: approval refused while the data list is empty.
    page.goto(page.base_url + "/filing/projects/new/")
    page.fill("#id_name", PROJECT)
    page.fill("#id_budget_amount", "3800000")
    page.fill("#id_year", "2026")
    _submit(page, "main form button[type=submit].btn-primary")
    expect(page.locator("main h1")).to_contain_text(PROJECT)
    project_url = page.url
    _submit(page, "button[name=action][value=submit]")
    with translation.override("zh-hans"):  # the portal's language (no language cookie)
        empty_list = gettext(
            "The public data list is empty: list the resources the project will produce "
            "before approval (Art. 11)."
        )
    expect(page.locator(".messages")).to_contain_text(empty_list)
    shot(page, "04-empty-list-refused")
    assert ITProject.objects.get(name=PROJECT).state == "draft"
    page.select_option("#id_resource", str(draft.resource.pk))
    _submit(page, ".entry-form button[type=submit]")
    expect(page.locator("#data-list tbody tr")).to_have_count(1)
    _submit(page, "button[name=action][value=submit]")
    assert ITProject.objects.get(name=PROJECT).state == "submitted"
    logout(page)

    # 3. The city reviewer opens the campaign, sees the board, and approves the project.
    login(page, "demo_city_reviewer", password)
    page.goto(page.base_url + "/filing/campaigns/")
    _submit(page, "main .page-actions a[href='/filing/campaigns/new/']")
    page.fill("#id_name", "2026 年度目录编制")
    page.fill("#id_year", "2026")
    page.fill("#id_deadline", "2026-12-31")
    page.fill("#id_description", "请各单位按期完成目录编制。")
    _submit(page, "main form button[type=submit].btn-primary")
    campaign = CompilationCampaign.objects.get(name="2026 年度目录编制")
    expect(page.locator("main h1")).to_contain_text("2026 年度目录编制")
    board = page.locator("table.board")
    expect(board).to_contain_text(civil.org.name)
    row = board.locator("tr", has_text=civil.org.name)
    expect(row.locator(".stage-steps li.current")).to_have_count(1)
    shot(page, "05-campaign-board")
    assert campaign.state == "open"
    page.goto(project_url)
    _submit(page, "button[name=action][value=approve]")
    expect(page.locator("main .lead .tag")).to_be_visible()
    assert ITProject.objects.get(name=PROJECT).state == "approved"
    shot(page, "06-project-approved")
    logout(page)

    # 4. Before acceptance the agency adds a planned resource; acceptance is refused with
    # every missing entry listed.
    login(page, "demo_agency_staff", password)
    page.goto(project_url)
    page.fill("#id_planned_name", PLANNED)
    _submit(page, ".entry-form button[type=submit]")
    expect(page.locator("#data-list tbody tr")).to_have_count(2)
    _submit(page, "button[name=action][value=submit_acceptance]")
    missing = page.locator("#missing")
    expect(missing).to_contain_text(PLANNED)
    expect(missing).to_contain_text(code)
    expect(missing.locator("li")).to_have_count(2)
    shot(page, "07-acceptance-refused")
    assert ITProject.objects.get(name=PROJECT).state == "approved"

    # The agency's own view of the campaign shows its stage.
    page.goto(f"{page.base_url}/filing/campaigns/{campaign.pk}/")
    expect(page.locator(".my-stage")).to_be_visible()
    shot(page, "08-agency-campaign-stage")
