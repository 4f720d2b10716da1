"""Reads of the open catalog for DCAT, CKAN and the feeds: only what `catalog.public` makes
public, a fixed number of queries per chunk of datasets.

- `open_catalog_entries`: the datasets, i.e. the open catalog (`public_resources_q`, not
  retired): open unconditionally or under conditions with a grade that allows it.
- `open_data_ids`: of some of those, the ones whose data anyone may download
  (`open_data_resources_q`, data loaded), the same rule as `authorization.opendata`: only
  these have distributions (their built files and the open-data API).
- `dataset_rows`: what DCAT and CKAN say of a chunk of datasets, as dicts (4 queries a chunk:
  entries, open-data ids, files, themes).
"""

from __future__ import annotations

import json
from collections import defaultdict

from django.db import connection
from django.db.models import CharField, F, Func, Q, QuerySet
from django.http import Http404

from catalog.models import CatalogEntry, Classification, ResourceVersion
from catalog.public import open_data_resources_q, public_resources_q
from wuhan_pdr.accounts.models import Division, Organization
from wuhan_pdr.kernel.prepared import execute_prepared

from ..opendata.models import Licence, OpenFile
from .models import identity_uuid


def open_catalog_entries() -> QuerySet[CatalogEntry]:
    return CatalogEntry.objects.filter(public_resources_q(), resource__retired_at__isnull=True)


def open_data_q() -> Q:
    """Entries whose data anyone may download (the open-data pages' own rule)."""
    return open_data_resources_q() & Q(resource__datastore__last_loaded_at__isnull=False)


_PLAIN = (
    "resource_id",
    "code",
    "name",
    "summary",
    "provider_id",
    "provider_name",
    "division_code",
    "update_cycle",
    "published_at",
    "open_type",
    "version_id",
)
_RENAMED = {
    "phone": F("provider__contact_phone"),
    "classification_code": F("classification__code"),
    "classification_name": F("classification__name"),
    "stored_uuid": F("resource__dataset_identity__uuid"),
    "licence_id": F("resource__open_dataset__licence_id"),
}


def dataset_rows(ids: list[int], *, divisions: dict[str, str] | None = None) -> list[dict]:
    """The datasets of `ids` (resource ids of the open catalog), in the order of `ids`."""
    if not ids:
        return []
    rows = list(open_catalog_entries().filter(resource_id__in=ids).values(*_PLAIN, **_RENAMED))
    open_ids = set(
        CatalogEntry.objects.filter(open_data_q(), resource_id__in=ids).values_list(
            "resource_id", flat=True
        )
    )
    files: dict[int, list[dict]] = defaultdict(list)
    for f in (
        OpenFile.objects.filter(dataset__resource_id__in=open_ids)
        .exclude(file="")
        .order_by("format")
        .values("dataset__resource_id", "format", "size", "rows", "built_at")
    ):
        files[f["dataset__resource_id"]].append(f)
    themes: dict[int, list[tuple[str, str]]] = defaultdict(list)
    through = ResourceVersion.themes.through
    for t in through.objects.filter(
        resourceversion_id__in=[r["version_id"] for r in rows]
    ).values_list("resourceversion_id", "classification__code", "classification__name"):
        themes[t[0]].append((t[1], t[2]))
    if divisions is None:
        divisions = division_names()
    order = {pk: n for n, pk in enumerate(ids)}
    for row in rows:
        rid = row["resource_id"]
        row["uuid"] = row.pop("stored_uuid") or identity_uuid(rid)
        row["open_data"] = rid in open_ids
        row["files"] = files.get(rid, []) if row["open_data"] else []
        if not row["open_data"]:
            row["licence_id"] = None
        version_themes = themes.get(row["version_id"], [])
        row["themes"] = [name for _, name in version_themes]
        row["theme_codes"] = [code for code, _ in version_themes]
        row["division_name"] = divisions.get(row["division_code"], "")
        built = [f["built_at"] for f in row["files"] if f["built_at"]]
        row["modified"] = max([row["published_at"], *built])
    rows.sort(key=lambda r: order[r["resource_id"]])
    return rows


def division_names() -> dict[str, str]:
    return dict(Division.objects.values_list("code", "name"))


def city_publisher() -> Organization | None:
    return (
        Organization.objects.filter(kind=Organization.Kind.CITY_BUREAU, is_active=True)
        .order_by("pk")
        .first()
    )


def licences() -> list[dict]:
    return [
        {"pk": pk, "name": name, "url": url}
        for pk, name, url in Licence.objects.order_by("pk").values_list("pk", "name", "url")
    ]


def concepts() -> list[dict]:
    return [
        {"code": code, "name": name}
        for code, name in Classification.objects.order_by("code").values_list("code", "name")
    ]


def dataset_by_uuid(value) -> int:
    """The resource id of the open catalog's dataset with UUID `value`, or 404."""
    from .models import DatasetIdentity

    found = (
        DatasetIdentity.objects.filter(uuid=value, resource__entry__isnull=False)
        .filter(
            resource__in=open_catalog_entries().values("resource_id"),
        )
        .values_list("resource_id", flat=True)
        .first()
    )
    if found is None:
        raise Http404
    return found


class _Ids(list):
    """The page's resource ids as ONE SQL parameter (an array), so that the statement's text
    does not depend on them."""


