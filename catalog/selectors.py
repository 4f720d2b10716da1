"""Reads on the catalog, restricted to what the viewer may see, with a fixed number of
queries per page whatever the number of rows."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, Count, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from security.models import Grade
from wuhan_pdr.accounts.models import Division, Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workdays import SHANGHAI, working_days_between

from . import search
from .models import (
    CatalogEntry,
    Classification,
    DataItem,
    OpenType,
    Resource,
    ResourceVersion,
    ShareType,
    UpdateCycle,
)
from .permissions import (
    catalog_audience,
    catalog_visible_q,
    reviewable_providers_q,
    versions_visible_q,
)

FACET_VALUES_SHOWN = 12
FACETS = (
    "provider",
    "division",
    "classification",
    "share_type",
    "open_type",
    "grade",
    "update_cycle",
)
_FACET_COLUMNS = {
    "provider": "provider_id",
    "division": "division_code",
    "classification": "classification_id",
    "share_type": "share_type",
    "open_type": "open_type",
    "grade": "grade_id",
    "update_cycle": "update_cycle",
}


@dataclass
class CatalogQuery:
    q: str = ""
    provider: int | None = None
    division: str = ""
    classification: int | None = None
    share_type: str = ""
    open_type: str = ""
    grade: int | None = None
    update_cycle: str = ""


@dataclass
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool = False


@dataclass
class CatalogResult:
    entries: QuerySet[CatalogEntry]
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)


def catalog_entries(params: CatalogQuery, *, viewer) -> QuerySet[CatalogEntry]:
    """Published entries `viewer` may see (the open catalog for the public, see
    permissions.catalog_visible_q) matching the search and filters, best match first (newest
    first when there is no search text). Every list, count, export and API of the catalog
    starts here."""
    qs = CatalogEntry.objects.filter(catalog_visible_q(viewer))
    tsquery, unindexed = search.query(params.q)
    if tsquery:
        qs = qs.filter(RawSQL("search @@ %s::tsquery", [tsquery], output_field=BooleanField()))
    for term in unindexed:
        qs = qs.filter(
            Q(name__icontains=term) | Q(summary__icontains=term) | Q(provider_name__icontains=term)
        )
    if params.provider:
        qs = qs.filter(provider_id=params.provider)
    if params.division:
        qs = qs.filter(division_code=params.division)
    if params.classification:
        qs = qs.filter(classification_id=params.classification)
    if params.share_type:
        qs = qs.filter(share_type=params.share_type)
    if params.open_type:
        qs = qs.filter(open_type=params.open_type)
    if params.grade:
        qs = qs.filter(grade_id=params.grade)
    if params.update_cycle:
        qs = qs.filter(update_cycle=params.update_cycle)
    if tsquery:
        qs = qs.annotate(rank=RawSQL("ts_rank(search, %s::tsquery)", [tsquery])).order_by(
            "-rank", "-published_at", "pk"
        )
    else:
        qs = qs.order_by("-published_at", "pk")
    return qs


def _facet_counts(qs: QuerySet[CatalogEntry]) -> tuple[int, dict[str, dict[str, int]]]:
    """The total and per-facet counts of `qs` in one query (GROUPING SETS)."""
    columns = list(_FACET_COLUMNS.values())
    sql, params = qs.order_by().values_list(*columns).query.sql_with_params()
    cols = ", ".join(columns)
    sets = ", ".join(f"({c})" for c in columns)
    # Column names are constants of this module; values travel as parameters.
    wrapped = (
        f"SELECT {cols}, count(*) FROM ({sql}) AS t({cols}) GROUP BY GROUPING SETS ({sets}, ())"  # noqa: S608
    )
    counts: dict[str, dict[str, int]] = {name: {} for name in _FACET_COLUMNS}
    total = 0
    names = list(_FACET_COLUMNS)
    with connection.cursor() as cur:
        cur.execute(wrapped, params)
        for row in cur.fetchall():
            values, n = row[:-1], row[-1]
            present = [i for i, v in enumerate(values) if v is not None]
            if not present:
                total = n
            else:
                i = present[0]
                counts[names[i]][str(values[i])] = n
    return total, counts


GENERATION_KEY = "catalog:generation"


def catalog_changed() -> None:
    """Called after a publication or retirement commits: cached facet counts are stale."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, timeout=None)


