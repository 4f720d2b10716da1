"""Managing users and organizations: a data officer manages its own agency only; anything of
another agency answers 404 (as if it did not exist); staff see no management page at all;
system administrators manage everyone. Forms are submitted the way a browser does."""

import pytest
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from wuhan_pdr.accounts import services
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.permissions import organizations_managed_by
from wuhan_pdr.accounts.roles import Role, user_roles
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.models import BackgroundJob, Notification

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Yellow-Crane-Tower-88"


def latest_history(user):
    return user.history.order_by("-history_id").first()


def roles_of(user) -> set[str]:
    user = User.objects.get(pk=user.pk)  # no cached role names
    return user_roles(user)


def create_data(**overrides):
    data = {
        "username": "new_staff",
        "full_name": "黄鹤",
        "email": "huanghe@example.gov.cn",
        "phone": "027-12345678",
        "roles": [Role.AGENCY_STAFF],
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
    }
    data.update(overrides)
    return data


def edit_data(user, **overrides):
    data = {
        "full_name": user.full_name,
        "email": user.email,
        "phone": user.phone,
        "organization": user.organization_id,
        "roles": sorted(roles_of(user)),
    }
    data.update(overrides)
    return data


# --- a data officer manages its own agency --------------------------------------------------


def test_agency_admin_lists_only_own_agency_users(admin_a, staff_a, staff_b, login):
    response = login(admin_a).get("/manage/users/")

    assert response.status_code == 200
    listed = {u.username for u in response.context["page_obj"]}
    assert listed == {"admin_a", "staff_a"}


def test_agency_admin_search_stays_inside_own_agency(admin_a, staff_a, staff_b, login):
    response = login(admin_a).get("/manage/users/", {"q": "staff"})
    assert [u.username for u in response.context["page_obj"]] == ["staff_a"]


def test_agency_admin_manages_only_own_organization(admin_a, agency_a, agency_b):
    assert list(organizations_managed_by(admin_a)) == [agency_a]


def test_agency_admin_creates_staff_in_own_agency(admin_a, agency_a, login):
    response = login(admin_a).post("/manage/users/new/", create_data())

    user = User.objects.get(username="new_staff")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/users/{user.pk}/"
    assert user.organization == agency_a
    assert user.full_name == "黄鹤"
    assert roles_of(user) == {Role.AGENCY_STAFF}
    assert user.check_password(NEW_PASSWORD)
    history = latest_history(user)
    assert history.history_user == admin_a
    assert history.history_type == "+"
    assert Notification.objects.filter(recipient=user).count() == 1


def test_agency_admin_cannot_create_a_user_in_another_agency(admin_a, agency_a, agency_b, login):
    response = login(admin_a).post("/manage/users/new/", create_data(organization=agency_b.pk))

    # The organization field is fixed to the officer's own agency: the posted value is ignored.
    assert response.status_code == 302
    assert User.objects.get(username="new_staff").organization == agency_a


def test_agency_admin_cannot_give_roles_other_than_agency_staff_on_create(admin_a, login):
    response = login(admin_a).post(
        "/manage/users/new/", create_data(roles=[Role.AGENCY_STAFF, Role.SYSTEM_ADMIN])
    )

    assert response.status_code == 200
    assert "roles" in response.context["form"].errors
    assert not User.objects.filter(username="new_staff").exists()


def test_agency_admin_edits_own_agency_user(admin_a, staff_a, login):
    response = login(admin_a).post(
        f"/manage/users/{staff_a.pk}/", edit_data(staff_a, full_name="李四", phone="13800000000")
    )

    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert (staff_a.full_name, staff_a.phone) == ("李四", "13800000000")
    assert latest_history(staff_a).history_user == admin_a
    assert latest_history(staff_a).full_name == "李四"


def test_agency_admin_edit_page_shows_the_user_and_its_history(admin_a, staff_a, login):
    response = login(admin_a).get(f"/manage/users/{staff_a.pk}/")

    assert response.status_code == 200
    assert response.context["target"] == staff_a
    assert response.context["form"]["full_name"].value() == staff_a.full_name
    assert list(response.context["history"])


def test_agency_admin_cannot_give_other_roles_through_the_edit_form(admin_a, staff_a, login):
    response = login(admin_a).post(
        f"/manage/users/{staff_a.pk}/", edit_data(staff_a, roles=[Role.CITY_REVIEWER])
    )

    assert response.status_code == 200
    assert "roles" in response.context["form"].errors
    assert roles_of(staff_a) == {Role.AGENCY_STAFF}


