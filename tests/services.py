"""Real services for integration tests: a spare `redis-server`, a Celery worker and Celery beat,
each a subprocess of the test run, started on demand and always stopped afterwards.

The fixtures in tests/conftest.py wrap these helpers:

- `spare_redis` (module scope): a `redis-server` on a free port, with no persistence.
- `celery_worker` (module scope): `celery -A wuhan_pdr worker -P solo` on that redis and on the
  pytest test database. Use it with `@pytest.mark.django_db(transaction=True)`: the worker is
  another process and sees only committed rows.
- `celery_beat` (module scope): `celery -A wuhan_pdr beat` with the background-job sweep every
  two seconds.
- `celery_app_on_spare_redis` (function scope): points this process's Celery app at the spare
  redis, so that `job_send` and `app.control` talk to the worker above, and restores it after.

`PostgresServer` is a PostgreSQL server of the tests' own (initdb into a temporary directory, a
free port, 127.0.0.1 only, trust authentication, no fsync), for tests that need a database
server that is not the platform's: the extraction tests' agency source (`pg_server` in
tests/aggregation/test_extract.py). As root it runs as the `postgres` OS user (initdb refuses
root).

Every wait is bounded; a process that does not come up fails the test with its log attached.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, *, timeout: float, interval: float = 0.2, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not reached within {timeout:.0f} s")
        time.sleep(interval)


def _die_with_parent() -> None:
    """Runs in the child before exec: ask Linux to stop it if the test run itself dies
    (killed, not just failing), so that no worker outlives the run."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _as_user(user: str | None) -> dict:
    """Popen arguments that run the child as OS user `user` (its group, no others)."""
    if not user:
        return {}
    return {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}


class _Process:
    """A subprocess in a session of its own, logging to a file, stopped by its id."""

    def __init__(self, name: str, log_path: Path):
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def _spawn(
        self, args: list[str], *, env: dict | None = None, user: str | None = None, cwd=REPO
    ) -> None:
        as_user = _as_user(user)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
                **as_user,
            )

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log().splitlines()[-lines:])

    def stop(self, *, grace: float = 10.0) -> None:
        """Ask the process to stop (SIGTERM), then kill its process group if it lingers."""
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


class RedisServer(_Process):
    """A throw-away `redis-server` without persistence. `stop()` and `start()` again keep the
    port, so a test can take the broker away and bring it back."""

    def __init__(self, log_dir: Path, port: int | None = None, *, name: str = "redis"):
        super().__init__(name, log_dir / f"{name}.log")
        self.port = port or free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        """Whether the server answers PING (one plain attempt: redis-py would retry)."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self, timeout: float = 10.0) -> RedisServer:
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed")
        self._spawn(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ]
        )
        try:
            wait_for(self.ping, timeout=timeout, what=f"redis-server on port {self.port}")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log_tail()}") from exc
        return self

    def stop(self, *, grace: float = 10.0) -> None:
        super().stop(grace=grace)
        # The port is free again once nobody answers on it.
        wait_for(lambda: not self.ping(), timeout=grace, what="redis-server to stop")


def postgres_bindir() -> Path:
    """Where initdb and postgres are: `pg_config --bindir`, else the newest Debian version."""
    found = shutil.which("pg_config")
    if found:
        with contextlib.suppress(subprocess.CalledProcessError, OSError):
            bindir = Path(subprocess.check_output([found, "--bindir"], text=True).strip())
            if (bindir / "initdb").exists():
                return bindir
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    if not candidates:
        raise RuntimeError("PostgreSQL's initdb is not installed (postgresql-15 or newer)")
    return Path(candidates[-1]).parent


class PostgresServer(_Process):
    """A throw-away PostgreSQL server: `initdb` into a temporary directory, `postgres` on a
    free port of 127.0.0.1 with trust authentication and no durability (fsync off): a server
    that is not the platform's, as an agency's would be. As root, both run as the `postgres`
    OS user, in a directory that user owns. `stop()` shuts it down fast and deletes the files."""

    def __init__(self, log_dir: Path, port: int | None = None, *, name: str = "postgres"):
        super().__init__(name, log_dir / f"{name}.log")
        self.port = port or free_port()
        self.bindir = postgres_bindir()
        self.user = "postgres" if os.geteuid() == 0 else None
        self.base: Path | None = None

    def conninfo(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def ready(self) -> bool:
        import psycopg

        try:
            with psycopg.connect(self.conninfo(), connect_timeout=2):
                return True
        except psycopg.Error:
            return False

    def _run(self, args: list[str]) -> None:
        kwargs = {}
        if self.user:
            kwargs = {
                "user": self.user,
                "group": pwd.getpwnam(self.user).pw_gid,
                "extra_groups": [],
            }
        with open(self.log_path, "ab") as log:
            subprocess.run(
                args,
                cwd=self.base,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                check=True,
                timeout=120,
                **kwargs,
            )

    def start(self, timeout: float = 60.0) -> PostgresServer:
        self.base = Path(tempfile.mkdtemp(prefix="pdr-pg-"))
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.base, account.pw_uid, account.pw_gid)
        data = self.base / "data"
        try:
            self._run(
                [
                    str(self.bindir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--locale=C",
                    "--no-sync",
                ]
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
            shutil.rmtree(self.base, ignore_errors=True)
            raise RuntimeError(f"initdb failed: {exc}\n{self.log_tail()}") from exc
        self._spawn(
            [
                str(self.bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(self.port),
                "-k",
                str(self.base),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "shared_buffers=16MB",
                "-c",
                "max_connections=30",
            ],
            user=self.user,
            cwd=self.base,
        )
        try:
            wait_for(self.ready, timeout=timeout, what=f"postgres on port {self.port}")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log_tail()}") from exc
        return self

    def stop(self, *, grace: float = 20.0) -> None:
        """Fast shutdown (SIGINT: sessions are ended), then the files go."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
        if self.base is not None:
            shutil.rmtree(self.base, ignore_errors=True)
            self.base = None


