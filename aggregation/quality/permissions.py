"""Who sees and acts on quality rules, runs and issues.

The provider's staff and data officers see their own resources' quality and answer their
issues; city reviewers (the bureau) see everything, manage custom rules and close, reopen or
escalate issues; security administrators and auditors may look. Nobody else sees quality
records. `access_*` answers 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from catalog.models import Resource
from wuhan_pdr.accounts.roles import Role, has_role

from ..models import QualityIssue
from ..permissions import works_for

BUREAU_ROLES = (Role.CITY_REVIEWER,)
VIEW_ALL_ROLES = (Role.CITY_REVIEWER, Role.SECURITY_ADMIN, Role.AUDITOR)
AGENCY_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def sees_all_quality(user) -> bool:
    return _active(user) and has_role(user, *VIEW_ALL_ROLES)


def is_bureau(user) -> bool:
    """City reviewers: custom rules, closing, reopening and escalating issues."""
    return _active(user) and has_role(user, *BUREAU_ROLES)


def is_agency_worker(user) -> bool:
    return _active(user) and bool(user.organization_id) and has_role(user, *AGENCY_ROLES)


def uses_quality(user) -> bool:
    return sees_all_quality(user) or is_agency_worker(user)


def can_see_resource(user, resource: Resource) -> bool:
    return sees_all_quality(user) or works_for(user, resource.provider_id)


def can_run(user, resource: Resource) -> bool:
    """The provider's staff and the bureau may start a run."""
    return is_bureau(user) or works_for(user, resource.provider_id)


def can_answer(issue: QualityIssue, user) -> bool:
    return works_for(user, issue.provider_id)


def can_decide(issue: QualityIssue, user) -> bool:
    return is_bureau(user)


def resources_with_quality_visible_to(user) -> QuerySet[Resource]:
    qs = Resource.objects.filter(published_version__isnull=False).select_related(
        "provider", "published_version"
    )
    if sees_all_quality(user):
        return qs
    if is_agency_worker(user):
        return qs.filter(provider_id=user.organization_id)
    return qs.none()


def access_quality_resource(user, pk) -> Resource:
    resource = resources_with_quality_visible_to(user).filter(pk=pk).first()
    if resource is None:
        raise Http404
    return resource


def issues_visible_to(user) -> QuerySet[QualityIssue]:
    qs = QualityIssue.objects.select_related(
        "resource", "resource__published_version", "rule", "provider"
    )
    if sees_all_quality(user):
        return qs
    if is_agency_worker(user):
        return qs.filter(provider_id=user.organization_id)
    return qs.none()


def access_issue(user, pk) -> QualityIssue:
    issue = issues_visible_to(user).filter(pk=pk).first()
    if issue is None:
        raise Http404
    return issue
