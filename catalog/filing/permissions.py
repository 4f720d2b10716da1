"""Who may see and file census records, campaigns, IT projects and collection lists.

Rights follow the organization, as for the catalog itself:
- agency staff and data officers register and edit their own agency's systems, projects
  and collection list, and see only those;
- the city data bureau's reviewers oversee every agency (city, district, public utility):
  census board, campaign board, all projects and collection lists; they open and close
  campaigns;
- a district data bureau's reviewers oversee the district agencies of their district;
- auditors read everything.
A project is decided (approved, returned, rejected, accepted) by the bureau responsible for
its agency, the same one that reviews its catalog entries (`catalog.permissions.reviews_for`).
Objects come out of the `access_*` helpers, which answer 404 for missing and forbidden alike.
"""

from __future__ import annotations

from django.db.models import Q
from django.http import Http404

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import observe_refusals

from ..permissions import FILER_ROLES, can_file_for, reviews_for
from .models import CollectionListEntry, InformationSystem, ITProject

NOTHING = Q(pk__in=[])


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_filer(user) -> bool:
    """Staff or data officer of an agency: files for its own organization."""
    return bool(
        _active(user)
        and user.organization_id
        and user.organization.is_agency
        and has_role(user, *FILER_ROLES)
    )


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


def is_auditor(user) -> bool:
    return bool(_active(user) and has_role(user, Role.AUDITOR))


def oversees_any(user) -> bool:
    """Whether `user` sees the boards (census and campaign progress) of some agencies."""
    return is_city_reviewer(user) or is_district_reviewer(user) or is_auditor(user)


def may_use_filing(user) -> bool:
    return is_filer(user) or oversees_any(user)


def overseen_agencies_q(user, prefix: str = "") -> Q:
    """A filter on agencies (organizations, or records through `prefix`) `user` oversees."""
    p = f"{prefix}__" if prefix else ""
    if not _active(user):
        return NOTHING
    if is_city_reviewer(user) or is_auditor(user):
        return Q(**{f"{p}kind__in": Organization.AGENCY_KINDS})
    if is_district_reviewer(user):
        return Q(
            **{
                f"{p}kind": Organization.Kind.DISTRICT_AGENCY,
                f"{p}division_id": user.organization.division_id,
            }
        )
    return NOTHING


def records_visible_q(user, field: str = "organization") -> Q:
    """Records of agencies `user` may read: its own agency's, and those it oversees."""
    if not _active(user):
        return NOTHING
    q = overseen_agencies_q(user, prefix=field)
    if is_filer(user):
        q |= Q(**{f"{field}_id": user.organization_id})
    return q


def can_edit_for(user, organization: Organization | None) -> bool:
    """Whether `user` may register and edit census records, projects and collection-list
    entries of `organization`: only its own staff and data officer."""
    return can_file_for(user, organization)


def project_decider(project: ITProject, user) -> bool:
    """The bureau responsible for the project's agency decides on it."""
    return reviews_for(user, project.organization)


def project_filer(project: ITProject, user) -> bool:
    return can_file_for(user, project.organization)


def may_open_campaigns(user) -> bool:
    """Campaigns are organised city-wide by the city data bureau (Art. 12)."""
    return is_city_reviewer(user)


# --- objects -----------------------------------------------------------------------------------


@observe_refusals(
    "access.informationsystem", actor_arg="user", object_arg="pk", model="catalog.InformationSystem"
)
def access_system(user, pk) -> InformationSystem:
    system = (
        InformationSystem.objects.filter(records_visible_q(user), pk=pk)
        .select_related("organization", "created_by")
        .first()
    )
    if system is None:
        raise Http404
    return system


@observe_refusals("access.itproject", actor_arg="user", object_arg="pk", model="catalog.ITProject")
def access_project(user, pk) -> ITProject:
    project = (
        ITProject.objects.filter(records_visible_q(user), pk=pk)
        .select_related("organization__division", "created_by")
        .first()
    )
    if project is None:
        raise Http404
    return project


@observe_refusals(
    "access.collectionlistentry",
    actor_arg="user",
    object_arg="pk",
    model="catalog.CollectionListEntry",
)
def access_collection_entry(user, pk) -> CollectionListEntry:
    entry = (
        CollectionListEntry.objects.filter(records_visible_q(user), pk=pk)
        .select_related("organization", "resource__published_version", "created_by")
        .first()
    )
    if entry is None:
        raise Http404
    return entry


@observe_refusals(
    "access.organization", actor_arg="user", object_arg="pk", model="accounts.Organization"
)
def access_agency(user, pk) -> Organization:
    """An agency whose census `user` may read (its own, or one it oversees)."""
    q = overseen_agencies_q(user)
    if is_filer(user):
        q |= Q(pk=user.organization_id)
    agency = Organization.objects.filter(q, pk=pk, kind__in=Organization.AGENCY_KINDS).first()
    if agency is None:
        raise Http404
    return agency
