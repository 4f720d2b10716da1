"""The security administrator's masking rule pages: list, create, edit (with history)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.forms import add_domain_error

from . import selectors, services
from .core import as_mask, mask_value
from .forms import MaskingRuleForm, RuleFilterForm
from .models import MaskingRule
from .permissions import can_manage_rules, can_view_rules

PAGE_SIZE = 25

# Values each rule is shown on, so the administrator sees what it does.
EXAMPLES = ("420102199003071234", "13812345678", "欧阳修远", "湖北省武汉市洪山区珞喻路1037号")


def _examples(rule: MaskingRule) -> list[tuple[str, str]]:
    import datetime as dt
    from decimal import Decimal

    mask = as_mask(rule)
    values: tuple = EXAMPLES
    if rule.method in (MaskingRule.Method.YEAR, MaskingRule.Method.MONTH):
        values = (dt.date(1990, 3, 7), "2024-05-06 08:00:00")
    elif rule.method == MaskingRule.Method.ROUND:
        values = (Decimal("12345.67"), Decimal("-987.5"))
    return [(str(v), mask_value(v, mask)) for v in values]


@login_required
def rule_list(request):
    if not can_view_rules(request.user):
        raise Http404
    form = RuleFilterForm(request.GET or None)
    qs = selectors.rule_list(**form.filters())
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "security/masking/rule_list.html",
        {
            "form": form,
            "page_obj": page,
            "can_manage": can_manage_rules(request.user),
            "filtered": any(v for k, v in request.GET.items() if k != "page"),
        },
    )


@login_required
def rule_create(request):
    if not can_manage_rules(request.user):
        raise Http404
    form = MaskingRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            rule = services.masking_rule_create(acting_user=request.user, **form.cleaned_data)
        except DomainError as exc:
            add_domain_error(form, exc)
        else:
            messages.success(request, _("Masking rule created."))
            return redirect("security:masking-rule", pk=rule.pk)
    return render(request, "security/masking/rule_form.html", {"form": form, "rule": None})


@login_required
def rule_detail(request, pk: int):
    """A rule: what it does on example values, edit (security administrator), history."""
    if not can_view_rules(request.user):
        raise Http404
    rule = MaskingRule.objects.filter(pk=pk).first()
    if rule is None:
        raise Http404
    manage = can_manage_rules(request.user)
    form = MaskingRuleForm(request.POST or None, instance=rule) if manage else None
    if request.method == "POST":
        if not manage:
            raise Http404
        if form.is_valid():
            fields = {k: form.cleaned_data[k] for k in form.changed_data}
            try:
                services.masking_rule_update(
                    rule=MaskingRule.objects.get(pk=pk), acting_user=request.user, **fields
                )
            except DomainError as exc:
                add_domain_error(form, exc)
            else:
                messages.success(request, _("Masking rule saved."))
                return redirect("security:masking-rule", pk=pk)
    rule = MaskingRule.objects.get(pk=pk)  # as stored (the form may hold refused values)
    return render(
        request,
        "security/masking/rule_detail.html",
        {
            "rule": rule,
            "form": form,
            "examples": _examples(rule),
            "history": rule.history.select_related("history_user").order_by("-history_date")[:30],
        },
    )
