"""Signing in: the login form, lockout after five failures, session lifetime, the password
policy on every form that sets a password, and deactivated accounts."""

import datetime as dt

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from wuhan_pdr.accounts.models import User

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
GOOD_NEW_PASSWORD = "Yellow-Crane-Tower-88"
WEAK_PASSWORDS = {
    "too short": ("Ab3-xy9!", "password_too_short"),
    "common": ("password123", "password_too_common"),
    "all digits": ("4829301756", "password_entirely_numeric"),
}


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


def post_login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def policy_messages(password, response) -> list[str]:
    """What the password validators say about `password`, in the language of `response`."""
    with translation.override(response.wsgi_request.LANGUAGE_CODE):
        try:
            validate_password(password)
        except ValidationError as exc:
            return exc.messages
    return []


@pytest.fixture
def user(agency_a):
    return UserFactory(username="zhangwei", organization=agency_a)


def test_login_page_asks_for_user_name_and_password(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert {"username", "password"} <= set(response.context["form"].fields)


def test_right_password_signs_in(client, user):
    response = post_login(client, "zhangwei", DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert signed_in_user_id(client) == str(user.pk)


def test_login_follows_a_safe_next_url_only(client, user):
    response = client.post(
        LOGIN, {"username": "zhangwei", "password": DEFAULT_PASSWORD, "next": "/notifications/"}
    )
    assert response["Location"] == "/notifications/"

    other = Client()
    response = other.post(
        LOGIN,
        {"username": "zhangwei", "password": DEFAULT_PASSWORD, "next": "https://evil.example/"},
    )
    assert response["Location"] == "/"


def test_wrong_password_is_refused(client, user):
    response = post_login(client, "zhangwei", "not-the-password")
    assert response.status_code == 200
    assert response.context["form"].errors
    assert signed_in_user_id(client) is None


def test_five_failures_lock_the_account_even_for_the_right_password(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "zhangwei", "not-the-password")

    response = post_login(client, "zhangwei", DEFAULT_PASSWORD)

    assert response.status_code == 429
    assert signed_in_user_id(client) is None
    # Another browser (new cookies, same address) is locked out as well.
    fresh = Client()
    assert post_login(fresh, "zhangwei", DEFAULT_PASSWORD).status_code == 429
    assert signed_in_user_id(fresh) is None


def test_lockout_is_per_account(client, user, agency_a):
    UserFactory(username="lisi", organization=agency_a)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        post_login(client, "zhangwei", "not-the-password")

    assert post_login(client, "lisi", DEFAULT_PASSWORD).status_code == 302


def test_four_failures_do_not_lock_and_success_resets_the_count(client, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "zhangwei", "not-the-password")
    assert post_login(client, "zhangwei", DEFAULT_PASSWORD).status_code == 302

    client.post("/accounts/logout/")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        post_login(client, "zhangwei", "not-the-password")
    assert post_login(client, "zhangwei", DEFAULT_PASSWORD).status_code == 302


def test_lockout_settings():
    assert settings.AXES_FAILURE_LIMIT == 5
    assert dt.timedelta(minutes=30) == settings.AXES_COOLOFF_TIME


def test_deactivated_user_cannot_sign_in(client, agency_a):
    UserFactory(username="gone", organization=agency_a, is_active=False)
    response = post_login(client, "gone", DEFAULT_PASSWORD)
    assert response.status_code == 200
    assert signed_in_user_id(client) is None


def test_logout_ends_the_session(client, user):
    post_login(client, "zhangwei", DEFAULT_PASSWORD)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert signed_in_user_id(client) is None


# --- sessions ---------------------------------------------------------------------------------


def test_sessions_last_thirty_idle_minutes():
    assert settings.SESSION_COOKIE_AGE == 1800
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_every_request_pushes_the_session_expiry_forward(client, user):
    post_login(client, "zhangwei", DEFAULT_PASSWORD)
    key = client.session.session_key
    Session.objects.filter(session_key=key).update(
        expire_date=timezone.now() + dt.timedelta(minutes=2)
    )

    assert client.get("/api/v1/me/").status_code == 200

    left = Session.objects.get(session_key=key).expire_date - timezone.now()
    assert dt.timedelta(minutes=29) < left <= dt.timedelta(minutes=30)


def test_expired_session_is_signed_out(client, user):
    post_login(client, "zhangwei", DEFAULT_PASSWORD)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )

    response = client.get("/notifications/")

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# --- password policy --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", WEAK_PASSWORDS)
def test_password_change_form_refuses_weak_passwords(client, user, kind):
    weak, code = WEAK_PASSWORDS[kind]
    client.force_login(user)

    response = client.post(
        "/accounts/password/",
        {"old_password": DEFAULT_PASSWORD, "new_password1": weak, "new_password2": weak},
    )

    assert response.status_code == 200
    form = response.context["form"]
    codes = {e.code for errors in form.errors.as_data().values() for e in errors}
    assert code in codes
    shown = " ".join(m for errors in form.errors.values() for m in errors)
    for message in policy_messages(weak, response):
        assert message in shown
    user.refresh_from_db()
    assert user.check_password(DEFAULT_PASSWORD)


def test_password_change_form_accepts_a_strong_password_and_keeps_the_session(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": GOOD_NEW_PASSWORD,
            "new_password2": GOOD_NEW_PASSWORD,
        },
    )

    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password(GOOD_NEW_PASSWORD)
    assert signed_in_user_id(client) == str(user.pk)


