"""Two portals on one Redis (issue 12, item 4): a second deployment with another database
(`make run PORT=8047` with another DATABASE_URL) shares the Redis of the first. Each keeps
its keys under its own prefix (settings.DEPLOYMENT_NAME, defaulting to the database name):
its worker takes only its own jobs, its cache is its own, and its /healthz/ counts only its
own workers.

Deployment A is the test run's (its database, settings.DEPLOYMENT_NAME, this process's Celery
app and cache); deployment B has a database of its own and sets no DEPLOYMENT_NAME, so it
takes the default from its database name. Both run real workers on one redis-server of the
test's own."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator

import psycopg
import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from psycopg import sql

from tests.services import (
    VENV_BIN,
    CeleryWorker,
    RedisServer,
    celery_app_on,
    celery_env,
    database_url,
    wait_for,
)
from wuhan_pdr.celery import app

pytestmark = [pytest.mark.services, pytest.mark.django_db]

# Run as deployment B: its settings, its cache, its Celery app (on the shared redis).
B_SCRIPT = """
import json
import django

django.setup()
from django.conf import settings
from django.core.cache import cache
from wuhan_pdr.celery import app

cache.set("two-deployments", "B", 300)
sent = app.send_task("kernel.ping")
print(json.dumps({
    "deployment": getattr(settings, "DEPLOYMENT_NAME", None),
    "cache": cache.get("two-deployments"),
    "ping": sorted(app.control.inspect(timeout=2.0).ping() or {}),
    "task": sent.id,
}))
"""


@pytest.fixture
def shared_redis(services_log_dir) -> Iterator[RedisServer]:
    server = RedisServer(services_log_dir, name="redis-two-deployments").start()
    try:
        with celery_app_on(server.url):
            yield server
    finally:
        server.stop()


@pytest.fixture
def other_database() -> Iterator[dict]:
    """A second database on the same PostgreSQL server: deployment B's."""
    own = connection.settings_dict
    other = {**own, "NAME": f"{own['NAME']}_other"}
    params = {
        "dbname": "postgres",
        "host": own.get("HOST") or "127.0.0.1",
        "port": own.get("PORT") or 5432,
        "user": own.get("USER") or None,
        "password": own.get("PASSWORD") or None,
    }
    params = {k: v for k, v in params.items() if v is not None}
    name = sql.Identifier(other["NAME"])
    with psycopg.connect(**params, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    try:
        yield other
    finally:
        with psycopg.connect(**params, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))


def node(name: str) -> str:
    """A worker's node name without its host ("pytest-1-2@%h" -> "pytest-1-2")."""
    return name.split("@", 1)[0]


