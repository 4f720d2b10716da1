"""Separation of duties: the system administrator, the security administrator and the auditor
are three people. Every way to give roles refuses a second one, and the database refuses it
too; the auditor's data-changing requests are refused on every URL of the portal."""

from __future__ import annotations

import re
import uuid

import pytest
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from rest_framework.authtoken.models import Token

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from wuhan_pdr.accounts import services
from wuhan_pdr.accounts.admin import SeparatedDutiesUserChangeForm
from wuhan_pdr.accounts.duties import SeparationOfDutiesError
from wuhan_pdr.accounts.middleware import AUDITOR_MAY_POST
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role

pytestmark = pytest.mark.django_db

ADMIN_ROLES = [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR]
PAIRS = [(a, b) for i, a in enumerate(ADMIN_ROLES) for b in ADMIN_ROLES[i + 1 :]]


@pytest.fixture
def auditor(bureau):
    return UserFactory(username="auditor1", organization=bureau, roles=[Role.AUDITOR])


@pytest.fixture
def security_admin(bureau):
    return UserFactory(username="secadmin1", organization=bureau, roles=[Role.SECURITY_ADMIN])


def roles_of(user) -> set[str]:
    return set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))


# --- services and forms ---------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_creating_a_user_with_two_administrative_roles_is_refused(
    system_admin, bureau, first, second
):
    with pytest.raises(SeparationOfDutiesError):
        services.user_create(
            acting_user=system_admin,
            organization=bureau,
            username="both",
            password=DEFAULT_PASSWORD,
            roles=[first, second],
            full_name="两个角色",
        )
    assert not User.objects.filter(username="both").exists()


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_giving_a_second_administrative_role_is_refused(system_admin, bureau, first, second):
    user = UserFactory(organization=bureau, roles=[first])
    with pytest.raises(SeparationOfDutiesError):
        services.user_update(user=user, acting_user=system_admin, roles=[first, second])
    assert roles_of(user) == {str(first)}


def test_moving_from_one_administrative_role_to_another_is_allowed(system_admin, auditor):
    services.user_update(user=auditor, acting_user=system_admin, roles=[Role.SECURITY_ADMIN])
    assert roles_of(auditor) == {Role.SECURITY_ADMIN}


