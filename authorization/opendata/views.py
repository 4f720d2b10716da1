"""Open-data pages (public): the list with search and facets, a resource's page with its
public items and licence, and the downloads, streamed from storage."""

from __future__ import annotations

from django.http import FileResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET

from wuhan_pdr.kernel.pagination import KnownCountPaginator

from . import selectors, services
from .forms import OpenSearchForm

PAGE_SIZE = 20


def _querystring(request, *drop: str) -> str:
    params = request.GET.copy()
    for key in ("page", *drop):
        params.pop(key, None)
    return params.urlencode()


@require_GET
def open_list(request):
    form = OpenSearchForm(request.GET or None)
    params = form.to_query()
    matching = selectors.open_entries(params)
    total = matching.count()
    paginator = KnownCountPaginator(selectors.open_entry_rows(matching), PAGE_SIZE, count=total)
    page = paginator.get_page(request.GET.get("page"))
    labels = {
        "provider": _("Provider"),
        "classification": _("Classification"),
        "resource_format": _("Format"),
        "licence": pgettext("open data", "Licence"),
    }
    facets = [
        (name, labels[name], values, _querystring(request, name))
        for name, values in selectors.open_facets(matching, params).items()
        if values
    ]
    return render(
        request,
        "authorization/opendata/open_list.html",
        {"form": form, "page_obj": page, "total": total, "facets": facets},
    )


@require_GET
def open_detail(request, pk: int):
    resource = selectors.open_resource(pk)
    return render(
        request,
        "authorization/opendata/open_detail.html",
        {
            "resource": resource,
            "version": resource.published_version,
            "items": selectors.open_items(resource),
            "files": selectors.open_files(resource),
            "dataset": getattr(resource, "open_dataset", None),
        },
    )


def file_response(request, resource, fmt: str) -> FileResponse:
    """Stream a built file (the WSGI server sends it in blocks) and count the download."""
    found = selectors.open_file(resource, fmt)
    handle = found.file.open("rb")
    services.download_count(file=found, request=request)
    name = f"{resource.published_version.name}-{resource.code.replace('/', '-')}.{fmt}"
    response = FileResponse(
        handle, as_attachment=True, filename=name, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def open_download(request, pk: int, fmt: str):
    return file_response(request, selectors.open_resource(pk), fmt)
