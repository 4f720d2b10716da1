"""Pages of rectification orders (Art. 31) under /supervision/orders/."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from supervision.inspections.models import Finding
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.workflow import events_described

from . import services
from .forms import ActionForm, AnswerForm, ConfirmForm, DismissForm, OrderForm
from .models import Case, OrderEvidence, OrderSuggestion, RectificationOrder
from .permissions import (
    access_order,
    agencies_for,
    is_agency_side,
    is_city_reviewer,
    may_issue,
    may_see_orders,
    visible_orders_q,
)
from .workflows import order_workflow

S = RectificationOrder.State


@login_required
def order_list(request):
    if not may_see_orders(request.user):
        raise Http404
    qs = (
        RectificationOrder.objects.filter(visible_orders_q(request.user))
        .select_related("agency", "issuer")
        .order_by("-created_at", "-pk")
    )
    q = (request.GET.get("q") or "").strip()[:100]
    state = request.GET.get("state") or ""
    if q:
        qs = qs.filter(agency__name__icontains=q) | qs.filter(facts__icontains=q)
    if state == "overdue":
        qs = qs.filter(overdue_since__isnull=False, state__in=RectificationOrder.OPEN_STATES)
    elif state in S.values:
        qs = qs.filter(state=state)
    page_obj = Paginator(qs, 25).get_page(request.GET.get("page"))
    return render(
        request,
        "supervision/rectification/order_list.html",
        {
            "page_obj": page_obj,
            "q": q,
            "state": state,
            "states": S.choices,
            "may_issue": may_issue(request.user),
            "sees_suggestions": is_city_reviewer(request.user),
        },
    )


@login_required
def order_create(request):
    if not may_issue(request.user):
        raise Http404
    form = OrderForm(request.POST or None, agencies=agencies_for(request.user))

    def save(f):
        return services.order_issue(
            agency=f.cleaned_data["agency"],
            case=f.cleaned_data["case"],
            facts=f.cleaned_data["facts"],
            requirement=f.cleaned_data["requirement"],
            deadline_days=f.cleaned_data["deadline_days"],
            acting_user=request.user,
        )

    return form_page(
        request,
        form,
        "supervision/rectification/order_form.html",
        save=save,
        done="supervision:order",
        message=_("The rectification order was issued; the agency is told."),
    )


def _order_page(request, order, *, answer_form=None, comment="", status=200):
    actions = [t for t in order_workflow.available_to(order, request.user) if t.name != "answer"]
    may_answer = is_agency_side(order, request.user) and order.state in (S.ACKNOWLEDGED, S.RETURNED)
    if may_answer and answer_form is None:
        answer_form = AnswerForm(initial={"answer": order.answer})
    return render(
        request,
        "supervision/rectification/order_detail.html",
        {
            "order": order,
            "actions": actions,
            "decides": any(t.comment_required for t in actions),
            "comment": comment,
            "answer_form": answer_form if may_answer else None,
            "evidence": order.evidence.select_related("uploaded_by"),
            "events": events_described(order, order_workflow),
            # An order issued from an inspection's finding names it (the link both ways).
            "finding": Finding.objects.filter(order=order).select_related("inspection").first(),
        },
        status=status,
    )


@login_required
def order_detail(request, pk: int):
    return _order_page(request, access_order(request.user, pk))


@login_required
@require_POST
def order_action(request, pk: int):
    order = access_order(request.user, pk)
    form = ActionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The action could not be read; please try again."))
        return redirect("supervision:order", pk=order.pk)
    try:
        services.order_transition(
            order=order,
            action=form.cleaned_data["action"],
            comment=form.cleaned_data["comment"],
            acting_user=request.user,
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return _order_page(request, order, comment=form.cleaned_data["comment"], status=422)
    messages.success(request, _("Done."))
    return redirect("supervision:order", pk=order.pk)


@login_required
@require_POST
def order_answer(request, pk: int):
    order = access_order(request.user, pk)
    if not is_agency_side(order, request.user):
        raise Http404
    form = AnswerForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.order_answer(
                order=order,
                answer=form.cleaned_data["answer"],
                files=form.cleaned_data["files"],
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("The answer was sent to the bureau."))
            return redirect("supervision:order", pk=order.pk)
    return _order_page(request, order, answer_form=form, status=422)


@login_required
def evidence_download(request, pk: int, evidence: int):
    order = access_order(request.user, pk)
    ev = OrderEvidence.objects.filter(order=order, pk=evidence).first()
    if ev is None:
        raise Http404
    return FileResponse(ev.file.open("rb"), as_attachment=True, filename=ev.name)


@login_required
def suggestion_list(request):
    if not is_city_reviewer(request.user):
        raise Http404
    state = request.GET.get("state") or OrderSuggestion.State.OPEN
    qs = OrderSuggestion.objects.select_related("agency", "order").order_by("-created_at", "-pk")
    if state in OrderSuggestion.State.values:
        qs = qs.filter(state=state)
    return render(
        request,
        "supervision/rectification/suggestion_list.html",
        {
            "page_obj": Paginator(qs, 25).get_page(request.GET.get("page")),
            "state": state,
            "states": OrderSuggestion.State.choices,
            "confirm_form": ConfirmForm(),
            "dismiss_form": DismissForm(),
            "cases": dict(Case.choices),
        },
    )


def _suggestion(request, pk):
    if not is_city_reviewer(request.user):
        raise Http404
    s = OrderSuggestion.objects.filter(pk=pk).select_related("agency").first()
    if s is None:
        raise Http404
    return s


@login_required
@require_POST
def suggestion_confirm(request, pk: int):
    s = _suggestion(request, pk)
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The deadline is 1 to 120 working days."))
        return redirect("supervision:suggestions")
    try:
        order = services.suggestion_confirm(
            suggestion=s, deadline_days=form.cleaned_data["deadline_days"], acting_user=request.user
        )
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect("supervision:suggestions")
    messages.success(request, _("The rectification order was issued; the agency is told."))
    return redirect("supervision:order", pk=order.pk)


@login_required
@require_POST
def suggestion_dismiss(request, pk: int):
    s = _suggestion(request, pk)
    form = DismissForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        services.suggestion_dismiss(suggestion=s, reason=reason, acting_user=request.user)
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        messages.success(request, _("The suggestion was dismissed."))
    return redirect("supervision:suggestions")
