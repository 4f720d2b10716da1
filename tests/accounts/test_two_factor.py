"""Two-factor login (TOTP, django-otp): enrollment with a QR code and recovery codes, the
verification step after the password, the gate for roles that require it, the security
administrator's reset, and API tokens of privileged roles."""

from __future__ import annotations

import re
from binascii import unhexlify
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.signals import TWO_FACTOR_EVENTS, two_factor_event
from wuhan_pdr.accounts.two_factor import PENDING_KEY_SESSION_KEY, key_base32

pytestmark = pytest.mark.django_db

SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"
MANAGE = "/manage/two-factor/"


def code_for(hex_key: str, offset_steps: int = 0) -> str:
    totp = TOTP(unhexlify(hex_key))
    totp.drift = offset_steps
    return f"{totp.token():06d}"


@pytest.fixture
def events():
    """The two-factor events sent during the test, as (event, user, actor)."""
    seen = []

    def receiver(sender, user, request, event, actor, **kwargs):
        seen.append((event, user.username, actor.username if actor else None))

    two_factor_event.connect(receiver, dispatch_uid="test-two-factor-events")
    yield seen
    two_factor_event.disconnect(dispatch_uid="test-two-factor-events")


@pytest.fixture
def reviewer(bureau):
    return UserFactory(username="reviewer1", organization=bureau, roles=[Role.CITY_REVIEWER])


@pytest.fixture
def security_admin(bureau):
    return UserFactory(username="secadmin", organization=bureau, roles=[Role.SECURITY_ADMIN])


@pytest.fixture
def required(settings):
    settings.SECURITY_2FA_REQUIRED = True
    return settings


