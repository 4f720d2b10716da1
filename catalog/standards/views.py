"""The standards pages: data elements and code lists for everyone, and the agencies' change
requests with the bureau's review (Art. 9)."""

from __future__ import annotations

import datetime as dt
import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from security.masking.permissions import can_manage_rules
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.workflow import events_described

from ..models import ResourceVersion
from . import importers, selectors, services
from .forms import (
    ChangeRequestForm,
    CodeListImportForm,
    CodeListSearchForm,
    CodeValueSearchForm,
    ElementMaskingForm,
    ElementSearchForm,
    ElementsImportForm,
    RequestFilterForm,
    TransitionForm,
    proposal_initial,
)
from .impact import impact_count_view, impact_recount
from .models import CodeList, DataElement, ElementChangeRequest
from .permissions import (
    access_change_request,
    can_edit_change_request,
    can_request_for,
    is_city_reviewer,
)
from .workflows import change_request_workflow, element_workflow

PAGE_SIZE = 20
SHOWN_IMPORT_ERRORS = 500
logger = logging.getLogger(__name__)
K = ElementChangeRequest.Kind
R = ElementChangeRequest.State


# --- elements --------------------------------------------------------------------------------


def element_list(request):
    form = ElementSearchForm(request.GET or None)
    qs = selectors.element_search(form.to_query())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/standards/element_list.html",
        {
            "form": form,
            "page_obj": page,
            "can_request": can_request_for(
                request.user, getattr(request.user, "organization", None)
            ),
            "can_import": is_city_reviewer(request.user),
        },
    )


def element_detail(request, identifier: str):
    if "\x00" in identifier:
        raise Http404
    versions = selectors.element_versions(identifier)
    if not versions:
        raise Http404
    requested = request.GET.get("version", "")
    element = next((v for v in versions if str(v.version) == requested), versions[0])
    latest = versions[0]
    # Each version with what changed since the one before it.
    for v in versions:
        v.changes = None
    for newer, older in zip(versions, versions[1:], strict=False):
        newer.changes = selectors.element_diff(older, newer)
    usage = selectors.element_usage(identifier, request.user)
    states = dict(ResourceVersion.State.choices)
    for item in usage:
        item.state_label = states.get(item.version.state, item.version.state)
    can_request = can_request_for(request.user, getattr(request.user, "organization", None))
    return render(
        request,
        "catalog/standards/element_detail.html",
        {
            "element": element,
            "latest": latest,
            "versions": versions,
            "fields": selectors.element_field_values(element),
            "usage": usage,
            "resource_count": len({i.version.resource_id for i in usage}),
            "events": selectors.element_events(versions, element_workflow),
            "history": selectors.element_history(identifier),
            "can_request": can_request and latest.status in services.CURRENT_STATUSES,
            "open_requests": selectors.open_requests_about(identifier, request.user),
            "masking_form": ElementMaskingForm(instance=element)
            if can_manage_rules(request.user)
            else None,
        },
    )


@login_required
@require_POST
def element_masking(request, pk: int):
    """The security administrator names the masking rule of an element version."""
    if not can_manage_rules(request.user):
        raise Http404
    element = get_object_or_404(DataElement, pk=pk)
    form = ElementMaskingForm(request.POST, instance=DataElement.objects.get(pk=pk))
    if form.is_valid():
        services.element_masking_rule_set(
            element=element, rule=form.cleaned_data["masking_rule"], acting_user=request.user
        )
        messages.success(request, _("Masking rule saved."))
    else:
        messages.error(request, _("Unknown masking rule."))
    url = reverse("standards:element", args=[element.identifier])
    return redirect(f"{url}?version={element.version}#masking")


# --- code lists ------------------------------------------------------------------------------


def code_list_list(request):
    form = CodeListSearchForm(request.GET or None)
    qs = selectors.code_list_search(form.query())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/standards/code_list_list.html",
        {"form": form, "page_obj": page, "can_import": is_city_reviewer(request.user)},
    )


