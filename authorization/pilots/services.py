"""Writes of pilot scenarios (Art. 22): calls, proposals, scored review, selection with a
priced-but-free trial, and the daily sweep (deadlines and trial-end reminders). Each takes
`acting_user`, checks the right first, runs in one transaction and records history."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.uploads import UploadRefused, inspect_document

from .models import SCORE_MAX, PilotCall, PilotTrial, Proposal, ProposalReview
from .permissions import is_applicant, is_bureau
from .workflows import call_workflow, proposal_workflow

DOCUMENT_KINDS = ("pdf", "docx", "odt")
CRITERIA = ("value", "feasibility", "security", "innovation")


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field)
    return value


def _people(*roles, organization_id=None):
    qs = get_user_model().objects.filter(is_active=True, groups__name__in=roles)
    if organization_id is not None:
        qs = qs.filter(organization_id=organization_id)
    return list(qs.distinct())


@transaction.atomic
def call_publish(
    *, title: str, area: str, requirements: str, deadline: dt.datetime, acting_user
) -> PilotCall:
    """Publish a call for pilot scenarios (the city bureau)."""
    if not is_bureau(acting_user):
        raise AccessDenied(_("Only the city data bureau publishes calls for pilots."))
    if deadline <= timezone.now():
        raise DomainError(_("The deadline must lie in the future."), field="deadline")
    call = PilotCall(
        title=_text(title, "title", _("Give the call a title.")),
        area=_text(area, "area", _("Name the application area.")),
        requirements=_text(requirements, "requirements", _("Write the requirements.")),
        deadline=deadline,
        created_by=acting_user,
    )
    audited_save(call, acting_user=acting_user, reason=gettext_noop("call published"))
    return call


@transaction.atomic
def call_move(*, call: PilotCall, transition: str, acting_user, comment: str = "") -> PilotCall:
    """Close a call for proposals, or finish its selection: the proposals still submitted are
    then not selected."""
    call = PilotCall.objects.select_for_update().get(pk=call.pk)
    call_workflow.apply(call, transition, acting_user=acting_user, comment=comment)
    if call.state == PilotCall.State.CLOSED:
        for proposal in call.proposals.select_for_update().filter(state=Proposal.State.SUBMITTED):
            proposal.decided_at = timezone.now()
            proposal_workflow.apply(proposal, "not_selected", acting_user=acting_user)
    return call


def _check_document(uploaded) -> str:
    if uploaded is None:
        raise DomainError(_("Attach the proposal document."), field="document")
    try:
        return inspect_document(
            uploaded, kinds=DOCUMENT_KINDS, max_bytes=settings.PILOTS_DOCUMENT_MAX_BYTES
        )
    except UploadRefused as exc:
        raise DomainError(exc.message, field="document") from exc


@transaction.atomic
def proposal_submit(
    *, call: PilotCall, title: str, summary: str, data_needed: str, document, acting_user
) -> Proposal:
    """Submit a proposal for `call` on behalf of the acting user's organization (an operator
    or company), before the deadline, with its document (PDF, Word or OpenDocument)."""
    if not is_applicant(acting_user):
        raise AccessDenied(_("Operators and companies submit proposals."))
    call = PilotCall.objects.select_for_update().get(pk=call.pk)
    if call.state != PilotCall.State.OPEN or call.deadline <= timezone.now():
        raise DomainError(_("The deadline of this call has passed."))
    if (
        call.proposals.filter(organization_id=acting_user.organization_id)
        .exclude(state=Proposal.State.WITHDRAWN)
        .exists()
    ):
        raise DomainError(
            _(
                "Your organization has already submitted a proposal for this call; withdraw it"
                " first to submit another."
            )
        )
    proposal = Proposal(
        call=call,
        organization_id=acting_user.organization_id,
        submitted_by=acting_user,
        title=_text(title, "title", _("Give the proposal a title.")),
        summary=_text(summary, "summary", _("Describe the scenario.")),
        data_needed=_text(data_needed, "data_needed", _("Say which public data it needs.")),
    )
    ext = _check_document(document)
    document.seek(0)
    digest = hashlib.sha256()
    for chunk in document.chunks():
        digest.update(chunk)
    document.seek(0)
    proposal.document.save(f"{secrets.token_hex(16)}{ext}", File(document), save=False)
    proposal.document_name = Path(document.name).name[:200]
    proposal.document_size = document.size
    proposal.document_sha256 = digest.hexdigest()
    audited_save(proposal, acting_user=acting_user, reason=gettext_noop("proposal submitted"))
    return proposal


@transaction.atomic
def proposal_withdraw(*, proposal: Proposal, acting_user) -> Proposal:
    proposal = Proposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.call.state != PilotCall.State.OPEN:
        raise DomainError(_("A proposal can be withdrawn only while the call is open."))
    proposal_workflow.apply(proposal, "withdraw", acting_user=acting_user)
    return proposal


@transaction.atomic
def proposal_score(
    *, proposal: Proposal, scores: dict, comment: str, acting_user
) -> ProposalReview:
    """Record (or change) the acting reviewer's scores of `proposal`: 0-25 on each criterion
    and a comment. Scoring happens once the call is closed for proposals."""
    if not is_bureau(acting_user):
        raise AccessDenied(_("Only the city data bureau's reviewers score proposals."))
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if proposal.call.state != PilotCall.State.REVIEW:
        raise DomainError(_("Proposals are scored after the call has closed for proposals."))
    if proposal.state != Proposal.State.SUBMITTED:
        raise DomainError(_("Only a proposal awaiting the decision can be scored."))
    values = {}
    for name in CRITERIA:
        try:
            v = int(scores.get(name))
        except (TypeError, ValueError):
            raise DomainError(_("Give a score from 0 to 25."), field=name) from None
        if not 0 <= v <= SCORE_MAX:
            raise DomainError(_("Give a score from 0 to 25."), field=name)
        values[name] = v
    review = ProposalReview.objects.filter(proposal=proposal, reviewer=acting_user).first()
    review = review or ProposalReview(proposal=proposal, reviewer=acting_user)
    for name, v in values.items():
        setattr(review, name, v)
    review.comment = _text(comment, "comment", _("Explain the scores in a comment."))
    audited_save(review, acting_user=acting_user, reason=gettext_noop("proposal scored"))
    return review


@transaction.atomic
def proposal_select(
    *,
    proposal: Proposal,
    service: str,
    price,
    unit: str,
    waived_until: dt.date,
    comment: str = "",
    acting_user,
    starts_on: dt.date | None = None,
) -> PilotTrial:
    """Select `proposal` as a pilot and give it a priced-but-free trial: the service's price
    and unit are recorded and its fee waived from `starts_on` (today) until `waived_until`."""
    if not is_bureau(acting_user):
        raise AccessDenied(_("Only the city data bureau selects pilots."))
    proposal = Proposal.objects.select_for_update().select_related("call").get(pk=proposal.pk)
    if proposal.call.state != PilotCall.State.REVIEW:
        raise DomainError(_("Pilots are selected while the call is under review."))
    if not proposal.reviews.exists():
        raise DomainError(_("Score the proposal before selecting it."))
    try:
        price = Decimal(str(price))
    except (InvalidOperation, ValueError):
        raise DomainError(_("Enter a number."), field="price") from None
    if not price.is_finite() or price < 0 or price != price.quantize(Decimal("0.01")):
        raise DomainError(_("The price is in yuan, at least 0, to the cent."), field="price")
    if price >= Decimal("10000000000"):
        raise DomainError(_("The price is in yuan, at least 0, to the cent."), field="price")
    starts_on = starts_on or timezone.localdate()
    if waived_until < starts_on:
        raise DomainError(_("The free period cannot end before it starts."), field="waived_until")
    proposal.decided_at = timezone.now()
    proposal.decision_comment = (comment or "").strip()
    proposal_workflow.apply(proposal, "select", acting_user=acting_user, comment=comment or "")
    trial = PilotTrial(
        proposal=proposal,
        organization_id=proposal.organization_id,
        service=_text(service, "service", _("Name the product or service.")),
        price=price,
        unit=_text(unit, "unit", _("Give the pricing unit.")),
        starts_on=starts_on,
        waived_until=waived_until,
        created_by=acting_user,
    )
    audited_save(trial, acting_user=acting_user, reason=gettext_noop("selected as a pilot"))
    people = _people(Role.OPERATOR, Role.REQUESTER, organization_id=proposal.organization_id)
    title = _("Your proposal “%(title)s” was selected as a pilot") % {"title": proposal.title}
    url = reverse("pilots:proposal", args=[proposal.pk])
    transaction.on_commit(lambda: notify(recipients=people, title=title, url=url))
    return trial


def pilots_daily(*, now: dt.datetime | None = None) -> dict:
    """The daily sweep (beat "pilots.daily"), safe to run twice: calls past their deadline
    move to review (the reviewers are told); trials whose free period ends within
    PILOTS_TRIAL_REMINDER_DAYS remind their organization once."""
    now = now or timezone.now()
    closed = 0
    for call_id in PilotCall.objects.filter(
        state=PilotCall.State.OPEN, deadline__lte=now
    ).values_list("pk", flat=True):
        with transaction.atomic():
            call = PilotCall.objects.select_for_update().get(pk=call_id)
            if call.state != PilotCall.State.OPEN:
                continue
            call_workflow.apply(call, "deadline", acting_user=None)
            closed += 1
            n = call.proposals.filter(state=Proposal.State.SUBMITTED).count()
            people = _people(Role.CITY_REVIEWER)
            title = _("Call “%(title)s” closed with %(n)s proposals to score") % {
                "title": call.title,
                "n": n,
            }
            url = reverse("pilots:call", args=[call.pk])
            transaction.on_commit(
                lambda people=people, title=title, url=url: notify(
                    recipients=people, title=title, url=url
                )
            )
    reminded = 0
    horizon = timezone.localdate(now) + dt.timedelta(days=settings.PILOTS_TRIAL_REMINDER_DAYS)
    for trial in PilotTrial.objects.filter(
        reminded_at__isnull=True,
        waived_until__lte=horizon,
        waived_until__gte=timezone.localdate(now),
    ).select_related("proposal"):
        with transaction.atomic():
            updated = PilotTrial.objects.filter(pk=trial.pk, reminded_at__isnull=True).update(
                reminded_at=now
            )
            if not updated:
                continue
            reminded += 1
            people = _people(Role.OPERATOR, Role.REQUESTER, organization_id=trial.organization_id)
            title = _("The free trial of “%(service)s” ends on %(day)s; normal pricing follows") % {
                "service": trial.service,
                "day": trial.waived_until,
            }
            url = reverse("pilots:proposal", args=[trial.proposal_id])
            transaction.on_commit(
                lambda people=people, title=title, url=url: notify(
                    recipients=people, title=title, url=url
                )
            )
    return {"calls_closed": closed, "trials_reminded": reminded}
