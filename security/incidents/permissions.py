"""Who sees and records incidents, emergency plans and drills (Art. 26).

The city bureau's reviewers, the security administrator and the auditor see every record; a
district bureau's reviewers see the records of organizations in their district; an agency's
staff and data officer see their own organization's. Records are written by the security
administrator and city reviewers (for any organization), district reviewers (for their
district's) and agency data officers (for their own); the auditor only reads.
`access_*` answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import Drill, EmergencyPlan, Incident

SEES_ALL = (Role.SECURITY_ADMIN, Role.CITY_REVIEWER, Role.AUDITOR)
WRITES_ALL = (Role.SECURITY_ADMIN, Role.CITY_REVIEWER)
OWN_ORG = (Role.AGENCY_ADMIN, Role.AGENCY_STAFF)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def visible_q(user) -> Q | None:
    """The records' organizations `user` may see, as a filter on `organization`; None:
    nothing."""
    if not _active(user):
        return None
    if has_role(user, *SEES_ALL):
        return Q()
    if not user.organization_id:
        return None
    if has_role(user, Role.DISTRICT_REVIEWER):
        return Q(organization__division_id=user.organization.division_id)
    if has_role(user, *OWN_ORG):
        return Q(organization_id=user.organization_id)
    return None


def uses_incidents(user) -> bool:
    return visible_q(user) is not None


def may_write_for(user, organization: Organization) -> bool:
    if not _active(user) or organization is None:
        return False
    if has_role(user, *WRITES_ALL):
        return True
    if not user.organization_id:
        return False
    if has_role(user, Role.DISTRICT_REVIEWER):
        return organization.division_id == user.organization.division_id
    if has_role(user, Role.AGENCY_ADMIN):
        return organization.pk == user.organization_id
    return False


def writable_organizations(user) -> QuerySet[Organization]:
    qs = Organization.objects.filter(is_active=True).order_by("division__code", "name")
    if not _active(user):
        return qs.none()
    if has_role(user, *WRITES_ALL):
        return qs
    if not user.organization_id:
        return qs.none()
    if has_role(user, Role.DISTRICT_REVIEWER):
        return qs.filter(division_id=user.organization.division_id)
    if has_role(user, Role.AGENCY_ADMIN):
        return qs.filter(pk=user.organization_id)
    return qs.none()


def may_write_any(user) -> bool:
    return _active(user) and (
        has_role(user, *WRITES_ALL, Role.DISTRICT_REVIEWER)
        or (has_role(user, Role.AGENCY_ADMIN) and bool(user.organization_id))
    )


def _visible(model, user) -> QuerySet:
    q = visible_q(user)
    if q is None:
        return model.objects.none()
    return model.objects.select_related("organization").filter(q)


def incidents_visible_to(user) -> QuerySet[Incident]:
    return _visible(Incident, user)


def plans_visible_to(user) -> QuerySet[EmergencyPlan]:
    return _visible(EmergencyPlan, user)


def drills_visible_to(user) -> QuerySet[Drill]:
    return _visible(Drill, user).select_related("plan")


def _access(qs: QuerySet, pk):
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise Http404
    return obj


def access_incident(user, pk) -> Incident:
    return _access(incidents_visible_to(user).select_related("reported_by"), pk)


def access_plan(user, pk) -> EmergencyPlan:
    return _access(plans_visible_to(user), pk)


def access_drill(user, pk) -> Drill:
    return _access(drills_visible_to(user), pk)
