"""Who may see and act on share requests and grants.

Rights follow the organization:
- staff and data officers of an agency ask for data for their agency, and see their agency's
  requests and grants (and collect or rotate its keys);
- the provider's data officer (agency_admin) decides the requests for its resources and
  manages the grants to them (suspend, resume, revoke, renew);
- the city bureau's reviewers see every request (they coordinate refused ones), the
  security administrator every grant (risk review, suspension); auditors read everything.
Objects come out of the `access_*` helpers, which answer 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import Grant, ShareRequest

NOTHING = Q(pk__in=[])


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_agency_member(user) -> bool:
    """Staff or data officer of an agency (a government body that may ask for data)."""
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.is_agency
        and has_role(user, Role.AGENCY_STAFF, Role.AGENCY_ADMIN)
    )


def is_data_officer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.is_agency
        and has_role(user, Role.AGENCY_ADMIN)
    )


def is_city_reviewer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_security_admin(user) -> bool:
    return bool(_active(user) and has_role(user, Role.SECURITY_ADMIN))


def is_auditor(user) -> bool:
    return bool(_active(user) and has_role(user, Role.AUDITOR))


def may_request(user) -> bool:
    return is_agency_member(user)


def sees_all_requests(user) -> bool:
    return is_city_reviewer(user) or is_auditor(user)


def sees_all_grants(user) -> bool:
    return is_security_admin(user) or is_city_reviewer(user) or is_auditor(user)


def may_review_risk(user) -> bool:
    return is_security_admin(user) or is_city_reviewer(user) or is_auditor(user)


def requests_visible_q(user) -> Q:
    if not _active(user):
        return NOTHING
    if sees_all_requests(user):
        return Q()
    q = NOTHING
    if is_agency_member(user):
        q |= Q(requester_id=user.organization_id)
    if is_data_officer(user):
        q |= Q(provider_id=user.organization_id)
    return q


def grants_visible_q(user) -> Q:
    if not _active(user):
        return NOTHING
    if sees_all_grants(user):
        return Q()
    q = NOTHING
    if is_agency_member(user):
        q |= Q(grantee_id=user.organization_id)
    if is_data_officer(user):
        q |= Q(resource__provider_id=user.organization_id)
    return q


@observe_refusals("sharing.request.view", actor_arg="user", object_arg="pk", model=ShareRequest)
def access_request(user, pk) -> ShareRequest:
    found = (
        ShareRequest.objects.filter(requests_visible_q(user), pk=pk)
        .select_related("resource", "version", "provider", "requester", "requested_by")
        .first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise Http404
    return found


@observe_refusals("sharing.grant.view", actor_arg="user", object_arg="pk", model=Grant)
def access_grant(user, pk) -> Grant:
    found = (
        Grant.objects.filter(grants_visible_q(user), pk=pk)
        .select_related("resource__provider", "resource__published_version", "grantee", "request")
        .first()
        if str(pk).isdigit()
        else None
    )
    if found is None:
        raise Http404
    return found


# --- guards (workflow transitions and pages) --------------------------------------------


def decides(request: ShareRequest, user) -> bool:
    """The provider's data officer decides a conditional request."""
    return is_data_officer(user) and request.provider_id == user.organization_id


def asks(request: ShareRequest, user) -> bool:
    """A member of the requesting agency withdraws or asks for coordination."""
    return is_agency_member(user) and request.requester_id == user.organization_id


def holds(grant: Grant, user) -> bool:
    """A member of the grantee agency collects and rotates the grant's key."""
    return is_agency_member(user) and grant.grantee_id == user.organization_id


def provides(grant: Grant, user) -> bool:
    """The data officer of the resource's provider manages the grant."""
    return is_data_officer(user) and grant.resource.provider_id == user.organization_id


def may_suspend(grant: Grant, user) -> bool:
    return provides(grant, user) or is_security_admin(user)