def test_user_form_shows_the_refusal_next_to_the_roles(system_admin, bureau, login):
    client = login(system_admin)
    response = client.post(
        "/manage/users/new/",
        {
            "username": "twohats",
            "full_name": "两顶帽子",
            "organization": bureau.pk,
            "roles": [Role.SECURITY_ADMIN, Role.AUDITOR],
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )
    assert response.status_code == 200
    assert response.context["form"].errors["roles"]
    message = str(response.context["form"].errors["roles"])
    assert "审计员" in message and "安全管理员" in message  # names both roles
    assert not User.objects.filter(username="twohats").exists()


def _admin_form_data(user, groups, is_superuser=False):
    return {
        "username": user.username,
        "password": user.password,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on" if is_superuser else "",
        "groups": [g.pk for g in groups],
        "user_permissions": [],
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2025-01-01",
        "date_joined_1": "08:00:00",
        "date_joined": "2025-01-01 08:00:00",
        "full_name": user.full_name,
        "organization": user.organization_id,
        "phone": "",
        "email": user.email,
        "first_name": "",
        "last_name": "",
    }


def test_admin_user_form_refuses_two_administrative_roles(auditor):
    groups = list(Group.objects.filter(name__in=[Role.AUDITOR, Role.SYSTEM_ADMIN]))
    form = SeparatedDutiesUserChangeForm(_admin_form_data(auditor, groups), instance=auditor)
    assert not form.is_valid()
    assert "__all__" in form.errors

    one = list(Group.objects.filter(name__in=[Role.AUDITOR]))
    form = SeparatedDutiesUserChangeForm(_admin_form_data(auditor, one), instance=auditor)
    assert form.is_valid(), form.errors


def test_admin_user_form_refuses_a_superuser_auditor(auditor):
    groups = list(Group.objects.filter(name=Role.AUDITOR))
    form = SeparatedDutiesUserChangeForm(
        _admin_form_data(auditor, groups, is_superuser=True), instance=auditor
    )
    assert not form.is_valid()


def test_admin_change_page_refuses_two_administrative_roles(auditor, bureau, login):
    root = UserFactory(organization=bureau, roles=[Role.SYSTEM_ADMIN], is_staff=True)
    root.is_superuser = True
    root.save()
    client = login(root)
    groups = list(Group.objects.filter(name__in=[Role.AUDITOR, Role.SECURITY_ADMIN]))
    url = f"/admin/accounts/user/{auditor.pk}/change/"
    response = client.post(url, _admin_form_data(auditor, groups))
    assert response.status_code == 200  # the form again, with the error
    assert response.context["adminform"].form.non_field_errors()
    assert roles_of(auditor) == {Role.AUDITOR}
    # The same page saves a change that keeps to one administrative role.
    groups = list(Group.objects.filter(name__in=[Role.SECURITY_ADMIN]))
    response = client.post(url, _admin_form_data(auditor, groups))
    assert response.status_code == 302
    assert roles_of(auditor) == {Role.SECURITY_ADMIN}


# --- the database ---------------------------------------------------------------------------


@pytest.mark.parametrize(("first", "second"), PAIRS)
def test_database_refuses_two_administrative_roles(bureau, first, second):
    user = UserFactory(organization=bureau, roles=[first])
    with pytest.raises(IntegrityError, match="separation of duties"), transaction.atomic():
        user.groups.add(Group.objects.get(name=second))
    assert roles_of(user) == {str(first)}


def test_database_refuses_a_superuser_auditor_either_way(bureau, auditor):
    with pytest.raises(IntegrityError, match="superuser"), transaction.atomic():
        User.objects.filter(pk=auditor.pk).update(is_superuser=True)
    root = UserFactory(organization=bureau)
    User.objects.filter(pk=root.pk).update(is_superuser=True)
    with pytest.raises(IntegrityError, match="separation of duties"), transaction.atomic():
        root.groups.add(Group.objects.get(name=Role.SECURITY_ADMIN))


def test_database_allows_other_roles_beside_an_administrative_one(bureau):
    user = UserFactory(organization=bureau, roles=[Role.AUDITOR])
    user.groups.add(Group.objects.get(name=Role.REQUESTER))
    assert roles_of(user) == {Role.AUDITOR, Role.REQUESTER}


def test_no_account_holds_two_administrative_roles():
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT ug.user_id FROM accounts_user_groups ug JOIN auth_group g
               ON g.id = ug.group_id WHERE g.name IN ('system_admin', 'security_admin', 'auditor')
               GROUP BY ug.user_id HAVING count(*) > 1"""
        )
        assert cursor.fetchall() == []


# --- commands -----------------------------------------------------------------------------


def test_createsuperuser_makes_the_system_administrator(monkeypatch):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", DEFAULT_PASSWORD)
    call_command("createsuperuser", interactive=False, username="root", email="root@example.gov.cn")
    root = User.objects.get(username="root")
    assert root.is_superuser
    assert roles_of(root) == {Role.SYSTEM_ADMIN}
    with pytest.raises(SeparationOfDutiesError):
        services._set_roles(root, [Role.SYSTEM_ADMIN, Role.AUDITOR])
    with pytest.raises(SeparationOfDutiesError):
        services._set_roles(root, [Role.AUDITOR])  # a superuser is the system administrator


def test_create_first_admin_creates_one_and_only_one(monkeypatch, bureau):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", DEFAULT_PASSWORD)
    call_command("create_first_admin", username="first", organization=bureau.pk, no_input=True)
    first = User.objects.get(username="first")
    assert roles_of(first) == {Role.SYSTEM_ADMIN}
    assert first.is_staff and not first.is_superuser
    assert first.check_password(DEFAULT_PASSWORD)
    with pytest.raises(CommandError, match="exists already"):
        call_command("create_first_admin", username="second", no_input=True)
    assert not User.objects.filter(username="second").exists()


def test_create_first_admin_refuses_an_auditor_account(monkeypatch, auditor):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", DEFAULT_PASSWORD)
    with pytest.raises(CommandError):
        call_command("create_first_admin", username=auditor.username, no_input=True)
    assert roles_of(auditor) == {Role.AUDITOR}


def test_create_first_admin_applies_the_password_policy(monkeypatch):
    monkeypatch.setenv("FIRST_ADMIN_PASSWORD", "short")
    with pytest.raises(CommandError):
        call_command("create_first_admin", username="weak", no_input=True)
    assert not User.objects.filter(username="weak").exists()


# --- the auditor changes no data ------------------------------------------------------------

_CONVERTER_SAMPLES = {"int": "1", "uuid": str(uuid.UUID(int=1)), "path": "x/y"}


def _sample_route(pattern) -> str | None:
    if isinstance(pattern, RoutePattern):
        return re.sub(
            r"<(?:(\w+):)?\w+>",
            lambda m: _CONVERTER_SAMPLES.get(m.group(1) or "str", "x"),
            str(pattern),
        )
    if isinstance(pattern, RegexPattern):
        if "(?P<format>" in pattern._regex:
            return None  # DRF's format suffixes: the same views as the plain address
        regex = pattern._regex.lstrip("^").rstrip("$").replace("\\Z", "")
        regex = re.sub(r"\(\?P<\w+>\[\^/\.\]\+\)", "1", regex)
        regex = re.sub(r"\(\?P<\w+>([\w-]+)(\|[^)]*)?\)", r"\1", regex)  # first alternative
        regex = regex.replace("/?", "/")
        if re.search(r"[()\[\]*+?|\\]", regex):
            return None
        return regex
    return None


def every_url() -> list[str]:
    """A concrete path for every URL pattern of the portal (sample values for arguments)."""
    found: list[str] = []

    def walk(patterns, prefix):
        for p in patterns:
            route = _sample_route(p.pattern)
            if route is None:
                continue
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                found.append("/" + prefix + route)

    walk(get_resolver().url_patterns, "")
    resolvable = []
    for url in sorted(set(found)):
        try:
            resolve(url)
        except Resolver404:
            continue
        resolvable.append(url)
    return resolvable


def changes_in_this_transaction() -> int:
    """Rows inserted, updated or deleted so far in this transaction (the session table,
    which every request touches, left out)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) "
            "FROM pg_stat_xact_user_tables WHERE relname <> 'django_session'"
        )
        return int(cursor.fetchone()[0])


