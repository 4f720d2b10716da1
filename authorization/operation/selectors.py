"""Reading authorized operation: the workspace lists and the public disclosure (Art. 20).

The public selectors return only what the law makes public: of a resource its
`catalog.public.LEGALLY_PUBLIC_FIELDS` (code, name, provider), whatever its open type; of an
authorization its operator, kind, scope, time limit, status and dates; of an operator its
listed products with prices, its usage per month read from the supply counters, and its
published yearly reports.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import TruncMonth
from django.http import Http404

from authorization.sharing.models import Grant, GrantUsage
from catalog.models import Resource
from catalog.public import LEGALLY_PUBLIC_FIELDS
from wuhan_pdr.accounts.models import Organization

from .models import AuthorizedResource, FeeCap, OperationAuthorization, Product, YearlyDisclosure
from .permissions import authorizations_visible_q, disclosures_visible_q

SEARCH_MAX = 100


def _search(q: str) -> str:
    return (q or "").replace("\x00", "").strip()[:SEARCH_MAX]


# --- the workspace ---------------------------------------------------------------------------


def authorizations_visible_to(user, *, q: str = "", state: str = ""):
    ids = OperationAuthorization.objects.filter(authorizations_visible_q(user)).values("pk")
    qs = OperationAuthorization.objects.filter(pk__in=ids).select_related(
        "operator", "authorizing_body"
    )
    q = _search(q)
    if q:
        qs = qs.filter(
            Q(operator__name__icontains=q)
            | Q(scope__icontains=q)
            | Q(entries__resource__code__icontains=q)
        ).distinct()
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-pk")


def authorization_entries(authorization):
    return authorization.entries.select_related(
        "resource__provider", "resource__published_version__grade", "grant"
    ).order_by("resource__code")


def disclosures_visible_to(user):
    ids = YearlyDisclosure.objects.filter(disclosures_visible_q(user)).values("pk")
    return (
        YearlyDisclosure.objects.filter(pk__in=ids)
        .select_related("operator")
        .order_by("-year", "operator__name")
    )


def operator_products(operator):
    return (
        Product.objects.filter(operator=operator)
        .prefetch_related("resources")
        .order_by("state", "name", "pk")
    )


# --- the public disclosure -------------------------------------------------------------------


@dataclass(frozen=True)
class DisclosureQuery:
    q: str = ""
    state: str = ""
    kind: str = ""
    bureau: int | None = None
    operator: int | None = None


def public_authorizations(params: DisclosureQuery | None = None):
    """Decided authorizations (approved, in force, suspended, revoked, expired), newest first,
    each with its legally public resource rows (prefetched)."""
    params = params or DisclosureQuery()
    qs = OperationAuthorization.objects.filter(state__in=OperationAuthorization.DISCLOSED)
    q = _search(params.q)
    if q:
        matching = AuthorizedResource.objects.filter(
            Q(resource__code__icontains=q) | Q(resource__published_version__name__icontains=q)
        ).values("authorization_id")
        qs = qs.filter(Q(operator__name__icontains=q) | Q(scope__icontains=q) | Q(pk__in=matching))
    if params.state in OperationAuthorization.DISCLOSED:
        qs = qs.filter(state=params.state)
    if params.kind in OperationAuthorization.Kind.values:
        qs = qs.filter(kind=params.kind)
    if params.bureau:
        qs = qs.filter(authorizing_body_id=params.bureau)
    if params.operator:
        qs = qs.filter(operator_id=params.operator)
    return qs.order_by("-decided_at", "-pk")


def public_authorization_rows(qs):
    return qs.select_related("operator", "authorizing_body", "domain", "region").only(
        "kind",
        "scope",
        "starts_on",
        "ends_on",
        "state",
        "decided_at",
        "ended_at",
        "state_reason",
        "operator__name",
        "authorizing_body__name",
        "domain__name",
        "region__name",
    )


def attach_public_resources(authorizations) -> list:
    """Give each authorization `public_resources`: the legally public fields of its resources
    (code, name, provider) and their delivery, read in one query of plain values."""
    authorizations = list(authorizations)
    deliveries = dict(AuthorizedResource.Delivery.choices)
    rows: dict[int, list[dict]] = {a.pk: [] for a in authorizations}
    for auth_id, delivery, code, name, provider in (
        AuthorizedResource.objects.filter(authorization_id__in=list(rows))
        .order_by("authorization_id", "resource__code")
        .values_list(
            "authorization_id",
            "delivery",
            "resource__code",
            "resource__published_version__name",
            "resource__provider__name",
        )
    ):
        values = {"code": code, "name": name or "", "provider": provider}
        row = {k: values[k] for k in LEGALLY_PUBLIC_FIELDS}
        row["delivery"] = deliveries.get(delivery, delivery)
        rows[auth_id].append(row)
    for a in authorizations:
        a.public_resources = rows[a.pk]
    return authorizations


def public_authorization(pk) -> OperationAuthorization:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = public_authorization_rows(
        OperationAuthorization.objects.filter(pk=pk, state__in=OperationAuthorization.DISCLOSED)
    ).first()
    if found is None:
        raise Http404
    return found


def disclosing_bureaus():
    return Organization.objects.filter(
        pk__in=OperationAuthorization.objects.filter(
            state__in=OperationAuthorization.DISCLOSED
        ).values("authorizing_body_id")
    ).order_by("kind", "name")


def disclosed_operators():
    return (
        Organization.objects.filter(
            operation_authorizations__state__in=OperationAuthorization.DISCLOSED
        )
        .annotate(
            authorizations=Count(
                "operation_authorizations",
                filter=Q(operation_authorizations__state__in=OperationAuthorization.DISCLOSED),
                distinct=True,
            )
        )
        .order_by("name")
    )


def public_operator(pk) -> Organization:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = Organization.objects.filter(
        pk=pk,
        operation_authorizations__state__in=OperationAuthorization.DISCLOSED,
    ).first()
    if found is None:
        raise Http404
    return found


def fee_caps():
    return list(FeeCap.objects.order_by("basis"))


def listed_products(operator):
    return (
        Product.objects.filter(operator=operator, state=Product.State.LISTED)
        .prefetch_related(
            Prefetch(
                "resources",
                queryset=Resource.objects.select_related("provider", "published_version").order_by(
                    "code"
                ),
            )
        )
        .order_by("name", "pk")
    )


def operation_grants(operator):
    return Grant.objects.filter(
        grantee=operator,
        origin=Grant.Origin.OPERATION,
        operationauthorization__operator=operator,
    )


def monthly_usage(operator, *, months: int = 24) -> list[dict]:
    """Calls and rows delivered to the operator per month through its operation grants, from
    the supply API's counters (GrantUsage), newest month first."""
    since = dt.date.today().replace(day=1) - dt.timedelta(days=31 * months)
    return list(
        GrantUsage.objects.filter(grant__in=operation_grants(operator).values("pk"), day__gte=since)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(calls=Sum("calls"), rows=Sum("rows"))
        .order_by("-month")
    )


def published_reports(operator):
    return YearlyDisclosure.objects.filter(operator=operator).order_by("-year")
