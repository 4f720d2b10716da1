"""Writes of agency filing: the census of information systems, compilation campaigns, IT
projects with their public data lists, and collection lists. Each service takes
`acting_user`, checks rights and state first, runs in one transaction, and records history
(and workflow events) naming the actor.

Acceptance of an IT project (Art. 11) is refused until every entry of its data list is a
catalog resource published in the catalog, and until every registered acceptance check is
satisfied: apps that come after the catalog (aggregation: "has a working channel") add their
checks with `register_acceptance_check` without the catalog importing them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify

from ..models import Resource
from . import selectors
from .models import (
    CensusConfirmation,
    CollectionListEntry,
    CompilationCampaign,
    InformationSystem,
    ITProject,
    ProjectDataEntry,
)
from .permissions import can_edit_for, may_open_campaigns
from .workflows import campaign_workflow, project_workflow

P = ITProject.State
C = CompilationCampaign.State

SYSTEM_FIELDS = (
    "name",
    "purpose",
    "builder",
    "budget_funded",
    "go_live_date",
    "database_kind",
    "data_volume_gb",
    "status",
    "contact_name",
    "contact_phone",
)
PROJECT_FIELDS = ("name", "budget_amount", "year", "description")
COLLECTION_FIELDS = (
    "data_name",
    "legal_basis",
    "norms",
    "method",
    "frequency",
    "subject_scope",
)


def _no_nulls(fields: dict) -> None:
    for name, value in fields.items():
        if isinstance(value, str) and "\x00" in value:
            raise DomainError(_("Null characters are not allowed."), field=name)


def _require_editor(user: User, organization: Organization) -> None:
    if not can_edit_for(user, organization):
        raise AccessDenied(_("You may only file records of your own agency."))


def _own_resources(organization: Organization, resources: Iterable[Resource]) -> list[Resource]:
    resources = list(resources)
    if any(r.provider_id != organization.pk for r in resources):
        raise DomainError(_("Only resources of your own agency can be linked."), field="resources")
    if any(r.retired_at is not None for r in resources):
        raise DomainError(_("A retired resource cannot be linked."), field="resources")
    return resources


def _checked_save(obj, *, acting_user: User, reason: str, validate: bool = True):
    """audited_save, with the model's own validation turned into a refusal on the field."""
    try:
        return audited_save(obj, acting_user=acting_user, reason=reason, validate=validate)
    except ValidationError as exc:
        errors = getattr(exc, "message_dict", None) or {None: exc.messages}
        field, messages = next(iter(errors.items()))
        field = None if field == NON_FIELD_ERRORS else field
        raise DomainError(" ".join(str(m) for m in messages), field=field) from exc


def _save(obj, *, acting_user: User, reason: str, unique_field: str, unique_message: str):
    """audited_save, turning a unique-constraint clash into a message on the field."""
    try:
        with transaction.atomic():
            return _checked_save(obj, acting_user=acting_user, reason=reason)
    except IntegrityError as exc:
        raise DomainError(unique_message, field=unique_field) from exc


# --- census -----------------------------------------------------------------------------------


