"""What a backup and a restore drill do against PostgreSQL and the file system, without the
rows that record them (services.py does that).

The counts, the fingerprints and the dump come from one snapshot: a REPEATABLE READ
transaction exports it (`pg_export_snapshot()`), counts every table in it and keeps it open
while `pg_dump --snapshot` dumps exactly what it counted. pg_dump writes to a pipe that is
encrypted chunk by chunk into the backup file, and the media folder goes through `tarfile`'s
stream mode the same way, so neither is ever held in memory or on disk in clear.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import environ
import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql

from . import crypto
from .fingerprints import fingerprints_compute

PIPE_READ = 1024 * 1024
SCRATCH_SUFFIX = "_restore_drill"
# Tables of every schema but PostgreSQL's own; partitions are counted through their parent.
_TABLES_SQL = """
    SELECT n.nspname, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relpersistence = 'p'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\\_%'
    ORDER BY 1, 2
"""


class BackupFailed(Exception):
    """A tool failed (pg_dump, pg_restore) or the database refused; the message says which."""


@dataclass(frozen=True)
class DbParams:
    host: str
    port: str
    user: str
    password: str
    dbname: str

    def connect(self, *, dbname: str | None = None, autocommit: bool = False):
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.user,
            password=self.password or None,
            dbname=dbname or self.dbname,
            autocommit=autocommit,
            application_name="wuhan-pdr backup",
        )

    def env(self, *, dbname: str | None = None) -> dict:
        """Environment for pg_dump / pg_restore: the password never on a command line."""
        env = dict(os.environ)
        env.update({"PGHOST": self.host, "PGPORT": self.port, "PGDATABASE": dbname or self.dbname})
        if self.user:
            env["PGUSER"] = self.user
        if self.password:
            env["PGPASSWORD"] = self.password
        return env


def db_params() -> DbParams:
    """BACKUP_DATABASE_URL when set (a role that reads every schema and may create the drill's
    scratch database), otherwise the portal's own database (under tests: the test database)
    with the credentials of DATABASE_ADMIN_URL: the processes' own roles (DATABASE_ROLE) may
    read neither the storage zones nor create a database (decision 0013)."""
    if settings.BACKUP_DATABASE_URL:
        cfg = environ.Env.db_url_config(settings.BACKUP_DATABASE_URL)
    else:
        admin = environ.Env.db_url_config(settings.DATABASE_ADMIN_URL)
        cfg = {
            **connection.settings_dict,
            "USER": admin.get("USER") or "",
            "PASSWORD": admin.get("PASSWORD") or "",
        }
    return DbParams(
        host=str(cfg.get("HOST") or "127.0.0.1"),
        port=str(cfg.get("PORT") or "5432"),
        user=str(cfg.get("USER") or ""),
        password=str(cfg.get("PASSWORD") or ""),
        dbname=str(cfg["NAME"]),
    )


def pg_tool(name: str) -> str:
    directory = settings.BACKUP_PG_BIN_DIR
    path = str(Path(directory) / name) if directory else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupFailed(
            f"{name} not found (install the PostgreSQL client or set BACKUP_PG_BIN_DIR)"
        )
    return path


def table_counts(cursor) -> dict[str, int]:
    """Row count of every table, as `schema.table` -> rows, in the cursor's transaction."""
    cursor.execute(_TABLES_SQL)
    tables = cursor.fetchall()
    counts = {}
    for schema, table in tables:
        cursor.execute(
            sql.SQL("SELECT count(*) FROM {}.{}").format(
                sql.Identifier(schema), sql.Identifier(table)
            )
        )
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def _drain(stream, sink: bytearray, limit: int = 64 * 1024) -> threading.Thread:
    """Read a child's stderr in a thread (keeping the first `limit` bytes) so it never blocks."""

    def run():
        for line in iter(lambda: stream.read(4096), b""):
            if len(sink) < limit:
                sink.extend(line[: limit - len(sink)])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@dataclass
class WrittenFile:
    name: str
    size: int
    sha256: str
    plain_size: int
    plain_sha256: str

    def as_manifest(self) -> dict:
        return {
            "size": self.size,
            "sha256": self.sha256,
            "plain_size": self.plain_size,
            "plain_sha256": self.plain_sha256,
        }


