"""Reliable background work against real services: a redis-server, a Celery worker and
Celery beat started by the test run (see tests/services.py)."""

import pytest
from django.contrib.sessions.models import Session
from django.test import Client

from tests.accounts.factories import UserFactory
from tests.services import wait_for
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.services import user_deactivate
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_job_recorded_while_the_broker_is_down_is_done_once_it_is_back(
    spare_redis, celery_worker, celery_beat, celery_app_on_spare_redis, system_admin, agency_a
):
    target = UserFactory(organization=agency_a, roles=[Role.AGENCY_STAFF])
    browser = Client()
    browser.force_login(target)
    session_key = browser.session.session_key
    assert Session.objects.filter(session_key=session_key).exists()

    spare_redis.stop()
    try:
        user_deactivate(user=target, acting_user=system_admin, reason="left the agency")

        job = BackgroundJob.objects.get(task_name="accounts.end_user_sessions")
        assert job.kwargs == {"user_id": target.pk}
        assert job.state == BackgroundJob.State.PENDING
        assert job.last_sent_at is None  # the broker was down: nothing was sent
        assert Session.objects.filter(session_key=session_key).exists()
    finally:
        spare_redis.start()

    def finished():
        job.refresh_from_db()
        return (
            job.state == BackgroundJob.State.DONE
            and not Session.objects.filter(session_key=session_key).exists()
        )

    try:
        wait_for(finished, timeout=60, interval=0.5, what="job done after the broker came back")
    except TimeoutError as exc:
        raise AssertionError(
            f"{exc}: job {job.state}, attempts {job.attempts}, error {job.last_error!r}\n"
            f"--- worker ---\n{celery_worker.log_tail()}\n--- beat ---\n{celery_beat.log_tail()}"
        ) from None
    assert job.attempts == 1
    assert job.last_sent_at is not None
    target.refresh_from_db()
    assert target.is_active is False


def test_job_sent_after_commit_is_run_by_the_worker(
    celery_worker, celery_app_on_spare_redis, system_admin, agency_a
):
    target = UserFactory(organization=agency_a, roles=[Role.AGENCY_STAFF])
    browser = Client()
    browser.force_login(target)
    session_key = browser.session.session_key

    user_deactivate(user=target, acting_user=system_admin)

    job = BackgroundJob.objects.get(task_name="accounts.end_user_sessions")
    assert job.last_sent_at is not None  # sent as soon as the deactivation committed

    def finished():
        job.refresh_from_db()
        return job.state == BackgroundJob.State.DONE

    try:
        wait_for(finished, timeout=30, interval=0.3, what="job done by the worker")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert not Session.objects.filter(session_key=session_key).exists()
    assert job.attempts == 1
