"""Who may issue, see and act on rectification orders (Art. 31).

- The city bureau's reviewers issue orders to any agency and see every order; a district
  bureau's reviewers issue orders to the agencies of their own district and see those.
- An agency's staff and data officer see their agency's orders; they acknowledge and answer.
- The issuing side (the issuing bureau's reviewers, and the city bureau's for any order)
  verifies or returns; auditors read everything.
Objects come out of `access_order`, which answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import RectificationOrder


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_city_reviewer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_district_reviewer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.DISTRICT_BUREAU
        and has_role(user, Role.DISTRICT_REVIEWER)
    )


def is_agency_member(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.is_agency
        and has_role(user, Role.AGENCY_STAFF, Role.AGENCY_ADMIN)
    )


def is_auditor(user) -> bool:
    return bool(_active(user) and has_role(user, Role.AUDITOR))


def may_issue(user) -> bool:
    return is_city_reviewer(user) or is_district_reviewer(user)


def may_see_orders(user) -> bool:
    return may_issue(user) or is_agency_member(user) or is_auditor(user)


def may_issue_to(user, agency: Organization) -> bool:
    if not agency.is_agency:
        return False
    if is_city_reviewer(user):
        return True
    return bool(
        is_district_reviewer(user)
        and agency.kind == Organization.Kind.DISTRICT_AGENCY
        and agency.division_id == user.organization.division_id
    )


def agencies_for(user) -> QuerySet[Organization]:
    qs = Organization.objects.filter(kind__in=Organization.AGENCY_KINDS, is_active=True)
    if is_city_reviewer(user):
        return qs
    if is_district_reviewer(user):
        return qs.filter(
            kind=Organization.Kind.DISTRICT_AGENCY, division_id=user.organization.division_id
        )
    return qs.none()


def visible_orders_q(user) -> Q:
    if is_city_reviewer(user) or is_auditor(user):
        return Q()
    if is_district_reviewer(user):
        return Q(issuer_id=user.organization_id) | Q(
            agency__kind=Organization.Kind.DISTRICT_AGENCY,
            agency__division_id=user.organization.division_id,
        )
    if is_agency_member(user):
        return Q(agency_id=user.organization_id)
    return Q(pk__in=[])


def is_agency_side(order: RectificationOrder, user) -> bool:
    return is_agency_member(user) and user.organization_id == order.agency_id


def is_issuer_side(order: RectificationOrder, user) -> bool:
    if is_city_reviewer(user):
        return True
    return is_district_reviewer(user) and user.organization_id == order.issuer_id


def access_order(user, pk) -> RectificationOrder:
    order = (
        RectificationOrder.objects.filter(visible_orders_q(user), pk=pk)
        .select_related("issuer", "agency", "issued_by")
        .first()
        if may_see_orders(user)
        else None
    )
    if order is None:
        raise Http404
    return order