def code_list_detail(request, pk: int):
    code_list = get_object_or_404(CodeList.objects.select_related("owner"), pk=pk)
    form = CodeValueSearchForm(request.GET or None)
    q, at = form.query()
    qs = selectors.code_values_at(code_list, at=at, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    elements = list(selectors.current_elements().filter(code_list=code_list))
    return render(
        request,
        "catalog/standards/code_list_detail.html",
        {
            "code_list": code_list,
            "form": form,
            "page_obj": page,
            "at": at,
            "elements": elements,
            "can_import": is_city_reviewer(request.user),
        },
    )


# --- change requests -------------------------------------------------------------------------


@login_required
def request_list(request):
    user = request.user
    if not (
        can_request_for(user, user.organization)
        or is_city_reviewer(user)
        or has_role(user, Role.AUDITOR)
    ):
        raise Http404
    form = RequestFilterForm(request.GET or None)
    filters = form.to_filters()
    # A reviewer's list opens on what waits for a decision.
    if is_city_reviewer(user) and not request.GET:
        filters["state"] = R.SUBMITTED
        form = RequestFilterForm(initial={"state": R.SUBMITTED})
    qs = selectors.change_requests_for(user, **filters)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/standards/request_list.html",
        {
            "form": form,
            "page_obj": page,
            "can_request": can_request_for(user, user.organization),
            "now": timezone.now(),
        },
    )


def _attach_errors(form: ChangeRequestForm, exc: DomainError) -> None:
    if isinstance(exc, services.ProposalInvalid):
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
    else:
        add_domain_error(form, exc)


def _target_element(request) -> DataElement | None:
    identifier = (request.GET.get("element") or request.POST.get("element") or "").strip()
    if "\x00" in identifier:
        raise Http404
    if not identifier:
        return None
    element = services.current_version(identifier)
    if element is None:
        raise Http404
    return element


