"""Fixtures of the aggregation tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.services import RedisServer, celery_env, database_url


@dataclass
class Broker:
    redis: RedisServer
    env: dict


@pytest.fixture
def own_broker(services_log_dir, django_db_setup):
    """A redis-server of the test's own, and the environment of Celery processes using it:
    the session's worker (tests/conftest.py) listens on the shared spare redis and would
    otherwise take this test's jobs (a test that kills its worker must own the only one)."""
    from django.db import connection

    server = RedisServer(services_log_dir, name="redis-own").start()
    try:
        env = celery_env(redis_url=server.url, database=database_url(connection.settings_dict))
        yield Broker(redis=server, env=env)
    finally:
        server.stop()
