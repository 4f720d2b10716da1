"""Database extraction against real databases on this machine: MariaDB (127.0.0.1:3306) and a
PostgreSQL server of the tests' own (initdb on a spare port, `tests.services.PostgresServer`;
database `pdr_extract_src`), as an agency's would be: tables and queries, full and incremental
runs by the update flag, the read-only session, timeouts, a source that is down, and the checks
of the settings. And the guard: the platform's own PostgreSQL server is refused however it is
reached (decided by its system identifier), connections go to the address the outbound policy
checked (wuhan_pdr/kernel/outbound.py), and that policy applies to extraction too."""

from __future__ import annotations

import secrets
import socket
from typing import NamedTuple

import psycopg
import pymysql
import pytest
from django.db import connection
from psycopg import sql

from aggregation import services
from aggregation.channels import clean_config
from aggregation.datastore import qualified
from aggregation.models import Batch, ChannelKind, DatastoreTable
from tests.aggregation.factories import make_channel
from tests.messages import message, message_parts, message_pattern
from tests.services import PostgresServer, free_port
from wuhan_pdr.kernel.errors import DomainError

pytestmark = pytest.mark.django_db

PG_SOURCE = "pdr_extract_src"
# The messages of aggregation/extract.py, compared as gettext builds them (the portal speaks zh-hans).
CANNOT_CONNECT = "Cannot connect to the source database %(where)s: %(error)s"
REFUSED = "The source database %(where)s refused the query: %(error)s"
TIMED_OUT = "The query on %(where)s ran longer than %(s)d seconds and was stopped."
ROWS = [
    ("P1", "张三", 30, "2025-03-01 08:00:00"),
    ("P2", "李四", 41, "2025-03-02 08:00:00"),
    ("P3", "王五", 52, "2025-03-04 08:00:00"),
    ("Q1", "赵六", 63, "2025-03-03 08:00:00"),
]


# --- the source databases -------------------------------------------------------------------


@pytest.fixture
def mariadb():
    name = f"pdr_extract_test_{secrets.token_hex(3)}"
    admin = pymysql.connect(host="127.0.0.1", port=3306, user="root", password="", autocommit=True)
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
        cur.execute(f"USE `{name}`")
        cur.execute(
            "CREATE TABLE people (code VARCHAR(20) PRIMARY KEY, name VARCHAR(10), age INT, "
            "updated_at DATETIME, extra VARCHAR(10))"
        )
        cur.executemany("INSERT INTO people VALUES (%s, %s, %s, %s, 'x')", [list(r) for r in ROWS])
    try:
        yield admin, name
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


@pytest.fixture(autouse=True)
def _guarded(settings):
    """As on a server, the platform's own database is no source; loopback is allowed (the
    source servers of these tests listen on 127.0.0.1)."""
    settings.AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB = False
    settings.AGGREGATION_EXTRACT_ALLOW_LOOPBACK = True
    settings.AGGREGATION_EXTRACT_ALLOWED_NETWORKS = []


@pytest.fixture(scope="module")
def pg_server(services_log_dir):
    """A second PostgreSQL server, not the platform's, with the source database."""
    server = PostgresServer(services_log_dir, name="postgres-extract-source").start()
    try:
        with psycopg.connect(server.conninfo(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(PG_SOURCE)))
        yield server
    finally:
        server.stop()


class PgSource(NamedTuple):
    conn: psycopg.Connection
    schema: str
    port: int


@pytest.fixture
def pgsource(pg_server):
    """A schema of this test's own in the source database, with the people table."""
    schema = f"agency_{secrets.token_hex(3)}"
    conn = psycopg.connect(pg_server.conninfo(PG_SOURCE), autocommit=True)
    conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    conn.execute(
        sql.SQL(
            "CREATE TABLE {}.people (code varchar(20) PRIMARY KEY, name varchar(10), age int, "
            "updated_at timestamp, extra text)"
        ).format(sql.Identifier(schema))
    )
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("INSERT INTO {}.people VALUES (%s, %s, %s, %s, 'x')").format(
                sql.Identifier(schema)
            ),
            ROWS,
        )
    try:
        yield PgSource(conn, schema, pg_server.port)
    finally:
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))
        conn.close()


def in_schema(query: str, schema: str) -> str:
    """A source query naming the test's own schema (generated, safe)."""
    return query.replace("{s}", schema)


def mysql_config(database: str, **extra) -> dict:
    return {
        "engine": "mysql",
        "host": "127.0.0.1",
        "port": 3306,
        "database": database,
        "user": "root",
        **extra,
    }