class IsoUTC(Func):
    """A timestamp as `ckan._iso` writes it (ISO 8601 in UTC, no offset, microseconds only
    when there are some, as Python's isoformat), in SQL: a page's hundreds of timestamps
    are not read as datetimes to be written back as text."""

    arity = 1
    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        utc = f"(({sql}) AT TIME ZONE 'UTC')"
        return (
            f"(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
            f"mod(extract(microseconds FROM ({sql}))::bigint, 1000000) <> 0 THEN "
            f"to_char({utc}, '.US') ELSE '' END)",
            [*params, *params, *params],
        )


def _package_queryset(ids) -> QuerySet:
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import Exists, OuterRef, Subquery
    from django.db.models.functions import JSONObject

    files = (
        OpenFile.objects.filter(dataset__resource_id=OuterRef("resource_id"))
        .exclude(file="")
        .order_by("format")
    )
    through = ResourceVersion.themes.through
    themes = through.objects.filter(resourceversion_id=OuterRef("version_id")).order_by("pk")
    classification = Classification.objects.filter(pk=OuterRef("classification_id")).order_by()
    return (
        open_catalog_entries()
        .extra(where=['"catalog_catalogentry"."resource_id" = ANY(%s)'], params=[ids])  # noqa: S610
        .values(
            *[c for c in _PLAIN if c != "published_at"],  # written in SQL: `published`
            **_RENAMED,
            open_data=Exists(
                CatalogEntry.objects.filter(open_data_q(), resource_id=OuterRef("resource_id"))
            ),
            file_list=ArraySubquery(
                files.values(
                    json=JSONObject(format="format", size="size", built=IsoUTC("built_at"))
                )
            ),
            # The theme's code and name by two lookups of its primary key: a join lets the
            # planner hash the classification table again for every package of the page.
            theme_list=ArraySubquery(
                themes.values(
                    json=JSONObject(
                        code=Subquery(classification.values("code")[:1]),
                        name=Subquery(classification.values("name")[:1]),
                    )
                )
            ),
            org_name=F("provider__name"),
            org_credit_code=F("provider__credit_code"),
            org_created=IsoUTC("provider__created_at"),
            published=IsoUTC("published_at"),
            licence_name=F("resource__open_dataset__licence__name"),
            licence_url=F("resource__open_dataset__licence__url"),
            division_name=Subquery(
                Division.objects.filter(code=OuterRef("division_code")).values("name")[:1]
            ),
        )
    )


_PACKAGE_SQL: tuple[str, list, list, int] | None = None
_PACKAGE_STATEMENT = "interop_ckan_packages"


def _sql_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "bigint"
    if isinstance(value, _Ids):
        return "bigint[]"
    if isinstance(value, str):
        return "text"
    raise TypeError(f"package query parameter of type {type(value).__name__}")


def _package_statement() -> tuple[str, list, list, int]:
    """The package query compiled by the ORM once per process (its text holds no value that
    changes: the open rules are subqueries), as a statement with `$n` placeholders for
    `kernel.prepared` (planned once per database session: planning this query of nine joins
    and subqueries took longer than running it), its parameters, their types and the index
    of the ids parameter."""
    global _PACKAGE_SQL  # noqa: PLW0603
    if _PACKAGE_SQL is None:
        marker = _Ids([0])
        sql, params = _package_queryset(marker).query.sql_with_params()
        params = list(params)
        pieces = sql.split("%s")
        if len(pieces) != len(params) + 1 or "%" in "".join(pieces) or "$" in sql:
            raise ValueError("unexpected placeholders in the package query")
        statement = pieces[0] + "".join(f"${n}{p}" for n, p in enumerate(pieces[1:], 1))
        types = [_sql_type(p) for p in params]
        at = next(n for n, p in enumerate(params) if p is marker)
        _PACKAGE_SQL = (statement, params, types, at)
    return _PACKAGE_SQL


def _json(value):
    return json.loads(value) if isinstance(value, str | bytes) else value


def package_rows(ids: list[int]) -> list[dict]:
    """The rows of `dataset_rows` for CKAN's package dictionaries in ONE query (CKAN's
    package_search pages are small and many): open-data flag, files, themes, the provider
    organization, the division's name and the licence as columns and array subqueries built
    in SQL, compiled once (`_package_statement`); timestamps as CKAN writes them (`IsoUTC`:
    `published`, `org_created`, a file's `built`, and `modified`, the latest of the
    publication and the files' builds). In the order of `ids`."""
    if not ids:
        return []
    statement, params, types, at = _package_statement()
    params = list(params)
    params[at] = [int(pk) for pk in ids]
    with connection.cursor() as cur:
        execute_prepared(cur, _PACKAGE_STATEMENT, statement, types, params)
        names = [c.name for c in cur.description]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    order = {pk: n for n, pk in enumerate(ids)}
    loads = json.loads
    for row in rows:
        row["uuid"] = row.pop("stored_uuid") or identity_uuid(row["resource_id"])
        files = row.pop("file_list")
        if row["open_data"] and files:
            row["files"] = files = [loads(f) if isinstance(f, str) else f for f in files]
            # ISO 8601 texts of one format in UTC sort as their times do.
            row["modified"] = max([row["published"], *[f["built"] for f in files if f["built"]]])
        else:
            row["files"] = []
            row["modified"] = row["published"]
            if not row["open_data"]:
                row["licence_id"] = None
        version_themes = row.pop("theme_list")
        if version_themes:
            version_themes = [_json(t) for t in version_themes]
            row["themes"] = [t["name"] for t in version_themes]
            row["theme_codes"] = [t["code"] for t in version_themes]
        else:
            row["themes"], row["theme_codes"] = [], []
        row["division_name"] = row["division_name"] or ""
    rows.sort(key=lambda r: order[r["resource_id"]])
    return rows
