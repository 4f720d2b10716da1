"""The canonical snapshot (issue #16, item 3): the same bytes whatever the session's settings
and the column's collation, equal to the documented COPY run here; deposits a changed
database or file betrays; a failure leaves nothing behind; a real worker makes one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.db import connection, transaction
from psycopg import sql

from aggregation.models import DatastoreTable
from registration.evidence import canonical, services
from registration.evidence.models import Deposit
from wuhan_pdr.kernel.ledger.models import LedgerLeaf
from wuhan_pdr.kernel.sealed_files import MAGIC

from .factories import deposit, typed

COLUMNS = "code, full_name, age, born, amount, updated_at, ratio, active, note"


def documented_copy_digest(table: DatastoreTable) -> tuple[str, bytes]:
    """The documented steps (docs/evidence.md) run on this connection: the SET lines, then
    the COPY, digested."""
    h, body = hashlib.sha256(), bytearray()
    with connection.cursor() as cur:
        for line in canonical.settings_psql().splitlines():
            cur.execute(line)
        query = sql.SQL(
            'COPY (SELECT {cols} FROM {schema}.{table} ORDER BY code COLLATE "C") '
            "TO STDOUT (FORMAT csv, HEADER)"
        ).format(
            cols=sql.SQL(COLUMNS),
            schema=sql.Identifier(table.schema),
            table=sql.Identifier(table.table_name),
        )
        with cur.cursor.copy(query) as copy:
            for chunk in copy:
                h.update(chunk)
                body += chunk
    return h.hexdigest(), bytes(body)


def snapshot_digest(table: DatastoreTable) -> str:
    """What the deposit service writes, digested (`canonical.write_snapshot`)."""
    writer = canonical.DigestWriter(None)
    with transaction.atomic(), connection.cursor() as cur:
        canonical.write_snapshot(
            cur.cursor,
            schema=table.schema,
            table=table.table_name,
            columns=[
                canonical.SnapshotColumn(c["name"], c["type"], bool(c.get("key")))
                for c in table.columns
            ],
            writer=writer,
        )
    return writer.hexdigest()


def plain_copy(table: DatastoreTable) -> bytes:
    body = bytearray()
    with connection.cursor() as cur:
        query = sql.SQL("COPY (SELECT {} FROM {}.{} ORDER BY code) TO STDOUT (FORMAT csv)").format(
            sql.SQL(COLUMNS), sql.Identifier(table.schema), sql.Identifier(table.table_name)
        )
        with cur.cursor.copy(query) as copy:
            for chunk in copy:
                body += chunk
    return bytes(body)


OTHER_SESSION = (
    ("DateStyle", "SQL, DMY"),
    ("TimeZone", "America/New_York"),
    ("extra_float_digits", "-10"),
    ("bytea_output", "escape"),
    ("IntervalStyle", "sql_standard"),
)


def test_the_digest_ignores_the_session_and_equals_the_documented_copy(db):
    setup = typed()
    first = deposit(setup)
    assert first.state == Deposit.State.DONE
    table = DatastoreTable.objects.get(resource=setup.resource)
    before = plain_copy(table)
    with connection.cursor() as cur:
        # The key column's collation changed: a linguistic order puts a1 before B2.
        cur.execute(
            sql.SQL(
                'ALTER TABLE {}.{} ALTER COLUMN code TYPE varchar(20) COLLATE "en-US-x-icu"'
            ).format(sql.Identifier(table.schema), sql.Identifier(table.table_name))
        )
        for name, value in OTHER_SESSION:
            cur.execute(sql.SQL("SET {} = {}").format(sql.Identifier(name), sql.Literal(value)))
    try:
        # The settings do change what a plain COPY prints (dates, floats, order) ...
        changed = plain_copy(table)
        assert changed != before
        assert b"02/01/1990" in changed and b",3.1416," in changed
        # ... not the canonical snapshot.
        assert snapshot_digest(table) == first.data_sha256
        with connection.cursor() as cur:
            cur.execute("SHOW DateStyle")
            assert cur.fetchone()[0] == "SQL, DMY"  # SET LOCAL: the session's settings stay
    finally:
        with connection.cursor() as cur:
            for name, _value in OTHER_SESSION:
                cur.execute(sql.SQL("RESET {}").format(sql.Identifier(name)))

    digest, body = documented_copy_digest(table)
    assert digest == first.data_sha256
    text = body.decode("utf-8")
    assert text.splitlines()[0] == COLUMNS.replace(" ", "")
    # Byte order of the keys ("C"), ISO dates, shortest floats, t/f, "" for an empty text,
    # nothing for NULL, quotes doubled.
    assert [line.split(",")[0] for line in text.splitlines()[1:]] == ["B2", "Z3", "_x", "a1"]
    assert 'a1,张三,30,1990-01-02,12.50,2025-01-02 08:00:00,0.1,t,"含,逗号和""引号"""' in text
    assert "Z3,王五,,,7.00,2024-02-29 12:00:00,3.141592653589793,t,plain" in text
    assert "1e-07,f," in text
    assert body.endswith(b"\n") and b"\r" not in body
    # The file kept is exactly these bytes.
    with first.data_file.open("rb") as fh:
        assert fh.read() == body