def pg_config(port: int, **extra) -> dict:
    return {
        "engine": "postgresql",
        "host": "127.0.0.1",
        "port": port,
        "database": PG_SOURCE,
        "user": "postgres",
        **extra,
    }


def extraction(config: dict, update_mode: str = "incremental"):
    return make_channel(
        kind=ChannelKind.DB_EXTRACT,
        update_mode=update_mode,
        config=config,
        column_mapping={"name": "full_name"},
    )


def run(setup, mode=None) -> Batch:
    batch = services.batch_start(channel=setup.channel, acting_user=setup.agency.staff, mode=mode)
    return services.batch_run(batch_id=batch.pk)


def table(setup) -> list[tuple]:
    name = DatastoreTable.objects.get(resource=setup.resource).table_name
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT code, full_name, age, updated_at::text FROM {} ORDER BY code").format(
                qualified(name)
            )
        )
        return cur.fetchall()


# --- MariaDB ------------------------------------------------------------------------------------


def test_mariadb_table_full_then_incremental_by_the_update_flag(mariadb):
    admin, name = mariadb
    setup = extraction(mysql_config(name, table="people"))

    first = run(setup)

    assert first.status == Batch.Status.SUCCEEDED, first.error
    assert first.mode == Batch.Mode.INCREMENTAL
    assert (first.rows_received, first.rows_inserted, first.rows_updated) == (4, 4, 0)
    assert table(setup)[0] == ("P1", "张三", 30, "2025-03-01 08:00:00")
    setup.channel.refresh_from_db()
    assert setup.channel.watermark == "2025-03-04 08:00:00"

    with admin.cursor() as cur:
        cur.execute(f"USE `{name}`")
        cur.execute(
            "UPDATE people SET name='张三丰', updated_at='2025-03-10 09:00:00' WHERE code='P1'"
        )
        cur.execute("INSERT INTO people VALUES ('P9', '新人', 20, '2025-03-10 09:00:00', 'y')")
        cur.execute("UPDATE people SET name='不该变' WHERE code='P2'")  # flag unchanged: not read
    second = run(setup)

    assert second.status == Batch.Status.SUCCEEDED, second.error
    # P3 (at the old watermark) is read again, unchanged: neither inserted nor updated.
    assert (second.rows_received, second.rows_inserted, second.rows_updated) == (3, 1, 1)
    assert (second.watermark_before, second.watermark_after) == (
        "2025-03-04 08:00:00",
        "2025-03-10 09:00:00",
    )
    loaded = {row[0]: row for row in table(setup)}
    assert len(loaded) == 5
    assert loaded["P1"][1] == "张三丰" and loaded["P2"][1] == "李四" and loaded["P9"][1] == "新人"

    nothing = run(setup)
    assert (nothing.rows_received, nothing.rows_inserted, nothing.rows_updated) == (2, 0, 0)


def test_mariadb_query_and_full_mode(mariadb):
    _admin, name = mariadb
    setup = extraction(
        mysql_config(
            name, query="SELECT code, name, age, updated_at FROM people WHERE code LIKE 'P%'"
        ),
        update_mode="full",
    )

    batch = run(setup)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.mode == Batch.Mode.FULL
    assert [r[0] for r in table(setup)] == ["P1", "P2", "P3"]


def test_mariadb_statement_timeout_stops_the_query(mariadb):
    _admin, name = mariadb
    setup = extraction(
        mysql_config(name, query="SELECT p.*, SLEEP(2) AS z FROM people p", timeout_seconds=1)
    )

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    assert batch.error == message(TIMED_OUT, where=f"127.0.0.1:3306/{name}", s=1), batch.error


def test_mariadb_session_is_read_only(mariadb):
    _admin, name = mariadb
    setup = extraction(mysql_config(name, query="SELECT * FROM people FOR UPDATE"))

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    refused = message_parts(batch.error, REFUSED, where=f"127.0.0.1:3306/{name}")
    assert "READ ONLY" in refused["error"], batch.error


def test_a_missing_table_is_named(mariadb):
    _admin, name = mariadb
    batch = run(extraction(mysql_config(name, table="no_such_table")))
    assert batch.status == Batch.Status.FAILED
    refused = message_parts(batch.error, REFUSED, where=f"127.0.0.1:3306/{name}")
    assert "no_such_table" in refused["error"], batch.error


# --- PostgreSQL -----------------------------------------------------------------------------------


