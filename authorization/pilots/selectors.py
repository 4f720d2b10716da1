"""Reads of pilot scenarios: the public list, the work lists and `trial_for`, which the
operator's product pages call to show a fee waived under a pilot (计价免费)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone

from wuhan_pdr.accounts.models import Organization

from .models import PilotCall, PilotTrial, Proposal
from .permissions import calls_visible_to, proposals_visible_to


def trial_for(organization: Organization, on_date: dt.date | None = None) -> PilotTrial | None:
    """The priced-but-free trial of `organization` whose fee is waived on `on_date` (today by
    default), the one running longest first; None when its services are priced normally."""
    on_date = on_date or timezone.localdate()
    return (
        PilotTrial.objects.filter(
            organization=organization, starts_on__lte=on_date, waived_until__gte=on_date
        )
        .order_by("-waived_until", "-pk")
        .first()
    )


def public_pilots(*, q: str = "") -> QuerySet[Proposal]:
    """Selected pilots with their trials, for the public page (public fields only)."""
    qs = Proposal.objects.filter(state=Proposal.State.SELECTED).select_related(
        "call", "organization", "trial"
    )
    if q:
        qs = qs.filter(
            Q(title__icontains=q)
            | Q(call__area__icontains=q)
            | Q(call__title__icontains=q)
            | Q(organization__name__icontains=q)
        )
    return qs.order_by("-decided_at", "-pk")


def open_calls() -> QuerySet[PilotCall]:
    return PilotCall.objects.filter(
        state=PilotCall.State.OPEN, deadline__gt=timezone.now()
    ).order_by("deadline", "pk")


def call_list(user, *, q: str = "", state: str = "") -> QuerySet[PilotCall]:
    qs = calls_visible_to(user)
    if q:
        qs = qs.filter(Q(title__icontains=q) | Q(area__icontains=q))
    if state:
        qs = qs.filter(state=state)
    return qs.annotate(
        n_proposals=Count("proposals", filter=~Q(proposals__state=Proposal.State.WITHDRAWN))
    ).order_by("-deadline", "-pk")


def call_proposals(user, call: PilotCall) -> QuerySet[Proposal]:
    """The call's proposals the user may see, each with its average score and reviews."""
    return (
        proposals_visible_to(user)
        .filter(call=call)
        .annotate(
            avg_total=Avg(
                F("reviews__value")
                + F("reviews__feasibility")
                + F("reviews__security")
                + F("reviews__innovation")
            ),
            n_reviews=Count("reviews"),
        )
        .order_by(F("avg_total").desc(nulls_last=True), "pk")
    )


def proposals_to_score(user) -> QuerySet[Proposal]:
    """Proposals of calls under review that `user` has not scored yet."""
    return (
        Proposal.objects.filter(call__state=PilotCall.State.REVIEW, state=Proposal.State.SUBMITTED)
        .exclude(reviews__reviewer=user)
        .select_related("call", "organization")
        .order_by("call__deadline", "pk")
    )
