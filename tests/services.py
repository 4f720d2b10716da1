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

Every wait is bounded; a process that does not come up fails the test with its log attached.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
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


class _Process:
    """A subprocess in a session of its own, logging to a file, stopped by its id."""

    def __init__(self, name: str, log_path: Path):
        self.name = name
        self.log_path = log_path
        self.proc: subprocess.Popen | None = None

    def _spawn(self, args: list[str], *, env: dict | None = None) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_die_with_parent,
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


def database_url(settings_dict: dict) -> str:
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or "5432"
    return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"


def celery_env(*, redis_url: str, database: str, extra: dict | None = None) -> dict:
    """The environment of a worker or beat that shares the test run's database and redis."""
    env = dict(os.environ)
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


# Every queue of the platform (settings.CELERY_QUEUE_NAMES): a test worker takes both, so a
# test needs one worker, unless it gives `queues` to start one per queue.
ALL_QUEUES = ("default", "long")


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

    saved = app.conf.broker_url
    app.conf.broker_url = url
    reset_pools()
    try:
        yield
    finally:
        app.conf.broker_url = saved
        reset_pools()
