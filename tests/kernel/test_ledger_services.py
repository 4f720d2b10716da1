"""The ledger's integration through a real Celery worker on the queue `ledger`, sent by beat
from the platform's schedule."""

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings

from tests.services import CeleryBeat, CeleryWorker, celery_env, database_url, wait_for
from wuhan_pdr.celery import app
from wuhan_pdr.kernel.ledger import append
from wuhan_pdr.kernel.ledger import heads as heads_mod
from wuhan_pdr.kernel.ledger.tree import leaf_position
from wuhan_pdr.kernel.ledger.verify import verify_log
from wuhan_pdr.kernel.models import LedgerHead, LedgerLeaf

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_beat_schedule_sends_the_integration_to_its_own_queue():
    entry = settings.CELERY_BEAT_SCHEDULE["kernel.ledger_integrate"]
    assert entry["task"] == "kernel.ledger_integrate"
    assert entry["schedule"].total_seconds() == settings.LEDGER_INTEGRATE_SECONDS == 10
    assert app.amqp.router.route({}, "kernel.ledger_integrate")["queue"].name == "ledger"
    assert "ledger" in settings.CELERY_QUEUE_NAMES


def test_beat_and_a_ledger_worker_integrate_new_leaves_and_export_the_head(
    spare_redis, services_log_dir, tmp_path
):
    heads_dir = tmp_path / "heads"
    env = celery_env(
        redis_url=spare_redis.url,
        database=database_url(connection.settings_dict),
        extra={"LEDGER_INTEGRATE_SECONDS": "1", "TEST_LEDGER_HEADS_DIR": str(heads_dir)},
    )
    # The set-up's own audit records (role permissions synced at migrate) come first.
    audit_before = LedgerLeaf.objects.filter(log="audit").count()
    first = append("evidence", {"registration": 1})
    second = append("audit", {"action": "login"}, details={"ip": "10.1.2.3"})
    worker = CeleryWorker(services_log_dir, env, queues=("ledger",), name="worker-ledger")
    beat = CeleryBeat(tmp_path, env)
    try:
        worker.start()
        beat.start()
        try:
            wait_for(
                lambda: leaf_position(first) and leaf_position(second),
                timeout=60,
                what="the leaves integrated by the ledger worker",
            )
            wait_for(
                lambda: heads_dir.joinpath(f"{settings.DEPLOYMENT_NAME}-evidence.jsonl").exists(),
                timeout=30,
                what="the evidence head exported",
            )
        except TimeoutError as exc:
            raise AssertionError(
                f"{exc}\n--- worker ---\n{worker.log_tail()}\n--- beat ---\n{beat.log_tail()}"
            ) from None
    finally:
        beat.stop()
        worker.stop()
    assert leaf_position(first) == ("evidence", 0)
    assert leaf_position(second) == ("audit", audit_before)
    assert "Task kernel.ledger_integrate" in worker.log()
    with override_settings(LEDGER_HEADS_DIR=str(heads_dir)):
        exported = heads_mod.exported("evidence")
        assert [h.size for h in exported] == [1]
        assert exported[0].root_hash == bytes(LedgerHead.objects.get(log="evidence").root_hash)
        assert verify_log("evidence").ok and verify_log("audit").ok
