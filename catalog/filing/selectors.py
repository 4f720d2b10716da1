"""Reads of the filing records, restricted to what the viewer may see, each page in a fixed
number of queries whatever the number of rows.

The campaign stage of an agency (Art. 12) is derived from its records, by `agency_stage`:
an agency is at the first stage that still has work in it.

1. Census (信息系统普查): until its census is done. The census is done when the agency
   confirmed it for the campaign, or when it registered at least one system and every one
   of its systems has every census field filled.
2. Metadata collection (元数据收集梳理): census done, but the agency has no catalog resource
   yet, or has entries in draft or returned for changes.
3. Compilation (目录编制): no drafts left, but entries are submitted or under review
   (submitted, approved by the agency, reviewed).
4. Publication (目录发布): nothing left in the works and at least one resource published.
An agency is overdue when the campaign's deadline has passed and it is not at publication.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.db.models import (
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.workdays import today

from ..models import Resource, ResourceVersion
from .models import (
    CensusConfirmation,
    CollectionListEntry,
    CompilationCampaign,
    InformationSystem,
    ITProject,
    ProjectDataEntry,
)
from .permissions import is_filer, overseen_agencies_q, records_visible_q

V = ResourceVersion.State
DRAFT_STATES = (V.DRAFT, V.RETURNED)
REVIEW_STATES = (V.SUBMITTED, V.AGENCY_APPROVED, V.REVIEWED)


class Stage:
    CENSUS = "census"
    METADATA = "metadata"
    COMPILATION = "compilation"
    PUBLICATION = "publication"

    ORDER = (CENSUS, METADATA, COMPILATION, PUBLICATION)
    LABELS = {
        CENSUS: _("Census of information systems"),
        METADATA: _("Metadata collection"),
        COMPILATION: _("Catalog compilation"),
        PUBLICATION: _("Publication"),
    }
    LEGEND = {
        CENSUS: _(
            "The census is not done: no system registered, or some census fields are empty, "
            "and the agency has not confirmed its census."
        ),
        METADATA: _(
            "Census done; the agency has no catalog resource yet, or has entries in draft "
            "or returned for changes."
        ),
        COMPILATION: _("No drafts left; entries are submitted or under review."),
        PUBLICATION: _("Nothing left in the works and at least one resource published."),
    }

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        return [(s, cls.LABELS[s]) for s in cls.ORDER]


def _count(qs: QuerySet, field: str = "organization"):
    """A correlated COUNT(*) of `qs` per organization, 0 when there is none."""
    sub = (
        qs.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(c=Count("pk"))
        .values("c")
    )
    return Coalesce(Subquery(sub, output_field=IntegerField()), Value(0))


def complete_systems_q(prefix: str = "") -> Q:
    """Systems whose every census field is filled."""
    p = f"{prefix}__" if prefix else ""
    q = Q()
    for name in InformationSystem.CENSUS_FIELDS:
        field = InformationSystem._meta.get_field(name)
        q &= Q(**{f"{p}{name}__isnull": False})
        if not field.null:
            q &= ~Q(**{f"{p}{name}": ""})
    return q


_Links = InformationSystem.resources.through


def _live_resources() -> QuerySet[Resource]:
    return Resource.objects.filter(retired_at__isnull=True)


def agencies_with_counts(user, *, q: str = "", campaign: CompilationCampaign | None = None):
    """The agencies `user` oversees (or its own agency), each annotated with the counts of
    the census board and of the campaign board."""
    visible = overseen_agencies_q(user)
    if is_filer(user):
        visible |= Q(pk=user.organization_id)
    qs = Organization.objects.filter(visible, kind__in=Organization.AGENCY_KINDS)
    for word in (q or "").split()[:5]:
        qs = qs.filter(Q(name__icontains=word) | Q(short_name__icontains=word))
    systems = InformationSystem.objects.all()
    linked = Exists(_Links.objects.filter(informationsystem_id=OuterRef("pk")))
    versions = ResourceVersion.objects.all()
    qs = qs.annotate(
        n_systems=_count(systems),
        n_complete=_count(systems.filter(complete_systems_q())),
        n_linked=_count(systems.filter(linked)),
        n_resources=_count(_live_resources(), "provider"),
        n_unlinked=_count(
            _live_resources().filter(~Exists(_Links.objects.filter(resource_id=OuterRef("pk")))),
            "provider",
        ),
        n_drafts=_count(versions.filter(state__in=DRAFT_STATES), "resource__provider"),
        n_in_review=_count(versions.filter(state__in=REVIEW_STATES), "resource__provider"),
        n_published=_count(_live_resources().filter(published_version__isnull=False), "provider"),
    )
    if campaign is not None:
        qs = qs.annotate(
            census_confirmed=Exists(
                CensusConfirmation.objects.filter(campaign=campaign, organization=OuterRef("pk"))
            )
        )
    return qs.select_related("division").order_by("kind", "name")


def census_board(user, *, q: str = "") -> QuerySet[Organization]:
    """Census completeness per agency: systems, complete ones, linked ones, and catalog
    resources that no system produces."""
    return agencies_with_counts(user, q=q)


# --- campaigns ------------------------------------------------------------------------------


def census_done(*, confirmed: bool, n_systems: int, n_complete: int) -> bool:
    return bool(confirmed or (n_systems > 0 and n_complete == n_systems))


def agency_stage(
    *,
    confirmed: bool,
    n_systems: int,
    n_complete: int,
    n_drafts: int,
    n_in_review: int,
    n_published: int,
) -> str:
    """The campaign stage of an agency from its counts (the rule in the module docstring)."""
    if not census_done(confirmed=confirmed, n_systems=n_systems, n_complete=n_complete):
        return Stage.CENSUS
    if n_drafts or (n_in_review == 0 and n_published == 0):
        return Stage.METADATA
    if n_in_review:
        return Stage.COMPILATION
    return Stage.PUBLICATION


@dataclass
class BoardRow:
    organization_id: int
    name: str
    kind: str
    n_systems: int
    n_complete: int
    n_drafts: int
    n_in_review: int
    n_published: int
    confirmed: bool
    stage: str
    overdue: bool

    @property
    def stage_label(self) -> str:
        return str(Stage.LABELS.get(self.stage, self.stage))

    @property
    def stage_index(self) -> int:
        return Stage.ORDER.index(self.stage) + 1 if self.stage in Stage.ORDER else 0

    def as_dict(self) -> dict:
        return asdict(self)


def is_past_deadline(campaign: CompilationCampaign, *, on: dt.date | None = None) -> bool:
    return (on or today()) > campaign.deadline


def _live_rows(user, campaign: CompilationCampaign, *, q: str = "") -> list[BoardRow]:
    past = is_past_deadline(campaign)
    rows = []
    for org in agencies_with_counts(user, q=q, campaign=campaign):
        stage = agency_stage(
            confirmed=org.census_confirmed,
            n_systems=org.n_systems,
            n_complete=org.n_complete,
            n_drafts=org.n_drafts,
            n_in_review=org.n_in_review,
            n_published=org.n_published,
        )
        rows.append(
            BoardRow(
                organization_id=org.pk,
                name=org.name,
                kind=org.kind,
                n_systems=org.n_systems,
                n_complete=org.n_complete,
                n_drafts=org.n_drafts,
                n_in_review=org.n_in_review,
                n_published=org.n_published,
                confirmed=org.census_confirmed,
                stage=stage,
                overdue=past and stage != Stage.PUBLICATION,
            )
        )
    return rows


def _frozen_rows(user, campaign: CompilationCampaign, *, q: str = "") -> list[BoardRow]:
    """A closed campaign's board as it stood at closing, restricted to what `user` sees."""
    visible = overseen_agencies_q(user)
    if is_filer(user):
        visible |= Q(pk=user.organization_id)
    ids = set(Organization.objects.filter(visible).values_list("pk", flat=True))
    words = [w.lower() for w in (q or "").split()[:5]]
    fields = set(BoardRow.__dataclass_fields__)
    rows = []
    for data in campaign.final_board or []:
        if data.get("organization_id") not in ids:
            continue
        if any(w not in str(data.get("name", "")).lower() for w in words):
            continue
        rows.append(BoardRow(**{k: v for k, v in data.items() if k in fields}))
    return rows


