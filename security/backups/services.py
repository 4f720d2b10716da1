"""Backups and restore drills: the runs (in the worker or `manage.py backup`), the requests
from the security administrator's page, and retention.

A run takes minutes to hours, so it is not one transaction: its row is written first
(state "running"), the work happens outside any transaction, and the row is finished with
the result. A failed run records why and notifies the security administrators instead of
raising, so that the durable job is not retried ten times over the same cause.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import time
from datetime import timedelta
from pathlib import Path

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.history import audited_save
from wuhan_pdr.kernel.jobs import job_enqueue, job_progress
from wuhan_pdr.kernel.models import BackgroundJob
from wuhan_pdr.kernel.notifications import notify

from . import crypto, engine
from .models import Backup, RestoreDrill

logger = logging.getLogger(__name__)

BACKUP_TASK = "security.backup_run"
DRILL_TASK = "security.restore_drill_run"
DB_FILE = "database.dump.enc"
MEDIA_FILE = "media.tar.enc"
MANIFEST_FILE = "manifest.json"
FORMAT = "wuhan-pdr-backup/1"
RUN_PERMISSION = "security.run_backup"
# What a run records and ends on; anything else (a time limit, a bug) is recorded and raised.
EXPECTED_FAILURES = (
    engine.BackupFailed,
    crypto.BackupCorrupt,
    crypto.BackupKeyError,
    psycopg.Error,
    OSError,
)


def backup_dir() -> Path:
    return Path(settings.BACKUP_DIR)


def backup_path(backup: Backup) -> Path:
    return backup_dir() / backup.name


def _progress(job, percent: int) -> None:
    if job is not None:
        job_progress(job, percent)


def _security_admins():
    return get_user_model().objects.filter(groups__name=Role.SECURITY_ADMIN, is_active=True)


def _notify_failure(title: str, body: str) -> None:
    notify(
        recipients=_security_admins(),
        title=title,
        body=body[:2000],
        url=reverse("security:backups:index"),
    )


# --- the backup ---------------------------------------------------------------------------------


def runs_mark_interrupted(*, now=None) -> int:
    """Rows still "running" long after any run could have ended (a worker killed at its hard
    time limit, a machine restarted) are marked failed, and a half-written backup removed."""
    now = now or timezone.now()
    limits = settings.CELERY_LONG_TASK_SOFT_TIME_LIMITS
    grace = settings.CELERY_HARD_TIME_LIMIT_GRACE
    marked = 0
    for model, task in ((Backup, BACKUP_TASK), (RestoreDrill, DRILL_TASK)):
        cutoff = now - timedelta(seconds=limits.get(task, 7200) + grace)
        for run in model.objects.filter(state=model.State.RUNNING, started_at__lt=cutoff):
            if model is Backup:
                shutil.rmtree(backup_path(run), ignore_errors=True)
            run.state = model.State.FAILED
            run.finished_at = now
            run.error = "interrupted: the run never finished (worker stopped)"
            audited_save(run, acting_user=None, reason="interrupted")
            marked += 1
    return marked


def backup_create(*, acting_user=None, job=None) -> Backup:
    """Dump the database and archive the media folder, both encrypted, with a signed manifest
    of checksums, row counts and fingerprints, into BACKUP_DIR/<name>/; then apply retention.
    Returns the row, "done" or "failed" (with the reason)."""
    runs_mark_interrupted()
    started = timezone.now()
    name = f"{started:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
    backup = audited_save(Backup(name=name, created_by=acting_user), acting_user=acting_user)
    directory = backup_path(backup)
    try:
        key = crypto.encryption_key()
        directory.mkdir(mode=0o700, parents=True, exist_ok=False)
        params = engine.db_params()
        dump, counts, fingerprints, server_version = engine.dump_database(
            params=params,
            target=directory / DB_FILE,
            key=key,
            progress=lambda pct: _progress(job, pct),
        )
        _progress(job, 70)
        media, members = engine.archive_media(
            media_root=Path(settings.MEDIA_ROOT), target=directory / MEDIA_FILE, key=key
        )
        _progress(job, 90)
        manifest = crypto.manifest_sign(
            {
                "format": FORMAT,
                "name": name,
                "created_at": started.isoformat(),
                "database": params.dbname,
                "server_version": server_version,
                "key_id": key.key_id_hex,
                "files": {DB_FILE: dump.as_manifest(), MEDIA_FILE: media.as_manifest()},
                "media_members": members,
                "tables": counts,
                "fingerprints": fingerprints,
            },
            key,
        )
        manifest_path = directory / MANIFEST_FILE
        with engine.private_file(manifest_path) as fh:
            fh.write(json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode())
            fh.flush()
            os.fsync(fh.fileno())
        finished = timezone.now()
        backup.state = Backup.State.DONE
        backup.finished_at = finished
        backup.size_bytes = dump.size + media.size + manifest_path.stat().st_size
        backup.checksum = dump.sha256
        backup.manifest = manifest
        backup.kept_until = finished + timedelta(days=settings.BACKUP_KEEP_DAYS)
        audited_save(backup, acting_user=acting_user, reason="backup done")
    except Exception as exc:  # recorded whatever it is; only the expected ones end here
        shutil.rmtree(directory, ignore_errors=True)
        backup.state = Backup.State.FAILED
        backup.finished_at = timezone.now()
        backup.error = (str(exc) or type(exc).__name__)[:4000]
        audited_save(backup, acting_user=acting_user, reason="backup failed")
        logger.error("backup %s failed: %s", name, exc)
        _notify_failure(_("A backup failed"), backup.error)
        if not isinstance(exc, EXPECTED_FAILURES):
            raise  # a time limit or a bug: the job records it too
        return backup
    backups_prune()
    return backup


def backups_prune(*, now=None) -> int:
    """Delete the files of backups older than BACKUP_KEEP_DAYS, keeping at least the newest
    BACKUP_KEEP_COUNT whatever their age. The rows stay (state "deleted by retention")."""
    now = now or timezone.now()
    done = Backup.objects.filter(state=Backup.State.DONE).order_by("-started_at", "-pk")
    newest = list(done.values_list("pk", flat=True)[: max(settings.BACKUP_KEEP_COUNT, 1)])
    due = done.exclude(pk__in=newest).filter(
        started_at__lt=now - timedelta(days=settings.BACKUP_KEEP_DAYS)
    )
    pruned = 0
    for backup in due:
        shutil.rmtree(backup_path(backup), ignore_errors=True)
        backup.state = Backup.State.PRUNED
        backup.pruned_at = now
        audited_save(backup, acting_user=None, reason="retention")
        pruned += 1
    return pruned


# --- verification and the restore drill ----------------------------------------------------------


def backup_read_manifest(backup: Backup) -> dict:
    path = backup_path(backup) / MANIFEST_FILE
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise crypto.BackupCorrupt(f"{MANIFEST_FILE} is missing") from None
    except ValueError:
        raise crypto.BackupCorrupt(f"{MANIFEST_FILE} is not valid JSON") from None


def backup_verify(backup: Backup) -> tuple[dict, crypto.BackupKey]:
    """Check a backup's manifest signature, the checksum of every file and the authentication
    of every encrypted chunk. Returns (manifest, key); raises BackupCorrupt or BackupKeyError."""
    manifest = backup_read_manifest(backup)
    key = crypto.manifest_check(manifest)
    directory = backup_path(backup)
    for file_name, expected in sorted(manifest.get("files", {}).items()):
        path = directory / file_name
        if not path.is_file():
            raise crypto.BackupCorrupt(f"{file_name} is missing")
        size, sha = engine.file_sha256(path)
        if size != expected["size"] or sha != expected["sha256"]:
            raise crypto.BackupCorrupt(f"{file_name}: checksum does not match the manifest")
        plain_size, plain_sha = engine.decrypt_all(path, key)
        if plain_size != expected["plain_size"] or plain_sha != expected["plain_sha256"]:
            raise crypto.BackupCorrupt(f"{file_name}: content does not match the manifest")
    if MEDIA_FILE in manifest.get("files", {}):
        members = engine.count_tar_members(directory / MEDIA_FILE, key)
        if members != manifest.get("media_members"):
            raise crypto.BackupCorrupt(
                f"{MEDIA_FILE}: {members} files, the manifest says otherwise"
            )
    return manifest, key


def _diff(kind: str, name: str, expected, found) -> dict:
    return {"kind": kind, "name": name, "expected": expected, "found": found}


def compare_with_manifest(manifest: dict, counts: dict, fingerprints: dict) -> list[dict]:
    """What the restored database says that the manifest does not: every table's count and
    every fingerprint."""
    differences = []
    expected_counts = manifest.get("tables", {})
    for table in sorted(set(expected_counts) | set(counts)):
        want, got = expected_counts.get(table), counts.get(table)
        if want != got:
            differences.append(_diff("table", table, want, got))
    expected_fps = manifest.get("fingerprints", {})
    for name in sorted(set(expected_fps) | set(fingerprints)):
        want, got = expected_fps.get(name), fingerprints.get(name)
        if want != got:
            differences.append(_diff("fingerprint", name, want, got))
    return differences


def latest_backup() -> Backup | None:
    return Backup.objects.filter(state=Backup.State.DONE).order_by("-started_at", "-pk").first()


def restore_drill_run(*, acting_user=None, job=None, backup: Backup | None = None) -> RestoreDrill:
    """Verify the latest backup (or `backup`), restore it into a fresh scratch database,
    compare every table's row count and the fingerprints with its manifest, drop the scratch
    database and record the result. A failure notifies the security administrators."""
    runs_mark_interrupted()
    backup = backup or latest_backup()
    drill = audited_save(
        RestoreDrill(backup=backup, created_by=acting_user), acting_user=acting_user
    )
    differences: list[dict] = []
    error = ""
    params = engine.db_params()
    scratch = engine.scratch_name(params.dbname)
    try:
        if backup is None:
            raise crypto.BackupCorrupt("there is no backup to restore")
        manifest, key = backup_verify(backup)
        if backup.manifest and crypto.canonical_json(backup.manifest) != crypto.canonical_json(
            manifest
        ):
            differences.append(_diff("manifest", MANIFEST_FILE, "as recorded", "changed"))
        _progress(job, 30)
        started = time.monotonic()
        engine.restore_into_scratch(
            params=params, dump=backup_path(backup) / DB_FILE, key=key, name=scratch
        )
        drill.restore_seconds = round(time.monotonic() - started, 3)
        _progress(job, 75)
        counts, fingerprints = engine.scratch_counts(params, scratch)
        drill.tables_compared = len(counts)
        drill.rows_compared = sum(counts.values())
        differences += compare_with_manifest(manifest, counts, fingerprints)
    except Exception as exc:  # recorded whatever it is; only the expected ones end here
        error = (str(exc) or type(exc).__name__)[:4000]
        unexpected = None if isinstance(exc, EXPECTED_FAILURES) else exc
    else:
        unexpected = None
    finally:
        try:
            engine.scratch_drop(params, scratch)
        except psycopg.Error as exc:
            logger.error("scratch database %s not dropped: %s", scratch, exc)
    drill.differences = differences
    drill.error = error
    drill.finished_at = timezone.now()
    drill.state = RestoreDrill.State.FAILED if (differences or error) else RestoreDrill.State.PASSED
    audited_save(drill, acting_user=acting_user, reason=f"drill {drill.state}")
    if drill.state == RestoreDrill.State.FAILED:
        what = error or _("%(count)s differences from the manifest") % {"count": len(differences)}
        _notify_failure(_("A restore drill failed"), what)
    if unexpected is not None:
        raise unexpected  # a time limit or a bug: the job records it too
    return drill


# --- requests from the page and from beat --------------------------------------------------------


def _job_in_progress(task_name: str) -> bool:
    return BackgroundJob.objects.filter(
        task_name=task_name,
        state__in=[BackgroundJob.State.PENDING, BackgroundJob.State.RUNNING],
    ).exists()


def jobs_in_progress():
    return BackgroundJob.objects.filter(
        task_name__in=[BACKUP_TASK, DRILL_TASK],
        state__in=[BackgroundJob.State.PENDING, BackgroundJob.State.RUNNING],
    ).order_by("created_at")


def backup_request(*, acting_user) -> BackgroundJob:
    """Queue a backup now (a durable job on the `long` queue)."""
    if not acting_user.has_perm(RUN_PERMISSION):
        raise DomainError(_("You may not run backups."))
    with transaction.atomic():
        if _job_in_progress(BACKUP_TASK):
            raise DomainError(_("A backup is already queued or running."))
        return job_enqueue(task_name=BACKUP_TASK, acting_user=acting_user)


def restore_drill_request(*, acting_user) -> BackgroundJob:
    """Queue a restore drill of the latest backup now (a durable job on the `long` queue)."""
    if not acting_user.has_perm(RUN_PERMISSION):
        raise DomainError(_("You may not run restore drills."))
    with transaction.atomic():
        if latest_backup() is None:
            raise DomainError(_("There is no backup to restore yet: run a backup first."))
        if _job_in_progress(DRILL_TASK):
            raise DomainError(_("A restore drill is already queued or running."))
        return job_enqueue(task_name=DRILL_TASK, acting_user=acting_user)


def backup_schedule() -> bool:
    """Beat's daily backup: queued unless one is queued or running already."""
    with transaction.atomic():
        if _job_in_progress(BACKUP_TASK):
            return False
        job_enqueue(task_name=BACKUP_TASK)
    return True


def restore_drill_schedule() -> bool:
    """Beat's weekly drill: queued unless one is queued or running already."""
    with transaction.atomic():
        if _job_in_progress(DRILL_TASK):
            return False
        job_enqueue(task_name=DRILL_TASK)
    return True
