"""Who may plan, see and act on supervision inspections (Art. 28).

- The city bureau's reviewers inspect any agency and any authorized operator and see every
  inspection; a district bureau's reviewers inspect the agencies of their district and the
  operators their bureau authorized, and see those and their own bureau's inspections.
- The subject's people (an agency's staff and data officer, an operator's staff) see their own
  organization's inspections once they have been notified, never another's, never a plan.
- Auditors read everything. Anonymous visitors see nothing.
Objects come out of `access_inspection`, which answers 404 for missing and forbidden alike."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from supervision.rectification.permissions import (
    _active,
    is_agency_member,
    is_auditor,
    is_city_reviewer,
    is_district_reviewer,
    may_issue,
)
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import Finding, Inspection


def is_operator_member(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.OPERATOR
        and has_role(user, Role.OPERATOR)
    )


def is_subject_member(user) -> bool:
    return is_agency_member(user) or is_operator_member(user)


def may_plan(user) -> bool:
    return may_issue(user)


def may_see_inspections(user) -> bool:
    return may_plan(user) or is_subject_member(user) or is_auditor(user)


def _decided_authorizations():
    from authorization.operation.models import OperationAuthorization

    return OperationAuthorization.objects.filter(state__in=OperationAuthorization.DISCLOSED)


def subjects_for(user) -> QuerySet[Organization]:
    """The organizations `user` may plan an inspection of."""
    orgs = Organization.objects.filter(is_active=True)
    authorized = _decided_authorizations().filter(operator=OuterRef("pk"))
    if is_city_reviewer(user):
        return orgs.filter(
            Q(kind__in=Organization.AGENCY_KINDS)
            | Q(kind=Organization.Kind.OPERATOR) & Q(Exists(authorized))
        ).order_by("kind", "name")
    if is_district_reviewer(user):
        mine = authorized.filter(authorizing_body_id=user.organization_id)
        return orgs.filter(
            Q(kind=Organization.Kind.DISTRICT_AGENCY, division_id=user.organization.division_id)
            | Q(kind=Organization.Kind.OPERATOR) & Q(Exists(mine))
        ).order_by("kind", "name")
    return orgs.none()


def may_inspect(user, subject: Organization) -> bool:
    return subjects_for(user).filter(pk=subject.pk).exists()


def visible_q(user) -> Q:
    if is_city_reviewer(user) or is_auditor(user):
        return Q()
    if is_district_reviewer(user):
        return Q(bureau_id=user.organization_id) | Q(
            subject__kind=Organization.Kind.DISTRICT_AGENCY,
            subject__division_id=user.organization.division_id,
        )
    if is_subject_member(user):
        # Once told, the subject keeps seeing it, also when it is cancelled afterwards.
        return Q(subject_id=user.organization_id, notified_at__isnull=False)
    return Q(pk__in=[])


def is_bureau_side(inspection: Inspection, user) -> bool:
    if is_city_reviewer(user):
        return True
    return is_district_reviewer(user) and user.organization_id == inspection.bureau_id


def is_subject_side(inspection: Inspection, user) -> bool:
    return is_subject_member(user) and user.organization_id == inspection.subject_id


def access_inspection(user, pk) -> Inspection:
    inspection = (
        Inspection.objects.filter(visible_q(user), pk=pk)
        .select_related("bureau", "subject", "planned_by", "authorization")
        .first()
        if may_see_inspections(user)
        else None
    )
    if inspection is None:
        raise Http404
    return inspection


def access_finding(user, inspection: Inspection, pk) -> Finding:
    finding = (
        Finding.objects.filter(inspection=inspection, pk=pk)
        .select_related("inspection__subject", "order")
        .first()
    )
    if finding is None:
        raise Http404
    return finding
