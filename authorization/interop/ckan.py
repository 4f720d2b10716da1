"""A CKAN-compatible action API over the open catalog (issue #18, item 2), at /api/3/action/.

Read-only, anonymous, throttled per client address (`throttle.InteropThrottle`). Actions:
site_read, status_show, package_list, package_search, package_show, organization_list,
organization_show, group_list, tag_list, license_list, resource_show. Parameters come from the
query string (GET) or a JSON or form body (POST, as `ckanapi` sends them). Answers are in
CKAN's envelope: `{"help", "success", "result"}`, or `{"help", "success": false, "error":
{"__type", "message"}}` with CKAN's status codes (400 Validation Error, 404 Not Found Error,
409 Search Query Error).

Identity (CKAN's rules): a package's `id` is its stable UUID (`models.DatasetIdentity`), its
`name` the resource code as a lower-case slug (`101/000001` -> `101-000001`); an
organization's `id` a UUID derived from its key, its `name` its unified social credit code in
lower case (or `org-<pk>`); a licence's id `licence-<pk>`; a group is a classification node
(`class-<code>`); tags are the classification's and the themes' names.

Which packages: the open catalog (`selectors.open_catalog_entries`); only open data
(`selectors.open_data_q`) has resources: its built files and the open-data API.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from functools import lru_cache

from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, F, Q
from django.http import JsonResponse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.csrf import csrf_exempt

from catalog.models import CatalogEntry, Classification, ResourceVersion
from catalog.public import public_resources_q
from catalog.selectors import GENERATION_KEY, CatalogQuery, catalog_entries
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.forms import record_id

from ..opendata.models import OpenFile
from . import dcat, selectors
from .models import IDENTITY_NAMESPACE, DistributionIdentity, distribution_uuid
from .throttle import throttled

API_VERSION = 3
CKAN_VERSION = "2.10.4"  # the CKAN release whose action API this subset follows
MAX_ROWS = 1000
DEFAULT_ROWS = 10
FACET_FIELDS = ("organization", "tags", "res_format", "license_id", "groups")
FACET_CACHE_SECONDS = 60


class ActionError(Exception):
    def __init__(self, kind: str, message, status: int):
        super().__init__(message)
        self.kind, self.message, self.status = kind, message, status


def _validation(field: str, message: str) -> ActionError:
    err = ActionError("Validation Error", message, 409)
    err.fields = {field: [message]}
    return err


def _not_found(what: str = "Not found") -> ActionError:
    return ActionError("Not Found Error", what, 404)


# --- identities -------------------------------------------------------------------------------


def package_name(code: str) -> str:
    """CKAN's `name`: lower-case letters, digits, - and _, 2 to 100 characters."""
    slug = re.sub(r"[^a-z0-9_-]+", "-", code.lower()).strip("-")
    return slug[:100] if len(slug) >= 2 else f"r-{slug}"


@lru_cache(maxsize=4096)
def org_uuid(pk: int) -> str:
    return str(uuid.uuid5(IDENTITY_NAMESPACE, f"organization/{pk}"))


def org_name(pk: int, credit_code: str) -> str:
    code = re.sub(r"[^a-z0-9]", "", (credit_code or "").lower())
    return code if len(code) >= 2 else f"org-{pk}"


def resource_uuid(dataset_uuid, fmt: str) -> str:
    """A CKAN resource's `id`: uuid5(dataset UUID, format), stored as a
    `DistributionIdentity`."""
    return distribution_uuid(dataset_uuid, fmt)


def licence_key(pk) -> str:
    return f"licence-{pk}"


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    text = value.isoformat()
    if text.endswith("+00:00"):  # the database session's zone is UTC: the usual case
        return text[:-6]
    return value.astimezone(UTC).replace(tzinfo=None).isoformat()


# --- dictionaries -----------------------------------------------------------------------------


