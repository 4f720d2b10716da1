"""DCAT pages (issue #18, item 1): the open catalog at /catalog.ttl, /catalog.jsonld,
/catalog.rdf, /catalog.nt, negotiated at /dcat/catalog and /catalog/ (through the catalog's
negotiation hook), and one dataset at /dcat/datasets/<uuid>[.ext]. Anonymous, read-only,
throttled per client address, paged (Hydra) and streamed in chunks of datasets."""

from __future__ import annotations

import re
import uuid as uuidlib

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from . import dcat, selectors
from .throttle import throttled

PAGE_SIZE = 1000
MAX_PAGE_SIZE = 5000
CHUNK = 250

_MEDIA = {
    "text/turtle": "ttl",
    "application/x-turtle": "ttl",
    "application/ld+json": "jsonld",
    "application/json": "jsonld",
    "application/rdf+xml": "rdf",
    "application/n-triples": "nt",
    "text/html": "html",
    "application/xhtml+xml": "html",
}


def negotiate(request: HttpRequest, *, default: str | None = None) -> str | None:
    """The format the Accept header prefers among _MEDIA's ("html" for a page), or `default`."""
    best, best_q = None, 0.0
    for part in request.headers.get("Accept", "").split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        fmt = _MEDIA.get(media.lower())
        # Equal weights: the first listed wins (browsers list text/html first).
        if fmt and q > best_q:
            best, best_q = fmt, q
    return best or default


def site_for(request: HttpRequest) -> dcat.Site:
    publisher = selectors.city_publisher()
    base = request.build_absolute_uri("/").rstrip("/")
    return dcat.Site(
        base,
        publisher={
            "iri": f"{base}/dcat/agents/{publisher.pk}" if publisher else f"{base}/#publisher",
            "name": publisher.name if publisher else "武汉市数据局",
        },
        licences=selectors.licences(),
        concepts=selectors.concepts(),
    )


_WHOLE = re.compile(r"[+-]?[0-9]+")


class BadParameter(Exception):
    pass


def _int_param(request, name: str, default: int, low: int, high: int, *, clamp: bool = False):
    """A whole-number query parameter: missing, its default; not a whole number or below
    `low`, `BadParameter` (400); above `high`, `high` when `clamp` (a page size: the server
    chooses it, and the Hydra view's links say which it served), else Http404 (a page past
    any catalog's last)."""
    raw = request.GET.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not _WHOLE.fullmatch(text):
        raise BadParameter(f"{name} must be a whole number from {low}")
    # Past 18 digits a number is past any bound (and Python refuses to read very long ones).
    digits = text.lstrip("+-").lstrip("0")
    value = int(text) if len(digits) <= 18 else (-1 if text.startswith("-") else 10**19)
    if value < low:
        raise BadParameter(f"{name} must be a whole number from {low}")
    if value > high:
        if clamp:
            return high
        raise Http404
    return value


def _bad_request(message: str) -> HttpResponse:
    response = HttpResponse(f"{message}\n", status=400, content_type="text/plain; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


def page_chunks(site: dcat.Site, *, page: int, page_size: int, chunk: int = CHUNK):
    """The triples of one page of the catalog, chunk by chunk (the first chunk: the catalog
    and the page's view); 404 for a page past the last."""
    entries = selectors.open_catalog_entries()
    total = entries.count()
    pages = max(1, -(-total // page_size))
    if page > pages:
        raise Http404
    offset = (page - 1) * page_size
    ids = list(
        entries.order_by("resource_id").values_list("resource_id", flat=True)[
            offset : offset + page_size
        ]
    )

    def chunks():
        yield [
            *dcat.catalog_triples(site),
            *dcat.view_triples(
                site,
                page=page,
                pages=pages,
                total=total,
                size=None if page_size == PAGE_SIZE else page_size,
            ),
        ]
        divisions = selectors.division_names()
        for start in range(0, len(ids), chunk):
            rows = selectors.dataset_rows(ids[start : start + chunk], divisions=divisions)
            yield [t for row in rows for t in dcat.dataset_triples(site, row)]

    return chunks()


def _rdf_response(chunks, fmt: str, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        dcat.serialize_stream(chunks, fmt), content_type=dcat.FORMATS[fmt][1]
    )
    response["Content-Disposition"] = f'inline; filename="{filename}.{fmt}"'
    response["Access-Control-Allow-Origin"] = "*"
    patch_vary_headers(response, ["Accept"])
    return response


@require_safe
@throttled
def catalog_rdf(request, fmt: str):
    try:
        page = _int_param(request, "page", 1, 1, 10**7)
        # Larger than the largest page: the largest (the view's links carry the size served).
        size = _int_param(request, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE, clamp=True)
    except BadParameter as err:
        return _bad_request(str(err))
    chunks = page_chunks(site_for(request), page=page, page_size=size)
    return _rdf_response(chunks, fmt, "catalog")


@require_safe
def catalog_negotiated(request):
    fmt = negotiate(request, default="ttl")
    if fmt == "html":
        return HttpResponseRedirect("/catalog/")
    return catalog_rdf(request, fmt)


def catalog_list_representation(request) -> HttpResponse | None:
    """The catalog's negotiation hook: /catalog/ in RDF when the Accept header prefers it."""
    fmt = negotiate(request)
    if fmt is None or fmt == "html" or request.method not in ("GET", "HEAD"):
        return None
    return catalog_rdf(request, fmt)


@require_safe
@throttled
def dataset_rdf(request, uuid: str, fmt: str | None = None):
    try:
        value = uuidlib.UUID(uuid)
    except ValueError:
        raise Http404 from None
    resource_id = selectors.dataset_by_uuid(value)
    if fmt is None:
        fmt = negotiate(request, default="ttl")
        if fmt == "html":
            return HttpResponseRedirect(f"/catalog/resources/{resource_id}/")
    site = site_for(request)
    rows = selectors.dataset_rows([resource_id])
    if not rows:
        raise Http404
    chunks = [list(dcat.dataset_triples(site, rows[0], in_catalog=False))]
    return _rdf_response(chunks, fmt, str(value))