def test_a_deposit_is_logged_with_its_digests_and_canonical_metadata(db):
    setup = typed()
    made = deposit(setup)
    meta = made.metadata_json.encode()
    assert hashlib.sha256(meta).hexdigest() == made.metadata_sha256
    assert made.metadata_bytes == len(meta)
    import json

    import rfc8785

    parsed = json.loads(meta)
    assert rfc8785.dumps(parsed) == meta  # canonical: serializing again gives the same bytes
    assert parsed["data"]["sha256"] == made.data_sha256
    assert parsed["data"]["ordered_by"] == ["code"]
    assert parsed["data"]["rows"] == 4 == made.data_rows
    entry = json.loads(bytes(made_entry(made)))
    assert entry["deposit"] == str(made.public_id)
    assert entry["data_sha256"] == made.data_sha256
    assert entry["metadata_sha256"] == made.metadata_sha256
    assert services.deposit_check(made) == []


def made_entry(made):
    from wuhan_pdr.kernel.ledger.models import LedgerEntry

    return LedgerEntry.objects.get(leaf_id=made.leaf_id).entry


def test_a_deposit_altered_in_the_database_or_in_storage_is_detected(db):
    setup = typed()
    made = deposit(setup)
    assert services.deposit_check(made) == []
    # A digest rewritten in the row.
    Deposit.objects.filter(pk=made.pk).update(data_sha256="0" * 64)
    altered = Deposit.objects.get(pk=made.pk)
    problems = services.deposit_check(altered)
    assert "The deposit's record differs from its ledger entry." in problems
    assert "The deposited file does not match its digest." in problems
    # The metadata rewritten (digest kept).
    Deposit.objects.filter(pk=made.pk).update(
        data_sha256=made.data_sha256,
        metadata_json=made.metadata_json.replace("存证", "xx")
        if "存证" in made.metadata_json
        else made.metadata_json + " ",
    )
    assert "The metadata does not match its digest." in services.deposit_check(
        Deposit.objects.get(pk=made.pk)
    )
    Deposit.objects.filter(pk=made.pk).update(metadata_json=made.metadata_json)
    assert services.deposit_check(Deposit.objects.get(pk=made.pk)) == []
    # One byte of the stored file changed.
    path = default_storage.path(made.data_file.name)
    data = bytearray(Path(path).read_bytes())
    data[-2] ^= 1
    Path(path).write_bytes(bytes(data))
    assert services.deposit_check(Deposit.objects.get(pk=made.pk)) == [
        "The deposited file does not match its digest."
    ]


def test_a_sensitive_resource_s_snapshot_is_sealed_at_rest(db):
    setup = typed(grade="L4")
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert table.schema == "datastore_sensitive"
    made = deposit(setup)
    assert made.data_sealed and made.zone == "sensitive"
    with made.data_file.open("rb") as fh:
        assert fh.read(len(MAGIC)) == MAGIC
    assert services.deposit_check(made) == []
    clear = b"".join(services.deposit_file_chunks(made))
    assert hashlib.sha256(clear).hexdigest() == made.data_sha256