class Context:
    """What a request reads once: the base URL, organizations, licences, divisions."""

    def __init__(self, request):
        self.base = request.build_absolute_uri("/").rstrip("/")
        self._orgs: dict[int, dict] | None = None
        self._licences: dict[int, dict] | None = None
        self._divisions: dict[str, str] | None = None
        self._row_licences: dict[int, dict] | None = None

    @property
    def divisions(self) -> dict[str, str]:
        if self._divisions is None:
            self._divisions = selectors.division_names()
        return self._divisions

    @property
    def licences(self) -> dict[int, dict]:
        if self._licences is None:
            self._licences = {lic["pk"]: lic for lic in selectors.licences()}
        return self._licences

    def orgs(self, pks) -> dict[int, dict]:
        if self._orgs is None:
            self._orgs = {}
        missing = [pk for pk in set(pks) if pk not in self._orgs]
        if missing:
            for org in Organization.objects.filter(pk__in=missing).values(
                "pk", "name", "credit_code", "created_at"
            ):
                self._orgs[org["pk"]] = self.org_dict(org)
        return self._orgs

    def org_dict(self, org: dict) -> dict:
        return {
            "id": org_uuid(org["pk"]),
            "name": org_name(org["pk"], org["credit_code"]),
            "title": org["name"],
            "display_name": org["name"],
            "description": "",
            "type": "organization",
            "is_organization": True,
            "state": "active",
            "approval_status": "approved",
            "image_url": "",
            "created": _iso(org["created_at"]),
        }

    def org_from_row(self, row: dict) -> dict:
        """The provider's dictionary, from the row's own columns when it has them
        (`selectors.package_rows`), once per organization and request."""
        pk = row["provider_id"]
        if self._orgs is None:
            self._orgs = {}
        found = self._orgs.get(pk)
        if found is None:
            if "org_credit_code" not in row:
                return self.orgs([pk])[pk]
            found = self._orgs[pk] = self.org_dict(
                {
                    "pk": pk,
                    "name": row["org_name"],
                    "credit_code": row["org_credit_code"],
                    "created_at": None,
                }
            )
            found["created"] = row["org_created"]  # written by SQL (`selectors.IsoUTC`)
        return found

    def licence_from_row(self, row: dict) -> dict:
        """The licence's dictionary, once per licence and request (package dictionaries
        only read it)."""
        if "licence_name" not in row:
            return self.licence_dict(row["licence_id"])
        pk = row["licence_id"]
        if self._row_licences is None:
            self._row_licences = {}
        found = self._row_licences.get(pk)
        if found is None:
            found = self._row_licences[pk] = self._licence(
                pk, row["licence_name"], row["licence_url"]
            )
        return found

    def _licence(self, pk: int, name: str, url: str) -> dict:
        return {
            "id": licence_key(pk),
            "title": name,
            "url": url or f"{self.base}/dcat/licences/{pk}",
            "status": "active",
            "od_conformance": "not reviewed",
            "osd_conformance": "not reviewed",
        }

    def licence_dict(self, pk: int) -> dict:
        lic = self.licences[pk]
        return {
            "id": licence_key(pk),
            "title": lic["name"],
            "url": lic["url"] or f"{self.base}/dcat/licences/{pk}",
            "status": "active",
            "od_conformance": "not reviewed",
            "osd_conformance": "not reviewed",
        }


def _resources(ctx: Context, row: dict, pid: str, dataset_uuid) -> list[dict]:
    """The package's resources: its built files, then the open-data API (open data only).
    Timestamps come written (`selectors.package_rows`)."""
    if not row["open_data"]:
        return []
    name, rid, base = row["name"], row["resource_id"], ctx.base
    out = []
    for n, f in enumerate(row["files"]):
        fmt = f["format"]
        eu_type, media = dcat.FILE_TYPES[fmt]
        built = f["built"]
        out.append(
            {
                "id": resource_uuid(dataset_uuid, fmt),
                "package_id": pid,
                "name": f"{name} ({eu_type})",
                "description": "",
                "url": f"{base}/open/{rid}/download/{fmt}/",
                "format": eu_type,
                "mimetype": media,
                "size": f["size"],
                "created": built,
                "last_modified": built,
                "state": "active",
                "position": n,
                "url_type": None,
                "datastore_active": False,
            }
        )
    out.append(
        {
            "id": resource_uuid(dataset_uuid, "api"),
            "package_id": pid,
            "name": f"{name} (API)",
            "description": "",
            "url": f"{base}/api/v1/open/resources/{rid}/",
            "format": "API",
            "mimetype": "application/json",
            "size": None,
            "created": row["published"],
            "last_modified": row["modified"],
            "state": "active",
            "position": len(out),
            "url_type": None,
            "datastore_active": False,
        }
    )
    return out


