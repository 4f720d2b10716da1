"""/healthz/ against real services: the database, a redis-server and a Celery worker."""

import json

import pytest
from django.test import Client, override_settings

from tests.services import RedisServer, celery_app_on, free_port

# The checks only read: the test's own transaction is enough, even with a worker running.
pytestmark = [pytest.mark.services, pytest.mark.django_db]


def test_healthz_reports_ok_when_database_redis_and_a_worker_answer(
    celery_worker, celery_app_on_spare_redis
):
    with override_settings(REDIS_URL=celery_app_on_spare_redis.url):
        response = Client().get("/healthz/")

    assert response.status_code == 200, response.content
    assert json.loads(response.content) == {"database": "ok", "redis": "ok", "celery": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_names_celery_when_no_worker_answers(services_log_dir):
    lonely = RedisServer(services_log_dir, name="redis-without-worker").start()
    try:
        with celery_app_on(lonely.url), override_settings(REDIS_URL=lonely.url):
            response = Client().get("/healthz/")
    finally:
        lonely.stop()

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["redis"] == "ok"
    assert body["celery"].startswith("error")


def test_healthz_names_redis_when_it_cannot_be_reached(celery_worker, celery_app_on_spare_redis):
    closed = f"redis://127.0.0.1:{free_port()}/0"
    with override_settings(REDIS_URL=closed):
        response = Client().get("/healthz/")

    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["database"] == "ok"
    assert body["redis"].startswith("error")
    assert body["celery"] == "ok"
