"""Writes of rectification orders (Art. 31): issue, acknowledge, answer with evidence, verify
or return; beat's sweep (overdue, reminders, escalation) and the suggestions from the
platform's signals. Each service runs in one transaction and refuses with a DomainError."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError, observe_refusals
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.uploads import UploadRefused, inspect_document
from wuhan_pdr.kernel.workdays import add_working_days, working_days_between
from wuhan_pdr.kernel.workdays import today as local_today

from .models import Case, OrderEvidence, OrderSuggestion, RectificationOrder, Signal
from .permissions import is_city_reviewer, may_issue_to
from .workflows import order_workflow

S = RectificationOrder.State
EVIDENCE_KINDS = ("pdf", "docx", "odt", "xlsx", "png", "jpeg")


def _agency_people(agency_id):
    return (
        get_user_model()
        .objects.filter(
            organization_id=agency_id,
            is_active=True,
            groups__name__in=[Role.AGENCY_ADMIN, Role.AGENCY_STAFF],
        )
        .distinct()
    )


def _city_reviewers():
    return (
        get_user_model()
        .objects.filter(
            organization__kind=Organization.Kind.CITY_BUREAU,
            is_active=True,
            groups__name=Role.CITY_REVIEWER,
        )
        .distinct()
    )


def _issuer_reviewers(order):
    return (
        get_user_model()
        .objects.filter(
            organization_id=order.issuer_id,
            is_active=True,
            groups__name__in=[Role.CITY_REVIEWER, Role.DISTRICT_REVIEWER],
        )
        .distinct()
    )


def _url(order) -> str:
    return reverse("supervision:order", args=[order.pk])


@observe_refusals("supervision.order_issue")
def order_issue(
    *,
    agency: Organization,
    case: str,
    facts: str,
    deadline_days: int,
    requirement: str = "",
    acting_user,
    suggestion: OrderSuggestion | None = None,
) -> RectificationOrder:
    if not may_issue_to(acting_user, agency):
        raise DomainError(
            _("You may order only agencies under your bureau to rectify."), field="agency"
        )
    if case not in Case.values:
        raise DomainError(_("Choose one of the cases of Art. 31."), field="case")
    facts = (facts or "").strip()
    if not facts:
        raise DomainError(_("State the facts found."), field="facts")
    if not isinstance(deadline_days, int) or not 1 <= deadline_days <= 120:
        raise DomainError(_("The deadline is 1 to 120 working days."), field="deadline_days")
    with transaction.atomic():
        order = RectificationOrder(
            issuer_id=acting_user.organization_id,
            issued_by=acting_user,
            agency=agency,
            case=case,
            facts=facts,
            requirement=(requirement or "").strip(),
            deadline_days=deadline_days,
            due_on=add_working_days(local_today(), deadline_days),
        )
        audited_save(order, acting_user=acting_user)
        if suggestion is not None:
            suggestion.order = order
        notify(
            recipients=_agency_people(agency.pk),
            title=_("Rectification order #%(n)s: due %(due)s")
            % {"n": order.pk, "due": f"{order.due_on:%Y-%m-%d}"},
            body=facts[:500],
            url=_url(order),
        )
    return order


@observe_refusals("supervision.order_transition")
def order_transition(
    *, order: RectificationOrder, action: str, comment: str = "", acting_user
) -> RectificationOrder:
    """Acknowledge (agency), verify or return (issuing bureau). Answering has its own
    service (it needs the answer and evidence)."""
    if action == "answer":
        raise DomainError(_("Answer with the answer form."))
    with transaction.atomic():
        order = RectificationOrder.objects.select_for_update().get(pk=order.pk)
        order_workflow.apply(order, action, acting_user=acting_user, comment=comment)
        now = timezone.now()
        if action == "acknowledge":
            order.acknowledged_at = now
            order.save(update_fields=["acknowledged_at"])
            notify(
                recipients=_issuer_reviewers(order),
                title=_("Rectification order #%(n)s acknowledged") % {"n": order.pk},
                url=_url(order),
            )
        elif action == "verify":
            order.verified_at = now
            order.save(update_fields=["verified_at"])
            notify(
                recipients=_agency_people(order.agency_id),
                title=_("Rectification order #%(n)s verified and closed") % {"n": order.pk},
                url=_url(order),
            )
        elif action == "return":
            # Rectify again: a new deadline, counted from today, and the overdue flags reset.
            order.due_on = add_working_days(local_today(), settings.SUPERVISION_ORDER_RETURN_DAYS)
            order.overdue_since = None
            order.reminded_on = None
            order.save(update_fields=["due_on", "overdue_since", "reminded_on"])
            notify(
                recipients=_agency_people(order.agency_id),
                title=_("Rectification order #%(n)s returned: rectify again by %(due)s")
                % {"n": order.pk, "due": f"{order.due_on:%Y-%m-%d}"},
                body=comment[:500],
                url=_url(order),
            )
    return order


def evidence_check(uploaded) -> str:
    try:
        return inspect_document(
            uploaded, kinds=EVIDENCE_KINDS, max_bytes=settings.SUPERVISION_EVIDENCE_MAX_BYTES
        )
    except UploadRefused as exc:
        raise DomainError(exc.message, field="files") from exc


@observe_refusals("supervision.order_answer")
def order_answer(
    *, order: RectificationOrder, answer: str, files: list, acting_user
) -> RectificationOrder:
    """The agency's answer: what it did, with at least one document as evidence (or the
    evidence of an earlier answer, when returned)."""
    answer = (answer or "").strip()
    if not answer:
        raise DomainError(_("Say what was done to rectify."), field="answer")
    if len(files) > 10:
        raise DomainError(_("Attach at most 10 files."), field="files")
    exts = [evidence_check(f) for f in files]
    with transaction.atomic():
        order = RectificationOrder.objects.select_for_update().get(pk=order.pk)
        if not files and not order.evidence.exists():
            raise DomainError(_("Attach at least one document as evidence."), field="files")
        order.answer = answer
        order.answered_at = timezone.now()
        order_workflow.apply(order, "answer", acting_user=acting_user)
        for f, ext in zip(files, exts, strict=True):
            f.seek(0)
            digest = hashlib.sha256()
            for chunk in f.chunks():
                digest.update(chunk)
            f.seek(0)
            ev = OrderEvidence(
                order=order,
                name=Path(f.name).name[:200],
                size=f.size,
                sha256=digest.hexdigest(),
                uploaded_by=acting_user,
            )
            ev.file.save(f"{secrets.token_hex(16)}{ext}", File(f), save=False)
            ev.save()
        notify(
            recipients=_issuer_reviewers(order),
            title=_("Rectification order #%(n)s answered: to verify") % {"n": order.pk},
            url=_url(order),
        )
    return order


# --- Beat: overdue orders, reminders, escalation ---------------------------------------------


def orders_sweep(*, today: dt.date | None = None) -> dict:
    """Daily (beat `supervision.orders_sweep`), idempotent within a day:
    - an open order due within SUPERVISION_ORDER_REMIND_DAYS working days: the agency is
      reminded once;
    - an open order past its due day: flagged overdue, the agency reminded every day;
    - overdue by SUPERVISION_ORDER_ESCALATE_DAYS working days or more: escalated once to the
      city bureau's reviewers (and the issuing bureau), the agency told."""
    today = today or local_today()
    counts = {"reminded": 0, "overdue": 0, "escalated": 0}
    soon = add_working_days(today, settings.SUPERVISION_ORDER_REMIND_DAYS)
    open_orders = RectificationOrder.objects.filter(state__in=RectificationOrder.OPEN_STATES)
    # Flag newly overdue orders in one statement.
    counts["overdue"] = open_orders.filter(due_on__lt=today, overdue_since__isnull=True).update(
        overdue_since=today
    )
    due = open_orders.filter(
        Q(due_on__lt=today) | Q(due_on__lte=soon, reminded_on__isnull=True)
    ).exclude(reminded_on=today)
    for order in due.select_related("agency"):
        with transaction.atomic():
            locked = RectificationOrder.objects.select_for_update().get(pk=order.pk)
            if locked.reminded_on == today or locked.state not in RectificationOrder.OPEN_STATES:
                continue
            late = locked.due_on < today
            notify(
                recipients=_agency_people(locked.agency_id),
                title=(
                    _("Rectification order #%(n)s is overdue (due %(due)s)")
                    if late
                    else _("Rectification order #%(n)s is due on %(due)s")
                )
                % {"n": locked.pk, "due": f"{locked.due_on:%Y-%m-%d}"},
                url=_url(locked),
            )
            locked.reminded_on = today
            locked._history_user = None
            locked._change_reason = "overdue reminder" if late else "reminder"
            locked.save(update_fields=["reminded_on"])
            counts["reminded"] += 1
    to_escalate = open_orders.filter(escalated_at__isnull=True, overdue_since__isnull=False)
    for order in to_escalate:
        if working_days_between(order.due_on, today) < settings.SUPERVISION_ORDER_ESCALATE_DAYS:
            continue
        with transaction.atomic():
            locked = RectificationOrder.objects.select_for_update().get(pk=order.pk)
            if locked.escalated_at is not None:
                continue
            locked.escalated_at = timezone.now()
            locked._history_user = None
            locked._change_reason = "escalated"
            locked.save(update_fields=["escalated_at"])
            title = _(
                "Rectification order #%(n)s escalated: %(agency)s is %(days)s working days late"
            ) % {
                "n": locked.pk,
                "agency": locked.agency.name,
                "days": working_days_between(locked.due_on, today),
            }
            notify(
                recipients=list(_city_reviewers()) + list(_issuer_reviewers(locked)),
                title=title,
                url=_url(locked),
            )
            notify(recipients=_agency_people(locked.agency_id), title=title, url=_url(locked))
            counts["escalated"] += 1
    return counts