def test_agency_admin_cannot_give_other_roles_through_the_service(admin_a, staff_a):
    with pytest.raises(AccessDenied):
        services.user_update(user=staff_a, acting_user=admin_a, roles=[Role.CITY_REVIEWER])
    with pytest.raises(AccessDenied):
        services.user_create(
            acting_user=admin_a,
            organization=admin_a.organization,
            username="x_admin",
            password=NEW_PASSWORD,
            roles=[Role.AGENCY_ADMIN],
        )
    assert roles_of(staff_a) == {Role.AGENCY_STAFF}
    assert not User.objects.filter(username="x_admin").exists()


def test_agency_admin_keeps_roles_it_cannot_give_when_editing(admin_a, agency_a):
    officer = UserFactory(organization=agency_a, roles=[Role.AGENCY_ADMIN, Role.AGENCY_STAFF])

    services.user_update(user=officer, acting_user=admin_a, roles=[])

    assert roles_of(officer) == {Role.AGENCY_ADMIN}


def test_agency_admin_cannot_move_a_user_to_another_agency_through_the_form(
    admin_a, staff_a, agency_a, agency_b, login
):
    login(admin_a).post(
        f"/manage/users/{staff_a.pk}/", edit_data(staff_a, organization=agency_b.pk)
    )

    staff_a.refresh_from_db()
    assert staff_a.organization == agency_a


def test_agency_admin_cannot_move_a_user_to_another_agency_through_the_service(
    admin_a, staff_a, agency_a, agency_b
):
    with pytest.raises(AccessDenied):
        services.user_update(user=staff_a, acting_user=admin_a, organization=agency_b)
    staff_a.refresh_from_db()
    assert staff_a.organization == agency_a


def test_agency_admin_deactivates_own_agency_user(admin_a, staff_a, login):
    Token.objects.create(user=staff_a)

    response = login(admin_a).post(
        f"/manage/users/{staff_a.pk}/deactivate/", {"reason": "调离本单位"}
    )

    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.is_active is False
    assert not Token.objects.filter(user=staff_a).exists()
    history = latest_history(staff_a)
    assert (history.history_user, history.is_active, history.history_change_reason) == (
        admin_a,
        False,
        "调离本单位",
    )
    job = BackgroundJob.objects.get(task_name="accounts.end_user_sessions")
    assert job.kwargs == {"user_id": staff_a.pk}
    assert job.created_by == admin_a


def test_deactivate_page_asks_for_confirmation(admin_a, staff_a, login):
    response = login(admin_a).get(f"/manage/users/{staff_a.pk}/deactivate/")
    assert response.status_code == 200
    assert response.context["target"] == staff_a
    staff_a.refresh_from_db()
    assert staff_a.is_active is True


def test_agency_admin_cannot_deactivate_itself(admin_a, login):
    response = login(admin_a).post(f"/manage/users/{admin_a.pk}/deactivate/", {"reason": ""})

    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert admin_a.is_active is True
    assert not BackgroundJob.objects.exists()


def test_agency_admin_reactivates_own_agency_user(admin_a, staff_a, login):
    services.user_deactivate(user=staff_a, acting_user=admin_a)

    response = login(admin_a).post(f"/manage/users/{staff_a.pk}/reactivate/")

    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.is_active is True
    assert latest_history(staff_a).history_user == admin_a


def test_reactivating_an_active_user_is_refused(admin_a, staff_a):
    with pytest.raises(DomainError):
        services.user_reactivate(user=staff_a, acting_user=admin_a)


