"""Who sees and moves registrations (Art. 24-25).

The registration body's staff (`Role.REGISTRAR`, in an organization of kind registration body)
handle every application that has been submitted; they never see drafts. The registrant's own
people (agency staff and data officers, operators) see all of their organization's
registrations, drafts included, and apply for it. Anyone, signed in or not, sees the public
register: what is in public notice, registered or cancelled, through `selectors.public_*`.
`access_*` answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import Registration

APPLICANT_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_ADMIN, Role.OPERATOR)
# Organizations whose holdings are registered (Art. 23): agencies and public utilities,
# authorized operators (their products), and the bureaus' own holdings.
REGISTRANT_KINDS = (
    Organization.Kind.CITY_AGENCY,
    Organization.Kind.DISTRICT_AGENCY,
    Organization.Kind.PUBLIC_UTILITY,
    Organization.Kind.OPERATOR,
    Organization.Kind.CITY_BUREAU,
    Organization.Kind.DISTRICT_BUREAU,
)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_registrar(user) -> bool:
    """Staff of the registration body."""
    return (
        _active(user)
        and has_role(user, Role.REGISTRAR)
        and bool(user.organization_id)
        and user.organization.kind == Organization.Kind.REGISTRATION_BODY
    )


def may_apply(user) -> bool:
    return (
        _active(user)
        and has_role(user, *APPLICANT_ROLES)
        and bool(user.organization_id)
        and user.organization.kind in REGISTRANT_KINDS
    )


def is_registrant_of(user, registration: Registration) -> bool:
    return (
        _active(user)
        and has_role(user, *APPLICANT_ROLES)
        and user.organization_id == registration.registrant_id
    )


def uses_registration(user) -> bool:
    return is_registrar(user) or may_apply(user)


def visible_q(user) -> Q | None:
    if not _active(user):
        return None
    q = Q(pk__in=[])
    if is_registrar(user):
        q |= ~Q(state=Registration.State.DRAFT)
    if has_role(user, *APPLICANT_ROLES) and user.organization_id:
        q |= Q(registrant_id=user.organization_id)
    return q


def registrations_visible_to(user) -> QuerySet[Registration]:
    q = visible_q(user)
    if q is None:
        return Registration.objects.none()
    return Registration.objects.filter(q).select_related("registrant", "resource", "deposit")


def access_registration(user, pk) -> Registration:
    obj = registrations_visible_to(user).filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj
