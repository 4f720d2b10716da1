"""The nine role groups and their model permissions."""

import pytest
from django.contrib.auth.models import Group, Permission

from wuhan_pdr.accounts.roles import Role, role_permissions, sync_role_groups

pytestmark = pytest.mark.django_db


def perms_of(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def existing_permissions() -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }


def test_every_role_group_exists_after_migrate():
    assert len(Role.values) == 10  # the nine of domain.md and the registration body staff
    assert set(Group.objects.filter(name__in=Role.values).values_list("name", flat=True)) == set(
        Role.values
    )


def test_every_declared_permission_exists():
    existing = existing_permissions()
    missing = {
        role: sorted(perms - existing)
        for role, perms in role_permissions().items()
        if perms - existing
    }
    assert missing == {}


@pytest.mark.parametrize("role", Role.values)
def test_role_group_holds_exactly_the_declared_permissions(role):
    assert perms_of(Group.objects.get(name=role)) == role_permissions()[role]


def test_system_admin_may_manage_organizations_users_and_the_calendar():
    perms = perms_of(Group.objects.get(name=Role.SYSTEM_ADMIN))
    assert {
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.manage_users",
        "accounts.add_user",
        "kernel.add_calendarday",
    } <= perms


def test_auditor_may_only_read():
    perms = perms_of(Group.objects.get(name=Role.AUDITOR))
    assert perms
    assert all(p.split(".", 1)[1].startswith("view_") for p in perms)


def test_agency_roles_hold_no_global_right_to_manage_users():
    for role in (Role.AGENCY_ADMIN, Role.AGENCY_STAFF):
        assert "accounts.manage_users" not in perms_of(Group.objects.get(name=role))


def test_sync_puts_back_a_removed_permission_and_removes_an_extra_one():
    group = Group.objects.get(name=Role.AUDITOR)
    group.permissions.clear()
    group.permissions.add(Permission.objects.get(codename="delete_organization"))

    sync_role_groups()

    assert perms_of(group) == role_permissions()[Role.AUDITOR]


def test_sync_recreates_a_deleted_role_group():
    Group.objects.filter(name=Role.OPERATOR).delete()
    sync_role_groups()
    assert Group.objects.filter(name=Role.OPERATOR).exists()