def private_file(path: Path):
    """A new file only its owner may read (the directory is private too): created, never
    overwritten."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")


def _written(path: Path, writer: crypto.EncryptingWriter) -> WrittenFile:
    return WrittenFile(
        name=path.name,
        size=writer.size,
        sha256=writer.sha256.hexdigest(),
        plain_size=writer.plain_size,
        plain_sha256=writer.plain_sha256.hexdigest(),
    )


def dump_database(
    *, params: DbParams, target: Path, key: crypto.BackupKey, progress: Callable[[int], None]
) -> tuple[WrittenFile, dict[str, int], dict[str, str], str]:
    """pg_dump -Fc of the database into `target` (encrypted), with the row counts and the
    fingerprints of the same snapshot. Returns (file, counts, fingerprints, server version)."""
    with params.connect() as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, server_version = cur.fetchone()
            counts = table_counts(cur)
            fingerprints = fingerprints_compute(cur)
        progress(15)
        errors = bytearray()
        # The arguments are the tool's path (settings or PATH) and a snapshot id from PostgreSQL.
        proc = subprocess.Popen(  # noqa: S603
            [pg_tool("pg_dump"), "--format=custom", f"--snapshot={snapshot}", "--no-password"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=params.env(),
        )
        drain = _drain(proc.stderr, errors)
        try:
            with private_file(target) as raw:
                writer = crypto.EncryptingWriter(raw, key)
                for block in iter(lambda: proc.stdout.read(PIPE_READ), b""):
                    writer.write(block)
                writer.close()
                os.fsync(raw.fileno())
        finally:
            proc.stdout.close()
            code = proc.wait()
            drain.join(timeout=10)
        conn.rollback()  # the snapshot was only needed while pg_dump ran
    if code != 0:
        raise BackupFailed(f"pg_dump failed ({code}): {errors.decode(errors='replace').strip()}")
    return _written(target, writer), counts, fingerprints, server_version


def archive_media(
    *, media_root: Path, target: Path, key: crypto.BackupKey
) -> tuple[WrittenFile, int]:
    """A tar archive of MEDIA_ROOT, streamed into `target` encrypted. Returns (file, members)."""
    members = 0
    with private_file(target) as raw:
        writer = crypto.EncryptingWriter(raw, key)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            if media_root.is_dir():
                for path in sorted(media_root.rglob("*")):
                    if path.is_symlink() or not (path.is_file() or path.is_dir()):
                        continue
                    tar.add(path, arcname=str(path.relative_to(media_root)), recursive=False)
                    members += 1
        writer.close()
        os.fsync(raw.fileno())
    return _written(target, writer), members


def file_sha256(path: Path) -> tuple[int, str]:
    import hashlib

    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(PIPE_READ), b""):
            digest.update(block)
            size += len(block)
    return size, digest.hexdigest()


def decrypt_all(path: Path, key: crypto.BackupKey) -> tuple[int, str]:
    """Authenticate every chunk of `path` and hash the plaintext (nothing is kept)."""
    import hashlib

    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as raw:
        for chunk in crypto.decrypt_chunks(raw, key):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def count_tar_members(path: Path, key: crypto.BackupKey) -> int:
    with (
        open(path, "rb") as raw,
        tarfile.open(fileobj=crypto.DecryptingReader(raw, key), mode="r|") as tar,
    ):
        return sum(1 for _member in tar)


def scratch_name(dbname: str) -> str:
    return (dbname[: 63 - len(SCRATCH_SUFFIX)]) + SCRATCH_SUFFIX


def scratch_drop(params: DbParams, name: str) -> None:
    with params.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def restore_into_scratch(*, params: DbParams, dump: Path, key: crypto.BackupKey, name: str) -> None:
    """A fresh database `name` (dropped first if a crashed drill left it) with the dump restored
    into it, decrypted on the way into pg_restore's standard input."""
    scratch_drop(params, name)
    with params.connect(dbname="postgres", autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
    errors = bytearray()
    # Ownership and grants name the server's roles; the drill checks the data, so its copy is
    # owned by whoever restores it (a real restore keeps them: docs/operations.md).
    proc = subprocess.Popen(  # noqa: S603  (fixed arguments; the name is ours)
        [
            pg_tool("pg_restore"),
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            "--no-password",
            f"--dbname={name}",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=params.env(dbname=name),
    )
    drain = _drain(proc.stderr, errors)
    try:
        with open(dump, "rb") as raw:
            for chunk in crypto.decrypt_chunks(raw, key):
                proc.stdin.write(chunk)
        proc.stdin.close()
    except BrokenPipeError:
        pass  # pg_restore stopped early: its exit code and message say why
    finally:
        code = proc.wait()
        drain.join(timeout=10)
    if code != 0:
        raise BackupFailed(f"pg_restore failed ({code}): {errors.decode(errors='replace').strip()}")


def scratch_counts(params: DbParams, name: str) -> tuple[dict[str, int], dict[str, str]]:
    with params.connect(dbname=name) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        cur = conn.cursor()
        counts = table_counts(cur)
        fingerprints = fingerprints_compute(cur)
        conn.rollback()
    return counts, fingerprints