def test_agency_admin_resets_own_agency_users_password(admin_a, staff_a, login):
    response = login(admin_a).post(
        f"/manage/users/{staff_a.pk}/password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    staff_a.refresh_from_db()
    assert staff_a.check_password(NEW_PASSWORD)
    assert latest_history(staff_a).history_user == admin_a
    assert Notification.objects.filter(recipient=staff_a).count() == 1


def test_agency_admin_sees_own_organization_with_its_users(
    admin_a, staff_a, staff_b, agency_a, login
):
    response = login(admin_a).get(f"/manage/organizations/{agency_a.pk}/")

    assert response.status_code == 200
    assert response.context["org"] == agency_a
    assert {u.username for u in response.context["users"]} == {"admin_a", "staff_a"}


def test_agency_admin_updates_own_organizations_contact_details_only(admin_a, agency_a, login):
    original_name, original_code = agency_a.name, agency_a.credit_code
    response = login(admin_a).post(
        f"/manage/organizations/{agency_a.pk}/",
        {
            "short_name": "甲局",
            "address": "武汉市江岸区沿江大道1号",
            "contact_person": "黄鹤",
            "contact_phone": "027-88886666",
            "name": "hijacked",
            "credit_code": "X",
        },
    )

    assert response.status_code == 302
    agency_a.refresh_from_db()
    assert (agency_a.short_name, agency_a.contact_phone) == ("甲局", "027-88886666")
    # Fields outside the contact form are neither offered nor taken from the post.
    assert (agency_a.name, agency_a.credit_code) == (original_name, original_code)
    assert agency_a.history.latest().history_user == admin_a


def test_service_refuses_a_data_officer_changing_more_than_contact_details(admin_a, agency_a):
    with pytest.raises(AccessDenied):
        services.organization_update(organization=agency_a, acting_user=admin_a, name="别的名称")
    agency_a.refresh_from_db()
    assert agency_a.name != "别的名称"


def test_agency_admin_lists_only_own_organization(admin_a, agency_a, agency_b, login):
    response = login(admin_a).get("/manage/organizations/")
    assert response.status_code == 200
    assert list(response.context["page_obj"]) == [agency_a]
    assert response.context["can_add"] is False


# --- another agency's users and pages answer 404 -------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/manage/users/{user}/"),
        ("post", "/manage/users/{user}/"),
        ("get", "/manage/users/{user}/deactivate/"),
        ("post", "/manage/users/{user}/deactivate/"),
        ("get", "/manage/users/{user}/password/"),
        ("post", "/manage/users/{user}/password/"),
        ("post", "/manage/users/{user}/reactivate/"),
        ("get", "/manage/organizations/{org}/"),
        ("post", "/manage/organizations/{org}/"),
    ],
)
def test_agency_admin_gets_404_for_another_agencys_users_and_page(
    admin_a, admin_b, staff_b, agency_b, login, method, path
):
    services.user_deactivate(user=staff_b, acting_user=admin_b)  # so reactivate could act
    before = (staff_b.password, staff_b.full_name)
    url = path.format(user=staff_b.pk, org=agency_b.pk)
    data = {
        "full_name": "hijacked",
        "organization": agency_b.pk,
        "roles": [Role.AGENCY_STAFF],
        "reason": "x",
        "new_password1": NEW_PASSWORD,
        "new_password2": NEW_PASSWORD,
        "name": "hijacked",
        "credit_code": agency_b.credit_code,
        "kind": agency_b.kind,
        "division": agency_b.division_id,
    }

    client = login(admin_a)
    response = client.get(url) if method == "get" else client.post(url, data)

    assert response.status_code == 404
    staff_b.refresh_from_db()
    agency_b.refresh_from_db()
    assert (staff_b.password, staff_b.full_name) == before
    assert staff_b.is_active is False
    assert agency_b.name == "武汉市教育局(测试B)"


def test_missing_and_forbidden_users_answer_the_same(admin_a, staff_b, login):
    client = login(admin_a)
    forbidden = client.get(f"/manage/users/{staff_b.pk}/")
    missing = client.get("/manage/users/999999/")
    assert forbidden.status_code == missing.status_code == 404


def test_agency_admin_cannot_act_on_another_agency_through_the_services(admin_a, staff_b, agency_b):
    for call in (
        lambda: services.user_update(user=staff_b, acting_user=admin_a, full_name="x"),
        lambda: services.user_deactivate(user=staff_b, acting_user=admin_a),
        lambda: services.user_set_password(
            user=staff_b, acting_user=admin_a, password=NEW_PASSWORD
        ),
        lambda: services.user_create(
            acting_user=admin_a,
            organization=agency_b,
            username="intruder",
            password=NEW_PASSWORD,
            roles=[Role.AGENCY_STAFF],
        ),
        lambda: services.organization_update(organization=agency_b, acting_user=admin_a, name="x"),
    ):
        with pytest.raises(AccessDenied):
            call()
    staff_b.refresh_from_db()
    assert staff_b.is_active and staff_b.full_name != "x"
    assert not User.objects.filter(username="intruder").exists()


def test_agency_admin_cannot_register_organizations(admin_a, login):
    assert login(admin_a).get("/manage/organizations/new/").status_code == 404


