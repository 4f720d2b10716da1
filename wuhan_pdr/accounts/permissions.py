"""Who may see and change which organization and user.

Objects come out of the `access_*` helpers, which answer 404 both when the object is missing
and when the user may not touch it, so a guessed URL tells nothing. Object rights follow the
organization: an agency data officer is a member of the organization's admin group, which
django-guardian gives `manage_users`, `view_organization` and `change_organization` on that
organization alone; system administrators hold the same permissions for every organization.
"""

from __future__ import annotations

from django.http import Http404
from guardian.shortcuts import get_objects_for_user

from wuhan_pdr.kernel.errors import observe_refusals

from .models import Organization, User

MANAGE_USERS = "accounts.manage_users"


def can_manage_users_of(user, organization: Organization | None) -> bool:
    if not user.is_authenticated or not user.is_active or organization is None:
        return False
    return user.has_perm(MANAGE_USERS) or user.has_perm(MANAGE_USERS, organization)


def organizations_managed_by(user):
    """Organizations whose users `user` may manage."""
    if not user.is_authenticated:
        return Organization.objects.none()
    return get_objects_for_user(user, MANAGE_USERS, klass=Organization, accept_global_perms=True)


@observe_refusals(
    "access.organization", actor_arg="user", object_arg="pk", model="accounts.Organization"
)
def access_managed_organization(user, pk) -> Organization:
    """The organization `pk`, if `user` may manage it; 404 otherwise."""
    org = Organization.objects.select_related("division", "parent").filter(pk=pk).first()
    if org is None or not can_manage_users_of(user, org):
        raise Http404
    return org


@observe_refusals("access.user", actor_arg="user", object_arg="pk", model="accounts.User")
def access_managed_user(user, pk) -> User:
    """The user `pk`, if `user` may manage the users of its organization; 404 otherwise."""
    target = User.objects.select_related("organization").filter(pk=pk).first()
    if target is None or not can_manage_users_of(user, target.organization):
        raise Http404
    return target


def is_platform_wide_admin(user) -> bool:
    return user.is_authenticated and user.has_perm(MANAGE_USERS)


def can_reset_two_factor(user) -> bool:
    """The security administrator resets the two-factor login of a user who lost the device."""
    from .roles import Role, has_role

    return bool(user.is_authenticated and user.is_active and has_role(user, Role.SECURITY_ADMIN))
