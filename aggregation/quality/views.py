"""The quality pages: a resource's quality (rules, runs, trend, run now, custom rules), the
issue list (问题清单), an issue with its answer and decisions, and the boards.

Objects come from permissions.access_* (404 for missing and forbidden alike); each form calls
one service and redirects; a service's refusal is shown on the form.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error
from wuhan_pdr.kernel.workflow import events_described

from ..models import QualityIssue, QualityRule
from ..objections.permissions import can_set_limits
from . import selectors, services
from .forms import AnswerForm, DecisionForm, IssueFilterForm, RuleBuilderForm
from .permissions import (
    access_issue,
    access_quality_resource,
    can_run,
    is_bureau,
    sees_all_quality,
    sees_reference,
    uses_quality,
    withheld_rules,
)
from .rules import rule_description
from .selectors import DIMENSIONS
from .workflows import issue_workflow

PAGE_SIZE = 20
RUN_PAGE_SIZE = 10


def _require_user(user) -> None:
    if not uses_quality(user):
        raise Http404


# --- a resource's quality ----------------------------------------------------------------------


def _resource_context(request, resource, builder=None):
    rules, last_run = selectors.rules_with_last_result(resource)
    live = selectors.live_issue_counts(resource)
    for rule in rules:
        rule.issue = live.get(rule.pk)
    runs = Paginator(selectors.runs_for(resource), RUN_PAGE_SIZE).get_page(request.GET.get("page"))
    for run in [*runs.object_list, last_run]:
        if run is not None:
            run.dim_scores = [(d.label, (run.scores or {}).get(d.value)) for d in DIMENSIONS]
    bureau = is_bureau(request.user)
    if bureau and builder is None:
        builder = RuleBuilderForm(
            columns=services.rule_columns(resource), initial={"kind": "custom", "join": "and"}
        )
    columns = {c.name: c for c in services.rule_columns(resource)} if rules else {}
    withheld = withheld_rules(request.user, rules)
    for rule in rules:
        rule.checks = rule_description(rule, columns)
        rule.withheld = rule.pk in withheld
    return {
        "resource": resource,
        "version": resource.published_version,
        "rules": rules,
        "last_run": last_run,
        "page_obj": runs,
        "trend": selectors.run_trend(resource),
        "dimensions": DIMENSIONS,
        "can_run": can_run(request.user, resource),
        "is_bureau": bureau,
        "builder": builder,
        "active_run": selectors.active_run(resource),
    }


@login_required
def resource_quality(request, pk):
    resource = access_quality_resource(request.user, pk)
    return render(
        request, "aggregation/quality/resource.html", _resource_context(request, resource)
    )


@login_required
@require_POST
def run_request(request, pk):
    resource = access_quality_resource(request.user, pk)
    if not can_run(request.user, resource):
        raise Http404
    try:
        services.quality_run_request(resource=resource, acting_user=request.user)
        messages.success(request, _("The run is queued; the page shows its result when done."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("quality:resource", pk=resource.pk)


@login_required
def run_status(request, pk):
    """Whether a run of the resource is still waiting or running (polled by quality.js)."""
    resource = access_quality_resource(request.user, pk)
    run = selectors.active_run(resource)
    return JsonResponse(
        {
            "done": run is None,
            "status": run.status if run else "",
            "status_label": str(run.get_status_display()) if run else "",
        }
    )


def _builder_error(form: RuleBuilderForm, exc: DomainError) -> None:
    """A service's refusal on the builder form: on the condition row or field it names."""
    field = exc.field or ""
    if field in form.fields:
        form.add_error(field, str(exc.message))
    else:
        form.add_error(None, str(exc.message))


@login_required
def rule_create(request, pk):
    resource = access_quality_resource(request.user, pk)
    if not is_bureau(request.user):
        raise Http404
    if request.method != "POST":
        return redirect("quality:resource", pk=resource.pk)
    form = RuleBuilderForm(request.POST, columns=services.rule_columns(resource))
    if form.is_valid():
        try:
            services.quality_rule_create(
                resource=resource,
                name=form.cleaned_data["name"],
                dimension=form.cleaned_data["dimension"],
                kind=form.cleaned_data["kind"],
                data=form.data_for_service(),
                acting_user=request.user,
            )
            messages.success(request, _("The rule is added; it counts from the next run."))
            return redirect("quality:resource", pk=resource.pk)
        except DomainError as exc:
            _builder_error(form, exc)
    context = _resource_context(request, resource, builder=form)
    return render(request, "aggregation/quality/resource.html", context, status=400)


def _custom_rule(request, pk, rule_pk):
    resource = access_quality_resource(request.user, pk)
    if not is_bureau(request.user):
        raise Http404
    rule = QualityRule.objects.filter(resource=resource, pk=rule_pk, derived=False).first()
    if rule is None:
        raise Http404
    return resource, rule


