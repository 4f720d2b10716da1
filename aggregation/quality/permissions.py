"""Who sees and acts on quality rules, runs and issues.

The provider's staff and data officers see their own resources' quality and answer their
issues; city reviewers (the bureau) see everything, manage custom rules and close, reopen or
escalate issues; security administrators and auditors may look. Nobody else sees quality
records. `access_*` answers 404 for missing and forbidden alike.

A reference rule (consistency: the values of a column must exist in another resource's key)
tells whether chosen values exist in that other resource. Its counts and sample keys are
shown only to who may see the referenced resource's keys (`sees_reference`, by the same rule
as objections: `objections.permissions.row_rights`); the engine leaves such a rule out of
the scores and the issue list when the provider itself may not see them.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from catalog.models import Resource
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from ..models import QualityIssue, QualityRule
from ..objections.permissions import row_rights
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


@observe_refusals("access.resource", actor_arg="user", object_arg="pk", model="catalog.Resource")
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


@observe_refusals(
    "access.qualityissue", actor_arg="user", object_arg="pk", model="aggregation.QualityIssue"
)
def access_issue(user, pk) -> QualityIssue:
    issue = issues_visible_to(user).filter(pk=pk).first()
    if issue is None:
        raise Http404
    return issue


# --- reference rules ---------------------------------------------------------------------------


def referenced_resource(rule: QualityRule) -> Resource | None:
    if rule.kind != QualityRule.Kind.REFERENCE:
        return None
    pk = (rule.params or {}).get("resource")
    if not isinstance(pk, int):
        return None
    return Resource.objects.select_related("published_version__grade").filter(pk=pk).first()


def _sees_keys(user, resource: Resource | None, *, organization=None) -> bool:
    if resource is None:  # gone: only the overseers see what is left of the check
        return organization is None and sees_all_quality(user)
    return row_rights(user, resource, organization=organization).may_name_rows


def sees_reference(user, rule: QualityRule) -> bool:
    """Whether `user` may see the counts and sample keys of `rule` (True for every rule
    that is not a reference rule)."""
    if rule.kind != QualityRule.Kind.REFERENCE:
        return True
    return _sees_keys(user, referenced_resource(rule))


def provider_sees_reference(rule: QualityRule) -> bool:
    """Whether the staff of the rule's resource's provider may see what the rule tells."""
    if rule.kind != QualityRule.Kind.REFERENCE:
        return True
    return _sees_keys(None, referenced_resource(rule), organization=rule.resource.provider)


def withheld_rules(user, rules) -> set[int]:
    """The pks of the reference rules among `rules` whose results `user` may not see."""
    out: set[int] = set()
    seen: dict = {}
    for rule in rules:
        if rule.kind != QualityRule.Kind.REFERENCE:
            continue
        ref = (rule.params or {}).get("resource")
        if ref not in seen:
            seen[ref] = sees_reference(user, rule)
        if not seen[ref]:
            out.add(rule.pk)
    return out
