"""The records a dispute can be about, read through their own chapters' access functions:
a share request (refused), an objection, a revenue distribution (the bureau's computation and
its adjustments). `resolve` answers the record and what the dispute form is pre-filled with,
or raises `LinkRefused` with one message whether the record is missing, unseen, or the user's
body is not one of its parties (no information leak)."""

from __future__ import annotations

from dataclasses import dataclass

from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext as _

from aggregation.objections.permissions import access_objection
from authorization.revenue.permissions import access_revenue, access_statement_agency
from authorization.sharing.permissions import access_request
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.forms import record_id

from .models import Dispute

PARAMS = ("share_request", "objection", "adjustment")


class LinkRefused(Exception):
    pass


@dataclass(frozen=True)
class Link:
    field: str  # "share_request", "objection" or "adjustment"
    record: object
    subject: str
    title: str
    reference: str
    other_party: Organization | None
    # When the other party is one of several (the operator disputing a distribution with
    # one of its agencies): those it may choose from.
    choices: object = None


def refused_message() -> str:
    return _("This record cannot be disputed here: it does not exist or you cannot see it.")


def _share_request(user, pk) -> Link | None:
    r = access_request(user, pk)
    if user.organization_id == r.requester_id:
        other = r.provider
    elif user.organization_id == r.provider_id:
        other = r.requester
    else:
        return None
    return Link(
        "share_request",
        r,
        Dispute.Subject.SHARE_REFUSAL,
        _("Share request #%(n)s: %(code)s") % {"n": r.pk, "code": r.resource.code},
        f"#{r.pk} {r.resource.code}",
        other,
    )


def _objection(user, pk) -> Link | None:
    o = access_objection(user, pk)
    requester_org = o.requester.organization
    provider = o.resource.provider
    if requester_org is not None and user.organization_id == requester_org.pk:
        other = provider
    elif requester_org is not None and user.organization_id == provider.pk:
        other = requester_org
    else:
        return None
    return Link(
        "objection",
        o,
        Dispute.Subject.OBJECTION,
        _("Objection #%(n)s: %(code)s") % {"n": o.pk, "code": o.resource.code},
        f"#{o.pk} {o.resource.code}",
        other,
    )


def _adjustment(user, pk) -> Link | None:
    """A revenue distribution (with its adjustments, each a new version): an agency with a
    share in it (its data officer sees it on its statement) disputes it with the operator;
    the operator (who sees its revenue) with one of the agencies sharing in it, chosen on the
    form."""
    from authorization.revenue.models import Distribution
    from authorization.revenue.permissions import is_operator, shares_visible_to

    d = Distribution.objects.filter(pk=pk).select_related("revenue__operator").first()
    if d is None:
        return None
    title = _("Revenue distribution #%(n)s, version %(v)s") % {"n": d.pk, "v": d.version}
    reference = f"#{d.pk} v{d.version}"
    agencies = Organization.objects.filter(pk__in=d.shares.values("agency_id"))
    if is_operator(user):
        revenue = access_revenue(user, d.revenue_id)
        return Link(
            "adjustment",
            d,
            Dispute.Subject.REVENUE,
            title,
            reference,
            None,
            choices=agencies.exclude(pk=revenue.operator_id),
        )
    if shares_visible_to(user).filter(distribution=d, agency_id=user.organization_id).exists():
        return Link("adjustment", d, Dispute.Subject.REVENUE, title, reference, d.revenue.operator)
    return None


_RESOLVERS = {"share_request": _share_request, "objection": _objection, "adjustment": _adjustment}


def resolve(user, field: str, raw) -> Link:
    pk = record_id(raw)
    if field not in _RESOLVERS or pk is None:
        raise LinkRefused(refused_message())
    if not getattr(user, "organization_id", None):
        raise LinkRefused(refused_message())
    try:
        link = _RESOLVERS[field](user, pk)
    except Http404:
        link = None
    if link is None or (link.other_party and link.other_party.pk == user.organization_id):
        raise LinkRefused(refused_message())
    return link


def from_query(user, query) -> Link | None:
    """The link asked for in `query` (?share_request=, ?objection=, ?adjustment=), if any."""
    for field in PARAMS:
        if field in query:
            return resolve(user, field, query.get(field))
    return None


def record_url(dispute: Dispute, user) -> tuple[str, str] | None:
    """(label, url) of the disputed record if `user` may see it, through its chapter's own
    access function."""
    try:
        if dispute.share_request_id:
            access_request(user, dispute.share_request_id)
            return (
                _("Share request #%(n)s") % {"n": dispute.share_request_id},
                reverse("sharing:request", args=[dispute.share_request_id]),
            )
        if dispute.objection_id:
            access_objection(user, dispute.objection_id)
            return (
                _("Objection #%(n)s") % {"n": dispute.objection_id},
                reverse("objections:detail", args=[dispute.objection_id]),
            )
        if dispute.adjustment_id:
            from authorization.revenue.permissions import is_agency_officer

            label = _("Revenue distribution #%(n)s") % {"n": dispute.adjustment_id}
            if is_agency_officer(user):
                access_statement_agency(user, user.organization_id)
                if not dispute.adjustment.shares.filter(agency_id=user.organization_id).exists():
                    return None
                return (label, reverse("revenue:statement", args=[user.organization_id]))
            access_revenue(user, dispute.adjustment.revenue_id)
            return (label, reverse("revenue:detail", args=[dispute.adjustment.revenue_id]))
    except Http404:
        return None
    return None
