"""Who may see, file and move which catalog records.

Rights follow the organization: staff and data officers of the provider see and file its
drafts; the district bureau's reviewers see what district agencies of their district
submit; the city bureau's reviewers see what city agencies submit (and every district's
published catalog). Everyone sees what is published. Objects come out of `access_version`,
which answers 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role

from .models import ResourceVersion

FILER_ROLES = (Role.AGENCY_STAFF, Role.AGENCY_ADMIN)


def can_file_for(user, organization: Organization | None) -> bool:
    """Whether `user` may file catalog entries for `organization`."""
    return bool(
        organization is not None
        and user.is_authenticated
        and user.is_active
        and user.organization_id == organization.pk
        and organization.is_agency
        and has_role(user, *FILER_ROLES)
    )


def is_agency_admin_of(user, organization: Organization) -> bool:
    return (
        user.is_authenticated
        and user.organization_id == organization.pk
        and has_role(user, Role.AGENCY_ADMIN)
    )


def reviews_for(user, provider: Organization) -> bool:
    """Whether `user` is a reviewer responsible for `provider`'s catalog (Art. 13): the
    district bureau of a district agency's district, the city bureau for everyone else."""
    if not user.is_authenticated or not user.is_active or user.organization is None:
        return False
    org = user.organization
    if provider.kind == Organization.Kind.DISTRICT_AGENCY:
        return (
            has_role(user, Role.DISTRICT_REVIEWER)
            and org.kind == Organization.Kind.DISTRICT_BUREAU
            and org.division_id == provider.division_id
        )
    return has_role(user, Role.CITY_REVIEWER) and org.kind == Organization.Kind.CITY_BUREAU


def reviewable_providers_q(user, prefix: str = "resource__provider") -> Q:
    """A filter on providers whose submissions `user` reviews."""
    none = Q(pk__in=[])
    if not user.is_authenticated or user.organization is None:
        return none
    org = user.organization
    q = none
    if has_role(user, Role.CITY_REVIEWER) and org.kind == Organization.Kind.CITY_BUREAU:
        q |= ~Q(**{f"{prefix}__kind": Organization.Kind.DISTRICT_AGENCY})
    if has_role(user, Role.DISTRICT_REVIEWER) and org.kind == Organization.Kind.DISTRICT_BUREAU:
        q |= Q(
            **{
                f"{prefix}__kind": Organization.Kind.DISTRICT_AGENCY,
                f"{prefix}__division_id": org.division_id,
            }
        )
    return q


def versions_visible_q(user) -> Q:
    """Versions `user` may read: published ones, its agency's own, and those it reviews."""
    q = Q(state__in=[ResourceVersion.State.PUBLISHED, ResourceVersion.State.SUPERSEDED])
    if not user.is_authenticated:
        return q
    if user.organization_id and has_role(user, *FILER_ROLES):
        q |= Q(resource__provider_id=user.organization_id)
    if has_role(user, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER):
        q |= reviewable_providers_q(user) & ~Q(state=ResourceVersion.State.DRAFT)
    if has_role(user, Role.AUDITOR):
        q = Q()
    return q


def can_view_version(user, version: ResourceVersion) -> bool:
    return ResourceVersion.objects.filter(versions_visible_q(user), pk=version.pk).exists()


def access_version(user, pk) -> ResourceVersion:
    version = (
        ResourceVersion.objects.filter(versions_visible_q(user), pk=pk)
        .select_related(
            "resource__provider__division", "resource__classification", "grade", "created_by"
        )
        .first()
    )
    if version is None:
        raise Http404
    return version


# --- catalog feedback -------------------------------------------------------------------------


def feedback_responder(feedback, user) -> bool:
    """The provider's staff and data officers answer feedback and adjust the entry."""
    return can_file_for(user, feedback.provider)


def feedback_reviewer(feedback, user) -> bool:
    """The bureau responsible for the provider decides on feedback."""
    return reviews_for(user, feedback.provider)


def feedback_visible_q(user) -> Q:
    if not user.is_authenticated:
        return Q(pk__in=[])
    if has_role(user, Role.AUDITOR):
        return Q()
    q = Q(requester_id=user.pk)
    if user.organization_id and has_role(user, *FILER_ROLES):
        q |= Q(provider_id=user.organization_id)
    if has_role(user, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER):
        q |= reviewable_providers_q(user, prefix="provider")
    return q


def access_feedback(user, pk):
    from .models import CatalogFeedback

    feedback = (
        CatalogFeedback.objects.filter(feedback_visible_q(user), pk=pk)
        .select_related(
            "provider__division", "resource__published_version", "requester", "adjusted_version"
        )
        .first()
    )
    if feedback is None:
        raise Http404
    return feedback
