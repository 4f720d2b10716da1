"""Who may see and act on disputes (Art. 30): the people of either party (agency staff and
data officers, operators), the city bureau's reviewers (who coordinate and decide), auditors
(read). `access_dispute` answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from supervision.rectification.permissions import is_auditor, is_city_reviewer
from wuhan_pdr.accounts.roles import Role, has_role

from .models import Dispute


def is_party_member(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.organization_id
        and has_role(user, Role.AGENCY_STAFF, Role.AGENCY_ADMIN, Role.OPERATOR)
    )


def may_see_disputes(user) -> bool:
    return is_party_member(user) or is_city_reviewer(user) or is_auditor(user)


def visible_q(user) -> Q:
    if is_city_reviewer(user) or is_auditor(user):
        return Q()
    if is_party_member(user):
        return Q(raised_by_id=user.organization_id) | Q(other_party_id=user.organization_id)
    return Q(pk__in=[])


def is_party(dispute: Dispute, user) -> bool:
    return is_party_member(user) and user.organization_id in (
        dispute.raised_by_id,
        dispute.other_party_id,
    )


def access_dispute(user, pk) -> Dispute:
    d = (
        Dispute.objects.filter(visible_q(user), pk=pk)
        .select_related("raised_by", "other_party")
        .first()
        if may_see_disputes(user)
        else None
    )
    if d is None:
        raise Http404
    return d
