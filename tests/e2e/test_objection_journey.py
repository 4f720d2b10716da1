"""The objection journey of issue #7 in a real browser: demo_requester objects to a row of
the published demo resource 地名信息 with a PDF as evidence; demo_city_reviewer accepts it
from the work queue and records the consultation (outcome: correct); demo_agency_staff
loads corrected data and reports, the page showing the row before and after; the reviewer
closes it; the requester finds each step in the notifications."""

from __future__ import annotations

import csv
import io
import os
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from aggregation import services as agg
from aggregation.demo import CHANNEL, HEADER, PLACES
from aggregation.models import Channel, Objection
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.models import Notification

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

KEY = "420106001"  # 黄鹤楼
WRONG = "传说仙人乘黄鹤于此。"
RIGHT = "因黄鹄山(蛇山)得名,传说仙人子安乘黄鹤过此。"


def _corrected_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in PLACES:
        writer.writerow(row[:-1] + (RIGHT,) if row[0] == KEY else row)
    return out.getvalue().encode()


def _open_from_home(page, text: str) -> None:
    page.goto(page.base_url + "/")
    page.get_by_role("link", name=re.compile(text)).first.click()
    page.wait_for_load_state("domcontentloaded")


def test_objection_from_requester_to_closure(page, seeded, shot, tmp_path, settings):
    password = seeded
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", only=["aggregation"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    channel = Channel.objects.select_related("resource").get(name=CHANNEL)
    resource = channel.resource
    evidence = tmp_path / "黄鹤楼地名档案.pdf"
    evidence.write_bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

    # The requester raises an objection to one row from the resource's catalog page.
    login(page, "demo_requester", password)
    page.goto(page.base_url + f"/catalog/resources/{resource.pk}/")
    page.locator(f"a[href='/objections/new/?resource={resource.pk}']").click()
    page.wait_for_load_state("domcontentloaded")
    page.select_option("#id_kind", "error")
    page.fill("#id_description", "“黄鹤楼”的命名由来不完整:应说明因黄鹄山(蛇山)得名。")
    page.fill("#id_rows", "420199999")
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    # A key that is not in the data is named on the field.
    expect(page.locator("#id_rows_error")).to_contain_text("420199999")
    shot(page, "01-unknown-key")
    page.fill("#id_rows", KEY)
    page.set_input_files("#id_evidence", str(evidence))
    shot(page, "02-objection-form")
    page.locator("main form [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    objection = Objection.objects.get()
    assert page.url.endswith(f"/objections/{objection.pk}/")
    expect(page.locator("#rows")).to_contain_text(WRONG)
    shot(page, "03-submitted")
    logout(page)

    # The city reviewer accepts it from the work queue and records the consultation.
    login(page, "demo_city_reviewer", password)
    _open_from_home(page, f"#{objection.pk} ")
    page.check("input[name=decision][value=accept]")
    page.fill("#id_reason", "异议指向具体数据行并附有档案依据,予以受理。")
    shot(page, "04-decide")
    page.locator("#step [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    page.fill("#id_held_at", timezone.localtime().strftime("%Y-%m-%dT%H:%M"))
    page.fill("#id_participants", "市数据局 陈静;市民政局 张伟;武汉光谷数据科技有限公司 刘洋")
    page.fill("#id_minutes", "三方核对地名档案,确认现有命名由来表述不完整。")
    page.select_option("#id_outcome", "correct")
    page.fill("#id_outcome_detail", "市民政局更正“黄鹤楼”的命名由来并重新上传数据。")
    shot(page, "05-consultation")
    page.locator("#step [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("#consultation")).to_contain_text("三方核对地名档案")
    objection.refresh_from_db()
    assert objection.state == Objection.State.AGREED
    logout(page)

    # The provider loads corrected data, then reports from its work queue.
    staff = User.objects.get(username="demo_agency_staff")
    batch = agg.batch_upload(
        channel=channel,
        uploaded=SimpleUploadedFile("地名信息.csv", _corrected_csv(), content_type="text/csv"),
        acting_user=staff,
    )
    batch = agg.batch_run(batch_id=batch.pk)
    assert batch.status == "succeeded", batch.status
    login(page, "demo_agency_staff", password)
    # Straight to the objection (the home page now also lists other links with "#N").
    page.goto(page.base_url + f"/objections/{objection.pk}/")
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main")).to_contain_text("刘洋")
    expect(page.locator("main")).not_to_contain_text("demo_requester")
    page.fill("#id_report", "已按会商结论更正命名由来,并于今日重新上传全量数据。")
    page.locator("#step [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("#rows td.old")).to_contain_text(WRONG)
    expect(page.locator("#rows td.new")).to_contain_text(RIGHT)
    shot(page, "06-reported-before-after")
    logout(page)

    # The reviewer closes it.
    login(page, "demo_city_reviewer", password)
    _open_from_home(page, f"#{objection.pk} ")
    page.check("input[name=action][value=close]")
    page.fill("#id_comment", "核验更正结果无误,办结。")
    page.locator("#step [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    objection.refresh_from_db()
    assert objection.state == Objection.State.CLOSED
    shot(page, "07-closed")
    logout(page)

    # The requester was told at each step and sees the closed objection.
    login(page, "demo_requester", password)
    page.goto(page.base_url + "/notifications/")
    expect(page.locator("main")).to_contain_text(f"#{objection.pk} ")
    shot(page, "08-notifications")
    page.goto(page.base_url + "/objections/mine/")
    page.locator(f"a[href='/objections/{objection.pk}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator(".timeline li")).to_have_count(5)
    shot(page, "09-requester-closed")
    told = Notification.objects.filter(
        recipient__username="demo_requester", url=f"/objections/{objection.pk}/"
    )
    assert told.count() == 5
