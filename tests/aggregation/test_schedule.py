"""Scheduled pulls (Art. 16): beat starts the channels that are due, a planned downtime
window of the source system is skipped (Art. 10), and a load recorded while the broker is
down is not lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from aggregation import services
from aggregation.models import Batch, Channel, ChannelKind, DowntimeReport
from catalog.filing.models import InformationSystem
from tests.aggregation.factories import assess_channel, make_channel
from tests.aggregation.test_pull import Agency, paged, person
from tests.services import CeleryBeat, CeleryWorker, celery_app_on, wait_for


def _system(setup) -> InformationSystem:
    return InformationSystem.objects.create(
        organization=setup.agency.org,
        name="人员信息系统",
        purpose="人员信息管理。",
        database_kind="postgresql",
        contact_name="张伟",
        contact_phone="027-85550000",
        created_by=setup.agency.staff,
    )


def _pull_channel(url: str, *, with_system: bool = True):
    setup = make_channel(
        kind=ChannelKind.API_PULL,
        activate=False,
        config={"url": url, "records_path": "data.items", "page_size": 50},
        schedule="hourly",
    )
    staff = setup.agency.staff
    if with_system:
        services.channel_update(
            channel=setup.channel, information_system=_system(setup), acting_user=staff
        )
    assess_channel(setup.channel)
    setup.channel = services.channel_activate(channel=setup.channel, acting_user=staff)
    return setup


def _due(channel: Channel) -> None:
    Channel.objects.filter(pk=channel.pk).update(
        next_run_at=timezone.now() - dt.timedelta(minutes=1)
    )


@pytest.mark.django_db
def test_a_due_channel_inside_a_planned_window_is_skipped_and_rescheduled(settings):
    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = True
    setup = _pull_channel("http://127.0.0.1:9/none")
    now = timezone.now()
    window = services.downtime_report_create(
        information_system=setup.channel.information_system,
        kind=DowntimeReport.Kind.MAINTENANCE,
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=2),
        description="数据库例行维护",
        acting_user=setup.agency.staff,
    )
    del window
    _due(setup.channel)
    assert services.schedule_due_channels() == 1
    batch = Batch.objects.get(channel=setup.channel)
    assert batch.status == Batch.Status.SKIPPED and "数据库例行维护" in batch.error
    assert batch.job_id is None  # nothing was queued
    setup.channel.refresh_from_db()
    assert setup.channel.next_run_at > timezone.now()
    # Not due any more: a second beat tick starts nothing.
    assert services.schedule_due_channels() == 0


@pytest.mark.django_db
def test_an_unplanned_outage_does_not_stop_the_schedule(settings):
    setup = _pull_channel("http://127.0.0.1:9/none")
    now = timezone.now()
    services.downtime_report_create(
        information_system=setup.channel.information_system,
        kind=DowntimeReport.Kind.OUTAGE,
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=1),
        description="机房断电",
        acting_user=setup.agency.staff,
    )
    _due(setup.channel)
    assert services.schedule_due_channels() == 1
    assert Batch.objects.get(channel=setup.channel).status == Batch.Status.PENDING


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_beat_starts_a_due_pull_and_the_worker_loads_it_even_after_a_broker_outage(
    services_log_dir, own_broker
):
    agency = Agency()
    agency.respond = paged([person(i) for i in range(120)], 50)
    env = {
        **own_broker.env,
        "AGGREGATION_SCHEDULE_SECONDS": "1",
        "AGGREGATION_PULL_ALLOW_LOOPBACK": "true",
    }
    worker = beat = None
    try:
        setup = _pull_channel(agency.url, with_system=False)
        channel = setup.channel
        with celery_app_on(own_broker.redis.url):
            # The broker is down when beat's tick records the batch: the job waits in the
            # outbox and the sweep sends it once the broker is back.
            own_broker.redis.stop()
            try:
                _due(channel)
                assert services.schedule_due_channels() == 1
            finally:
                own_broker.redis.start()
            first = Batch.objects.get(channel=channel)
            assert first.status == Batch.Status.PENDING and first.job.last_sent_at is None

            worker = CeleryWorker(services_log_dir, env).start()
            beat = CeleryBeat(services_log_dir, env).start()

            def loaded():
                return Batch.objects.filter(channel=channel, status=Batch.Status.SUCCEEDED).count()

            # The outboxed batch is loaded, then beat itself starts the next due run.
            wait_for(lambda: loaded() >= 1, timeout=90, interval=0.5, what="the outboxed load")
            _due(channel)
            wait_for(lambda: loaded() >= 2, timeout=90, interval=0.5, what="beat's next run")
    finally:
        for process in (beat, worker):
            if process is not None:
                process.stop()
        agency.close()
    first.refresh_from_db()
    assert (first.rows_received, first.rows_inserted) == (120, 120)
    assert Batch.objects.filter(channel=channel, status=Batch.Status.FAILED).count() == 0
