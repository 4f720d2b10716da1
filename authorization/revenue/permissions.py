"""Who sees and records operation revenue and its distribution.

- an authorized operator (role operator) records and sees its own organization's revenue
  and distributions;
- the city bureau's reviewers record revenue for any operator, set and adjust every
  distribution and see every statement; the auditor reads everything;
- an agency's data officer sees its own agency's statement only (never another agency's).
`access_*` answer 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import DistributionShare, OperatorRevenue


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


def is_operator(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.OPERATOR
        and has_role(user, Role.OPERATOR)
    )


def is_agency_officer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.is_agency
        and has_role(user, Role.AGENCY_ADMIN)
    )


def sees_all(user) -> bool:
    return is_bureau(user) or is_auditor(user)


def uses_revenue(user) -> bool:
    """The revenue list: the bureau, the auditor and operators."""
    return sees_all(user) or is_operator(user)


def uses_statements(user) -> bool:
    return sees_all(user) or is_agency_officer(user)


def may_record(user) -> bool:
    return is_bureau(user) or is_operator(user)


def may_record_for(user, operator: Organization) -> bool:
    if operator is None or operator.kind != Organization.Kind.OPERATOR:
        return False
    return is_bureau(user) or (is_operator(user) and user.organization_id == operator.pk)


def may_distribute(user) -> bool:
    return is_bureau(user)


def revenue_visible_to(user) -> QuerySet[OperatorRevenue]:
    qs = OperatorRevenue.objects.select_related("operator", "recorded_by")
    if sees_all(user):
        return qs
    if is_operator(user):
        return qs.filter(operator_id=user.organization_id)
    return qs.none()


def shares_visible_q(user) -> Q | None:
    if sees_all(user):
        return Q()
    if is_agency_officer(user):
        return Q(agency_id=user.organization_id)
    return None


def shares_visible_to(user) -> QuerySet[DistributionShare]:
    q = shares_visible_q(user)
    if q is None:
        return DistributionShare.objects.none()
    return DistributionShare.objects.filter(q)


def access_revenue(user, pk) -> OperatorRevenue:
    found = revenue_visible_to(user).filter(pk=pk).first() if str(pk).isdigit() else None
    if found is None:
        raise Http404
    return found


def access_statement_agency(user, pk) -> Organization:
    """The agency whose statement `user` asks for: any agency for the bureau and the
    auditor, its own for a data officer; 404 otherwise."""
    if not str(pk).isdigit():
        raise Http404
    if sees_all(user) or (is_agency_officer(user) and int(pk) == user.organization_id):
        found = Organization.objects.filter(pk=pk).first()
        if found is not None:
            return found
    raise Http404
