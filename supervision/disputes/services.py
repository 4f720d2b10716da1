"""Writes of disputes (Art. 30): open, record a negotiation or a coordination meeting, settle,
send to coordination (a party, or beat when the negotiation time limit has passed), decide."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from supervision.rectification.permissions import is_city_reviewer
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import add_working_days
from wuhan_pdr.kernel.workdays import today as local_today

from .models import Dispute, DisputeMeeting
from .permissions import is_party, is_party_member

S = Dispute.State


def _people(*orgs):
    return (
        get_user_model()
        .objects.filter(
            organization_id__in=[o for o in orgs],
            is_active=True,
            groups__name__in=[Role.AGENCY_ADMIN, Role.AGENCY_STAFF, Role.OPERATOR],
        )
        .distinct()
    )


def _city():
    return (
        get_user_model()
        .objects.filter(
            organization__kind=Organization.Kind.CITY_BUREAU,
            is_active=True,
            groups__name=Role.CITY_REVIEWER,
        )
        .distinct()
    )


def _url(d) -> str:
    return reverse("supervision:dispute", args=[d.pk])


def _locked(d: Dispute) -> Dispute:
    return Dispute.objects.select_for_update().get(pk=d.pk)


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field)
    return value


@observe_refusals("supervision.dispute_open")
def dispute_open(
    *,
    other_party: Organization,
    subject: str,
    title: str,
    description: str,
    reference: str = "",
    link=None,
    acting_user,
) -> Dispute:
    """`link` (from `links.resolve`, already checked for this user) ties the dispute to the
    record it is about and fixes its subject and other party."""
    if link is not None:
        subject = link.subject
        reference = (reference or "").strip() or link.reference
        if link.other_party is not None:
            other_party = link.other_party
        elif not link.choices.filter(pk=getattr(other_party, "pk", None)).exists():
            raise DomainError(_("Choose a party of the record disputed."), field="other_party")
    if not is_party_member(acting_user):
        raise DomainError(_("Only people of a public body or an operator may raise a dispute."))
    if other_party.pk == acting_user.organization_id:
        raise DomainError(_("The other party must be another body."), field="other_party")
    if subject not in Dispute.Subject.values:
        raise DomainError(_("Choose what the dispute is about."), field="subject")
    with transaction.atomic():
        d = Dispute(
            raised_by_id=acting_user.organization_id,
            other_party=other_party,
            subject=subject,
            title=_text(title, "title", _("Name the dispute.")),
            description=_text(description, "description", _("Describe the dispute.")),
            reference=(reference or "").strip(),
            **({link.field: link.record} if link is not None else {}),
            negotiation_due=add_working_days(
                local_today(), settings.SUPERVISION_DISPUTE_NEGOTIATION_DAYS
            ),
            created_by=acting_user,
        )
        audited_save(d, acting_user=acting_user)
        notify(
            recipients=_people(other_party.pk),
            title=_("A dispute was raised with your body: %(t)s") % {"t": d.title},
            url=_url(d),
        )
    return d


def dispute_open_on_coordination(*, request, note: str, acting_user) -> Dispute:
    """The requester of a refused share request asked the city bureau to coordinate (Art. 7;
    receiver of `authorization.sharing.signals.coordination_asked`, inside its transaction
    with the request row locked): the dispute linked to the request is opened directly in
    the coordination state. Art. 30 has the parties negotiate first, but here the provider's
    refusal with its reasons was that answer and the sharing workflow has already put the
    request before the city bureau; a second negotiation period would only delay it. An open
    dispute already linked to the request (raised by hand, still negotiating) is sent to
    coordination instead of opening another; asking again opens nothing new (idempotent)."""
    existing = (
        Dispute.objects.select_for_update()
        .filter(share_request_id=request.pk, state__in=Dispute.OPEN_STATES)
        .first()
    )
    if existing is not None:
        if existing.state == S.NEGOTIATING:
            _to_coordination(existing, acting_user, "coordination asked on the share request")
        return existing
    with transaction.atomic():
        d = Dispute(
            raised_by_id=request.requester_id,
            other_party_id=request.provider_id,
            subject=Dispute.Subject.SHARE_REFUSAL,
            share_request=request,
            title=(
                _("Refused share request #%(n)s: %(code)s")
                % {"n": request.pk, "code": request.resource.code}
            )[:200],
            description=(note or "")[:4000],
            reference=f"#{request.pk} {request.resource.code}"[:100],
            negotiation_due=local_today(),
            created_by=acting_user,
        )
        _to_coordination(d, acting_user, "coordination asked on the share request")
    return d


def on_coordination_asked(sender, *, request, note, acting_user, **kwargs) -> None:
    dispute_open_on_coordination(request=request, note=note, acting_user=acting_user)


@observe_refusals("supervision.dispute_meeting")
def meeting_record(
    *, dispute: Dispute, held_on: dt.date, participants: str, minutes: str, acting_user
) -> DisputeMeeting:
    """A party records a negotiation (while negotiating); the city bureau a coordination
    meeting (while coordinating)."""
    with transaction.atomic():
        d = _locked(dispute)
        if d.state == S.NEGOTIATING and is_party(d, acting_user):
            kind = DisputeMeeting.Kind.NEGOTIATION
        elif d.state == S.COORDINATION and is_city_reviewer(acting_user):
            kind = DisputeMeeting.Kind.COORDINATION
        else:
            raise DomainError(_("You cannot record a meeting of this dispute now."))
        if held_on > local_today():
            raise DomainError(_("A meeting is recorded once it has been held."), field="held_on")
        m = DisputeMeeting(
            dispute=d,
            kind=kind,
            held_on=held_on,
            participants=_text(participants, "participants", _("Say who took part.")),
            minutes=_text(minutes, "minutes", _("Record the minutes.")),
            recorded_by=acting_user,
        )
        audited_save(m, acting_user=acting_user)
    return m


@observe_refusals("supervision.dispute_settle")
def dispute_settle(*, dispute: Dispute, settlement: str, acting_user) -> Dispute:
    with transaction.atomic():
        d = _locked(dispute)
        if not is_party(d, acting_user) or d.state != S.NEGOTIATING:
            raise DomainError(_("Only the parties may settle a dispute they are negotiating."))
        d.settlement = _text(settlement, "settlement", _("Say what the parties agreed."))
        d.state = S.SETTLED
        d.closed_at = timezone.now()
        audited_save(d, acting_user=acting_user, reason="settled")
        notify(
            recipients=_people(d.raised_by_id, d.other_party_id),
            title=_("Dispute settled: %(t)s") % {"t": d.title},
            url=_url(d),
        )
    return d


def _to_coordination(d: Dispute, acting_user, reason: str) -> None:
    d.state = S.COORDINATION
    d.coordination_at = timezone.now()
    audited_save(d, acting_user=acting_user, reason=reason)
    notify(
        recipients=list(_city()) + list(_people(d.raised_by_id, d.other_party_id)),
        title=_("Dispute sent to the city bureau for coordination: %(t)s") % {"t": d.title},
        url=_url(d),
    )


@observe_refusals("supervision.dispute_escalate")
def dispute_escalate(*, dispute: Dispute, acting_user) -> Dispute:
    """A party says the negotiation failed: the city bureau coordinates (Art. 30)."""
    with transaction.atomic():
        d = _locked(dispute)
        if not is_party(d, acting_user) or d.state != S.NEGOTIATING:
            raise DomainError(_("Only a party may ask for coordination while negotiating."))
        if not d.meetings.filter(kind=DisputeMeeting.Kind.NEGOTIATION).exists():
            raise DomainError(
                _("Record the parties' own negotiation first (Art. 30: negotiate, then ask).")
            )
        _to_coordination(d, acting_user, "negotiation failed")
    return d


def disputes_sweep(*, today: dt.date | None = None) -> int:
    """Beat: disputes still negotiating after their time limit go to coordination."""
    today = today or local_today()
    moved = 0
    for d in Dispute.objects.filter(state=S.NEGOTIATING, negotiation_due__lt=today):
        with transaction.atomic():
            locked = _locked(d)
            if locked.state == S.NEGOTIATING:
                _to_coordination(locked, None, "negotiation time limit passed")
                moved += 1
    return moved


@observe_refusals("supervision.dispute_decide")
def dispute_decide(*, dispute: Dispute, decision: str, acting_user) -> Dispute:
    if not is_city_reviewer(acting_user):
        raise DomainError(_("Only reviewers of the city data bureau may do this."))
    with transaction.atomic():
        d = _locked(dispute)
        if d.state != S.COORDINATION:
            raise DomainError(_("Only a dispute under coordination can be decided."))
        if not d.meetings.filter(kind=DisputeMeeting.Kind.COORDINATION).exists():
            raise DomainError(_("Record the coordination meeting and its minutes first."))
        d.decision = _text(decision, "decision", _("Write the decision."))
        d.decided_by = acting_user
        d.state = S.DECIDED
        d.closed_at = timezone.now()
        audited_save(d, acting_user=acting_user, reason="decided")
        notify(
            recipients=_people(d.raised_by_id, d.other_party_id),
            title=_("The city bureau decided the dispute: %(t)s") % {"t": d.title},
            url=_url(d),
        )
    return d
