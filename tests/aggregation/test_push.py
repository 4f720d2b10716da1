"""Push channels (前置机推送): the ingestion API under /api/v1/ingest/ opens a batch, takes JSON
chunks and commits; every step is idempotent; the load runs in the worker; bad input is refused
with a clear 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test import Client
from django.utils import translation
from psycopg import sql

from aggregation import push, services
from aggregation.datastore import qualified
from aggregation.models import Batch, ChannelKind, DatastoreTable, PushChunk
from tests.aggregation.factories import make_channel
from tests.messages import message, message_parts
from tests.naughty import naughty_strings
from tests.services import wait_for
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = pytest.mark.django_db

BATCHES = "/api/v1/ingest/batches/"


def body(response) -> dict:
    return json.loads(response.content)


class Pusher:
    """A front-end machine: a client sending its channel's token."""

    def __init__(self, setup):
        self.setup = setup
        self.token = services.channel_token_rotate(
            channel=setup.channel, acting_user=setup.agency.staff
        )
        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {self.token}")

    def open(self, batch_id="B-1", **extra):
        return self.client.post(
            BATCHES, {"batch_id": batch_id, **extra}, content_type="application/json"
        )

    def chunk(self, batch, number, rows, raw: bytes | None = None):
        data = raw if raw is not None else json.dumps(rows, ensure_ascii=False).encode()
        return self.client.put(
            f"{BATCHES}{batch}/chunks/{number}/", data, content_type="application/json"
        )

    def commit(self, batch, chunks):
        return self.client.post(
            f"{BATCHES}{batch}/commit/", {"chunks": chunks}, content_type="application/json"
        )

    def status(self, batch):
        return self.client.get(f"{BATCHES}{batch}/")


def people(n: int, start: int = 0, stamp: str = "2025-03-01 08:00:00") -> list[dict]:
    """Rows keyed by column names and item names alike."""
    return [
        {"code": f"P{i:05d}", "姓名": f"人{i}", "age": i % 90, "updated_at": stamp}
        for i in range(start, start + n)
    ]


def table_rows(resource, columns=("code", "full_name", "age")) -> list[tuple]:
    table = DatastoreTable.objects.get(resource=resource)
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT {} FROM {} ORDER BY code").format(
                sql.SQL(", ").join(map(sql.Identifier, columns)), qualified(table)
            )
        )
        return cur.fetchall()


@pytest.fixture
def pusher(db):
    return Pusher(make_channel(kind=ChannelKind.PUSH))


# --- open, chunk, commit, load ---------------------------------------------------------------


def test_push_open_chunks_commit_loads_exact_rows(pusher):
    opened = pusher.open("20250301-001")
    assert opened.status_code == 201, opened.content
    batch_id = body(opened)["id"]
    assert body(opened)["status"] == "open" and body(opened)["batch_id"] == "20250301-001"
    assert opened["Location"] == f"{BATCHES}{batch_id}/"

    for n, start in enumerate(range(0, 2500, 1000), start=1):
        answer = pusher.chunk(batch_id, n, people(min(1000, 2500 - start), start))
        assert answer.status_code == 201, answer.content
        assert body(answer)["status"] == "received"

    committed = pusher.commit(batch_id, 3)
    assert committed.status_code == 202, committed.content
    assert body(committed)["status"] == "pending"
    assert body(committed)["rows_received"] == 2500
    assert body(committed)["chunks_received"] == 3

    batch = services.batch_run(batch_id=batch_id)
    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert (batch.rows_received, batch.rows_inserted, batch.rows_updated) == (2500, 2500, 0)
    loaded = table_rows(pusher.setup.resource)
    assert len(loaded) == 2500
    assert loaded[0] == ("P00000", "人0", 0) and loaded[-1] == ("P02499", "人2499", 2499 % 90)
    status = body(pusher.status(batch_id))
    assert status["status"] == "succeeded" and status["rows_inserted"] == 2500
    assert status["progress"] == 100


