"""Reads of registrations: the applications a user may see, the public register (only what
the law makes public: code, object, holder, state and dates), and the deposits an applicant
may choose."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from catalog.models import Resource
from registration.evidence.models import Deposit

from .models import NoticeObjection, Registration
from .permissions import registrations_visible_to

S = Registration.State


def _search(qs: QuerySet, q: str) -> QuerySet:
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(code__icontains=q)
            | Q(registrant__name__icontains=q)
            | Q(resource__code__icontains=q)
        )
    return qs


def application_list(user, *, q: str = "", state: str = "", kind: str = "") -> QuerySet:
    qs = _search(registrations_visible_to(user), q)
    if state:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.annotate(
        n_open_objections=Count(
            "objections", filter=Q(objections__state=NoticeObjection.State.OPEN)
        )
    ).order_by("-updated_at", "-pk")


def public_register(*, q: str = "", state: str = "", kind: str = "") -> QuerySet:
    """What anyone may see: registrations in public notice, registered or cancelled."""
    qs = Registration.objects.filter(state__in=Registration.PUBLIC_STATES).select_related(
        "registrant", "resource"
    )
    qs = _search(qs, q)
    if state in Registration.PUBLIC_STATES:
        qs = qs.filter(state=state)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.only(
        "public_id",
        "kind",
        "name",
        "code",
        "state",
        "registrant__name",
        "resource__code",
        "notice_starts_at",
        "notice_ends_at",
        "registered_at",
        "cancelled_at",
    ).order_by("-registered_at", "-notice_starts_at", "-pk")


def public_registration(public_id) -> Registration | None:
    return (
        Registration.objects.filter(public_id=public_id, state__in=Registration.PUBLIC_STATES)
        .select_related("registrant", "resource", "deposit")
        .first()
    )


def certificate_registration(code: str) -> Registration | None:
    return (
        Registration.objects.filter(code=code, state__in=(S.REGISTERED, S.CANCELLED))
        .select_related("registrant", "resource", "deposit")
        .first()
    )


def deposits_for(user, *, kind: str | None = None) -> QuerySet[Deposit]:
    """The finished deposits of the user's organization, newest first."""
    if not getattr(user, "organization_id", None):
        return Deposit.objects.none()
    qs = Deposit.objects.filter(
        holder_id=user.organization_id, state=Deposit.State.DONE
    ).select_related("resource")
    if kind:
        qs = qs.filter(kind=Registration.DEPOSIT_KINDS[kind])
    return qs.order_by("-created_at", "-pk")


def registrable_resources(user) -> QuerySet[Resource]:
    if not getattr(user, "organization_id", None):
        return Resource.objects.none()
    return (
        Resource.objects.filter(
            provider_id=user.organization_id,
            published_version__isnull=False,
            retired_at__isnull=True,
        )
        .select_related("published_version")
        .order_by("code")
    )


def waiting_for_acceptance() -> QuerySet[Registration]:
    return Registration.objects.filter(state=S.SUBMITTED).select_related("registrant")


def ready_for_next_step() -> QuerySet[Registration]:
    """Accepted applications to review, and notices whose period has ended."""
    return Registration.objects.filter(
        Q(state=S.ACCEPTED) | Q(state=S.NOTICE, notice_ends_at__lt=timezone.now())
    ).select_related("registrant")
