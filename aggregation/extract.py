"""Database extraction: read a table or a query from an agency's PostgreSQL or MySQL/MariaDB
database and spool the rows to CSV for the loader.

Settings (`Channel.config`, see channels.SETTINGS): `engine` (postgresql or mysql), `host`,
`port`, `database`, `user`, and either `table` (`name` or `schema.name`, quoted here) or
`query` (one SELECT, checked by `clean_config`); `timeout_seconds` bounds the statement. The
password is the channel's secret.

Read-only on three levels: the agency should give a user with SELECT rights only (the access
requirements say so); the session is read-only (PostgreSQL `default_transaction_read_only`
and a `READ ONLY` transaction; MySQL/MariaDB `START TRANSACTION READ ONLY`), so even a query
with a data-changing CTE is refused by the server; and the query text must be one SELECT.

Where it connects (wuhan_pdr/kernel/outbound.py, decision 0010): the host is resolved once and
every address checked by the outbound address policy (settings `AGGREGATION_EXTRACT_ALLOWED_NETWORKS`
and `AGGREGATION_EXTRACT_ALLOW_LOOPBACK`); the driver then connects to those addresses only
(libpq's `hostaddr`, PyMySQL's host), never to a lookup of its own. And since an address says
little about what answers there (`0.0.0.0`, `::ffff:127.0.0.1`, a host name or another address
of the same machine), a PostgreSQL source is asked which server it is
(`pg_control_system().system_identifier`) before anything is read: a database on the server the
platform itself runs on (its own database, and every other one there: tests, benchmarks,
another deployment; a streaming replica shares the identifier too) is refused, unless
`AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB` is on (the demo's stand-in agency table; production
forces it off).

Rows are streamed with a server-side cursor (PostgreSQL) or an unbuffered cursor (PyMySQL's
SSCursor), `FETCH_ROWS` at a time, straight into the spool: never all in memory.

Incremental runs read only the rows whose update-flag column is at or after the channel's
watermark: `SELECT * FROM (<table or query>) AS pdr_src WHERE <flag> >= <watermark>`. At, not
after: rows that share the watermark's value but were committed after the last run would
otherwise be lost for good; the merge makes re-reading the rows at the watermark harmless (an
unchanged row is neither inserted nor updated).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import psycopg
from django.conf import settings
from django.utils.translation import gettext as _
from psycopg import sql

from wuhan_pdr.kernel import outbound

from .channels import DEFAULTS, SourceUnavailable, channel_secret
from .datastore import published_columns
from .loading import CsvSource, map_header, open_csv, rows_to_csv
from .models import Batch, ChannelKind

FETCH_ROWS = 5000
ALIAS = "pdr_src"


def _value(value):
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, dt.timedelta):  # MySQL TIME
        seconds = int(value.total_seconds())
        return f"{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def platform_database_addresses() -> set:
    """The addresses of the platform's own database server (loopback when it is reached
    through a Unix socket)."""
    host = str(settings.DATABASES["default"].get("HOST") or "")
    if not host or host.startswith("/"):
        return {ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")}
    found = set()
    with contextlib.suppress(OSError, UnicodeError, ValueError):
        for info in socket.getaddrinfo(host.strip("[]"), None, type=socket.SOCK_STREAM):
            found.add(ipaddress.ip_address(info[4][0].split("%")[0]))
    return found


def policy() -> outbound.Policy:
    """Where database extraction may connect (settings `AGGREGATION_EXTRACT_ALLOWED_NETWORKS`
    and `AGGREGATION_EXTRACT_ALLOW_LOOPBACK`; with `AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB`,
    also the platform's own database server)."""
    also = platform_database_addresses() if _platform_db_allowed() else ()
    return outbound.Policy.from_settings("AGGREGATION_EXTRACT", also_allow=also)


def _platform_db_allowed() -> bool:
    return bool(getattr(settings, "AGGREGATION_EXTRACT_ALLOW_PLATFORM_DB", False))


def platform_system_identifier() -> int:
    """The `system_identifier` of the PostgreSQL server the platform runs on."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT system_identifier FROM pg_catalog.pg_control_system()")
        return int(cur.fetchone()[0])


class _Source:
    """One engine's way to connect, quote and stream."""

    default_port = 0

    def __init__(self, config: dict, password: str):
        self.config = config
        self.password = password
        self.timeout = max(1, int(config.get("timeout_seconds") or 60))
        self.where = f"{config.get('host')}:{config.get('port')}/{config.get('database')}"

    @property
    def port(self) -> int:
        return int(self.config.get("port") or self.default_port)

    def destination(self) -> outbound.Destination:
        """The source's host resolved once and checked (the outbound address policy)."""
        try:
            return outbound.resolve(str(self.config.get("host") or ""), self.port, policy=policy())
        except outbound.OutboundError as exc:
            raise SourceUnavailable(
                _("Cannot connect to the source database %(where)s: %(error)s")
                % {"where": self.where, "error": exc}
            ) from exc

    def connect_error(self, exc: Exception) -> SourceUnavailable:
        return SourceUnavailable(
            _("Cannot connect to the source database %(where)s: %(error)s")
            % {"where": self.where, "error": str(exc).strip()[:300]}
        )

    def query_error(self, exc: Exception) -> SourceUnavailable:
        return SourceUnavailable(
            _("The source database %(where)s refused the query: %(error)s")
            % {"where": self.where, "error": str(exc).strip()[:300]}
        )

    def timeout_error(self) -> SourceUnavailable:
        return SourceUnavailable(
            _("The query on %(where)s ran longer than %(s)d seconds and was stopped.")
            % {"where": self.where, "s": self.timeout}
        )


class _Postgres(_Source):
    default_port = 5432

    def base(self) -> sql.Composable:
        if self.config.get("table"):
            parts = self.config["table"].split(".")
            return sql.SQL("SELECT * FROM {}").format(sql.Identifier(*parts))
        return sql.SQL(self.config["query"])

    def wrapped(self, where_flag: str | None, watermark: str | None) -> sql.Composable:
        query = sql.SQL("SELECT * FROM ({}) AS {}").format(self.base(), sql.Identifier(ALIAS))
        if where_flag is None:
            return query
        return sql.SQL("{} WHERE {}.{} >= {}").format(
            query, sql.Identifier(ALIAS), sql.Identifier(where_flag), sql.Literal(watermark)
        )

    @contextmanager
    def connection(self):
        target = self.destination()
        count = len(target.addresses)
        try:
            conn = psycopg.connect(
                # libpq connects to the checked addresses (hostaddr) and keeps the host name
                # for TLS and the password file: it never resolves the name itself.
                host=",".join([target.host] * count),
                hostaddr=target.hostaddr,
                port=",".join([str(target.port)] * count),
                dbname=self.config.get("database"),
                user=self.config.get("user"),
                password=self.password or None,
                connect_timeout=min(self.timeout, 15),
                application_name="wuhan-pdr-extract",
                options=(
                    "-c default_transaction_read_only=on "
                    f"-c statement_timeout={self.timeout * 1000} "
                    f"-c idle_in_transaction_session_timeout={self.timeout * 1000 + 60000}"
                ),
            )
        except psycopg.Error as exc:
            raise self.connect_error(exc) from exc
        try:
            conn.read_only = True
            self.refuse_platform_server(conn)
            yield conn
        finally:
            conn.close()

    def refuse_platform_server(self, conn) -> None:
        """Refuse a source on the PostgreSQL server the platform runs on, whatever address
        reached it (decided by what answers, not by the host string)."""
        if _platform_db_allowed():
            return
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute("SELECT system_identifier FROM pg_catalog.pg_control_system()")
                identifier = int(cur.fetchone()[0])
        except psycopg.Error as exc:
            raise SourceUnavailable(
                _(
                    "The source database %(where)s does not say which PostgreSQL server it is "
                    "(pg_control_system() refused: %(error)s); grant the extraction user EXECUTE "
                    "on it, so that the platform can tell it is not its own server."
                )
                % {"where": self.where, "error": str(exc).strip()[:200]}
            ) from exc
        if identifier == platform_system_identifier():
            raise SourceUnavailable(
                _(
                    "The source database %(where)s is on the PostgreSQL server the platform "
                    "itself runs on; a channel reads the agency's database, never the platform's."
                )
                % {"where": self.where}
            )

    def columns(self, conn, query) -> list[str]:
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.execute(sql.SQL("SELECT * FROM ({}) AS {} LIMIT 0").format(query, sql.SQL("q")))
                return [d.name for d in cur.description]
        except psycopg.errors.QueryCanceled as exc:
            raise self.timeout_error() from exc
        except psycopg.Error as exc:
            raise self.query_error(exc) from exc

    def stream(self, conn, query) -> Iterator[tuple]:
        try:
            with conn.transaction(), conn.cursor(name="pdr_extract") as cur:
                cur.itersize = FETCH_ROWS
                cur.execute(query)
                while rows := cur.fetchmany(FETCH_ROWS):
                    yield from rows
        except psycopg.errors.QueryCanceled as exc:
            raise self.timeout_error() from exc
        except psycopg.Error as exc:
            raise self.query_error(exc) from exc


def _mysql_ident(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


class _MySQL(_Source):
    default_port = 3306

    def base(self) -> str:
        if self.config.get("table"):
            names = self.config["table"].split(".")
            return "SELECT * FROM " + ".".join(map(_mysql_ident, names))  # noqa: S608 (quoted)
        return self.config["query"]

    def wrapped(self, conn, where_flag: str | None, watermark: str | None) -> str:
        query = f"SELECT * FROM ({self.base()}) AS {ALIAS}"  # noqa: S608 (checked, quoted)
        if where_flag is None:
            return query
        return f"{query} WHERE {ALIAS}.{_mysql_ident(where_flag)} >= {conn.escape(watermark)}"

    @contextmanager
    def connection(self):
        import pymysql

        target = self.destination()
        conn = error = None
        for address in target.addresses:  # the checked addresses, in order: no lookup of its own
            try:
                conn = pymysql.connect(
                    host=str(address),
                    port=target.port,
                    user=self.config.get("user"),
                    password=self.password or "",
                    database=self.config.get("database"),
                    connect_timeout=min(self.timeout, 15),
                    read_timeout=self.timeout + 30,
                    write_timeout=self.timeout + 30,
                    charset="utf8mb4",
                    cursorclass=pymysql.cursors.SSCursor,
                    autocommit=True,
                )
                break
            except pymysql.OperationalError as exc:
                error = exc
                if not (exc.args and exc.args[0] == 2003):  # 2003: cannot connect; next address
                    break
            except pymysql.MySQLError as exc:
                error = exc
                break
        if conn is None:
            raise self.connect_error(error)
        try:
            with conn.cursor() as cur:
                try:  # MariaDB: seconds; MySQL: milliseconds, SELECT only
                    cur.execute(f"SET SESSION max_statement_time = {float(self.timeout)}")
                except pymysql.MySQLError:
                    cur.execute(f"SET SESSION max_execution_time = {self.timeout * 1000}")
            yield conn
        except pymysql.MySQLError as exc:
            raise self.query_error(exc) from exc
        finally:
            conn.close()

    def _run(self, conn, query: str) -> Iterator[tuple]:
        import pymysql

        try:
            with conn.cursor() as cur:
                cur.execute("START TRANSACTION READ ONLY")
                cur.execute(query)
                yield [d[0] for d in cur.description]
                while rows := cur.fetchmany(FETCH_ROWS):
                    yield from rows
                cur.execute("COMMIT")
        except pymysql.MySQLError as exc:
            # 1969 (MariaDB) / 3024 (MySQL): the statement ran out of time.
            if exc.args and exc.args[0] in (1969, 3024):
                raise self.timeout_error() from exc
            if exc.args and exc.args[0] in (2013, 2006):
                raise self.connect_error(exc) from exc
            raise self.query_error(exc) from exc

    def columns(self, conn, query: str) -> list[str]:
        rows = self._run(conn, f"SELECT * FROM ({query}) AS q LIMIT 0")  # noqa: S608
        names = next(rows)
        for _row in rows:
            pass
        return names

    def stream(self, conn, query: str) -> Iterator[tuple]:
        rows = self._run(conn, query)
        next(rows)
        yield from rows


def source_for(config: dict, password: str) -> _Source:
    engine = config.get("engine")
    if engine == "postgresql":
        return _Postgres(config, password)
    if engine == "mysql":
        return _MySQL(config, password)
    raise SourceUnavailable(_("The database kind is postgresql or mysql."))


def fetch(batch: Batch, workdir: Path, *, progress=None) -> CsvSource:
    """Extract the channel's table or query (incremental: from the watermark on) into a CSV
    spool in `workdir`, with the table's column names as header."""
    channel = batch.channel
    config = {**DEFAULTS[ChannelKind.DB_EXTRACT], **(channel.config or {})}
    if not (config.get("table") or config.get("query")):
        raise SourceUnavailable(_("The channel names neither a table nor a query."))
    source = source_for(config, channel_secret(channel))
    columns = published_columns(channel.resource)
    flag = next((c for c in columns if c.update_flag), None)
    incremental = batch.mode == Batch.Mode.INCREMENTAL and flag and channel.watermark
    spool = workdir / "extract.csv"
    with source.connection() as conn:
        names = source.columns(conn, source.base())
        targets = map_header(names, columns, channel.column_mapping)
        picked = [i for i, t in enumerate(targets) if t]
        header = [targets[i] for i in picked]
        where_flag = None
        if incremental:
            where_flag = next((names[i] for i in picked if targets[i] == flag.name), None)
            if where_flag is None:
                raise SourceUnavailable(
                    _("The source has no column for the update flag %(item)s (%(column)s).")
                    % {"item": flag.item, "column": flag.name}
                )
        if isinstance(source, _Postgres):
            query = source.wrapped(where_flag, channel.watermark if where_flag else None)
        else:
            query = source.wrapped(conn, where_flag, channel.watermark if where_flag else None)
        if progress:
            progress(2)
        rows = ([_value(row[i]) for i in picked] for row in source.stream(conn, query))
        rows_to_csv(spool, header, rows)
    return open_csv(spool)