def test_password_change_needs_the_old_password(client, user):
    client.force_login(user)
    response = client.post(
        "/accounts/password/",
        {
            "old_password": "wrong",
            "new_password1": GOOD_NEW_PASSWORD,
            "new_password2": GOOD_NEW_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors


@pytest.mark.parametrize("kind", WEAK_PASSWORDS)
def test_create_user_form_refuses_weak_passwords(system_admin, agency_a, login, kind):
    weak, _code = WEAK_PASSWORDS[kind]
    response = login(system_admin).post(
        "/manage/users/new/",
        {
            "username": "newcomer",
            "full_name": "新人",
            "organization": agency_a.pk,
            "roles": ["agency_staff"],
            "email": "",
            "phone": "",
            "password1": weak,
            "password2": weak,
        },
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    shown = " ".join(errors.get("password1", []))
    expected = policy_messages(weak, response)
    assert expected
    for message in expected:
        assert message in shown
    assert not User.objects.filter(username="newcomer").exists()


def test_create_user_form_refuses_a_password_like_the_user_name(system_admin, agency_a, login):
    response = login(system_admin).post(
        "/manage/users/new/",
        {
            "username": "wuchangyu",
            "full_name": "吴昌宇",
            "organization": agency_a.pk,
            "roles": ["agency_staff"],
            "email": "wuchangyu@example.gov.cn",
            "phone": "",
            "password1": "wuchangyu1",
            "password2": "wuchangyu1",
        },
    )
    assert response.status_code == 200
    assert "password1" in response.context["form"].errors
    assert not User.objects.filter(username="wuchangyu").exists()


def test_create_user_form_refuses_two_different_passwords(system_admin, agency_a, login):
    response = login(system_admin).post(
        "/manage/users/new/",
        {
            "username": "newcomer",
            "full_name": "新人",
            "organization": agency_a.pk,
            "roles": ["agency_staff"],
            "password1": GOOD_NEW_PASSWORD,
            "password2": GOOD_NEW_PASSWORD + "x",
        },
    )
    assert response.status_code == 200
    assert "password2" in response.context["form"].errors
    assert not User.objects.filter(username="newcomer").exists()


@pytest.mark.parametrize("kind", WEAK_PASSWORDS)
def test_django_admin_add_user_form_refuses_weak_passwords(system_admin, kind, login):
    weak, code = WEAK_PASSWORDS[kind]
    system_admin.is_staff = True
    system_admin.save(update_fields=["is_staff"])

    response = login(system_admin).post(
        "/admin/accounts/user/add/",
        {"username": "via_admin", "usable_password": "true", "password1": weak, "password2": weak},
    )

    assert response.status_code == 200
    form = response.context["adminform"].form
    codes = {e.code for errors in form.errors.as_data().values() for e in errors}
    assert code in codes
    assert not User.objects.filter(username="via_admin").exists()
