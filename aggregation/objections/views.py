"""The objection pages: raising one from a published resource, the requester's, the bureau's
and the provider's lists, the detail page with the step forms and the timeline, the evidence
download and the time limits. Views read through selectors and write through one service."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from catalog.models import Resource
from security import audit
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.panels import record_panels

from ..limits import working_days_for
from ..models import Objection
from . import selectors, services
from .forms import (
    ConsultationForm,
    DecideForm,
    FilterForm,
    ObjectionForm,
    ReportForm,
    ReviewForm,
    TimeLimitsForm,
)
from .permissions import (
    access_objection,
    can_file,
    can_set_limits,
    is_bureau,
    is_provider_of,
    is_provider_worker,
    row_rights,
    sees_requester_contact,
)
from .workflows import OPEN_STATES

PAGE_SIZE = 20
S = Objection.State


def _published_resource(request) -> Resource:
    raw = (request.GET.get("resource") or request.POST.get("resource") or "").strip()
    if not raw.isdigit() or len(raw) > 12:
        raise Http404
    resource = (
        Resource.objects.filter(
            pk=int(raw), published_version__isnull=False, retired_at__isnull=True
        )
        .select_related("provider", "published_version")
        .first()
    )
    if resource is None:
        raise Http404
    return resource


@login_required
def objection_create(request):
    if not can_file(request.user):
        raise Http404
    resource = _published_resource(request)
    rights = row_rights(request.user, resource)
    if not rights.may_object:
        raise Http404
    form = ObjectionForm(request.POST or None, request.FILES or None)
    key_items = services.row_key_items(resource) if rights.may_name_rows else []
    rows = form.fields["rows"]
    if not rights.may_name_rows:
        # Rows are named only by who may see them: the field is not offered, and keys sent
        # anyway are not read (the same answer whether they exist or not).
        del form.fields["rows"]
    elif key_items:
        rows.help_text = _(
            "One key per line: %(key)s (values separated by commas, in this order); at most "
            "%(n)d rows. Leave empty to object to the resource as a whole."
        ) % {"key": ", ".join(key_items), "n": services.MAX_ROW_KEYS}
    else:
        rows.help_text = _(
            "This resource's rows cannot be named on the platform: leave this empty to object "
            "to the resource as a whole."
        )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            objection = services.objection_submit(
                resource=resource,
                kind=data["kind"],
                description=data["description"],
                rows=data.get("rows", ""),
                evidence=data.get("evidence"),
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request, _("Your objection was sent to the data bureau. You are told at each step.")
            )
            return redirect("objections:detail", pk=objection.pk)
    return render(
        request,
        "aggregation/objections/objection_form.html",
        {
            "form": form,
            "resource": resource,
            "version": resource.published_version,
            "names_rows": rights.may_name_rows,
            # a good file is not kept when another field is wrong: say so
            "evidence_lost": bool(
                request.method == "POST"
                and request.FILES
                and form.errors
                and "evidence" not in form.errors
            ),
        },
    )


@login_required
def objection_index(request):
    """The list that fits the user: the bureau's, the provider's, else the user's own."""
    if is_bureau(request.user):
        return redirect("objections:bureau")
    if is_provider_worker(request.user):
        return redirect("objections:provider")
    return redirect("objections:mine")