def test_two_deployments_on_one_redis_keep_their_jobs_cache_and_workers_apart(
    shared_redis, other_database, services_log_dir
):
    env_a = celery_env(redis_url=shared_redis.url, database=database_url(connection.settings_dict))
    env_b = celery_env(
        redis_url=shared_redis.url, database=database_url(other_database), deployment_name=None
    )
    # A runs only its `default` worker for now; B runs one worker on both queues.
    a_default = CeleryWorker(services_log_dir, env_a, queues=("default",), name="deploy-a-default")
    a_long = CeleryWorker(services_log_dir, env_a, queues=("long", "ledger"), name="deploy-a-long")
    b_all = CeleryWorker(services_log_dir, env_b, name="deploy-b-all")
    workers = [a_default, b_all]
    try:
        for worker in workers:
            worker.start()

        # A's health: B's worker consumes `long`, but it is not A's: A has no `long` worker.
        with override_settings(REDIS_URL=shared_redis.url):
            response = Client().get("/healthz/")
        body = json.loads(response.content)
        assert response.status_code == 503, body
        assert body["celery"].startswith("error") and "long" in body["celery"], body
        # Only A's worker answers A's ping.
        replies = app.control.inspect(timeout=2.0).ping() or {}
        assert {node(name) for name in replies} == {node(a_default.hostname)}, replies

        # Jobs sent by A are all run by A's worker; B's worker never receives one.
        sent = [app.send_task("kernel.ping").id for _ in range(8)]

        def all_handled():
            logs = a_default.log() + b_all.log()
            return all(task_id in logs for task_id in sent)

        # A timeout is no failure here: the assertions below say which went where.
        with contextlib.suppress(TimeoutError):
            wait_for(all_handled, timeout=30, what="A's jobs received by a worker")
        taken_by_b = [task_id for task_id in sent if task_id in b_all.log()]
        assert taken_by_b == [], f"B's worker took A's jobs:\n{b_all.log_tail()}"

        def all_done_by_a():
            log = a_default.log()
            return all(f"Task kernel.ping[{task_id}] succeeded" in log for task_id in sent)

        wait_for(all_done_by_a, timeout=30, what="A's jobs done by A's worker")

        # The cache: both deployments write one key; each reads its own value.
        a_cache = {"default": {**settings.CACHES["default"], "LOCATION": shared_redis.url}}
        with override_settings(CACHES=a_cache):
            cache.set("two-deployments", "A", 300)
            done = subprocess.run(
                [str(VENV_BIN / "python"), "-c", B_SCRIPT],
                env=env_b,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr
            seen_by_b = json.loads(done.stdout.strip().splitlines()[-1])
            assert cache.get("two-deployments") == "A"
        assert seen_by_b["cache"] == "B"
        # B is named after its database, and hears only its own worker; its job is B's.
        assert seen_by_b["deployment"] == other_database["NAME"]
        assert seen_by_b["ping"] and {node(name) for name in seen_by_b["ping"]} == {
            node(b_all.hostname)
        }, seen_by_b
        wait_for(
            lambda: f"Task kernel.ping[{seen_by_b['task']}] succeeded" in b_all.log(),
            timeout=30,
            what="B's job done by B's worker",
        )
        assert seen_by_b["task"] not in a_default.log()

        # Once A has its own `long` (and `ledger`) worker, A is healthy.
        workers.append(a_long)
        a_long.start()
        with override_settings(REDIS_URL=shared_redis.url):
            response = Client().get("/healthz/")
        assert response.status_code == 200, response.content

        # Every key on the shared Redis belongs to one deployment or the other.
        prefixes = (f"{settings.DEPLOYMENT_NAME}:", f"{other_database['NAME']}:")
        client = redis.Redis.from_url(shared_redis.url)
        try:
            keys = [key.decode() for key in client.keys("*")]
        finally:
            client.close()
        assert keys and [key for key in keys if not key.startswith(prefixes)] == [], keys
        assert any(key.startswith(prefixes[0]) for key in keys)
        assert any(key.startswith(prefixes[1]) for key in keys)
    finally:
        for worker in workers:
            worker.stop()


def test_the_deployment_name_defaults_to_the_database_and_must_be_a_plain_name(tmp_path):
    """The settings as a process of another deployment loads them."""
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEPLOYMENT_NAME, s.CELERY_BROKER_TRANSPORT_OPTIONS['global_keyprefix'], "
        "s.CACHES['default']['KEY_PREFIX'], s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, "
        "s.CELERY_BEAT_SCHEDULE_FILENAME.rsplit('/', 1)[-1])"
    )

    def load(**env) -> subprocess.CompletedProcess:
        full = celery_env(
            redis_url="redis://127.0.0.1:1/0",
            database="postgres://postgres@127.0.0.1:5432/pdr_port_8047",
            deployment_name=None,
            extra={"DJANGO_SETTINGS_MODULE": "wuhan_pdr.settings.local", **env},
        )
        return subprocess.run(
            [str(VENV_BIN / "python"), "-c", script],
            env=full,
            capture_output=True,
            text=True,
            timeout=60,
        )

    done = load()
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [
        "pdr_port_8047",
        "pdr_port_8047:",
        "pdr_port_8047:cache",
        "sessionid_pdr_port_8047",
        "csrftoken_pdr_port_8047",
        "celerybeat-schedule-pdr_port_8047",
    ]

    done = load(DEPLOYMENT_NAME="demo-b")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:3] == ["demo-b", "demo-b:", "demo-b:cache"]

    done = load(DEPLOYMENT_NAME="two words")
    assert done.returncode != 0
    assert "ImproperlyConfigured" in done.stderr and "DEPLOYMENT_NAME" in done.stderr
