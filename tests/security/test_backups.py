"""Backups and restore drills (issue #13 item 9): encrypted, checksummed backups with their row
counts taken in the dump's own snapshot, retention, and restore drills that restore into a
scratch database and compare (in-process, and through a real Celery worker)."""

from __future__ import annotations

import io
import json
import os
import struct
import tarfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from security.backups import crypto, engine, services
from security.backups.fingerprints import _FINGERPRINTS, register_backup_fingerprint
from security.backups.models import Backup, RestoreDrill
from tests.accounts.factories import UserFactory
from tests.services import (
    CeleryWorker,
    RedisServer,
    celery_app_on,
    celery_env,
    database_url,
    wait_for,
)
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel import ledger
from wuhan_pdr.kernel.ledger.tree import integrate, root_hash
from wuhan_pdr.kernel.models import BackgroundJob, LedgerLeaf, Notification

MARKER = b"media-marker-7c1f0e9a only in the uploaded file"


@pytest.fixture
def backup_settings(settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path / "backups")
    media = tmp_path / "media"
    (media / "uploads" / "2026").mkdir(parents=True)
    (media / "uploads" / "2026" / "file.csv").write_bytes(MARKER)
    (media / "readme.txt").write_text("工作簿 readme", encoding="utf-8")
    settings.MEDIA_ROOT = str(media)
    return settings


@pytest.fixture
def security_admin(bureau):
    return UserFactory(username="secadmin", organization=bureau, roles=[Role.SECURITY_ADMIN])


def _decrypt(path: Path, key=None) -> bytes:
    with open(path, "rb") as raw:
        return b"".join(crypto.decrypt_chunks(raw, key))


def _scratch_exists(name: str) -> bool:
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_database WHERE datname = %s", [name])
        return cur.fetchone()[0] == 1


# --- the encryption -----------------------------------------------------------------------------


def _sealed(data: bytes, *, chunk_size: int = 16) -> bytes:
    out = io.BytesIO()
    writer = crypto.EncryptingWriter(out, crypto.encryption_key(), chunk_size=chunk_size)
    writer.write(data)
    writer.close()
    return out.getvalue()


def _records(sealed: bytes) -> tuple[bytes, list[bytes]]:
    header, rest, records = sealed[:28], sealed[28:], []
    while rest:
        (length,) = struct.unpack(">I", rest[:4])
        records.append(rest[: 4 + length])
        rest = rest[4 + length :]
    return header, records


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 32, 33, 100])
def test_encryption_round_trips_every_length_around_the_chunk_size(size):
    data = os.urandom(size)
    sealed = _sealed(data)
    assert size < 15 or data not in sealed  # (a byte or two may occur by chance)
    assert b"".join(crypto.decrypt_chunks(io.BytesIO(sealed))) == data
    reader = crypto.DecryptingReader(io.BytesIO(sealed))
    assert b"".join(iter(lambda: reader.read(7), b"")) == data


def test_a_changed_reordered_cut_or_extended_file_is_refused():
    data = os.urandom(80)  # five chunks of 16, the fifth sealed as the last
    sealed = _sealed(data)
    header, records = _records(sealed)
    assert len(records) == 5

    flipped = bytearray(sealed)
    flipped[40] ^= 0x01
    swapped = header + records[1] + records[0] + b"".join(records[2:])
    cut_at_boundary = header + b"".join(records[:-1])
    cut_inside = sealed[:-5]
    extended = sealed + records[-1]
    for bad in (bytes(flipped), swapped, cut_at_boundary, cut_inside, extended, b"not a backup"):
        with pytest.raises(crypto.BackupCorrupt):
            b"".join(crypto.decrypt_chunks(io.BytesIO(bad)))


