"""Writes of security assessments: record one, revoke a subject's pass when it changes, and
the daily job that sends reminders before a pass runs out and suspends subjects whose pass
has run out."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.notifications import notify
from wuhan_pdr.kernel.workdays import today as local_today

from .models import Assessment, ChecklistAnswer
from .permissions import can_assess
from .registry import AssessmentSubject, subject_kind

logger = logging.getLogger(__name__)
R = Assessment.Result


def _subject(kind: str) -> AssessmentSubject:
    subject = subject_kind(kind)
    if subject is None:
        raise DomainError(_("Unknown kind of assessment subject."))
    return subject


def security_admins():
    return get_user_model().objects.filter(groups__name=Role.SECURITY_ADMIN, is_active=True)


@transaction.atomic
def assessment_record(
    *,
    subject_kind: str,
    subject_id,
    assessed_on: dt.date,
    result: str,
    findings: str,
    answers: Iterable[tuple[str, str, str]],
    acting_user,
    conditions: str = "",
    valid_until: dt.date | None = None,
) -> Assessment:
    """Record the assessment of a subject; it becomes the subject's current one.

    `answers`: (question key, yes/no/na, note) for every question of the kind's checklist. A
    pass needs a validity end after the assessment date and no "no" answer without a note; a
    pass with conditions states them; a fail says why in the findings."""
    if not can_assess(acting_user):
        raise AccessDenied(_("Only a security administrator may record an assessment."))
    subject = _subject(subject_kind)
    obj = subject.resolve(str(subject_id))
    if obj is None:
        raise DomainError(_("The subject of this assessment no longer exists."))
    if result not in R.values:
        raise DomainError(_("Choose a result."), field="result")
    if assessed_on > local_today():
        raise DomainError(_("The assessment date cannot be in the future."), field="assessed_on")
    if not (findings or "").strip():
        raise DomainError(_("Write down the findings."), field="findings")
    given = {key: (answer, (note or "").strip()) for key, answer, note in answers}
    questions = subject.checklist
    missing = [q for q in questions if given.get(q.key, ("",))[0] not in ChecklistAnswer.Answer]
    if missing:
        raise DomainError(_("Answer every checklist question: %(q)s") % {"q": str(missing[0].text)})
    if result in Assessment.PASSING:
        if valid_until is None or valid_until <= assessed_on:
            raise DomainError(
                _("A pass needs a validity end after the assessment date."), field="valid_until"
            )
        unexplained = [q for q in questions if given[q.key] == ("no", "")]
        if unexplained:
            raise DomainError(
                _("A pass with a “No” answer needs a note saying how the risk is handled: %(q)s")
                % {"q": str(unexplained[0].text)}
            )
    else:
        valid_until = None
    if result == R.PASS_WITH_CONDITIONS and not (conditions or "").strip():
        raise DomainError(_("State the conditions of the pass."), field="conditions")
    kind, sid = subject_kind, str(subject_id)
    previous = list(
        Assessment.objects.select_for_update().filter(
            subject_kind=kind, subject_id=sid, is_current=True
        )
    )
    for old in previous:
        old.is_current = False
        audited_save(old, acting_user=acting_user, reason="superseded")
    assessment = audited_save(
        Assessment(
            subject_kind=kind,
            subject_id=sid,
            subject_title=subject.title(obj)[:300],
            assessor=acting_user,
            assessed_on=assessed_on,
            result=result,
            findings=findings.strip(),
            conditions=(conditions or "").strip() if result == R.PASS_WITH_CONDITIONS else "",
            valid_until=valid_until,
        ),
        acting_user=acting_user,
        reason="assessed",
    )
    for position, q in enumerate(questions):
        answer, note = given[q.key]
        audited_save(
            ChecklistAnswer(
                assessment=assessment,
                position=position,
                key=q.key,
                question=str(q.text)[:300],
                answer=answer,
                note=note[:1000],
            ),
            acting_user=acting_user,
            reason="assessed",
        )
    if assessment.passed:
        subject.on_passed(obj)
    title = _("Security assessment of “%(subject)s”: %(result)s") % {
        "subject": assessment.subject_title,
        "result": assessment.get_result_display(),
    }
    transaction.on_commit(
        lambda: notify(recipients=subject.recipients(obj), title=title, url=subject.url(obj))
    )
    return assessment


@transaction.atomic
def assessments_revoke(*, subject_kind: str, subject_id, reason: str, acting_user) -> int:
    """Withdraw the subject's valid pass because it changed (its owner calls this, e.g. when a
    channel's source settings change). Returns how many passes were revoked."""
    revoked = 0
    for a in Assessment.objects.select_for_update().filter(
        subject_kind=subject_kind,
        subject_id=str(subject_id),
        is_current=True,
        result__in=Assessment.PASSING,
        revoked_at__isnull=True,
    ):
        a.revoked_at = timezone.now()
        a.revoked_reason = reason[:200]
        audited_save(a, acting_user=acting_user, reason="revoked")
        revoked += 1
    return revoked