def _cached_facet_counts(qs: QuerySet[CatalogEntry], params: CatalogQuery, audience: str):
    """Facet counts are the costly part of a broad search (the landing page counts every
    published entry); they are cached per search and audience (the public's counts must
    not include what only government users see) until the catalog next changes."""
    seconds = settings.CATALOG_FACET_CACHE_SECONDS
    if not seconds:
        return _facet_counts(qs)
    generation = cache.get_or_set(GENERATION_KEY, 1, timeout=None)
    digest = hashlib.sha1(
        repr(sorted(asdict(params).items())).encode(), usedforsecurity=False
    ).hexdigest()
    key = f"catalog:facets:{generation}:{audience}:{digest}"
    found = cache.get(key)
    if found is None:
        found = _facet_counts(qs)
        cache.set(key, found, timeout=seconds)
    return found


def catalog_search(params: CatalogQuery, *, viewer, with_facets: bool = True) -> CatalogResult:
    qs = catalog_entries(params, viewer=viewer)
    if not with_facets:
        return CatalogResult(entries=qs, total=qs.count())
    total, counts = _cached_facet_counts(qs, params, catalog_audience(viewer))
    facets = _label_facets(counts, params)
    return CatalogResult(entries=qs, total=total, facets=facets)


LABEL_CACHE_SECONDS = 300


def _labels(name: str, build) -> dict[str, str]:
    """Names of the small tables facets refer to, cached for a few minutes: a rename shows
    up within LABEL_CACHE_SECONDS."""
    key = f"catalog:facet-labels:{name}:{get_language()}"
    found = cache.get(key)
    if found is None:
        found = build()
        cache.set(key, found, timeout=LABEL_CACHE_SECONDS)
    return found


def _label_facets(
    counts: dict[str, dict[str, int]], params: CatalogQuery
) -> dict[str, list[FacetValue]]:
    labels: dict[str, dict[str, str]] = {
        "share_type": dict(ShareType.choices),
        "open_type": dict(OpenType.choices),
        "update_cycle": dict(UpdateCycle.choices),
        "division": _labels("division", lambda: dict(Division.objects.values_list("code", "name"))),
        "classification": _labels(
            "classification",
            lambda: {
                str(pk): name for pk, name in Classification.objects.values_list("pk", "name")
            },
        ),
        "grade": _labels("grade", lambda: {str(g.pk): str(g) for g in Grade.objects.all()}),
    }
    if counts["provider"]:
        labels["provider"] = {
            str(pk): name
            for pk, name in Organization.objects.filter(
                pk__in=counts["provider"].keys()
            ).values_list("pk", "name")
        }
    selected = {
        "provider": str(params.provider or ""),
        "division": params.division,
        "classification": str(params.classification or ""),
        "share_type": params.share_type,
        "open_type": params.open_type,
        "grade": str(params.grade or ""),
        "update_cycle": params.update_cycle,
    }
    out = {}
    for name, values in counts.items():
        facet = [
            FacetValue(
                value=v, label=labels.get(name, {}).get(v, v), count=n, selected=selected[name] == v
            )
            for v, n in values.items()
        ]
        facet.sort(key=lambda f: (-f.count, f.label))
        out[name] = facet[:FACET_VALUES_SHOWN] + [
            f for f in facet[FACET_VALUES_SHOWN:] if f.selected
        ]
    return out


def entry_page_rows(entries):
    """The page's entries with what the list shows, without a query per row."""
    return entries.select_related("grade", "classification")


def resources_visible_to(viewer) -> QuerySet[Resource]:
    """Published, unretired resources whose entry `viewer` may see."""
    return Resource.objects.filter(
        catalog_visible_q(viewer, prefix="entry"),
        entry__isnull=False,
        published_version__isnull=False,
        retired_at__isnull=True,
    )


