"""Who sees and acts on pilot calls and proposals.

- the city bureau's reviewers publish calls, score proposals and select pilots;
- operators and companies (roles operator and requester) submit proposals for their
  organization and see their own organization's proposals;
- the auditor reads everything;
- anyone, signed in or not, sees the open calls and the selected pilots (public fields only,
  on the public page).
`access_*` answer 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import PilotCall, Proposal


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_bureau(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_auditor(user) -> bool:
    return bool(_active(user) and has_role(user, Role.AUDITOR))


def is_applicant(user) -> bool:
    return bool(
        _active(user) and user.organization_id and has_role(user, Role.OPERATOR, Role.REQUESTER)
    )


def sees_all(user) -> bool:
    return is_bureau(user) or is_auditor(user)


def uses_pilots(user) -> bool:
    return sees_all(user) or is_applicant(user)


def calls_visible_to(user) -> QuerySet[PilotCall]:
    if uses_pilots(user):
        return PilotCall.objects.all()
    return PilotCall.objects.none()


def proposals_visible_to(user) -> QuerySet[Proposal]:
    qs = Proposal.objects.select_related("call", "organization", "submitted_by")
    if sees_all(user):
        return qs
    if is_applicant(user):
        return qs.filter(organization_id=user.organization_id)
    return qs.none()


def access_call(user, pk) -> PilotCall:
    found = calls_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404
    return found


def access_proposal(user, pk) -> Proposal:
    found = proposals_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404
    return found


# --- guards -----------------------------------------------------------------------------


def manages(obj, user) -> bool:
    return is_bureau(user)


def proposes(proposal: Proposal, user) -> bool:
    return is_applicant(user) and proposal.organization_id == user.organization_id
