"""Pages of the evaluation (Art. 29) under /supervision/evaluation/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page

from . import selectors, services
from .forms import AdjustForm, PlanForm
from .indicators import indicator
from .models import AgencyScore, EvaluationRun, ReportCopy, ScoreAdjustment
from .permissions import (
    access_plan,
    access_run,
    agency_in_view,
    is_agency_member,
    may_manage,
    sees_all,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _page(request, qs, per_page=25):
    return Paginator(qs, per_page).get_page(request.GET.get("page"))


@login_required
def plan_list(request):
    if not sees_all(request.user):
        if is_agency_member(request.user):
            return redirect("supervision:my_results")
        raise Http404
    q = (request.GET.get("q") or "").strip()[:100]
    plans = selectors.plans()
    if q:
        plans = plans.filter(name__icontains=q)
    return render(
        request,
        "supervision/evaluation/plan_list.html",
        {"page_obj": _page(request, plans), "q": q, "may_manage": may_manage(request.user)},
    )


@login_required
def plan_create(request):
    if not may_manage(request.user):
        raise Http404
    form = PlanForm(request.POST or None)

    def save(f):
        return services.plan_create(
            name=f.cleaned_data["name"],
            period_start=f.cleaned_data["period_start"],
            period_end=f.cleaned_data["period_end"],
            note=f.cleaned_data["note"],
            weights=f.weights(),
            acting_user=request.user,
        )

    return form_page(
        request,
        form,
        "supervision/evaluation/plan_form.html",
        save=save,
        done="supervision:plan",
        message=_("The evaluation plan was created."),
    )


@login_required
def plan_detail(request, pk: int):
    plan = access_plan(request.user, pk)
    rows = []
    for pi in plan.indicators.all():
        ind = indicator(pi.key)
        rows.append({"pi": pi, "ind": ind})
    return render(
        request,
        "supervision/evaluation/plan_detail.html",
        {
            "plan": plan,
            "indicators": rows,
            "runs": plan.runs.select_related("job").order_by("-number"),
            "copies": plan.copies.all()[:24],
            "may_manage": may_manage(request.user),
        },
    )


@login_required
@require_POST
def plan_run(request, pk: int):
    plan = access_plan(request.user, pk)
    try:
        run = services.run_start(plan=plan, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("supervision:plan", pk=plan.pk)
    messages.success(request, _("The run was started; it is computed in the background."))
    return redirect("supervision:run", pk=run.pk)


@login_required
def run_detail(request, pk: int):
    run = access_run(request.user, pk)
    if not sees_all(request.user):
        return redirect("supervision:run_agency", pk=run.pk, agency=request.user.organization_id)
    return render(
        request,
        "supervision/evaluation/run_detail.html",
        {
            "run": run,
            "plan": run.plan,
            "page_obj": _page(request, selectors.ranking(run), per_page=50),
            "may_manage": may_manage(request.user),
            "progress": run.job.progress if run.job_id else 0,
        },
    )


@login_required
@require_POST
def run_publish(request, pk: int):
    run = access_run(request.user, pk)
    try:
        services.run_publish(run=run, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The results were published to the agencies."))
    return redirect("supervision:run", pk=run.pk)


def _record_url(ind, record_id) -> str:
    if not ind.record_url:
        return ""
    try:
        return reverse(ind.record_url, args=[record_id])
    except NoReverseMatch:
        return ""


@login_required
def run_agency(request, pk: int, agency: int):
    run = access_run(request.user, pk)
    agency_id = agency_in_view(request.user, run, agency)
    score = (
        AgencyScore.objects.filter(run=run, agency_id=agency_id).select_related("agency").first()
    )
    if score is None:
        raise Http404
    weights = dict(run.plan.indicators.values_list("key", "weight"))
    values = []
    for v in selectors.values_of(run, agency_id):
        ind = indicator(v.key)
        if ind is not None:
            values.append({"v": v, "ind": ind, "weight": weights.get(v.key)})
    values.sort(key=lambda x: list(weights).index(x["v"].key) if x["v"].key in weights else 99)
    form = None
    if may_manage(request.user) and run.state == EvaluationRun.State.DONE:
        form = AdjustForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.score_adjust(
                    score=score,
                    delta=form.cleaned_data["delta"],
                    reason=form.cleaned_data["reason"],
                    acting_user=request.user,
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("The score was adjusted and the run ranked again."))
                return redirect("supervision:run_agency", pk=run.pk, agency=agency_id)
    elif request.method == "POST":
        raise Http404
    return render(
        request,
        "supervision/evaluation/run_agency.html",
        {
            "run": run,
            "score": score,
            "values": values,
            "form": form,
            "adjustments": ScoreAdjustment.objects.filter(score=score).select_related(
                "adjusted_by"
            ),
            "sees_all": sees_all(request.user),
        },
        status=422 if form is not None and form.errors else 200,
    )


@login_required
def run_records(request, pk: int, agency: int, key: str):
    run = access_run(request.user, pk)
    agency_id = agency_in_view(request.user, run, agency)
    ind = indicator(key)
    if ind is None or not run.plan.indicators.filter(key=key).exists():
        raise Http404
    value = selectors.values_of(run, agency_id).filter(key=key).first()
    if value is None:
        raise Http404
    records = selectors.records_behind(ind, run, agency_id)
    for r in records:
        r["url"] = _record_url(ind, r["record_id"])
    return render(
        request,
        "supervision/evaluation/run_records.html",
        {
            "run": run,
            "ind": ind,
            "value": value,
            "agency": Organization.objects.get(pk=agency_id),
            "page_obj": _page(request, records, per_page=50),
            "limit": selectors.DRILL_LIMIT,
        },
    )


@login_required
def run_report(request, pk: int):
    run = access_run(request.user, pk)
    if not sees_all(request.user):
        raise Http404
    from .report import report_file

    return FileResponse(
        report_file(run),
        as_attachment=True,
        filename=f"evaluation-{run.plan_id}-{run.number}.xlsx",
        content_type=XLSX,
    )


@login_required
def copy_download(request, pk: int):
    if not sees_all(request.user):
        raise Http404
    copy = ReportCopy.objects.filter(pk=pk).first()
    if copy is None:
        raise Http404
    return FileResponse(
        copy.file.open("rb"),
        as_attachment=True,
        filename=f"evaluation-{copy.plan_id}-{copy.month:%Y-%m}.xlsx",
        content_type=XLSX,
    )


@login_required
def my_results(request):
    """An agency's own published results, newest first."""
    if not is_agency_member(request.user):
        raise Http404
    scores = selectors.published_scores_of(request.user.organization_id)
    return render(
        request,
        "supervision/evaluation/my_results.html",
        {"page_obj": _page(request, scores)},
    )