def resource_public(pk, *, viewer) -> Resource | None:
    """A published resource `viewer` may see, with its published version, items and
    classification, and those of its related resources that `viewer` may see too."""
    return (
        resources_visible_to(viewer)
        .filter(pk=pk)
        .select_related(
            "provider__division",
            "classification",
            "published_version__grade",
            "published_version__created_by",
        )
        .prefetch_related(
            Prefetch(
                "published_version__items",
                queryset=DataItem.objects.select_related(
                    "grade", "element__masking_rule", "masking_rule"
                ),
            ),
            "published_version__themes",
            Prefetch(
                "published_version__related_resources",
                queryset=resources_visible_to(viewer).select_related("published_version"),
            ),
        )
        .first()
    )


def versions_visible_to(user) -> QuerySet[ResourceVersion]:
    return ResourceVersion.objects.filter(versions_visible_q(user))


def my_versions(user, *, q: str = "", state: str = "") -> QuerySet[ResourceVersion]:
    """The open and latest versions of the viewer's agency's resources."""
    qs = (
        ResourceVersion.objects.filter(resource__provider_id=user.organization_id)
        .exclude(state=ResourceVersion.State.SUPERSEDED)
        .select_related("resource__classification", "resource__provider", "grade", "created_by")
        .annotate(n_items=Count("items"))
    )
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(resource__code__icontains=q))
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-updated_at", "-pk")


def review_queue(user, *, state: str = "", q: str = "") -> QuerySet[ResourceVersion]:
    qs = (
        ResourceVersion.objects.filter(reviewable_providers_q(user))
        .filter(state__in=[ResourceVersion.State.AGENCY_APPROVED, ResourceVersion.State.REVIEWED])
        .select_related("resource__provider", "resource__classification", "grade")
        .annotate(n_items=Count("items"))
    )
    if state:
        qs = qs.filter(state=state)
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(resource__code__icontains=q)
            | Q(resource__provider__name__icontains=q)
        )
    return qs.order_by("step_deadline", "pk")


def version_with_items(pk, *, viewer) -> ResourceVersion:
    """A version with its items, themes and the related resources `viewer` may see."""
    return (
        ResourceVersion.objects.select_related(
            "resource__provider", "grade", "resource__classification"
        )
        .prefetch_related(
            Prefetch(
                "items",
                queryset=DataItem.objects.select_related(
                    "grade", "element__masking_rule", "masking_rule"
                ),
            ),
            "themes",
            Prefetch("related_resources", queryset=resources_visible_to(viewer)),
        )
        .get(pk=pk)
    )