def package_dict(ctx: Context, row: dict) -> dict:
    """A row of `selectors.package_rows` as CKAN's package dictionary."""
    org = ctx.org_from_row(row)
    cname = row["classification_name"]
    themes = row["themes"]
    tags = sorted({cname, *themes}) if themes else [cname]
    ccode = row["classification_code"]
    groups = dict.fromkeys([ccode, *row["theme_codes"]]) if themes else (ccode,)
    licence = ctx.licence_from_row(row) if row.get("licence_id") else None
    pid = str(row["uuid"])
    resources = _resources(ctx, row, pid, row["uuid"])
    base, rid, published = ctx.base, row["resource_id"], row["published"]
    return {
        "id": pid,
        "name": package_name(row["code"]),
        "title": row["name"],
        "notes": row["summary"],
        "url": f"{base}/catalog/resources/{rid}/",
        "type": "dataset",
        "state": "active",
        "private": False,
        "isopen": row["open_data"],
        "version": None,
        "author": None,
        "author_email": None,
        "maintainer": row["provider_name"],
        "maintainer_email": None,
        "license_id": licence["id"] if licence else "",
        "license_title": licence["title"] if licence else "",
        "license_url": licence["url"] if licence else "",
        "metadata_created": published,
        "metadata_modified": published,
        "owner_org": org["id"],
        "organization": org,
        "tags": [_tag_dict(t) for t in tags],
        "num_tags": len(tags),
        "groups": [_group_dict(code) for code in groups],
        "resources": resources,
        "num_resources": len(resources),
        "extras": [
            {"key": "identifier", "value": row["code"]},
            {"key": "update_cycle", "value": row["update_cycle"]},
            {"key": "open_type", "value": row["open_type"]},
            {"key": "spatial_code", "value": row["division_code"]},
            {"key": "spatial_text", "value": row.get("division_name", "")},
            {"key": "dcat_uri", "value": f"{base}/dcat/datasets/{pid}"},
        ],
        "relationships_as_object": [],
        "relationships_as_subject": [],
    }


def _tag_dict(name: str) -> dict:
    # A fresh dict per package (callers may change theirs); only its UUID is memoized.
    return {
        "name": name,
        "display_name": name,
        "id": _tag_id(name),
        "state": "active",
        "vocabulary_id": None,
    }


def _group_dict(code: str) -> dict:
    return {"id": _group_id(code), "name": f"class-{code}", "title": code, "display_name": code}


@lru_cache(maxsize=4096)
def _tag_id(name: str) -> str:
    return str(uuid.uuid5(IDENTITY_NAMESPACE, f"tag/{name}"))


@lru_cache(maxsize=4096)
def _group_id(code: str) -> str:
    return str(uuid.uuid5(IDENTITY_NAMESPACE, f"group/{code}"))


# --- search -----------------------------------------------------------------------------------

_FQ_TERM = re.compile(r'([+-]?)([A-Za-z_.]+):(\[[^\]]*\]|"[^"]*"|\([^)]*\)|\S+)')
_NOOP_FIELDS = {"dataset_type": {"dataset"}, "state": {"active"}, "capacity": {"public"}}


def _values(raw: str) -> list[str]:
    raw = raw.strip()
    if raw.startswith("(") and raw.endswith(")"):
        parts = re.split(r"\s+OR\s+", raw[1:-1].strip())
        return [p.strip().strip('"') for p in parts if p.strip()]
    return [raw.strip('"')]


