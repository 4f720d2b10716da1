"""Checks behind /healthz/: the database, Redis and a Celery worker for every queue answer."""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def check_database() -> str:
    with connection.cursor() as cur:
        cur.execute("SELECT 1")
        cur.fetchone()
    return "ok"


def check_redis() -> str:
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    finally:
        client.close()
    return "ok"


def check_celery() -> str:
    """At least one worker answers, and every queue (settings.CELERY_QUEUE_NAMES) has a worker
    consuming it: a portal whose `long` worker is down would queue loads forever.

    Only this deployment's workers are counted: the control command travels on the broker's
    fanout channel under this deployment's key prefix (settings.REDIS_KEY_PREFIX, kombu's
    global_keyprefix), which a worker of another deployment on the same Redis never hears
    (tests/kernel/test_deployments.py)."""
    from wuhan_pdr.celery import app

    replies = app.control.inspect(timeout=1.0).active_queues() or {}
    if not replies:
        raise RuntimeError("no worker answered")
    consumed = {queue["name"] for queues in replies.values() for queue in queues or ()}
    missing = [name for name in settings.CELERY_QUEUE_NAMES if name not in consumed]
    if missing:
        raise RuntimeError(f"no worker consumes the queue(s): {', '.join(missing)}")
    return "ok"


CHECKS = {"database": check_database, "redis": check_redis, "celery": check_celery}


def run_checks() -> tuple[bool, dict[str, str]]:
    result, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            result[name] = check()
        except Exception as exc:  # a health check reports every failure, whatever its kind
            healthy = False
            result[name] = f"error: {type(exc).__name__}: {exc}"[:300]
    return healthy, result
