"""An anonymous visitor downloads the deposited open distribution from a deposit's proof,
drops it on the verification page and sees that it matches; the same file with one byte
changed does not (issue #16, items 3-5). The file is hashed in the browser: by Web Crypto on
this secure (localhost) page, and by the vendored SHA-256 where Web Crypto is unavailable."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from registration.evidence.models import Deposit

pytestmark = [pytest.mark.e2e]

NO_WEB_CRYPTO = "Object.defineProperty(window, 'isSecureContext', {get: () => false});"


def drop_and_check(page, path, *, expect_match: bool) -> None:
    page.set_input_files("#verify-local-file", str(path))
    page.wait_for_url("**digest=*")
    page.wait_for_load_state("domcontentloaded")
    if expect_match:
        expect(page.locator(".verify-match")).to_be_visible()
        expect(page.locator(".verify-match .proof-ok").first).to_be_visible()
    else:
        expect(page.locator(".verify-no-match")).to_be_visible()
        expect(page.locator(".verify-match")).to_have_count(0)


def test_anonymous_visitor_verifies_the_deposited_open_distribution(
    page, browser, live_server, seeded, shot, settings, tmp_path
):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", only=["opendata", "evidence"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    deposit = Deposit.objects.get(kind=Deposit.Kind.OPEN_DATA, state=Deposit.State.DONE)
    assert deposit.proof()["state"] == "included"

    page.goto(page.base_url + "/registration/evidence/verify/")
    shot(page, "01-verify")
    page.goto(f"{page.base_url}/registration/evidence/verify/?deposit={deposit.public_id}")
    expect(page.locator(".deposit-proof")).to_contain_text(deposit.data_sha256)
    expect(page.locator(".deposit-proof .proof-ok")).to_be_visible()
    shot(page, "02-deposit-proof")
    with page.expect_download() as info:
        page.locator("a.deposit-data-download").first.click()
    original = tmp_path / info.value.suggested_filename
    info.value.save_as(str(original))
    data = original.read_bytes()
    assert hashlib.sha256(data).hexdigest() == deposit.data_sha256

    drop_and_check(page, original, expect_match=True)
    shot(page, "03-match")
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x01
    altered = tmp_path / "changed.csv"
    altered.write_bytes(bytes(changed))
    page.goto(f"{page.base_url}/registration/evidence/verify/?deposit={deposit.public_id}")
    drop_and_check(page, altered, expect_match=False)
    shot(page, "04-no-match")

    # Where Web Crypto is unavailable (plain HTTP on an intranet), the vendored SHA-256.
    context = browser.new_context(viewport={"width": 360, "height": 800}, locale="zh-CN")
    context.add_init_script(NO_WEB_CRYPTO)
    narrow = context.new_page()
    narrow.goto(live_server.url + "/registration/evidence/verify/")
    assert narrow.evaluate("window.isSecureContext") is False
    drop_and_check(narrow, original, expect_match=True)
    shot(narrow, "05-match-vendored-360px")
    narrow.goto(live_server.url + "/registration/evidence/verify/")
    drop_and_check(narrow, altered, expect_match=False)
    context.close()


def test_the_holder_sees_its_deposits_and_makes_one(page, seeded, shot, settings, tmp_path):
    from tests.e2e.conftest import login

    settings.MEDIA_ROOT = str(tmp_path / "media")
    call_command("seed_demo", only=["opendata", "evidence"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    login(page, "demo_agency_staff", seeded)
    page.goto(page.base_url + "/registration/evidence/")
    expect(page.locator("main table")).to_contain_text("养老机构信息")
    shot(page, "01-list")
    page.goto(page.base_url + "/registration/evidence/new/")
    page.locator("input[name=kind][value=resource_data]").check()
    page.locator("#id_resource").select_option(
        label=page.locator("#id_resource option").nth(1).inner_text()
    )
    shot(page, "02-form")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    expect(page.locator("main")).to_contain_text("生成中")  # on the long queue: no worker here
    shot(page, "03-pending")
    made = Deposit.objects.filter(state=Deposit.State.PENDING).get()
    from registration.evidence.services import deposit_make
    from wuhan_pdr.kernel.ledger.tree import integrate

    deposit_make(deposit_id=made.pk)
    integrate("evidence")
    page.reload()
    expect(page.locator(".deposit-proof .proof-ok")).to_be_visible()
    expect(page.locator("main")).to_contain_text(Deposit.objects.get(pk=made.pk).data_sha256)
    shot(page, "04-done")