def _moment(text: str, *, end: bool) -> datetime | None:
    text = text.strip()
    if text == "*":
        return None
    if text.upper().startswith("NOW"):
        return timezone.now()
    value = parse_datetime(text.rstrip("Z") if text.endswith("Z") else text)
    if value is None:
        day = parse_date(text)
        if day is None:
            raise ActionError("Search Query Error", f"Invalid date: {text[:40]}", 409)
        value = datetime.combine(day, datetime.max.time() if end else datetime.min.time())
    if timezone.is_naive(value):
        value = timezone.make_aware(value, UTC)
    return value


def _field_q(field: str, value: str) -> Q:
    if field == "organization":
        if value.startswith("org-") and (pk := record_id(value[4:])) is not None:
            return Q(provider_id=pk)
        return Q(provider__credit_code__iexact=value)
    if field == "owner_org":
        pks = [
            pk
            for pk in CatalogEntry.objects.values_list("provider_id", flat=True).distinct()
            if org_uuid(pk) == value
        ]
        return Q(provider_id__in=pks)
    if field == "tags":
        return Q(classification__name=value) | Q(version__themes__name=value)
    if field == "groups":
        code = value.removeprefix("class-")
        return Q(classification__code=code) | Q(version__themes__code=code)
    if field == "res_format":
        fmt = value.lower()
        if fmt == "api":
            return selectors.open_data_q()
        return selectors.open_data_q() & Q(
            resource__open_dataset__files__format=fmt,
        )
    if field == "license_id":
        pk = record_id(value.removeprefix("licence-"))
        if pk is None:
            return Q(pk__in=[])
        return selectors.open_data_q() & Q(resource__open_dataset__licence_id=pk)
    if field == "name":
        return _name_q(value.lower())
    if field == "id":
        return Q(resource__dataset_identity__uuid=_uuid_or_none(value))
    if field in _NOOP_FIELDS:
        return Q() if value in _NOOP_FIELDS[field] else Q(pk__in=[])
    if field == "metadata_modified" or field == "metadata_created":
        raise AssertionError  # ranges only, handled by the caller
    raise ActionError("Search Query Error", f"Unknown field in fq: {field[:40]}", 409)


def _name_q(value: str) -> Q:
    # A name is the code in lower case with runs of other characters turned into "-".
    pattern = "^" + re.escape(value).replace("\\-", "[^a-z0-9_]+") + "$"
    return Q(code__iregex=pattern)


def _uuid_or_none(value: str):
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def apply_fq(qs, fq: str):
    for sign, field, raw in _FQ_TERM.findall(fq or ""):
        if field in ("metadata_modified", "metadata_created"):
            m = re.fullmatch(r"\[\s*(\S+)\s+TO\s+(\S+)\s*\]", raw)
            if not m:
                raise ActionError("Search Query Error", "Invalid range in fq", 409)
            low, high = _moment(m.group(1), end=False), _moment(m.group(2), end=True)
            # The package's metadata is the catalog entry: modified when it is published again
            # (a file rebuilt changes its resource's last_modified, as in CKAN).
            column = "published_at"
            cond = Q()
            if low:
                cond &= Q(**{f"{column}__gte": low})
            if high:
                cond &= Q(**{f"{column}__lte": high})
        else:
            cond = Q()
            for n, value in enumerate(_values(raw)):
                one = _field_q(field, value)
                cond = one if n == 0 else cond | one
        qs = qs.exclude(cond) if sign == "-" else qs.filter(cond)
    return qs.distinct() if "tags" in (fq or "") or "groups" in (fq or "") else qs


_SORTS = {
    "metadata_modified": "published_at",
    "metadata_created": "published_at",
    "name": "code",
    "title_string": "name",
    "title": "name",
    "id": "resource__dataset_identity__uuid",
}


