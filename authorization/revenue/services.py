"""Writes of operation revenue and its distribution (Art. 21). Each takes `acting_user`,
checks the right first, runs in one transaction and records history naming the actor."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify

from .allocation import NoBasis, allocate, to_cents
from .models import MAX_AMOUNT, Distribution, DistributionShare, OperatorRevenue
from .permissions import may_distribute, may_record_for
from .selectors import operation_usage

MAX_WEIGHT = Decimal("1000000")


def _decimal(value, field: str) -> Decimal:
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter a number."), field=field) from None
    if not d.is_finite():
        raise DomainError(_("Enter a number."), field=field)
    return d


@transaction.atomic
def revenue_record(
    *,
    operator: Organization,
    period_start: dt.date,
    period_end: dt.date,
    amount,
    note: str = "",
    acting_user,
) -> OperatorRevenue:
    """Record `operator`'s revenue from authorized operation in a period (the operator for
    itself, or the city bureau)."""
    if not may_record_for(acting_user, operator):
        raise AccessDenied(_("You may not record revenue for this operator."))
    amount = _decimal(amount, "amount")
    if amount < 0 or amount > MAX_AMOUNT:
        raise DomainError(
            _("The revenue must be between 0 and 9,999,999,999,999.99 yuan."), field="amount"
        )
    try:
        to_cents(amount)
    except ValueError:
        raise DomainError(
            _("The revenue is in yuan with at most two decimals."), field="amount"
        ) from None
    if period_end < period_start:
        raise DomainError(_("The period cannot end before it starts."), field="period_end")
    if period_end > timezone.localdate():
        raise DomainError(_("Revenue is recorded for a period that has ended."), field="period_end")
    overlapping = OperatorRevenue.objects.filter(
        operator=operator, period_start__lte=period_end, period_end__gte=period_start
    )
    if overlapping.exists():
        raise DomainError(
            _("Revenue of this operator is already recorded for a period that overlaps this one."),
            field="period_start",
        )
    revenue = OperatorRevenue(
        operator=operator,
        period_start=period_start,
        period_end=period_end,
        amount=amount.quantize(Decimal("0.01")),
        note=(note or "").strip(),
        recorded_by=acting_user,
    )
    audited_save(revenue, acting_user=acting_user, reason=gettext_noop("revenue recorded"))
    return revenue


def _bases(revenue: OperatorRevenue, rule: str, weights: dict | None) -> list[tuple[int, Decimal]]:
    """(agency id, basis) in agency id order, by the rule."""
    if rule in (Distribution.Rule.ROWS, Distribution.Rule.CALLS):
        usage = operation_usage(revenue.operator, revenue.period_start, revenue.period_end)
        if not usage:
            raise DomainError(
                _(
                    "No provider agency delivered data to this operator through an operation"
                    " grant in the period: choose fixed weights."
                ),
                field="rule",
            )
        return [
            (u.agency.pk, Decimal(u.rows if rule == Distribution.Rule.ROWS else u.calls))
            for u in usage
        ]
    if rule != Distribution.Rule.WEIGHTS:
        raise DomainError(_("Choose a rule."), field="rule")
    clean: dict[int, Decimal] = {}
    for agency_id, weight in (weights or {}).items():
        w = _decimal(weight, "weights")
        if w < 0 or w > MAX_WEIGHT or w != w.quantize(Decimal("0.0001")):
            raise DomainError(
                _("A weight is a number from 0 to 1,000,000 with at most four decimals."),
                field="weights",
            )
        if w > 0:
            clean[int(agency_id)] = w
    agencies = set(
        Organization.objects.filter(pk__in=clean, kind__in=Organization.AGENCY_KINDS).values_list(
            "pk", flat=True
        )
    )
    if set(clean) - agencies:
        raise DomainError(_("Weights are given to provider agencies only."), field="weights")
    if not clean:
        raise DomainError(_("Give at least one agency a weight above zero."), field="weights")
    return sorted(clean.items())


@transaction.atomic
def distribution_set(
    *,
    revenue: OperatorRevenue,
    government_ratio,
    rule: str,
    weights: dict | None = None,
    reason: str = "",
    acting_user,
) -> Distribution:
    """Distribute `revenue`: `government_ratio` (0-1) of it to the government side, the rest
    to the operator, then the government share among the provider agencies by `rule` (rows
    or calls counted by the platform, or `weights`: agency id -> weight). Setting it again
    is an adjustment and needs a `reason`; the history keeps each version. Every level adds
    up to the cent."""
    if not may_distribute(acting_user):
        raise AccessDenied(_("Only the city data bureau distributes operation revenue."))
    revenue = OperatorRevenue.objects.select_for_update().get(pk=revenue.pk)
    existing = Distribution.objects.filter(revenue=revenue).first()
    reason = (reason or "").strip()
    if existing is not None and not reason:
        raise DomainError(_("Give the reason for this adjustment."), field="reason")
    ratio = _decimal(government_ratio, "government_ratio")
    if ratio < 0 or ratio > 1 or ratio != ratio.quantize(Decimal("0.0001")):
        raise DomainError(
            _("The government share is between 0% and 100%, to at most two decimals."),
            field="government_ratio",
        )
    split = allocate(revenue.amount, [("government", ratio), ("operator", 1 - ratio)])
    bases = _bases(revenue, rule, weights)
    try:
        parts = allocate(split["government"], bases)
    except NoBasis:
        raise DomainError(
            _(
                "No rows or calls were delivered in the period, so nothing can be divided by"
                " them: choose fixed weights."
            ),
            field="rule",
        ) from None
    distribution = existing or Distribution(revenue=revenue, version=0)
    distribution.government_ratio = ratio
    distribution.rule = rule
    distribution.government_amount = split["government"]
    distribution.operator_amount = split["operator"]
    distribution.version += 1
    distribution.reason = reason
    distribution.computed_at = timezone.now()
    distribution.computed_by = acting_user
    # An adjustment's history row carries its reason; the first computation a fixed text.
    audited_save(
        distribution,
        acting_user=acting_user,
        reason=reason if existing else gettext_noop("distribution computed"),
    )
    old = {s.agency_id: s for s in distribution.shares.all()} if existing else {}
    basis_of = dict(bases)
    for agency_id, amount in parts.items():
        share = old.pop(agency_id, None) or DistributionShare(
            distribution=distribution, agency_id=agency_id
        )
        share.basis = basis_of[agency_id]
        share.amount = amount
        audited_save(share, acting_user=acting_user, reason=distribution.get_rule_display())
    for gone in old.values():
        gone._history_user = acting_user
        gone.delete()
    _notify(distribution, list(parts))
    return distribution


def _notify(distribution: Distribution, agency_ids: list[int]) -> None:
    users = get_user_model().objects.filter(is_active=True)
    officers = users.filter(organization_id__in=agency_ids, groups__name=Role.AGENCY_ADMIN)
    operators = users.filter(
        organization_id=distribution.revenue.operator_id, groups__name=Role.OPERATOR
    )
    title = _("Operation revenue of %(start)s–%(end)s distributed (version %(v)s)") % {
        "start": distribution.revenue.period_start,
        "end": distribution.revenue.period_end,
        "v": distribution.version,
    }
    url = reverse("revenue:detail", args=[distribution.revenue_id])
    people = list(officers.select_related("organization"))
    op_people = list(operators)

    def send():
        for person in people:
            notify(
                recipients=[person],
                title=title,
                url=reverse("revenue:statement", args=[person.organization_id]),
            )
        notify(recipients=op_people, title=title, url=url)

    transaction.on_commit(send)
