"""Pages of the Excel bulk filing: the agency's filings, the template, the upload, a filing's
progress and report, and the marked workbook."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from security import audit
from wuhan_pdr.kernel.errors import DomainError

from ..models import ResourceVersion
from ..permissions import can_file_for
from . import services
from .forms import BulkFilterForm, BulkUploadForm
from .models import BulkFiling
from .permissions import access_filing, filings_visible_to
from .reader import max_bytes
from .template import build_template

PAGE_SIZE = 20
ERRORS_PAGE_SIZE = 100
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DONE = (BulkFiling.State.REFUSED, BulkFiling.State.IMPORTED, BulkFiling.State.FAILED)


def _require_filer(request) -> None:
    if not can_file_for(request.user, getattr(request.user, "organization", None)):
        raise Http404


@login_required
def filing_list(request):
    _require_filer(request)
    form = BulkFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs = filings_visible_to(request.user).select_related("uploaded_by")
    if d.get("q"):
        qs = qs.filter(original_name__icontains=d["q"].strip())
    if d.get("state"):
        qs = qs.filter(state=d["state"])
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "catalog/bulk/filing_list.html",
        {"form": form, "page_obj": page, "querystring": params.urlencode()},
    )


@login_required
def template_download(request):
    _require_filer(request)
    response = HttpResponse(build_template(), content_type=XLSX)
    response["Content-Disposition"] = (
        "attachment; filename=\"catalog-bulk-template.xlsx\"; filename*=UTF-8''"
        "%E8%B5%84%E6%BA%90%E6%89%B9%E9%87%8F%E7%BC%96%E7%9B%AE%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@login_required
def filing_upload(request):
    _require_filer(request)
    form = BulkUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["workbook"]
        try:
            filing = services.bulk_filing_upload(
                acting_user=request.user, upload=upload, filename=upload.name
            )
        except DomainError as exc:
            form.add_error("workbook", str(exc))
        else:
            messages.success(request, _("The workbook was received; it is being checked."))
            return redirect("catalog:bulk:detail", pk=filing.pk)
    return render(
        request,
        "catalog/bulk/upload.html",
        {"form": form, "max_mb": max_bytes() // (1024 * 1024)},
    )


def _percent(filing: BulkFiling) -> int:
    if filing.state in DONE:
        return 100
    return filing.job.progress if filing.job_id and filing.job else 0


@login_required
def filing_detail(request, pk: int):
    filing = access_filing(request.user, pk)
    errors = Paginator(filing.errors or [], ERRORS_PAGE_SIZE).get_page(request.GET.get("page"))
    imported = (
        ResourceVersion.objects.filter(resource_id__in=filing.resources.values("pk"))
        .select_related("resource")
        .order_by("resource__code")[:PAGE_SIZE]
        if filing.state == BulkFiling.State.IMPORTED
        else []
    )
    history = filing.history.select_related("history_user").order_by("-history_date")[:20]
    return render(
        request,
        "catalog/bulk/filing_detail.html",
        {
            "filing": filing,
            "errors_page": errors,
            "imported": imported,
            "history": history,
            "percent": _percent(filing),
            "done": filing.state in DONE,
            "stored_all_errors": len(filing.errors or []) >= filing.error_count,
        },
    )


@login_required
def filing_status(request, pk: int):
    filing = access_filing(request.user, pk)
    return JsonResponse(
        {
            "state": filing.state,
            "state_label": str(filing.get_state_display()),
            "percent": _percent(filing),
            "done": filing.state in DONE,
            "error_count": filing.error_count,
            "resources_count": filing.resources_count,
        }
    )


@login_required
def marked_download(request, pk: int):
    filing = access_filing(request.user, pk)
    if not filing.marked_workbook:
        raise Http404
    try:
        handle = filing.marked_workbook.open("rb")
    except (FileNotFoundError, OSError) as exc:
        raise Http404 from exc
    stem = filing.original_name.rsplit(".", 1)[0] or "workbook"
    audit.record(
        "data.download",
        obj=filing,
        request=request,
        details={"file": "marked_workbook", "errors": filing.error_count},
    )
    return FileResponse(
        handle, as_attachment=True, filename=f"{stem}-errors.xlsx", content_type=XLSX
    )
