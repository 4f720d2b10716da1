"""Catalog pages: the public catalog, filing, review and history."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.forms.utils import ErrorDict
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from security import audit
from wuhan_pdr.accounts.roles import Role, has_role
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.excel import stream_workbook
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.pagination import KnownCountPaginator
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .actions import resource_actions_for
from .diff import version_diff
from .forms import (
    CatalogSearchForm,
    DataItemFormSet,
    FeedbackActionForm,
    FeedbackFilterForm,
    FeedbackForm,
    MyResourcesFilterForm,
    ReleaseForm,
    ResourceVersionForm,
    TransitionForm,
)
from .masking import suggestions_for, version_masking_accept
from .models import DataItem, Resource, ResourceVersion
from .negotiation import negotiated_response
from .permissions import (
    AUDIENCE_PUBLIC,
    FILER_ROLES,
    access_feedback,
    access_version,
    can_file_for,
    catalog_audience,
    reviews_for,
)
from .public import public_fields
from .workflows import catalog_workflow, feedback_workflow

PAGE_SIZE = 20
EXPORT_MAX_ROWS = 100_000


def _querystring(request, **drop) -> str:
    params = request.GET.copy()
    for key in ("page", *drop):
        params.pop(key, None)
    return params.urlencode()


# --- public catalog ------------------------------------------------------------------------


def catalog_list(request):
    other = negotiated_response(request)  # e.g. DCAT for an Accept of text/turtle
    if other is not None:
        return other
    form = CatalogSearchForm(request.GET or None)
    params = form.to_query()
    result = selectors.catalog_search(params, viewer=request.user)
    paginator = KnownCountPaginator(
        selectors.entry_page_rows(result.entries), PAGE_SIZE, count=result.total
    )
    page = paginator.get_page(request.GET.get("page"))
    facet_labels = {
        "provider": _("Provider"),
        "division": _("District"),
        "classification": _("Classification"),
        "share_type": _("Share type"),
        "open_type": _("Open type"),
        "grade": _("Grade"),
        "update_cycle": _("Update cycle"),
    }
    facets = [
        (name, facet_labels[name], values, _querystring(request, **{name: True}))
        for name, values in result.facets.items()
        if values
    ]
    response = render(
        request,
        "catalog/catalog_list.html",
        {
            "form": form,
            "page_obj": page,
            "total": result.total,
            "facets": facets,
            "querystring": _querystring(request),
            "can_file": has_role(request.user, *FILER_ROLES),
            "open_catalog_only": catalog_audience(request.user) == AUDIENCE_PUBLIC,
        },
    )
    patch_vary_headers(response, ["Accept"])
    return response


def catalog_export(request):
    form = CatalogSearchForm(request.GET or None)
    entries = selectors.catalog_entries(form.to_query(), viewer=request.user).select_related(
        "grade", "classification"
    )
    header = [
        _("Resource code"),
        _("Resource name"),
        _("Summary"),
        _("Provider"),
        _("Classification"),
        _("Share type"),
        _("Open type"),
        _("Grade"),
        _("Update cycle"),
        _("Published"),
    ]
    rows = audit.counted(
        (
            e.code,
            e.name,
            e.summary,
            e.provider_name,
            e.classification.name,
            e.get_share_type_display(),
            e.get_open_type_display(),
            str(e.grade),
            e.get_update_cycle_display(),
            timezone.localtime(e.published_at).strftime("%Y-%m-%d"),
        )
        for e in entries[:EXPORT_MAX_ROWS].iterator(chunk_size=2000)
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = stream_workbook(
        filename=f"catalog-{stamp}.xlsx", sheet_title=_("Catalog"), header=header, rows=rows
    )
    audit.record(
        "catalog.export",
        request=request,
        details={
            "rows": rows.count,
            "query": form.data.get("q", "")[:200] if form.is_bound else "",
        },
    )
    return response


def _items_detail_visible(user, version: ResourceVersion) -> bool:
    """Item details are hidden where the grade requires masking, except from the provider,
    its reviewers and auditors."""
    if not version.grade.masking_required:
        return True
    provider = version.resource.provider
    return (
        can_file_for(user, provider) or reviews_for(user, provider) or has_role(user, Role.AUDITOR)
    )


def resource_detail(request, pk: int):
    resource = selectors.resource_public(pk, viewer=request.user)
    if resource is None:
        raise Http404
    version = resource.published_version
    viewer_files = can_file_for(request.user, resource.provider)
    items = list(version.items.all())
    if catalog_audience(request.user) == AUDIENCE_PUBLIC:
        items = public_fields(version, items)  # the one rule for what is public
    return render(
        request,
        "catalog/resource_detail.html",
        {
            "resource": resource,
            "version": version,
            "items": items,
            "items_visible": _items_detail_visible(request.user, version),
            "can_revise": viewer_files,
            "actions": resource_actions_for(request.user, resource),
        },
    )


# --- filing --------------------------------------------------------------------------------


def _item_dicts(formset) -> tuple[list[dict], list[int]]:
    """The kept, non-empty item rows as dicts, and the formset index of each."""
    items, index = [], []
    for i, f in enumerate(formset.forms):
        if not f.cleaned_data or f.cleaned_data.get("DELETE"):
            continue
        if not (f.cleaned_data.get("name") or "").strip():
            continue
        items.append({k: v for k, v in f.cleaned_data.items() if k != "DELETE"})
        index.append(i)
    return items, index


def _attach_violations(form, formset, violations, index: list[int]) -> None:
    for v in violations:
        if v.item is None:
            form.add_error(v.field if v.field in form.fields else None, v.message)
        else:
            target = formset.forms[index[v.item]]
            target.add_error(v.field if v.field in target.fields else None, v.message)


def _items_initial(version: ResourceVersion) -> list[dict]:
    return [
        {
            f: getattr(item, f)
            if f not in ("grade", "element", "masking_rule")
            else getattr(item, f"{f}_id")
            for f in (
                "name",
                "english_name",
                "element",
                "data_type",
                "length",
                "is_key",
                "is_update_flag",
                "nullable",
                "grade",
                "masking_rule",
                "description",
            )
        }
        for item in version.items.all()
    ]


def _save(request, *, version: ResourceVersion | None):
    """Create or update a draft from the posted forms; submit it too if asked."""
    form = ResourceVersionForm(request.POST, instance=version)
    formset = DataItemFormSet(request.POST, prefix="items")
    if not (form.is_valid() and formset.is_valid()):
        # The form's own banner says so (one banner, not a message on top of it).
        return None, form, formset
    d = form.cleaned_data
    fields = {k: v for k, v in d.items() if k not in ("classification", "themes", "related_codes")}
    items, index = _item_dicts(formset)
    try:
        if version is None:
            version = services.resource_draft_create(
                acting_user=request.user,
                provider=request.user.organization,
                classification=d["classification"],
                fields=fields,
                items=items,
                themes=d["themes"],
                related=d["related_codes"],
            )
        else:
            version = services.resource_draft_update(
                version=version,
                acting_user=request.user,
                fields=fields,
                items=items,
                classification=d["classification"],
                themes=d["themes"],
                related=d["related_codes"],
            )
    except DomainError as exc:
        form.add_error(exc.field if exc.field in form.fields else None, str(exc))
        return None, form, formset
    if request.POST.get("submit_after_save"):
        try:
            services.resource_transition(version=version, action="submit", acting_user=request.user)
        except services.RulesBroken as exc:
            messages.warning(
                request,
                _("The draft was saved, but it cannot be submitted yet: %(msg)s") % {"msg": exc},
            )
            form = ResourceVersionForm(instance=version, initial=_form_initial(version))
            formset = DataItemFormSet(initial=_items_initial(version), prefix="items")
            form.is_bound = False
            _show_violations(form, formset, exc.violations)
            return version, form, formset
        except DomainError as exc:
            messages.error(request, str(exc))
            return version, None, None
        messages.success(request, _("Submitted for approval by your agency."))
        return version, None, None
    messages.success(request, _("Draft saved."))
    return version, None, None


def _show_violations(form, formset, violations) -> None:
    """Attach violations to unbound forms, as messages next to their fields."""
    for f in [form, *formset.forms]:
        f._errors = ErrorDict()
        f.cleaned_data = {}
    _attach_violations(form, formset, violations, list(range(len(formset.forms))))


def _form_initial(version: ResourceVersion) -> dict:
    return {
        "classification": version.resource.classification_id,
        "related_codes": " ".join(r.code for r in version.related_resources.all()),
    }


@login_required
def version_create(request):
    if not can_file_for(request.user, request.user.organization):
        raise Http404
    if request.method == "POST":
        version, form, formset = _save(request, version=None)
        if form is None:
            return redirect("catalog:version", pk=version.pk)
        if version is not None:
            # Saved but not submittable: the edit page marks what to fix (as after a
            # refused submit from the version page).
            return redirect(reverse("catalog:version_edit", kwargs={"pk": version.pk}) + "?check=1")
    else:
        form = ResourceVersionForm()
        formset = DataItemFormSet(prefix="items", initial=[{"data_type": "C", "nullable": True}])
    return render(
        request, "catalog/version_form.html", {"form": form, "formset": formset, "version": None}
    )


@login_required
def version_edit(request, pk: int):
    version = access_version(request.user, pk)
    if not can_file_for(request.user, version.resource.provider):
        raise Http404
    if not version.is_editable:
        messages.error(request, _("Only a draft or a returned entry can be changed."))
        return redirect("catalog:version", pk=version.pk)
    if request.method == "POST":
        saved, form, formset = _save(request, version=version)
        if form is None:
            return redirect("catalog:version", pk=version.pk)
    else:
        form = ResourceVersionForm(instance=version, initial=_form_initial(version))
        formset = DataItemFormSet(initial=_items_initial(version), prefix="items")
        broken = services.violations_of(version)
        if broken and request.GET.get("check"):
            _show_violations(form, formset, broken)
    return render(
        request, "catalog/version_form.html", {"form": form, "formset": formset, "version": version}
    )


# --- one version: its content, its moves, its history -------------------------------------


def version_detail(request, pk: int):
    version = access_version(request.user, pk)
    version = selectors.version_with_items(version.pk, viewer=request.user)
    previous = (
        ResourceVersion.objects.filter(resource=version.resource, number__lt=version.number)
        .order_by("-number")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=DataItem.objects.select_related(
                    "grade", "element__masking_rule", "masking_rule"
                ),
            ),
            "themes",
        )
        .first()
    )
    changes = version_diff(previous, version) if previous else None
    actions = catalog_workflow.available_to(version, request.user)
    can_edit = version.is_editable and can_file_for(request.user, version.resource.provider)
    provider = version.resource.provider
    # Review comments and who handled the entry are for the people in the workflow.
    insider = (
        can_file_for(request.user, provider)
        or reviews_for(request.user, provider)
        or has_role(request.user, Role.AUDITOR)
    )
    return render(
        request,
        "catalog/version_detail.html",
        {
            "version": version,
            "resource": version.resource,
            "items": list(version.items.all()),
            "items_visible": _items_detail_visible(request.user, version),
            "actions": actions,
            "events": events_described(version, catalog_workflow) if insider else None,
            "insider": insider,
            "violations": services.violations_of(version) if version.is_editable else [],
            "can_edit": can_edit,
            "masking_suggestions": suggestions_for(version, list(version.items.all()))
            if can_edit
            else [],
            "previous": previous,
            "changes": changes,
            "transition_form": TransitionForm(),
            "next_step": selectors.next_actor(version),
        },
    )


@login_required
@require_POST
def version_masking(request, pk: int):
    """Accept the masking rules suggested for the chosen items of a draft."""
    version = access_version(request.user, pk)
    if not can_file_for(request.user, version.resource.provider):
        raise Http404
    ids = [i for i in request.POST.getlist("item") if i.isdigit() and len(i) < 12]
    try:
        n = version_masking_accept(version=version, item_ids=ids, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        if n:
            messages.success(
                request,
                ngettext("%(n)d masking rule accepted.", "%(n)d masking rules accepted.", n)
                % {"n": n},
            )
        else:
            messages.info(request, _("No suggestion was chosen."))
    return redirect("catalog:version", pk=version.pk)


@login_required
@require_POST
def version_action(request, pk: int):
    version = access_version(request.user, pk)
    form = TransitionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The action could not be read. Please try again."))
        return redirect("catalog:version", pk=version.pk)
    try:
        version = services.resource_transition(
            version=version,
            action=form.cleaned_data["action"],
            acting_user=request.user,
            comment=form.cleaned_data["comment"],
        )
    except services.RulesBroken as exc:
        messages.error(request, str(exc))
        return redirect(reverse("catalog:version_edit", kwargs={"pk": version.pk}) + "?check=1")
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Done: the entry is now “%(state)s”.") % {"state": version.get_state_display()},
        )
    return redirect("catalog:version", pk=version.pk)


@login_required
@require_POST
def resource_revise(request, pk: int):
    resource = Resource.objects.select_related("provider").filter(pk=pk).first()
    if resource is None or not can_file_for(request.user, resource.provider):
        raise Http404
    try:
        draft = services.resource_revise(resource=resource, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("catalog:resource", pk=resource.pk)
    messages.success(
        request,
        _(
            "Version %(n)d started as a draft. The published version stays visible until this one is published."
        )
        % {"n": draft.number},
    )
    return redirect("catalog:version_edit", pk=draft.pk)


def resource_versions(request, pk: int):
    """Every version of a resource the viewer may see, newest first."""
    versions = list(
        selectors.versions_visible_to(request.user)
        .filter(resource_id=pk)
        .select_related("resource__provider", "created_by", "grade")
        .order_by("-number")
    )
    if not versions:
        raise Http404
    return render(
        request,
        "catalog/resource_versions.html",
        {"resource": versions[0].resource, "versions": versions},
    )


# --- work lists ----------------------------------------------------------------------------


@login_required
def my_resources(request):
    if not has_role(request.user, *FILER_ROLES) or request.user.organization_id is None:
        raise Http404
    form = MyResourcesFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs = selectors.my_versions(request.user, q=d.get("q", ""), state=d.get("state", ""))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/my_resources.html",
        {"form": form, "page_obj": page, "querystring": _querystring(request)},
    )


@login_required
def review_list(request):
    if not has_role(request.user, Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER):
        raise Http404
    form = MyResourcesFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs = selectors.review_queue(request.user, state=d.get("state", ""), q=d.get("q", ""))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "catalog/review_list.html",
        {
            "form": form,
            "page_obj": page,
            "querystring": _querystring(request),
            "now": timezone.now(),
        },
    )


# --- catalog feedback (Art. 14) -------------------------------------------------------------


@login_required
def feedback_create(request):
    resource = None
    if request.GET.get("resource", "").isdigit() or request.POST.get("resource", "").isdigit():
        resource = selectors.resource_public(
            request.GET.get("resource") or request.POST.get("resource"), viewer=request.user
        )
        if resource is None:
            raise Http404
    form = FeedbackForm(request.POST or None, resource=resource)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            feedback = services.feedback_create(
                acting_user=request.user,
                kind=d["kind"],
                description=d["description"],
                resource=resource,
                provider=d.get("provider"),
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("Thank you. The provider and the data bureau have your feedback.")
            )
            return redirect("catalog:feedback", pk=feedback.pk)
    return render(request, "catalog/feedback_form.html", {"form": form, "resource": resource})


@login_required
def feedback_list(request):
    form = FeedbackFilterForm(request.GET or None)
    d = form.cleaned_data if form.is_valid() else {}
    qs = selectors.feedback_list_for(request.user, q=d.get("q", ""), state=d.get("state", ""))
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "catalog/feedback_list.html", {"form": form, "page_obj": page})


def _adjust_versions(feedback):
    qs = ResourceVersion.objects.filter(
        resource__provider=feedback.provider, created_at__gte=feedback.created_at
    )
    if feedback.resource_id:
        qs = qs.filter(resource_id=feedback.resource_id)
    return qs.select_related("resource").order_by("-created_at")


@login_required
def feedback_detail(request, pk: int):
    feedback = access_feedback(request.user, pk)
    actions = feedback_workflow.available_to(feedback, request.user)
    names = {t.name for t in actions}
    versions = _adjust_versions(feedback) if "adjust" in names else ResourceVersion.objects.none()
    form = FeedbackActionForm(request.POST or None, versions=_adjust_versions(feedback))
    if request.method == "POST":
        if form.is_valid():
            try:
                feedback = services.feedback_transition(
                    feedback=feedback,
                    action=form.cleaned_data["action"],
                    acting_user=request.user,
                    comment=form.cleaned_data["comment"],
                    version=form.cleaned_data.get("version"),
                )
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("Done: the feedback is now “%(state)s”.")
                    % {"state": feedback.get_state_display()},
                )
                return redirect("catalog:feedback", pk=feedback.pk)
        else:
            messages.error(request, _("The action could not be read. Please try again."))
    return render(
        request,
        "catalog/feedback_detail.html",
        {
            "feedback": feedback,
            "actions": actions,
            "provider_acts": bool(names & {"propose_adjustment", "propose_no_change", "adjust"}),
            "events": events_described(feedback, feedback_workflow),
            "form": form,
            "versions": versions,
        },
    )


# --- district releases (Art. 13) ------------------------------------------------------------


def release_list(request):
    """The city view: every district's latest release of its catalog."""
    user = request.user
    own_division = None
    waiting = 0
    if (
        has_role(user, Role.DISTRICT_REVIEWER)
        and user.organization
        and user.organization.kind == "district_bureau"
    ):
        own_division = user.organization.division
        waiting = selectors.reviewed_waiting_in_district(own_division)
    form = ReleaseForm(request.POST or None)
    if request.method == "POST":
        if own_division is None:
            raise Http404
        if form.is_valid():
            try:
                release = services.district_release_publish(
                    acting_user=user, note=form.cleaned_data["note"]
                )
            except DomainError as exc:
                messages.error(request, str(exc))
            else:
                messages.success(
                    request,
                    _("Release %(n)d of %(district)s published with %(count)d entries.")
                    % {
                        "n": release.number,
                        "district": release.division.name,
                        "count": release.versions.count(),
                    },
                )
                return redirect("catalog:release", pk=release.pk)
    rows = selectors.release_overview(user)
    return render(
        request,
        "catalog/release_list.html",
        {
            "rows": rows,
            "own_division": own_division,
            "waiting": waiting,
            "form": form,
            "total": sum(n for _, _, n in rows),
        },
    )


def release_detail(request, pk: int):
    release = selectors.release_detail(pk, viewer=request.user)
    if release is None:
        raise Http404
    return render(request, "catalog/release_detail.html", {"release": release})
