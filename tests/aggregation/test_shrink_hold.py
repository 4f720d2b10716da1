"""A full load that would shrink a table is held, not applied without a word (issue 12,
item 2): the counts are told before the swap; past AGGREGATION_SHRINK_HOLD_RATIO the batch
waits for the provider's confirmation (confirm: it loads; discard: the table keeps its rows);
a scheduled pull is refused and reported. Real loads into real datastore tables; the previous
rows are checked intact on every path."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from psycopg import sql

from aggregation import services
from aggregation.datastore import qualified
from aggregation.models import Batch, DatastoreTable
from tests.aggregation.factories import make_channel
from tests.aggregation.test_pull import Agency, paged, person
from tests.aggregation.test_pull import pull_channel as make_pull_channel
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.models import BackgroundJob, Notification

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"
S = Batch.Status


def csv_rows(n: int, prefix: str = "A") -> str:
    return HEADER + "".join(f"{prefix}{i:03d},人{i},{20 + i % 50},,,\n" for i in range(n))


def upload(setup, content: str) -> Batch:
    batch = services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("data.csv", content.encode("utf-8")),
        acting_user=setup.agency.staff,
    )
    return services.batch_run(batch_id=batch.pk)


def table_rows(resource) -> list[tuple]:
    table = DatastoreTable.objects.get(resource=resource)
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT * FROM {} ORDER BY code").format(qualified(table)))
        return cur.fetchall()


def shadow_tables(resource) -> list[str]:
    name = DatastoreTable.objects.get(resource=resource).table_name
    with connection.cursor() as cur:
        cur.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'datastore' AND table_name LIKE %s",
            [name + "_n%"],
        )
        return [r[0] for r in cur.fetchall()]


@pytest.fixture
def loaded(db):
    """A file channel whose table holds 17 rows (the demo 地名信息 case)."""
    setup = make_channel()
    first = upload(setup, csv_rows(17))
    assert first.status == S.SUCCEEDED, first.error
    assert (first.rows_before, first.rows_after) == (0, 17)
    return setup


def test_a_short_file_is_held_with_the_counts_and_the_table_is_untouched(loaded):
    before = table_rows(loaded.resource)

    batch = upload(loaded, csv_rows(3, prefix="N"))

    assert batch.status == S.HELD, batch.error
    assert (batch.rows_before, batch.rows_after, batch.rows_received) == (17, 3, 3)
    assert table_rows(loaded.resource) == before
    assert DatastoreTable.objects.get(resource=loaded.resource).row_count == 17
    assert shadow_tables(loaded.resource) == []
    note = Notification.objects.get(recipient=loaded.agency.staff, url__contains=str(batch.pk))
    assert "17" in note.body and "3" in note.body


def test_confirming_loads_the_held_batch_once_and_records_who(loaded):
    held = upload(loaded, csv_rows(3, prefix="N"))
    staff = loaded.agency.staff

    confirmed = services.batch_hold_confirm(batch=held, acting_user=staff)
    assert confirmed.status == S.PENDING and confirmed.hold_decided_by == staff
    jobs = BackgroundJob.objects.filter(kwargs__batch_id=str(held.pk)).count()
    # A second confirmation (a double click) does nothing new.
    again = services.batch_hold_confirm(batch=held, acting_user=staff)
    assert again.status == S.PENDING
    assert BackgroundJob.objects.filter(kwargs__batch_id=str(held.pk)).count() == jobs

    done = services.batch_run(batch_id=held.pk)
    assert done.status == S.SUCCEEDED, done.error
    assert [r[0] for r in table_rows(loaded.resource)] == ["N000", "N001", "N002"]
    assert (done.rows_before, done.rows_after) == (17, 3)
    reasons = list(loaded.channel.history.values_list("history_change_reason", flat=True))
    assert f"held batch confirmed: {str(held.pk)[:8]}" in reasons
    assert loaded.channel.history.filter(history_user=staff).exists()


def test_discarding_keeps_the_table_and_cannot_be_confirmed_after(loaded):
    before = table_rows(loaded.resource)
    held = upload(loaded, csv_rows(3, prefix="N"))
    staff = loaded.agency.staff

    discarded = services.batch_hold_discard(batch=held, acting_user=staff)
    assert discarded.status == S.DISCARDED
    assert services.batch_hold_discard(batch=held, acting_user=staff).status == S.DISCARDED
    with pytest.raises(DomainError):
        services.batch_hold_confirm(batch=held, acting_user=staff)
    assert table_rows(loaded.resource) == before
    reasons = list(loaded.channel.history.values_list("history_change_reason", flat=True))
    assert f"held batch discarded: {str(held.pk)[:8]}" in reasons


def test_a_held_batch_overtaken_by_a_later_load_cannot_be_confirmed(loaded):
    held = upload(loaded, csv_rows(3, prefix="N"))
    later = upload(loaded, csv_rows(16, prefix="L"))
    assert later.status == S.SUCCEEDED
    with pytest.raises(DomainError):
        services.batch_hold_confirm(batch=held, acting_user=loaded.agency.staff)
    assert len(table_rows(loaded.resource)) == 16


def test_small_shrinks_and_tiny_tables_are_not_held(db, settings):
    setup = make_channel()
    assert upload(setup, csv_rows(17)).status == S.SUCCEEDED
    # 17 -> 9 loses 8 rows, not more than half: applied.
    assert upload(setup, csv_rows(9)).status == S.SUCCEEDED
    assert len(table_rows(setup.resource)) == 9
    # Fewer rows than AGGREGATION_SHRINK_HOLD_MIN_ROWS: applied.
    settings.AGGREGATION_SHRINK_HOLD_MIN_ROWS = 10
    assert upload(setup, csv_rows(1)).status == S.SUCCEEDED
    assert len(table_rows(setup.resource)) == 1


def test_the_threshold_is_a_setting(loaded, settings):
    settings.AGGREGATION_SHRINK_HOLD_RATIO = 0.1
    assert upload(loaded, csv_rows(14)).status == S.HELD  # 3 of 17 > 10 %
    settings.AGGREGATION_SHRINK_HOLD_RATIO = 1
    assert upload(loaded, csv_rows(1)).status == S.SUCCEEDED  # never held


@pytest.fixture
def agency_api():
    server = Agency()
    yield server
    server.close()


@pytest.fixture
def _fast(settings, monkeypatch):
    from aggregation import pull

    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = True
    monkeypatch.setattr(pull, "BACKOFF_SECONDS", 0.01)


def pulled(setup) -> list[str]:
    name = DatastoreTable.objects.get(resource=setup.resource).table_name
    with connection.cursor() as cur:
        cur.execute(sql.SQL("SELECT code FROM {} ORDER BY code").format(qualified(name)))
        return [r[0] for r in cur.fetchall()]


@pytest.mark.usefixtures("_fast")
def test_a_scheduled_pull_that_would_shrink_the_table_is_refused_and_reported(db, agency_api):
    agency_api.respond = paged([person(i) for i in range(12)], 5)
    setup = make_pull_channel(agency_api)
    first = services.batch_start(channel=setup.channel, acting_user=setup.agency.staff)
    assert services.batch_run(batch_id=first.pk).status == S.SUCCEEDED
    before = pulled(setup)
    assert len(before) == 12

    agency_api.respond = paged([person(i) for i in range(2)], 5)  # a short answer
    scheduled = services.batch_start(channel=setup.channel, scheduled=True)
    refused = services.batch_run(batch_id=scheduled.pk)

    assert refused.status == S.FAILED
    assert (refused.rows_before, refused.rows_after) == (12, 2)
    assert "12" in refused.error and "2" in refused.error
    assert pulled(setup) == before
    assert Notification.objects.filter(
        recipient=setup.agency.staff, url__contains=str(refused.pk)
    ).exists()

    # Run by hand, the same short answer waits for confirmation, its rows kept; a
    # confirmation loads exactly those rows even if the source has changed since.
    by_hand = services.batch_start(channel=setup.channel, acting_user=setup.agency.staff)
    held = services.batch_run(batch_id=by_hand.pk)
    assert held.status == S.HELD and held.source_file
    assert pulled(setup) == before
    agency_api.respond = paged([person(i) for i in range(40, 41)], 5)
    services.batch_hold_confirm(batch=held, acting_user=setup.agency.staff)
    done = services.batch_run(batch_id=held.pk)
    assert done.status == S.SUCCEEDED, done.error
    assert pulled(setup) == [person(i)["code"] for i in range(2)]


def test_the_batch_page_shows_the_hold_and_its_buttons_and_confirm_works(loaded):
    held = upload(loaded, csv_rows(3, prefix="N"))
    browser = Client()
    browser.force_login(loaded.agency.staff)
    url = reverse("aggregation:batch-detail", args=[held.pk])
    page = browser.get(url).content.decode()
    assert 'data-count="rows-before">17<' in page and 'data-count="rows-after">3<' in page
    assert reverse("aggregation:batch-confirm", args=[held.pk]) in page
    assert reverse("aggregation:batch-discard", args=[held.pk]) in page

    channel_page = browser.get(
        reverse("aggregation:channel-detail", args=[loaded.channel.pk])
    ).content.decode()
    assert 'id="upload-replace-note"' in channel_page and "17" in channel_page

    response = browser.post(reverse("aggregation:batch-confirm", args=[held.pk]))
    assert response.status_code == 302
    assert Batch.objects.get(pk=held.pk).status == S.PENDING
    # Someone outside the provider cannot decide (404, as for a missing batch).
    other = make_channel().agency.staff
    stranger = Client()
    stranger.force_login(other)
    assert stranger.post(reverse("aggregation:batch-discard", args=[held.pk])).status_code == 404
