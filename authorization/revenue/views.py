"""Pages of operation revenue under /revenue/: the revenue periods, one period with its
usage and distribution, setting or adjusting the distribution, and the agency statements
with their Excel exports. Objects come through permissions.py (404 for missing and
forbidden alike); each form calls one service."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from security import audit
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.excel import stream_workbook
from wuhan_pdr.kernel.forms import add_domain_error, form_page
from wuhan_pdr.kernel.panels import record_panels

from . import selectors, services
from .forms import DistributionForm, RevenueFilterForm, RevenueForm, StatementFilterForm
from .models import Distribution, DistributionShare
from .permissions import (
    access_revenue,
    access_statement_agency,
    is_agency_officer,
    is_operator,
    may_distribute,
    may_record,
    sees_all,
    uses_revenue,
    uses_statements,
)

PAGE_SIZE = 20


def _number(value):
    """A Decimal as a number Excel sums: amounts have at most 15 significant digits (13
    before the point, two after), which a double holds exactly enough to show every cent."""
    return int(value) if value == value.to_integral_value() else float(value)


def _operators_for(user):
    qs = Organization.objects.filter(kind=Organization.Kind.OPERATOR, is_active=True)
    if sees_all(user) and may_distribute(user):
        return qs.order_by("name")
    if is_operator(user):
        return qs.filter(pk=user.organization_id)
    return qs.none()


@login_required
def revenue_list(request):
    if not uses_revenue(request.user):
        raise Http404
    form = RevenueFilterForm(request.GET or None)
    qs = selectors.revenue_list(request.user, **form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "authorization/revenue/revenue_list.html",
        {"form": form, "page_obj": page, "can_record": may_record(request.user)},
    )


@login_required
def revenue_create(request):
    if not may_record(request.user):
        raise Http404
    form = RevenueForm(request.POST or None, operators=_operators_for(request.user))
    return form_page(
        request,
        form,
        "authorization/revenue/revenue_form.html",
        save=lambda form: services.revenue_record(
            operator=form.cleaned_data["operator"],
            period_start=form.cleaned_data["period_start"],
            period_end=form.cleaned_data["period_end"],
            amount=form.cleaned_data["amount"],
            note=form.cleaned_data["note"],
            acting_user=request.user,
        ),
        done="revenue:detail",
        message=_("Revenue recorded."),
    )


def _distribution(revenue) -> Distribution | None:
    return Distribution.objects.filter(revenue=revenue).select_related("computed_by").first()


@login_required
def revenue_detail(request, pk: int):
    revenue = access_revenue(request.user, pk)
    distribution = _distribution(revenue)
    shares = list(distribution.shares.select_related("agency")) if distribution is not None else []
    history = (
        distribution.history.select_related("history_user").order_by("-history_date")[:50]
        if distribution is not None
        else []
    )
    return render(
        request,
        "authorization/revenue/revenue_detail.html",
        {
            "revenue": revenue,
            "distribution": distribution,
            "shares": shares,
            "history": history,
            "usage": selectors.operation_usage(
                revenue.operator, revenue.period_start, revenue.period_end
            ),
            "can_distribute": may_distribute(request.user),
            "panels": record_panels("revenue.revenue", revenue, request.user),
        },
    )


def _candidates(revenue, distribution):
    """Agencies the bureau may weight: the providers of the operator's operation grants in
    the period and those already in the distribution."""
    ids = {
        u.agency.pk
        for u in selectors.operation_usage(
            revenue.operator, revenue.period_start, revenue.period_end
        )
    }
    if distribution is not None:
        ids |= set(distribution.shares.values_list("agency_id", flat=True))
    return Organization.objects.filter(pk__in=ids).order_by("pk")


@login_required
def distribution_edit(request, pk: int):
    revenue = access_revenue(request.user, pk)
    if not may_distribute(request.user):
        raise Http404
    distribution = _distribution(revenue)
    initial = {}
    if distribution is not None:
        initial = {
            "government_percent": (distribution.government_ratio * 100).quantize(Decimal("0.01")),
            "rule": distribution.rule,
        }
        if distribution.rule == Distribution.Rule.WEIGHTS:
            initial.update(
                {f"weight_{s.agency_id}": s.basis.normalize() for s in distribution.shares.all()}
            )
    form = DistributionForm(
        request.POST or None,
        initial=initial,
        agencies=_candidates(revenue, distribution),
        adjusting=distribution is not None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.distribution_set(
                revenue=revenue,
                government_ratio=form.ratio(),
                rule=form.cleaned_data["rule"],
                weights=form.weights(),
                reason=form.cleaned_data.get("reason", ""),
                acting_user=request.user,
            )
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Distribution saved."))
            return redirect("revenue:detail", pk=revenue.pk)
    return render(
        request,
        "authorization/revenue/distribution_form.html",
        {"form": form, "revenue": revenue, "distribution": distribution},
    )


@login_required
def revenue_export(request, pk: int):
    revenue = access_revenue(request.user, pk)
    distribution = _distribution(revenue)
    if distribution is None:
        raise Http404
    rows = [
        [_("Government side"), "", _number(distribution.government_amount)],
        [revenue.operator.name, "", _number(distribution.operator_amount)],
    ]
    rows += [
        [s.agency.name, _number(s.basis), _number(s.amount)]
        for s in distribution.shares.select_related("agency").order_by("agency_id")
    ]
    audit.record("revenue.distribution.export", obj=revenue, request=request)
    return stream_workbook(
        filename=f"revenue-{revenue.pk}-v{distribution.version}.xlsx",
        sheet_title=_("Distribution"),
        header=[_("Party"), _("Basis"), _("Amount (yuan)")],
        rows=rows,
    )


@login_required
def statement_list(request):
    user = request.user
    if not uses_statements(user):
        raise Http404
    if is_agency_officer(user) and not sees_all(user):
        return redirect("revenue:statement", pk=user.organization_id)
    form = StatementFilterForm(request.GET or None)
    qs = selectors.statement_agencies(user, **form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "authorization/revenue/statement_list.html", {"form": form, "page_obj": page}
    )


@login_required
def statement_detail(request, pk: int):
    agency = access_statement_agency(request.user, pk)
    lines = selectors.statement_lines(agency)
    page = Paginator(lines, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "authorization/revenue/statement_detail.html",
        {
            "agency": agency,
            "page_obj": page,
            "total": selectors.statement_total(agency),
            "sees_all": sees_all(request.user),
            "panels": record_panels("revenue.statement", agency, request.user),
        },
    )


@login_required
def statement_export(request, pk: int):
    agency = access_statement_agency(request.user, pk)
    lines: list[DistributionShare] = selectors.statement_lines(agency)

    def rows():
        for s in lines.iterator(chunk_size=500):
            d = s.distribution
            yield [
                d.revenue.operator.name,
                d.revenue.period_start,
                d.revenue.period_end,
                d.get_rule_display(),
                _number(s.basis),
                _number(s.amount),
                d.version,
                d.reason,
            ]

    audit.record("revenue.statement.export", obj=agency, request=request)
    return stream_workbook(
        filename=f"statement-{agency.pk}.xlsx",
        sheet_title=_("Statement"),
        header=[
            _("Operator"),
            _("Period from"),
            _("Period until"),
            _("Rule"),
            _("Basis"),
            _("Amount (yuan)"),
            _("Version"),
            _("Reason for the adjustment"),
        ],
        rows=rows(),
    )
