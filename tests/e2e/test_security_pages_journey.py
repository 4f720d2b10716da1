"""The security administrator opens the 数据安全 drop-down (backups, two-factor resets and the
audit log are in it), registers a data tool, assesses it and puts it into use; an emergency
plan with its document attached. Screenshots of each page."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from .conftest import login

pytestmark = [pytest.mark.e2e]

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_the_security_admin_registers_assesses_and_uses_a_data_tool(
    page, seeded, shot, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    login(page, "demo_security_admin", seeded)
    bar = page.locator(".nav-wide")
    for label in ("备份与恢复", "用户双因素登录", "审计日志"):
        expect(page.locator(".nav-wide > li > a", has_text=label)).to_have_count(0)
    bar.locator(".nav-group summary", has_text="数据安全").click()
    for label in ("备份与恢复", "用户双因素登录", "审计日志", "数据工具"):
        expect(bar.get_by_role("link", name=label)).to_be_visible()
    shot(page, "01-security-menu-open")

    bar.get_by_role("link", name="数据工具").click()
    expect(page.locator("main h1")).to_have_text("数据工具")
    shot(page, "02-data-tools-empty")
    page.locator("main").get_by_role("link", name="登记数据工具").first.click()
    page.fill("#id_name", "社区采集终端")
    page.select_option("#id_organization", label="武汉市民政局")
    page.fill("#id_vendor", "武汉某科技有限公司")
    page.fill("#id_version", "2.1")
    page.select_option("#id_category", "collection")
    page.fill("#id_purpose", "采集社区人口信息，部署在政务外网前置机。")
    shot(page, "03-data-tool-form")
    page.locator("main form [type=submit]").click()
    expect(page.locator("main h1")).to_contain_text("社区采集终端 2.1")
    expect(page.locator("main")).to_contain_text("待评估")
    expect(page.get_by_role("button", name="投入使用")).to_be_disabled()

    page.get_by_role("link", name="评估", exact=True).click()
    page.fill("#id_assessed_on", timezone.localdate().isoformat())
    page.fill("#id_findings", "已检查网络、账号与日志。")
    for radio in page.locator("input[type=radio][value=yes]").all():
        radio.check()
    page.check("input[name=result][value=pass]")
    page.fill("#id_valid_until", "2099-12-31")
    page.locator("main form [type=submit]").click()
    expect(page).to_have_url(re.compile(r"/security/assessments/\d+/$"))
    shot(page, "04-assessment-recorded")
    page.goto(page.base_url + "/security/tools/")
    page.locator("main table").get_by_role("link", name="社区采集终端").click()
    page.get_by_role("button", name="投入使用").click()
    expect(page.locator("main")).to_contain_text("使用中")
    shot(page, "05-data-tool-in-use")
    page.goto(page.base_url + "/security/tools/")
    expect(page.locator("main table tbody tr")).to_have_count(1)
    shot(page, "06-data-tools-list")

    # An emergency plan with its document.
    page.goto(page.base_url + "/security/incidents/plans/new/")
    page.fill("#id_title", "数据安全事件应急预案")
    page.select_option("#id_organization", label="武汉市民政局")
    page.fill("#id_version", "1.0")
    page.fill("#id_scope", "全局")
    page.fill("#id_valid_from", "2026-01-01")
    page.fill("#id_valid_until", "2026-12-31")
    page.set_input_files(
        "#id_document", {"name": "plan.exe", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("main form [type=submit]").click()
    expect(page.locator("main")).to_contain_text("plan.exe 不是此处接受的文件类型")
    shot(page, "07-plan-form-refused")
    page.set_input_files(
        "#id_document", {"name": "应急预案.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    page.locator("main form [type=submit]").click()
    expect(page.locator("main h1")).to_have_text("数据安全事件应急预案")
    expect(page.locator("#document")).to_contain_text("应急预案.pdf")
    shot(page, "08-plan-with-document")
    with page.expect_download() as download:
        page.locator("#document").get_by_role("link", name="应急预案.pdf").click()
    assert download.value.suggested_filename == "应急预案.pdf"