def test_every_url_is_walked():
    urls = every_url()
    assert len(urls) > 100
    assert "/manage/users/1/deactivate/" in urls
    assert "/api/v1/organizations/" in urls


@pytest.mark.parametrize("method", ["post", "delete"])
def test_auditor_is_refused_every_data_changing_request(auditor, login, staff_a, method):
    client = login(auditor)
    before = changes_in_this_transaction()
    refused, skipped = [], []
    for url in every_url():
        match = resolve(url)
        if match.view_name in AUDITOR_MAY_POST:
            skipped.append(url)
            continue
        response = getattr(client, method)(url, {"username": "x", "name": "x"})
        assert response.status_code == 403, (url, response.status_code)
        refused.append(url)
    assert changes_in_this_transaction() == before
    assert len(refused) > 100
    assert "/accounts/logout/" in skipped
    # Still signed in (no request got through to logout or anything else).
    assert client.get("/accounts/profile/").status_code == 200


def test_auditor_api_token_is_refused_every_data_changing_request(auditor):
    token = Token.objects.create(user=auditor)
    client = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    before = changes_in_this_transaction()
    api = [u for u in every_url() if u.startswith("/api/")]
    assert api
    for url in api:
        response = client.post(url, {"name": "x"}, content_type="application/json")
        assert response.status_code == 403, url
    assert changes_in_this_transaction() == before
    assert client.get("/api/v1/me/").status_code == 200


def test_auditor_may_log_out_change_its_password_and_set_up_two_factor(auditor, login):
    client = login(auditor)
    assert client.get("/accounts/two-factor/setup/").status_code == 200
    assert client.post("/accounts/two-factor/setup/", {"code": "000000"}).status_code == 200
    response = client.post(
        "/accounts/password/",
        {
            "old_password": DEFAULT_PASSWORD,
            "new_password1": "Audit-Trail-2026",
            "new_password2": "Audit-Trail-2026",
        },
    )
    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.check_password("Audit-Trail-2026")
    assert client.post("/accounts/logout/").status_code == 302
    assert "_auth_user_id" not in client.session


def test_auditor_refusal_page_says_why(auditor, login):
    response = login(auditor).post("/manage/users/new/")
    assert response.status_code == 403
    assert "auditor" in response.content.decode().lower() or "审计" in response.content.decode()


def test_other_roles_are_not_stopped_by_the_auditor_gate(system_admin, login):
    response = login(system_admin).post("/manage/users/new/", {})
    assert response.status_code == 200  # the form with its errors