def test_the_senders_own_batch_id_names_the_batch_in_every_address(pusher):
    opened = body(pusher.open("2026-11-27-a"))
    assert pusher.chunk("2026-11-27-a", 1, people(3)).status_code == 201
    assert body(pusher.status("2026-11-27-a"))["id"] == opened["id"]
    committed = pusher.commit("2026-11-27-a", 1)
    assert committed.status_code == 202, committed.content
    assert body(committed)["id"] == opened["id"] and body(committed)["rows_received"] == 3
    # An id this token never opened is still 404, and so is another channel's sender id.
    assert pusher.status("no-such-batch").status_code == 404
    other = Pusher(make_channel(kind=ChannelKind.PUSH, agency=pusher.setup.agency))
    other.open("theirs")
    assert pusher.status("theirs").status_code == 404


def test_a_uuid_as_the_senders_batch_id_works_too(pusher):
    own = "0b6f3a52-7c1e-4d55-9a9e-2f7f8d3c1a10"
    opened = body(pusher.open(own))
    assert opened["id"] != own
    assert pusher.chunk(own, 1, people(1)).status_code == 201
    assert body(pusher.status(own))["id"] == opened["id"]


def test_incremental_push_updates_and_inserts_and_keeps_the_rest(db):
    pusher = Pusher(make_channel(kind=ChannelKind.PUSH, update_mode="incremental"))
    first = body(pusher.open("day-1"))["id"]
    pusher.chunk(first, 1, people(10))
    pusher.commit(first, 1)
    services.batch_run(batch_id=first)

    second = body(pusher.open("day-2"))["id"]
    changed = people(3, 8, stamp="2025-03-02 08:00:00")  # P00008, P00009 changed, P00010 new
    for row in changed:
        row["姓名"] = "改" + row["姓名"]
    assert pusher.chunk(second, 1, changed).status_code == 201
    pusher.commit(second, 1)
    batch = services.batch_run(batch_id=second)

    assert batch.mode == Batch.Mode.INCREMENTAL
    assert (batch.rows_inserted, batch.rows_updated) == (1, 2)
    assert batch.watermark_after.startswith("2025-03-02 08:00:00")
    loaded = table_rows(pusher.setup.resource)
    assert len(loaded) == 11
    assert loaded[9][1] == "改人9" and loaded[0][1] == "人0"


def test_push_asking_full_mode_replaces_the_table(db):
    pusher = Pusher(make_channel(kind=ChannelKind.PUSH, update_mode="incremental"))
    first = body(pusher.open("a"))["id"]
    pusher.chunk(first, 1, people(5))
    pusher.commit(first, 1)
    services.batch_run(batch_id=first)

    opened = pusher.open("b", mode="full")
    assert body(opened)["mode"] == "full"
    second = body(opened)["id"]
    pusher.chunk(second, 1, people(2, 100))
    pusher.commit(second, 1)
    services.batch_run(batch_id=second)

    assert [r[0] for r in table_rows(pusher.setup.resource)] == ["P00100", "P00101"]


def test_bad_rows_fail_the_batch_and_name_the_row(pusher):
    batch_id = body(pusher.open())["id"]
    rows = people(3)
    rows[1]["age"] = "三十"
    pusher.chunk(batch_id, 1, rows)
    pusher.commit(batch_id, 1)

    batch = services.batch_run(batch_id=batch_id)

    assert batch.status == Batch.Status.FAILED
    status = body(pusher.status(batch_id))
    assert status["status"] == "failed" and status["error"]
    assert any(e["column"] in ("age", "年龄") for e in status["row_errors"]), status
    assert table_rows(pusher.setup.resource) == []


# --- idempotency -------------------------------------------------------------------------------