def apply_sort(qs, sort: str | None, *, ranked: bool):
    if not sort:
        sort = "score desc, metadata_modified desc"
    order = []
    for part in sort.split(","):
        bits = part.split()
        if not bits:
            continue
        field = bits[0]
        direction = bits[1].lower() if len(bits) > 1 else "asc"
        if direction not in ("asc", "desc"):
            raise _validation("sort", f"Invalid sort direction: {direction[:10]}")
        if field == "score":
            if ranked:
                order.append("-rank")
            continue
        column = _SORTS.get(field)
        if column is None:
            raise _validation("sort", f"Invalid sort field: {field[:40]}")
        order.append(F(column).desc() if direction == "desc" else F(column).asc())
    order.append("resource_id")
    return qs.order_by(*order)


def search_queryset(q: str, fq: str):
    q = (q or "").strip()
    if q in ("*:*", "*"):
        q = ""
    if not q:
        return apply_fq(selectors.open_catalog_entries().order_by("-published_at", "pk"), fq)
    base = catalog_entries(CatalogQuery(q=q[:200]), viewer=AnonymousUser())
    # The anonymous catalog is the open catalog already; the rule is restated, not assumed.
    base = base.filter(public_resources_q(), resource__retired_at__isnull=True)
    return apply_fq(base, fq)


# --- facets -----------------------------------------------------------------------------------


def _facet_counts(qs, fields: list[str], limit: int) -> dict[str, dict[str, int]]:
    ids = qs.order_by().values("resource_id")
    base = CatalogEntry.objects.filter(resource_id__in=ids)
    out: dict[str, dict[str, int]] = {}
    for field in fields:
        counts: dict[str, int] = {}
        if field == "organization":
            orgs = dict(Organization.objects.values_list("pk", "credit_code"))
            for pk, n in base.values_list("provider_id").annotate(n=Count("pk")):
                counts[org_name(pk, orgs.get(pk, ""))] = n
        elif field == "groups":
            for code, n in base.values_list("classification__code").annotate(n=Count("pk")):
                counts[f"class-{code}"] = n
            for code, n in (
                base.exclude(version__themes__code=F("classification__code"))
                .filter(version__themes__isnull=False)
                .values_list("version__themes__code")
                .annotate(n=Count("pk", distinct=True))
            ):
                counts[f"class-{code}"] = counts.get(f"class-{code}", 0) + n
        elif field == "tags":
            for name, n in base.values_list("classification__name").annotate(n=Count("pk")):
                counts[name] = n
            for name, n in (
                base.exclude(version__themes__name=F("classification__name"))
                .filter(version__themes__isnull=False)
                .values_list("version__themes__name")
                .annotate(n=Count("pk", distinct=True))
            ):
                counts[name] = counts.get(name, 0) + n
        elif field == "res_format":
            open_ids = base.filter(selectors.open_data_q()).values("resource_id")
            for fmt, n in (
                OpenFile.objects.filter(dataset__resource_id__in=open_ids)
                .exclude(file="")
                .values_list("format")
                .annotate(n=Count("dataset_id", distinct=True))
            ):
                counts[dcat.FILE_TYPES[fmt][0]] = n
            api = base.filter(selectors.open_data_q()).count()
            if api:
                counts["API"] = api
        elif field == "license_id":
            for pk, n in (
                base.filter(selectors.open_data_q())
                .values_list("resource__open_dataset__licence_id")
                .annotate(n=Count("pk"))
            ):
                if pk is not None:
                    counts[licence_key(pk)] = n
        top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        out[field] = dict(top)
    return out


def _cache_key(kind: str, generation, key_parts) -> str:
    return (
        f"interop:{kind}:"
        + uuid.uuid5(IDENTITY_NAMESPACE, json.dumps([generation, *key_parts], default=str)).hex
    )


