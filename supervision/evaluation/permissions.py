"""Who may see and act on evaluations (Art. 29).

- City bureau reviewers (city_reviewer of the city bureau) define plans, start runs, adjust
  scores with a reason, publish runs and download the report; auditors read everything.
- Agency staff and data officers see the published runs of their own agency only, with the
  drill-down to their own records.
Objects come out of the `access_*` helpers, which answer 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import EvaluationPlan, EvaluationRun


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_city_reviewer(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.kind == Organization.Kind.CITY_BUREAU
        and has_role(user, Role.CITY_REVIEWER)
    )


def is_auditor(user) -> bool:
    return bool(_active(user) and has_role(user, Role.AUDITOR))


def may_manage(user) -> bool:
    """Define plans, run them, adjust, publish."""
    return is_city_reviewer(user)


def sees_all(user) -> bool:
    return is_city_reviewer(user) or is_auditor(user)


def is_agency_member(user) -> bool:
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.is_agency
        and has_role(user, Role.AGENCY_STAFF, Role.AGENCY_ADMIN)
    )


def may_see_evaluations(user) -> bool:
    return sees_all(user) or is_agency_member(user)


def access_plan(user, pk) -> EvaluationPlan:
    if not sees_all(user):
        raise Http404
    plan = EvaluationPlan.objects.filter(pk=pk).first()
    if plan is None:
        raise Http404
    return plan


def access_run(user, pk) -> EvaluationRun:
    """A run: any run for the bureau and auditors; a published run for agency members (who
    then see their own agency's rows only)."""
    run = EvaluationRun.objects.select_related("plan").filter(pk=pk).first()
    if run is None:
        raise Http404
    if sees_all(user):
        return run
    if is_agency_member(user) and run.is_published:
        return run
    raise Http404


def agency_in_view(user, run: EvaluationRun, agency_id) -> int:
    """The agency whose rows `user` may see in `run`: any for the bureau, its own otherwise."""
    if sees_all(user):
        if not Organization.objects.filter(
            pk=agency_id, kind__in=Organization.AGENCY_KINDS
        ).exists():
            raise Http404
        return int(agency_id)
    if str(user.organization_id) != str(agency_id):
        raise Http404
    return user.organization_id