def test_another_key_cannot_read_the_file(settings):
    sealed = _sealed(b"secret rows")
    other = crypto.generate_key_text()
    settings.BACKUP_ENCRYPTION_KEY = other
    with pytest.raises(crypto.BackupKeyError):
        b"".join(crypto.decrypt_chunks(io.BytesIO(sealed)))
    # Even a key that claims the right id (a forged header) fails authentication.
    right_id = crypto.key_from_text("dGVzdC1vbmx5LWJhY2t1cC1rZXktMzItYnl0ZXMtISE").key_id
    forged = crypto.BackupKey(
        key_id=right_id,
        data_key=crypto.key_from_text(other).data_key,
        manifest_key=crypto.key_from_text(other).manifest_key,
    )
    with pytest.raises(crypto.BackupCorrupt):
        b"".join(crypto.decrypt_chunks(io.BytesIO(sealed), forged))


def test_rotation_the_first_key_encrypts_and_every_key_decrypts(settings):
    old_sealed = _sealed(b"written with the old key")
    new = crypto.generate_key_text()
    settings.BACKUP_ENCRYPTION_KEY = f"{new},{settings.BACKUP_ENCRYPTION_KEY}"
    assert b"".join(crypto.decrypt_chunks(io.BytesIO(old_sealed))) == b"written with the old key"
    assert crypto.encryption_key().key_id == crypto.key_from_text(new).key_id


@pytest.mark.parametrize("text", ["", "short", "!!!not base64!!!", "A" * 60])
def test_a_malformed_or_missing_key_fails_the_deploy_check(settings, text):
    settings.BACKUP_ENCRYPTION_KEY = text
    errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "security.E801"]
    assert len(errors) == 1


def test_the_generated_key_passes_the_deploy_check(settings, capsys):
    call_command("backup", "--generate-key")
    settings.BACKUP_ENCRYPTION_KEY = capsys.readouterr().out.strip()
    assert not [e for e in run_checks(include_deployment_checks=True) if e.id == "security.E801"]


# --- a backup -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_backup_writes_encrypted_files_a_signed_manifest_and_snapshot_counts(backup_settings):
    backup = services.backup_create()

    assert backup.state == Backup.State.DONE, backup.error
    directory = Path(backup_settings.BACKUP_DIR) / backup.name
    assert sorted(p.name for p in directory.iterdir()) == [
        services.DB_FILE,
        services.MANIFEST_FILE,
        services.MEDIA_FILE,
    ]
    assert directory.stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in directory.iterdir()} == {0o600}
    dump = (directory / services.DB_FILE).read_bytes()
    media = (directory / services.MEDIA_FILE).read_bytes()
    # Nothing readable without the key: not pg_dump's signature, not a table name, not the media.
    for clear in (b"PGDMP", b"django_migrations", MARKER, b"uploads/2026"):
        assert clear not in dump and clear not in media
    plain = _decrypt(directory / services.DB_FILE)
    assert plain.startswith(b"PGDMP")
    with tarfile.open(fileobj=io.BytesIO(_decrypt(directory / services.MEDIA_FILE))) as tar:
        assert tar.extractfile("uploads/2026/file.csv").read() == MARKER
        assert "readme.txt" in tar.getnames()

    manifest = json.loads((directory / services.MANIFEST_FILE).read_text())
    assert manifest == backup.manifest
    assert manifest["files"][services.DB_FILE]["sha256"] == backup.checksum
    assert manifest["media_members"] == 4  # uploads/, uploads/2026/, the two files
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM django_migrations")
        migrations = cur.fetchone()[0]
    assert manifest["tables"]["public.django_migrations"] == migrations
    assert manifest["tables"]["public.security_grade"] >= 1
    assert backup.size_bytes == sum(p.stat().st_size for p in directory.iterdir())
    assert backup.kept_until > backup.started_at
    assert backup.history.count() == 2

    verified, key = services.backup_verify(backup)
    assert verified == manifest and key.key_id_hex == manifest["key_id"]
    out = io.StringIO()
    call_command("backup", "--verify", backup.name, stdout=out)
    assert "verified" in out.getvalue()


@pytest.mark.django_db
def test_the_counts_are_those_of_the_dump_snapshot_not_of_uncommitted_work(backup_settings):
    # This test's transaction is never committed: the snapshot must not count its rows.
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM security_grade")
        committed = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO security_grade (code, name, rank, description, "
            "may_share_unconditionally, may_open_unconditionally, may_open_conditionally, "
            "masking_required, storage_zone, may_operate) "
            "VALUES ('LX', 'uncommitted', 99, '', false, false, false, true, 'sensitive', false)"
        )
    backup = services.backup_create()
    assert backup.manifest["tables"]["public.security_grade"] == committed


