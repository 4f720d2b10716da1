"""Issue #16 as one flow in a real browser: demo_agency_staff deposits the open distribution of
养老机构信息 (open and loaded) through the evidence pages - the evidence job makes it, run here
synchronously as the evidence journey does (it is on the long queue; no worker in e2e) - and
applies to register the open data resting on that deposit; demo_registrar accepts it and passes
the formal review; the notice period passes (its dates moved back, as time would); the code is
assigned; an anonymous visitor opens the certificate, downloads the deposited file from it,
drops it on the verification page and sees that it matches; the file with one byte changed
does not."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import expect

from catalog.models import Resource
from registration.applications.models import Registration
from registration.evidence.models import Deposit
from registration.evidence.services import deposit_make
from tests.registration.applications.conftest import PDF
from wuhan_pdr.kernel.ledger.tree import integrate

from .conftest import login, logout
from .test_evidence_journey import drop_and_check

pytestmark = [pytest.mark.e2e]

RESOURCE = "养老机构信息"


def click_and_load(page, selector: str) -> None:
    page.locator(selector).first.click()
    page.wait_for_load_state("domcontentloaded")


def test_deposit_register_certify_and_verify(page, browser, seeded, shot, settings, tmp_path):
    password = seeded
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", only=["opendata"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    resource = Resource.objects.get(provider__name="武汉市民政局", published_version__name=RESOURCE)
    assert not Deposit.objects.exists()
    base = page.base_url

    # 1. The agency's staff deposits the open distribution through the evidence pages.
    login(page, "demo_agency_staff", password)
    page.goto(base + "/registration/evidence/new/")
    page.locator("input[name=kind][value=open_data]").check()
    page.select_option("#id_resource", str(resource.pk))
    shot(page, "01-deposit-form")
    click_and_load(page, "main form button[type=submit]")
    expect(page.locator("main")).to_contain_text("生成中")
    shot(page, "02-deposit-pending")
    pending = Deposit.objects.get(state=Deposit.State.PENDING)
    assert pending.kind == Deposit.Kind.OPEN_DATA and pending.resource_id == resource.pk
    deposit_make(deposit_id=pending.pk)  # the evidence job, in this process
    integrate("evidence")  # the periodic checkpoint
    deposit = Deposit.objects.get(pk=pending.pk)
    assert deposit.state == Deposit.State.DONE
    page.reload()
    expect(page.locator(".deposit-proof .proof-ok")).to_be_visible()
    expect(page.locator("main")).to_contain_text(deposit.data_sha256)
    shot(page, "03-deposit-done")

    # 2. It applies to register the open data, resting on that deposit, and submits.
    page.goto(base + "/registration/applications/new/")
    page.select_option("#id_kind", Registration.Kind.OPEN_DATA)
    page.select_option("#id_resource", str(resource.pk))
    page.select_option("#id_deposit", str(deposit.pk))
    page.fill("#id_description", "全市备案养老机构的名称、地址、床位数和服务对象,无条件开放。")
    page.fill("#id_source_note", "来源于养老服务信息平台,经平台归集、脱敏后开放。")
    page.fill("#id_contact_name", "李明")
    page.fill("#id_contact_phone", "027-85000000")
    shot(page, "04-apply")
    click_and_load(page, "main form [type=submit]")
    registration = Registration.objects.get(resource=resource)
    assert registration.deposit_id == deposit.pk
    assert page.url.endswith(f"/registration/applications/{registration.pk}/")
    pdf = tmp_path / "登记申请表.pdf"
    pdf.write_bytes(PDF)
    page.fill("#id_title", "登记申请表")
    page.set_input_files("#id_file", str(pdf))
    click_and_load(page, "#materials [type=submit]")
    click_and_load(page, "button[name=transition][value=submit]")
    registration.refresh_from_db()
    assert registration.state == Registration.State.SUBMITTED
    shot(page, "05-submitted")
    logout(page)

    # 3. The registration body accepts it and passes the formal review: the notice starts.
    login(page, "demo_registrar", password)
    page.goto(base + f"/registration/applications/{registration.pk}/")
    click_and_load(page, "button[name=transition][value=accept]")
    click_and_load(page, "button[name=transition][value=review_pass]")
    registration.refresh_from_db()
    assert registration.state == Registration.State.NOTICE
    shot(page, "06-in-notice")

    # 4. The notice period passes; the code is assigned.
    Registration.objects.filter(pk=registration.pk).update(
        notice_starts_at=timezone.now() - dt.timedelta(days=20),
        notice_ends_at=timezone.now() - dt.timedelta(minutes=1),
    )
    page.reload()
    click_and_load(page, "button[name=transition][value=assign_code]")
    registration.refresh_from_db()
    assert registration.state == Registration.State.REGISTERED and registration.code
    shot(page, "07-registered")
    logout(page)

    # 5. Anyone: the certificate offers the deposited file, which matches on the verify page.
    visitor = browser.new_context(locale="zh-CN", accept_downloads=True)
    anon = visitor.new_page()
    anon.goto(base + f"/registration/certificate/{registration.code}/")
    expect(anon.locator(".certificate-code")).to_have_text(registration.code)
    expect(anon.locator(".deposit-proof")).to_contain_text(deposit.data_sha256)
    shot(anon, "08-certificate")
    with anon.expect_download() as info:
        anon.locator("a.deposit-data-download").first.click()
    original = tmp_path / info.value.suggested_filename
    info.value.save_as(str(original))
    data = original.read_bytes()
    assert hashlib.sha256(data).hexdigest() == deposit.data_sha256
    anon.goto(base + f"/registration/evidence/verify/?code={registration.code}")
    shot(anon, "09-verify")
    drop_and_check(anon, original, expect_match=True)
    expect(anon.locator(".verify-match")).to_contain_text(str(deposit.public_id))
    shot(anon, "10-match")

    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    altered = tmp_path / "changed.csv"
    altered.write_bytes(bytes(changed))
    anon.goto(base + f"/registration/evidence/verify/?code={registration.code}")
    drop_and_check(anon, altered, expect_match=False)
    shot(anon, "11-no-match")
    visitor.close()