def database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


_THIS_DEPLOYMENT = object()


def celery_env(
    *,
    redis_url: str,
    database: str,
    extra: dict | None = None,
    deployment_name: str | None | object = _THIS_DEPLOYMENT,
    database_role: str | None | object = _THIS_DEPLOYMENT,
) -> dict:
    """The environment of a worker or beat that shares the test run's database and redis.

    It belongs to the test run's deployment (settings.DEPLOYMENT_NAME: the prefix of its Redis
    keys) unless `deployment_name` names another; None leaves it to the default of the
    settings (the name of `database`), as for a deployment that does not set it.

    On the test run's database it connects as the worker's database role (DATABASE_ROLE, see
    security/dbroles.py), as in production, so that every test with a real worker proves
    the worker's grants suffice; `database_role` names another (owner, web) or None (the
    user of `database`), the default for any other database."""
    env = dict(os.environ)
    env.pop("DEPLOYMENT_NAME", None)
    env.pop("DATABASE_ROLE", None)
    env.pop("DATABASE_PASSWORD", None)
    if database_role is _THIS_DEPLOYMENT:
        from django.db import connection

        database_role = "worker" if database == database_url(connection.settings_dict) else None
    if database_role:
        env["DATABASE_ROLE"] = database_role
    if deployment_name is _THIS_DEPLOYMENT:
        from django.conf import settings

        deployment_name = settings.DEPLOYMENT_NAME
    if deployment_name is not None:
        env["DEPLOYMENT_NAME"] = deployment_name
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "wuhan_pdr.settings.test",
            "DATABASE_URL": database,
            "TEST_REDIS_URL": redis_url,
            "TEST_CELERY_BROKER_URL": redis_url,
            "BACKGROUND_JOB_SWEEP_SECONDS": "2",
            "BACKGROUND_JOB_RESEND_AFTER": "1",
            "PYTHONPATH": str(REPO),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


# Every queue of the platform (settings.CELERY_QUEUE_NAMES): a test worker takes them all, so
# a test needs one worker, unless it gives `queues` to start one per queue.
ALL_QUEUES = ("default", "long", "ledger")


