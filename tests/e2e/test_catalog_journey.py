"""The catalog journey of issue #3 in a real browser: a staff member files a resource with
five items; the agency approves; the reviewer returns it; staff fixes and resubmits; the
reviewer publishes; an anonymous visitor finds it by a two-character word of its name."""

import re

import pytest
from playwright.sync_api import expect

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

NAME = "城市内涝积水点监测信息"
ITEMS = [
    ("监测点编号", "point_code", "C", "20"),
    ("监测点名称", "point_name", "C", "100"),
    ("所在街道", "street_name", "C", "60"),
    ("积水深度", "water_depth", "N", "8"),
    ("监测时间", "observed_at", "T", ""),
]


def _act(page, action: str, comment: str = "") -> None:
    if comment:
        page.fill("#id_comment", comment)
    page.locator(f"button[name=action][value={action}]").click()
    page.wait_for_load_state("domcontentloaded")


def _open_from_home(page, text: str) -> None:
    page.goto(page.base_url + "/")
    page.get_by_role("link", name=re.compile(text)).first.click()
    page.wait_for_load_state("domcontentloaded")


def test_file_review_return_fix_publish_and_find(page, seeded, shot):
    password = seeded

    # Staff files the resource with five items, adding rows without reloading.
    login(page, "demo_agency_staff", password)
    page.goto(page.base_url + "/catalog/new/")
    page.fill("#id_name", NAME)
    page.select_option("#id_classification", label="206 生态环境")
    page.fill("#id_summary", "汛期城市道路积水点的实时监测数据。")
    page.fill("#id_source_system", "城市防汛监测系统")
    page.select_option("#id_grade", label="L1 不敏感")
    page.select_option("#id_share_type", "unconditional")
    page.select_option("#id_open_type", "unconditional")
    page.select_option("#id_update_cycle", "daily")
    for _ in range(len(ITEMS) - 1):
        page.locator("#add-item").click()
    assert page.locator("#items-body tr").count() == len(ITEMS)
    for i, (name, column, dtype, length) in enumerate(ITEMS):
        page.fill(f"#id_items-{i}-name", name)
        page.fill(f"#id_items-{i}-english_name", column)
        page.select_option(f"#id_items-{i}-data_type", dtype)
        if length:
            page.fill(f"#id_items-{i}-length", length)
    page.check("#id_items-0-is_key")
    page.check("#id_items-4-is_update_flag")  # updated daily: 监测时间 is the update flag (Art. 16)
    shot(page, "01-filing-form")
    page.locator("button[name=submit_after_save]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main h1")).to_have_text(NAME)
    expect(page.locator("main")).to_contain_text("已提交")
    expect(page.locator("main table")).to_contain_text("积水深度")
    version_url = page.url
    shot(page, "02-submitted")
    logout(page)

    # The agency's data officer approves from the work queue.
    login(page, "demo_agency_admin", password)
    _open_from_home(page, NAME)
    assert page.url == version_url
    _act(page, "agency_approve")
    expect(page.locator("main")).to_contain_text("部门已审核")
    logout(page)

    # The city reviewer returns it with a comment.
    login(page, "demo_city_reviewer", password)
    _open_from_home(page, NAME)
    _act(page, "review_return")  # without a comment: refused, nothing changes
    expect(page.locator("main")).to_contain_text("请填写")
    _act(page, "review_return", "请补充摘要中的数据来源说明。")
    expect(page.locator("main")).to_contain_text("退回修改")
    shot(page, "03-returned")
    logout(page)

    # Staff sees the comment, fixes the summary and resubmits.
    login(page, "demo_agency_staff", password)
    _open_from_home(page, NAME)
    expect(page.locator("main")).to_contain_text("请补充摘要中的数据来源说明。")
    page.locator("main").get_by_role("link", name="编辑").click()
    page.fill(
        "#id_summary", "汛期城市道路积水点的实时监测数据,来源于城市防汛监测系统的物联网传感器。"
    )
    page.locator("button[name=submit_after_save]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main")).to_contain_text("已提交")
    logout(page)

    login(page, "demo_agency_admin", password)
    page.goto(version_url)
    _act(page, "agency_approve")
    logout(page)

    # The reviewer passes the review and publishes.
    login(page, "demo_city_reviewer", password)
    page.goto(version_url)
    _act(page, "review")
    _act(page, "publish")
    expect(page.locator("main")).to_contain_text("已发布")
    shot(page, "04-published")
    logout(page)

    # An anonymous visitor finds it with a two-character word of its name.
    page.goto(page.base_url + "/catalog/?q=积水")
    expect(page.locator(".result-list")).to_contain_text(NAME)
    shot(page, "05-public-search")
    page.get_by_role("link", name=NAME).click()
    expect(page.locator("main table")).to_contain_text("监测时间")
    shot(page, "06-public-resource")
