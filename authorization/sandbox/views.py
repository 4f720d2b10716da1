"""Pages of the data sandbox (Art. 27): my sessions, the review queue, a session's page with
its decision, the aggregate builder and the released tables (CSV / XLSX of the aggregates)."""

from __future__ import annotations

import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from security import audit
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.excel import safe_value, stream_workbook
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.workflow import events_described

from . import engine, selectors, services
from .forms import ApproveForm, BuilderForm, ReasonForm, SessionFilter, SessionRequestForm
from .models import SandboxQuery, SandboxSession
from .permissions import access_session, access_workspace, can_request, is_provider_officer
from .workflows import session_workflow

S = SandboxSession.State
PAGE_SIZE = 25


@login_required
def index(request):
    if can_request(request.user):
        return redirect("sandbox:mine")
    if is_provider_officer(request.user):
        return redirect("sandbox:review")
    raise Http404


def _list(request, qs, *, scope: str):
    filterset = SessionFilter(request.GET or None, queryset=qs)
    page = Paginator(filterset.qs.order_by("-created_at", "-pk"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "authorization/sandbox/session_list.html",
        {
            "form": filterset.form,
            "page_obj": page,
            "scope": scope,
            "can_request": can_request(request.user),
            "can_review": is_provider_officer(request.user),
            "now": timezone.now(),
        },
    )


@login_required
def mine(request):
    if not can_request(request.user):
        raise Http404
    return _list(request, selectors.my_sessions(request.user), scope="mine")


@login_required
def review(request):
    if not is_provider_officer(request.user):
        raise Http404
    return _list(request, selectors.review_sessions(request.user), scope="review")


@login_required
def session_request(request):
    if not can_request(request.user):
        raise Http404
    resources = selectors.requestable_resources(request.user)
    form = SessionRequestForm(request.POST or None, resources=resources)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_submit(
                resources=list(form.cleaned_data["resources"]),
                purpose=form.cleaned_data["purpose"],
                valid_from=form.cleaned_data["valid_from"],
                valid_until=form.cleaned_data["valid_until"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Your request was sent to the provider's data officer."))
            return redirect("sandbox:detail", pk=session.pk)
    return render(
        request,
        "authorization/sandbox/session_form.html",
        {"form": form, "has_resources": resources.exists()},
    )


def _numeric_items(session: SandboxSession):
    return [
        (resource, item)
        for resource in selectors.session_resources(session)
        for item in selectors.sandbox_items(resource)
        if item.numeric and not item.masked
    ]


@login_required
def session_detail(request, pk: int):
    session = access_session(request.user, pk)
    actions = {t.name for t in session_workflow.available_to(session, request.user)}
    approve_form = (
        ApproveForm(numeric_items=_numeric_items(session)) if "approve" in actions else None
    )
    return _detail(request, session, actions=actions, approve_form=approve_form)


def _detail(request, session, *, actions, approve_form=None, refuse_form=None):
    resources = selectors.session_resources(session)
    queries = (
        list(selectors.session_queries(session)[:20])
        if session.requester_id == request.user.pk
        else []
    )
    labels = engine.measure_labels()
    for q in queries:
        q.measure_label = labels.get(q.spec.get("measure"), q.spec.get("measure"))
    bounds = []
    for resource in resources:
        for item in selectors.sandbox_items(resource):
            found = selectors.session_bounds(session, resource.pk, item.column)
            if found:
                bounds.append((selectors.resource_name(resource), item.label, found))
    return render(
        request,
        "authorization/sandbox/session_detail.html",
        {
            "session": session,
            "resources": resources,
            "actions": actions,
            "approve_form": approve_form,
            "refuse_form": refuse_form or (ReasonForm() if "refuse" in actions else None),
            "events": events_described(session, session_workflow),
            "queries": queries,
            "bounds": bounds,
            "is_requester": session.requester_id == request.user.pk,
            "now": timezone.now(),
        },
    )


@login_required
@require_POST
def session_approve(request, pk: int):
    session = access_session(request.user, pk)
    actions = {t.name for t in session_workflow.available_to(session, request.user)}
    if "approve" not in actions:
        raise Http404
    form = ApproveForm(request.POST, numeric_items=_numeric_items(session))
    if form.is_valid():
        try:
            services.session_approve(
                session=session,
                epsilon_total=form.cleaned_data["epsilon_total"],
                bounds=form.bounds(),
                comment=form.cleaned_data.get("comment") or "",
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The session is approved."))
            return redirect("sandbox:detail", pk=session.pk)
    return _detail(request, session, actions=actions, approve_form=form)


@login_required
@require_POST
def session_refuse(request, pk: int):
    session = access_session(request.user, pk)
    actions = {t.name for t in session_workflow.available_to(session, request.user)}
    if "refuse" not in actions:
        raise Http404
    form = ReasonForm(request.POST)
    if form.is_valid():
        try:
            services.session_refuse(
                session=session, reason=form.cleaned_data["comment"], acting_user=request.user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The session is refused; the requester is told why."))
            return redirect("sandbox:detail", pk=session.pk)
    approve = ApproveForm(numeric_items=_numeric_items(session)) if "approve" in actions else None
    return _detail(request, session, actions=actions, approve_form=approve, refuse_form=form)


@login_required
def session_withdraw(request, pk: int):
    """A confirmation page, then the withdrawal (with reasons)."""
    session = access_session(request.user, pk)
    if "withdraw" not in {t.name for t in session_workflow.available_to(session, request.user)}:
        raise Http404

    def save(form):
        services.session_withdraw(
            session=session, reason=form.cleaned_data["comment"], acting_user=request.user
        )
        return session

    return form_page(
        request,
        ReasonForm(request.POST or None),
        "authorization/sandbox/session_withdraw.html",
        save=save,
        done="sandbox:detail",
        message=_("The session is withdrawn."),
        context={"session": session},
    )


def _measures(items):
    labels = engine.measure_labels()
    return [(k, labels[k]) for k in engine.MEASURES]


@login_required
def workspace(request, pk: int):
    """The aggregate builder of an approved, current session (its requester only)."""
    session = access_workspace(request.user, pk)
    resources = selectors.session_resources(session)
    chosen_pk = request.POST.get("resource") or request.GET.get("resource")
    resource = next((r for r in resources if str(r.pk) == str(chosen_pk)), resources[0])
    items = selectors.sandbox_items(resource)
    data = request.POST if request.method == "POST" else None
    form = BuilderForm(
        data,
        resources=resources,
        items=items,
        measures=_measures(items),
        initial={"resource": resource.pk, "measure": "count"},
    )
    if data is not None and form.is_valid():
        try:
            query = engine.query_run(
                session=session,
                resource=resource,
                spec=form.spec(),
                epsilon=form.cleaned_data["epsilon"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            return redirect("sandbox:query", pk=session.pk, query_pk=query.pk)
    bounded = {
        i.column: selectors.session_bounds(session, resource.pk, i.column)
        for i in items
        if i.numeric and not i.masked
    }
    return render(
        request,
        "authorization/sandbox/workspace.html",
        {
            "session": session,
            "resource": resource,
            "resources": resources,
            "items": items,
            "bounded": bounded,
            "form": form,
            "min_group": services.min_group_size(),
        },
    )


def _query(request, pk: int, query_pk: int) -> SandboxQuery:
    session = access_session(request.user, pk)
    if session.requester_id != request.user.pk:
        raise Http404
    return get_object_or_404(
        SandboxQuery.objects.select_related("resource__published_version", "session"),
        pk=query_pk,
        session=session,
    )


def _table(query: SandboxQuery):
    """(header, rows) of the released table, labels of the items."""
    items = {i.column: i.label for i in selectors.sandbox_items(query.resource)}
    result = query.result or {}
    header = [items.get(g, g) for g in result.get("groups", [])]
    header.append(_("Rows (with noise)"))
    measure = result.get("measure")
    if measure != "count":
        label = engine.measure_labels().get(measure, measure)
        header.append(f"{label}: {items.get(result.get('value'), result.get('value'))}")
    rows = []
    for row in result.get("rows", []):
        rows.append(row if measure != "count" else row[:-1])
    return header, rows


@login_required
def query_detail(request, pk: int, query_pk: int):
    query = _query(request, pk, query_pk)
    header, rows = _table(query)
    items = {i.column: i.label for i in selectors.sandbox_items(query.resource)}
    return render(
        request,
        "authorization/sandbox/query_detail.html",
        {
            "session": query.session,
            "query": query,
            "header": header,
            "rows": rows,
            "result": query.result,
            "filters": [
                {**f, "label": items.get(f.get("column"), f.get("column"))}
                for f in query.spec.get("filters", [])
            ],
            "workspace_open": query.session.is_current,
            "measure_label": _measure_label(query, items),
        },
    )


def _measure_label(query: SandboxQuery, items: dict) -> str:
    measure = (query.result or {}).get("measure") or query.spec.get("measure")
    label = engine.measure_labels().get(measure, measure)
    if measure == "count":
        return label
    value = query.spec.get("value")
    return f"{label}: {items.get(value, value)}"


class _Echo:
    def write(self, value):
        return value


@login_required
def query_export(request, pk: int, query_pk: int, fmt: str):
    """The released table only (aggregates), as CSV or XLSX; the export is recorded."""
    if fmt not in ("csv", "xlsx"):
        raise Http404
    query = _query(request, pk, query_pk)
    header, rows = _table(query)
    audit.record(
        "sandbox.export",
        actor=request.user,
        obj=query,
        details={"format": fmt, "rows": len(rows), "session": query.session_id},
    )
    filename = f"sandbox-{query.session_id}-{query.pk}"
    if fmt == "xlsx":
        return stream_workbook(
            filename=f"{filename}.xlsx", sheet_title=_("Aggregates"), header=header, rows=rows
        )
    writer = csv.writer(_Echo())

    def lines():
        yield "\ufeff"
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([_csv_safe(v) for v in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}.csv"'
    return response


def _csv_safe(value):
    """A label that a spreadsheet would read as a formula is written as text (a leading ')."""
    value = safe_value(value)
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value
