"""Pages of incidents, emergency plans and drills (Art. 26). Each view fetches objects through
permissions.py (404 for missing and forbidden alike), validates with a form, calls one service
and redirects."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from security import audit
from security.pages import ListTexts, list_page
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page
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
from .services import parse_resource_codes
from .workflows import incident_workflow

PAGE_SIZE = 20

INCIDENT_TEXTS = ListTexts(
    title=gettext_lazy("Security incidents"),
    lead=gettext_lazy(
        "Incidents graded by the national four levels, with the resources they affected, a"
        " timeline of actions and the lessons learned (Art. 26)."
    ),
    search_label=gettext_lazy("Search incidents"),
    none_match=gettext_lazy("No incident matches."),
    none_yet=gettext_lazy("No incident has been reported."),
    hint_writer=gettext_lazy(
        "Report an incident as soon as it is discovered; add the actions to its timeline as"
        " they happen."
    ),
    hint_reader=gettext_lazy("Incidents appear here when they are reported."),
    new_url="security:incident-new",
    new_label=gettext_lazy("Report an incident"),
)
PLAN_TEXTS = ListTexts(
    title=gettext_lazy("Emergency plans"),
    lead=gettext_lazy(
        "Each organization's plans for data security incidents, with their versions and validity."
    ),
    search_label=gettext_lazy("Search emergency plans"),
    none_match=gettext_lazy("No plan matches."),
    none_yet=gettext_lazy("No emergency plan is recorded yet."),
    hint_writer=gettext_lazy(
        "Add the plan your organization follows when an incident happens; drills are recorded"
        " against it."
    ),
    hint_reader=gettext_lazy("Plans appear here when they are added."),
    new_url="security:plan-new",
    new_label=gettext_lazy("Add a plan"),
    parent_url="security:incident-list",
    parent_label=gettext_lazy("Security incidents"),
)
DRILL_TEXTS = ListTexts(
    title=gettext_lazy("Emergency drills"),
    lead=gettext_lazy(
        "Drills held regularly by public bodies under their emergency plans (Art. 26), with"
        " participants and findings."
    ),
    search_label=gettext_lazy("Search drills"),
    none_match=gettext_lazy("No drill matches."),
    none_yet=gettext_lazy("No drill is recorded yet."),
    hint_writer=gettext_lazy(
        "Record each drill after it is held, with who took part and what it found."
    ),
    hint_reader=gettext_lazy("Drills appear here when they are recorded."),
    new_url="security:drill-new",
    new_label=gettext_lazy("Record a drill"),
    parent_url="security:incident-list",
    parent_label=gettext_lazy("Security incidents"),
)


def _require_use(user) -> None:
    if not uses_incidents(user):
        raise Http404


def _list(request, template: str, filter_form, select, texts: ListTexts, tab: str):
    """A list page of incidents, plans or drills: `select(user, **filters)` is its selector."""
    _require_use(request.user)
    form = filter_form(request.GET or None)
    return list_page(
        request,
        template,
        form=form,
        qs=select(request.user, **form.filters()),
        texts=texts,
        can_write=may_write_any(request.user),
        page_size=PAGE_SIZE,
        tab=tab,
    )


def _require_writer(user) -> None:
    if not may_write_any(user):
        raise Http404


# --- incidents ---------------------------------------------------------------------------------


@login_required
def incident_list(request):
    return _list(
        request,
        "security/incidents/incident_list.html",
        IncidentFilterForm,
        selectors.incident_list,
        INCIDENT_TEXTS,
        "incidents",
    )


@login_required
def incident_create(request):
    user = request.user
    _require_writer(user)
    return form_page(
        request,
        IncidentForm(request.POST or None, organizations=writable_organizations(user)),
        "security/incidents/incident_form.html",
        save=lambda form: services.incident_report(
            organization=form.cleaned_data["organization"],
            fields=form.service_fields(),
            resource_codes=form.resource_codes(),
            acting_user=user,
        ),
        done="security:incident-detail",
        message=_("Incident reported."),
    )


def _incident_page(request, incident, **forms):
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
            "entry_form": EntryForm(),
            "move_form": MoveForm(),
            "resources_form": ResourcesForm(),
            **forms,
        },
    )


@login_required
def incident_detail(request, pk: int):
    return _incident_page(request, access_incident(request.user, pk))


def _incident_step(request, pk: int, form_class, form_key: str, call, message: str, *, hide=None):
    """A form posted from the incident's page: `call(incident, cleaned_data)` runs the
    service. A refusal to someone who may not write for the incident's organization is a 404
    (`hide(exc)` says which refusals; by default the access refusals); others are shown on the
    page with the form."""
    incident = access_incident(request.user, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            call(incident, form.cleaned_data)
        except DomainError as exc:
            hidden = hide(exc) if hide else isinstance(exc, AccessDenied)
            if hidden and not may_write_for(request.user, incident.organization):
                raise Http404 from exc
            add_domain_error(form, exc)
        else:
            messages.success(request, message)
            return redirect("security:incident-detail", pk=incident.pk)
    return _incident_page(request, incident, **{form_key: form})


@login_required
@require_POST
def incident_entry(request, pk: int):
    return _incident_step(
        request,
        pk,
        EntryForm,
        "entry_form",
        lambda incident, d: services.incident_entry_add(
            incident=incident,
            kind=d["kind"],
            at=d["at"],
            text=d["text"],
            acting_user=request.user,
        ),
        _("Added to the timeline."),
    )


@login_required
@require_POST
def incident_resources(request, pk: int):
    return _incident_step(
        request,
        pk,
        ResourcesForm,
        "resources_form",
        lambda incident, d: services.incident_resource_add(
            incident=incident,
            resource_codes=parse_resource_codes(d.get("resources", "")),
            acting_user=request.user,
        ),
        _("Affected resources saved."),
    )


@login_required
@require_POST
def incident_move(request, pk: int):
    transition = request.POST.get("transition", "")
    if transition not in {t.name for t in incident_workflow}:
        raise Http404
    return _incident_step(
        request,
        pk,
        MoveForm,
        "move_form",
        lambda incident, d: services.incident_move(
            incident=incident,
            transition=transition,
            comment=d.get("comment", ""),
            lessons=d.get("lessons_learned", ""),
            acting_user=request.user,
        ),
        _("Saved."),
        # Any refusal of a move (a transition not offered to them) is hidden from outsiders.
        hide=lambda exc: True,
    )


# --- emergency plans ---------------------------------------------------------------------------


@login_required
def plan_list(request):
    return _list(
        request,
        "security/incidents/plan_list.html",
        PlanFilterForm,
        selectors.plan_list,
        PLAN_TEXTS,
        "plans",
    )


@login_required
def plan_detail(request, pk: int):
    plan = access_plan(request.user, pk)
    return render(
        request,
        "security/incidents/plan_detail.html",
        {
            "plan": plan,
            "documents": selectors.plan_document_versions(plan),
            "drills": plan.drills.all()[:50],
            "can_write": may_write_for(request.user, plan.organization),
        },
    )


@login_required
def plan_document(request, pk: int, version: int | None = None):
    """The plan's document, or (`version`: a historical record's id) an earlier one, as an
    attachment, for whoever may see the plan; the download is in the audit log."""
    plan = access_plan(request.user, pk)
    source = plan
    if version is not None:
        source = plan.history.filter(history_id=version).first()
        if source is None:
            raise Http404
    # The plan's FieldFile, or a historical record's file name (kept as text).
    stored = getattr(source.document, "name", source.document)
    if not stored:
        raise Http404
    try:
        handle = default_storage.open(stored, "rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    audit.record(
        "security.plan_document.download",
        obj=plan,
        request=request,
        details={"version": version, "sha256": source.document_sha256},
    )
    ext = Path(stored).suffix.lower()
    name = source.document_name or f"plan-{plan.pk}{ext}"
    return FileResponse(handle, as_attachment=True, filename=name)


def _plan_form(request, form, plan=None):
    return form_page(
        request,
        form,
        "security/incidents/plan_form.html",
        save=lambda form: services.plan_save(
            plan=plan,
            organization=None if plan else form.cleaned_data["organization"],
            fields=form.service_fields(),
            document=form.cleaned_data.get("document"),
            acting_user=request.user,
        ),
        done="security:plan-detail",
        message=_("Emergency plan saved."),
        context={"plan": plan},
    )


@login_required
def plan_create(request):
    _require_writer(request.user)
    return _plan_form(
        request,
        PlanForm(
            request.POST or None,
            request.FILES or None,
            organizations=writable_organizations(request.user),
        ),
    )


@login_required
def plan_edit(request, pk: int):
    plan = access_plan(request.user, pk)
    if not may_write_for(request.user, plan.organization):
        raise Http404
    form = PlanForm(request.POST or None, request.FILES or None, instance=plan)
    return _plan_form(request, form, plan)


# --- drills ------------------------------------------------------------------------------------


@login_required
def drill_list(request):
    return _list(
        request,
        "security/incidents/drill_list.html",
        DrillFilterForm,
        selectors.drill_list,
        DRILL_TEXTS,
        "drills",
    )


@login_required
def drill_detail(request, pk: int):
    drill = access_drill(request.user, pk)
    return render(request, "security/incidents/drill_detail.html", {"drill": drill})


@login_required
def drill_create(request):
    user = request.user
    _require_writer(user)
    form = DrillForm(
        request.POST or None,
        organizations=writable_organizations(user),
        plans=plans_visible_to(user).order_by("title", "-valid_from"),
    )
    return form_page(
        request,
        form,
        "security/incidents/drill_form.html",
        save=lambda form: services.drill_record(
            organization=form.cleaned_data["organization"],
            fields=form.service_fields(),
            acting_user=user,
        ),
        done="security:drill-detail",
        message=_("Drill recorded."),
    )
