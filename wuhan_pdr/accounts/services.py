"""Writes on organizations and users. Each takes `acting_user`, checks the right to act,
runs in one transaction and records history naming the actor."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from guardian.shortcuts import assign_perm
from rest_framework.authtoken.models import Token

from wuhan_pdr.kernel.errors import AccessDenied, DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import job_enqueue
from wuhan_pdr.kernel.notifications import notify

from .duties import check_separation_of_duties
from .models import Organization, User
from .permissions import can_manage_users_of, is_platform_wide_admin
from .roles import AGENCY_ASSIGNABLE_ROLES, Role

# What an agency's own data officer may keep up to date about its organization.
ORGANIZATION_CONTACT_FIELDS = ("short_name", "address", "contact_person", "contact_phone")

ORG_ADMIN_OBJECT_PERMS = (
    "accounts.view_organization",
    "accounts.change_organization",
    "accounts.manage_users",
)


def _organization_admin_group(org: Organization) -> Group:
    group, created = Group.objects.get_or_create(name=org.admin_group_name)
    if created:
        for perm in ORG_ADMIN_OBJECT_PERMS:
            assign_perm(perm, group, org)
    return group


def _sync_object_groups(user: User) -> None:
    """Put `user` in the admin group of its own organization if it is that agency's data
    officer, and in no other organization's admin group."""
    stale = user.groups.filter(name__startswith="org:").exclude(
        name=user.organization.admin_group_name if user.organization_id else ""
    )
    user.groups.remove(*stale)
    if user.organization_id and user.groups.filter(name=Role.AGENCY_ADMIN).exists():
        user.groups.add(_organization_admin_group(user.organization))
    elif user.organization_id:
        user.groups.remove(*user.groups.filter(name=user.organization.admin_group_name))
    user._role_names = None


def _check_assignable(acting_user: User, roles: Iterable[str]) -> list[str]:
    roles = sorted({str(r) for r in roles})
    unknown = [r for r in roles if r not in Role.values]
    if unknown:
        raise DomainError(
            _("Unknown role: %(role)s.") % {"role": ", ".join(unknown)}, field="roles"
        )
    if not is_platform_wide_admin(acting_user):
        allowed = {str(r) for r in AGENCY_ASSIGNABLE_ROLES}
        refused = [r for r in roles if r not in allowed]
        if refused:
            raise AccessDenied(
                _("You may only give the role “%(role)s”.") % {"role": Role.AGENCY_STAFF.label},
                field="roles",
            )
    return roles


def _check_account_control(acting_user: User, user: User) -> None:
    """Only platform administrators set the password of, or switch off, an account holding a
    role an agency data officer cannot give (e.g. a system or security administrator of the
    same organization): otherwise the officer could take that account over."""
    if is_platform_wide_admin(acting_user):
        return
    controllable = {str(r) for r in AGENCY_ASSIGNABLE_ROLES} | {str(Role.AGENCY_ADMIN)}
    held = set(user.groups.filter(name__in=Role.values).values_list("name", flat=True))
    if held - controllable:
        raise AccessDenied(_("Only a system administrator may change this account."))


def _set_roles(user: User, roles: list[str]) -> None:
    check_separation_of_duties(roles, is_superuser=user.is_superuser)
    keep = user.groups.exclude(name__in=Role.values)
    user.groups.set(list(keep) + list(Group.objects.filter(name__in=roles)))
    _sync_object_groups(user)


@observe_refusals("accounts.organization.create")
@transaction.atomic
def organization_create(*, acting_user: User, **fields) -> Organization:
    """Register an organization (system administrators only)."""
    if not acting_user.has_perm("accounts.add_organization"):
        raise AccessDenied(_("You may not register organizations."))
    org = Organization(**fields)
    audited_save(org, acting_user=acting_user, reason="created")
    _organization_admin_group(org)
    return org


@observe_refusals("accounts.organization.update", object_arg="organization")
@transaction.atomic
def organization_update(*, organization: Organization, acting_user: User, **fields) -> Organization:
    """Change an organization. System administrators change everything; the agency's own
    data officer (object permission) only its short name and contact details."""
    if acting_user.has_perm("accounts.change_organization"):
        pass
    elif acting_user.has_perm("accounts.change_organization", organization):
        beyond = sorted(
            name
            for name, value in fields.items()
            if name not in ORGANIZATION_CONTACT_FIELDS and getattr(organization, name) != value
        )
        if beyond:
            raise AccessDenied(
                _("Only a system administrator may change these fields: %(fields)s.")
                % {
                    "fields": ", ".join(
                        str(Organization._meta.get_field(f).verbose_name) for f in beyond
                    )
                }
            )
    else:
        raise AccessDenied(_("You may not change this organization."))
    for name, value in fields.items():
        setattr(organization, name, value)
    return audited_save(organization, acting_user=acting_user, reason="updated")