# --- staff and anonymous visitors ------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/manage/users/"),
        ("get", "/manage/users/new/"),
        ("post", "/manage/users/new/"),
        ("get", "/manage/organizations/"),
        ("get", "/manage/organizations/new/"),
        ("get", "/manage/organizations/{org}/"),
        ("get", "/manage/users/{colleague}/"),
        ("post", "/manage/users/{colleague}/"),
        ("get", "/manage/users/{colleague}/deactivate/"),
        ("post", "/manage/users/{colleague}/deactivate/"),
        ("get", "/manage/users/{colleague}/password/"),
        ("post", "/manage/users/{colleague}/password/"),
        ("post", "/manage/users/{colleague}/reactivate/"),
        ("get", "/manage/users/{self}/"),
    ],
)
def test_agency_staff_gets_404_on_every_management_page(
    staff_a, admin_a, agency_a, login, method, path
):
    url = path.format(org=agency_a.pk, colleague=admin_a.pk, self=staff_a.pk)
    client = login(staff_a)
    response = client.get(url) if method == "get" else client.post(url, create_data())
    assert response.status_code == 404
    admin_a.refresh_from_db()
    assert admin_a.is_active is True
    assert not User.objects.filter(username="new_staff").exists()


@pytest.mark.parametrize("path", ["/manage/users/", "/manage/organizations/", "/manage/users/new/"])
def test_anonymous_visitor_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


# --- system administrators --------------------------------------------------------------------


def test_system_admin_lists_users_of_every_organization(system_admin, staff_a, staff_b, login):
    response = login(system_admin).get("/manage/users/")
    listed = {u.username for u in response.context["page_obj"]}
    assert {"sysadmin", "staff_a", "staff_b"} <= listed


def test_system_admin_filters_users_by_organization_and_role(
    system_admin, admin_a, staff_a, staff_b, agency_a, login
):
    client = login(system_admin)
    by_org = client.get("/manage/users/", {"organization": agency_a.pk})
    by_role = client.get("/manage/users/", {"role": Role.AGENCY_ADMIN})
    assert {u.username for u in by_org.context["page_obj"]} == {"admin_a", "staff_a"}
    assert {u.username for u in by_role.context["page_obj"]} == {"admin_a"}


def test_system_admin_creates_a_user_with_any_role_in_any_organization(
    system_admin, agency_b, login
):
    response = login(system_admin).post(
        "/manage/users/new/",
        create_data(
            username="reviewer", organization=agency_b.pk, roles=[Role.CITY_REVIEWER, Role.AUDITOR]
        ),
    )

    assert response.status_code == 302
    user = User.objects.get(username="reviewer")
    assert user.organization == agency_b
    assert roles_of(user) == {Role.CITY_REVIEWER, Role.AUDITOR}
    assert latest_history(user).history_user == system_admin


def test_system_admin_moves_a_data_officer_and_its_rights_to_another_agency(
    system_admin, admin_a, agency_a, agency_b, login
):
    response = login(system_admin).post(
        f"/manage/users/{admin_a.pk}/", edit_data(admin_a, organization=agency_b.pk)
    )

    assert response.status_code == 302
    admin_a.refresh_from_db()
    assert admin_a.organization == agency_b
    assert latest_history(admin_a).history_user == system_admin
    moved = User.objects.get(pk=admin_a.pk)
    assert list(organizations_managed_by(moved)) == [agency_b]
    assert not moved.groups.filter(name=agency_a.admin_group_name).exists()


def test_system_admin_gives_and_takes_any_role(system_admin, staff_a, agency_a, login):
    login(system_admin).post(
        f"/manage/users/{staff_a.pk}/", edit_data(staff_a, roles=[Role.AGENCY_ADMIN])
    )

    assert roles_of(staff_a) == {Role.AGENCY_ADMIN}
    assert Group.objects.get(name=agency_a.admin_group_name).user_set.filter(pk=staff_a.pk).exists()

    login(system_admin).post(f"/manage/users/{staff_a.pk}/", edit_data(staff_a, roles=[]))

    assert roles_of(staff_a) == set()
    assert not User.objects.get(pk=staff_a.pk).groups.filter(name__startswith="org:").exists()