def test_postgresql_schema_table_full_and_incremental(pgsource):
    conn, schema, port = pgsource
    setup = extraction(pg_config(port, table=f"{schema}.people"))

    first = run(setup)

    assert first.status == Batch.Status.SUCCEEDED, first.error
    assert (first.rows_received, first.rows_inserted) == (4, 4)
    assert table(setup)[1] == ("P2", "李四", 41, "2025-03-02 08:00:00")

    people = sql.SQL("{}.people").format(sql.Identifier(schema))
    conn.execute(
        sql.SQL(
            "UPDATE {} SET age = 99, updated_at = '2025-04-01 10:00:00' WHERE code = 'Q1'"
        ).format(people)
    )
    conn.execute(
        sql.SQL("INSERT INTO {} VALUES ('R1', '钱七', 7, '2025-04-01 10:00:00', 'z')").format(
            people
        )
    )
    second = run(setup)

    assert second.status == Batch.Status.SUCCEEDED, second.error
    assert (second.rows_received, second.rows_inserted, second.rows_updated) == (3, 1, 1)
    assert second.watermark_after == "2025-04-01 10:00:00"
    loaded = {row[0]: row for row in table(setup)}
    assert loaded["Q1"][2] == 99 and loaded["R1"][1] == "钱七" and len(loaded) == 5


def test_postgresql_query_with_percent_signs_and_many_rows_streams(pgsource):
    conn, schema, port = pgsource
    people = sql.SQL("{}.people").format(sql.Identifier(schema))
    conn.execute(
        sql.SQL(
            "INSERT INTO {} SELECT 'S' || g, '批量' || (g % 100), g % 120, "
            "timestamp '2025-01-01' + g * interval '1 minute', NULL "
            "FROM generate_series(1, 12000) g"
        ).format(people)
    )
    setup = extraction(
        pg_config(
            port,
            query=in_schema(
                "SELECT code, name, age, updated_at FROM {s}.people WHERE code LIKE 'S%'", schema
            ),
        ),
        update_mode="full",
    )

    batch = run(setup)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert (batch.rows_received, batch.rows_inserted) == (12000, 12000)
    assert len(table(setup)) == 12000


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ("WITH gone AS (DELETE FROM {s}.people RETURNING *) SELECT * FROM gone", "WITH"),
        ("SELECT p.*, nextval('{s}.counter') FROM {s}.people p", "read-only"),
    ],
)
def test_postgresql_session_refuses_a_query_that_writes(pgsource, query, words):
    conn, schema, port = pgsource
    conn.execute(sql.SQL("CREATE SEQUENCE {}.counter").format(sql.Identifier(schema)))
    setup = extraction(pg_config(port, query=in_schema(query, schema)))

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    refused = message_parts(batch.error, REFUSED, where=f"127.0.0.1:{port}/{PG_SOURCE}")
    assert words in refused["error"], batch.error
    count = conn.execute(
        sql.SQL("SELECT count(*) FROM {}.people").format(sql.Identifier(schema))
    ).fetchone()[0]
    assert count == 4


def test_postgresql_statement_timeout(pgsource):
    _conn, schema, port = pgsource
    setup = extraction(
        pg_config(
            port,
            query=in_schema("SELECT *, pg_sleep(3) FROM {s}.people", schema),
            timeout_seconds=1,
        )
    )

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    assert batch.error == message(TIMED_OUT, where=f"127.0.0.1:{port}/{PG_SOURCE}", s=1), (
        batch.error
    )


def test_a_source_without_the_required_columns_fails_clearly(pgsource):
    _conn, schema, port = pgsource
    setup = extraction(pg_config(port, query=in_schema("SELECT name FROM {s}.people", schema)))
    batch = run(setup)
    assert batch.status == Batch.Status.FAILED
    assert "code" in batch.error, batch.error


# --- a source that is down, and the settings ------------------------------------------------------


@pytest.mark.parametrize("engine", ["postgresql", "mysql"])
def test_a_source_that_is_down_fails_the_batch_and_keeps_the_rows(engine, pgsource):
    _conn, schema, port = pgsource
    setup = extraction(pg_config(port, table=f"{schema}.people"))
    assert run(setup).status == Batch.Status.SUCCEEDED
    before = table(setup)
    down = {"engine": engine, "port": free_port(), "timeout_seconds": 2}
    services.channel_update(
        channel=setup.channel,
        acting_user=setup.agency.staff,
        config={**setup.channel.config, **down},
    )
    from tests.aggregation.factories import assess_channel

    assess_channel(setup.channel)
    services.channel_activate(channel=setup.channel, acting_user=setup.agency.staff)

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    where = f"127.0.0.1:{down['port']}/{PG_SOURCE}"
    assert message_parts(batch.error, CANNOT_CONNECT, where=where)["error"], batch.error
    assert table(setup) == before