@pytest.mark.django_db
def test_a_tampered_backup_is_refused(backup_settings):
    backup = services.backup_create()
    path = Path(backup_settings.BACKUP_DIR) / backup.name / services.DB_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x40
    path.write_bytes(bytes(data))

    with pytest.raises(crypto.BackupCorrupt, match="checksum"):
        services.backup_verify(backup)
    with pytest.raises(crypto.BackupCorrupt, match="authentication"):
        _decrypt(path)
    with pytest.raises(CommandError):
        call_command("backup", "--verify", backup.name)
    with pytest.raises(CommandError):
        call_command("backup_decrypt", str(path), "--output", str(path.with_suffix(".out")))


@pytest.mark.django_db
def test_a_manifest_changed_without_the_key_is_refused(backup_settings):
    backup = services.backup_create()
    path = Path(backup_settings.BACKUP_DIR) / backup.name / services.MANIFEST_FILE
    manifest = json.loads(path.read_text())
    manifest["tables"]["public.django_migrations"] += 1
    path.write_text(json.dumps(manifest))
    with pytest.raises(crypto.BackupCorrupt, match="signature"):
        services.backup_verify(backup)


@pytest.mark.django_db
def test_backup_decrypt_gives_a_dump_that_pg_restore_reads(backup_settings, tmp_path):
    backup = services.backup_create()
    out = tmp_path / "db.dump"
    call_command(
        "backup_decrypt",
        str(Path(backup_settings.BACKUP_DIR) / backup.name / services.DB_FILE),
        "--output",
        str(out),
    )
    import subprocess

    listing = subprocess.run(
        [engine.pg_tool("pg_restore"), "--list", str(out)], capture_output=True, check=True
    ).stdout
    assert b"TABLE public django_migrations" in listing


@pytest.mark.django_db
def test_a_failed_backup_records_why_removes_its_files_and_notifies(
    backup_settings, security_admin, tmp_path
):
    backup_settings.BACKUP_PG_BIN_DIR = str(tmp_path / "no-postgres-here")
    backup = services.backup_create()
    assert backup.state == Backup.State.FAILED
    assert "pg_dump not found" in backup.error
    assert not (Path(backup_settings.BACKUP_DIR) / backup.name).exists()
    assert Notification.objects.filter(recipient=security_admin).count() == 1
    with pytest.raises(CommandError, match="failed"):
        call_command("backup")


@pytest.mark.django_db
def test_without_a_key_the_backup_fails_and_says_so(backup_settings):
    backup_settings.BACKUP_ENCRYPTION_KEY = ""
    backup = services.backup_create()
    assert backup.state == Backup.State.FAILED
    assert "BACKUP_ENCRYPTION_KEY" in backup.error