def test_a_failed_deposit_is_failed_and_leaves_nothing(db):
    from authorization.opendata.models import OpenFile
    from tests.authorization.opendata.factories import city_licence, make_open

    city_licence()
    setup = make_open(n=3)
    from authorization.opendata.services import downloads_build

    downloads_build(resource_id=setup.resource.pk)
    request = services.deposit_request(
        kind=Deposit.Kind.OPEN_DATA,
        holder=setup.resource.provider,
        resource=setup.resource,
        acting_user=setup.agency.staff,
    )
    # The published file vanishes before the job runs.
    published = OpenFile.objects.get(dataset__resource=setup.resource, format="csv")
    default_storage.delete(published.file.name)
    leaves = LedgerLeaf.objects.filter(log="evidence").count()
    with pytest.raises(OSError):
        services.deposit_make(deposit_id=request.pk)
    failed = Deposit.objects.get(pk=request.pk)
    assert failed.state == Deposit.State.FAILED and failed.error
    assert failed.data_sha256 == "" and failed.leaf_id is None
    assert LedgerLeaf.objects.filter(log="evidence").count() == leaves
    folder = f"evidence/{failed.public_id}"
    assert not default_storage.exists(folder) or default_storage.listdir(folder) == ([], [])
    # A failed deposit is not made again.
    assert services.deposit_make(deposit_id=request.pk).state == Deposit.State.FAILED


def test_only_the_provider_deposits_a_loaded_resource(db):
    from wuhan_pdr.kernel.errors import DomainError

    setup = typed()
    other = typed()
    with pytest.raises(DomainError):
        services.deposit_request(
            kind="resource_data",
            holder=other.resource.provider,
            resource=setup.resource,
            acting_user=other.agency.staff,
        )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_the_deposit(celery_worker, celery_app_on_spare_redis, settings):
    import os
    from importlib import import_module

    from django.core.files.uploadedfile import SimpleUploadedFile

    from aggregation import services as aggregation_services
    from aggregation.models import Batch
    from tests.registration.evidence.factories import typed_channel, typed_content
    from tests.services import wait_for
    from wuhan_pdr.kernel.models import BackgroundJob

    # The worker reads and writes the media the settings module names, not this test's own.
    configured = import_module(os.environ["DJANGO_SETTINGS_MODULE"])
    settings.MEDIA_ROOT = configured.MEDIA_ROOT
    settings.STORAGES = configured.STORAGES
    # The live worker loads the data (an upload queues its batch): wait for it.
    setup = typed_channel()
    with transaction.atomic():  # the job is sent once the upload is stored
        batch = aggregation_services.batch_upload(
            channel=setup.channel,
            uploaded=SimpleUploadedFile("data.csv", typed_content().encode()),
            acting_user=setup.agency.staff,
        )
    wait_for(
        lambda: Batch.objects.get(pk=batch.pk).status in ("succeeded", "failed"),
        timeout=90,
        interval=0.5,
        what="data loaded",
    )
    loaded = Batch.objects.get(pk=batch.pk)
    assert loaded.status == "succeeded", (loaded.error, celery_worker.log_tail())
    with transaction.atomic():
        request = services.deposit_request(
            kind="resource_data",
            holder=setup.resource.provider,
            resource=setup.resource,
            acting_user=setup.agency.staff,
        )
    job = BackgroundJob.objects.get(pk=request.job_id)

    def finished():
        job.refresh_from_db()
        return job.state in ("done", "failed")

    try:
        wait_for(finished, timeout=90, interval=0.5, what="deposit made")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert job.state == "done", (job.last_error, celery_worker.log_tail())
    assert job.progress == 100
    made = Deposit.objects.get(pk=request.pk)
    assert made.state == Deposit.State.DONE and made.leaf_id
    table = DatastoreTable.objects.get(resource=setup.resource)
    assert snapshot_digest(table) == made.data_sha256


def test_evidence_check_names_an_altered_deposit(db, capsys):
    from django.core.management import CommandError, call_command

    setup = typed()
    good, bad = deposit(setup), deposit(setup)
    call_command("evidence_check")
    assert "2 deposits checked, all hold" in capsys.readouterr().out
    Deposit.objects.filter(pk=bad.pk).update(data_bytes=bad.data_bytes + 1)
    with pytest.raises(CommandError):
        call_command("evidence_check", "--no-files")
    out = capsys.readouterr().out
    assert str(bad.public_id) in out and str(good.public_id) not in out