def _system_fields(system: InformationSystem, fields: dict) -> None:
    unknown = set(fields) - set(SYSTEM_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    _no_nulls(fields)
    for name, value in fields.items():
        setattr(system, name, value.strip() if isinstance(value, str) else value)


def _check_unique_system(system: InformationSystem) -> None:
    clash = InformationSystem.objects.filter(
        organization_id=system.organization_id, name=system.name
    ).exclude(pk=system.pk)
    if clash.exists():
        raise DomainError(
            _("Your agency has already registered a system named “%(name)s”.")
            % {"name": system.name},
            field="name",
        )


@transaction.atomic
def system_create(
    *,
    organization: Organization,
    fields: dict,
    resources: Iterable[Resource] = (),
    acting_user: User,
) -> InformationSystem:
    """Register an information system of `organization` in the census and link it to the
    agency's resources it produces."""
    _require_editor(acting_user, organization)
    system = InformationSystem(organization=organization, created_by=acting_user)
    _system_fields(system, fields)
    _check_unique_system(system)
    linked = _own_resources(organization, resources)
    _checked_save(system, acting_user=acting_user, reason=_("Registered in the census"))
    if linked:
        system._history_user = acting_user
        system.resources.set(linked)
    return system


@transaction.atomic
def system_update(
    *,
    system: InformationSystem,
    fields: dict,
    resources: Iterable[Resource] | None = None,
    acting_user: User,
) -> InformationSystem:
    """Change a system's census record and, when `resources` is given, its links."""
    system = (
        InformationSystem.objects.select_for_update()
        .select_related("organization")
        .get(pk=system.pk)
    )
    _require_editor(acting_user, system.organization)
    _system_fields(system, fields)
    _check_unique_system(system)
    _checked_save(system, acting_user=acting_user, reason=_("Census record changed"))
    if resources is not None:
        linked = _own_resources(system.organization, resources)
        system._history_user = acting_user
        system.resources.set(linked)
    return system


@transaction.atomic
def system_link_resources(
    *, system: InformationSystem, resources: Iterable[Resource], acting_user: User
) -> InformationSystem:
    """Set the resources a system produces (only the agency's own)."""
    system = (
        InformationSystem.objects.select_for_update()
        .select_related("organization")
        .get(pk=system.pk)
    )
    _require_editor(acting_user, system.organization)
    linked = _own_resources(system.organization, resources)
    system._history_user = acting_user
    system._change_reason = _("Linked resources changed")
    system.resources.set(linked)
    return system


# --- campaigns --------------------------------------------------------------------------------


@transaction.atomic
def campaign_open(
    *, name: str, year: int, deadline, description: str = "", acting_user: User
) -> CompilationCampaign:
    """Open a compilation campaign (Art. 12) for every agency of the city."""
    if not may_open_campaigns(acting_user):
        raise AccessDenied(_("Only the city data bureau opens compilation campaigns."))
    _no_nulls({"name": name, "description": description})
    name = (name or "").strip()
    if CompilationCampaign.objects.filter(name=name).exists():
        raise DomainError(
            _("A campaign named “%(name)s” exists already.") % {"name": name}, field="name"
        )
    if deadline is not None and year and deadline.year < year:
        raise DomainError(_("The deadline falls before the campaign's year."), field="deadline")
    campaign = CompilationCampaign(
        name=name,
        year=year,
        deadline=deadline,
        description=(description or "").strip(),
        opened_by=acting_user,
    )
    campaign = _save(
        campaign,
        acting_user=acting_user,
        reason=_("Campaign opened"),
        unique_field="name",
        unique_message=_("A campaign named “%(name)s” exists already.") % {"name": name},
    )
    filers = User.objects.filter(
        organization__kind__in=Organization.AGENCY_KINDS,
        groups__name=Role.AGENCY_ADMIN,
        is_active=True,
    )
    url = reverse("filing:campaign", kwargs={"pk": campaign.pk})
    title = _("Compilation campaign opened: %(name)s, deadline %(date)s") % {
        "name": campaign.name,
        "date": campaign.deadline.isoformat(),
    }
    notify(recipients=filers, title=title, body=campaign.description, url=url)
    return campaign


@transaction.atomic
def campaign_transition(
    *, campaign: CompilationCampaign, action: str, acting_user: User, comment: str = ""
) -> CompilationCampaign:
    """Close a campaign (its board is kept as it stands) or reopen it."""
    campaign = CompilationCampaign.objects.select_for_update().get(pk=campaign.pk)
    campaign_workflow.check(campaign, action, acting_user=acting_user, comment=comment)
    if action == "close":
        rows = selectors.campaign_board(acting_user, campaign)
        campaign.final_board = [r.as_dict() for r in rows]
        campaign.closed_at = timezone.now()
    elif action == "reopen":
        campaign.final_board = []
        campaign.closed_at = None
    campaign_workflow.apply(campaign, action, acting_user=acting_user, comment=comment)
    return campaign


@transaction.atomic
def census_confirm(*, campaign: CompilationCampaign, acting_user: User) -> CensusConfirmation:
    """The agency states that its census of information systems is done, for `campaign`."""
    organization = acting_user.organization if acting_user.is_authenticated else None
    _require_editor(acting_user, organization)
    campaign = CompilationCampaign.objects.select_for_update().get(pk=campaign.pk)
    if campaign.state != C.OPEN:
        raise DomainError(_("The campaign is closed."))
    if not InformationSystem.objects.filter(organization=organization).exists():
        raise DomainError(_("Register at least one information system before confirming."))
    if CensusConfirmation.objects.filter(campaign=campaign, organization=organization).exists():
        raise DomainError(_("Your agency has already confirmed its census for this campaign."))
    confirmation = CensusConfirmation(
        campaign=campaign, organization=organization, confirmed_by=acting_user
    )
    _checked_save(confirmation, acting_user=acting_user, reason=_("Census confirmed"))
    return confirmation


# --- IT projects ------------------------------------------------------------------------------


def _project_fields(project: ITProject, fields: dict) -> None:
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    _no_nulls(fields)
    for name, value in fields.items():
        setattr(project, name, value.strip() if isinstance(value, str) else value)
    if project.budget_amount is not None and Decimal(project.budget_amount) <= 0:
        raise DomainError(_("The budget must be more than zero."), field="budget_amount")


def _check_unique_project(project: ITProject) -> None:
    clash = ITProject.objects.filter(
        organization_id=project.organization_id, year=project.year, name=project.name
    ).exclude(pk=project.pk)
    if clash.exists():
        raise DomainError(
            _("Your agency already has a project named “%(name)s” for %(year)s.")
            % {"name": project.name, "year": project.year},
            field="name",
        )


@transaction.atomic
def project_create(*, organization: Organization, fields: dict, acting_user: User) -> ITProject:
    """Record an IT project of `organization` as a draft; its data list is added next."""
    _require_editor(acting_user, organization)
    project = ITProject(organization=organization, created_by=acting_user)
    _project_fields(project, fields)
    _check_unique_project(project)
    return _checked_save(project, acting_user=acting_user, reason=_("Project recorded"))


def _locked_project(project: ITProject) -> ITProject:
    return (
        ITProject.objects.select_for_update()
        .select_related("organization", "created_by")
        .get(pk=project.pk)
    )


@transaction.atomic
def project_update(*, project: ITProject, fields: dict, acting_user: User) -> ITProject:
    project = _locked_project(project)
    _require_editor(acting_user, project.organization)
    if project.state not in ITProject.EDITABLE_STATES:
        raise DomainError(_("Only a draft or a returned project can be changed."))
    _project_fields(project, fields)
    _check_unique_project(project)
    return _checked_save(project, acting_user=acting_user, reason=_("Project changed"))


def _check_list_editable(project: ITProject, acting_user: User) -> None:
    _require_editor(acting_user, project.organization)
    if project.state not in ITProject.LIST_EDITABLE_STATES:
        raise DomainError(
            _("The data list can be changed only before the project is submitted for acceptance.")
        )


def _check_entry_resource(project: ITProject, resource: Resource, *, exclude=None) -> None:
    if resource.provider_id != project.organization_id:
        raise DomainError(_("Only resources of your own agency can be listed."), field="resource")
    clash = project.entries.filter(resource=resource)
    if exclude is not None:
        clash = clash.exclude(pk=exclude.pk)
    if clash.exists():
        raise DomainError(
            _("The resource %(code)s is already on the list.") % {"code": resource.code},
            field="resource",
        )


@transaction.atomic
def project_entry_add(
    *,
    project: ITProject,
    resource: Resource | None = None,
    planned_name: str = "",
    note: str = "",
    acting_user: User,
) -> ProjectDataEntry:
    """Add to the project's public data list an existing resource of the agency, or the name
    of a resource the project will produce that is not catalogued yet."""
    project = _locked_project(project)
    _check_list_editable(project, acting_user)
    _no_nulls({"planned_name": planned_name, "note": note})
    planned_name = (planned_name or "").strip()
    if resource is None and not planned_name:
        raise DomainError(
            _("Choose a catalog resource, or name the resource the project will produce."),
            field="resource",
        )
    if resource is not None:
        _check_entry_resource(project, resource)
        planned_name = ""
    entry = ProjectDataEntry(
        project=project, resource=resource, planned_name=planned_name, note=(note or "").strip()
    )
    _checked_save(entry, acting_user=acting_user, reason=_("Added to the data list"))
    _checked_save(project, acting_user=acting_user, reason=_("Data list changed"), validate=False)
    return entry


@transaction.atomic
def project_entry_link(
    *, entry: ProjectDataEntry, resource: Resource, acting_user: User
) -> ProjectDataEntry:
    """Link a planned entry (or re-link an entry) to the catalog resource that holds it."""
    entry = ProjectDataEntry.objects.select_for_update().get(pk=entry.pk)
    project = _locked_project(entry.project)
    _check_list_editable(project, acting_user)
    _check_entry_resource(project, resource, exclude=entry)
    entry.resource = resource
    _checked_save(entry, acting_user=acting_user, reason=_("Linked to a catalog resource"))
    _checked_save(project, acting_user=acting_user, reason=_("Data list changed"), validate=False)
    return entry


@transaction.atomic
def project_entry_remove(*, entry: ProjectDataEntry, acting_user: User) -> None:
    """Remove an entry from the list; only before approval, so that acceptance is checked
    against the list the project was approved with and what was added since."""
    entry = ProjectDataEntry.objects.select_for_update().get(pk=entry.pk)
    project = _locked_project(entry.project)
    _require_editor(acting_user, project.organization)
    if project.state not in ITProject.EDITABLE_STATES:
        raise DomainError(_("Entries can be removed only before the project is approved."))
    entry._history_user = acting_user
    entry._change_reason = _("Removed from the data list")
    entry.delete()
    _checked_save(project, acting_user=acting_user, reason=_("Data list changed"), validate=False)


# --- acceptance checks ------------------------------------------------------------------------

AcceptanceCheck = Callable[[Resource], list[str]]
_ACCEPTANCE_CHECKS: list[AcceptanceCheck] = []


def register_acceptance_check(check: AcceptanceCheck) -> AcceptanceCheck:
    """Add a condition every published resource of a project's data list must meet before
    acceptance. `check(resource)` returns what is missing (e.g. "no working channel"), an
    empty list when nothing is. Usable as a decorator; registering twice has no effect."""
    if check not in _ACCEPTANCE_CHECKS:
        _ACCEPTANCE_CHECKS.append(check)
    return check


def unregister_acceptance_check(check: AcceptanceCheck) -> None:
    if check in _ACCEPTANCE_CHECKS:
        _ACCEPTANCE_CHECKS.remove(check)


@dataclass(frozen=True)
class Missing:
    """One thing that stands in the way of acceptance: which entry, and why."""

    entry: str
    reason: str

    def __str__(self) -> str:
        return f"{self.entry}: {self.reason}"


def _entry_label(entry: ProjectDataEntry) -> str:
    if entry.resource_id is None:
        return entry.planned_name
    version = entry.resource.published_version
    name = version.name if version is not None else getattr(entry, "latest_name", "") or ""
    return f"{entry.resource.code} {name}".strip()


def acceptance_missing(project: ITProject) -> list[Missing]:
    """What the project's data list lacks for acceptance: each entry not yet catalogued, not
    published (or retired), and each message of the registered checks."""
    entries = selectors.project_entries(project)
    if not entries:
        return [Missing(_("Public data list"), _("the list is empty"))]
    missing: list[Missing] = []
    for entry in entries:
        label = _entry_label(entry)
        resource = entry.resource
        if resource is None:
            missing.append(Missing(label, _("not yet catalogued: link it to a catalog resource")))
            continue
        if resource.retired_at is not None:
            missing.append(Missing(label, _("retired from the catalog")))
            continue
        if resource.published_version_id is None:
            missing.append(Missing(label, _("not published in the catalog yet")))
            continue
        for check in list(_ACCEPTANCE_CHECKS):
            for message in check(resource) or ():
                missing.append(Missing(label, str(message)))
    return missing


class AcceptanceRefused(DomainError):
    """Acceptance (or the submission for it) is refused; `missing` lists every reason."""

    def __init__(self, missing: list[Missing]):
        super().__init__(
            _("Acceptance is refused: %(n)d thing(s) missing from the public data list.")
            % {"n": len(missing)},
            code="acceptance_refused",
        )
        self.missing = missing


def _deciders_for(organization: Organization):
    if organization.kind == Organization.Kind.DISTRICT_AGENCY:
        return User.objects.filter(
            organization__kind=Organization.Kind.DISTRICT_BUREAU,
            organization__division_id=organization.division_id,
            groups__name=Role.DISTRICT_REVIEWER,
            is_active=True,
        )
    return User.objects.filter(
        organization__kind=Organization.Kind.CITY_BUREAU,
        groups__name=Role.CITY_REVIEWER,
        is_active=True,
    )


def _agency_people(project: ITProject):
    admins = User.objects.filter(
        organization=project.organization, groups__name=Role.AGENCY_ADMIN, is_active=True
    )
    return [project.created_by, *admins]


NOTICES = {
    "submit": _("IT project submitted for approval: %(name)s"),
    "submit_acceptance": _("IT project submitted for acceptance: %(name)s"),
    "approve": _("IT project approved: %(name)s"),
    "return": _("IT project returned for changes: %(name)s"),
    "reject": _("IT project rejected: %(name)s"),
    "accept": _("IT project accepted: %(name)s"),
    "return_acceptance": _("IT project returned for completion before acceptance: %(name)s"),
}


@transaction.atomic
def project_transition(
    *, project: ITProject, action: str, acting_user: User, comment: str = ""
) -> ITProject:
    """Move a project along its workflow. Approval is refused while the data list is empty;
    the submission for acceptance and acceptance are refused (`AcceptanceRefused`, listing
    every reason) until each entry is a published resource meeting every registered check."""
    project = _locked_project(project)
    project_workflow.check(project, action, acting_user=acting_user, comment=comment)
    if action in ("submit", "approve") and not project.entries.exists():
        raise DomainError(
            _(
                "The public data list is empty: list the resources the project will produce "
                "before approval (Art. 11)."
            ),
            code="empty_list",
        )
    if action in ("submit_acceptance", "accept"):
        missing = acceptance_missing(project)
        if missing:
            raise AcceptanceRefused(missing)
    now = timezone.now()
    if action == "approve":
        project.approved_at = now
    elif action == "accept":
        project.accepted_at = now
    project_workflow.apply(project, action, acting_user=acting_user, comment=comment)
    if action in ("submit", "submit_acceptance"):
        recipients = _deciders_for(project.organization)
    else:
        recipients = _agency_people(project)
    notify(
        recipients=[u for u in recipients if u.pk != acting_user.pk],
        title=NOTICES.get(action, "%(name)s") % {"name": project.name},
        body=comment,
        url=reverse("filing:project", kwargs={"pk": project.pk}),
    )
    return project


# --- collection lists -------------------------------------------------------------------------


def _collection_fields(entry: CollectionListEntry, fields: dict, resource) -> None:
    unknown = set(fields) - set(COLLECTION_FIELDS)
    if unknown:
        raise DomainError(_("Unknown field: %(name)s") % {"name": ", ".join(sorted(unknown))})
    _no_nulls(fields)
    for name, value in fields.items():
        setattr(entry, name, value.strip() if isinstance(value, str) else value)
    if resource is not None and resource.provider_id != entry.organization_id:
        raise DomainError(_("Only resources of your own agency can be linked."), field="resource")
    entry.resource = resource
    clash = CollectionListEntry.objects.filter(
        organization_id=entry.organization_id, data_name=entry.data_name
    ).exclude(pk=entry.pk)
    if clash.exists():
        raise DomainError(
            _("Your collection list already has “%(name)s”.") % {"name": entry.data_name},
            field="data_name",
        )


@transaction.atomic
def collection_entry_create(
    *,
    organization: Organization,
    fields: dict,
    resource: Resource | None = None,
    acting_user: User,
) -> CollectionListEntry:
    """Add a line to the agency's collection list (Art. 4)."""
    _require_editor(acting_user, organization)
    entry = CollectionListEntry(organization=organization, created_by=acting_user)
    _collection_fields(entry, fields, resource)
    return _checked_save(entry, acting_user=acting_user, reason=_("Added to the collection list"))


@transaction.atomic
def collection_entry_update(
    *,
    entry: CollectionListEntry,
    fields: dict,
    resource: Resource | None = None,
    acting_user: User,
) -> CollectionListEntry:
    entry = (
        CollectionListEntry.objects.select_for_update()
        .select_related("organization")
        .get(pk=entry.pk)
    )
    _require_editor(acting_user, entry.organization)
    _collection_fields(entry, fields, resource)
    return _checked_save(entry, acting_user=acting_user, reason=_("Collection list entry changed"))


@transaction.atomic
def collection_entry_delete(*, entry: CollectionListEntry, acting_user: User) -> None:
    entry = (
        CollectionListEntry.objects.select_for_update()
        .select_related("organization")
        .get(pk=entry.pk)
    )
    _require_editor(acting_user, entry.organization)
    entry._history_user = acting_user
    entry._change_reason = _("Removed from the collection list")
    entry.delete()
