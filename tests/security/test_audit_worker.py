"""The audit log's background work through a real Celery worker: the verification the
auditor asks for, and the nightly prune that beat schedules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from security.audit import record
from security.audit.models import AuditEvent
from security.audit.services import audit_verify_request
from tests.accounts.factories import UserFactory
from tests.services import wait_for
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.ledger.models import LedgerLeaf

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_prune_is_on_beats_schedule():
    entry = settings.CELERY_BEAT_SCHEDULE["security.audit_prune"]
    assert entry["task"] == "security.audit_prune"


def test_the_verification_asked_for_on_the_page_is_run_by_the_worker(
    celery_worker, celery_app_on_spare_redis, bureau, staff_a
):
    auditor = UserFactory(organization=bureau, roles=[Role.AUDITOR])
    record("auth.login", actor=staff_a)
    audit_verify_request(acting_user=auditor)

    def verified():
        return AuditEvent.objects.filter(action="audit.verified").first()

    try:
        wait_for(verified, timeout=60, interval=0.3, what="the verification job")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert verified().outcome == "success", verified().details


def test_the_prune_task_run_by_the_worker_keeps_the_leaves(
    celery_worker, celery_app_on_spare_redis, staff_a
):
    from wuhan_pdr.celery import app

    old = record("auth.login", actor=staff_a)
    kept = record("auth.logout", actor=staff_a)
    AuditEvent.objects.filter(pk=old.pk).update(
        occurred_at=timezone.now() - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    )
    app.send_task("security.audit_prune")
    try:
        wait_for(
            lambda: not AuditEvent.objects.filter(pk=old.pk).exists(),
            timeout=60,
            interval=0.3,
            what="the prune",
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert AuditEvent.objects.filter(pk=kept.pk).exists()
    assert LedgerLeaf.objects.filter(pk__in=[old.leaf_id, kept.leaf_id]).count() == 2
