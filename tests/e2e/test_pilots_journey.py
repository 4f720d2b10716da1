"""Pilot scenarios (Art. 22) in the browser: the city bureau publishes a call, the operator
submits a proposal with its document, the bureau closes the call, scores and selects it with a
priced-but-free trial, and an anonymous visitor finds the pilot on /pilots/. Each step is
photographed (test-artifacts/e2e/<test>/)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from authorization.pilots.demo import PDF
from authorization.pilots.models import PilotCall, Proposal
from tests.e2e.conftest import login, logout
from tests.test_translations import compiled_catalog  # noqa: F401 (the pages in Chinese)

pytestmark = pytest.mark.django_db(transaction=True)


def submit(page) -> None:
    page.locator("main form[method=post] button[type=submit]").last.click()
    page.wait_for_load_state("domcontentloaded")


def test_a_call_becomes_a_public_pilot(page, seeded, shot, compiled_catalog):  # noqa: F811
    password = seeded
    base = page.base_url
    deadline = timezone.localtime() + dt.timedelta(days=7)

    login(page, "demo_city_reviewer", password)
    page.goto(base + "/pilots/calls/new/")
    page.fill("#id_title", "普惠金融试点场景征集")
    page.fill("#id_area", "普惠金融")
    page.fill("#id_requirements", "说明所需数据和安全措施。")
    page.fill("#id_deadline", deadline.strftime("%Y-%m-%dT%H:%M"))
    submit(page)
    call = PilotCall.objects.get(title="普惠金融试点场景征集")
    assert page.url.endswith(f"/pilots/calls/{call.pk}/")
    shot(page, "1-call-published")
    logout(page)

    login(page, "demo_operator", password)
    page.goto(base + f"/pilots/calls/{call.pk}/propose/")
    page.fill("#id_title", "小微企业信用评分")
    page.fill("#id_summary", "为银行提供小微企业信用评分。")
    page.fill("#id_data_needed", "企业登记信息")
    page.set_input_files(
        "#id_document", {"name": "方案.pdf", "mimeType": "application/pdf", "buffer": PDF}
    )
    submit(page)
    proposal = Proposal.objects.get(call=call)
    assert page.url.endswith(f"/pilots/proposals/{proposal.pk}/")
    shot(page, "2-proposal-submitted")
    logout(page)

    login(page, "demo_city_reviewer", password)
    page.goto(base + f"/pilots/calls/{call.pk}/close_submissions/")
    submit(page)
    assert PilotCall.objects.get(pk=call.pk).state == PilotCall.State.REVIEW
    page.goto(base + f"/pilots/proposals/{proposal.pk}/")
    for field, score in (("value", 22), ("feasibility", 20), ("security", 23), ("innovation", 18)):
        page.fill(f"form[action$='/score/'] #id_{field}", str(score))
    page.fill("form[action$='/score/'] #id_comment", "价值明确,安全措施完备。")
    page.locator("form[action$='/score/'] button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    page.fill("#id_service", "小微企业信用评分接口")
    page.fill("#id_price", "0.50")
    page.fill("#id_unit", "元/次")
    until = timezone.localdate() + dt.timedelta(days=90)
    page.fill("#id_waived_until", until.isoformat())
    page.locator("form[action$='/select/'] button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    assert Proposal.objects.get(pk=proposal.pk).state == Proposal.State.SELECTED
    shot(page, "3-selected")
    logout(page)

    page.goto(base + "/pilots/")
    body = page.locator("main").inner_text()
    assert "小微企业信用评分接口" in body and "0.50" in body and until.isoformat() in body
    shot(page, "4-public")