def test_system_admin_deactivates_and_resets_anyone(system_admin, staff_b, login):
    client = login(system_admin)
    client.post(
        f"/manage/users/{staff_b.pk}/password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.post(f"/manage/users/{staff_b.pk}/deactivate/", {"reason": "离职"})

    staff_b.refresh_from_db()
    assert staff_b.check_password(NEW_PASSWORD)
    assert staff_b.is_active is False
    assert latest_history(staff_b).history_user == system_admin


def test_system_admin_registers_an_organization(system_admin, login):
    from tests.accounts.factories import credit_code, division

    code = credit_code(999_001)
    response = login(system_admin).post(
        "/manage/organizations/new/",
        {
            "name": "武汉市新设局",
            "short_name": "新设局",
            "kind": "city_agency",
            "division": division().pk,
            "credit_code": code,
            "address": "武汉市江岸区",
            "contact_person": "",
            "contact_phone": "",
            "is_active": "on",
        },
    )

    from wuhan_pdr.accounts.models import Organization

    org = Organization.objects.get(name="武汉市新设局")
    assert response.status_code == 302
    assert response["Location"] == f"/manage/organizations/{org.pk}/"
    assert org.credit_code == code
    assert org.history.get().history_user == system_admin
    assert Group.objects.filter(name=org.admin_group_name).exists()


def test_system_admin_edits_an_organization(system_admin, agency_b, login):
    response = login(system_admin).post(
        f"/manage/organizations/{agency_b.pk}/",
        {
            "name": agency_b.name,
            "short_name": "教育",
            "kind": agency_b.kind,
            "division": agency_b.division_id,
            "credit_code": agency_b.credit_code,
            "address": "武汉市江汉区",
            "contact_person": "王五",
            "contact_phone": "027-1",
            "is_active": "on",
        },
    )

    assert response.status_code == 302
    agency_b.refresh_from_db()
    assert (agency_b.short_name, agency_b.contact_person) == ("教育", "王五")
    assert agency_b.history.order_by("-history_id").first().history_user == system_admin


def test_organization_form_refuses_a_bad_credit_code(system_admin, agency_b, login):
    response = login(system_admin).post(
        f"/manage/organizations/{agency_b.pk}/",
        {
            "name": agency_b.name,
            "kind": agency_b.kind,
            "division": agency_b.division_id,
            "credit_code": agency_b.credit_code[:-1]
            + ("0" if agency_b.credit_code[-1] != "0" else "1"),
            "is_active": "on",
        },
    )

    assert response.status_code == 200
    assert "credit_code" in response.context["form"].errors
    old = agency_b.credit_code
    agency_b.refresh_from_db()
    assert agency_b.credit_code == old


def test_password_of_a_managed_user_still_obeys_the_policy(admin_a, staff_a, login):
    response = login(admin_a).post(
        f"/manage/users/{staff_a.pk}/password/",
        {"new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    staff_a.refresh_from_db()
    assert staff_a.check_password(DEFAULT_PASSWORD)


# --- separation of duties ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", [Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDITOR, Role.CITY_REVIEWER]
)
def test_agency_admin_cannot_take_over_an_account_holding_a_role_it_cannot_give(
    admin_a, agency_a, login, role
):
    # Someone of the same organization who holds a higher role: its data officer must not be
    # able to set that person's password (and sign in as them) or switch the account off.
    senior = UserFactory(organization=agency_a, roles=[role])
    client = login(admin_a)

    reset = client.post(
        f"/manage/users/{senior.pk}/password/",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    client.post(f"/manage/users/{senior.pk}/deactivate/", {"reason": "x"})

    assert reset.status_code == 200
    assert reset.context["form"].errors
    senior.refresh_from_db()
    assert senior.check_password(DEFAULT_PASSWORD)
    assert senior.is_active is True
    for call in (
        lambda: services.user_set_password(user=senior, acting_user=admin_a, password=NEW_PASSWORD),
        lambda: services.user_deactivate(user=senior, acting_user=admin_a),
    ):
        with pytest.raises(AccessDenied):
            call()


def test_agency_admin_cannot_reactivate_an_account_holding_a_role_it_cannot_give(
    admin_a, system_admin, agency_a
):
    senior = UserFactory(organization=agency_a, roles=[Role.SECURITY_ADMIN])
    services.user_deactivate(user=senior, acting_user=system_admin)
    with pytest.raises(AccessDenied):
        services.user_reactivate(user=senior, acting_user=admin_a)
    senior.refresh_from_db()
    assert senior.is_active is False


def test_agency_admin_still_controls_a_fellow_data_officers_account(admin_a, agency_a):
    colleague = UserFactory(organization=agency_a, roles=[Role.AGENCY_ADMIN])
    services.user_set_password(user=colleague, acting_user=admin_a, password=NEW_PASSWORD)
    services.user_deactivate(user=colleague, acting_user=admin_a)
    colleague.refresh_from_db()
    assert colleague.check_password(NEW_PASSWORD)
    assert colleague.is_active is False