@observe_refusals("accounts.user.create")
@transaction.atomic
def user_create(
    *,
    acting_user: User,
    organization: Organization,
    username: str,
    password: str,
    roles: Iterable[str],
    full_name: str = "",
    email: str = "",
    phone: str = "",
) -> User:
    """Create a login for a person of `organization`."""
    if not can_manage_users_of(acting_user, organization):
        raise AccessDenied(_("You may not create users for this organization."))
    roles = _check_assignable(acting_user, roles)
    check_separation_of_duties(roles)
    if User.objects.filter(username__iexact=username).exists():
        raise DomainError(_("This user name is already taken."), field="username")
    user = User(
        username=username,
        organization=organization,
        full_name=full_name,
        email=email,
        phone=phone,
    )
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="password1") from exc
    user.set_password(password)
    audited_save(user, acting_user=acting_user, reason="created")
    _set_roles(user, roles)
    notify(
        recipients=[user],
        title=_("Welcome to the platform"),
        body=_("Your account was created by %(name)s.") % {"name": acting_user.display_name},
    )
    return user


@observe_refusals("accounts.user.update", object_arg="user")
@transaction.atomic
def user_update(
    *,
    user: User,
    acting_user: User,
    roles: Iterable[str] | None = None,
    organization: Organization | None = None,
    **fields,
) -> User:
    """Change a user's details, roles and (platform administrators only) organization."""
    if not can_manage_users_of(acting_user, user.organization):
        raise AccessDenied(_("You may not change this user."))
    if organization is not None and organization != user.organization:
        if not is_platform_wide_admin(acting_user):
            raise AccessDenied(
                _("Only a system administrator may move a user to another organization.")
            )
        user.organization = organization
    for name, value in fields.items():
        setattr(user, name, value)
    audited_save(user, acting_user=acting_user, reason="updated")
    if roles is not None:
        roles = _check_assignable(acting_user, roles)
        current = {r for r in user.groups.values_list("name", flat=True) if r in Role.values}
        if not is_platform_wide_admin(acting_user):
            # An agency data officer may not take away roles it cannot give.
            roles = sorted(set(roles) | (current - {str(r) for r in AGENCY_ASSIGNABLE_ROLES}))
        _set_roles(user, roles)
    else:
        _sync_object_groups(user)
    return user


@observe_refusals("accounts.user.deactivate", object_arg="user")
@transaction.atomic
def user_deactivate(*, user: User, acting_user: User, reason: str = "") -> User:
    """Stop a user from logging in, revoke its API token and end its open sessions."""
    if not can_manage_users_of(acting_user, user.organization):
        raise AccessDenied(_("You may not deactivate this user."))
    _check_account_control(acting_user, user)
    if user.pk == acting_user.pk:
        raise DomainError(_("You cannot deactivate your own account."))
    if not user.is_active:
        raise DomainError(_("This user is already deactivated."))
    user.is_active = False
    audited_save(user, acting_user=acting_user, reason=reason or "deactivated")
    Token.objects.filter(user=user).delete()
    job_enqueue(
        task_name="accounts.end_user_sessions", kwargs={"user_id": user.pk}, acting_user=acting_user
    )
    return user


@observe_refusals("accounts.user.reactivate", object_arg="user")
@transaction.atomic
def user_reactivate(*, user: User, acting_user: User) -> User:
    if not can_manage_users_of(acting_user, user.organization):
        raise AccessDenied(_("You may not reactivate this user."))
    _check_account_control(acting_user, user)
    if user.is_active:
        raise DomainError(_("This user is already active."))
    user.is_active = True
    return audited_save(user, acting_user=acting_user, reason="reactivated")


@observe_refusals("accounts.user.set_password", object_arg="user")
@transaction.atomic
def user_set_password(*, user: User, acting_user: User, password: str) -> User:
    """Reset another user's password (their data officer or a system administrator)."""
    if not can_manage_users_of(acting_user, user.organization):
        raise AccessDenied(_("You may not reset this user's password."))
    _check_account_control(acting_user, user)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="new_password1") from exc
    user.set_password(password)
    audited_save(user, acting_user=acting_user, reason="password reset", validate=False)
    notify(
        recipients=[user],
        title=_("Your password was reset"),
        body=_("%(name)s set a new password for your account.")
        % {"name": acting_user.display_name},
    )
    return user


