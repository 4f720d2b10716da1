"""Reads on organizations and users, already restricted to what the viewer may see."""

from __future__ import annotations

from django.db.models import Count, Prefetch, Q, QuerySet

from .models import Organization, User
from .permissions import organizations_managed_by
from .roles import Role


def organization_directory(*, q: str = "", kind: str = "", division=None) -> QuerySet[Organization]:
    """Active organizations for the public directory."""
    qs = Organization.objects.filter(is_active=True).select_related("division", "parent")
    if q:
        qs = qs.filter(
            Q(name__icontains=q) | Q(short_name__icontains=q) | Q(credit_code__icontains=q)
        )
    if kind:
        qs = qs.filter(kind=kind)
    if division is not None:
        qs = qs.filter(division=division)
    return qs


def organization_detail_public(pk) -> Organization | None:
    return (
        Organization.objects.filter(pk=pk, is_active=True)
        .select_related("division", "parent")
        .prefetch_related(
            Prefetch(
                "children",
                queryset=Organization.objects.filter(is_active=True).select_related("division"),
            )
        )
        .first()
    )


def user_list_managed_by(
    viewer, *, q: str = "", organization=None, role: str = "", active: str = ""
) -> QuerySet[User]:
    """Users whose organization `viewer` may manage, with their organization and roles."""
    orgs = organizations_managed_by(viewer)
    qs = (
        User.objects.filter(organization__in=orgs)
        .select_related("organization")
        .prefetch_related("groups")
    )
    if q:
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(full_name__icontains=q)
            | Q(email__icontains=q)
            | Q(phone__icontains=q)
        )
    if organization is not None:
        qs = qs.filter(organization=organization)
    if role:
        qs = qs.filter(groups__name=role)
    if active == "yes":
        qs = qs.filter(is_active=True)
    elif active == "no":
        qs = qs.filter(is_active=False)
    return qs.order_by("organization__name", "username").distinct()


def organizations_with_user_counts(viewer) -> QuerySet[Organization]:
    return (
        organizations_managed_by(viewer)
        .select_related("division")
        .annotate(n_users=Count("users", filter=Q(users__is_active=True)))
        .order_by("division__code", "kind", "name")
    )


def role_names(user: User) -> list[str]:
    """The role labels of `user`, from its prefetched groups."""
    names = {g.name for g in user.groups.all()}
    return [Role(r).label for r in Role.values if r in names]


def users_with_two_factor_status(*, q: str = "", enrolled: str = ""):
    """Every user with `has_two_factor` (a confirmed authenticator app), for the security
    administrator's reset page."""
    from django.db.models import Exists, OuterRef
    from django_otp.plugins.otp_totp.models import TOTPDevice

    qs = (
        User.objects.select_related("organization")
        .annotate(
            has_two_factor=Exists(TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True))
        )
        .order_by("username")
    )
    if q:
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(full_name__icontains=q)
            | Q(organization__name__icontains=q)
        )
    if enrolled == "yes":
        qs = qs.filter(has_two_factor=True)
    elif enrolled == "no":
        qs = qs.filter(has_two_factor=False)
    return qs