def campaign_board(
    user,
    campaign: CompilationCampaign,
    *,
    q: str = "",
    stage: str = "",
    overdue_only: bool = False,
) -> list[BoardRow]:
    """Each agency's stage in `campaign`: live while it is open, frozen once closed."""
    if campaign.state == CompilationCampaign.State.OPEN:
        rows = _live_rows(user, campaign, q=q)
    else:
        rows = _frozen_rows(user, campaign, q=q)
    if stage:
        rows = [r for r in rows if r.stage == stage]
    if overdue_only:
        rows = [r for r in rows if r.overdue]
    return rows


def board_summary(rows: list[BoardRow]) -> dict:
    """How many agencies are at each stage, and how many are overdue."""
    counts = {s: 0 for s in Stage.ORDER}
    for r in rows:
        counts[r.stage] = counts.get(r.stage, 0) + 1
    return {
        "stages": [(s, Stage.LABELS[s], counts[s], Stage.LEGEND[s]) for s in Stage.ORDER],
        "overdue": sum(1 for r in rows if r.overdue),
        "total": len(rows),
    }


def campaigns(*, q: str = "", state: str = "") -> QuerySet[CompilationCampaign]:
    """Campaigns are city-wide: everyone who files or oversees sees them."""
    qs = CompilationCampaign.objects.select_related("opened_by")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    if state:
        qs = qs.filter(state=state)
    return qs


