"""The least-privilege database roles (security/dbroles.py): names, memberships, and what each
role is refused, proved with SET LOCAL ROLE inside the test's transaction."""

from __future__ import annotations

import psycopg
import pytest
from django.core.management import call_command
from django.db import ProgrammingError, connection

from security.dbroles import KINDS, acting_as, role_name, role_prefix, roles_ensure

pytestmark = pytest.mark.django_db

PERMISSION_DENIED = r"permission denied|must be owner"


def _one(sql: str, params=None):
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()[0]


def _run(sql: str) -> None:
    with connection.cursor() as cur:
        cur.execute(sql)


def _login(kind: str) -> psycopg.Connection:
    """A connection to the test database logged in as the role of `kind` itself (trust
    authentication on this machine)."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    params.pop("password", None)
    params["user"] = role_name(kind)
    return psycopg.connect(**params, autocommit=True)


def _refused(kind: str, sql: str) -> None:
    """`sql` run as the role of `kind` is refused for want of a privilege."""
    with pytest.raises(ProgrammingError, match=PERMISSION_DENIED), acting_as(kind):
        _run(sql)


# --- names ----------------------------------------------------------------------------------


def test_role_names_carry_the_database_name():
    database = connection.settings_dict["NAME"]
    assert database.startswith("test_")
    assert role_name("web") == f"{database}_web"
    assert {role_name(k) for k in KINDS} == {f"{database}_{k}" for k in KINDS}
    with pytest.raises(ValueError):
        role_name("superuser")


def test_role_names_are_sanitized_and_short_and_do_not_collide():
    long_a = "wuhan_pdr_" + "x" * 80 + "_a"
    long_b = "wuhan_pdr_" + "x" * 80 + "_b"
    names = {role_name(k, database=d) for k in KINDS for d in (long_a, long_b)}
    assert len(names) == 2 * len(KINDS)
    assert all(len(n) <= 63 for n in names)
    odd = role_prefix('Pdr-"Prod" db')
    assert odd.replace("_", "").isalnum() and odd == odd.lower()
    assert role_prefix("pdr-a") != role_prefix("pdr_a")
    assert role_prefix("Pdr") != role_prefix("pdr")
    assert role_prefix("pdr_a") == "pdr_a"


# --- the roles and their memberships ----------------------------------------------------------


def test_the_five_roles_exist_with_least_attributes():
    with connection.cursor() as cur:
        cur.execute(
            "SELECT rolname, rolcanlogin, rolinherit, rolsuper, rolcreatedb, rolcreaterole"
            " FROM pg_roles WHERE rolname = ANY(%s)",
            [[role_name(k) for k in KINDS]],
        )
        roles = {r[0]: r[1:] for r in cur.fetchall()}
    assert set(roles) == {role_name(k) for k in KINDS}
    assert roles[role_name("owner")] == (True, True, False, False, False)
    assert roles[role_name("web")] == (True, True, False, False, False)
    assert roles[role_name("worker")] == (True, False, False, False, False)  # NOINHERIT
    assert roles[role_name("zone_restricted")][0] is False  # nobody logs in as a zone
    assert roles[role_name("zone_sensitive")][0] is False
    assert _one(
        "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
    ) == role_name("owner")
    assert _one(
        "SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public'"
    ) == role_name("owner")


@pytest.mark.parametrize("zone", ["zone_restricted", "zone_sensitive"])
def test_the_worker_may_become_a_zone_role_but_does_not_inherit_it_and_the_web_may_not(zone):
    def has(member, privilege):
        return _one(
            "SELECT pg_has_role(%s, %s, %s)", [role_name(member), role_name(zone), privilege]
        )

    assert has("worker", "MEMBER") is True
    assert has("worker", "USAGE") is False  # must SET ROLE first
    assert has("web", "MEMBER") is False
    # SET ROLE is checked against the session's user: log in as each role to prove it.
    with _login("worker") as conn:
        conn.execute(f'SET ROLE "{role_name(zone)}"')
        assert conn.execute("SELECT current_user").fetchone()[0] == role_name(zone)
    with _login("web") as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(f'SET ROLE "{role_name(zone)}"')


def test_every_app_table_belongs_to_the_owner():
    strays = _one(
        """
        SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
           AND pg_get_userbyid(c.relowner) <> %s
        """,
        [role_name("owner")],
    )
    assert strays == 0


# --- acting_as --------------------------------------------------------------------------------


def test_acting_as_puts_the_previous_role_back_even_nested():
    session = _one("SELECT current_user")
    with acting_as("owner") as outer:
        assert outer == role_name("owner") == _one("SELECT current_user")
        with acting_as("worker"):
            assert _one("SELECT current_user") == role_name("worker")
        assert _one("SELECT current_user") == role_name("owner")
    assert _one("SELECT current_user") == session
    # A refusal inside rolls its savepoint back, and the SET with it.
    with pytest.raises(ProgrammingError), acting_as("web"):
        _run("CREATE TABLE public.nope (id int)")
    assert _one("SELECT current_user") == session


def test_acting_as_if_available_takes_the_role_only_where_the_current_role_may():
    with acting_as("owner", if_available=True) as name:
        assert name == role_name("owner") == _one("SELECT current_user")
        with acting_as("worker", if_available=True) as inner:  # the owner is a member
            assert inner == role_name("worker")
    with acting_as("web"), acting_as("worker", if_available=True) as name:
        assert name == role_name("web") == _one("SELECT current_user")
    # The web's own login may become no other role either.
    with _login("web") as conn:
        may = conn.execute(
            "SELECT pg_has_role(session_user, oid, 'MEMBER') FROM pg_roles WHERE rolname = %s",
            [role_name("worker")],
        ).fetchone()[0]
    assert may is False


# --- refusals of the web ------------------------------------------------------------------------


def test_the_web_reads_and_writes_app_tables_but_changes_no_structure():
    with acting_as("web"):
        assert _one("SELECT count(*) FROM accounts_division") > 0
        _run("UPDATE django_session SET expire_date = expire_date WHERE false")
    _refused("web", "CREATE TABLE public.web_made (id int)")
    _refused("web", "DROP TABLE accounts_division")
    _refused("web", "ALTER TABLE accounts_division ADD COLUMN x int")
    _refused("web", "TRUNCATE django_session")
    _refused("web", "CREATE SCHEMA web_schema")
    _refused("web", "CREATE TEMP TABLE web_temp (id int)")


def test_the_web_makes_no_datastore_table_and_drops_none():
    with acting_as("worker"):
        _run("CREATE TABLE datastore.roles_probe (id int)")
    with acting_as("web"):
        assert _one("SELECT count(*) FROM datastore.roles_probe") == 0
    _refused("web", "CREATE TABLE datastore.web_made (id int)")
    _refused("web", "DROP TABLE datastore.roles_probe")
    _refused("web", "ALTER TABLE datastore.roles_probe RENAME TO renamed")
    _refused("web", "INSERT INTO datastore.roles_probe VALUES (1)")


# --- the worker ---------------------------------------------------------------------------------


def test_the_worker_creates_swaps_and_drops_datastore_tables_but_not_app_tables():
    with acting_as("worker"):
        _run("CREATE TABLE datastore.roles_live (id int PRIMARY KEY, v text)")
        _run("INSERT INTO datastore.roles_live VALUES (1, 'a')")
        _run("CREATE TABLE datastore.roles_work (LIKE datastore.roles_live INCLUDING DEFAULTS)")
        _run("CREATE TEMP TABLE roles_tmp (LIKE datastore.roles_live) ON COMMIT DROP")
        _run("INSERT INTO datastore.roles_work SELECT * FROM datastore.roles_live")
        _run("DROP TABLE datastore.roles_live")
        _run("ALTER TABLE datastore.roles_work RENAME TO roles_live")
        assert _one("SELECT datastore.is_date('2025-01-31')") is True
        _run("UPDATE accounts_division SET name = name WHERE false")
    with acting_as("web"):  # the default privileges reach the swapped table
        assert _one("SELECT count(*) FROM datastore.roles_live") == 1
    _refused("worker", "CREATE TABLE public.worker_made (id int)")
    _refused("worker", "DROP TABLE accounts_division")
    _refused("worker", "CREATE SCHEMA worker_schema")


def test_tables_the_owner_creates_later_reach_web_and_worker():
    with acting_as("owner"):
        _run("CREATE TABLE public.roles_later (id bigserial PRIMARY KEY, v text)")
    for kind in ("web", "worker"):
        with acting_as(kind):
            _run("INSERT INTO public.roles_later (v) VALUES ('x')")
    assert _one("SELECT count(*) FROM public.roles_later") == 2


# --- idempotence ------------------------------------------------------------------------------


def test_roles_ensure_twice_changes_nothing_more():
    database = connection.settings_dict["NAME"]
    with connection.cursor() as cur:
        first = roles_ensure(cur, database=database)
        second = roles_ensure(cur, database=database)
    assert first["created"] == second["created"] == []
    assert second["adopted"] == 0


def test_functions_in_the_datastore_stay_the_workers_so_it_can_remake_them():
    """`make roles` must not hand the tables' generated read functions to the owner: the worker
    remakes them (a masking change, a rebuild) and only an owner may replace a function."""
    with acting_as("worker"):
        _run(
            "CREATE FUNCTION datastore.roles_probe_page() RETURNS integer "
            "LANGUAGE sql AS 'SELECT 1'"
        )
    database = connection.settings_dict["NAME"]
    with connection.cursor() as cur:
        roles_ensure(cur, database=database)
    owner = _one(
        "SELECT pg_get_userbyid(p.proowner) FROM pg_proc p JOIN pg_namespace n "
        "ON n.oid = p.pronamespace WHERE n.nspname = 'datastore' AND p.proname = 'roles_probe_page'"
    )
    assert owner == role_name("worker")
    with acting_as("worker"):
        _run(
            "CREATE OR REPLACE FUNCTION datastore.roles_probe_page() RETURNS integer "
            "LANGUAGE sql AS 'SELECT 2'"
        )
    assert _one("SELECT datastore.roles_probe_page()") == 2


def test_db_roles_command_over_the_admin_connection(capsys):
    database = connection.settings_dict["NAME"]
    call_command("db_roles", database=database)
    out = capsys.readouterr().out
    assert role_name("web") in out and "created: none" in out


# --- the datastore's DDL runs as the worker, never as the web ---------------------------------


def test_resource_tables_belong_to_the_worker_whoever_makes_them_and_the_web_makes_none():
    from aggregation import services
    from aggregation.datastore import datastore_ensure
    from aggregation.models import DatastoreTable
    from tests.aggregation.factories import make_channel
    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    setup = make_channel()
    # Activation (a web request) leaves the table to the first load, in the worker.
    assert not DatastoreTable.objects.filter(resource=setup.resource).exists()
    with pytest.raises(ProgrammingError, match=PERMISSION_DENIED), acting_as("web"):
        datastore_ensure(resource=setup.resource)
    assert not DatastoreTable.objects.filter(resource=setup.resource).exists()

    table = datastore_ensure(resource=setup.resource)  # the suite's superuser session
    owner = _one(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'datastore' AND tablename = %s",
        [table.table_name],
    )
    assert owner == role_name("worker")
    # Confirming destructive changes (a web request) queues the rebuild for the worker.
    DatastoreTable.objects.filter(pk=table.pk).update(
        pending_changes=[{"action": "drop", "column": "x", "item": "旧项"}]
    )
    job = services.datastore_confirm_changes(
        resource=setup.resource, confirm=True, acting_user=setup.agency.staff
    )
    assert job.task_name == "aggregation.datastore_rebuild"
    assert DatastoreTable.objects.get(pk=table.pk).pending_changes != []


def test_an_unknown_database_role_stops_the_settings():
    import subprocess

    from tests.services import VENV_BIN, celery_env, database_url

    env = celery_env(
        redis_url="redis://127.0.0.1:1/0",
        database=database_url(connection.settings_dict),
        database_role="superuser",
    )
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-c", "import django; django.setup()"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "DATABASE_ROLE 'superuser': one of owner, web, worker" in done.stderr


def test_the_rebuild_job_runs_as_the_worker_and_tells_the_user():
    from aggregation import services
    from aggregation.datastore import datastore_ensure
    from aggregation.models import DatastoreTable
    from tests.aggregation.factories import make_channel
    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    setup = make_channel()
    table = datastore_ensure(resource=setup.resource)
    DatastoreTable.objects.filter(pk=table.pk).update(
        pending_changes=[{"action": "drop", "column": "x", "item": "旧项"}]
    )
    staff = setup.agency.staff
    before = staff.notifications.count()
    with acting_as("worker"):  # as the worker process runs it
        rebuilt = services.datastore_rebuild(resource_id=setup.resource.pk, user_id=staff.pk)
    assert rebuilt.generation == table.generation + 1 and rebuilt.pending_changes == []
    assert rebuilt.table_name != table.table_name
    owner = _one(
        "SELECT tableowner FROM pg_tables WHERE schemaname = 'datastore' AND tablename = %s",
        [rebuilt.table_name],
    )
    assert owner == role_name("worker")
    assert staff.notifications.count() == before + 1