# --- retention ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_retention_deletes_old_backups_but_keeps_the_newest(settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path)
    settings.BACKUP_KEEP_DAYS = 30
    settings.BACKUP_KEEP_COUNT = 2
    now = timezone.now()
    ages = {"b-new": 1, "b-40": 40, "b-50": 50, "b-60": 60, "b-failed": 90}
    for name, days in ages.items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "manifest.json").write_text("{}")
        state = Backup.State.FAILED if name == "b-failed" else Backup.State.DONE
        b = Backup.objects.create(name=name, state=state)
        Backup.objects.filter(pk=b.pk).update(started_at=now - timedelta(days=days))

    assert services.backups_prune(now=now) == 2
    states = dict(Backup.objects.values_list("name", "state"))
    # The two newest stay whatever their age; older ones past 30 days go.
    assert states == {
        "b-new": "done",
        "b-40": "done",
        "b-50": "pruned",
        "b-60": "pruned",
        "b-failed": "failed",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b-40", "b-failed", "b-new"]
    assert Backup.objects.get(name="b-50").pruned_at == now
    assert services.backups_prune(now=now) == 0


# --- restore drills, in this process ------------------------------------------------------------


@pytest.mark.django_db
def test_a_restore_drill_restores_compares_every_table_and_drops_the_scratch_database(
    backup_settings,
):
    backup = services.backup_create()
    drill = services.restore_drill_run()

    assert drill.state == RestoreDrill.State.PASSED, (drill.error, drill.differences)
    assert drill.backup == backup
    assert drill.tables_compared == len(backup.manifest["tables"]) > 50
    assert drill.rows_compared == sum(backup.manifest["tables"].values())
    assert drill.restore_seconds > 0
    assert drill.differences == [] and drill.error == ""
    assert not _scratch_exists(engine.scratch_name(connection.settings_dict["NAME"]))


@pytest.mark.django_db
def test_fingerprints_are_taken_in_the_snapshot_and_compared_after_restore(backup_settings):
    def migrations(cur):
        cur.execute("SELECT count(*), max(id) FROM django_migrations")
        count, last = cur.fetchone()
        return f"{count}/{last}"

    def database_name(cur):  # differs in the scratch database: must show as a difference
        cur.execute("SELECT current_database()")
        return cur.fetchone()[0]

    register_backup_fingerprint("test.migrations", migrations)
    register_backup_fingerprint("test.database", database_name)
    try:
        backup = services.backup_create()
        drill = services.restore_drill_run()
    finally:
        _FINGERPRINTS.pop("test.migrations", None)
        _FINGERPRINTS.pop("test.database", None)

    assert {"test.migrations", "test.database", "ledger.audit", "ledger.evidence"} <= set(
        backup.manifest["fingerprints"]
    )
    assert drill.state == RestoreDrill.State.FAILED
    assert drill.differences == [
        {
            "kind": "fingerprint",
            "name": "test.database",
            "expected": connection.settings_dict["NAME"],
            "found": engine.scratch_name(connection.settings_dict["NAME"]),
        }
    ]


@pytest.mark.django_db
def test_a_drill_without_any_backup_fails_and_notifies(backup_settings, security_admin):
    drill = services.restore_drill_run()
    assert drill.state == RestoreDrill.State.FAILED
    assert "no backup" in drill.error
    assert Notification.objects.filter(recipient=security_admin).exists()


@pytest.mark.django_db
def test_a_drill_of_a_tampered_backup_fails_before_restoring(backup_settings, security_admin):
    backup = services.backup_create()
    path = Path(backup_settings.BACKUP_DIR) / backup.name / services.MEDIA_FILE
    path.write_bytes(path.read_bytes()[:-3])
    drill = services.restore_drill_run()
    assert drill.state == RestoreDrill.State.FAILED
    assert "checksum" in drill.error and drill.restore_seconds is None
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("restore_drill", stdout=out)


# --- the page -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_only_the_security_admin_sees_the_page_and_its_buttons(
    login, security_admin, staff_a, system_admin
):
    for outsider in (staff_a, system_admin):
        client = login(outsider)
        assert client.get("/security/backups/").status_code == 404
        assert client.get("/security/backups/drills/").status_code == 404
        assert client.post("/security/backups/run/").status_code == 404
        assert client.post("/security/backups/drill/").status_code == 404
        assert client.get("/security/backups/status/").status_code == 404
    assert not BackgroundJob.objects.exists()

    client = login(security_admin)
    page = client.get("/security/backups/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'action="/security/backups/run/"' in html
    assert 'action="/security/backups/drill/"' not in html  # no backup yet
    assert 'href="/security/backups/"' in html  # the menu entry


@pytest.mark.django_db
def test_run_now_queues_a_durable_job_on_the_long_queue_once(login, security_admin, settings):
    client = login(security_admin)
    assert client.post("/security/backups/drill/", follow=True).status_code == 200
    assert not BackgroundJob.objects.exists()  # refused: no backup yet

    response = client.post("/security/backups/run/", follow=True)
    job = BackgroundJob.objects.get()
    assert job.task_name == services.BACKUP_TASK and job.created_by == security_admin
    assert settings.CELERY_TASK_ROUTES[services.BACKUP_TASK] == {"queue": "long"}
    assert settings.CELERY_TASK_ROUTES[services.DRILL_TASK] == {"queue": "long"}
    assert "jobs-title" in response.content.decode()  # the job's state is shown
    status = client.get("/security/backups/status/").json()
    assert status == {
        "active": 1,
        "jobs": [
            {
                "id": str(job.pk),
                "state": "pending",
                "label": status["jobs"][0]["label"],
                "progress": 0,
            }
        ],
    }

    client.post("/security/backups/run/")
    assert BackgroundJob.objects.count() == 1  # refused while one is queued


def _backups_with_drills(start: int, count: int) -> None:
    for i in range(start, start + count):
        b = Backup.objects.create(
            name=f"b{i:02}", state=Backup.State.DONE, checksum="ab" * 32, size_bytes=1000 + i
        )
        RestoreDrill.objects.create(
            backup=b,
            state=RestoreDrill.State.FAILED if i % 2 else RestoreDrill.State.PASSED,
            restore_seconds=1.5,
            differences=[{"kind": "table", "name": "public.x", "expected": 1, "found": 2}]
            if i % 2
            else [],
        )


def _queries(client, url) -> int:
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.django_db
def test_the_page_lists_backups_and_drills_in_a_fixed_number_of_queries(login, security_admin):
    client = login(security_admin)
    _backups_with_drills(0, 2)
    client.get("/security/backups/")
    few = (_queries(client, "/security/backups/"), _queries(client, "/security/backups/drills/"))
    _backups_with_drills(2, 40)
    many = (_queries(client, "/security/backups/"), _queries(client, "/security/backups/drills/"))
    assert many == few

    assert "b21" in client.get("/security/backups/?page=2").content.decode()
    drills = client.get("/security/backups/drills/?result=failed").content.decode()
    assert drills.count("public.x") == 20
    failed_only = client.get("/security/backups/?state=failed").content.decode()
    assert "backup-table" not in failed_only and "empty-state" in failed_only


@pytest.mark.django_db
def test_the_filters_take_naughty_strings_without_an_error(login, security_admin, naughty):
    client = login(security_admin)
    for text in naughty:
        for url, field in (
            ("/security/backups/", "state"),
            ("/security/backups/drills/", "result"),
        ):
            response = client.get(url, {field: text, "page": text})
            assert response.status_code == 200, (url, text)


# --- beat and a real worker ---------------------------------------------------------------------


@pytest.mark.django_db
def test_beat_queues_one_backup_and_one_drill_at_a_time(settings):
    assert services.backup_schedule() is True
    assert services.backup_schedule() is False
    assert services.restore_drill_schedule() is True
    assert services.restore_drill_schedule() is False
    assert sorted(BackgroundJob.objects.values_list("task_name", flat=True)) == [
        services.BACKUP_TASK,
        services.DRILL_TASK,
    ]
    assert settings.CELERY_BEAT_SCHEDULE["security.restore_drill_weekly"]["task"] == (
        "security.restore_drill_weekly"
    )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_restore_drill_through_a_real_worker_compares_counts_and_finds_an_altered_manifest(
    services_log_dir, tmp_path, settings
):
    # A redis-server of the test's own: the session's worker listens on the shared spare
    # redis, with another BACKUP_DIR, and would otherwise take this test's jobs.
    own_redis = RedisServer(services_log_dir, name="redis-backups").start()
    settings.BACKUP_DIR = str(tmp_path / "backups")
    settings.MEDIA_ROOT = str(tmp_path / "media")
    env = {
        **celery_env(redis_url=own_redis.url, database=database_url(connection.settings_dict)),
        "BACKUP_DIR": settings.BACKUP_DIR,
        "DJANGO_MEDIA_ROOT": settings.MEDIA_ROOT,
    }
    admin = UserFactory(username="secadmin", roles=[Role.SECURITY_ADMIN])
    integrate("audit")  # the set-up's own audit records (the admin's creation, role changes)
    for i in range(3):
        ledger.append("audit", {"action": "test", "n": i})
    assert integrate("audit") == 3
    signed = LedgerLeaf.objects.filter(log="audit").count()  # the last signed head's size
    worker = CeleryWorker(services_log_dir, env, name="backup-worker").start()
    try:
        with celery_app_on(own_redis.url):
            services.backup_request(acting_user=admin)
            backup = wait_for(
                lambda: Backup.objects.exclude(state=Backup.State.RUNNING).first(),
                timeout=180,
                what="the backup",
            )
            assert backup.state == Backup.State.DONE, backup.error
            assert backup.created_by == admin
            # The ledger's roots were taken in the dump's snapshot (and compared below).
            audit_root = backup.manifest["fingerprints"]["ledger.audit"]
            assert audit_root == f"size={signed} root={root_hash('audit', signed).hex()}"

            services.restore_drill_request(acting_user=admin)
            drill = wait_for(
                lambda: RestoreDrill.objects.exclude(state=RestoreDrill.State.RUNNING).first(),
                timeout=300,
                what="the restore drill",
            )
            assert drill.state == RestoreDrill.State.PASSED, (drill.error, drill.differences)
            assert drill.tables_compared == len(backup.manifest["tables"])
            assert drill.restore_seconds > 0
            job = BackgroundJob.objects.get(task_name=services.DRILL_TASK)
            wait_for(lambda: BackgroundJob.objects.get(pk=job.pk).state == "done", timeout=30)
            assert BackgroundJob.objects.get(pk=job.pk).progress == 100

            # Someone holding the key rewrites the manifest: the drill finds the counts differ.
            path = Path(settings.BACKUP_DIR) / backup.name / services.MANIFEST_FILE
            manifest = json.loads(path.read_text())
            manifest["tables"]["public.django_migrations"] += 1
            path.write_text(json.dumps(crypto.manifest_sign(manifest, crypto.encryption_key())))

            services.restore_drill_request(acting_user=admin)
            second = wait_for(
                lambda: (
                    RestoreDrill.objects.exclude(pk=drill.pk)
                    .exclude(state=RestoreDrill.State.RUNNING)
                    .first()
                ),
                timeout=300,
                what="the second restore drill",
            )
    finally:
        worker.stop()
        own_redis.stop()
    assert second.state == RestoreDrill.State.FAILED
    kinds = {(d["kind"], d["name"]) for d in second.differences}
    assert ("table", "public.django_migrations") in kinds
    assert ("manifest", services.MANIFEST_FILE) in kinds
    found = next(d for d in second.differences if d["name"] == "public.django_migrations")
    assert found["expected"] == found["found"] + 1
    assert Notification.objects.filter(recipient=admin).count() == 1
    assert not _scratch_exists(engine.scratch_name(connection.settings_dict["NAME"]))


@pytest.mark.django_db
def test_an_unexpected_error_is_recorded_cleaned_up_and_raised(backup_settings, monkeypatch):
    from celery.exceptions import SoftTimeLimitExceeded

    def stopped(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(engine, "archive_media", stopped)
    with pytest.raises(SoftTimeLimitExceeded):
        services.backup_create()
    backup = Backup.objects.get()
    assert backup.state == Backup.State.FAILED and "SoftTimeLimitExceeded" in backup.error
    assert not (Path(backup_settings.BACKUP_DIR) / backup.name).exists()


@pytest.mark.django_db
def test_runs_left_running_by_a_killed_worker_are_marked_interrupted(settings, tmp_path):
    settings.BACKUP_DIR = str(tmp_path)
    (tmp_path / "half").mkdir()
    old = Backup.objects.create(name="half")
    recent = Backup.objects.create(name="recent")
    drill = RestoreDrill.objects.create()
    long_ago = timezone.now() - timedelta(hours=5)
    Backup.objects.filter(pk=old.pk).update(started_at=long_ago)
    RestoreDrill.objects.filter(pk=drill.pk).update(started_at=long_ago)

    assert services.runs_mark_interrupted() == 2
    old.refresh_from_db(), recent.refresh_from_db(), drill.refresh_from_db()
    assert old.state == Backup.State.FAILED and "interrupted" in old.error
    assert drill.state == RestoreDrill.State.FAILED
    assert recent.state == Backup.State.RUNNING  # may still be running
    assert not (tmp_path / "half").exists()
