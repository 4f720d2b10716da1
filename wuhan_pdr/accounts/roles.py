"""The platform's roles (domain.md, "Who uses it") as Django groups with model permissions.

Model permissions say what a role may do anywhere; which objects it may do it to follows the
organization (see permissions.py). Chapter apps add the permissions their roles need with
`register_role_permissions()` in their AppConfig.ready(); `sync_role_groups` runs after every
migrate and makes each group hold exactly what is declared.
"""

from __future__ import annotations

from collections import defaultdict

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    REQUESTER = "requester", _("Data requester")
    AGENCY_STAFF = "agency_staff", _("Agency staff")
    AGENCY_ADMIN = "agency_admin", _("Agency data officer")
    DISTRICT_REVIEWER = "district_reviewer", _("District data bureau reviewer")
    CITY_REVIEWER = "city_reviewer", _("City data bureau reviewer")
    OPERATOR = "operator", _("Authorized operator")
    REGISTRAR = "registrar", _("Registration body staff")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDITOR = "auditor", _("Auditor")
    SYSTEM_ADMIN = "system_admin", _("System administrator")


# Roles an agency data officer may give to people of its own agency.
AGENCY_ASSIGNABLE_ROLES = (Role.AGENCY_STAFF,)

_ROLE_PERMISSIONS: dict[str, set[str]] = defaultdict(set)


def register_role_permissions(role: Role | str, perms: list[str] | tuple[str, ...]) -> None:
    """Declare that members of `role` hold the model permissions `perms` ("app.codename")."""
    _ROLE_PERMISSIONS[str(role)].update(perms)


register_role_permissions(
    Role.SYSTEM_ADMIN,
    [
        "accounts.view_organization",
        "accounts.add_organization",
        "accounts.change_organization",
        "accounts.manage_users",
        "accounts.view_user",
        "accounts.add_user",
        "accounts.change_user",
        "accounts.view_legacycreditcode",
        "accounts.add_legacycreditcode",
        "accounts.delete_legacycreditcode",
        "kernel.view_calendarday",
        "kernel.add_calendarday",
        "kernel.change_calendarday",
        "kernel.delete_calendarday",
        "kernel.view_backgroundjob",
    ],
)
register_role_permissions(Role.AUDITOR, ["accounts.view_organization", "accounts.view_user"])
register_role_permissions(Role.SECURITY_ADMIN, ["accounts.view_user"])


def role_permissions() -> dict[str, set[str]]:
    return {role: set(_ROLE_PERMISSIONS.get(role, set())) for role in Role.values}


def sync_role_groups(sender=None, **kwargs) -> None:
    """Create the role groups and give each exactly the permissions declared for it."""
    from django.contrib.auth.models import Group, Permission

    wanted = role_permissions()
    every = {
        f"{p.content_type.app_label}.{p.codename}": p
        for p in Permission.objects.select_related("content_type")
    }
    for role, perms in wanted.items():
        group, _created = Group.objects.get_or_create(name=role)
        present = [every[p] for p in sorted(perms) if p in every]
        group.permissions.set(present)


def user_roles(user) -> set[str]:
    """The role names `user` holds (cached on the user object for the request)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cached = getattr(user, "_role_names", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
        user._role_names = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & {str(r) for r in roles})


def role_guard(*roles: str):
    """A workflow guard: the acting user holds one of `roles`."""

    def guard(obj, user) -> bool:
        return has_role(user, *roles)

    return guard
