"""The daily sweep of the registration procedure through a real Celery worker, as beat sends
it: an application past its acceptance deadline is flagged overdue, and a notice whose period
has ended is flagged for the code, each once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from registration.applications.models import Registration
from tests.services import wait_for

from .conftest import end_notice, make_setup

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_sweep_is_on_beats_schedule():
    assert settings.CELERY_BEAT_SCHEDULE["registration.daily"]["task"] == "registration.daily"


def test_the_worker_flags_overdue_acceptance_and_ended_notices(
    celery_worker, celery_app_on_spare_redis
):
    from wuhan_pdr.celery import app

    first = make_setup()
    late = first.move(first.draft(), "submit")
    Registration.objects.filter(pk=late.pk).update(accept_by=timezone.now() - dt.timedelta(hours=2))
    second = make_setup()
    ended = second.in_notice()
    end_notice(ended)

    app.send_task("registration.daily")

    def flagged():
        late.refresh_from_db()
        ended.refresh_from_db()
        return late.accept_overdue_at and ended.notice_end_noted_at

    try:
        wait_for(flagged, timeout=60, interval=0.3, what="the registration sweep")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert late.state == Registration.State.SUBMITTED  # flagged, not moved
    assert ended.state == Registration.State.NOTICE