def cached_counts(qs, fields: list[str], limit: int, key_parts: tuple) -> tuple[int, dict, dict]:
    """The search's count, its facet counts and the organization facet's labels, cached for a
    minute per search and catalog generation (a publication or retirement starts a new
    generation, as for the catalog's own facets): ONE cache round trip when warm (the
    generation is read with the entry, which keeps the generation it was counted in). `qs`
    may be a callable that builds the search's queryset: only on a miss."""
    search_key = _cache_key("search", "-", (*key_parts, fields, limit))
    labels_key = "interop:org-labels"
    wanted = [GENERATION_KEY, search_key]
    if "organization" in fields:
        wanted.append(labels_key)
    found = cache.get_many(wanted)
    generation = found.get(GENERATION_KEY)
    if generation is None:
        generation = cache.get_or_set(GENERATION_KEY, 1, timeout=None)
    fresh = {}
    entry = found.get(search_key)
    if not isinstance(entry, dict) or entry.get("generation") != generation:
        if callable(qs):
            qs = qs()
        entry = fresh[search_key] = {
            "generation": generation,
            "count": qs.order_by().count(),
            "facets": _facet_counts(qs, fields, limit) if fields else {},
        }
    labels = found.get(labels_key, {} if "organization" not in fields else None)
    if labels is None:
        labels = fresh[labels_key] = {
            org_name(o["pk"], o["credit_code"]): o["name"]
            for o in Organization.objects.values("pk", "credit_code", "name")
        }
    if fresh:
        cache.set_many(fresh, timeout=FACET_CACHE_SECONDS)
    return entry["count"], entry["facets"], labels


def _facet_titles(ctx: Context, field: str, values: dict[str, int], orgs: dict) -> dict:
    items = []
    for name, count in values.items():
        label = name
        if field == "organization":
            label = orgs.get(name, name)
        elif field == "license_id" and name.removeprefix("licence-").isdigit():
            pk = int(name.removeprefix("licence-"))
            label = ctx.licences.get(pk, {}).get("name", name)
        items.append({"name": name, "display_name": label, "count": count})
    return {"title": field, "items": items}


# --- actions ----------------------------------------------------------------------------------


def _int(params, name: str, default: int, high: int) -> int:
    raw = params.get(name, default)
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise _validation(name, "Invalid integer") from None
    if value < 0:
        raise _validation(name, "Must be a natural number")
    return min(value, high)


def _list_param(params, name: str) -> list[str]:
    raw = params.get(name)
    if raw in (None, ""):
        return []
    if isinstance(raw, list):
        return [str(v) for v in raw]
    try:
        value = json.loads(raw)
    except (TypeError, ValueError):
        value = [raw]
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise _validation(name, "Must be a list")
    return [str(v) for v in value]


def _rows_for(ctx: Context, ids: list[int]) -> list[dict]:
    """The package dictionaries of `ids`: one query (`selectors.package_rows`)."""
    return [package_dict(ctx, r) for r in selectors.package_rows(ids)]


def act_site_read(ctx, params):
    return True


def act_status_show(ctx, params):
    return {
        "site_title": "武汉市公共数据资源平台",
        "site_description": "武汉市公共数据开放目录(CKAN 兼容接口,只读)",
        "site_url": ctx.base,
        "ckan_version": CKAN_VERSION,
        "error_emails_to": None,
        "locale_default": "zh_Hans_CN",
        "extensions": ["dcat"],
    }


def act_package_list(ctx, params):
    limit = _int(params, "limit", MAX_ROWS * 100, MAX_ROWS * 100)
    offset = _int(params, "offset", 0, 10**9)
    codes = (
        selectors.open_catalog_entries()
        .order_by("code")
        .values_list("code", flat=True)[offset : offset + limit]
    )
    return [package_name(c) for c in codes]


def act_package_search(ctx, params):
    rows = _int(params, "rows", DEFAULT_ROWS, MAX_ROWS)
    start = _int(params, "start", 0, 10**9)
    q, fq = str(params.get("q") or ""), str(params.get("fq") or "")
    for extra in _list_param(params, "fq_list"):
        fq = f"{fq} {extra}"
    sort = params.get("sort")
    if q.strip() in ("", "*", "*:*") and not fq.strip():
        # The whole open catalog in some order: its ids query is compiled once per sort.
        def qs():
            return apply_sort(search_queryset("", ""), sort, ranked=False)

        ids = _catalog_page(str(sort or ""), qs, start, rows)
    else:
        qs = search_queryset(q, fq)
        qs = apply_sort(qs, sort, ranked="rank" in qs.query.annotations)
        ids = None
    fields = _list_param(params, "facet.field")
    for field in fields:
        if field not in FACET_FIELDS:
            raise _validation("facet.field", f"Unknown facet field: {field[:40]}")
    limit = _int(params, "facet.limit", 50, 1000)
    if str(params.get("facet", "true")).lower() == "false":
        fields = []
    if ids is None:
        ids = list(qs.values_list("resource_id", flat=True)[start : start + rows])
    count, facets, labels = cached_counts(qs, fields, limit, (q, fq))
    return {
        "count": count,
        "sort": params.get("sort") or "score desc, metadata_modified desc",
        "results": _rows_for(ctx, ids),
        "facets": facets,
        "search_facets": {f: _facet_titles(ctx, f, facets[f], labels) for f in fields},
    }


