"""Who may see, file and move which catalog records.

Rights follow the organization: staff and data officers of the provider see and file its
drafts; the district bureau's reviewers see what district agencies of their district
submit; the city bureau's reviewers see what city agencies submit (and every district's
published catalog). Objects come out of `access_version`, which answers 404 for missing and
forbidden alike.

Of what is published, the public sees the **open catalog** (domain.md, "Who uses it"): the
entries open unconditionally or under conditions whose grade allows that opening. People of
public bodies (the sharing catalog's users: agencies, utilities and the data bureaus, Art. 3,
17) and the platform's officers see the whole published catalog. `catalog_visible_q` is the
one rule; every page, export and API that lists or shows published entries applies it.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from .models import ResourceVersion
from .public import public_resources_q

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


# --- who sees which published entries ------------------------------------------------------

# Roles held by people of public bodies and by the platform's officers: they see the whole
# published (sharing) catalog.
GOVERNMENT_ROLES = (
    Role.AGENCY_STAFF,
    Role.AGENCY_ADMIN,
    Role.DISTRICT_REVIEWER,
    Role.CITY_REVIEWER,
    Role.SECURITY_ADMIN,
    Role.AUDITOR,
    Role.SYSTEM_ADMIN,
)
# 公共管理和服务机构 (Art. 3) and the data bureaus: the parties of data sharing (Art. 17).
PUBLIC_BODY_KINDS = (*Organization.AGENCY_KINDS, *Organization.BUREAU_KINDS)

AUDIENCE_PUBLIC = "public"
AUDIENCE_GOVERNMENT = "government"


def catalog_audience(user) -> str:
    """Which catalog `user` sees: "government" (the whole published catalog) for the
    government roles and for data requesters of a public body; "public" (the open catalog)
    for anonymous visitors and for outside users (requesters of companies, operators).
    Grants to outside users come with the sharing chapter and will widen it per grant."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return AUDIENCE_PUBLIC
    if has_role(user, *GOVERNMENT_ROLES):
        return AUDIENCE_GOVERNMENT
    if (
        has_role(user, Role.REQUESTER)
        and user.organization_id
        and user.organization.kind in PUBLIC_BODY_KINDS
    ):
        return AUDIENCE_GOVERNMENT
    return AUDIENCE_PUBLIC


def open_catalog_q(prefix: str = "") -> Q:
    """Rows (catalog entries or versions, or what leads to one through `prefix`) in the open
    catalog: the one rule for what is public, `catalog.public.public_resources_q`."""
    return public_resources_q(prefix)


def catalog_visible_q(user, prefix: str = "") -> Q:
    """The published entries `user` may see, as a filter on `CatalogEntry` (or, through
    `prefix`, on anything with `open_type` and `grade`: "resource__entry", "version")."""
    if catalog_audience(user) == AUDIENCE_GOVERNMENT:
        return Q()
    return open_catalog_q(prefix)


def versions_visible_q(user) -> Q:
    """Versions `user` may read: the published and superseded versions of the resources in
    its catalog (for the public, only those versions that were themselves open), its
    agency's own, and those it reviews."""
    published = Q(state__in=[ResourceVersion.State.PUBLISHED, ResourceVersion.State.SUPERSEDED])
    if catalog_audience(user) == AUDIENCE_PUBLIC:
        published &= open_catalog_q() & open_catalog_q("resource__entry")
    q = published
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


@observe_refusals(
    "access.resourceversion", actor_arg="user", object_arg="pk", model="catalog.ResourceVersion"
)
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


@observe_refusals(
    "access.catalogfeedback", actor_arg="user", object_arg="pk", model="catalog.CatalogFeedback"
)
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
