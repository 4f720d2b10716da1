"""Writes of the sandbox (Art. 27). Each service takes `acting_user`, checks rights and state
(through the workflow's guards), runs in one transaction and records history and a workflow
event naming the actor; the other party is told in the in-site inbox.

Sessions: `session_submit` (the requester), `session_approve` / `session_refuse` (the
provider's data officer, within `SANDBOX_DAYS_PROVIDER_REPLY` working days), `session_withdraw`
(either). Queries: `query_run` (engine.py), inside an approved, current session."""

from __future__ import annotations

import datetime as dt
import math

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Resource
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import deadline_after

from . import selectors
from .models import SandboxSession
from .permissions import can_request
from .workflows import session_workflow

S = SandboxSession.State
MAX_TEXT = 4000
MAX_RESOURCES = 5


def min_group_size() -> int:
    return int(getattr(settings, "SANDBOX_MIN_GROUP_SIZE", 10))


def default_epsilon_total() -> float:
    return float(getattr(settings, "SANDBOX_EPSILON_TOTAL", 5.0))


def query_epsilon() -> float:
    return float(getattr(settings, "SANDBOX_QUERY_EPSILON", 0.5))


def _clean_text(value: str, *, field: str, limit: int = MAX_TEXT) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(_("This field is required."), field=field)
    if "\x00" in value:
        raise DomainError(_("Null characters are not allowed."), field=field)
    if len(value) > limit:
        raise DomainError(_("At most %(n)d characters.") % {"n": limit}, field=field)
    return value


def session_title(session: SandboxSession) -> str:
    return _("Sandbox session #%(pk)s") % {"pk": session.pk}


def _url(session: SandboxSession) -> str:
    return reverse("sandbox:detail", kwargs={"pk": session.pk})


def provider_officers(session: SandboxSession):
    return User.objects.filter(
        is_active=True, organization_id=session.provider_id, groups__name=Role.AGENCY_ADMIN
    ).distinct()


def _locked(session: SandboxSession) -> SandboxSession:
    return SandboxSession.objects.select_for_update(of=("self",)).get(pk=session.pk)


def session_submit(
    *,
    resources: list[Resource],
    purpose: str,
    valid_from: dt.date,
    valid_until: dt.date,
    acting_user: User,
) -> SandboxSession:
    """Ask for a sandbox session on resources of one provider, for a purpose and a validity
    window; the provider's data officers are told and have
    `SANDBOX_DAYS_PROVIDER_REPLY` working days to reply."""
    if not can_request(acting_user):
        raise AccessDenied(_("Only staff of a government body may ask for a sandbox session."))
    purpose = _clean_text(purpose, field="purpose")
    resources = list(dict.fromkeys(resources))
    if not resources:
        raise DomainError(_("Choose at least one resource."), field="resources")
    if len(resources) > MAX_RESOURCES:
        raise DomainError(
            _("At most %(n)d resources per session.") % {"n": MAX_RESOURCES}, field="resources"
        )
    allowed = set(
        selectors.requestable_resources(acting_user)
        .filter(pk__in=[r.pk for r in resources])
        .values_list("pk", flat=True)
    )
    if any(r.pk not in allowed for r in resources):
        raise DomainError(
            _("Only published resources of another body with data on the platform can be used."),
            field="resources",
        )
    providers = {r.provider_id for r in resources}
    if len(providers) != 1:
        raise DomainError(
            _("The resources of one session must come from one provider."), field="resources"
        )
    today = timezone.localdate()
    if valid_from is None or valid_from < today:
        raise DomainError(_("The window cannot start in the past."), field="valid_from")
    if valid_until is None or valid_until < valid_from:
        raise DomainError(_("The window must end on or after its start."), field="valid_until")
    longest = int(getattr(settings, "SANDBOX_MAX_DAYS", 180))
    if (valid_until - valid_from).days > longest:
        raise DomainError(
            _("A session lasts at most %(n)d days.") % {"n": longest}, field="valid_until"
        )
    with transaction.atomic():
        session = SandboxSession(
            requester=acting_user,
            organization_id=acting_user.organization_id,
            provider_id=providers.pop(),
            purpose=purpose,
            valid_from=valid_from,
            valid_until=valid_until,
            state="",
            step_deadline=deadline_after(int(settings.SANDBOX_DAYS_PROVIDER_REPLY)),
        )
        session_workflow.apply(session, "submit", acting_user=acting_user)
        session.resources.set(resources)
        notify(
            recipients=provider_officers(session),
            title=_("%(title)s: a sandbox session to review") % {"title": session_title(session)},
            body=_("Reply by %(date)s.")
            % {"date": timezone.localtime(session.step_deadline).date().isoformat()},
            url=_url(session),
        )
        return session


def _bounds_checked(session: SandboxSession, bounds: dict) -> dict:
    """{"<resource>:<column>": [lo, hi]} for numeric, unmasked items of the session only."""
    out = {}
    for resource in selectors.session_resources(session):
        numeric = {
            i.column: i for i in selectors.sandbox_items(resource) if i.numeric and not i.masked
        }
        for column, item in numeric.items():
            key = selectors.bounds_key(resource.pk, column)
            pair = bounds.get(key)
            if pair is None:
                continue
            lo, hi = pair
            if lo is None and hi is None:
                continue
            if lo is None or hi is None:
                raise DomainError(
                    _("Give both bounds of “%(item)s”, or neither.") % {"item": item.label},
                    field="bounds",
                )
            lo, hi = float(lo), float(hi)
            if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
                raise DomainError(
                    _("The lower bound of “%(item)s” must be below its upper bound.")
                    % {"item": item.label},
                    field="bounds",
                )
            out[key] = [lo, hi]
    return out