_PAGE_SQL: dict[str, tuple[str, tuple]] = {}
_MAX_PAGE_SQL = 32  # sort orders whose ids query is kept compiled, per process


def _catalog_page(sort: str, qs, start: int, rows: int) -> list[int]:
    """The resource ids of a page of the whole open catalog in the order `sort`: the ORM's
    query (`qs()`, built only the first time a sort is seen, which also checks it) compiled
    once per sort and process, with LIMIT and OFFSET sent as values (so PostgreSQL plans
    each page with its own: a plan prepared for any offset reads far too much)."""
    found = _PAGE_SQL.get(sort)
    if found is None:
        found = qs().values_list("resource_id", flat=True).query.sql_with_params()
        if len(_PAGE_SQL) < _MAX_PAGE_SQL:
            _PAGE_SQL[sort] = found
    sql, params = found
    with connection.cursor() as cur:
        cur.execute(f"{sql} LIMIT %s OFFSET %s", [*params, rows, start])
        return [r[0] for r in cur.fetchall()]


def _package_id(params, name: str = "id") -> int:
    value = str(params.get(name) or params.get("name_or_id") or "").strip()
    if not value:
        raise _validation(name, "Missing value")
    entries = selectors.open_catalog_entries()
    as_uuid = _uuid_or_none(value)
    if as_uuid is not None:
        found = entries.filter(resource__dataset_identity__uuid=as_uuid)
    else:
        found = entries.filter(_name_q(value.lower()))
    pk = found.values_list("resource_id", flat=True).first()
    if pk is None:
        raise _not_found()
    return pk


def act_package_show(ctx, params):
    rows = _rows_for(ctx, [_package_id(params)])
    if not rows:
        raise _not_found()
    return rows[0]


def act_resource_show(ctx, params):
    """A resource (distribution) by its UUID: an indexed lookup of the stored
    `DistributionIdentity` among open data, then its package (two queries)."""
    value = _uuid_or_none(str(params.get("id") or "").strip())
    if value is None:
        raise _not_found()
    found = (
        DistributionIdentity.objects.filter(
            uuid=value,
            resource__in=selectors.open_catalog_entries()
            .filter(selectors.open_data_q())
            .values("resource_id"),
        )
        .values_list("resource_id", flat=True)
        .first()
    )
    if found is not None:
        rows = _rows_for(ctx, [found])
        for res in rows[0]["resources"] if rows else []:
            if res["id"] == str(value):
                return res
    raise _not_found()


def _provider_ids() -> list[int]:
    return list(
        selectors.open_catalog_entries().order_by().values_list("provider_id", flat=True).distinct()
    )


def act_organization_list(ctx, params):
    pks = _provider_ids()
    orgs = ctx.orgs(pks)
    full = str(params.get("all_fields", "false")).lower() == "true"
    counts = dict(
        selectors.open_catalog_entries()
        .order_by()
        .values_list("provider_id")
        .annotate(n=Count("pk"))
    )
    items = sorted((orgs[pk] for pk in pks if pk in orgs), key=lambda o: o["name"])
    if full:
        by_id = {orgs[pk]["id"]: pk for pk in pks if pk in orgs}
        return [dict(o, package_count=counts.get(by_id[o["id"]], 0)) for o in items]
    return [o["name"] for o in items]