# --- Suggestions from the platform's signals -------------------------------------------------


def _signals(now) -> list[OrderSuggestion]:
    from aggregation.models import Batch, Objection, QualityIssue
    from authorization.sharing.models import ShareRequest
    from catalog.models import Resource
    from registration.applications.models import Registration

    grace = dt.timedelta(days=settings.SUPERVISION_SIGNAL_GRACE_DAYS)
    found: list[OrderSuggestion] = []
    for i in QualityIssue.objects.filter(
        state__in=(QualityIssue.State.OPEN, QualityIssue.State.ESCALATED),
        deadline__lt=now - grace,
    ).select_related("resource")[:500]:
        found.append(
            OrderSuggestion(
                signal=Signal.ISSUE_OVERDUE,
                source_id=str(i.pk),
                agency_id=i.provider_id,
                case=Case.NOT_PROVIDED,
                facts=_("Quality issue #%(n)s on %(code)s has been unanswered since %(due)s.")
                % {"n": i.pk, "code": i.resource.code, "due": f"{i.deadline:%Y-%m-%d}"},
            )
        )
    for r in ShareRequest.objects.filter(
        state=ShareRequest.State.PENDING, reply_due__lt=now
    ).select_related("resource", "requester")[:500]:
        found.append(
            OrderSuggestion(
                signal=Signal.SHARE_UNANSWERED,
                source_id=str(r.pk),
                agency_id=r.provider_id,
                case=Case.NOT_SHARED,
                facts=_(
                    "Share request #%(n)s from %(req)s for %(code)s was due an answer on %(due)s."
                )
                % {
                    "n": r.pk,
                    "req": r.requester.name,
                    "code": r.resource.code,
                    "due": f"{r.reply_due:%Y-%m-%d}",
                },
            )
        )
    for o in Objection.objects.filter(
        state=Objection.State.AGREED, step_deadline__lt=now
    ).select_related("resource")[:500]:
        found.append(
            OrderSuggestion(
                signal=Signal.OBJECTION_LATE,
                source_id=str(o.pk),
                agency_id=o.resource.provider_id,
                case=Case.OBJECTION,
                facts=_("Objection #%(n)s on %(code)s was to be carried out by %(due)s.")
                % {"n": o.pk, "code": o.resource.code, "due": f"{o.step_deadline:%Y-%m-%d}"},
            )
        )
    cycles = {
        "daily": dt.timedelta(days=3),
        "weekly": dt.timedelta(days=15),
        "monthly": dt.timedelta(days=62),
        "quarterly": dt.timedelta(days=184),
        "yearly": dt.timedelta(days=731),
    }
    resources = (
        Resource.objects.filter(
            retired_at__isnull=True,
            published_version__update_cycle__in=list(cycles),
        )
        .annotate(
            last_load=Max(
                "channels__batches__finished_at",
                filter=Q(channels__batches__status=Batch.Status.SUCCEEDED),
            )
        )
        .select_related("published_version")
    )
    for res in resources[:2000]:
        v = res.published_version
        limit = cycles[v.update_cycle]
        since = res.last_load or v.published_at or res.created_at
        if since is None or since >= now - limit:
            continue
        # Once per resource and stale spell: the day of the last load names the spell.
        found.append(
            OrderSuggestion(
                signal=Signal.DATA_STALE,
                source_id=f"{res.pk}:{since:%Y%m%d}",
                agency_id=res.provider_id,
                case=Case.NOT_PROVIDED,
                facts=_("%(code)s %(name)s (updated %(cycle)s) was last updated on %(since)s.")
                % {
                    "code": res.code,
                    "name": v.name,
                    "cycle": v.get_update_cycle_display(),
                    "since": f"{since:%Y-%m-%d}",
                },
            )
        )
    # Art. 23: resources in the authorized-operation scope must be registered; one published
    # longer than the grace period without a current registration is a case (6) breach.
    unregistered = (
        Resource.objects.filter(
            retired_at__isnull=True,
            published_version__operation_eligible=True,
            published_version__published_at__lt=now - grace,
        )
        .exclude(registrations__state=Registration.State.REGISTERED)
        .select_related("published_version")
        .order_by("pk")
    )
    for res in unregistered[:2000]:
        found.append(
            OrderSuggestion(
                signal=Signal.UNREGISTERED,
                source_id=str(res.pk),
                agency_id=res.provider_id,
                case=Case.OTHER,
                facts=_(
                    "%(code)s %(name)s is in the authorized-operation scope but has no current "
                    "registration (Art. 23)."
                )
                % {"code": res.code, "name": res.published_version.name},
            )
        )
    return found


