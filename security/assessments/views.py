"""Pages of security assessments: the schedule (every subject's current assessment, soonest
expiry first), the overdue list, an assessment's page, and the form the security
administrator opens from the subject's page. 404 for missing and forbidden alike."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.workdays import today as local_today

from . import selectors, services
from .forms import AssessmentFilterForm, AssessmentForm
from .permissions import access_assessment, can_assess, sees_assessments
from .registry import subject_kind

PAGE_SIZE = 25


def _require_reader(user) -> None:
    if not sees_assessments(user):
        raise Http404


def _with_status(rows, today):
    for a in rows:
        if a.revoked_at:
            a.status, a.status_label = "warn", _("Revoked")
        elif not a.passed:
            a.status, a.status_label = "bad", a.get_result_display()
        elif a.valid_until < today:
            a.status, a.status_label = "bad", _("Expired")
        else:
            a.status, a.status_label = "ok", a.get_result_display()
        subject = subject_kind(a.subject_kind)
        a.kind_label = subject.label if subject else a.subject_kind
    return rows


@login_required
def assessment_schedule(request):
    user = request.user
    _require_reader(user)
    form = AssessmentFilterForm(request.GET or None)
    qs = selectors.current_assessments(**form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    _with_status(page.object_list, local_today())
    return render(
        request,
        "security/assessments/schedule.html",
        {"form": form, "page_obj": page, "can_assess": can_assess(user), "tab": "schedule"},
    )


@login_required
def assessment_overdue(request):
    user = request.user
    _require_reader(user)
    page = Paginator(selectors.overdue_assessments(), PAGE_SIZE).get_page(request.GET.get("page"))
    _with_status(page.object_list, local_today())
    return render(
        request,
        "security/assessments/overdue.html",
        {
            "page_obj": page,
            "pending": selectors.pending_subjects(),
            "can_assess": can_assess(user),
            "tab": "overdue",
        },
    )


@login_required
def assessment_detail(request, pk: int):
    user = request.user
    assessment = access_assessment(user, pk)
    _with_status([assessment], local_today())
    earlier = selectors.assessments_of(assessment.subject_kind, assessment.subject_id).exclude(
        pk=assessment.pk
    )[:20]
    return render(
        request,
        "security/assessments/detail.html",
        {
            "assessment": assessment,
            "answers": assessment.answers.all(),
            "subject_url": selectors.subject_link(assessment),
            "earlier": earlier,
            "can_assess": can_assess(user),
        },
    )


@login_required
def assessment_create(request, kind: str, subject_id: str):
    user = request.user
    if not can_assess(user):
        raise Http404
    subject = subject_kind(kind)
    obj = subject.resolve(subject_id) if subject else None
    if obj is None:
        raise Http404
    form = AssessmentForm(request.POST or None, checklist=subject.checklist)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            assessment = services.assessment_record(
                subject_kind=kind,
                subject_id=subject_id,
                assessed_on=d["assessed_on"],
                result=d["result"],
                findings=d["findings"],
                conditions=d.get("conditions", ""),
                valid_until=d.get("valid_until"),
                answers=form.answers(),
                acting_user=user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Assessment recorded."))
            return redirect("security:assessment-detail", pk=assessment.pk)
    return render(
        request,
        "security/assessments/form.html",
        {
            "form": form,
            "subject": subject,
            "subject_title": subject.title(obj),
            "subject_url": subject.url(obj),
            "current": selectors.current_assessment(kind, subject_id),
        },
    )
