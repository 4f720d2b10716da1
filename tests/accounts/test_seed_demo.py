"""`seed_demo`: idempotent demo organizations and one demo user per role."""

from io import StringIO

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client, override_settings

from wuhan_pdr.accounts.demo import DISTRICTS
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.permissions import organizations_managed_by
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.validators import validate_credit_code

pytestmark = pytest.mark.django_db

K = Organization.Kind
WUHAN_DISTRICT_CODES = {
    "420102",
    "420103",
    "420104",
    "420105",
    "420106",
    "420107",
    "420111",
    "420112",
    "420113",
    "420114",
    "420115",
    "420116",
    "420117",
}


def counts():
    return (Organization.objects.count(), User.objects.count(), Group.objects.count())


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """`seed_demo` run twice, once for the whole module (it is slow: every app seeds), inside
    a transaction rolled back at the end; each test runs in a savepoint within it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            quiet = StringIO()
            call_command("seed_demo", stdout=quiet)
            first = counts()
            call_command("seed_demo", stdout=quiet)
            yield {"first": first, "second": counts(), "output": quiet.getvalue()}
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def test_seed_demo_runs_twice_and_changes_nothing_the_second_time(seeded):
    assert seeded["first"] == seeded["second"]
    assert seeded["output"].count("demo data ready") == 2


def test_seed_demo_creates_the_thirteen_district_bureaus(seeded):
    bureaus = Organization.objects.filter(kind=K.DISTRICT_BUREAU)
    assert bureaus.count() == 13
    assert {b.division.code for b in bureaus} == WUHAN_DISTRICT_CODES
    assert {code for code, _name in DISTRICTS} == WUHAN_DISTRICT_CODES
    city = Organization.objects.get(kind=K.CITY_BUREAU)
    assert all(b.parent == city for b in bureaus)


def test_seed_demo_creates_city_and_district_agencies(seeded):
    assert Organization.objects.filter(kind=K.CITY_AGENCY).count() >= 12
    for code in WUHAN_DISTRICT_CODES:
        assert Organization.objects.filter(kind=K.DISTRICT_AGENCY, division__code=code).count() == 2
    assert Organization.objects.filter(kind=K.OPERATOR).count() == 1
    assert Organization.objects.filter(kind=K.REGISTRATION_BODY).count() == 1


def test_seeded_organizations_have_valid_credit_codes(seeded):
    for code in Organization.objects.values_list("credit_code", flat=True):
        validate_credit_code(code)


def test_seed_demo_creates_one_user_per_role_who_can_sign_in(seeded):
    for role in Role.values:
        user = User.objects.get(username=f"demo_{role}")
        assert set(user.groups.filter(name__in=Role.values).values_list("name", flat=True)) == {
            role
        }
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": user.username, "password": settings.DEMO_PASSWORD}
        )
        assert response.status_code == 302, role
        assert client.session["_auth_user_id"] == str(user.pk)


def test_demo_agency_admin_manages_its_own_agency(seeded):
    officer = User.objects.get(username="demo_agency_admin")
    assert list(organizations_managed_by(officer)) == [officer.organization]


@override_settings(DEMO_SEED_ALLOWED=False)
def test_seed_demo_is_refused_where_not_allowed():
    before = counts()
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert counts() == before


def test_no_seeded_account_holds_two_of_the_three_administrative_roles(seeded):
    from wuhan_pdr.accounts.duties import EXCLUSIVE_ROLES

    for user in User.objects.prefetch_related("groups"):
        held = {g.name for g in user.groups.all()} & set(EXCLUSIVE_ROLES)
        assert len(held) <= 1, (user.username, held)
        assert not (user.is_superuser and held - {Role.SYSTEM_ADMIN}), user.username


def test_seeded_demo_users_are_not_forced_to_change_their_password(seeded):
    from wuhan_pdr.accounts.password_policy import password_expired

    demo = User.objects.filter(username__startswith="demo_")
    assert demo.count() >= len(Role.values)
    for user in demo:
        assert user.password_changed_at is not None, user.username
        assert not password_expired(user), user.username
