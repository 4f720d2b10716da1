"""Reads of sharing, restricted to what the viewer may see, with a fixed number of queries
per page whatever the number of rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import (
    BooleanField,
    Case,
    Count,
    ExpressionWrapper,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)
from django.db.models.functions import Coalesce, Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import CatalogEntry, DataItem
from catalog.selectors import resources_visible_to
from wuhan_pdr.kernel import workdays

from .models import Grant, GrantItem, GrantUsage, ShareRequest, ShareRequestItem
from .permissions import grants_visible_q, is_agency_member, is_data_officer

USAGE_WINDOW_DAYS = 30


def requestable_entries(user, *, q: str = "") -> QuerySet[CatalogEntry]:
    """Published catalog entries of other providers that `user`'s agency may ask for."""
    qs = CatalogEntry.objects.filter(resource__in=resources_visible_to(user).values("pk")).exclude(
        provider_id=user.organization_id
    )
    q = q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(provider_name__icontains=q))
    return qs.select_related("grade").order_by("provider_name", "code")


def requestable_resource(user, pk):
    """A resource `user` may ask for, with its published version and items, or None."""
    if not str(pk).isdigit():
        return None
    return (
        resources_visible_to(user)
        .exclude(provider_id=user.organization_id)
        .filter(pk=pk)
        .select_related("provider", "published_version__grade")
        .prefetch_related(
            Prefetch(
                "published_version__items",
                queryset=DataItem.objects.select_related("grade").order_by("position"),
            )
        )
        .first()
    )


def _request_rows(qs: QuerySet[ShareRequest]) -> QuerySet[ShareRequest]:
    return qs.select_related("resource", "version", "requester", "provider").annotate(
        n_items=Count("items", distinct=True),
        is_overdue=ExpressionWrapper(
            Q(state=ShareRequest.State.PENDING, reply_due__lt=Now()), output_field=BooleanField()
        ),
    )


def requests_of_my_agency(user) -> QuerySet[ShareRequest]:
    """The requests the viewer's agency made (the requester's list)."""
    if not is_agency_member(user):
        return ShareRequest.objects.none()
    return _request_rows(ShareRequest.objects.filter(requester_id=user.organization_id)).order_by(
        "-created_at", "-pk"
    )


def requests_to_review(user) -> QuerySet[ShareRequest]:
    """The requests for the viewer's agency's resources (the provider's review queue):
    pending ones first, the earliest due first."""
    if not is_data_officer(user):
        return ShareRequest.objects.none()
    pending_first = Case(When(state=ShareRequest.State.PENDING, then=0), default=1)
    return _request_rows(ShareRequest.objects.filter(provider_id=user.organization_id)).order_by(
        pending_first, "reply_due", "-pk"
    )


def request_items(request: ShareRequest) -> list[ShareRequestItem]:
    return list(
        request.items.select_related("item__grade", "item__version__grade").order_by(
            "item__position"
        )
    )


@dataclass(frozen=True)
class NextStep:
    organization: str
    role: str
    action: str
    deadline: object = None
    days_left: int | None = None
    overdue: bool = False


def next_step(request: ShareRequest) -> NextStep | None:
    """Who acts next on a request and by when."""
    if request.state == ShareRequest.State.PENDING:
        deadline = request.reply_due
        days_left, overdue = None, False
        if deadline is not None:
            now = timezone.now()
            days_left = workdays.working_days_between(
                workdays.today(), deadline.astimezone(workdays.SHANGHAI).date()
            )
            overdue = deadline < now
        return NextStep(
            organization=request.provider.name,
            role=str(_("Agency data officer")),
            action=str(_("decide the request")),
            deadline=deadline,
            days_left=days_left,
            overdue=overdue,
        )
    if request.state == ShareRequest.State.COORDINATION:
        return NextStep(
            organization=str(_("City data bureau")),
            role=str(_("City data bureau reviewer")),
            action=str(_("coordinate between the agencies")),
        )
    return None


def _usage_since() -> dt.date:
    return workdays.today() - dt.timedelta(days=USAGE_WINDOW_DAYS)


def _with_usage(qs: QuerySet[Grant]) -> QuerySet[Grant]:
    """Grants with their calls and rows in the last USAGE_WINDOW_DAYS days and their largest
    day (one aggregate subquery each, whatever the number of rows)."""
    recent = GrantUsage.objects.filter(grant=OuterRef("pk"), day__gte=_usage_since()).values(
        "grant"
    )
    return qs.annotate(
        recent_calls=Coalesce(Subquery(recent.annotate(s=Sum("calls")).values("s")[:1]), 0),
        recent_rows=Coalesce(Subquery(recent.annotate(s=Sum("rows")).values("s")[:1]), 0),
        peak_rows=Coalesce(Subquery(recent.annotate(s=Max("rows")).values("s")[:1]), 0),
        n_items=Count("items", distinct=True),
    ).select_related("resource__published_version", "resource__provider", "grantee")


def grants_of_my_agency(user) -> QuerySet[Grant]:
    """The grants the viewer's agency holds, with their recent use."""
    if not is_agency_member(user):
        return Grant.objects.none()
    return _with_usage(Grant.objects.filter(grantee_id=user.organization_id)).order_by(
        "-created_at", "-pk"
    )


def grants_to_my_data(user) -> QuerySet[Grant]:
    """Who uses the viewer's agency's data and how much (the provider's page)."""
    if not is_data_officer(user):
        return Grant.objects.none()
    return _with_usage(Grant.objects.filter(resource__provider_id=user.organization_id)).order_by(
        F("flagged_at").desc(nulls_last=True), "-created_at", "-pk"
    )


def grants_for_review(user) -> QuerySet[Grant]:
    """Active and suspended grants visible to the viewer, those due for their periodic risk
    review (never reviewed or reviewed more than SHARING_RISK_REVIEW_DAYS ago) or flagged
    first."""
    cutoff = timezone.now() - dt.timedelta(days=settings.SHARING_RISK_REVIEW_DAYS)
    qs = (
        Grant.objects.select_related("request")
        .filter(grants_visible_q(user), state__in=[Grant.State.ACTIVE, Grant.State.SUSPENDED])
        .annotate(
            review_due=Q(reviewed_at__isnull=True, created_at__lte=cutoff)
            | Q(reviewed_at__lte=cutoff),
        )
    )
    return _with_usage(qs)


def grant_with_usage(grant: Grant) -> Grant:
    """The grant with its calls, rows and busiest day of the last USAGE_WINDOW_DAYS days."""
    return _with_usage(Grant.objects.filter(pk=grant.pk)).get()


def grant_items(grant: Grant) -> list[GrantItem]:
    return list(grant.items.select_related("item").order_by("item__position"))


def grant_usage_days(grant: Grant, *, days: int = USAGE_WINDOW_DAYS) -> list[GrantUsage]:
    return list(grant.usage.filter(day__gte=workdays.today() - dt.timedelta(days=days)))


def grant_usage_totals(grant: Grant) -> dict:
    return grant.usage.aggregate(calls=Coalesce(Sum("calls"), 0), rows=Coalesce(Sum("rows"), 0))


def grants_of_request(request: ShareRequest) -> list[Grant]:
    return list(request.grants.order_by("-created_at"))