def test_opening_the_same_batch_id_again_returns_the_same_batch(pusher):
    first = pusher.open("X-1")
    again = pusher.open("X-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert body(first)["id"] == body(again)["id"]
    assert Batch.objects.filter(channel=pusher.setup.channel).count() == 1
    assert body(pusher.open("X-2"))["id"] != body(first)["id"]


def test_the_same_chunk_twice_is_stored_once_and_a_different_one_is_refused(pusher):
    batch_id = body(pusher.open())["id"]
    rows = people(4)

    assert pusher.chunk(batch_id, 1, rows).status_code == 201
    # Same rows, other key order and white space: the same chunk.
    resent = json.dumps([dict(reversed(list(r.items()))) for r in rows], indent=2).encode()
    again = pusher.chunk(batch_id, 1, None, raw=resent)
    assert again.status_code == 200
    assert body(again)["status"] == "already received"
    different = pusher.chunk(batch_id, 1, people(4, 1))
    assert different.status_code == 409
    assert body(different)["chunk"] == 1 and "1" in body(different)["detail"]

    assert PushChunk.objects.filter(batch_id=batch_id).count() == 1
    assert body(pusher.status(batch_id))["rows_received"] == 4


def test_commit_refuses_while_chunks_are_missing_and_lists_them(pusher):
    batch_id = body(pusher.open())["id"]
    pusher.chunk(batch_id, 1, people(1))
    pusher.chunk(batch_id, 4, people(1, 4))

    answer = pusher.commit(batch_id, 5)

    assert answer.status_code == 400
    assert body(answer)["missing"] == [2, 3, 5]
    assert "2-3, 5" in body(answer)["detail"]
    assert Batch.objects.get(pk=batch_id).status == Batch.Status.OPEN
    beyond = pusher.commit(batch_id, 1)
    assert beyond.status_code == 400 and body(beyond)["code"] == "beyond"


def test_commit_twice_answers_the_same_and_queues_one_load(pusher):
    batch_id = body(pusher.open())["id"]
    pusher.chunk(batch_id, 1, people(2))

    first = pusher.commit(batch_id, 1)
    second = pusher.commit(batch_id, 1)

    assert (first.status_code, second.status_code) == (202, 202)
    assert body(first) == body(second)
    jobs = BackgroundJob.objects.filter(task_name="aggregation.run_batch")
    assert [j.kwargs for j in jobs] == [{"batch_id": batch_id}]
    assert pusher.commit(batch_id, 2).status_code == 409


def test_a_committed_batch_takes_no_new_chunk_but_acknowledges_a_resent_one(pusher):
    batch_id = body(pusher.open())["id"]
    pusher.chunk(batch_id, 1, people(2))
    pusher.commit(batch_id, 1)

    assert pusher.chunk(batch_id, 1, people(2)).status_code == 200
    late = pusher.chunk(batch_id, 2, people(2, 2))
    assert late.status_code == 409 and body(late)["code"] == "committed"


# --- authentication ------------------------------------------------------------------------------


def test_no_token_or_a_wrong_token_is_refused(pusher):
    anonymous = Client().post(BATCHES, {"batch_id": "x"}, content_type="application/json")
    wrong = Client(HTTP_AUTHORIZATION="Bearer pdr_1_not-the-token").post(
        BATCHES, {"batch_id": "x"}, content_type="application/json"
    )
    garbled = Client(HTTP_AUTHORIZATION="Bearer a b").get(BATCHES + "x/")

    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert wrong.status_code == 401 and body(wrong)["detail"]
    assert garbled.status_code == 401
    assert not Batch.objects.exists()


def test_a_rotated_token_stops_working(pusher):
    old = Client(HTTP_AUTHORIZATION=f"Bearer {pusher.token}")
    services.channel_token_rotate(
        channel=pusher.setup.channel, acting_user=pusher.setup.agency.staff
    )
    answer = old.post(BATCHES, {"batch_id": "x"}, content_type="application/json")
    assert answer.status_code == 401


def test_a_token_does_not_open_another_channels_batch(pusher):
    other = Pusher(make_channel(kind=ChannelKind.PUSH, agency=pusher.setup.agency))
    theirs = body(other.open("theirs"))["id"]
    other.chunk(theirs, 1, people(1))

    assert pusher.status(theirs).status_code == 404
    assert pusher.chunk(theirs, 2, people(1)).status_code == 404
    assert pusher.commit(theirs, 1).status_code == 404
    assert pusher.status("not-a-uuid").status_code == 404
    # The same sender id on another channel is another batch.
    assert body(pusher.open("theirs"))["id"] != theirs
    assert Batch.objects.get(pk=theirs).status == Batch.Status.OPEN


def test_a_suspended_channel_takes_nothing(pusher):
    batch_id = body(pusher.open())["id"]
    services.channel_suspend(channel=pusher.setup.channel, acting_user=pusher.setup.agency.staff)

    answer = pusher.chunk(batch_id, 1, people(1))

    assert answer.status_code == 403
    assert pusher.open("new").status_code == 403
    assert not PushChunk.objects.exists()


def test_session_users_cannot_push(pusher, client):
    client.force_login(pusher.setup.agency.staff)
    answer = client.post(BATCHES, {"batch_id": "x"}, content_type="application/json")
    assert answer.status_code == 401
    assert not Batch.objects.exists()


# --- bad input ----------------------------------------------------------------------------------


NOT_JSON = "The body is not valid JSON: %(error)s"
CELL = "Chunk %(chunk)d, row %(row)d, field %(field)s %(problem)s."


@pytest.mark.parametrize(
    ("raw", "code", "msgid", "params"),
    [
        (
            b'[{"code": "A"',
            "bad_json",
            "The body is not valid JSON: %(error)s at line %(line)d, column %(column)d.",
            {"error": "Expecting ',' delimiter", "line": 1, "column": 14},
        ),
        (b"", "empty", "The body is empty; send JSON.", {}),
        (b"\xff\xfe[]", "bad_json", "The body is not UTF-8 text (byte %(pos)d).", {"pos": 1}),
        (
            b'[{"code": NaN}]',
            "bad_json",
            NOT_JSON,
            {"error": ("%(name)s is not a JSON number", {"name": "NaN"})},
        ),
        (b'{"code": "A"}', "not_a_list", "The chunk must be a JSON list of row objects.", {}),
        (b"[]", "empty", "The chunk has no rows.", {}),
        (b"[1, 2]", "row", "Chunk %(chunk)d, row %(row)d is not an object.", {"row": 1}),
        (
            b'[{"code": {"x": 1}}]',
            "value",
            "Chunk %(chunk)d, row %(row)d, field %(field)s: give a single value.",
            {"row": 1, "field": "code"},
        ),
        (
            b'[{"code": 1e400}]',
            "value",
            "Chunk %(chunk)d, row %(row)d, field %(field)s: the number is too large.",
            {"row": 1, "field": "code"},
        ),
        (
            b"[" * 100_000 + b"]" * 100_000,
            "bad_json",
            "The body is not valid JSON: nested too deeply.",
            {},
        ),
        (
            b'[{"code": "' + b"9" * 10 + b'", "colour": "red"}]',
            "field",
            "Chunk %(chunk)d, row %(row)d: unknown field “%(field)s”.",
            {"row": 1, "field": "colour"},
        ),
        (
            b'[{"code": "\\u0000"}]',
            "value",
            CELL,
            {"row": 1, "field": "code", "problem": ("contains a NUL character", {})},
        ),
        (
            b'[{"code": "\\ud800"}]',
            "value",
            CELL,
            {"row": 1, "field": "code", "problem": ("is not valid Unicode text", {})},
        ),
        (b'[{"code": 1' + b"0" * 5000 + b"}]", "bad_json", NOT_JSON, {}),
    ],
)
def test_bad_chunks_are_refused_with_the_problem_named(pusher, raw, code, msgid, params):
    batch_id = body(pusher.open())["id"]

    answer = pusher.chunk(batch_id, 1, None, raw=raw)

    assert answer.status_code == 400, answer.content
    refused = body(answer)
    assert refused["code"] == code, refused
    if "row" in params:
        assert refused["row"] == params["row"], refused
    # The answer speaks the request's language: the portal's zh-hans.
    with translation.override("zh-hans"):
        known = {
            name: message(value[0], **value[1]) if isinstance(value, tuple) else value
            for name, value in params.items()
        }
        if "row" in known:
            known["chunk"] = 1
        parts = message_parts(refused["detail"], msgid, **known)
    assert all(parts.values()), refused  # e.g. Python's own reason a number is refused
    assert not PushChunk.objects.exists()


def test_chunk_numbers_and_commit_bodies_are_checked(pusher):
    batch_id = body(pusher.open())["id"]
    for number in ("0", "abc", "-1", "1.5", "9999999999"):
        assert pusher.chunk(batch_id, number, people(1)).status_code in (400, 404), number
    for bad in ({"chunks": "x"}, {"chunks": 0}, {"chunks": True}, {}, [1]):
        answer = pusher.client.post(
            f"{BATCHES}{batch_id}/commit/", json.dumps(bad), content_type="application/json"
        )
        assert answer.status_code == 400, bad
    for bad in ({}, {"batch_id": ""}, {"batch_id": 7}, {"batch_id": "x" * 101}, ["a"]):
        answer = pusher.client.post(BATCHES, json.dumps(bad), content_type="application/json")
        assert answer.status_code == 400, bad
    assert pusher.open("ok", mode="sometimes").status_code == 400


def test_chunk_limits_answer_413_and_400(pusher, monkeypatch):
    batch_id = body(pusher.open())["id"]
    monkeypatch.setattr(push, "MAX_CHUNK_BYTES", 2000)
    monkeypatch.setattr(push, "MAX_CHUNK_ROWS", 5)

    too_large = pusher.chunk(batch_id, 1, people(40))
    too_many = pusher.chunk(batch_id, 1, people(6))

    assert too_large.status_code == 413 and "KB" in body(too_large)["detail"]
    assert too_many.status_code == 400 and "5" in body(too_many)["detail"]
    assert pusher.chunk(batch_id, 1, people(5)).status_code == 201


def test_naughty_strings_as_values_load_exactly_and_as_keys_never_break(db):
    items = [
        {"name": "编号", "english_name": "code", "data_type": "C", "length": 20, "is_key": True},
        {"name": "备注", "english_name": "note", "data_type": "C", "length": 1000},
    ]
    pusher = Pusher(make_channel(kind=ChannelKind.PUSH, items=items))
    strings = naughty_strings()
    batch_id = body(pusher.open("naughty"))["id"]

    rows = [{"code": f"N{i:04d}", "note": s} for i, s in enumerate(strings)]
    assert pusher.chunk(batch_id, 1, rows).status_code == 201
    for s in strings[:120]:
        answer = pusher.chunk(batch_id, 2, [{"code": "K", s: "v"}])
        assert answer.status_code in (201, 400, 409), (s, answer.content)
        opened = pusher.open(s)
        assert opened.status_code in (200, 201, 400), (s, opened.content)
    pusher.client.delete(f"{BATCHES}{batch_id}/")  # not allowed, and not a 500
    assert (
        pusher.commit(batch_id, len(PushChunk.objects.filter(batch_id=batch_id))).status_code == 202
    )

    batch = services.batch_run(batch_id=batch_id)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    loaded = dict(table_rows(pusher.setup.resource, ("code", "note")))
    for i, s in enumerate(strings):
        assert loaded[f"N{i:04d}"] == (s or None), i


# --- schema --------------------------------------------------------------------------------------


def test_ingest_endpoints_are_in_the_openapi_schema(client):
    schema = body(client.get("/api/schema/", {"format": "json"}))
    paths = schema["paths"]

    assert {
        "/api/v1/ingest/batches/",
        "/api/v1/ingest/batches/{batch_id}/",
        "/api/v1/ingest/batches/{batch_id}/chunks/{number}/",
        "/api/v1/ingest/batches/{batch_id}/commit/",
    } <= set(paths)
    put = paths["/api/v1/ingest/batches/{batch_id}/chunks/{number}/"]["put"]
    assert put["requestBody"]["content"]["application/json"]["schema"]["type"] == "array"
    assert {"201", "200", "409", "413"} <= set(put["responses"])
    opening = paths["/api/v1/ingest/batches/"]["post"]
    assert opening["security"] == [{"channelToken": []}]
    # Usable documentation: the steps, what each path parameter is, what each error means.
    assert "Step 1 of 3" in opening["description"]
    params = {p["name"]: p for p in put["parameters"]}
    assert "your own `batch_id`" in params["batch_id"]["description"]
    assert params["number"]["schema"]["type"] == "integer"
    assert "not active" in put["responses"]["403"]["description"]
    assert put["requestBody"]["content"]["application/json"]["examples"]
    assert schema["components"]["securitySchemes"]["channelToken"]["scheme"] == "bearer"


# --- through the real worker ---------------------------------------------------------------------


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_push_commit_is_loaded_by_the_real_worker(celery_worker, celery_app_on_spare_redis):
    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    pusher = Pusher(make_channel(kind=ChannelKind.PUSH))
    batch_id = body(pusher.open("worker-1"))["id"]
    for n in range(1, 4):
        assert pusher.chunk(batch_id, n, people(700, (n - 1) * 700)).status_code == 201
    assert pusher.commit(batch_id, 3).status_code == 202

    def finished():
        data = body(pusher.status(batch_id))
        return data if data["status"] in ("succeeded", "failed") else None

    try:
        data = wait_for(finished, timeout=90, interval=0.5, what="push batch loaded")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert data["status"] == "succeeded", (data, celery_worker.log_tail())
    assert (data["rows_received"], data["rows_inserted"], data["rows_updated"]) == (2100, 2100, 0)
    assert len(table_rows(pusher.setup.resource)) == 2100
    job = BackgroundJob.objects.get(task_name="aggregation.run_batch")
    assert job.state == BackgroundJob.State.DONE and job.attempts == 1
    # A second commit after the load: the same batch, nothing queued again.
    assert body(pusher.commit(batch_id, 3))["status"] == "succeeded"
    assert BackgroundJob.objects.filter(task_name="aggregation.run_batch").count() == 1


def test_demo_push_goes_through_the_services_and_is_idempotent(pusher):
    channel = pusher.setup.channel

    batch = push.push_demo_rows(
        channel=channel, batch_id="demo-1", rows=people(1200), chunk_rows=500
    )
    again = push.push_demo_rows(
        channel=channel, batch_id="demo-1", rows=people(1200), chunk_rows=500
    )

    assert again.pk == batch.pk and batch.status == Batch.Status.PENDING
    assert list(batch.chunks.values_list("number", flat=True)) == [1, 2, 3]
    assert services.batch_run(batch_id=batch.pk).rows_inserted == 1200


def test_housekeeping_expires_uncommitted_batches_and_drops_old_chunks(db):
    import datetime as dt

    from django.utils import timezone

    from aggregation.models import Batch, PushChunk
    from aggregation.push import push_batch_open, push_chunk_put, push_demo_rows, push_housekeeping
    from aggregation.services import batch_run
    from tests.aggregation.factories import make_channel

    setup = make_channel(kind="push")
    channel = setup.channel
    stale, _created = push_batch_open(channel=channel, batch_id="never-committed")
    push_chunk_put(channel=channel, batch=stale, number=1, rows=[{"code": "A1"}])
    done = push_demo_rows(channel=channel, batch_id="loaded", rows=[{"code": "B1"}])
    assert batch_run(batch_id=done.pk).status == Batch.Status.SUCCEEDED
    fresh, _created = push_batch_open(channel=channel, batch_id="still-open")

    later = timezone.now() + dt.timedelta(days=31)
    Batch.objects.filter(pk=done.pk).update(finished_at=timezone.now() - dt.timedelta(days=1))
    Batch.objects.filter(pk=fresh.pk).update(created_at=later - dt.timedelta(hours=1))
    expired, deleted = push_housekeeping(now=later)

    assert expired == 1 and deleted == 1
    stale.refresh_from_db()
    assert stale.status == Batch.Status.FAILED and "48" in stale.error
    assert not PushChunk.objects.filter(batch__in=[stale, done]).exists()
    fresh.refresh_from_db()
    assert fresh.status == Batch.Status.OPEN


def test_a_failed_push_batch_names_chunk_and_row_and_keeps_its_count(db):
    from aggregation.models import Batch
    from aggregation.push import push_batch_commit, push_batch_open, push_chunk_put
    from aggregation.services import batch_run
    from tests.aggregation.factories import make_channel

    setup = make_channel(kind="push")
    channel = setup.channel
    batch, _created = push_batch_open(channel=channel, batch_id="with-a-bad-row")
    push_chunk_put(channel=channel, batch=batch, number=1, rows=[{"code": "A1", "age": 1}] * 1)
    push_chunk_put(
        channel=channel,
        batch=batch,
        number=2,
        rows=[{"code": "B1", "age": 2}, {"code": "B2", "age": "老"}, {"code": "B3", "age": 3}],
    )
    batch, _queued = push_batch_commit(channel=channel, batch=batch, chunks=2)
    batch = batch_run(batch_id=batch.pk)
    assert batch.status == Batch.Status.FAILED
    assert batch.rows_received == 4 and batch.rows_rejected == 1
    error = batch.row_errors[0]
    assert (error["chunk"], error["row"]) == (2, 2)
    assert "2" in batch.error
