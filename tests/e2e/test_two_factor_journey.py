"""A city reviewer enrolls in two-factor login, logs out, and logs in again with a TOTP code
computed here from the key the enrollment page shows (as an authenticator app would)."""

from __future__ import annotations

import re
from base64 import b32decode
from pathlib import Path

import pytest
from django_otp.oath import TOTP
from playwright.sync_api import expect

from wuhan_pdr.accounts.models import User

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots" / "two_factor_journey"


def snap(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def totp_code(secret_b32: str, steps_ahead: int = 0) -> str:
    key = b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    totp = TOTP(key)
    totp.drift = steps_ahead
    return f"{totp.token():06d}"


def test_city_reviewer_enrolls_and_logs_in_with_a_totp_code(page, seeded, settings, shot):
    settings.SECURITY_2FA_REQUIRED = True
    password = seeded

    # The password alone leads to enrollment, and nowhere else.
    login(page, "demo_city_reviewer", password)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
    expect(page.locator("main h1")).to_contain_text("设置双因素登录")
    expect(page.locator("main svg.qr-code")).to_be_visible()
    snap(page, "01-enrollment")
    page.goto(page.base_url + "/catalog/")
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))

    # The key is shown as text too, for manual entry; the test is the authenticator app.
    secret = page.locator("#totp-secret").inner_text().replace(" ", "").strip()
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), secret
    page.fill("#id_code", totp_code(secret))
    page.locator("main form [type=submit]").first.click()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    snap(page, "02-recovery-codes")
    page.get_by_role("link", name="我已保存恢复码，继续").click()
    # Back to the page that was asked for before enrollment.
    expect(page).to_have_url(page.base_url + "/catalog/")
    page.goto(page.base_url + "/")
    expect(page.locator("main")).to_contain_text("市数据主管部门审核员")
    assert (
        User.objects.get(username="demo_city_reviewer")
        .totpdevice_set.filter(confirmed=True)
        .exists()
    )
    logout(page)

    # Next login: password, then the code of the app (the next time step: the code used to
    # enroll cannot be used again).
    login(page, "demo_city_reviewer", password)
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/verify/"))
    snap(page, "03-verify")
    page.fill("#id_code", totp_code(secret, steps_ahead=1))
    page.locator("main form [type=submit]").first.click()
    expect(page).to_have_url(page.base_url + "/")
    expect(page.locator("main")).to_contain_text("市数据主管部门审核员")
    snap(page, "04-home-after-two-factor")
    shot(page, "home-after-two-factor")
    logout(page)

    # The auditor finds that login in the audit log: the password step and the TOTP code.
    # (The auditor's own second factor is not what this journey is about: it signs in with
    # the password alone, as the demo does.)
    settings.SECURITY_2FA_REQUIRED = False
    login(page, "demo_auditor", password)
    page.goto(page.base_url + "/security/audit/")
    expect(page.locator("main h1")).to_have_text("审计日志")
    page.fill("input[name=actor]", "demo_city_reviewer")
    page.fill("input[name=action]", "auth.")
    page.locator("form[role=search] [type=submit]").click()
    rows = page.locator("table.audit-table tbody tr")
    # Newest first: the second login's code, its password step, the enrollment's steps.
    expect(rows.filter(has_text="auth.2fa.verified")).to_have_count(1)
    expect(rows.filter(has_text="auth.2fa.enrolled")).to_have_count(1)
    expect(rows.filter(has_text="auth.login")).to_have_count(2)
    verified = rows.filter(has_text="auth.2fa.verified").first
    expect(verified).to_contain_text("demo_city_reviewer")
    expect(verified).to_contain_text("成功")
    snap(page, "05-auditor-finds-the-two-factor-login")
    shot(page, "auditor-finds-two-factor-login")
