"""The registration procedure of issue #16 in a real browser: demo_agency_staff applies to
register a published resource of 武汉市民政局, resting on an evidence deposit the test prepares
(the evidence service makes it in the portal); demo_registrar finds it in the work queue,
accepts it and passes the formal review, which starts the public notice; the notice period
passes (its dates moved back, as time would); demo_registrar assigns the code; the
certificate page, open to anyone, shows the code and a QR code to the verification page."""

from __future__ import annotations

import datetime as dt
import os
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Resource
from registration.applications.models import Registration
from tests.registration.applications.conftest import PDF, make_deposit
from wuhan_pdr.accounts.models import User

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

RESOURCE = "殡葬服务机构信息"


def test_registration_from_application_to_certificate(page, seeded, shot, tmp_path):
    password = seeded
    call_command("seed_demo", only=["catalog"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    resource = Resource.objects.get(provider__name="武汉市民政局", published_version__name=RESOURCE)
    staff = User.objects.get(username="demo_agency_staff")
    deposit = make_deposit(holder=staff.organization, resource=resource, by=staff)
    base = page.base_url

    # The agency's staff applies, attaches the application form and submits.
    login(page, "demo_agency_staff", password)
    page.goto(base + "/registration/applications/")
    shot(page, "01-applications-empty")
    page.locator("a[href='/registration/applications/new/']").first.click()
    page.select_option("#id_kind", "resource")
    page.select_option("#id_resource", str(resource.pk))
    page.select_option("#id_deposit", str(deposit.pk))
    page.fill("#id_description", "全市殡仪馆、公墓等殡葬服务机构的名称、地址和服务项目,按年更新。")
    page.fill("#id_source_note", "来源于殡葬管理服务信息系统,经平台归集。")
    page.fill("#id_contact_name", "李明")
    page.fill("#id_contact_phone", "027-85000000")
    shot(page, "02-apply")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    registration = Registration.objects.get(resource=resource)
    assert page.url.endswith(f"/registration/applications/{registration.pk}/")
    pdf = tmp_path / "登记申请表.pdf"
    pdf.write_bytes(PDF)
    page.fill("#id_title", "登记申请表")
    page.set_input_files("#id_file", str(pdf))
    page.locator("#materials [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("button[name=transition][value=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    registration.refresh_from_db()
    assert registration.state == Registration.State.SUBMITTED
    shot(page, "03-submitted")
    logout(page)

    # The registration body finds it in its work queue, accepts it and reviews it.
    login(page, "demo_registrar", password)
    page.goto(base + "/")
    shot(page, "04-registrar-home")
    page.locator(f"a[href='/registration/applications/{registration.pk}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("button[name=transition][value=accept]").click()
    page.wait_for_load_state("domcontentloaded")
    page.locator("button[name=transition][value=review_pass]").click()
    page.wait_for_load_state("domcontentloaded")
    registration.refresh_from_db()
    assert registration.state == Registration.State.NOTICE
    shot(page, "05-in-notice")

    # Too early: the code waits for the end of the notice.
    page.locator("button[name=transition][value=assign_code]").click()
    page.wait_for_load_state("domcontentloaded")
    assert page.locator(".form-errors").count() == 1
    registration.refresh_from_db()
    assert registration.code is None

    # Anyone sees the notice in the public register.
    public = page.context.browser.new_page(locale="zh-CN")
    public.goto(base + f"/registration/r/{registration.public_id}/")
    assert public.locator("#objection form").count() == 1
    shot(public, "05b-public-notice")
    public.close()

    # The notice period passes.
    Registration.objects.filter(pk=registration.pk).update(
        notice_starts_at=timezone.now() - dt.timedelta(days=20),
        notice_ends_at=timezone.now() - dt.timedelta(minutes=1),
    )
    page.goto(base + f"/registration/applications/{registration.pk}/")
    page.locator("button[name=transition][value=assign_code]").click()
    page.wait_for_load_state("domcontentloaded")
    registration.refresh_from_db()
    assert registration.state == Registration.State.REGISTERED
    year = registration.registered_at.astimezone(dt.timezone(dt.timedelta(hours=8))).year
    assert re.fullmatch(rf"WHDJ-{year}-\d{{6}}", registration.code)
    shot(page, "06-registered")
    logout(page)

    # The certificate, for anyone: the code and a QR code to the verification page.
    page.goto(base + "/registration/")
    assert page.locator(f"text={registration.code}").count() >= 1
    shot(page, "07-public-register")
    page.goto(base + f"/registration/certificate/{registration.code}/")
    assert page.locator(".certificate-code").inner_text() == registration.code
    assert page.locator("svg.qr-code").count() == 1
    href = page.locator("a.verify-link").get_attribute("href")
    assert href.endswith(f"/registration/evidence/verify/?code={registration.code}")
    shot(page, "08-certificate")
    page.emulate_media(media="print")
    shot(page, "09-certificate-print")
    page.emulate_media(media="screen")
    page.set_viewport_size({"width": 360, "height": 800})
    shot(page, "10-certificate-360")
