"""Sharing in the work queues: the provider's data officer sees the requests to decide (overdue
ones flagged), the requesting agency the keys waiting to be collected, the city bureau the
overdue replies and the coordination asked of it, the security administrator flagged grants."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.workqueue import QueueSource, WorkItem, register_queue

from .models import Grant, ShareRequest
from .permissions import is_agency_member, is_city_reviewer, is_data_officer

QUEUE_LENGTH = 10
R = ShareRequest.State


def _request_item(r: ShareRequest, now) -> WorkItem:
    overdue = bool(r.reply_due and r.reply_due < now and r.state == R.PENDING)
    return WorkItem(
        title=f"{r.requester.name} · {r.version.name}",
        url=reverse("sharing:request", kwargs={"pk": r.pk}),
        state=_("Overdue") if overdue else r.get_state_display(),
        deadline=r.reply_due if r.state == R.PENDING else None,
        overdue=overdue,
    )


def _to_decide(user) -> list[WorkItem]:
    if not is_data_officer(user):
        return []
    now = timezone.now()
    qs = (
        ShareRequest.objects.filter(provider_id=user.organization_id, state=R.PENDING)
        .select_related("requester", "version")
        .order_by("reply_due", "pk")[:QUEUE_LENGTH]
    )
    return [_request_item(r, now) for r in qs]


def _bureau(user) -> list[WorkItem]:
    if not is_city_reviewer(user):
        return []
    now = timezone.now()
    qs = (
        ShareRequest.objects.filter(state=R.PENDING, reply_due__lt=now)
        | ShareRequest.objects.filter(state=R.COORDINATION)
    ).select_related("requester", "version")
    return [_request_item(r, now) for r in qs.order_by("reply_due", "pk")[:QUEUE_LENGTH]]


def _keys_to_collect(user) -> list[WorkItem]:
    if not is_agency_member(user):
        return []
    qs = (
        Grant.objects.filter(
            grantee_id=user.organization_id,
            state=Grant.State.ACTIVE,
            key_collected_at__isnull=True,
        )
        .select_related("resource__published_version")
        .order_by("pk")[:QUEUE_LENGTH]
    )
    return [
        WorkItem(
            title=_("Collect the API key: %(name)s")
            % {
                "name": g.resource.published_version.name
                if g.resource.published_version
                else g.resource.code
            },
            url=reverse("sharing:grant", kwargs={"pk": g.pk}),
            state=g.get_state_display(),
        )
        for g in qs
    ]


def _flagged(user) -> list[WorkItem]:
    qs = Grant.objects.filter(state=Grant.State.ACTIVE, flagged_at__isnull=False)
    if not user.groups.filter(name=Role.SECURITY_ADMIN).exists():
        if not is_data_officer(user):
            return []
        qs = qs.filter(resource__provider_id=user.organization_id)
    qs = qs.select_related("grantee", "resource").order_by("-flagged_at")[:QUEUE_LENGTH]
    return [
        WorkItem(
            title=f"{g.grantee.name} · {g.resource.code}: {g.flag_reason}",
            url=reverse("sharing:grant", kwargs={"pk": g.pk}),
            state=pgettext("sharing", "Flagged"),
        )
        for g in qs
    ]


def register() -> None:
    register_queue(
        QueueSource(
            "share_review",
            gettext_lazy("Share requests to decide"),
            frozenset({Role.AGENCY_ADMIN}),
            _to_decide,
            order=20,
        )
    )
    register_queue(
        QueueSource(
            "share_keys",
            gettext_lazy("API keys to collect"),
            frozenset({Role.AGENCY_STAFF, Role.AGENCY_ADMIN}),
            _keys_to_collect,
            order=21,
        )
    )
    register_queue(
        QueueSource(
            "share_bureau",
            gettext_lazy("Share requests overdue or in coordination"),
            frozenset({Role.CITY_REVIEWER}),
            _bureau,
            order=20,
        )
    )
    register_queue(
        QueueSource(
            "share_flagged",
            gettext_lazy("Grants flagged for unusual use"),
            frozenset({Role.SECURITY_ADMIN, Role.AGENCY_ADMIN}),
            _flagged,
            order=22,
        )
    )
