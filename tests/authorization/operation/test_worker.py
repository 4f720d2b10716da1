"""Expiry and reminders through a real Celery worker (beat's "operation.daily"): an
authorization past its end expires with its grants; one ending within
OPERATION_EXPIRY_REMINDER_DAYS is announced once to the operator and the bureau; the yearly
disclosure report is announced before its due day and flagged overdue after it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from authorization.operation.models import OperationAuthorization, YearlyDisclosure
from authorization.sharing.models import Grant
from tests.services import wait_for
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import today

from .conftest import apply, approve

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
S = OperationAuthorization.State


def test_the_daily_job_is_on_beats_schedule():
    assert settings.CELERY_BEAT_SCHEDULE["operation.daily"]["task"] == "operation.daily"
    assert settings.OPERATION_EXPIRY_REMINDER_DAYS == 30


def _wait(predicate, what, worker):
    try:
        wait_for(predicate, timeout=60, interval=0.3, what=what)
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{worker.log_tail()}") from None


def test_the_worker_expires_and_reminds(
    celery_worker, celery_app_on_spare_redis, resource, bureau, operator
):
    from wuhan_pdr.celery import app

    ended = approve(apply(operator, [resource], scope="已到期的授权。"), bureau.reviewer)
    soon = approve(apply(operator, [resource], scope="即将到期的授权。"), bureau.reviewer)
    later = approve(apply(operator, [resource], scope="尚早的授权。"), bureau.reviewer)
    # Their time limits as if they had been granted long ago.
    OperationAuthorization.objects.filter(pk=ended.pk).update(
        starts_on=today() - dt.timedelta(days=400), ends_on=today() - dt.timedelta(days=1)
    )
    OperationAuthorization.objects.filter(pk=soon.pk).update(
        ends_on=today() + dt.timedelta(days=10)
    )
    (grant,) = ended.grants.all()
    url = f"/operation/authorizations/{soon.pk}/"
    before = {
        u.pk: Notification.objects.filter(recipient=u, url=url).count()
        for u in (operator, bureau.reviewer)
    }
    app.send_task("operation.daily")
    _wait(
        lambda: (
            OperationAuthorization.objects.filter(pk=ended.pk, state=S.EXPIRED).exists()
            and OperationAuthorization.objects.filter(
                pk=soon.pk, reminded_at__isnull=False
            ).exists()
        ),
        "expiry and reminder",
        celery_worker,
    )
    grant.refresh_from_db()
    assert grant.state == Grant.State.EXPIRED
    ended.refresh_from_db()
    assert ended.ended_at is not None
    later.refresh_from_db()
    assert later.state == S.ACTIVE and later.reminded_at is None
    for user in (operator, bureau.reviewer):  # told once that it ends soon
        assert Notification.objects.filter(recipient=user, url=url).count() == before[user.pk] + 1
    # Run again: nothing is announced twice.
    app.send_task("operation.daily")
    due = dt.date(today().year + 1, 3, 31)
    # The report on this year: announced in March, flagged overdue in April.
    app.send_task("operation.daily", kwargs={"today": (due - dt.timedelta(days=5)).isoformat()})
    _wait(
        lambda: YearlyDisclosure.objects.filter(
            operator=operator.organization, year=today().year, reminded_at__isnull=False
        ).exists(),
        "the disclosure reminder",
        celery_worker,
    )
    app.send_task("operation.daily", kwargs={"today": (due + dt.timedelta(days=1)).isoformat()})
    _wait(
        lambda: YearlyDisclosure.objects.filter(
            operator=operator.organization, year=today().year, overdue_flagged_at__isnull=False
        ).exists(),
        "the overdue flag",
        celery_worker,
    )
    report = YearlyDisclosure.objects.get(operator=operator.organization, year=today().year)
    assert report.is_overdue and report.due_on == due
    # However often the job ran, the reminder was sent once (in the worker's language).
    with translation.override(settings.LANGUAGE_CODE):
        title = gettext("Operation authorization #%(pk)d ends soon") % {"pk": soon.pk}
    assert Notification.objects.filter(recipient=operator, url=url, title=title).count() == 1
    assert Notification.objects.filter(
        recipient=bureau.reviewer, url=f"/operation/disclosures/{report.pk}/"
    ).exists()