@login_required
def rule_update(request, pk, rule_pk):
    """The bureau changes a custom rule: name, dimension, conditions or range."""
    resource, rule = _custom_rule(request, pk, rule_pk)
    columns = services.rule_columns(resource)
    if request.method == "POST":
        # the kind of a rule stays what it is
        data = request.POST.copy()
        data["kind"] = rule.kind
        form = RuleBuilderForm(data, columns=columns)
        if form.is_valid():
            try:
                services.quality_rule_update(
                    rule=rule,
                    name=form.cleaned_data["name"],
                    dimension=form.cleaned_data["dimension"],
                    data=form.data_for_service(),
                    acting_user=request.user,
                )
                messages.success(request, _("The rule is saved; it counts from the next run."))
                return redirect("quality:resource", pk=resource.pk)
            except DomainError as exc:
                _builder_error(form, exc)
        status = 400
    else:
        form = RuleBuilderForm(columns=columns, initial=RuleBuilderForm.initial_for(rule))
        status = 200
    form.fields["kind"].disabled = True
    return render(
        request,
        "aggregation/quality/rule_form.html",
        {
            "resource": resource,
            "version": resource.published_version,
            "rule": rule,
            "builder": form,
            "history": rule.history.select_related("history_user").order_by("-history_date")[:50],
        },
        status=status,
    )


@login_required
@require_POST
def rule_toggle(request, pk, rule_pk):
    resource = access_quality_resource(request.user, pk)
    if not is_bureau(request.user):
        raise Http404
    rule = QualityRule.objects.filter(resource=resource, pk=rule_pk).first()
    if rule is None:
        raise Http404
    try:
        services.quality_rule_disable(
            rule=rule, acting_user=request.user, enabled=request.POST.get("enable") == "1"
        )
        messages.success(request, _("The rule is saved."))
    except DomainError as exc:
        messages.error(request, str(exc.message))
    return redirect("quality:resource", pk=resource.pk)


# --- the issue list ----------------------------------------------------------------------------


@login_required
def issue_list(request):
    user = request.user
    _require_user(user)
    agencies = selectors.agencies_with_issues() if sees_all_quality(user) else None
    form = IssueFilterForm(request.GET or None, agencies=agencies)
    qs = selectors.issue_list(user, **form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    withheld = withheld_rules(user, [i.rule for i in page.object_list if i.rule_id])
    for issue in page.object_list:
        issue.withheld = issue.rule_id in withheld
        issue.is_overdue = bool(
            issue.deadline
            and issue.deadline < now
            and issue.state in (QualityIssue.State.OPEN, QualityIssue.State.ESCALATED)
        )
    return render(
        request,
        "aggregation/quality/issue_list.html",
        {
            "form": form,
            "page_obj": page,
            "sees_all": agencies is not None,
            "can_set_limits": can_set_limits(user),
        },
    )


@login_required
def issue_detail(request, pk, answer_form=None, decision_form=None, status=200):
    issue = access_issue(request.user, pk)
    actions = [t.name for t in issue_workflow.available_to(issue, request.user)]
    results = (
        issue.rule.results.select_related("run").order_by("-run__created_at")[:10]
        if issue.rule_id
        else []
    )
    return render(
        request,
        "aggregation/quality/issue_detail.html",
        {
            "issue": issue,
            "can_answer": "answer" in actions,
            "decisions": [a for a in actions if a in ("close", "reopen", "escalate")],
            "answer_form": answer_form or AnswerForm(),
            "decision_form": decision_form or DecisionForm(),
            "events": events_described(issue, issue_workflow),
            "history": issue.history.select_related("history_user").order_by("-history_date")[:50],
            "results": results,
            # a reference rule's counts and samples: only for who may see the referenced data
            "withheld": bool(issue.rule_id and not sees_reference(request.user, issue.rule)),
            "is_overdue": bool(
                issue.deadline
                and issue.deadline < timezone.now()
                and issue.state in (QualityIssue.State.OPEN, QualityIssue.State.ESCALATED)
            ),
        },
        status=status,
    )


@login_required
@require_POST
def issue_answer(request, pk):
    issue = access_issue(request.user, pk)
    form = AnswerForm(request.POST)
    if form.is_valid():
        try:
            services.quality_issue_answer(
                issue=issue,
                answer=form.cleaned_data["answer"],
                text=form.cleaned_data["text"],
                acting_user=request.user,
            )
            messages.success(request, _("The answer is recorded."))
            return redirect("quality:issue-detail", pk=issue.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
    return issue_detail(request, pk, answer_form=form, status=400)


@login_required
@require_POST
def issue_decide(request, pk):
    issue = access_issue(request.user, pk)
    form = DecisionForm(request.POST)
    if form.is_valid():
        try:
            services.quality_issue_transition(
                issue=issue,
                action=form.cleaned_data["action"],
                comment=form.cleaned_data["comment"],
                acting_user=request.user,
            )
            messages.success(request, _("The issue is updated."))
            return redirect("quality:issue-detail", pk=issue.pk)
        except DomainError as exc:
            add_domain_error(form, exc)
    return issue_detail(request, pk, decision_form=form, status=400)


# --- boards ------------------------------------------------------------------------------------


@login_required
def board(request):
    user = request.user
    _require_user(user)
    agency = None
    if sees_all_quality(user) and request.GET.get("agency"):
        # one agency's resources (the bureau's drill-down from the city-wide board)
        agency = selectors.agencies_with_issues().filter(pk=_int(request.GET["agency"])).first()
        if agency is None:
            raise Http404
    group, rows = selectors.quality_board(user, agency=agency)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "aggregation/quality/board.html",
        {"group": group, "page_obj": page, "dimensions": DIMENSIONS, "agency": agency},
    )


def _int(raw: str) -> int:
    return int(raw) if raw.isdigit() and len(raw) <= 12 else 0
