"""The audit log's page (`/security/audit/`): the auditor and the security administrator
filter it, export it to Excel (the export is itself recorded) and see and run the ledger's
verification. Everyone else gets 404."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.excel import stream_workbook

from . import selectors, services
from .filters import AuditEventFilter
from .permissions import require_audit_reader
from .recording import record

PAGE_SIZE = 50
EXPORT_MAX_ROWS = 200_000


def _filtered(request):
    require_audit_reader(request.user)
    filterset = AuditEventFilter(
        request.GET or None, queryset=selectors.audit_events_for(request.user)
    )
    return filterset, filterset.qs


def _applied(filterset) -> dict:
    if not filterset.is_bound or not filterset.is_valid():
        return {}
    return {k: str(v) for k, v in filterset.form.cleaned_data.items() if v not in (None, "")}


@login_required
def audit_list(request):
    filterset, qs = _filtered(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "security/audit/list.html",
        {
            "filter": filterset,
            "form": filterset.form,
            "page_obj": page,
            "ledger": selectors.ledger_overview(),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


@login_required
def audit_export(request):
    filterset, qs = _filtered(request)
    qs = qs[:EXPORT_MAX_ROWS]
    count = qs.count()
    record(
        "audit.export",
        details={"rows": count, "filters": _applied(filterset)},
        request=request,
    )
    header = [
        pgettext("audit", "Time"),
        pgettext("audit", "Actor"),
        pgettext("audit", "Organization"),
        pgettext("audit", "IP address"),
        pgettext("audit", "User agent"),
        pgettext("audit", "Action"),
        pgettext("audit", "Object type"),
        pgettext("audit", "Object id"),
        pgettext("audit", "Object"),
        pgettext("audit", "Outcome"),
        pgettext("audit", "Details"),
        pgettext("audit", "Entry SHA-256"),
        pgettext("audit", "Ledger leaf"),
    ]
    rows = (
        (
            timezone.localtime(e.occurred_at).strftime("%Y-%m-%d %H:%M:%S"),
            e.actor_label,
            e.organization.name if e.organization else "",
            e.ip or "",
            e.user_agent,
            e.action,
            e.object_type,
            e.object_id,
            e.object_label,
            e.get_outcome_display(),
            e.details_text,
            e.entry_sha256,
            e.leaf_id or "",
        )
        for e in qs.iterator(chunk_size=2000)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    return stream_workbook(
        filename=f"audit-log-{stamp}.xlsx", sheet_title=_("Audit log"), header=header, rows=rows
    )


@login_required
@require_POST
def audit_verify(request):
    require_audit_reader(request.user)
    try:
        services.audit_verify_request(acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("The audit ledger is being verified; the result appears here when it is done."),
        )
    return redirect("security:audit_list")