@pytest.mark.parametrize(
    "query",
    [
        "DELETE FROM people",
        "SELECT 1; DROP TABLE people",
        "UPDATE people SET age = 1",
        "INSERT INTO people SELECT * FROM people",
        "CALL wipe()",
    ],
)
def test_clean_config_refuses_anything_but_one_select(query):
    with pytest.raises(DomainError) as refused:
        clean_config(ChannelKind.DB_EXTRACT, pg_config(5432, query=query))
    assert refused.value.field == "query"


@pytest.mark.parametrize("name", ["people; drop", "a.b.c", "`x`", 'p"q', "1abc", ""])
def test_clean_config_refuses_bad_table_names(name):
    if not name:
        assert "table" not in clean_config(ChannelKind.DB_EXTRACT, pg_config(5432, table=name))
        return
    with pytest.raises(DomainError) as refused:
        clean_config(ChannelKind.DB_EXTRACT, pg_config(5432, table=name))
    assert refused.value.field == "table"


# --- the guard: which server answers, and the outbound address policy ---------------------------

# Reads which database answered: loaded into the datastore, its name would show the leak.
WHO = (
    "SELECT current_database() AS code, current_user::text AS name, 1 AS age, "
    "now()::timestamp AS updated_at"
)
OWN_SERVER = (
    "The source database %(where)s is on the PostgreSQL server the platform itself runs on; "
    "a channel reads the agency's database, never the platform's."
)
ADDRESS_REFUSED = (
    "The address %(host)s (%(address)s) is %(reason)s; the platform does not connect there."
)
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 (an address extraction must refuse)


def platform_db(settings) -> dict:
    db = settings.DATABASES["default"]
    return {
        "engine": "postgresql",
        "port": int(db.get("PORT") or 5432),
        "database": db["NAME"],
        "user": db.get("USER") or "postgres",
        "query": WHO,
    }


def who_read(setup) -> list[str]:
    return [row[0] for row in table(setup)]


def test_the_platforms_own_server_is_refused_however_it_is_reached(settings, pg_server):
    own = platform_db(settings)
    # The second server, an agency's, is read.
    agency = extraction(pg_config(pg_server.port, query=WHO), update_mode="full")
    batch = run(agency)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert who_read(agency) == [PG_SOURCE]

    for host, database in (
        ("::ffff:127.0.0.1", own["database"]),
        ("localhost", own["database"]),
        ("127.0.0.1", "postgres"),  # another database of the same server
        ("127.0.0.1", own["database"]),
    ):
        setup = extraction({**own, "host": host, "database": database}, update_mode="full")
        batch = run(setup)
        where = f"{host}:{own['port']}/{database}"
        assert batch.status == Batch.Status.FAILED, (host, database)
        assert batch.error == message(OWN_SERVER, where=where), batch.error
        assert who_read(setup) == []

    # 0.0.0.0 reaches this machine's servers too: the address policy refuses it first.
    setup = extraction({**own, "host": ANY_ADDRESS}, update_mode="full")
    batch = run(setup)
    where = f"{ANY_ADDRESS}:{own['port']}/{own['database']}"
    error = message_parts(batch.error, CANNOT_CONNECT, where=where)["error"]
    reason = message("an unspecified address")
    assert error == message(ADDRESS_REFUSED, host=ANY_ADDRESS, address=ANY_ADDRESS, reason=reason)
    assert who_read(setup) == []


def test_the_demo_may_read_the_platforms_own_database_where_allowed(settings):
    settings.AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB = True
    settings.AGGREGATION_EXTRACT_ALLOW_LOOPBACK = False  # the allowance opens that server only
    own = platform_db(settings)
    setup = extraction({**own, "host": settings.DATABASES["default"].get("HOST") or "127.0.0.1"})
    batch = run(setup)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert who_read(setup) == [own["database"]]


