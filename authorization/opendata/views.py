"""Open-data pages (public): the list with search and facets, a resource's page with its
public items and licence, and the downloads, streamed from storage."""

from __future__ import annotations

from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_GET, require_POST

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.pagination import KnownCountPaginator
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .forms import ApplicationFilterForm, ApplicationForm, DecisionForm, OpenSearchForm
from .permissions import access_application
from .workflows import application_workflow

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


def file_response(request, resource, fmt: str) -> HttpResponse:
    """Send a built file and count the download.

    Behind nginx (`OPENDATA_ACCEL_REDIRECT_PREFIX` set, e.g. `/protected-media/`, an
    `internal` location aliased to MEDIA_ROOT) the answer is an empty response whose
    `X-Accel-Redirect` hands the file to nginx, so no gunicorn worker is held while a slow
    client downloads a large file (docs/operations.md, "Open-data downloads"). Without it
    (`make run`, tests) the WSGI server streams the file in blocks (`FileResponse`)."""
    found = selectors.open_file(resource, fmt)
    name = f"{resource.published_version.name}-{resource.code.replace('/', '-')}.{fmt}"
    prefix = settings.OPENDATA_ACCEL_REDIRECT_PREFIX
    if prefix:
        if not found.file.storage.exists(found.file.name):
            raise Http404
        services.download_count(file=found, request=request)
        response = HttpResponse(content_type=found.content_type)
        response["X-Accel-Redirect"] = prefix.rstrip("/") + "/" + quote(found.file.name)
        response["Content-Disposition"] = content_disposition_header(True, name)
    else:
        try:
            handle = found.file.open("rb")
        except OSError:  # the row outlived its file (storage cleaned by hand): nothing to serve
            raise Http404 from None
        services.download_count(file=found, request=request)
        response = FileResponse(
            handle, as_attachment=True, filename=name, content_type=found.content_type
        )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def open_download(request, pk: int, fmt: str):
    return file_response(request, selectors.open_resource(pk), fmt)


# --- conditional opening: applications ------------------------------------------------------


@login_required
def application_create(request, pk: int):
    resource = selectors.apply_target(pk)
    if not services.may_apply(request.user, resource):
        raise Http404
    dataset = getattr(resource, "open_dataset", None)
    licence = dataset.licence if dataset else services.default_licence()
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            application = services.application_submit(
                resource=resource, acting_user=request.user, **form.cleaned_data
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your application has been sent to the provider."))
            return redirect("opendata:application", application.pk)
    return render(
        request,
        "authorization/opendata/application_form.html",
        {"resource": resource, "form": form, "licence": licence},
    )


@login_required
def application_list(request):
    form = ApplicationFilterForm(request.GET or None)
    q, state = form.cleaned()
    page = Paginator(selectors.applications_visible_to(request.user, q=q, state=state), 20)
    return render(
        request,
        "authorization/opendata/application_list.html",
        {"form": form, "page_obj": page.get_page(request.GET.get("page"))},
    )


@login_required
def application_detail(request, pk: int):
    application = access_application(request.user, pk)
    transitions = application_workflow.available_to(application, request.user)
    form = DecisionForm(request.POST or None, transitions=transitions)
    if request.method == "POST" and transitions and form.is_valid():
        try:
            services.application_decide(
                application=application,
                action=form.cleaned_data["action"],
                comment=form.cleaned_data["comment"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your decision has been recorded."))
            return redirect("opendata:application", application.pk)
    return render(
        request,
        "authorization/opendata/application_detail.html",
        {
            "application": application,
            "form": form if transitions else None,
            "events": events_described(application, application_workflow),
            "key_waiting": bool(application.key_sealed)
            and application.applicant_id == request.user.pk,
        },
    )


@login_required
@require_POST
def application_key(request, pk: int):
    application = access_application(request.user, pk)
    try:
        raw = services.application_key_reveal(application=application, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("opendata:application", application.pk)
    response = render(
        request,
        "authorization/opendata/application_key.html",
        {"application": application, "raw_key": raw},
    )
    response["Cache-Control"] = "no-store"
    return response
