"""The filing pages: census of information systems, compilation campaigns, IT projects with
their public data lists, and collection lists. Each view checks the viewer's rights on the
object (404 for missing and forbidden alike), validates with a form, calls one service and
redirects."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from security import audit
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.excel import stream_workbook
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.panels import record_panels
from wuhan_pdr.kernel.workdays import today
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .forms import (
    ActionForm,
    BoardSearchForm,
    CampaignBoardForm,
    CampaignFilterForm,
    CampaignForm,
    CollectionEntryForm,
    CollectionFilterForm,
    EntryForm,
    LinkForm,
    ProjectFilterForm,
    ProjectForm,
    SystemFilterForm,
    SystemForm,
)
from .models import CompilationCampaign, ITProject, ProjectDataEntry
from .permissions import (
    access_collection_entry,
    access_project,
    access_system,
    can_edit_for,
    is_filer,
    may_open_campaigns,
    may_use_filing,
    oversees_any,
)
from .workflows import campaign_workflow, project_workflow

PAGE_SIZE = 20
EXPORT_LIMIT = 50_000


def _require_filing(user) -> None:
    if not may_use_filing(user):
        raise Http404


def _render(request, template: str, context: dict, status: int = 200):
    """render(), with what the section's tabs need to know about the viewer."""
    user = request.user
    context.setdefault("filing_oversees", oversees_any(user))
    context.setdefault("filing_is_filer", is_filer(user))
    return render(request, template, context, status=status)


def _cleaned(form) -> dict:
    return form.cleaned_data if form.is_valid() else {}


@login_required
def home(request):
    user = request.user
    _require_filing(user)
    own = None
    if is_filer(user):
        own = selectors.agencies_with_counts(user).filter(pk=user.organization_id).first()
    campaigns = []
    for campaign in selectors.open_campaigns():
        rows = selectors.campaign_board(user, campaign)
        mine = next((r for r in rows if r.organization_id == user.organization_id), None)
        campaigns.append(
            {"campaign": campaign, "mine": mine, "summary": selectors.board_summary(rows)}
        )
    return _render(
        request,
        "catalog/filing/home.html",
        {
            "own": own,
            "campaigns": campaigns,
            "oversees": oversees_any(user),
            "is_filer": is_filer(user),
        },
    )


# --- census -----------------------------------------------------------------------------------


@login_required
def system_list(request):
    user = request.user
    _require_filing(user)
    agencies = selectors.agencies_choices(user)
    form = SystemFilterForm(request.GET or None, agencies=agencies)
    d = _cleaned(form)
    qs = selectors.systems_for(
        user,
        q=d.get("q", ""),
        status=d.get("status", ""),
        organization=d.get("organization"),
        linked=d.get("linked", ""),
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "catalog/filing/system_list.html",
        {"form": form, "page_obj": page, "can_register": is_filer(user)},
    )


def _system_form_page(request, form, system=None):
    return _render(request, "catalog/filing/system_form.html", {"form": form, "system": system})


