"""Fixtures shared by every test package.

Base data: the rows that migrations put in the database (Wuhan's divisions, the role groups,
each app's data migrations). A transactional test (one that commits: with a real Celery worker
or a live server) ends with a flush that empties every table, and with --reuse-db the next
run would start without them. So the base data is serialized once per session, and put back
after every transactional test (see `pytest_runtest_teardown` below).
"""

from __future__ import annotations

import importlib

import pytest
from django.test import Client

from tests.accounts.factories import OrganizationFactory, UserFactory
from tests.services import (
    ALL_QUEUES,
    CeleryBeat,
    CeleryWorker,
    RedisServer,
    celery_app_on,
    celery_env,
    database_url,
)
from wuhan_pdr.accounts.roles import Role

# --- base data ----------------------------------------------------------------------------

_BASE_DATA: dict[str, str] = {}


def ensure_base_data() -> None:
    """Wuhan's divisions and the role groups, put back if a damaged database lacks them."""
    from django.apps import apps

    from wuhan_pdr.accounts.models import Division
    from wuhan_pdr.accounts.roles import sync_role_groups

    migration = importlib.import_module("wuhan_pdr.accounts.migrations.0002_wuhan_divisions")
    codes = [d[0] for d in migration.DIVISIONS]
    if Division.objects.filter(code__in=codes).count() != len(codes):
        migration.add_divisions(apps, None)
    sync_role_groups()


def reset_worker_ledger_heads() -> None:
    """Forget the tree heads the real Celery workers exported: they follow the database, which
    a transactional test empties (a worker keeps the settings' directory, not a test's own)."""
    import os
    import shutil
    from pathlib import Path

    from django.conf import settings

    default = Path(settings.BASE_DIR) / "var" / "test-ledger-heads"
    shutil.rmtree(os.environ.get("TEST_LEDGER_HEADS_DIR") or default, ignore_errors=True)


def restore_base_data() -> None:
    """Empty every table and load the base data as it was when the session started."""
    from django.core.management import call_command
    from django.db import connection

    reset_worker_ledger_heads()

    call_command(
        "flush", interactive=False, inhibit_post_migrate=True, reset_sequences=False, verbosity=0
    )
    connection.creation.deserialize_db_from_string(_BASE_DATA["snapshot"])
    reset_sequences()


def reset_sequences() -> None:
    """Move every id sequence past the largest id in its table."""
    from django.apps import apps
    from django.core.management.color import no_style
    from django.db import connection

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), apps.get_models()):
            cursor.execute(sql)


def test_database_name() -> str:
    from django.db import connection
    from django.db.backends.base.creation import TEST_DATABASE_PREFIX

    settings_dict = connection.settings_dict
    return settings_dict["TEST"].get("NAME") or TEST_DATABASE_PREFIX + settings_dict["NAME"]


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """Before the test database is made and migrated: its roles, so that migrations may name
    them (schemas of the storage zones). Server-wide, over the `postgres` database."""
    import psycopg
    from django.db import connection

    from security.dbroles import roles_create

    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    params["dbname"] = "postgres"
    with psycopg.connect(**params) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pdr.db_roles'))")
        roles_create(cursor, database=test_database_name())


def ensure_db_roles() -> None:
    """The least-privilege roles of the test database (`test_<db>_web`, ...), with their
    grants on the tables migrate has just made. The suite itself keeps connecting as the
    superuser; tests take a role with `security.dbroles.acting_as`, and the real Celery
    worker (tests/services.py) connects as the worker role."""
    from django.db import connection, transaction

    from security.dbroles import roles_ensure

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('pdr.db_roles'))")
        roles_ensure(cursor, database=connection.settings_dict["NAME"])


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    from django.db import connection

    reset_worker_ledger_heads()  # heads of an earlier run's database
    with django_db_blocker.unblock():
        ensure_base_data()
        ensure_db_roles()
        _BASE_DATA["snapshot"] = connection.creation.serialize_db_to_string()
        reset_sequences()  # an interrupted run may have left them behind the restored rows


