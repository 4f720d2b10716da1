"""Who sees and registers data tools. The security administrator, the auditor and the city
bureau's reviewers see every organization's tools, a district bureau's reviewers their
district's, an agency's staff and data officer their own. The security administrator (any
organization) and an agency's data officer (their own) register, change, put into use and
retire tools; only the security administrator assesses them (security.assessments).
`access_tool` answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import DataTool

SEES_ALL = (Role.SECURITY_ADMIN, Role.AUDITOR, Role.CITY_REVIEWER)
OWN_ORG = (Role.AGENCY_ADMIN, Role.AGENCY_STAFF)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def visible_q(user) -> Q | None:
    """The tools' organizations `user` may see, as a filter; None: nothing."""
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


def sees_tools(user) -> bool:
    return visible_q(user) is not None


def sees_many_organizations(user) -> bool:
    return _active(user) and has_role(user, *SEES_ALL, Role.DISTRICT_REVIEWER)


def may_write_for(user, organization: Organization | None) -> bool:
    if not _active(user) or organization is None:
        return False
    if has_role(user, Role.SECURITY_ADMIN):
        return True
    return bool(
        has_role(user, Role.AGENCY_ADMIN)
        and user.organization_id
        and organization.pk == user.organization_id
    )


def may_write_any(user) -> bool:
    return _active(user) and (
        has_role(user, Role.SECURITY_ADMIN)
        or (has_role(user, Role.AGENCY_ADMIN) and bool(user.organization_id))
    )


def writable_organizations(user) -> QuerySet[Organization]:
    qs = Organization.objects.filter(is_active=True).order_by("division__code", "name")
    if not _active(user):
        return qs.none()
    if has_role(user, Role.SECURITY_ADMIN):
        return qs
    if has_role(user, Role.AGENCY_ADMIN) and user.organization_id:
        return qs.filter(pk=user.organization_id)
    return qs.none()


def tools_visible_to(user) -> QuerySet[DataTool]:
    q = visible_q(user)
    if q is None:
        return DataTool.objects.none()
    return DataTool.objects.select_related("organization").filter(q)


def access_tool(user, pk) -> DataTool:
    tool = tools_visible_to(user).select_related("created_by").filter(pk=pk).first()
    if tool is None:
        raise Http404
    return tool