def test_a_source_that_hides_its_identity_is_refused(pg_server):
    role = f"reader_{secrets.token_hex(3)}"
    with psycopg.connect(pg_server.conninfo(PG_SOURCE), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        admin.execute("REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC")
    try:
        setup = extraction(pg_config(pg_server.port, query=WHO, user=role), update_mode="full")
        batch = run(setup)
    finally:
        with psycopg.connect(pg_server.conninfo(PG_SOURCE), autocommit=True) as admin:
            admin.execute("GRANT EXECUTE ON FUNCTION pg_control_system() TO PUBLIC")
            admin.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))
    assert batch.status == Batch.Status.FAILED
    hidden = (
        "The source database %(where)s does not say which PostgreSQL server it is "
        "(pg_control_system() refused: %(error)s); grant the extraction user EXECUTE "
        "on it, so that the platform can tell it is not its own server."
    )
    where = f"127.0.0.1:{pg_server.port}/{PG_SOURCE}"
    assert "pg_control_system" in message_parts(batch.error, hidden, where=where)["error"]
    assert who_read(setup) == []


@pytest.fixture
def agency_dns(monkeypatch):
    """A rebinding DNS for `db.agency.test`: 127.0.0.1 (where the source listens) the first
    time, 127.0.0.2 (nobody) afterwards. Extraction must look the name up once, check that
    answer, and have the driver connect to it, not look the name up again. Records the
    lookups."""
    real = socket.getaddrinfo
    lookups: list[str] = []

    def lookup(host, *args, **kwargs):
        if host == "db.agency.test":
            lookups.append(host)
            return real("127.0.0.1" if len(lookups) == 1 else "127.0.0.2", *args, **kwargs)
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return lookups


def test_postgresql_connects_to_the_address_that_was_checked(pgsource, agency_dns):
    _conn, schema, port = pgsource
    setup = extraction({**pg_config(port, table=f"{schema}.people"), "host": "db.agency.test"})
    batch = run(setup)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.rows_inserted == 4
    assert agency_dns == ["db.agency.test"]


def test_mariadb_connects_to_the_address_that_was_checked(mariadb, agency_dns):
    _admin, name = mariadb
    setup = extraction({**mysql_config(name, table="people"), "host": "db.agency.test"})
    batch = run(setup)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.rows_inserted == 4
    assert agency_dns == ["db.agency.test"]


@pytest.mark.parametrize(
    ("host", "reason", "params"),
    [
        ("127.0.0.1", "a loopback address", {}),
        ("::ffff:127.0.0.1", "a loopback address", {}),
        ("169.254.169.254", "a cloud metadata address", {}),
        ("100.100.100.200", "a cloud metadata address", {}),
        (
            "10.255.255.1",
            "a private address outside %(setting)s",
            {"setting": "AGGREGATION_EXTRACT_ALLOWED_NETWORKS"},
        ),
    ],
)
def test_extraction_follows_the_outbound_address_policy(settings, mariadb, host, reason, params):
    _admin, name = mariadb
    settings.AGGREGATION_EXTRACT_ALLOW_LOOPBACK = False
    setup = extraction({**mysql_config(name, table="people"), "host": host, "timeout_seconds": 2})
    batch = run(setup)
    assert batch.status == Batch.Status.FAILED
    error = message_parts(batch.error, CANNOT_CONNECT, where=f"{host}:3306/{name}")["error"]
    found = message_parts(error, ADDRESS_REFUSED, host=host)
    assert found["reason"] == message(reason, **params), batch.error
    assert who_read(setup) == []


def test_a_listed_private_network_is_let_through(settings, mariadb):
    _admin, name = mariadb
    settings.AGGREGATION_EXTRACT_ALLOWED_NETWORKS = ["10.255.255.0/24"]
    setup = extraction(
        {**mysql_config(name, table="people"), "host": "10.255.255.1", "timeout_seconds": 1}
    )
    batch = run(setup)
    # Whatever the network answers there, it is not the policy's refusal.
    assert "10.255.255.1" in batch.error
    assert message_pattern(ADDRESS_REFUSED).search(batch.error) is None, batch.error


@pytest.mark.parametrize(
    "host", ["/var/run/postgresql", "db1,db2", "db.agency.test:5433", "db agency", "host=x"]
)
def test_clean_config_refuses_anything_but_one_host(host):
    with pytest.raises(DomainError) as refused:
        clean_config(ChannelKind.DB_EXTRACT, {**pg_config(5432, table="people"), "host": host})
    assert refused.value.field == "host"


@pytest.mark.parametrize(
    ("host", "kept"),
    [
        ("db.agency.gov.cn", "db.agency.gov.cn"),
        ("10.1.2.3", "10.1.2.3"),
        ("[fd12::5]", "fd12::5"),
        ("数据库.武汉.cn", "数据库.武汉.cn"),
    ],
)
def test_clean_config_takes_host_names_and_addresses(host, kept):
    config = clean_config(ChannelKind.DB_EXTRACT, {**pg_config(5432, table="people"), "host": host})
    assert config["host"] == kept