def session_approve(
    *,
    session: SandboxSession,
    epsilon_total: float,
    bounds: dict,
    comment: str = "",
    acting_user: User,
) -> SandboxSession:
    """The provider's data officer approves: the session's privacy budget and the clamping
    bounds of the numeric items sums and means may use."""
    if epsilon_total is None or not math.isfinite(epsilon_total) or not 0 < epsilon_total <= 100:
        raise DomainError(
            _("The privacy budget must be above 0 and at most 100."), field="epsilon_total"
        )
    with transaction.atomic():
        session = _locked(session)
        session_workflow.check(session, "approve", acting_user=acting_user)
        session.bounds = _bounds_checked(session, bounds or {})
        session.epsilon_total = float(epsilon_total)
        session.decision_reason = (comment or "").strip()[:MAX_TEXT]
        session.decided_by = acting_user
        session.decided_at = timezone.now()
        session.step_deadline = None
        session_workflow.apply(session, "approve", acting_user=acting_user, comment=comment or "")
        notify(
            recipients=[session.requester],
            title=_("%(title)s approved") % {"title": session_title(session)},
            body=_("Valid from %(start)s to %(end)s.")
            % {"start": session.valid_from.isoformat(), "end": session.valid_until.isoformat()},
            url=_url(session),
        )
        return session


def session_refuse(*, session: SandboxSession, reason: str, acting_user: User) -> SandboxSession:
    """The provider's data officer refuses, with reasons shown to the requester."""
    reason = _clean_text(reason, field="comment")
    with transaction.atomic():
        session = _locked(session)
        session.decision_reason = reason
        session.decided_by = acting_user
        session.decided_at = timezone.now()
        session.step_deadline = None
        session_workflow.apply(session, "refuse", acting_user=acting_user, comment=reason)
        notify(
            recipients=[session.requester],
            title=_("%(title)s refused") % {"title": session_title(session)},
            body=reason,
            url=_url(session),
        )
        return session


def session_withdraw(*, session: SandboxSession, reason: str, acting_user: User) -> SandboxSession:
    """End an approved session before its window ends (either party), with reasons."""
    reason = _clean_text(reason, field="comment")
    with transaction.atomic():
        session = _locked(session)
        session_workflow.apply(session, "withdraw", acting_user=acting_user, comment=reason)
        others = [session.requester] if acting_user.pk != session.requester_id else []
        others += list(provider_officers(session).exclude(pk=acting_user.pk))
        notify(
            recipients=others,
            title=_("%(title)s withdrawn") % {"title": session_title(session)},
            body=reason,
            url=_url(session),
        )
        return session


# --- the daily job (beat "sandbox.daily") ---------------------------------------------------


def sessions_flag_overdue(*, now: dt.datetime | None = None) -> int:
    """Flag, once, each session whose provider has not replied by its due time, and tell the
    provider's data officers and the requester (like share requests' overdue replies)."""
    now = now or timezone.now()
    flagged = 0
    due = SandboxSession.objects.filter(
        state=S.SUBMITTED, step_deadline__lt=now, overdue_flagged_at__isnull=True
    ).select_related("requester")
    for session in due:
        with transaction.atomic():
            if not SandboxSession.objects.filter(
                pk=session.pk, state=S.SUBMITTED, overdue_flagged_at__isnull=True
            ).update(overdue_flagged_at=now):
                continue
            flagged += 1
            notify(
                recipients=[*provider_officers(session), session.requester],
                title=_("%(title)s: the reply is overdue") % {"title": session_title(session)},
                body=_("The provider's reply was due by %(date)s.")
                % {"date": timezone.localtime(session.step_deadline).date().isoformat()},
                url=_url(session),
            )
    return flagged


def sessions_expire(*, today: dt.date | None = None) -> int:
    """Close each session whose validity window has ended: an approved one (no more queries;
    its released tables stay) and one never decided (nothing left to approve); the requester
    and, for an undecided one, the provider's data officers are told."""
    today = today or timezone.localdate()
    closed = 0
    for session in SandboxSession.objects.filter(
        state__in=[S.SUBMITTED, S.APPROVED], valid_until__lt=today
    ):
        with transaction.atomic():
            session = _locked(session)
            if session.state not in (S.SUBMITTED, S.APPROVED) or session.valid_until >= today:
                continue
            undecided = session.state == S.SUBMITTED
            session_workflow.apply(session, "expire", acting_user=None)
            closed += 1
            recipients = [session.requester]
            if undecided:
                recipients += list(provider_officers(session))
            notify(
                recipients=recipients,
                title=_("%(title)s: its window has ended") % {"title": session_title(session)},
                body=(
                    _("The window ended on %(date)s before the provider replied.")
                    if undecided
                    else _("The window ended on %(date)s; no more queries can be run.")
                )
                % {"date": session.valid_until.isoformat()},
                url=_url(session),
            )
    return closed


def sandbox_daily() -> dict[str, int]:
    """The daily job (beat "sandbox.daily")."""
    return {
        "overdue_sessions": sessions_flag_overdue(),
        "expired_sessions": sessions_expire(),
    }
