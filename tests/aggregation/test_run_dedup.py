"""One run at a time per pull or extraction channel (issue 11, job floods): five clicks on
立即运行 make one batch; two requests at the same instant, in two real PostgreSQL
transactions, make one batch; beat does not pile scheduled runs behind a slow one."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from aggregation import services
from aggregation.models import Batch, Channel, ChannelKind
from tests.aggregation.factories import assess_channel, make_channel
from tests.services import database_url, wait_for
from wuhan_pdr.kernel.errors import DomainError


@pytest.fixture(autouse=True)
def _loopback(settings):
    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = True


def pull_channel(**fields):
    setup = make_channel(
        kind=ChannelKind.API_PULL,
        activate=False,
        config={"url": "http://127.0.0.1:9/people", "records_path": "data"},
        **fields,
    )
    staff = setup.agency.staff
    assess_channel(setup.channel)
    setup.channel = services.channel_activate(channel=setup.channel, acting_user=staff)
    return setup


@pytest.mark.django_db
def test_five_clicks_on_run_now_make_one_batch_and_name_it():
    setup = pull_channel()
    browser = Client()
    browser.force_login(setup.agency.staff)
    url = reverse("aggregation:channel-detail", args=[setup.channel.pk])

    first = browser.post(url, {"action": "run"})
    assert first.status_code == 302
    batch = Batch.objects.get(channel=setup.channel)
    for _click in range(4):
        again = browser.post(url, {"action": "run"})
        assert again.status_code == 200  # the page again, with the refusal on the run form
        errors = again.context["forms"]["run"].non_field_errors()
        assert len(errors) == 1 and str(batch.pk)[:8] in errors[0], errors
    assert Batch.objects.filter(channel=setup.channel).count() == 1


@pytest.mark.django_db
def test_a_running_batch_refuses_a_run_and_a_finished_one_does_not():
    setup = pull_channel()
    staff = setup.agency.staff
    batch = services.batch_start(channel=setup.channel, acting_user=staff)
    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.RUNNING)
    with pytest.raises(DomainError) as refused:
        services.batch_start(channel=setup.channel, acting_user=staff)
    assert refused.value.code == "busy" and str(batch.pk)[:8] in str(refused.value)

    Batch.objects.filter(pk=batch.pk).update(status=Batch.Status.FAILED)
    second = services.batch_start(channel=setup.channel, acting_user=staff)
    # A failed batch may not be retried while the new run waits.
    with pytest.raises(DomainError) as retry_refused:
        services.batch_retry(batch=Batch.objects.get(pk=batch.pk), acting_user=staff)
    assert str(second.pk)[:8] in str(retry_refused.value)
    assert Batch.objects.filter(channel=setup.channel).count() == 2


@pytest.mark.django_db
def test_beat_skips_a_due_channel_whose_last_run_has_not_ended_and_moves_it_on():
    setup = pull_channel(schedule="hourly")
    services.batch_start(channel=setup.channel, acting_user=setup.agency.staff)
    Channel.objects.filter(pk=setup.channel.pk).update(
        next_run_at=timezone.now() - dt.timedelta(minutes=1)
    )
    assert services.schedule_due_channels() == 0
    assert Batch.objects.filter(channel=setup.channel).count() == 1
    setup.channel.refresh_from_db()
    assert setup.channel.next_run_at > timezone.now()  # the next turn, not every minute


@pytest.mark.django_db(transaction=True)
def test_two_requests_at_the_same_instant_make_one_batch():
    """Two threads, each in its own PostgreSQL transaction, start a run of the same channel
    at once. A third connection holds the channel's row until both wait on it, then lets go:
    without the lock and the check both would commit a batch."""
    setup = pull_channel()
    staff = setup.agency.staff
    results: list = []

    def start():
        try:
            results.append(services.batch_start(channel=setup.channel, acting_user=staff))
        except DomainError as exc:
            results.append(exc)
        finally:
            connection.close()

    url = database_url(connection.settings_dict)
    with psycopg.connect(url) as holder:
        holder.execute(
            "SELECT id FROM aggregation_channel WHERE id = %s FOR UPDATE", [setup.channel.pk]
        )
        threads = [threading.Thread(target=start) for _ in range(2)]
        for t in threads:
            t.start()

        def both_waiting():
            with psycopg.connect(url, autocommit=True) as probe:
                return (
                    probe.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        " AND wait_event_type = 'Lock'"
                    ).fetchone()[0]
                    >= 2
                )

        try:
            wait_for(both_waiting, timeout=30, what="both requests waiting on the channel")
        finally:
            holder.commit()
        for t in threads:
            t.join(timeout=30)

    batches = [r for r in results if isinstance(r, Batch)]
    refusals = [r for r in results if isinstance(r, DomainError)]
    assert len(batches) == 1 and len(refusals) == 1, results
    assert refusals[0].code == "busy"
    assert str(batches[0].pk)[:8] in str(refusals[0])
    assert Batch.objects.filter(channel=setup.channel).count() == 1
