"""Reads of open data, for anyone: only what `catalog.public` makes public, with a fixed
number of queries per page."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404

from catalog.models import CatalogEntry, DataItem, Resource, ResourceFormat
from catalog.public import open_data_resources_q, public_fields
from catalog.selectors import CatalogQuery, catalog_entries

from .models import OpenFile

FACETS = ("provider", "classification", "resource_format", "licence")
_FACET_FIELDS = {
    "provider": ("provider_id", "provider_name"),
    "classification": ("classification_id", "classification__name"),
    "resource_format": ("version__format", None),
    "licence": ("resource__open_dataset__licence_id", "resource__open_dataset__licence__name"),
}


@dataclass
class OpenQuery:
    q: str = ""
    provider: int | None = None
    classification: int | None = None
    resource_format: str = ""
    licence: int | None = None


@dataclass
class Facet:
    value: str
    label: str
    count: int
    selected: bool


def _open(qs: QuerySet[CatalogEntry]) -> QuerySet[CatalogEntry]:
    """Entries of resources whose data anyone may download and whose data is loaded."""
    return qs.filter(
        open_data_resources_q(),
        resource__retired_at__isnull=True,
        resource__datastore__last_loaded_at__isnull=False,
    )


def open_entries(params: OpenQuery) -> QuerySet[CatalogEntry]:
    """Open-data resources matching the search and filters, best match first: the catalog's
    own search over the public catalog (`catalog.selectors.catalog_entries` as seen by an
    anonymous visitor), narrowed to open data."""
    qs = _open(
        catalog_entries(
            CatalogQuery(
                q=params.q, provider=params.provider, classification=params.classification
            ),
            viewer=AnonymousUser(),
        )
    )
    if params.resource_format:
        qs = qs.filter(version__format=params.resource_format)
    if params.licence:
        qs = qs.filter(resource__open_dataset__licence_id=params.licence)
    return qs


def open_entry_rows(qs: QuerySet[CatalogEntry]) -> QuerySet[CatalogEntry]:
    """What a list shows of each entry, without a query per row."""
    return qs.select_related(
        "classification", "version", "resource__open_dataset__licence"
    ).prefetch_related(
        Prefetch(
            "resource__open_dataset__files",
            queryset=OpenFile.objects.order_by("format"),
        )
    )


def open_facets(qs: QuerySet[CatalogEntry], params: OpenQuery) -> dict[str, list[Facet]]:
    """Counts per provider, classification, format and licence of the matching entries (one
    query each)."""
    formats = dict(ResourceFormat.choices)
    out: dict[str, list[Facet]] = {}
    for name in FACETS:
        key, label = _FACET_FIELDS[name]
        fields = [key] + ([label] if label else [])
        rows = qs.order_by().values(*fields).annotate(n=Count("pk")).order_by("-n", key)
        selected = str(getattr(params, name) or "")
        facet = []
        for row in rows:
            value = row[key]
            if value is None:
                continue
            text = str(formats.get(value, value)) if name == "resource_format" else row[label]
            facet.append(
                Facet(value=str(value), label=text, count=row["n"], selected=str(value) == selected)
            )
        out[name] = facet
    return out


def open_resource(pk) -> Resource:
    """An open-data resource with what its page shows; 404 for anything else (not open, open
    under conditions only, not loaded, retired, missing)."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    resource = (
        Resource.objects.filter(
            open_data_resources_q("entry"),
            pk=pk,
            entry__isnull=False,
            retired_at__isnull=True,
            datastore__last_loaded_at__isnull=False,
        )
        .select_related(
            "provider",
            "classification",
            "published_version__grade",
            "open_dataset__licence",
            "datastore",
        )
        .prefetch_related(
            Prefetch(
                "published_version__items",
                queryset=DataItem.objects.select_related("grade").order_by("position"),
            )
        )
        .first()
    )
    if resource is None:
        raise Http404
    return resource


def open_items(resource: Resource) -> list:
    version = resource.published_version
    return public_fields(version, list(version.items.all()))


def open_files(resource: Resource) -> list[OpenFile]:
    dataset = getattr(resource, "open_dataset", None)
    if dataset is None:
        return []
    return list(dataset.files.order_by("format"))


def open_file(resource: Resource, fmt: str) -> OpenFile:
    """The built file of an open resource in a format, or 404."""
    if fmt not in OpenFile.Format.values:
        raise Http404
    found = OpenFile.objects.filter(dataset__resource=resource, format=fmt).first()
    if found is None or not found.file:
        raise Http404
    return found


def applications_visible_to(user, *, q: str = "", state: str = ""):
    """The open-data applications `user` may see (permissions.applications_visible_q)."""
    from django.db.models import Q

    from .models import OpenApplication
    from .permissions import applications_visible_q

    qs = OpenApplication.objects.filter(applications_visible_q(user)).select_related(
        "resource__published_version", "resource__provider", "organization", "applicant"
    )
    if q:
        qs = qs.filter(
            Q(resource__published_version__name__icontains=q)
            | Q(resource__code__icontains=q)
            | Q(organization__name__icontains=q)
        )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def apply_target(pk) -> Resource:
    """A resource of the open catalog opened under conditions, or 404."""
    from catalog.models import OpenType
    from catalog.public import public_resources_q

    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = (
        Resource.objects.filter(
            public_resources_q("entry"),
            pk=pk,
            entry__open_type=OpenType.CONDITIONAL,
            retired_at__isnull=True,
        )
        .select_related("published_version", "provider", "open_dataset__licence")
        .first()
    )
    if found is None:
        raise Http404
    return found
