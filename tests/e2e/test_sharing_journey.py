"""The share-request journey of issue #14 in a real browser: demo_staff_police asks
武汉市民政局 for some items of the conditionally shared 最低生活保障对象信息 (data loaded by the
aggregation demo); demo_agency_admin finds it in the work queue and grants it, choosing each
item's delivery form; the security administrator records the assessment the grade requires;
demo_staff_police collects the key, shown once, and calls the supply API with it: only the
granted items come back, each in its form."""

from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from authorization.sharing.models import Grant, ShareRequest
from authorization.sharing.services import ASSESSMENT_KIND
from catalog.models import Resource
from security.assessments.registry import subject_kind
from security.assessments.services import assessment_record
from wuhan_pdr.accounts.models import User

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

RESOURCE = "最低生活保障对象信息"
ASKED = ["jtbh", "gmsfhm", "xm", "bzlb", "gxsj"]
FORMS = {"jtbh": "clear", "gmsfhm": "hmac", "xm": "masked", "bzlb": "clear", "gxsj": "clear"}
NOT_GRANTED = "bzlb"


def test_police_request_granted_with_delivery_forms_and_used(page, seeded, shot, settings):
    password = seeded
    call_command("seed_demo", only=["aggregation"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    resource = Resource.objects.get(provider__name="武汉市民政局", published_version__name=RESOURCE)
    items = {i.english_name: i for i in resource.published_version.items.all()}
    base = page.base_url
    shots = "/work/wt/sharing-shots"

    # The police staff finds the resource and asks for five of its items.
    login(page, "demo_staff_police", password)
    page.goto(base + "/sharing/requests/")
    page.screenshot(path=f"{shots}/01-requests-empty.png", full_page=True)
    page.goto(base + "/sharing/requests/new/?q=" + RESOURCE)
    page.screenshot(path=f"{shots}/02-choose.png", full_page=True)
    page.locator(f"a[href='/sharing/requests/new/{resource.pk}/']").click()
    for column in ASKED:
        page.locator(f"input[name=items][value='{items[column].pk}']").check()
    page.fill("#id_scenario", "户籍业务办理中核验申请人最低生活保障身份。")
    page.locator("input[name=basis_kind][value=law]").check()
    page.fill("#id_law_name", "《武汉市公共数据资源管理办法》")
    page.fill("#id_law_article", "第七条")
    page.fill("#id_purpose", "减免户籍业务相关费用,减少群众提交证明。")
    today = timezone.localdate()
    page.fill("#id_period_start", today.isoformat())
    page.fill("#id_period_end", today.replace(year=today.year + 1).isoformat())
    page.fill("#id_expected_daily_rows", "500")
    page.screenshot(path=f"{shots}/03-request-form.png", full_page=True)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    request = ShareRequest.objects.get(requester__name="武汉市公安局", resource=resource)
    assert page.url.endswith(f"/sharing/requests/{request.pk}/")
    assert request.state == ShareRequest.State.PENDING
    page.screenshot(path=f"{shots}/04-request-detail.png", full_page=True)
    logout(page)

    # The data officer of 武汉市民政局 finds it in the work queue and decides it.
    login(page, "demo_agency_admin", password)
    page.goto(base + "/")
    page.locator(f"a[href='/sharing/requests/{request.pk}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    page.locator(f"a[href='/sharing/requests/{request.pk}/decide/']").click()
    page.wait_for_load_state("domcontentloaded")
    for column in ASKED:
        form = "" if column == NOT_GRANTED else FORMS[column]
        page.select_option(f"#id_item_{items[column].pk}", form)
    page.fill("#id_reasons", "保障类别不属于户籍业务所需。")
    page.screenshot(path=f"{shots}/05-decide.png", full_page=True)
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    grant = Grant.objects.get(request=request)
    assert page.url.endswith(f"/sharing/grants/{grant.pk}/")
    page.screenshot(path=f"{shots}/06-grant-provider.png", full_page=True)
    page.goto(base + "/sharing/usage/")
    page.screenshot(path=f"{shots}/07-data-usage.png", full_page=True)
    page.goto(base + "/sharing/review/")
    page.screenshot(path=f"{shots}/08-review-queue.png", full_page=True)
    logout(page)

    # Data of this grade needs a passed security assessment before the first call.
    assert grant.needs_assessment
    subject = subject_kind(ASSESSMENT_KIND)
    assessment_record(
        subject_kind=ASSESSMENT_KIND,
        subject_id=grant.pk,
        assessed_on=today,
        result="pass",
        findings="调用方在政务外网,身份证号以 HMAC 交付。",
        answers=[(q.key, "yes", "") for q in subject.checklist],
        valid_until=today.replace(year=today.year + 1),
        acting_user=User.objects.get(username="demo_security_admin"),
    )

    # The police staff collects the key, shown once, and uses it.
    login(page, "demo_staff_police", password)
    page.goto(base + "/")
    page.locator(f"a[href='/sharing/grants/{grant.pk}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    page.locator(f"a[href='/sharing/grants/{grant.pk}/key/']").click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    key = page.locator("[data-testid=api-key]").input_value()
    assert re.fullmatch(r"pdr_[0-9a-f]{12}_[A-Za-z0-9_-]+", key)
    page.screenshot(path=f"{shots}/09-key-once.png", full_page=True)
    page.goto(base + f"/sharing/grants/{grant.pk}/")
    assert key not in page.content()
    page.screenshot(path=f"{shots}/10-grant-holder.png", full_page=True)

    response = page.request.get(
        base + f"/api/v1/supply/{resource.pk}/rows/?limit=5",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status == 200, response.text()
    body = response.json()
    granted = [c for c in ASKED if c != NOT_GRANTED]
    assert body["fields"] == granted
    assert body["forms"] == {c: FORMS[c] for c in granted}
    assert body["rows"]
    for row in body["rows"]:
        assert set(row) == set(granted)
        assert re.fullmatch(r"[0-9a-f]{64}", row["gmsfhm"])
        assert "*" in row["xm"]
    page.goto(base + "/sharing/grants/")
    page.screenshot(path=f"{shots}/11-grants.png", full_page=True)
    # The call is counted in the grant's usage.
    assert grant.usage.get().calls == 1
