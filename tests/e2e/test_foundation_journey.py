"""Two roles log in, find their way around and log out, in a real browser."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]


def test_agency_staff_and_system_admin_journey(page, seeded, shot):
    password = seeded

    # An anonymous visitor lands on the public page, in Chinese by default.
    page.goto(page.base_url + "/")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("header")).to_contain_text("武汉市公共数据资源平台")
    shot(page, "01-public-home")

    # Agency staff: home page with its role, no management menu, directory works.
    login(page, "demo_agency_staff", password)
    expect(page.locator("main")).to_contain_text("部门工作人员")
    nav = page.locator("nav")
    expect(nav.get_by_role("link", name="用户管理")).to_have_count(0)
    shot(page, "02-staff-home")
    nav.get_by_role("link", name="机构名录").first.click()
    expect(page).to_have_url(re.compile(r"/organizations/"))
    page.fill("input[name=q]", "民政")
    page.locator("form[method=get] [type=submit]").first.click()
    expect(page.locator("main")).to_contain_text("武汉市民政局")
    shot(page, "03-directory-search")
    # A guessed management URL is a 404, not a 403.
    response = page.goto(page.base_url + "/manage/users/")
    assert response.status == 404
    page.goto(page.base_url + "/")
    logout(page)
    expect(page.locator("header").get_by_role("link", name="登录")).to_be_visible()

    # System administrator: manages users across agencies.
    login(page, "demo_system_admin", password)
    expect(page.locator("main")).to_contain_text("系统管理员")
    # Management is a drop-down of the menu bar.
    page.locator(".nav-wide .nav-group summary", has_text="管理").click()
    page.locator(".nav-wide").get_by_role("link", name="用户管理").click()
    expect(page.locator("main")).to_contain_text("demo_agency_staff")
    shot(page, "04-admin-users")
    page.get_by_role("link", name="demo_agency_staff").first.click()
    expect(page.locator("main")).to_contain_text("张伟")
    shot(page, "05-admin-user-detail")

    # At 360 px wide the page still works: the menu is reachable.
    page.set_viewport_size({"width": 360, "height": 780})
    page.goto(page.base_url + "/organizations/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 362
    shot(page, "06-directory-360")
    logout(page)