def act_organization_show(ctx, params):
    value = str(params.get("id") or "").strip()
    pks = _provider_ids()
    orgs = ctx.orgs(pks)
    for pk in pks:
        org = orgs.get(pk)
        if org and value in (org["id"], org["name"]):
            result = dict(org)
            entries = selectors.open_catalog_entries().filter(provider_id=pk)
            result["package_count"] = entries.count()
            if str(params.get("include_datasets", "false")).lower() == "true":
                ids = list(entries.order_by("code").values_list("resource_id", flat=True)[:10])
                result["packages"] = _rows_for(ctx, ids)
            return result
    raise _not_found()


def act_group_list(ctx, params):
    used = set(
        selectors.open_catalog_entries().values_list("classification__code", flat=True)
    ) | set(
        ResourceVersion.themes.through.objects.filter(
            resourceversion_id__in=selectors.open_catalog_entries().values("version_id")
        ).values_list("classification__code", flat=True)
    )
    if str(params.get("all_fields", "false")).lower() == "true":
        return [
            {"id": _group_id(c), "name": f"class-{c}", "title": n, "display_name": n}
            for c, n in Classification.objects.filter(code__in=used)
            .order_by("code")
            .values_list("code", "name")
        ]
    return [f"class-{c}" for c in sorted(used)]


def act_tag_list(ctx, params):
    names = set(
        selectors.open_catalog_entries().values_list("classification__name", flat=True)
    ) | set(
        ResourceVersion.themes.through.objects.filter(
            resourceversion_id__in=selectors.open_catalog_entries().values("version_id")
        ).values_list("classification__name", flat=True)
    )
    query = str(params.get("query") or "")
    return sorted(n for n in names if query in n)


def act_license_list(ctx, params):
    return [ctx.licence_dict(pk) for pk in sorted(ctx.licences)]


ACTIONS = {
    "site_read": act_site_read,
    "status_show": act_status_show,
    "package_list": act_package_list,
    "package_search": act_package_search,
    "package_show": act_package_show,
    "organization_list": act_organization_list,
    "organization_show": act_organization_show,
    "group_list": act_group_list,
    "tag_list": act_tag_list,
    "license_list": act_license_list,
    "resource_show": act_resource_show,
}


def _params(request) -> dict:
    params: dict = {k: request.GET.get(k) for k in request.GET}
    if request.method == "POST":
        if request.content_type == "application/json":
            try:
                body = json.loads(request.body or b"{}")
            except ValueError:
                raise _validation("body", "Invalid JSON") from None
            if not isinstance(body, dict):
                raise _validation("body", "Must be an object")
            params.update(body)
        else:
            params.update({k: request.POST.get(k) for k in request.POST})
    for key, value in params.items():
        if "\x00" in str(key) or "\\u0000" in json.dumps(value, default=str):
            raise _validation(str(key).replace("\x00", ""), "Invalid character")
    return params


def _envelope(request, name: str, body: dict, status: int = 200) -> JsonResponse:
    help_url = f"{request.build_absolute_uri('/').rstrip('/')}/api/3/action/help_show?name={name}"
    response = JsonResponse(
        {"help": help_url, **body}, status=status, json_dumps_params={"ensure_ascii": False}
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@csrf_exempt  # read-only actions: POST is only how ckanapi passes parameters
@throttled(ckan=True)
def action(request, name: str):
    if request.method not in ("GET", "HEAD", "POST"):
        return _envelope(
            request,
            name,
            {"success": False, "error": {"__type": "Validation Error", "message": "Bad method"}},
            405,
        )
    func = ACTIONS.get(name)
    if func is None:
        return _envelope(
            request,
            name,
            {
                "success": False,
                "error": {"__type": "Not Found Error", "message": "Action name not known"},
            },
            400,
        )
    try:
        result = func(Context(request), _params(request))
    except ActionError as err:
        error = {"__type": err.kind, "message": str(err.message)}
        for field, messages in getattr(err, "fields", {}).items():
            error[field] = messages
        return _envelope(request, name, {"success": False, "error": error}, err.status)
    return _envelope(request, name, {"success": True, "result": result})
