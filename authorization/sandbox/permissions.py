"""Who may use the sandbox (Art. 27).

A session is requested by a person of a government body (an agency, a public utility or a
data bureau) holding the requester, agency staff or data officer role, and only that person
runs queries in it. The data officers of the provider see and decide the sessions on their
agency's resources; the city bureau's reviewers see every session's page (they follow the
overdue replies), never its queries. Everyone else gets 404, the same answer as for a session that does not
exist; a session that is not approved or not current answers 404 on its query pages too.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import SandboxSession

REQUESTER_ROLES = (Role.REQUESTER, Role.AGENCY_STAFF, Role.AGENCY_ADMIN)
GOVERNMENT_KINDS = (*Organization.AGENCY_KINDS, *Organization.BUREAU_KINDS)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def can_request(user) -> bool:
    org = getattr(user, "organization", None) if _active(user) else None
    return bool(
        org is not None and org.kind in GOVERNMENT_KINDS and has_role(user, *REQUESTER_ROLES)
    )


def is_provider_officer(user, organization_id=None) -> bool:
    """A data officer of an agency (of `organization_id` when given)."""
    if not (_active(user) and user.organization_id and has_role(user, Role.AGENCY_ADMIN)):
        return False
    return organization_id is None or user.organization_id == organization_id


def is_city_reviewer(user) -> bool:
    """A reviewer of the city bureau: sees the sessions whose reply is overdue."""
    org = getattr(user, "organization", None) if _active(user) else None
    return bool(
        org is not None
        and org.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def may_use_sandbox(user) -> bool:
    return can_request(user) or is_provider_officer(user)


def sessions_visible_q(user) -> Q:
    if not _active(user):
        return Q(pk__in=[])
    if is_city_reviewer(user):
        return Q()  # the bureau follows overdue replies (as it sees every share request)
    q = Q(requester_id=user.pk)
    if is_provider_officer(user):
        q |= Q(provider_id=user.organization_id)
    return q


@observe_refusals(
    "access.sandbox_session",
    actor_arg="user",
    object_arg="pk",
    model="authorization.SandboxSession",
)
def access_session(user, pk) -> SandboxSession:
    session = (
        SandboxSession.objects.filter(sessions_visible_q(user), pk=pk)
        .select_related("requester", "organization", "provider", "decided_by")
        .first()
    )
    if session is None:
        raise Http404
    return session


@observe_refusals(
    "access.sandbox_workspace",
    actor_arg="user",
    object_arg="pk",
    model="authorization.SandboxSession",
)
def access_workspace(user, pk) -> SandboxSession:
    """The session `user` may query now: its own, approved, inside its validity window."""
    session = (
        SandboxSession.objects.filter(
            pk=pk, requester_id=getattr(user, "pk", None), state=SandboxSession.State.APPROVED
        )
        .select_related("provider", "organization")
        .first()
        if _active(user)
        else None
    )
    if session is None or not session.is_current:
        raise Http404
    return session


# --- workflow guards ------------------------------------------------------------------------


def requester_guard(session: SandboxSession, user) -> bool:
    return can_request(user) and session.requester_id == user.pk


def provider_guard(session: SandboxSession, user) -> bool:
    return is_provider_officer(user, session.provider_id)


def party_guard(session: SandboxSession, user) -> bool:
    return requester_guard(session, user) or provider_guard(session, user)