# --- who acts next --------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    """Who acts next on an object in a workflow, what they do and by when: shown in the status
    area of its page and at the end of its timeline (templates/includes/next_step.html)."""

    organization: str
    role: str
    action: str
    deadline: object = None  # an aware datetime, or None when the step has no time limit
    days_left: int | None = None
    overdue: bool = False


def step_timing(deadline) -> tuple[int | None, bool]:
    """Working days left until `deadline` (Shanghai dates) and whether it has passed."""
    if deadline is None:
        return None, False
    now = timezone.now()
    today = now.astimezone(SHANGHAI).date()
    return working_days_between(today, deadline.astimezone(SHANGHAI).date()), deadline < now


def responsible_bureau(provider: Organization) -> Organization | None:
    """The data bureau that reviews and publishes `provider`'s catalog (Art. 13): the
    district bureau of a district agency's district, the city bureau for everyone else (the
    rule of permissions.reviews_for)."""
    if provider.kind == Organization.Kind.DISTRICT_AGENCY:
        return (
            Organization.objects.filter(
                kind=Organization.Kind.DISTRICT_BUREAU,
                division_id=provider.division_id,
                is_active=True,
            )
            .order_by("pk")
            .first()
        )
    return (
        Organization.objects.filter(kind=Organization.Kind.CITY_BUREAU, is_active=True)
        .order_by("pk")
        .first()
    )


def next_actor(version: ResourceVersion) -> NextStep | None:
    """Who acts next on a catalog entry in the filing workflow and by when (the deadline the
    workflow computed for the step); None once it is published, superseded or retired."""
    S = ResourceVersion.State
    provider = version.resource.provider
    if version.state in (S.DRAFT, S.RETURNED, S.SUBMITTED):
        organization = provider
        if version.state == S.SUBMITTED:
            role, action = Role.AGENCY_ADMIN.label, _("approve it or return it for changes")
        elif version.state == S.RETURNED:
            role, action = Role.AGENCY_STAFF.label, _("correct it and submit it again")
        else:
            role, action = Role.AGENCY_STAFF.label, _("complete it and submit it")
    elif version.state in (S.AGENCY_APPROVED, S.REVIEWED):
        organization = responsible_bureau(provider)
        district = provider.kind == Organization.Kind.DISTRICT_AGENCY
        role = (Role.DISTRICT_REVIEWER if district else Role.CITY_REVIEWER).label
        if version.state == S.AGENCY_APPROVED:
            action = _("review it")
        elif district:
            action = _("publish it, alone or with the district's catalog release")
        else:
            action = _("publish it")
    else:
        return None
    if organization is None:
        name = _("the responsible data bureau (none is registered yet)")
    else:
        name = organization.name
    days_left, overdue = step_timing(version.step_deadline)
    return NextStep(
        organization=name,
        role=role,
        action=action,
        deadline=version.step_deadline,
        days_left=days_left,
        overdue=overdue,
    )


# --- feedback and releases -------------------------------------------------------------------


def feedback_list_for(user, *, q: str = "", state: str = ""):
    from .models import CatalogFeedback
    from .permissions import feedback_visible_q

    qs = CatalogFeedback.objects.filter(feedback_visible_q(user)).select_related(
        "provider", "resource", "requester"
    )
    if q:
        qs = qs.filter(
            Q(description__icontains=q)
            | Q(resource__code__icontains=q)
            | Q(provider__name__icontains=q)
        )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def release_overview(viewer):
    """For each Wuhan district: its latest release, and the count of its published entries,
    both counting only what `viewer` may see."""
    from .models import DistrictRelease

    districts = list(
        Division.objects.filter(level=Division.Level.DISTRICT, code__startswith="4201")
    )
    latest = {
        r.division_id: r
        for r in DistrictRelease.objects.filter(division__in=districts)
        .select_related("released_by")
        .order_by("division_id", "-number")
        .distinct("division_id")
    }
    sizes = dict(
        DistrictRelease.versions.through.objects.filter(
            districtrelease_id__in=[r.pk for r in latest.values()],
            resourceversion__in=versions_visible_to(viewer).values("pk"),
        )
        .values_list("districtrelease_id")
        .annotate(n=Count("pk"))
        .values_list("districtrelease_id", "n")
    )
    for r in latest.values():
        r.n = sizes.get(r.pk, 0)
    published = dict(
        versions_visible_to(viewer)
        .filter(
            state=ResourceVersion.State.PUBLISHED,
            resource__provider__kind=Organization.Kind.DISTRICT_AGENCY,
        )
        .values_list("resource__provider__division_id")
        .annotate(n=Count("pk"))
        .values_list("resource__provider__division_id", "n")
    )
    return [(d, latest.get(d.pk), published.get(d.pk, 0)) for d in districts]


def release_detail(pk, *, viewer):
    """A release with the entries in it that `viewer` may see."""
    from .models import DistrictRelease

    return (
        DistrictRelease.objects.filter(pk=pk)
        .select_related("division", "released_by")
        .prefetch_related(
            Prefetch(
                "versions",
                queryset=versions_visible_to(viewer)
                .select_related("resource__provider", "grade")
                .order_by("resource__code"),
            )
        )
        .first()
    )


def reviewed_waiting_in_district(division) -> int:
    return ResourceVersion.objects.filter(
        state=ResourceVersion.State.REVIEWED,
        resource__provider__kind=Organization.Kind.DISTRICT_AGENCY,
        resource__provider__division=division,
    ).count()
