"""Pages of supervision inspections (Art. 28) under /supervision/inspections/."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.forms import HiddenInput, ModelChoiceField
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_POST

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.excel import stream_workbook
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.workflow import events_described

from . import selectors, services
from .filters import InspectionFilter
from .forms import ActionForm, FindingForm, FindingOrderForm, InspectionForm, NoActionForm
from .models import Area, Finding, FindingEvidence, Inspection
from .permissions import (
    access_finding,
    access_inspection,
    is_bureau_side,
    may_plan,
    may_see_inspections,
    subjects_for,
)
from .workflows import inspection_workflow

S = Inspection.State
PAGE_SIZE = 25


@login_required
def inspection_list(request):
    user = request.user
    if not may_see_inspections(user):
        raise Http404
    filterset = InspectionFilter(
        request.GET or None, queryset=selectors.inspection_list_visible_to(user)
    )
    qs = (
        filterset.queryset.none()
        if filterset.is_bound and not filterset.is_valid()
        else filterset.qs
    )
    return render(
        request,
        "supervision/inspections/inspection_list.html",
        {
            "form": filterset.form,
            "page_obj": Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page")),
            "may_plan": may_plan(user),
            "areas": dict(Area.choices),
        },
    )


def _chosen_subject(request, subjects):
    raw = request.POST.get("subject") or request.GET.get("subject") or ""
    if not raw.isdigit() or len(raw) > 12:
        return None
    return subjects.filter(pk=int(raw)).first()


@login_required
def inspection_create(request):
    user = request.user
    if not may_plan(user):
        raise Http404
    subjects = subjects_for(user)
    subject = _chosen_subject(request, subjects)
    if subject is None:
        # Step 1: choose whom to inspect (the form's resource list depends on it).
        return render(
            request,
            "supervision/inspections/inspection_subject.html",
            {"subjects": subjects, "bad_choice": bool(request.GET.get("subject"))},
        )
    form = InspectionForm(
        request.POST or None,
        initial={"subject": subject.pk, "inspectors": [user.pk]},
        subjects=subjects,
        resources=selectors.resources_of(subject),
        inspectors=selectors.inspectors_for(user.organization),
    )
    form.fields["subject"].widget = HiddenInput()
    is_operator = subject.kind == Organization.Kind.OPERATOR
    authorizations = selectors.authorizations_of(subject) if is_operator else None
    if authorizations is not None:
        form.fields["authorization"] = ModelChoiceField(
            label=_("operation authorization"),
            queryset=authorizations,
            required=False,
        )

    def save(f):
        return services.inspection_plan(
            subject=f.cleaned_data["subject"],
            kind=f.cleaned_data["kind"],
            title=f.cleaned_data["title"],
            scope=f.cleaned_data["scope"],
            resources=list(f.cleaned_data["resources"]),
            planned_start=f.cleaned_data["planned_start"],
            planned_end=f.cleaned_data["planned_end"],
            inspectors=list(f.cleaned_data["inspectors"]),
            legal_basis=f.cleaned_data["legal_basis"],
            authorization=f.cleaned_data.get("authorization"),
            acting_user=user,
        )

    return form_page(
        request,
        form,
        "supervision/inspections/inspection_form.html",
        save=save,
        done="supervision:inspection",
        message=_("The inspection was planned; notify the subject when it should know."),
        context={"subject": subject},
    )


def _next_step(inspection: Inspection) -> dict | None:
    """Who acts next on the inspection, what and by when."""
    bureau = inspection.bureau.name
    if inspection.state == S.PLANNED:
        return {
            "who": bureau,
            "what": _("Notify the subject of the inspection"),
            "by": inspection.planned_start,
        }
    if inspection.state == S.NOTIFIED:
        return {"who": bureau, "what": _("Start the inspection"), "by": inspection.planned_start}
    if inspection.state == S.IN_PROGRESS:
        return {
            "who": bureau,
            "what": _("Record the findings and complete them"),
            "by": inspection.planned_end,
        }
    if inspection.state == S.FINDINGS:
        return {
            "who": bureau,
            "what": _("Decide each finding's follow-up and close the inspection"),
            "by": inspection.follow_up_due,
        }
    return None


def _page(request, inspection, *, finding_form=None, comment="", status=200):
    user = request.user
    bureau = is_bureau_side(inspection, user)
    actions = inspection_workflow.available_to(inspection, user)
    if bureau and inspection.state == S.IN_PROGRESS and finding_form is None:
        finding_form = FindingForm(resources=selectors.resources_of(inspection.subject))
    findings = list(selectors.findings_of(inspection))
    may_follow_up = bureau and inspection.state in (S.IN_PROGRESS, S.FINDINGS)
    return render(
        request,
        "supervision/inspections/inspection_detail.html",
        {
            "inspection": inspection,
            "areas": [label for value, label in Area.choices if value in inspection.scope],
            "resources": inspection.resources.select_related("published_version").order_by("code"),
            "inspectors": inspection.inspectors.order_by("full_name", "username"),
            "findings": findings,
            "pending": sum(1 for f in findings if f.follow_up == Finding.FollowUp.PENDING),
            "bureau_side": bureau,
            "may_follow_up": may_follow_up,
            "may_order": may_follow_up and inspection.subject.kind != Organization.Kind.OPERATOR,
            "no_action_form": NoActionForm() if may_follow_up else None,
            "finding_form": finding_form if bureau and inspection.state == S.IN_PROGRESS else None,
            "actions": actions,
            "decides": any(t.comment_required for t in actions),
            "comment": comment,
            "next_step": _next_step(inspection),
            "events": events_described(inspection, inspection_workflow),
        },
        status=status,
    )


@login_required
def inspection_detail(request, pk: int):
    return _page(request, access_inspection(request.user, pk))


@login_required
@require_POST
def inspection_action(request, pk: int):
    inspection = access_inspection(request.user, pk)
    if not is_bureau_side(inspection, request.user):
        raise Http404
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The action could not be read; please try again."))
        return redirect("supervision:inspection", pk=inspection.pk)
    try:
        services.inspection_transition(
            inspection=inspection,
            action=form.cleaned_data["action"],
            comment=form.cleaned_data["comment"],
            acting_user=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        inspection.refresh_from_db()
        return _page(request, inspection, comment=form.cleaned_data["comment"], status=422)
    messages.success(request, _("Done."))
    return redirect("supervision:inspection", pk=inspection.pk)


@login_required
@require_POST
def finding_create(request, pk: int):
    inspection = access_inspection(request.user, pk)
    if not is_bureau_side(inspection, request.user):
        raise Http404
    form = FindingForm(
        request.POST, request.FILES, resources=selectors.resources_of(inspection.subject)
    )
    if form.is_valid():
        try:
            finding = services.finding_record(
                inspection=inspection,
                area=form.cleaned_data["area"],
                severity=form.cleaned_data["severity"],
                description=form.cleaned_data["description"],
                references=form.cleaned_data["references"],
                resources=list(form.cleaned_data["resources"]),
                files=form.cleaned_data["files"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Finding %(n)s was recorded.") % {"n": finding.number})
            return redirect(f"{inspection_url(inspection)}#finding-{finding.number}")
    return _page(request, inspection, finding_form=form, status=422)


def inspection_url(inspection) -> str:
    return reverse("supervision:inspection", args=[inspection.pk])


@login_required
def finding_order(request, pk: int, finding: int):
    inspection = access_inspection(request.user, pk)
    if not is_bureau_side(inspection, request.user):
        raise Http404
    f = access_finding(request.user, inspection, finding)
    if f.follow_up != Finding.FollowUp.PENDING:
        messages.info(request, _("This finding's follow-up has been decided already."))
        return redirect("supervision:inspection", pk=inspection.pk)
    form = FindingOrderForm(
        request.POST or None,
        initial={
            "case": services.AREA_CASE.get(f.area, "other"),
            "facts": services.order_facts(f),
            "deadline_days": services.SEVERITY_DAYS.get(f.severity, 15),
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = services.finding_order(
                finding=f,
                case=form.cleaned_data["case"],
                facts=form.cleaned_data["facts"],
                requirement=form.cleaned_data["requirement"],
                deadline_days=form.cleaned_data["deadline_days"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("Rectification order #%(n)s was issued; the agency is told.") % {"n": order.pk},
            )
            return redirect("supervision:inspection", pk=inspection.pk)
    return render(
        request,
        "supervision/inspections/finding_order.html",
        {"inspection": inspection, "finding": f, "form": form},
        status=422 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def finding_no_action(request, pk: int, finding: int):
    inspection = access_inspection(request.user, pk)
    if not is_bureau_side(inspection, request.user):
        raise Http404
    f = access_finding(request.user, inspection, finding)
    form = NoActionForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.finding_no_action(finding=f, reason=reason, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("Finding %(n)s needs no order.") % {"n": f.number})
    return redirect(f"{inspection_url(inspection)}#finding-{f.number}")


@login_required
def evidence_download(request, pk: int, evidence: int):
    inspection = access_inspection(request.user, pk)
    ev = FindingEvidence.objects.filter(finding__inspection=inspection, pk=evidence).first()
    if ev is None:
        raise Http404
    return FileResponse(ev.file.open("rb"), as_attachment=True, filename=ev.name)


@login_required
def findings_export(request, pk: int):
    inspection = access_inspection(request.user, pk)
    findings = selectors.findings_of(inspection)

    def rows():
        for f in findings:
            yield [
                f.number,
                f.get_area_display(),
                f.get_severity_display(),
                f.description,
                ", ".join(r.code for r in f.resources.all()),
                f.references,
                f.get_follow_up_display(),
                f"#{f.order_id} {f.order.get_state_display()}" if f.order_id else "",
                f.order.due_on if f.order_id else None,
                f.no_action_reason,
                f.created_at,
            ]

    return stream_workbook(
        filename=f"inspection-{inspection.pk}-findings-{dt.date.today():%Y%m%d}.xlsx",
        sheet_title=pgettext("inspection", "Findings"),
        header=[
            _("No."),
            _("Category"),
            _("Severity"),
            _("Description"),
            _("Resources"),
            _("Other records"),
            _("Follow-up"),
            _("Rectification order"),
            _("Order due on"),
            _("Why no order"),
            _("Recorded"),
        ],
        rows=rows(),
    )
