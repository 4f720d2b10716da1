"""Files of zone resources are kept sealed (issue #13, item 2: copies of zone data follow the
zone; wuhan_pdr/kernel/sealed_files.py): the uploaded file and the reject file of a restricted
or sensitive resource are not the clear CSV on disk, the loader opens them, and the reject file
is opened only for the provider's staff (404 for others), each download recorded with its rows
and bytes. A general resource's files stay plain."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from aggregation import services
from aggregation.models import Batch
from security.audit.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import HEADER, client, csv_rows
from tests.catalog.factories import make_city_bureau
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel import sealed_files

BAD = "A9001,坏行张三,abc,,,\n"  # age is not a number: rejected


def upload(setup, content: str, name: str = "data.csv") -> Batch:
    batch = services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile(name, content.encode()),
        acting_user=setup.agency.staff,
    )
    return batch


def on_disk(field) -> bytes:
    return Path(field.path).read_bytes()


# --- the file format -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 99, 100, 101, 1000])
def test_sealing_round_trips_and_tells_the_clear_size(size):
    clear = bytes(range(256)) * 4
    clear = clear[:size]
    sealed = io.BytesIO()
    with sealed_files.SealingWriter(sealed, chunk_size=100) as writer:
        writer.write(clear[:7])
        writer.write(clear[7:])
    sealed.seek(0)
    assert sealed_files.is_sealed(sealed) and sealed.tell() == 0
    assert sealed_files.clear_size(sealed) == size
    assert b"".join(sealed_files.open_chunks(sealed)) == clear


def test_a_changed_reordered_or_cut_file_does_not_open():
    sealed = io.BytesIO()
    with sealed_files.SealingWriter(sealed, chunk_size=64) as writer:
        writer.write(b"x" * 300)
    data = sealed.getvalue()
    changed = bytearray(data)
    changed[60] ^= 1
    header, record = 28, 4 + 64 + 16
    cut = data[: header + 2 * record]  # whole records, the last one missing
    for bad in (bytes(changed), cut, data[:-3]):
        with pytest.raises(sealed_files.SealedFileError):
            b"".join(sealed_files.open_chunks(io.BytesIO(bad)))


def test_a_plain_file_is_read_as_it_is():
    plain = io.BytesIO(b"code,name\nA1,x\n")
    assert not sealed_files.is_sealed(plain)
    assert sealed_files.clear_size(plain) == 15
    assert b"".join(sealed_files.clear_chunks(plain)) == b"code,name\nA1,x\n"


# --- files of a zone resource --------------------------------------------------------------------


@pytest.fixture
def zoned(db):
    return make_channel(items=items_people(), grade="L3", allow_reject_file=True, name="受限通道")


def test_the_upload_and_reject_file_of_a_zone_resource_are_sealed_on_disk(zoned):
    content = csv_rows(4) + BAD
    batch = upload(zoned, content)
    stored = on_disk(batch.source_file)
    assert stored.startswith(sealed_files.MAGIC)
    assert content.encode() not in stored and "姓名1".encode() not in stored
    assert batch.source_name == "data.csv"  # the name the user gave, for the pages

    batch = services.batch_run(batch_id=batch.pk)  # the loader opens it
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert (batch.rows_inserted, batch.rows_rejected) == (4, 1)
    rejects = on_disk(batch.reject_file)
    assert rejects.startswith(sealed_files.MAGIC)
    assert "坏行张三".encode() not in rejects and b"A9001" not in rejects


def test_the_reject_file_opens_for_the_provider_and_is_404_for_others(zoned, staff_b):
    batch = services.batch_run(batch_id=upload(zoned, csv_rows(2) + BAD).pk)
    url = reverse("aggregation:batch-reject-file", args=[batch.pk])

    response = client(zoned.agency.staff).get(url)
    assert response.status_code == 200
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    assert "A9001" in body and "坏行张三" in body
    assert int(response["Content-Length"]) == len(body.encode("utf-8-sig"))
    entry = AuditEvent.objects.filter(action="data.download").latest("id")
    assert entry.actor == zoned.agency.staff
    assert entry.details["rows"] == 1 and entry.details["bytes"] == len(body.encode("utf-8-sig"))
    assert entry.details["sealed"] is True

    reviewer = make_city_bureau().reviewer
    auditor = UserFactory(organization=make_city_bureau().org, roles=[Role.AUDITOR])
    before = AuditEvent.objects.filter(action="data.download").count()
    for other in (staff_b, reviewer, auditor):
        assert client(other).get(url).status_code == 404
    assert AuditEvent.objects.filter(action="data.download").count() == before


def test_an_excel_upload_of_a_zone_resource_is_sealed_and_loads(zoned):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in (HEADER + csv_rows(3)[len(HEADER) :]).splitlines():
        sheet.append(line.split(","))
    out = io.BytesIO()
    book.save(out)
    batch = services.batch_upload(
        channel=zoned.channel,
        uploaded=SimpleUploadedFile("data.xlsx", out.getvalue()),
        acting_user=zoned.agency.staff,
    )
    assert on_disk(batch.source_file).startswith(sealed_files.MAGIC)
    assert batch.source_file.name.endswith(".xlsx")
    batch = services.batch_run(batch_id=batch.pk)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.rows_inserted == 3


# --- a general resource's files stay plain ---------------------------------------------------------


def test_a_general_resources_files_stay_plain_and_downloads_are_recorded(db):
    setup = make_channel(allow_reject_file=True)
    content = csv_rows(2) + BAD
    batch = upload(setup, content)
    assert on_disk(batch.source_file) == content.encode()
    batch = services.batch_run(batch_id=batch.pk)
    assert b"A9001" in on_disk(batch.reject_file)
    reviewer = make_city_bureau().reviewer  # oversight sees a general resource's rejects
    response = client(reviewer).get(reverse("aggregation:batch-reject-file", args=[batch.pk]))
    assert response.status_code == 200
    entry = AuditEvent.objects.filter(action="data.download").latest("id")
    assert entry.details["sealed"] is False and entry.details["bytes"] > 0


# --- the kept source of a held pull ------------------------------------------------------------


def test_the_held_source_of_a_zone_pull_is_sealed_and_loads_when_confirmed(
    db, settings, monkeypatch
):
    from aggregation import pull
    from tests.aggregation.test_pull import Agency, paged, person, pull_channel
    from tests.catalog.factories import grade

    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = True
    monkeypatch.setattr(pull, "BACKOFF_SECONDS", 0.01)
    api = Agency()
    try:
        api.respond = paged([person(i) for i in range(12)], 5)
        setup = pull_channel(api)
        first = services.batch_start(channel=setup.channel, acting_user=setup.agency.staff)
        assert services.batch_run(batch_id=first.pk).status == Batch.Status.SUCCEEDED
        # The grade rises to L3: the provider confirms the move up, the table moves.
        version = setup.resource.published_version
        version.grade = grade("L3")
        version.save(update_fields=["grade"])
        job = services.datastore_confirm_changes(
            resource=setup.resource, confirm=True, acting_user=setup.agency.staff
        )
        assert services.datastore_rebuild(**job.kwargs).schema == "datastore_restricted"

        api.respond = paged([person(i) for i in range(2)], 5)  # a short answer: held
        by_hand = services.batch_start(channel=setup.channel, acting_user=setup.agency.staff)
        held = services.batch_run(batch_id=by_hand.pk)
        assert held.status == Batch.Status.HELD and held.source_file
        kept = on_disk(held.source_file)
        assert kept.startswith(sealed_files.MAGIC) and b"P0001" not in kept

        services.batch_hold_confirm(batch=held, acting_user=setup.agency.staff)
        done = services.batch_run(batch_id=held.pk)
        assert done.status == Batch.Status.SUCCEEDED, done.error
        assert done.rows_inserted == 2
    finally:
        api.close()