def _is_transactional(item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and (
        marker.kwargs.get("transaction") or (marker.args and marker.args[0])
    ):
        return True
    return bool({"transactional_db", "live_server"} & set(getattr(item, "fixturenames", ())))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    result = yield
    # The flush of a transactional test has run by now: put the base data back.
    if "snapshot" in _BASE_DATA and _is_transactional(item):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            restore_base_data()
    return result


_LEDGER_HEADS = {"n": 0}


@pytest.fixture(autouse=True)
def _ledger_heads_dir(tmp_path_factory):
    """The ledger's exported heads go to a directory of each test's own: the database is reset
    between tests, files outside it are not (decision "ledger")."""
    from django.test import override_settings

    if "base" not in _LEDGER_HEADS:
        _LEDGER_HEADS["base"] = tmp_path_factory.mktemp("ledger-heads")
    _LEDGER_HEADS["n"] += 1
    with override_settings(LEDGER_HEADS_DIR=str(_LEDGER_HEADS["base"] / str(_LEDGER_HEADS["n"]))):
        yield


# --- organizations and people -------------------------------------------------------------


@pytest.fixture
def bureau(db):
    from wuhan_pdr.accounts.models import Organization

    return OrganizationFactory(name="武汉市数据局(测试)", kind=Organization.Kind.CITY_BUREAU)


@pytest.fixture
def agency_a(db):
    return OrganizationFactory(name="武汉市民政局(测试A)")


@pytest.fixture
def agency_b(db):
    return OrganizationFactory(name="武汉市教育局(测试B)")


@pytest.fixture
def system_admin(bureau):
    return UserFactory(username="sysadmin", organization=bureau, roles=[Role.SYSTEM_ADMIN])


@pytest.fixture
def admin_a(agency_a):
    return UserFactory(username="admin_a", organization=agency_a, roles=[Role.AGENCY_ADMIN])


@pytest.fixture
def staff_a(agency_a):
    return UserFactory(username="staff_a", organization=agency_a, roles=[Role.AGENCY_STAFF])


@pytest.fixture
def admin_b(agency_b):
    return UserFactory(username="admin_b", organization=agency_b, roles=[Role.AGENCY_ADMIN])


@pytest.fixture
def staff_b(agency_b):
    return UserFactory(username="staff_b", organization=agency_b, roles=[Role.AGENCY_STAFF])


def client_for(user) -> Client:
    """A test client with `user` signed in (a real session row, no password check)."""
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def login():
    """`login(user)` returns a client signed in as `user`."""
    return client_for


# --- real services (redis-server, Celery worker and beat as subprocesses) -------------------


@pytest.fixture(scope="session")
def services_log_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("services")


@pytest.fixture(scope="session")
def spare_redis(services_log_dir):
    """A redis-server of its own on a free port. A test may stop and start it again (same
    port) and must leave it running."""
    server = RedisServer(services_log_dir).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def services_env(spare_redis, django_db_setup, django_db_blocker):
    """Environment for Celery processes: the spare redis and the pytest test database."""
    from django.db import connection

    return celery_env(redis_url=spare_redis.url, database=database_url(connection.settings_dict))


@pytest.fixture(scope="session")
def celery_worker(services_env, services_log_dir):
    """A real Celery worker (solo pool, both queues) on the spare redis and the pytest test database,
    started once and stopped at the end of the session. It sees committed rows only, so
    tests that give it work use `@pytest.mark.django_db(transaction=True)`."""
    worker = CeleryWorker(services_log_dir, services_env, queues=ALL_QUEUES).start()
    try:
        yield worker
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def celery_beat(services_env, services_log_dir):
    """Celery beat sending the background-job sweep every two seconds (module scope: the
    sweep runs only while the tests that rely on it do)."""
    beat = CeleryBeat(services_log_dir, services_env).start()
    try:
        yield beat
    finally:
        beat.stop()


@pytest.fixture
def celery_app_on_spare_redis(spare_redis):
    """This process's Celery app (job_send, /healthz/) talks to the spare redis meanwhile."""
    with celery_app_on(spare_redis.url):
        yield spare_redis


@pytest.fixture(scope="session")
def naughty() -> list[str]:
    """The Big List of Naughty Strings (tests/naughty.py)."""
    from tests.naughty import naughty_strings

    return naughty_strings()
