"""Who sees and works objections (Art. 10).

The requester sees its own objections; the provider's staff and data officers see the
objections about their agency's resources (of the requester only the name and organization);
the city data bureau's reviewers see and decide every objection. Everyone else gets 404:
`access_objection` answers the same for missing and forbidden.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from ..models import Objection

PROVIDER_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_bureau(user) -> bool:
    """A reviewer of the city data bureau: accepts, consults on and closes objections."""
    org = getattr(user, "organization", None) if _active(user) else None
    return bool(
        org is not None
        and org.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_provider_worker(user) -> bool:
    """Staff or data officer of some agency (may have objections to carry out)."""
    return bool(_active(user) and user.organization_id and has_role(user, *PROVIDER_ROLES))


def is_provider_of(user, objection: Objection) -> bool:
    return bool(is_provider_worker(user) and user.organization_id == objection.resource.provider_id)


def is_requester_of(user, objection: Objection) -> bool:
    return bool(_active(user) and objection.requester_id == user.pk)


def can_file(user) -> bool:
    """Any signed-in, active user may object to published data."""
    return _active(user)


def can_set_limits(user) -> bool:
    return is_bureau(user) or (_active(user) and has_role(user, Role.SYSTEM_ADMIN))


def sees_requester_contact(user, objection: Objection) -> bool:
    """The requester's account details beyond name and organization: the bureau and the
    requester only, never the provider."""
    return is_bureau(user) or is_requester_of(user, objection)


def objections_visible_q(user) -> Q:
    if not _active(user):
        return Q(pk__in=[])
    if is_bureau(user):
        return Q()
    q = Q(requester_id=user.pk)
    if is_provider_worker(user):
        q |= Q(resource__provider_id=user.organization_id)
    return q


def access_objection(user, pk) -> Objection:
    objection = (
        Objection.objects.filter(objections_visible_q(user), pk=pk)
        .select_related(
            "resource__provider",
            "resource__published_version",
            "requester__organization",
        )
        .first()
    )
    if objection is None:
        raise Http404
    return objection


# --- workflow guards ------------------------------------------------------------------------


def bureau_guard(objection: Objection, user) -> bool:
    return is_bureau(user)


def provider_guard(objection: Objection, user) -> bool:
    return is_provider_of(user, objection)


def filer_guard(objection: Objection, user) -> bool:
    return can_file(user)
