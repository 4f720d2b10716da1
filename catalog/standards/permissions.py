"""Who may propose, read and decide data-element change requests (Art. 9).

Agency staff and data officers propose for their own agency and see its requests; the city
data bureau's reviewers see every request once it is submitted and decide on it; auditors
read everything. Everyone reads the standards themselves. Requests come out of
`access_change_request`, which answers 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from ..permissions import FILER_ROLES, can_file_for
from .models import ElementChangeRequest

R = ElementChangeRequest.State
EDITABLE_STATES = (R.DRAFT, R.RETURNED)


def can_request_for(user, organization: Organization | None) -> bool:
    """Whether `user` may propose element changes on behalf of `organization`."""
    return can_file_for(user, organization)


def is_city_reviewer(user) -> bool:
    """A reviewer of the city data bureau: it decides on data-element requests."""
    org = getattr(user, "organization", None) if getattr(user, "is_authenticated", False) else None
    return bool(
        org is not None
        and user.is_active
        and org.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_filer(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.organization_id
        and has_role(user, *FILER_ROLES)
    )


def requester_guard(change_request: ElementChangeRequest, user) -> bool:
    return can_request_for(user, change_request.organization)


def reviewer_guard(change_request: ElementChangeRequest, user) -> bool:
    return is_city_reviewer(user)


def can_edit_change_request(user, change_request: ElementChangeRequest) -> bool:
    return change_request.state in EDITABLE_STATES and can_request_for(
        user, change_request.organization
    )


def change_requests_visible_q(user) -> Q:
    """The requests `user` may read: its agency's own, every submitted one for the city
    bureau's reviewers, all of them for auditors."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return Q(pk__in=[])
    if has_role(user, Role.AUDITOR):
        return Q()
    q = Q(pk__in=[])
    if is_filer(user):
        q |= Q(organization_id=user.organization_id)
    if is_city_reviewer(user):
        q |= ~Q(state=R.DRAFT)
    return q


@observe_refusals(
    "access.elementchangerequest",
    actor_arg="user",
    object_arg="pk",
    model="catalog.ElementChangeRequest",
)
def access_change_request(user, pk) -> ElementChangeRequest:
    change_request = (
        ElementChangeRequest.objects.filter(change_requests_visible_q(user), pk=pk)
        .select_related(
            "element__code_list",
            "replacement",
            "organization",
            "requested_by",
            "result",
        )
        .first()
    )
    if change_request is None:
        raise Http404
    return change_request