def password_login(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    return client


def enroll(client) -> tuple[str, list[str]]:
    """Go through the enrollment page; returns the secret key (hex) and the recovery codes."""
    page = client.get(SETUP)
    assert page.status_code == 200
    key = client.session[PENDING_KEY_SESSION_KEY]
    response = client.post(SETUP, {"code": code_for(key)})
    assert response.status_code == 200, response.content[:500]
    codes = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    return key, codes


# --- enrollment ---------------------------------------------------------------------------


def test_setup_page_shows_a_qr_code_as_inline_svg_and_the_key_as_text(reviewer, login):
    client = login(reviewer)
    response = client.get(SETUP)
    html = response.content.decode()
    key = client.session[PENDING_KEY_SESSION_KEY]
    svg = re.search(r"<svg\b.*?</svg>", html, re.S).group(0)
    assert "<path" in svg
    assert "style" not in svg and "<script" not in svg
    shown = re.search(r'id="totp-secret"[^>]*>([^<]+)<', html).group(1)
    assert shown.replace(" ", "") == key_base32(key)
    # The same key on a reload: the QR code the user scanned stays valid.
    client.get(SETUP)
    assert client.session[PENDING_KEY_SESSION_KEY] == key
    assert not TOTPDevice.objects.filter(user=reviewer).exists()  # a GET writes nothing


def test_enrollment_confirms_the_device_and_shows_recovery_codes_once(reviewer, login, events):
    client = login(reviewer)
    key, codes = enroll(client)
    device = TOTPDevice.objects.get(user=reviewer)
    assert device.confirmed and device.key == key
    assert len(codes) == 10
    assert set(
        StaticToken.objects.filter(device__user=reviewer).values_list("token", flat=True)
    ) == set(codes)
    assert events == [("enrolled", "reviewer1", "reviewer1")]
    assert client.get("/").status_code == 200
    # Shown once: no page shows the codes again.
    assert codes[0] not in client.get("/accounts/two-factor/").content.decode()


def test_a_wrong_code_does_not_enroll(reviewer, login, events):
    client = login(reviewer)
    client.get(SETUP)
    key = client.session[PENDING_KEY_SESSION_KEY]
    wrong = code_for(key, offset_steps=5)
    response = client.post(SETUP, {"code": wrong})
    assert response.status_code == 200
    assert response.context["form"].errors["code"]
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert events == [("failed", "reviewer1", "reviewer1")]


def test_setup_forms_survive_naughty_strings(reviewer, login, naughty):
    client = login(reviewer)
    for s in naughty:
        response = client.post(SETUP, {"code": s})
        assert response.status_code == 200, repr(s)
    assert not TOTPDevice.objects.filter(user=reviewer).exists()


# --- login with the second factor ---------------------------------------------------------


def test_a_user_with_a_device_must_verify_after_the_password(reviewer, login, events, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # the wrong code below would make the next one wait
    key, _codes = enroll(login(reviewer))
    client = password_login("reviewer1")
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert "next=%2Fnotifications%2F" in response["Location"]
    assert client.get("/accounts/profile/").status_code == 302
    assert client.get("/api/v1/me/").status_code == 403

    response = client.post(VERIFY, {"code": "000000", "next": "/notifications/"})
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(VERIFY, {"code": code_for(key, 1), "next": "/notifications/"})
    assert response.status_code == 302 and response["Location"] == "/notifications/"
    assert client.get("/accounts/profile/").status_code == 200
    assert [e[0] for e in events] == ["enrolled", "failed", "verified"]


def test_a_code_is_not_accepted_twice(reviewer, login):
    key, _codes = enroll(login(reviewer))
    code = code_for(key, 1)
    first = password_login("reviewer1")
    assert first.post(VERIFY, {"code": code}).status_code == 302
    second = password_login("reviewer1")
    response = second.post(VERIFY, {"code": code})
    assert response.status_code == 200 and response.context["form"].errors


def test_a_recovery_code_works_once(reviewer, login, events):
    _key, codes = enroll(login(reviewer))
    client = password_login("reviewer1")
    assert client.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert client.get("/").status_code == 200
    assert events[-1] == ("recovery_used", "reviewer1", "reviewer1")
    again = password_login("reviewer1")
    response = again.post(VERIFY, {"code": codes[0]})
    assert response.status_code == 200 and response.context["form"].errors
    assert StaticToken.objects.filter(device__user=reviewer).count() == 9


def test_the_password_alone_cannot_replace_the_device(reviewer, login):
    enroll(login(reviewer))
    client = password_login("reviewer1")
    response = client.get(SETUP)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert client.post(SETUP, {"code": "123456"}).status_code == 302
    assert TOTPDevice.objects.filter(user=reviewer).count() == 1


def test_verify_form_survives_naughty_strings(reviewer, login, naughty, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0
    enroll(login(reviewer))
    client = password_login("reviewer1")
    for s in naughty:
        response = client.post(VERIFY, {"code": s})
        assert response.status_code == 200, repr(s)
    assert client.get("/").status_code == 302


# --- the requirement ----------------------------------------------------------------------


def test_a_required_role_without_a_device_is_led_to_enrollment_and_nowhere_else(required, reviewer):
    client = password_login("reviewer1")
    for url in ("/", "/notifications/", "/accounts/profile/", "/catalog/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(SETUP), url
    assert client.post("/accounts/profile/token/").status_code == 302
    assert not Token.objects.filter(user=reviewer).exists()
    enroll(client)
    assert client.get("/").status_code == 200


def test_roles_that_do_not_require_it_log_in_with_the_password(required, staff_a):
    client = password_login(staff_a.username)
    assert client.get("/").status_code == 200


def test_without_the_setting_privileged_roles_log_in_with_the_password(reviewer):
    client = password_login("reviewer1")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "role",
    [
        Role.CITY_REVIEWER,
        Role.DISTRICT_REVIEWER,
        Role.SECURITY_ADMIN,
        Role.AUDITOR,
        Role.SYSTEM_ADMIN,
    ],
)
def test_every_privileged_role_requires_it(required, bureau, role):
    user = UserFactory(organization=bureau, roles=[role])
    client = password_login(user.username)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith(SETUP)


def test_a_user_may_turn_it_off_only_where_not_required(reviewer, login, events, settings):
    client = login(reviewer)
    enroll(client)
    settings.SECURITY_2FA_REQUIRED = True
    client.post("/accounts/two-factor/disable/")
    assert TOTPDevice.objects.filter(user=reviewer).exists()
    settings.SECURITY_2FA_REQUIRED = False
    response = client.post("/accounts/two-factor/disable/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert events[-1] == ("disabled", "reviewer1", "reviewer1")


def test_new_recovery_codes_replace_the_old_ones(reviewer, login):
    client = login(reviewer)
    _key, old = enroll(client)
    response = client.post("/accounts/two-factor/recovery-codes/")
    new = re.findall(r"<li>([a-z2-7]{8})</li>", response.content.decode())
    assert len(new) == 10 and not set(new) & set(old)
    assert set(
        StaticToken.objects.filter(device__user=reviewer).values_list("token", flat=True)
    ) == set(new)


# --- reset by the security administrator --------------------------------------------------


def test_security_admin_resets_a_lost_device_after_confirming(
    reviewer, security_admin, login, events
):
    enroll(login(reviewer))
    Token.objects.create(user=reviewer)
    admin = login(security_admin)
    listing = admin.get(MANAGE, {"q": "reviewer1"})
    assert listing.status_code == 200
    assert f"/manage/two-factor/{reviewer.pk}/reset/" in listing.content.decode()
    confirm = admin.get(f"/manage/two-factor/{reviewer.pk}/reset/")
    assert confirm.status_code == 200
    assert TOTPDevice.objects.filter(user=reviewer).exists()  # nothing happens on GET

    response = admin.post(f"/manage/two-factor/{reviewer.pk}/reset/")
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=reviewer).exists()
    assert not StaticToken.objects.filter(device__user=reviewer).exists()
    assert not Token.objects.filter(user=reviewer).exists()
    assert events[-1] == ("reset", "reviewer1", "secadmin")


def test_only_the_security_admin_resets(reviewer, system_admin, login):
    enroll(login(reviewer))
    client = login(system_admin)
    assert client.get(MANAGE).status_code == 404
    assert client.post(f"/manage/two-factor/{reviewer.pk}/reset/").status_code == 404
    assert TOTPDevice.objects.filter(user=reviewer).exists()


def test_the_security_admin_cannot_reset_their_own(security_admin, login):
    client = login(security_admin)
    enroll(client)
    client.post(f"/manage/two-factor/{security_admin.pk}/reset/")
    assert TOTPDevice.objects.filter(user=security_admin).exists()


def test_reset_of_a_missing_user_is_404(security_admin, login):
    assert login(security_admin).get("/manage/two-factor/999999/reset/").status_code == 404


def test_reset_list_survives_naughty_strings(security_admin, login, naughty):
    client = login(security_admin)
    for s in naughty:
        response = client.get(MANAGE, {"q": s})
        assert response.status_code == 200, repr(s)


def test_reset_list_query_count_does_not_grow_with_rows(security_admin, login, bureau):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(security_admin)
    client.get(MANAGE)
    with CaptureQueriesContext(connection) as few:
        assert client.get(MANAGE).status_code == 200
    UserFactory.create_batch(15, organization=bureau)
    with CaptureQueriesContext(connection) as many:
        assert client.get(MANAGE).status_code == 200
    assert len(many) == len(few)


# --- API tokens ---------------------------------------------------------------------------


def test_privileged_token_only_after_a_two_factor_login(required, reviewer):
    client = password_login("reviewer1")
    key, _codes = enroll(client)  # enrolling verifies this session
    client.post("/accounts/profile/token/", {"action": "regenerate"})
    assert Token.objects.filter(user=reviewer).exists()

    Token.objects.filter(user=reviewer).delete()
    unverified = password_login("reviewer1")
    assert unverified.post("/accounts/profile/token/", {"action": "regenerate"}).status_code == 302
    assert not Token.objects.filter(user=reviewer).exists()


def test_privileged_tokens_expire(reviewer, settings):
    settings.API_TOKEN_TTL_HOURS_PRIVILEGED = 12
    token = Token.objects.create(user=reviewer)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").status_code == 200
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(hours=13))
    response = api.get("/api/v1/me/")
    assert response.status_code == 401


def test_other_tokens_do_not_expire(staff_a):
    token = Token.objects.create(user=staff_a)
    Token.objects.filter(pk=token.pk).update(created=timezone.now() - timedelta(days=400))
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").status_code == 200


def test_the_signal_names_every_event():
    assert set(TWO_FACTOR_EVENTS) == {
        "enrolled",
        "verified",
        "failed",
        "recovery_used",
        "reset",
        "disabled",
    }


def test_two_factor_pages_keep_the_strict_content_security_policy(reviewer, security_admin, login):
    from tests.test_csp import assert_strict

    client = login(reviewer)
    pages = [client.get(SETUP), client.get("/accounts/two-factor/")]
    _key, _codes = enroll(client)
    pages.append(client.get("/accounts/two-factor/"))
    pages.append(password_login("reviewer1").get(VERIFY))
    pages.append(login(security_admin).get(MANAGE))
    for response in pages:
        assert response.status_code == 200
        assert_strict(response)
        html = response.content.decode()
        assert "style=" not in html and "<style" not in html
        assert not re.search(r"<script(?![^>]*\bsrc=)", html)
        assert not re.search(r"\son[a-z]+=", html)
