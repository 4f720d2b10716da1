"""Reads of operation revenue: lists restricted to the user, the platform's usage counters
of an operator's operation grants in a period, and agency statements."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum

from authorization.sharing.models import Grant, GrantUsage
from wuhan_pdr.accounts.models import Organization

from .models import DistributionShare, OperatorRevenue
from .permissions import revenue_visible_to, shares_visible_to


@dataclass(frozen=True)
class AgencyUsage:
    agency: Organization
    rows: int
    calls: int


def operation_usage(
    operator: Organization, period_start: dt.date, period_end: dt.date
) -> list[AgencyUsage]:
    """Rows and calls delivered to `operator` in the period through its grants of origin
    "operation", per provider agency of the granted resources (agencies whose grants were
    valid in the period but unused count zero). Agencies in id order. Two queries."""
    grants = Grant.objects.filter(
        grantee=operator,
        origin=Grant.Origin.OPERATION,
        valid_from__date__lte=period_end,
        valid_until__date__gte=period_start,
    )
    provider_ids = set(grants.values_list("resource__provider_id", flat=True))
    used = {
        row["grant__resource__provider_id"]: row
        for row in GrantUsage.objects.filter(
            grant__grantee=operator,
            grant__origin=Grant.Origin.OPERATION,
            day__gte=period_start,
            day__lte=period_end,
        )
        .values("grant__resource__provider_id")
        .annotate(rows=Sum("rows"), calls=Sum("calls"))
    }
    provider_ids |= set(used)
    agencies = Organization.objects.filter(pk__in=provider_ids).order_by("pk")
    return [
        AgencyUsage(
            agency=a,
            rows=int(used.get(a.pk, {}).get("rows") or 0),
            calls=int(used.get(a.pk, {}).get("calls") or 0),
        )
        for a in agencies
    ]


def revenue_list(
    user, *, q: str = "", operator: Organization | None = None, year: int | None = None
) -> QuerySet[OperatorRevenue]:
    qs = revenue_visible_to(user).select_related("distribution")
    if q:
        qs = qs.filter(Q(operator__name__icontains=q) | Q(note__icontains=q))
    if operator is not None:
        qs = qs.filter(operator=operator)
    if year:
        qs = qs.filter(period_start__year=year)
    return qs.order_by("-period_start", "-pk")


def revenue_waiting_distribution() -> QuerySet[OperatorRevenue]:
    return (
        OperatorRevenue.objects.filter(distribution__isnull=True)
        .select_related("operator")
        .order_by("period_start", "pk")
    )


def statement_agencies(user, *, q: str = "") -> QuerySet[Organization]:
    """The agencies with a share the user may see, each with its total."""
    ids = shares_visible_to(user).values("agency_id")
    qs = Organization.objects.filter(pk__in=ids)
    if q:
        qs = qs.filter(name__icontains=q)
    totals = (
        DistributionShare.objects.filter(agency_id=OuterRef("pk"))
        .values("agency_id")
        .annotate(t=Sum("amount"))
        .values("t")
    )
    return qs.annotate(total=Subquery(totals)).order_by("name")


def statement_lines(agency: Organization) -> QuerySet[DistributionShare]:
    """Every share of `agency`, newest period first, with its revenue and distribution."""
    return (
        DistributionShare.objects.filter(agency=agency)
        .select_related("distribution__revenue__operator")
        .order_by("-distribution__revenue__period_start", "-pk")
    )


def statement_total(agency: Organization) -> Decimal:
    return DistributionShare.objects.filter(agency=agency).aggregate(t=Sum("amount"))[
        "t"
    ] or Decimal("0.00")