def suggestions_scan(*, now=None) -> int:
    """Beat: record a suggestion for each new signal (each signal and record once). The facts
    are written in the platform's language, whoever runs the scan."""
    from django.utils import translation

    now = now or timezone.now()
    with translation.override(settings.LANGUAGE_CODE):
        found = _signals(now)
    before = OrderSuggestion.objects.count()
    OrderSuggestion.objects.bulk_create(found, ignore_conflicts=True, batch_size=500)
    return OrderSuggestion.objects.count() - before


@observe_refusals("supervision.suggestion_confirm")
def suggestion_confirm(
    *, suggestion: OrderSuggestion, deadline_days: int, acting_user
) -> RectificationOrder:
    if not is_city_reviewer(acting_user):
        raise DomainError(_("Only reviewers of the city data bureau may do this."))
    with transaction.atomic():
        suggestion = OrderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.state != OrderSuggestion.State.OPEN:
            raise DomainError(_("This suggestion has been decided already."))
        order = order_issue(
            agency=suggestion.agency,
            case=suggestion.case,
            facts=suggestion.facts,
            deadline_days=deadline_days,
            acting_user=acting_user,
            suggestion=suggestion,
        )
        suggestion.state = OrderSuggestion.State.CONFIRMED
        suggestion.decided_by = acting_user
        suggestion.decided_at = timezone.now()
        audited_save(suggestion, acting_user=acting_user)
    return order


@observe_refusals("supervision.suggestion_dismiss")
def suggestion_dismiss(*, suggestion: OrderSuggestion, reason: str, acting_user) -> OrderSuggestion:
    if not is_city_reviewer(acting_user):
        raise DomainError(_("Only reviewers of the city data bureau may do this."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the suggestion is dismissed."), field="reason")
    with transaction.atomic():
        suggestion = OrderSuggestion.objects.select_for_update().get(pk=suggestion.pk)
        if suggestion.state != OrderSuggestion.State.OPEN:
            raise DomainError(_("This suggestion has been decided already."))
        suggestion.state = OrderSuggestion.State.DISMISSED
        suggestion.dismiss_reason = reason
        suggestion.decided_by = acting_user
        suggestion.decided_at = timezone.now()
        audited_save(suggestion, acting_user=acting_user)
    return suggestion
