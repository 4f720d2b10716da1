"""The daily sweep of pilots (beat "pilots.daily") through a real Celery worker: a call past
its deadline moves to review and its reviewers are told; a trial whose free period ends
soon reminds its organization once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from authorization.pilots import services
from authorization.pilots.models import PilotCall, PilotTrial
from tests.services import wait_for

from .conftest import propose, publish

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_sweep_is_on_beats_schedule():
    assert settings.CELERY_BEAT_SCHEDULE["pilots.daily"]["task"] == "pilots.daily"


def test_the_worker_closes_calls_past_their_deadline_and_reminds_trials(
    celery_worker, celery_app_on_spare_redis, world
):
    from wuhan_pdr.celery import app
    from wuhan_pdr.kernel.models import Notification

    due = publish(world, title="已截止的征集")
    propose(due, world.company)
    later = publish(world, title="仍开放的征集")
    PilotCall.objects.filter(pk=due.pk).update(deadline=timezone.now() - dt.timedelta(minutes=1))

    decided = publish(world, title="已遴选的征集")
    p = propose(decided, world.operator)
    services.call_move(call=decided, transition="close_submissions", acting_user=world.reviewer)
    services.proposal_score(
        proposal=p,
        scores={"value": 20, "feasibility": 20, "security": 20, "innovation": 20},
        comment="好",
        acting_user=world.reviewer,
    )
    trial = services.proposal_select(
        proposal=p,
        service="接口",
        price="0.10",
        unit="元/次",
        waived_until=timezone.localdate() + dt.timedelta(days=3),
        acting_user=world.reviewer,
    )

    app.send_task("pilots.daily")
    try:
        wait_for(
            lambda: (
                PilotCall.objects.filter(pk=due.pk, state=PilotCall.State.REVIEW).exists()
                and PilotTrial.objects.filter(pk=trial.pk, reminded_at__isnull=False).exists()
            ),
            timeout=60,
            interval=0.3,
            what="the pilots sweep",
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert PilotCall.objects.get(pk=later.pk).state == PilotCall.State.OPEN
    assert Notification.objects.filter(recipient=world.reviewer, title__contains="已截止的征集")
    assert Notification.objects.filter(recipient=world.operator, url__contains=str(p.pk))
    # Twice is the same as once.
    assert services.pilots_daily() == {"calls_closed": 0, "trials_reminded": 0}