class CeleryWorker(_Process):
    """A worker on `queues` (all by default). The solo pool runs in the worker process itself;
    time limits need the prefork pool (`pool="prefork"`)."""

    def __init__(
        self,
        log_dir: Path,
        env: dict,
        *,
        queues: tuple[str, ...] = ALL_QUEUES,
        pool: str = "solo",
        concurrency: int = 1,
        name: str = "celery-worker",
    ):
        super().__init__(name, log_dir / f"{name}.log")
        self.env = env
        self.queues = queues
        self.pool = pool
        self.concurrency = concurrency
        self.hostname = f"pytest-{os.getpid()}-{free_port()}@%h"

    def start(self, timeout: float = 60.0) -> CeleryWorker:
        start_at = len(self.log())
        self._spawn(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "wuhan_pdr",
                "worker",
                "-Q",
                ",".join(self.queues),
                "-P",
                self.pool,
                "-c",
                str(self.concurrency),
                "--without-mingle",
                "--without-gossip",
                "--without-heartbeat",
                "-l",
                os.environ.get("TEST_CELERY_LOG_LEVEL", "info"),
                "-n",
                self.hostname,
            ],
            env=self.env,
        )

        def ready():
            if not self.running:
                raise RuntimeError(f"celery worker exited\n{self.log_tail()}")
            return " ready." in self.log()[start_at:]

        try:
            wait_for(ready, timeout=timeout, interval=0.3, what="celery worker ready")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log_tail()}") from exc
        return self


class CeleryBeat(_Process):
    def __init__(self, log_dir: Path, env: dict):
        super().__init__("celery-beat", log_dir / "celery-beat.log")
        self.env = env
        self.schedule = log_dir / "celerybeat-schedule"

    def start(self, timeout: float = 60.0) -> CeleryBeat:
        start_at = len(self.log())
        self._spawn(
            [
                str(VENV_BIN / "celery"),
                "-A",
                "wuhan_pdr",
                "beat",
                "-s",
                str(self.schedule),
                "--pidfile=",
                "-l",
                "info",
            ],
            env=self.env,
        )

        def ready():
            if not self.running:
                raise RuntimeError(f"celery beat exited\n{self.log_tail()}")
            return "beat: Starting" in self.log()[start_at:]

        try:
            wait_for(ready, timeout=timeout, interval=0.3, what="celery beat started")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log_tail()}") from exc
        return self


class WebServer(_Process):
    """gunicorn serving the portal on a free port of 127.0.0.1, in the environment `env`
    (celery_env(..., database_role="web"): the test database, as the web's role)."""

    def __init__(self, log_dir: Path, env: dict, *, name: str = "gunicorn"):
        super().__init__(name, log_dir / f"{name}.log")
        self.env = env
        self.port = free_port()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self) -> bool:
        if not self.running:
            raise RuntimeError(f"gunicorn exited\n{self.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False

    def start(self, timeout: float = 60.0) -> WebServer:
        self._spawn(
            [
                str(VENV_BIN / "gunicorn"),
                "wuhan_pdr.wsgi",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                "1",
                "--access-logfile",
                "-",
                "--no-control-socket",
            ],
            env=self.env,
        )
        try:
            wait_for(self.answers, timeout=timeout, interval=0.3, what="gunicorn listening")
        except TimeoutError as exc:
            self.stop()
            raise RuntimeError(f"{exc}\n{self.log_tail()}") from exc
        return self


def broker_key(name: str) -> str:
    """The Redis key of queue `name` (or another broker key) for the test run's deployment:
    kombu prefixes every key with settings.REDIS_KEY_PREFIX (global_keyprefix)."""
    from django.conf import settings

    return settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "") + name


@contextlib.contextmanager
def celery_app_on(url: str) -> Iterator[None]:
    """Point this process's Celery app (used by `job_send` and `/healthz/`) at broker `url`,
    dropping its cached connections, and put everything back afterwards."""
    from wuhan_pdr.celery import app

    def reset_pools():
        # Only forget them: kombu keeps pools per broker URL for the whole process, and a
        # closed one would be handed out again the next time that URL is used.
        app._pool = None
        app.amqp._producer_pool = None
        # app.control's mailbox keeps the producer pool it first used: build it afresh.
        app.__dict__.pop("control", None)

    # Celery's `broker_url` prefers the CELERY_BROKER_URL variable to the configuration, so
    # where the variable is set (a sourced .env) it is pointed at `url` too.
    saved, saved_env = app.conf.broker_url, os.environ.get("CELERY_BROKER_URL")
    app.conf.broker_url = url
    if saved_env is not None:
        os.environ["CELERY_BROKER_URL"] = url
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        if saved_env is not None:
            os.environ["CELERY_BROKER_URL"] = saved_env
        reset_pools()