@login_required
def request_create(request):
    user = request.user
    if not can_request_for(user, user.organization):
        raise Http404
    kind = request.GET.get("kind") or request.POST.get("kind") or K.ADD
    if kind not in K.values:
        raise Http404
    element = _target_element(request) if kind != K.ADD else None
    if kind != K.ADD and element is None:
        return redirect(reverse("standards:elements"))
    initial = proposal_initial(services.element_content(element)) if kind == K.CHANGE else {}
    form = ChangeRequestForm(request.POST or None, kind=kind, element=element, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            change_request = services.change_request_create(
                acting_user=user,
                kind=kind,
                element=element,
                replacement=form.cleaned_data.get("replacement"),
                proposal=form.proposal(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            _attach_errors(form, exc)
        else:
            return _after_save(request, change_request)
    return render(
        request,
        "catalog/standards/request_form.html",
        {
            "form": form,
            "kind": kind,
            "kind_label": K(kind).label,
            "element": element,
            "change_request": None,
            "in_use": _in_use(kind, element),
        },
    )


def _in_use(kind: str, element: DataElement | None) -> int:
    if kind != K.RETIRE or element is None:
        return 0
    return services.items_using(element.identifier).count()


def _after_save(request, change_request: ElementChangeRequest):
    """Saved: submit too if asked, then show the request."""
    if request.POST.get("submit_after_save"):
        try:
            services.change_request_transition(
                change_request=change_request, action="submit", acting_user=request.user
            )
        except DomainError as exc:
            messages.error(
                request,
                _("The draft was saved, but it cannot be submitted yet: %(msg)s") % {"msg": exc},
            )
        else:
            messages.success(request, _("Submitted to the data bureau for review."))
            return redirect("standards:request", pk=change_request.pk)
    else:
        messages.success(request, _("Draft saved."))
    return redirect("standards:request", pk=change_request.pk)


@login_required
def request_edit(request, pk: int):
    change_request = access_change_request(request.user, pk)
    if not can_request_for(request.user, change_request.organization):
        raise Http404
    if not can_edit_change_request(request.user, change_request):
        messages.error(request, _("Only a draft or a returned request can be changed."))
        return redirect("standards:request", pk=change_request.pk)
    element = change_request.element
    if element is not None and element.status not in services.CURRENT_STATUSES:
        element = services.current_version(element.identifier) or element
    initial = proposal_initial(change_request.proposal)
    initial["reason"] = change_request.reason
    if change_request.replacement_id:
        initial["replacement"] = change_request.replacement.identifier
    form = ChangeRequestForm(
        request.POST or None, kind=change_request.kind, element=element, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        try:
            change_request = services.change_request_update(
                change_request=change_request,
                acting_user=request.user,
                replacement=form.cleaned_data.get("replacement"),
                proposal=form.proposal(),
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            _attach_errors(form, exc)
        else:
            return _after_save(request, change_request)
    return render(
        request,
        "catalog/standards/request_form.html",
        {
            "form": form,
            "kind": change_request.kind,
            "kind_label": change_request.get_kind_display(),
            "element": element,
            "change_request": change_request,
            "in_use": _in_use(change_request.kind, element),
        },
    )


def _impact_rows(impact: dict) -> list[dict]:
    states = dict(ResourceVersion.State.choices)
    rows = []
    for row in impact.get("items") or []:
        row = dict(row)
        row["state_label"] = states.get(row.get("version_state"), row.get("version_state"))
        rows.append(row)
    return rows


@login_required
def request_detail(request, pk: int):
    change_request = access_change_request(request.user, pk)
    actions = change_request_workflow.available_to(change_request, request.user)
    # Until submission the impact is not stored: show the filer what it would be now.
    impact = change_request.impact
    live_impact = False
    if change_request.state in (R.DRAFT, R.RETURNED) or not impact:
        impact = services.element_impact(
            change_request.element.identifier if change_request.element_id else None
        )
        live_impact = True
    return render(
        request,
        "catalog/standards/request_detail.html",
        {
            "change_request": change_request,
            "title": services.request_title(change_request),
            "rows": selectors.proposal_rows(change_request)
            if change_request.kind != K.RETIRE
            else [],
            "impact": impact,
            "impact_rows": _impact_rows(impact),
            "live_impact": live_impact,
            "stored": impact_count_view(change_request, request.user),
            "actions": actions,
            "can_edit": can_edit_change_request(request.user, change_request),
            "events": events_described(change_request, change_request_workflow),
            "history": change_request.history.select_related("history_user").order_by(
                "-history_date"
            )[:30],
            "transition_form": TransitionForm(),
        },
    )


@login_required
@require_POST
def request_recount(request, pk: int):
    """A reviewer counts the stored data again (a background job; the page polls)."""
    change_request = access_change_request(request.user, pk)
    try:
        impact_recount(change_request=change_request, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Counting the stored data again; this page updates itself."))
    return redirect(reverse("standards:request", kwargs={"pk": change_request.pk}) + "#impact")


@login_required
def request_impact_status(request, pk: int):
    """Whether the stored-data count of a request is still running (polled by the page)."""
    change_request = access_change_request(request.user, pk)
    stored = impact_count_view(change_request, request.user)
    return JsonResponse({"done": not stored.counting, "state": stored.state})


@login_required
@require_POST
def request_action(request, pk: int):
    change_request = access_change_request(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The action could not be read. Please try again."))
        return redirect("standards:request", pk=change_request.pk)
    try:
        change_request = services.change_request_transition(
            change_request=change_request,
            action=form.cleaned_data["action"],
            acting_user=request.user,
            comment=form.cleaned_data["comment"],
        )
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Done: the request is now “%(state)s”.")
            % {"state": change_request.get_state_display()},
        )
        if change_request.state == R.APPROVED and change_request.result_id:
            return redirect("standards:element", identifier=change_request.result.identifier)
    return redirect("standards:request", pk=change_request.pk)


# --- Excel / CSV import and export -------------------------------------------------------------


def _read_upload(form, upload) -> importers.Table | None:
    """The rows of the uploaded file, or None with the reason on the form: an unreadable
    file is the user's problem to fix, never a server error."""
    try:
        return importers.read_table(upload, filename=upload.name)
    except importers.ImportRefused as refused:
        _show_refusal(form, refused)
    except DomainError as exc:
        add_domain_error(form, exc)
    except Exception:  # a damaged file can make the readers raise almost anything
        logger.warning("unreadable import file %r", upload.name, exc_info=True)
        form.add_error(
            "file",
            _("The file could not be read: save it again as .xlsx or CSV (UTF-8) and retry."),
        )
    return None


def _show_refusal(form, refused: importers.ImportRefused) -> list:
    """Problems of the whole file go on the form; row problems are returned for the table."""
    for error in refused.errors:
        if error.row == 0:
            form.add_error(None, error.message)
    rows = [e for e in refused.errors if e.row != 0]
    if rows:
        form.add_error(None, str(refused))
    return rows


def _import_context(form, row_errors: list) -> dict:
    return {
        "form": form,
        "row_errors": row_errors[:SHOWN_IMPORT_ERRORS],
        "error_total": len(row_errors),
        "errors_cut": len(row_errors) > SHOWN_IMPORT_ERRORS,
        "shown_errors": SHOWN_IMPORT_ERRORS,
    }


@login_required
def code_list_import(request):
    user = request.user
    if not is_city_reviewer(user):
        raise Http404
    form = CodeListImportForm(
        request.POST or None,
        request.FILES or None,
        initial={"code_list": request.GET.get("code_list", "")[:50]},
    )
    row_errors: list = []
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        table = _read_upload(form, data["file"])
        if table is not None:
            code_list = data["code_list"]
            if code_list is None:
                code_list = CodeList(
                    identifier=data["new_identifier"].strip(),
                    name=data["new_name"].strip(),
                    source=data["new_source"].strip(),
                    owner=user.organization,
                )
            try:
                with transaction.atomic():  # a refused import leaves no new, empty list
                    if code_list.pk is None:
                        audited_save(code_list, acting_user=user, reason="code list import")
                    summary = importers.code_list_import(
                        code_list=code_list,
                        rows_source=table,
                        effective_date=data["effective_date"],
                        acting_user=user,
                        parent_column=data["parent_column"].strip() or None,
                    )
            except importers.ImportRefused as refused:
                row_errors = _show_refusal(form, refused)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "%(list)s imported: %(added)d added, %(closed)d closed, %(changed)d "
                        "changed, %(unchanged)d unchanged."
                    )
                    % {
                        "list": code_list.identifier,
                        "added": summary.added,
                        "closed": summary.closed,
                        "changed": summary.changed,
                        "unchanged": summary.unchanged,
                    },
                )
                return redirect("standards:code_list", pk=code_list.pk)
    return render(
        request, "catalog/standards/code_list_import.html", _import_context(form, row_errors)
    )


def code_list_by_identifier(request, identifier: str, export: bool = False):
    """The earlier address of a code list, by its identifier: a permanent redirect to its
    address by id, keeping the query (a date, a search)."""
    if "\x00" in identifier:
        raise Http404
    code_list = get_object_or_404(CodeList, identifier=identifier)
    name = "standards:code_list_export" if export else "standards:code_list"
    url = reverse(name, kwargs={"pk": code_list.pk})
    query = request.GET.urlencode()
    return HttpResponsePermanentRedirect(f"{url}?{query}" if query else url)


def code_list_export(request, pk: int):
    code_list = get_object_or_404(CodeList, pk=pk)
    at = None
    try:
        at = dt.date.fromisoformat(request.GET.get("at", "").strip())
    except ValueError:
        at = None  # no date (or not a date): every value
    return importers.code_list_export(code_list=code_list, at=at, include_history=at is None)


def elements_export(request):
    form = ElementSearchForm(request.GET or None)
    elements = selectors.element_search(form.to_query()).filter(
        status__in=services.CURRENT_STATUSES
    )
    return importers.elements_export(elements=elements)


@login_required
def elements_import(request):
    user = request.user
    if not is_city_reviewer(user):
        raise Http404
    form = ElementsImportForm(request.POST or None, request.FILES or None)
    row_errors: list = []
    if request.method == "POST" and form.is_valid():
        table = _read_upload(form, form.cleaned_data["file"])
        if table is not None:
            try:
                summary = importers.elements_import(source=table, acting_user=user)
            except importers.ImportRefused as refused:
                row_errors = _show_refusal(form, refused)
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(
                    request,
                    _("Workbook imported: %(added)d data elements added, %(unchanged)d unchanged.")
                    % {"added": len(summary.added), "unchanged": summary.unchanged},
                )
                return redirect("standards:elements")
    return render(
        request, "catalog/standards/elements_import.html", _import_context(form, row_errors)
    )
