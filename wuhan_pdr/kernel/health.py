"""Checks behind /healthz/: the database, Redis and at least one Celery worker answer."""

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
    from wuhan_pdr.celery import app

    replies = app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no worker answered")
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
