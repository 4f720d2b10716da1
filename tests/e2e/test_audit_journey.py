"""A city reviewer signs in; the auditor finds that sign-in in the audit log (the two-factor
part of this journey is added with two-factor login)."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]


def test_the_auditor_finds_the_reviewers_login(page, seeded, shot):
    password = seeded

    login(page, "demo_city_reviewer", password)
    expect(page.locator("main")).to_contain_text("市数据主管部门审核员")
    # The reviewer has no audit log: not in the menu, and the address is a 404.
    expect(page.locator("nav").get_by_role("link", name="审计日志")).to_have_count(0)
    response = page.goto(page.base_url + "/security/audit/")
    assert response.status == 404
    page.goto(page.base_url + "/")
    logout(page)

    login(page, "demo_auditor", password)
    # The audit log sits in the security drop-down (数据安全), not on the bar itself.
    page.locator(".nav-wide .nav-group summary", has_text="数据安全").click()
    page.locator(".nav-wide").get_by_role("link", name="审计日志").click()
    expect(page).to_have_url(re.compile(r"/security/audit/"))
    expect(page.locator("main h1")).to_have_text("审计日志")
    expect(page.locator("main")).to_contain_text("账本校验")
    page.fill("input[name=actor]", "demo_city_reviewer")
    page.fill("input[name=action]", "auth.login")
    page.locator("form[role=search] [type=submit]").click()
    rows = page.locator("table.audit-table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("demo_city_reviewer")
    expect(rows.first).to_contain_text("auth.login")
    expect(rows.first).to_contain_text("成功")
    expect(rows.first).to_contain_text("127.0.0.1")
    shot(page, "01-auditor-finds-login")

    # The auditor asks for a verification of the ledger (a background job).
    page.get_by_role("button", name="立即校验").click()
    expect(page.locator("main")).to_contain_text("正在校验审计账本")
    shot(page, "02-verification-queued")
