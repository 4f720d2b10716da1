"""Boxes the disputes part adds to upstream record pages through
`wuhan_pdr.kernel.panels.register_record_panel` (the upstream chapters import nothing of
supervision): a record's disputes the user may see, and "raise a dispute" for a party's staff."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.panels import RecordPanel

from . import links
from .models import Dispute
from .permissions import is_party_member, may_see_disputes, visible_q


def _panel(field: str, record_pk: int | None, user) -> RecordPanel | None:
    if record_pk is None or not may_see_disputes(user):
        return None
    rows = (
        Dispute.objects.filter(visible_q(user), **{f"{field}_id": record_pk})
        .order_by("-created_at", "-pk")
        .only("pk", "title", "state")[:20]
    )
    items = tuple(
        (
            f"{d.title} · {d.get_state_display()}",
            reverse("supervision:dispute", args=[d.pk]),
        )
        for d in rows
    )
    action_url = ""
    if is_party_member(user):
        try:
            links.resolve(user, field, record_pk)
        except links.LinkRefused:
            pass
        else:
            action_url = reverse("supervision:dispute_create") + "?" + urlencode({field: record_pk})
    if not items and not action_url:
        return None
    return RecordPanel(
        title=_("Disputes (Art. 30)"),
        links=items,
        action_url=action_url,
        action_label=_("Raise a dispute"),
    )


def share_request_panel(share_request, user) -> RecordPanel | None:
    return _panel("share_request", share_request.pk, user)


def objection_panel(objection, user) -> RecordPanel | None:
    return _panel("objection", objection.pk, user)


def revenue_panel(revenue, user) -> RecordPanel | None:
    from authorization.revenue.models import Distribution

    pk = Distribution.objects.filter(revenue_id=revenue.pk).values_list("pk", flat=True).first()
    return _panel("adjustment", pk, user)


def statement_panel(agency, user) -> RecordPanel | None:
    """An agency's revenue statement: the disputes about distributions it shares in, and for
    its own data officer "raise a dispute" on each of its latest distributions."""
    from authorization.revenue.models import Distribution

    if not may_see_disputes(user):
        return None
    rows = (
        Dispute.objects.filter(visible_q(user), adjustment__shares__agency=agency)
        .distinct()
        .order_by("-created_at", "-pk")
        .only("pk", "title", "state")[:20]
    )
    items = [
        (f"{d.title} · {d.get_state_display()}", reverse("supervision:dispute", args=[d.pk]))
        for d in rows
    ]
    if is_party_member(user) and user.organization_id == agency.pk:
        latest = Distribution.objects.filter(shares__agency=agency).order_by("-pk")[:5]
        for dist in latest:
            try:
                link = links.resolve(user, "adjustment", dist.pk)
            except links.LinkRefused:
                continue
            items.append(
                (
                    _("Raise a dispute about %(r)s") % {"r": link.reference},
                    reverse("supervision:dispute_create")
                    + "?"
                    + urlencode({"adjustment": dist.pk}),
                )
            )
    if not items:
        return None
    return RecordPanel(title=_("Disputes (Art. 30)"), links=tuple(items))