def _tell(assessment: Assessment, obj, subject: AssessmentSubject, title: str, body: str):
    url = subject.url(obj) if obj is not None else ""
    recipients = list(security_admins())
    if obj is not None:
        recipients += list(subject.recipients(obj))
    notify(recipients=recipients, title=title, body=body, url=url)


def assessments_remind(*, today: dt.date | None = None) -> int:
    """Tell the security administrators and the subject's people, once, that a pass ends
    within `ASSESSMENT_REMINDER_DAYS`. Returns how many reminders were sent."""
    day = today or local_today()
    horizon = day + dt.timedelta(days=settings.ASSESSMENT_REMINDER_DAYS)
    sent = 0
    ids = Assessment.objects.filter(
        is_current=True,
        result__in=Assessment.PASSING,
        revoked_at__isnull=True,
        reminded_at__isnull=True,
        valid_until__gte=day,
        valid_until__lte=horizon,
    ).values_list("pk", flat=True)
    for pk in list(ids):
        with transaction.atomic():
            a = Assessment.objects.select_for_update().filter(pk=pk, reminded_at__isnull=True)
            a = a.first()
            if a is None:
                continue
            subject = subject_kind(a.subject_kind)
            obj = subject.resolve(a.subject_id) if subject else None
            a.reminded_at = timezone.now()
            audited_save(a, acting_user=None, reason="reminder sent")
            if subject is not None:
                _tell(
                    a,
                    obj,
                    subject,
                    _("Security assessment of “%(subject)s” ends on %(day)s")
                    % {"subject": a.subject_title, "day": a.valid_until.isoformat()},
                    _("Assess it again before then, or it will be suspended."),
                )
            sent += 1
    return sent


def assessments_expire(*, today: dt.date | None = None) -> int:
    """Suspend, through its owner's hook, each subject whose pass ran out, and tell the
    security administrators and the subject's people. Each expiry is handled once; returns
    how many."""
    day = today or local_today()
    handled = 0
    ids = Assessment.objects.filter(
        is_current=True,
        result__in=Assessment.PASSING,
        revoked_at__isnull=True,
        expired_at__isnull=True,
        valid_until__lt=day,
    ).values_list("pk", flat=True)
    for pk in list(ids):
        with transaction.atomic():
            a = Assessment.objects.select_for_update().filter(pk=pk, expired_at__isnull=True)
            a = a.first()
            if a is None:
                continue
            subject = subject_kind(a.subject_kind)
            obj = subject.resolve(a.subject_id) if subject else None
            if obj is not None:
                subject.on_expired(obj)
            a.expired_at = timezone.now()
            audited_save(a, acting_user=None, reason="expired")
            if subject is not None:
                _tell(
                    a,
                    obj,
                    subject,
                    _("Security assessment of “%(subject)s” has expired")
                    % {"subject": a.subject_title},
                    _("It is suspended until a new assessment passes."),
                )
            handled += 1
    if handled:
        logger.info("assessments expired: %s", handled)
    return handled


def assessments_daily(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily job (beat "security.assessments_daily"): expiries first, then reminders."""
    return {
        "expired": assessments_expire(today=today),
        "reminded": assessments_remind(today=today),
    }