@login_required
def objection_list(request, scope: str):
    user = request.user
    if not selectors.scope_allowed(user, scope):
        raise Http404
    form = FilterForm(request.GET or None, with_agency=scope == "bureau")
    qs = selectors.objection_list(user, scope=scope, **form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    titles = {
        "mine": (_("My objections"), _("Objections you raised about published data.")),
        "bureau": (
            _("Objections"),
            _("Every objection of data users: decide, hold the consultation, close."),
        ),
        "provider": (
            _("Objections to our data"),
            _("Objections about your agency's resources: carry out the agreed outcome."),
        ),
    }
    title, lead = titles[scope]
    return render(
        request,
        "aggregation/objections/objection_list.html",
        {
            "form": form,
            "page_obj": page,
            "scope": scope,
            "title": title,
            "lead": lead,
            "now": timezone.now(),
            "open_states": OPEN_STATES,
            "show_requester": scope != "mine",
            "tabs": [s for s in selectors.SCOPES if selectors.scope_allowed(user, s)],
            "can_set_limits": can_set_limits(user),
        },
    )


def _step_forms(objection: Objection, user) -> dict:
    """The form of the step this user may take now, if any."""
    forms: dict = {}
    if objection.state == S.SUBMITTED and is_bureau(user):
        forms["decide_form"] = DecideForm()
    elif objection.state == S.ACCEPTED and is_bureau(user):
        forms["consult_form"] = ConsultationForm()
    elif objection.state == S.AGREED and is_provider_of(user, objection):
        forms["report_form"] = ReportForm()
    elif objection.state == S.REPORTED and is_bureau(user):
        forms["review_form"] = ReviewForm()
    return forms


def _detail(request, objection: Objection, **forms):
    context = {
        "objection": objection,
        "title": services.objection_title(objection),
        "events": selectors.objection_events(objection),
        "history": selectors.objection_history(objection),
        "rows_table": selectors.changed_rows_table(objection, request.user),
        "row_keys": selectors.row_keys_shown(objection, request.user),
        "sees_contact": sees_requester_contact(request.user, objection),
        "overdue": bool(
            objection.state in OPEN_STATES
            and objection.step_deadline
            and objection.step_deadline < timezone.now()
        ),
        "is_bureau": is_bureau(request.user),
        "panels": record_panels("objections.objection", objection, request.user),
    }
    context.update(_step_forms(objection, request.user))
    context.update(forms)
    return render(request, "aggregation/objections/objection_detail.html", context)


@login_required
def objection_detail(request, pk: int):
    objection = access_objection(request.user, pk)
    return _detail(request, objection)


def _step(request, pk: int, form_class, form_name: str, call):
    objection = access_objection(request.user, pk)
    form = form_class(request.POST)
    if form.is_valid():
        try:
            objection = call(objection, form.cleaned_data)
        except DomainError as exc:
            if exc.field in form.fields:
                add_domain_error(form, exc)
            else:
                form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                _("Done: the objection is now “%(state)s”.")
                % {"state": objection.get_state_display()},
            )
            return redirect("objections:detail", pk=objection.pk)
    return _detail(request, objection, **{form_name: form})


@login_required
@require_POST
def objection_decide(request, pk: int):
    return _step(
        request,
        pk,
        DecideForm,
        "decide_form",
        lambda o, d: services.objection_decide(
            objection=o,
            accept=d["decision"] == "accept",
            reason=d["reason"],
            acting_user=request.user,
        ),
    )


@login_required
@require_POST
def objection_consult(request, pk: int):
    return _step(
        request,
        pk,
        ConsultationForm,
        "consult_form",
        lambda o, d: services.objection_record_consultation(
            objection=o,
            held_at=d["held_at"],
            participants=d["participants"],
            minutes=d["minutes"],
            outcome=d["outcome"],
            outcome_detail=d["outcome_detail"],
            acting_user=request.user,
        ),
    )


@login_required
@require_POST
def objection_report(request, pk: int):
    return _step(
        request,
        pk,
        ReportForm,
        "report_form",
        lambda o, d: services.objection_report(
            objection=o, report=d["report"], acting_user=request.user
        ),
    )


@login_required
@require_POST
def objection_review(request, pk: int):
    def call(o, d):
        if d["action"] == "close":
            return services.objection_close(
                objection=o, comment=d["comment"], acting_user=request.user
            )
        return services.objection_return(
            objection=o, comment=d["comment"], acting_user=request.user
        )

    return _step(request, pk, ReviewForm, "review_form", call)


@login_required
def objection_evidence(request, pk: int):
    objection = access_objection(request.user, pk)
    if not objection.evidence:
        raise Http404
    try:
        handle = objection.evidence.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404 from None
    ext = Path(objection.evidence.name).suffix.lower()
    name = f"objection-{objection.pk}-evidence{ext}"
    audit.record("data.download", obj=objection, request=request, details={"file": "evidence"})
    return FileResponse(handle, as_attachment=True, filename=name)


@login_required
def time_limits(request):
    if not can_set_limits(request.user):
        raise Http404
    current = {key: working_days_for(key) for key in services.LIMIT_KEYS}
    form = TimeLimitsForm(request.POST or None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            for key in services.LIMIT_KEYS:
                services.time_limit_set(
                    key=key, working_days=form.cleaned_data[key], acting_user=request.user
                )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Time limits saved; they apply to deadlines set from now."))
            return redirect("objections:limits")
    return render(request, "aggregation/objections/time_limits.html", {"form": form})