@login_required
def system_create(request):
    user = request.user
    if not is_filer(user):
        raise Http404
    form = SystemForm(request.POST or None, organization_id=user.organization_id)
    if request.method == "POST" and form.is_valid():
        try:
            system = services.system_create(
                organization=user.organization,
                fields=form.service_fields(),
                resources=form.cleaned_data["resources"],
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The system is registered in the census."))
            return redirect("filing:system", pk=system.pk)
    return _system_form_page(request, form)


@login_required
def system_detail(request, pk: int):
    system = access_system(request.user, pk)
    return _render(
        request,
        "catalog/filing/system_detail.html",
        {
            "system": system,
            "resources": selectors.system_resources(system),
            "can_edit": can_edit_for(request.user, system.organization),
            "history": system.history.select_related("history_user").order_by("-history_date")[:50],
        },
    )


@login_required
def system_edit(request, pk: int):
    system = access_system(request.user, pk)
    if not can_edit_for(request.user, system.organization):
        raise Http404
    initial = {"resources": list(system.resources.values_list("pk", flat=True))}
    form = SystemForm(
        request.POST or None,
        instance=system,
        initial=initial,
        organization_id=system.organization_id,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.system_update(
                system=system,
                fields=form.service_fields(),
                resources=form.cleaned_data["resources"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The census record is saved."))
            return redirect("filing:system", pk=system.pk)
    return _system_form_page(request, form, system)


@login_required
def census_board(request):
    user = request.user
    if not oversees_any(user):
        raise Http404
    form = BoardSearchForm(request.GET or None)
    qs = selectors.census_board(user, q=_cleaned(form).get("q", ""))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(request, "catalog/filing/census_board.html", {"form": form, "page_obj": page})


# --- campaigns --------------------------------------------------------------------------------


@login_required
def campaign_list(request):
    user = request.user
    _require_filing(user)
    form = CampaignFilterForm(request.GET or None)
    d = _cleaned(form)
    qs = selectors.campaigns(q=d.get("q", ""), state=d.get("state", ""))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "catalog/filing/campaign_list.html",
        {"form": form, "page_obj": page, "can_open": may_open_campaigns(user), "today": today()},
    )


@login_required
def campaign_create(request):
    user = request.user
    if not may_open_campaigns(user):
        raise Http404
    form = CampaignForm(request.POST or None, initial={"year": today().year})
    if request.method == "POST" and form.is_valid():
        try:
            campaign = services.campaign_open(acting_user=user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The campaign is open; agencies are notified."))
            return redirect("filing:campaign", pk=campaign.pk)
    return _render(request, "catalog/filing/campaign_form.html", {"form": form})


def _access_campaign(user, pk) -> CompilationCampaign:
    _require_filing(user)
    campaign = CompilationCampaign.objects.select_related("opened_by").filter(pk=pk).first()
    if campaign is None:
        raise Http404
    return campaign


def _board_url(request, **changes) -> str:
    """The board's query string with `changes` applied (None removes a filter), back on the
    first page."""
    params = request.GET.copy()
    params.pop("page", None)
    for name, value in changes.items():
        if value is None:
            params.pop(name, None)
        else:
            params[name] = value
    query = params.urlencode()
    return f"?{query}" if query else request.path


@login_required
def campaign_detail(request, pk: int):
    user = request.user
    campaign = _access_campaign(user, pk)
    form = CampaignBoardForm(request.GET or None)
    d = _cleaned(form)
    all_rows = selectors.campaign_board(user, campaign, q=d.get("q", ""))
    rows = all_rows
    if d.get("stage"):
        rows = [r for r in rows if r.stage == d["stage"]]
    if d.get("overdue"):
        rows = [r for r in rows if r.overdue]
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    summary = selectors.board_summary(all_rows)
    stage_chips = [
        {
            "key": key,
            "label": label,
            "n": n,
            "active": d.get("stage") == key,
            # A chip sets its own filter and keeps the others; the active one clears it.
            "url": _board_url(request, stage=None if d.get("stage") == key else key),
        }
        for key, label, n, _legend in summary["stages"]
    ]
    overdue_chip = {
        "n": summary["overdue"],
        "active": bool(d.get("overdue")),
        "url": _board_url(request, overdue=None if d.get("overdue") else "on"),
    }
    mine = None
    if is_filer(user):
        mine = next((r for r in all_rows if r.organization_id == user.organization_id), None)
    return _render(
        request,
        "catalog/filing/campaign_detail.html",
        {
            "campaign": campaign,
            "form": form,
            "page_obj": page,
            "summary": summary,
            "stage_chips": stage_chips,
            "overdue_chip": overdue_chip,
            "stages": selectors.Stage,
            "legend": [
                (selectors.Stage.LABELS[s], selectors.Stage.LEGEND[s])
                for s in selectors.Stage.ORDER
            ],
            "mine": mine,
            "past_deadline": selectors.is_past_deadline(campaign),
            "actions": campaign_workflow.available_to(campaign, user),
            "events": events_described(campaign, campaign_workflow),
            # Offered while the census is what holds the agency back.
            "can_confirm": bool(
                mine
                and not mine.confirmed
                and mine.stage == selectors.Stage.CENSUS
                and campaign.state == CompilationCampaign.State.OPEN
            ),
            "oversees": oversees_any(user),
            "history": campaign.history.select_related("history_user").order_by("-history_date")[
                :50
            ],
        },
    )


@login_required
@require_POST
def campaign_action(request, pk: int):
    campaign = _access_campaign(request.user, pk)
    form = ActionForm(request.POST)
    if form.is_valid():
        try:
            services.campaign_transition(
                campaign=campaign,
                action=form.cleaned_data["action"],
                comment=form.cleaned_data["comment"],
                acting_user=request.user,
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Done."))
    else:
        messages.error(request, _("The action could not be read; please try again."))
    return redirect("filing:campaign", pk=campaign.pk)


@login_required
@require_POST
def campaign_confirm(request, pk: int):
    campaign = _access_campaign(request.user, pk)
    if not is_filer(request.user):
        raise Http404
    try:
        services.census_confirm(campaign=campaign, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your agency's census is confirmed for this campaign."))
    return redirect("filing:campaign", pk=campaign.pk)


# --- IT projects ------------------------------------------------------------------------------


@login_required
def project_list(request):
    user = request.user
    _require_filing(user)
    form = ProjectFilterForm(request.GET or None)
    d = _cleaned(form)
    qs = selectors.projects_for(
        user, q=d.get("q", ""), state=d.get("state", ""), year=d.get("year")
    )
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "catalog/filing/project_list.html",
        {"form": form, "page_obj": page, "can_create": is_filer(user)},
    )


@login_required
def project_create(request):
    user = request.user
    if not is_filer(user):
        raise Http404
    form = ProjectForm(request.POST or None, initial={"year": today().year})
    if request.method == "POST" and form.is_valid():
        try:
            project = services.project_create(
                organization=user.organization, fields=form.service_fields(), acting_user=user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("The project is recorded. Now list the resources it will produce.")
            )
            return redirect("filing:project", pk=project.pk)
    return _render(request, "catalog/filing/project_form.html", {"form": form, "project": None})


@login_required
def project_edit(request, pk: int):
    project = access_project(request.user, pk)
    if not can_edit_for(request.user, project.organization):
        raise Http404
    if project.state not in ITProject.EDITABLE_STATES:
        messages.error(request, _("Only a draft or a returned project can be changed."))
        return redirect("filing:project", pk=project.pk)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        try:
            services.project_update(
                project=project, fields=form.service_fields(), acting_user=request.user
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The project is saved."))
            return redirect("filing:project", pk=project.pk)
    return _render(request, "catalog/filing/project_form.html", {"form": form, "project": project})


def _project_page(request, project, *, entry_form=None, missing=None, comment="", status=200):
    user = request.user
    entries = selectors.project_entries(project)
    can_edit = can_edit_for(user, project.organization)
    list_editable = can_edit and project.state in ITProject.LIST_EDITABLE_STATES
    if entry_form is None and list_editable:
        entry_form = EntryForm(project=project)
    if missing is None and project.state in (
        ITProject.State.APPROVED,
        ITProject.State.ACCEPTANCE_SUBMITTED,
    ):
        missing = services.acceptance_missing(project)
    actions = project_workflow.available_to(project, user)
    return _render(
        request,
        "catalog/filing/project_detail.html",
        {
            "project": project,
            "entries": entries,
            "can_edit": can_edit and project.state in ITProject.EDITABLE_STATES,
            "list_editable": list_editable,
            "can_remove": can_edit and project.state in ITProject.EDITABLE_STATES,
            "entry_form": entry_form,
            "link_resources": (
                list(selectors.resources_not_listed(project)) if list_editable else []
            ),
            "missing": missing,
            "panels": record_panels("filing.project", project, user),
            "actions": actions,
            # The bureau's moves need a comment; the agency's own moves do not.
            "decides": any(t.comment_required for t in actions),
            "comment": comment,  # what was typed, kept when the action is refused
            "events": events_described(project, project_workflow),
            "history": project.history.select_related("history_user").order_by("-history_date")[
                :50
            ],
        },
        status=status,
    )


@login_required
def project_detail(request, pk: int):
    return _project_page(request, access_project(request.user, pk))


@login_required
@require_POST
def project_action(request, pk: int):
    project = access_project(request.user, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The action could not be read; please try again."))
        return redirect("filing:project", pk=project.pk)
    try:
        services.project_transition(
            project=project,
            action=form.cleaned_data["action"],
            comment=form.cleaned_data["comment"],
            acting_user=request.user,
        )
    except services.AcceptanceRefused as exc:
        messages.error(request, str(exc))
        return _project_page(
            request,
            project,
            missing=exc.missing,
            comment=form.cleaned_data["comment"],
            status=422,
        )
    except DomainError as exc:
        # The page again, with the comment as typed (a redirect would lose it).
        messages.error(request, str(exc))
        return _project_page(request, project, comment=form.cleaned_data["comment"], status=422)
    else:
        messages.success(request, _("Done."))
    return redirect("filing:project", pk=project.pk)


@login_required
@require_POST
def project_entry_add(request, pk: int):
    project = access_project(request.user, pk)
    if not can_edit_for(request.user, project.organization):
        raise Http404
    form = EntryForm(request.POST, project=project)
    if form.is_valid():
        try:
            services.project_entry_add(
                project=project,
                resource=form.cleaned_data["resource"],
                planned_name=form.cleaned_data["planned_name"],
                note=form.cleaned_data["note"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Added to the public data list."))
            return redirect("filing:project", pk=project.pk)
    return _project_page(request, project, entry_form=form, status=422)


def _access_entry(request, pk: int, entry_pk: int) -> ProjectDataEntry:
    project = access_project(request.user, pk)
    if not can_edit_for(request.user, project.organization):
        raise Http404
    entry = project.entries.filter(pk=entry_pk).first()
    if entry is None:
        raise Http404
    return entry


@login_required
@require_POST
def project_entry_link(request, pk: int, entry_pk: int):
    entry = _access_entry(request, pk, entry_pk)
    form = LinkForm(request.POST, organization_id=entry.project.organization_id)
    if form.is_valid():
        try:
            services.project_entry_link(
                entry=entry, resource=form.cleaned_data["resource"], acting_user=request.user
            )
        except DomainError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The entry is linked to the catalog resource."))
    else:
        messages.error(request, _("Choose a catalog resource of your agency."))
    return redirect("filing:project", pk=pk)


@login_required
@require_POST
def project_entry_remove(request, pk: int, entry_pk: int):
    entry = _access_entry(request, pk, entry_pk)
    try:
        services.project_entry_remove(entry=entry, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Removed from the public data list."))
    return redirect("filing:project", pk=pk)


# --- collection lists -------------------------------------------------------------------------


def _collection_filters(request):
    user = request.user
    form = CollectionFilterForm(request.GET or None, agencies=selectors.agencies_choices(user))
    d = _cleaned(form)
    qs = selectors.collection_entries_for(
        user,
        q=d.get("q", ""),
        method=d.get("method", ""),
        frequency=d.get("frequency", ""),
        organization=d.get("organization"),
    )
    return form, qs


@login_required
def collection_list(request):
    _require_filing(request.user)
    form, qs = _collection_filters(request)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return _render(
        request,
        "catalog/filing/collection_list.html",
        {"form": form, "page_obj": page, "can_add": is_filer(request.user)},
    )


@login_required
def collection_export(request):
    _require_filing(request.user)
    _form, qs = _collection_filters(request)
    rows = audit.counted(
        (
            e.organization.name,
            e.data_name,
            e.legal_basis,
            e.norms,
            e.get_method_display(),
            e.get_frequency_display(),
            e.subject_scope,
            e.resource.code if e.resource_id else "",
            e.updated_at,
        )
        for e in qs[:EXPORT_LIMIT].iterator(chunk_size=1000)
    )
    response = stream_workbook(
        filename="collection-list.xlsx",
        sheet_title=_("Collection list"),
        header=[
            _("Agency"),
            _("Data collected"),
            _("Collection basis"),
            _("Norms and standards followed"),
            _("Collection method"),
            _("Frequency"),
            _("Subjects covered"),
            _("Catalog resource"),
            _("Updated"),
        ],
        rows=rows,
    )
    audit.record("catalog.collection_export", request=request, details={"rows": rows.count})
    return response


@login_required
def collection_create(request):
    user = request.user
    if not is_filer(user):
        raise Http404
    form = CollectionEntryForm(request.POST or None, organization_id=user.organization_id)
    if request.method == "POST" and form.is_valid():
        try:
            services.collection_entry_create(
                organization=user.organization,
                fields=form.service_fields(),
                resource=form.cleaned_data["resource"],
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Added to the collection list."))
            return redirect("filing:collection")
    return _render(request, "catalog/filing/collection_form.html", {"form": form, "entry": None})


@login_required
def collection_edit(request, pk: int):
    entry = access_collection_entry(request.user, pk)
    if not can_edit_for(request.user, entry.organization):
        raise Http404
    form = CollectionEntryForm(
        request.POST or None, instance=entry, organization_id=entry.organization_id
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.collection_entry_update(
                entry=entry,
                fields=form.service_fields(),
                resource=form.cleaned_data["resource"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The collection list entry is saved."))
            return redirect("filing:collection")
    return _render(
        request,
        "catalog/filing/collection_form.html",
        {
            "form": form,
            "entry": entry,
            "history": entry.history.select_related("history_user").order_by("-history_date")[:50],
        },
    )


@login_required
@require_POST
def collection_delete(request, pk: int):
    entry = access_collection_entry(request.user, pk)
    if not can_edit_for(request.user, entry.organization):
        raise Http404
    services.collection_entry_delete(entry=entry, acting_user=request.user)
    messages.success(request, _("Removed from the collection list."))
    return redirect("filing:collection")
