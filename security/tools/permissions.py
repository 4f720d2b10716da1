"""Who sees and registers data tools. The security administrator, the auditor and the city
bureau's reviewers see every organization's tools, a district bureau's reviewers their
district's, an agency's staff and data officer their own. The security administrator (any
organization) and an agency's data officer (their own) register, change, put into use and
retire tools; only the security administrator assesses them (security.assessments).
`access_tool` answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from ..incidents import permissions as incident_permissions
from .models import DataTool

# Who sees which organizations' tools is the incidents' rule (Art. 26-27 records alike).
SEES_ALL = incident_permissions.SEES_ALL
_active = incident_permissions._active
visible_q = incident_permissions.visible_q


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
