"""Pages of incidents, emergency plans and drills (Art. 26). Each view fetches objects through
permissions.py (404 for missing and forbidden alike), validates with a form, calls one service
and redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .forms import (
    DrillFilterForm,
    DrillForm,
    EntryForm,
    IncidentFilterForm,
    IncidentForm,
    MoveForm,
    PlanFilterForm,
    PlanForm,
    ResourcesForm,
)
from .permissions import (
    access_drill,
    access_incident,
    access_plan,
    may_write_any,
    may_write_for,
    plans_visible_to,
    uses_incidents,
    writable_organizations,
)
from .registry import resource_lookup
from .workflows import incident_workflow

PAGE_SIZE = 20


def _require_use(user) -> None:
    if not uses_incidents(user):
        raise Http404


def _list(request, template: str, form, qs, tab: str):
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {"form": form, "page_obj": page, "can_write": may_write_any(request.user), "tab": tab},
    )


# --- incidents ---------------------------------------------------------------------------------


@login_required
def incident_list(request):
    _require_use(request.user)
    form = IncidentFilterForm(request.GET or None)
    qs = selectors.incident_list(request.user, **form.filters())
    return _list(request, "security/incidents/incident_list.html", form, qs, "incidents")


@login_required
def incident_create(request):
    user = request.user
    if not may_write_any(user):
        raise Http404
    form = IncidentForm(request.POST or None, organizations=writable_organizations(user))
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.incident_report(
                organization=form.cleaned_data["organization"],
                fields=form.service_fields(),
                resource_codes=form.resource_codes(),
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Incident reported."))
            return redirect("security:incident-detail", pk=incident.pk)
    return render(request, "security/incidents/incident_form.html", {"form": form})


def _incident_page(request, incident, *, entry_form=None, move_form=None, resources_form=None):
    user = request.user
    resources = list(incident.resources.all())
    for r in resources:
        found = resource_lookup(r.resource_code)
        r.url = found[1] if found else ""
    return render(
        request,
        "security/incidents/incident_detail.html",
        {
            "incident": incident,
            "resources": resources,
            "entries": incident.entries.select_related("author"),
            "events": events_described(incident, incident_workflow),
            "transitions": incident_workflow.available_to(incident, user),
            "can_write": may_write_for(user, incident.organization),
            "entry_form": entry_form or EntryForm(),
            "move_form": move_form or MoveForm(),
            "resources_form": resources_form or ResourcesForm(),
        },
    )


@login_required
def incident_detail(request, pk: int):
    return _incident_page(request, access_incident(request.user, pk))


def _refused(request, incident, exc):
    if isinstance(exc, AccessDenied) and not may_write_for(request.user, incident.organization):
        raise Http404 from exc


@login_required
@require_POST
def incident_entry(request, pk: int):
    incident = access_incident(request.user, pk)
    form = EntryForm(request.POST)
    if form.is_valid():
        try:
            services.incident_entry_add(
                incident=incident,
                kind=form.cleaned_data["kind"],
                at=form.cleaned_data["at"],
                text=form.cleaned_data["text"],
                acting_user=request.user,
            )
        except DomainError as exc:
            _refused(request, incident, exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Added to the timeline."))
            return redirect("security:incident-detail", pk=incident.pk)
    return _incident_page(request, incident, entry_form=form)


@login_required
@require_POST
def incident_resources(request, pk: int):
    incident = access_incident(request.user, pk)
    form = ResourcesForm(request.POST)
    if form.is_valid():
        try:
            services.incident_resource_add(
                incident=incident, resource_codes=form.resource_codes(), acting_user=request.user
            )
        except DomainError as exc:
            _refused(request, incident, exc)
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Affected resources saved."))
            return redirect("security:incident-detail", pk=incident.pk)
    return _incident_page(request, incident, resources_form=form)


@login_required
@require_POST
def incident_move(request, pk: int):
    incident = access_incident(request.user, pk)
    transition = request.POST.get("transition", "")
    if transition not in {t.name for t in incident_workflow}:
        raise Http404
    form = MoveForm(request.POST)
    if form.is_valid():
        try:
            services.incident_move(
                incident=incident,
                transition=transition,
                comment=form.cleaned_data.get("comment", ""),
                lessons=form.cleaned_data.get("lessons_learned", ""),
                acting_user=request.user,
            )
        except DomainError as exc:
            if not may_write_for(request.user, incident.organization):
                raise Http404 from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("security:incident-detail", pk=incident.pk)
    return _incident_page(request, incident, move_form=form)


# --- emergency plans ---------------------------------------------------------------------------


@login_required
def plan_list(request):
    _require_use(request.user)
    form = PlanFilterForm(request.GET or None)
    qs = selectors.plan_list(request.user, **form.filters())
    return _list(request, "security/incidents/plan_list.html", form, qs, "plans")


@login_required
def plan_detail(request, pk: int):
    plan = access_plan(request.user, pk)
    return render(
        request,
        "security/incidents/plan_detail.html",
        {
            "plan": plan,
            "drills": plan.drills.all()[:50],
            "can_write": may_write_for(request.user, plan.organization),
        },
    )


def _plan_form_page(request, form, plan=None):
    return render(request, "security/incidents/plan_form.html", {"form": form, "plan": plan})


@login_required
def plan_create(request):
    user = request.user
    if not may_write_any(user):
        raise Http404
    form = PlanForm(request.POST or None, organizations=writable_organizations(user))
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_save(
                organization=form.cleaned_data["organization"],
                fields=form.service_fields(),
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Emergency plan saved."))
            return redirect("security:plan-detail", pk=plan.pk)
    return _plan_form_page(request, form)


@login_required
def plan_edit(request, pk: int):
    user = request.user
    plan = access_plan(user, pk)
    if not may_write_for(user, plan.organization):
        raise Http404
    form = PlanForm(request.POST or None, instance=plan)
    if request.method == "POST" and form.is_valid():
        try:
            plan = services.plan_save(plan=plan, fields=form.service_fields(), acting_user=user)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Emergency plan saved."))
            return redirect("security:plan-detail", pk=plan.pk)
    return _plan_form_page(request, form, plan)


# --- drills ------------------------------------------------------------------------------------


@login_required
def drill_list(request):
    _require_use(request.user)
    form = DrillFilterForm(request.GET or None)
    qs = selectors.drill_list(request.user, **form.filters())
    return _list(request, "security/incidents/drill_list.html", form, qs, "drills")


@login_required
def drill_detail(request, pk: int):
    drill = access_drill(request.user, pk)
    return render(request, "security/incidents/drill_detail.html", {"drill": drill})


@login_required
def drill_create(request):
    user = request.user
    if not may_write_any(user):
        raise Http404
    form = DrillForm(
        request.POST or None,
        organizations=writable_organizations(user),
        plans=plans_visible_to(user).order_by("title", "-valid_from"),
    )
    if request.method == "POST" and form.is_valid():
        fields = form.service_fields()
        try:
            drill = services.drill_record(
                organization=form.cleaned_data["organization"], fields=fields, acting_user=user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Drill recorded."))
            return redirect("security:drill-detail", pk=drill.pk)
    return render(request, "security/incidents/drill_form.html", {"form": form})