@transaction.atomic
def api_token_regenerate(*, acting_user: User, two_factor_verified: bool = False) -> Token:
    """Replace the acting user's API token with a new one. A role that needs two-factor
    login gets one only from a session that passed the second factor (when
    SECURITY_2FA_REQUIRED is on); its token expires (API_TOKEN_TTL_HOURS_PRIVILEGED)."""
    from .two_factor import two_factor_required

    if two_factor_required(acting_user) and not two_factor_verified:
        raise DomainError(_("Log in with two-factor authentication before creating an API token."))
    Token.objects.filter(user=acting_user).delete()
    return Token.objects.create(user=acting_user)


@transaction.atomic
def api_token_revoke(*, acting_user: User) -> int:
    deleted, _ = Token.objects.filter(user=acting_user).delete()
    return deleted


# --- two-factor login ---------------------------------------------------------------------


def _send_two_factor_event(*, user: User, request, event: str, actor: User | None) -> None:
    from .signals import two_factor_event

    two_factor_event.send(sender=User, user=user, request=request, event=event, actor=actor)


def _new_recovery_codes(user: User) -> list[str]:
    """Replace `user`'s recovery codes with new ones; returns them (shown once, stored as
    django-otp static tokens, each usable once)."""
    from django.conf import settings
    from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="recovery", confirmed=True)
    codes = [StaticToken.random_token() for _ in range(settings.SECURITY_2FA_RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


@transaction.atomic
def two_factor_enroll(*, acting_user: User, key: str, code: str, request=None):
    """Confirm the acting user's authenticator app: `code` must be the current TOTP code of
    `key` (the secret shown on the enrollment page). Replaces any earlier device and gives
    new recovery codes. Returns (device, recovery codes)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from .two_factor import TOTP_DIGITS, TOTP_STEP, totp_matches

    step = totp_matches(key, code)
    if step is None:
        _send_two_factor_event(user=acting_user, request=request, event="failed", actor=acting_user)
        raise DomainError(
            _("This code is not the one your app shows now. Check the time on your phone."),
            field="code",
        )
    TOTPDevice.objects.filter(user=acting_user).delete()
    device = TOTPDevice.objects.create(
        user=acting_user,
        name=_("Authenticator app"),
        key=key,
        step=TOTP_STEP,
        digits=TOTP_DIGITS,
        confirmed=True,
        last_t=step,  # the code just used cannot be used again to log in
    )
    codes = _new_recovery_codes(acting_user)
    _send_two_factor_event(user=acting_user, request=request, event="enrolled", actor=acting_user)
    return device, codes


@transaction.atomic
def two_factor_recovery_codes_regenerate(*, acting_user: User) -> list[str]:
    """New recovery codes for the acting user (the old ones stop working)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not TOTPDevice.objects.filter(user=acting_user, confirmed=True).exists():
        raise DomainError(_("Set up two-factor login first."))
    return _new_recovery_codes(acting_user)


@transaction.atomic
def two_factor_disable(*, acting_user: User, request=None) -> None:
    """Turn off the acting user's own two-factor login (not where it is required)."""
    from .two_factor import two_factor_required

    if two_factor_required(acting_user):
        raise DomainError(_("Your role requires two-factor login: it cannot be turned off."))
    if not _remove_devices(acting_user):
        raise DomainError(_("Two-factor login is not set up for your account."))
    _send_two_factor_event(user=acting_user, request=request, event="disabled", actor=acting_user)


def _remove_devices(user: User) -> int:
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    removed, _details = TOTPDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    return removed


@transaction.atomic
def two_factor_reset(*, user: User, acting_user: User, request=None) -> User:
    """Remove the devices and recovery codes of a user who lost them (the security
    administrator only, never their own). The user enrolls again at the next login; their API
    token is revoked, since it was issued under the old device."""
    from .permissions import can_reset_two_factor

    if not can_reset_two_factor(acting_user):
        raise AccessDenied(_("Only the security administrator may reset two-factor login."))
    if user.pk == acting_user.pk:
        raise DomainError(
            _("You cannot reset your own two-factor login: ask another security administrator.")
        )
    if not _remove_devices(user):
        raise DomainError(_("This user has not set up two-factor login."))
    Token.objects.filter(user=user).delete()
    _send_two_factor_event(user=user, request=request, event="reset", actor=acting_user)
    notify(
        recipients=[user],
        title=_("Your two-factor login was reset"),
        body=_("%(name)s reset your two-factor login. Set it up again at your next login.")
        % {"name": acting_user.display_name},
    )
    return user