def open_campaigns() -> QuerySet[CompilationCampaign]:
    return CompilationCampaign.objects.filter(state=CompilationCampaign.State.OPEN).order_by(
        "deadline"
    )


# --- systems ----------------------------------------------------------------------------------


def resources_of(organization_id) -> QuerySet[Resource]:
    """The agency's resources that are not retired, each with `name` (of its latest
    version) and `state` (of its latest version)."""
    latest = ResourceVersion.objects.filter(resource=OuterRef("pk")).order_by("-number")
    return (
        Resource.objects.filter(provider_id=organization_id, retired_at__isnull=True)
        .annotate(
            latest_name=Subquery(latest.values("name")[:1]),
            latest_state=Subquery(latest.values("state")[:1]),
        )
        .order_by("code")
    )


def resources_not_listed(project: ITProject) -> QuerySet[Resource]:
    """The agency's resources a project's data list can still take: not retired and not on
    the list already (a resource is listed once)."""
    listed = project.entries.filter(resource__isnull=False).values("resource_id")
    return resources_of(project.organization_id).exclude(pk__in=listed)


def systems_for(
    user, *, q: str = "", status: str = "", organization: int | None = None, linked: str = ""
) -> QuerySet[InformationSystem]:
    qs = (
        InformationSystem.objects.filter(records_visible_q(user))
        .select_related("organization")
        .annotate(n_resources=Count("resources", distinct=True))
    )
    for word in (q or "").split()[:5]:
        qs = qs.filter(
            Q(name__icontains=word)
            | Q(purpose__icontains=word)
            | Q(builder__icontains=word)
            | Q(organization__name__icontains=word)
        )
    if status:
        qs = qs.filter(status=status)
    if organization:
        qs = qs.filter(organization_id=organization)
    if linked == "yes":
        qs = qs.filter(n_resources__gt=0)
    elif linked == "no":
        qs = qs.filter(n_resources=0)
    return qs.order_by("organization__name", "name")


def system_resources(system: InformationSystem) -> QuerySet[Resource]:
    return (
        resources_of(system.organization_id)
        .filter(information_systems=system)
        .select_related("published_version")
    )


def unlinked_resources(organization_id) -> QuerySet[Resource]:
    return resources_of(organization_id).filter(information_systems__isnull=True)


# --- projects ---------------------------------------------------------------------------------


def projects_for(
    user, *, q: str = "", state: str = "", year: int | None = None
) -> QuerySet[ITProject]:
    qs = (
        ITProject.objects.filter(records_visible_q(user))
        .select_related("organization")
        .annotate(n_entries=Count("entries"))
    )
    for word in (q or "").split()[:5]:
        qs = qs.filter(Q(name__icontains=word) | Q(organization__name__icontains=word))
    if state:
        qs = qs.filter(state=state)
    if year:
        qs = qs.filter(year=year)
    return qs.order_by("-year", "-updated_at", "-pk")


def project_entries(project: ITProject) -> list[ProjectDataEntry]:
    """The data list, each entry with its resource, the resource's latest version name and
    its published version."""
    latest = ResourceVersion.objects.filter(resource=OuterRef("resource_id")).order_by("-number")
    return list(
        project.entries.select_related("resource__published_version").annotate(
            latest_name=Subquery(latest.values("name")[:1]),
            latest_state=Subquery(latest.values("state")[:1]),
        )
    )


# --- collection lists -------------------------------------------------------------------------


def collection_entries_for(
    user,
    *,
    q: str = "",
    method: str = "",
    frequency: str = "",
    organization: int | None = None,
) -> QuerySet[CollectionListEntry]:
    qs = CollectionListEntry.objects.filter(records_visible_q(user)).select_related(
        "organization", "resource__published_version"
    )
    for word in (q or "").split()[:5]:
        qs = qs.filter(
            Q(data_name__icontains=word)
            | Q(legal_basis__icontains=word)
            | Q(norms__icontains=word)
            | Q(subject_scope__icontains=word)
            | Q(organization__name__icontains=word)
        )
    if method:
        qs = qs.filter(method=method)
    if frequency:
        qs = qs.filter(frequency=frequency)
    if organization:
        qs = qs.filter(organization_id=organization)
    return qs.order_by("organization__name", "data_name")


def agencies_choices(user) -> list[tuple[int, str]]:
    """The agencies `user` oversees, for filters (empty for an agency's own people)."""
    return list(
        Organization.objects.filter(overseen_agencies_q(user))
        .order_by("name")
        .values_list("pk", "name")
    )
