"""API pull against a real HTTP server on this machine: paging, records path, bearer secret,
retries with backoff on 5xx / 429 / timeouts but not on 4xx, bad JSON, the watermark of
incremental runs, and a failed pull that leaves the loaded rows as they were."""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from psycopg import sql

from aggregation import pull, services
from aggregation.channels import SourceUnavailable
from aggregation.datastore import qualified
from aggregation.models import Batch, ChannelKind, DatastoreTable
from tests.aggregation.factories import assess_channel, make_channel
from tests.messages import message, message_parts, message_pattern
from tests.services import free_port

pytestmark = pytest.mark.django_db

# The messages of aggregation/pull.py, compared as gettext builds them (the portal speaks zh-hans).
UNREACHABLE = "The API could not be reached for page %(page)d after %(n)d attempts: %(error)s."


class Agency:
    """An agency API: `respond(request_number, query) -> (status, body, headers)`; a body
    that is a float makes the server sleep that long first and answer 200 []."""

    def __init__(self, bind: str = "127.0.0.1", port: int | None = None):
        self.requests: list[dict] = []
        self.respond = lambda n, q: (200, [], {})
        self.port = port or free_port()
        agency = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's name)
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                agency.requests.append(
                    {
                        "path": parts.path,
                        "query": query,
                        "auth": self.headers.get("Authorization"),
                        "host": self.headers.get("Host"),
                    }
                )
                status, payload, headers = agency.respond(len(agency.requests), query)
                if isinstance(payload, float):
                    time.sleep(payload)
                    status, payload = 200, []
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer((bind, self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/people?token_type=x"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def person(i: int, stamp: str = "2025-03-01 08:00:00", name: str | None = None) -> dict:
    return {"code": f"P{i:04d}", "姓名": name or f"人{i}", "age": i, "updated_at": stamp, "x": 1}


def paged(rows: list[dict], size: int):
    """A responder serving `rows` in pages of `size` under data.items."""

    def respond(n, query):
        page = int(query.get("page", 1))
        return 200, {"data": {"items": rows[(page - 1) * size : page * size]}}, {}

    return respond


@pytest.fixture
def agency():
    server = Agency()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def _fast(settings, monkeypatch):
    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = True
    monkeypatch.setattr(pull, "BACKOFF_SECONDS", 0.01)


def pull_channel(agency: Agency, *, update_mode="full", credential="s3cret", **config):
    setup = make_channel(
        kind=ChannelKind.API_PULL,
        update_mode=update_mode,
        activate=False,
        config={"url": agency.url, "records_path": "data.items", "page_size": 2, **config},
    )
    staff = setup.agency.staff
    services.channel_update(channel=setup.channel, acting_user=staff, secret=credential)
    assess_channel(setup.channel)
    setup.channel = services.channel_activate(channel=setup.channel, acting_user=staff)
    return setup


def run(setup, mode=None) -> Batch:
    batch = services.batch_start(channel=setup.channel, acting_user=setup.agency.staff, mode=mode)
    return services.batch_run(batch_id=batch.pk)


def table(setup) -> list[tuple]:
    name = DatastoreTable.objects.get(resource=setup.resource).table_name
    with connection.cursor() as cur:
        cur.execute(
            sql.SQL("SELECT code, full_name, age FROM {} ORDER BY code").format(qualified(name))
        )
        return cur.fetchall()


def test_pull_reads_every_page_until_a_short_one(agency):
    rows = [person(i) for i in range(5)]
    agency.respond = paged(rows, 2)
    setup = pull_channel(agency)

    batch = run(setup)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert (batch.rows_received, batch.rows_inserted) == (5, 5)
    assert table(setup)[0] == ("P0000", "人0", 0) and len(table(setup)) == 5
    assert [r["query"].get("page") for r in agency.requests] == ["1", "2", "3"]
    first = agency.requests[0]
    assert first["query"]["size"] == "2" and first["query"]["token_type"] == "x"
    assert first["auth"] == "Bearer s3cret"
    assert batch.bytes_received > 0


def test_pull_stops_on_an_empty_page_and_follows_custom_paging(agency):
    rows = [person(i) for i in range(4)]

    def respond(n, query):
        offset = int(query["pageNo"])
        return 200, rows[offset * 2 : offset * 2 + 2], {}

    agency.respond = respond
    setup = pull_channel(
        agency, records_path="", page_param="pageNo", size_param="limit", first_page=0
    )

    batch = run(setup)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.rows_inserted == 4
    assert [r["query"]["pageNo"] for r in agency.requests] == ["0", "1", "2"]
    assert {r["query"]["limit"] for r in agency.requests} == {"2"}


def test_column_mapping_names_the_agency_fields(agency):
    agency.respond = lambda n, q: (200, {"data": {"items": [{"ID": "Z1", "XM": "王五"}]}}, {})
    setup = pull_channel(agency)
    services.channel_update(
        channel=setup.channel,
        acting_user=setup.agency.staff,
        column_mapping={"ID": "code", "XM": "full_name"},
    )

    batch = run(setup)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert table(setup) == [("Z1", "王五", None)]


def test_pull_retries_server_errors_and_429_then_succeeds(agency):
    rows = [person(i) for i in range(3)]
    serve = paged(rows, 2)

    def respond(n, query):
        if n == 1:
            return 503, {"error": "busy"}, {}
        if n == 2:
            return 429, {"error": "slow down"}, {"Retry-After": "0"}
        return serve(n, query)

    agency.respond = respond
    setup = pull_channel(agency, max_retries=3)

    batch = run(setup)

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert batch.rows_inserted == 3
    assert len(agency.requests) == 4  # two refusals, then pages 1 and 2


def test_a_source_that_keeps_failing_fails_the_batch_and_keeps_the_old_rows(agency):
    agency.respond = paged([person(i) for i in range(3)], 2)
    setup = pull_channel(agency, max_retries=2)
    assert run(setup).status == Batch.Status.SUCCEEDED
    before = table(setup)
    agency.requests.clear()
    agency.respond = lambda n, q: (500, {"error": "down"}, {})

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    http_500 = message("HTTP %(code)d", code=500)
    assert batch.error == message(UNREACHABLE, page=1, n=3, error=http_500), batch.error
    assert len(agency.requests) == 3
    assert table(setup) == before


def test_client_errors_are_not_retried(agency):
    agency.respond = lambda n, q: (404, {"error": "no such api"}, {})
    setup = pull_channel(agency, max_retries=3)

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    assert "404" in batch.error
    assert len(agency.requests) == 1


def test_refused_credentials_say_so(agency):
    agency.respond = lambda n, q: (401, {}, {})
    batch = run(pull_channel(agency, max_retries=3))
    assert batch.status == Batch.Status.FAILED
    assert batch.error == message(
        "The API refused the platform's credential (HTTP %(code)d).", code=401
    )
    assert len(agency.requests) == 1


def test_a_slow_source_times_out_and_is_retried(agency):
    agency.respond = lambda n, q: (200, 2.5, {})
    setup = pull_channel(agency, timeout_seconds=1, max_retries=1)

    started = time.monotonic()
    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    no_answer = message("no answer within %(s)s s", s=1)
    assert batch.error == message(UNREACHABLE, page=1, n=2, error=no_answer), batch.error
    assert len(agency.requests) == 2
    assert time.monotonic() - started < 10


NOT_JSON = "Page %(page)d of the API's answer is not JSON: %(error)s"


@pytest.mark.parametrize(
    ("payload", "msgid", "params"),
    [
        (b"<html>maintenance</html>", NOT_JSON, {"page": 1}),
        (
            b'{"data": {"items": [1, 2]}}',
            "Page %(page)d, row %(row)d of the answer is not an object.",
            {"page": 1, "row": 1},
        ),
        (
            b'{"data": {"rows": []}}',
            "Page %(page)d of the answer has no “%(path)s”; check the rows' path.",
            {"page": 1, "path": "data.items"},
        ),
        (
            b'{"data": {"items": {"a": 1}}}',
            "Page %(page)d: the rows' path “%(path)s” does not lead to a list.",
            {"page": 1, "path": "data.items"},
        ),
        (b"[" * 50_000, NOT_JSON, {"page": 1}),
    ],
)
def test_answers_that_are_not_the_expected_json_fail_clearly(agency, payload, msgid, params):
    agency.respond = lambda n, q: (200, payload, {})
    batch = run(pull_channel(agency, max_retries=3))
    assert batch.status == Batch.Status.FAILED
    message_parts(batch.error, msgid, **params)
    assert len(agency.requests) == 1


def test_an_api_that_ignores_the_page_parameter_is_caught(agency):
    agency.respond = lambda n, q: (200, {"data": {"items": [person(1), person(2)]}}, {})
    batch = run(pull_channel(agency))
    assert batch.status == Batch.Status.FAILED
    assert batch.error == message(
        "Page %(page)d is the same as the page before: the API ignores the "
        "page parameter “%(param)s”.",
        page=2,
        param="page",
    )
    assert len(agency.requests) == 2


def test_an_unreachable_source_is_reported(agency):
    setup = pull_channel(agency, max_retries=1)
    agency.close()

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    refused = message_parts(batch.error, UNREACHABLE, page=1, n=2)
    assert refused["error"], batch.error  # the OS says why (connection refused)


def test_incremental_pull_sends_the_watermark_and_merges(agency):
    stored = {i: person(i) for i in range(4)}

    def respond(n, query):
        since = query.get("since")
        rows = [r for r in stored.values() if since is None or r["updated_at"] >= since]
        page = int(query["page"])
        return 200, {"data": {"items": rows[(page - 1) * 2 : page * 2]}}, {}

    agency.respond = respond
    setup = pull_channel(agency, update_mode="incremental", watermark_param="since")

    first = run(setup)
    assert first.mode == Batch.Mode.INCREMENTAL
    assert (first.rows_inserted, first.rows_updated) == (4, 0), first.error
    assert "since" not in agency.requests[0]["query"]
    setup.channel.refresh_from_db()
    assert setup.channel.watermark.startswith("2025-03-01 08:00:00")

    stored[1] = person(1, stamp="2025-03-05 09:00:00", name="改一")
    stored[9] = person(9, stamp="2025-03-05 09:00:00")
    agency.requests.clear()
    second = run(setup)

    assert second.status == Batch.Status.SUCCEEDED, second.error
    assert agency.requests[0]["query"]["since"] == setup.channel.watermark
    assert (second.rows_inserted, second.rows_updated) == (1, 1)
    assert second.watermark_after.startswith("2025-03-05 09:00:00")
    loaded = table(setup)
    assert len(loaded) == 5 and loaded[1] == ("P0001", "改一", 1)

    agency.requests.clear()
    full = run(setup, mode="full")
    assert full.mode == Batch.Mode.FULL and "since" not in agency.requests[0]["query"]


REFUSED = "The address %(host)s (%(address)s) is %(reason)s; the platform does not connect there."


ANY_ADDRESS = "0.0.0.0"  # noqa: S104 (an address the pull must refuse)


def refused(host: str, address: str, reason: str, **params) -> str:
    return message(REFUSED, host=host, address=address, reason=message(reason, **params))


def test_ipv4_mapped_loopback_is_refused_and_nothing_is_loaded(agency, settings):
    agency.respond = paged([person(i) for i in range(3)], 2)
    setup = pull_channel(agency, url=f"http://[::ffff:127.0.0.1]:{agency.port}/api/people")
    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = False

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    assert batch.error == refused(
        "::ffff:127.0.0.1",
        f"{ipaddress.ip_address('::ffff:127.0.0.1')} → 127.0.0.1",
        "a loopback address",
    ), batch.error
    assert agency.requests == []
    assert table(setup) == []


@pytest.mark.parametrize(
    ("url", "host", "address", "reason"),
    [
        (
            "http://100.100.100.200/latest/meta-data",
            "100.100.100.200",
            "100.100.100.200",
            "a cloud metadata address",
        ),
        (
            "http://169.254.169.254/latest/meta-data",
            "169.254.169.254",
            "169.254.169.254",
            "a cloud metadata address",
        ),
        (
            "http://[fd00:ec2::254]/latest/meta-data",
            "fd00:ec2::254",
            "fd00:ec2::254",
            "a cloud metadata address",
        ),
        ("http://0.0.0.0:9/x", ANY_ADDRESS, ANY_ADDRESS, "an unspecified address"),
    ],
)
def test_metadata_and_unspecified_addresses_are_refused_even_with_loopback_on(
    agency, url, host, address, reason
):
    setup = pull_channel(agency, url=url, timeout_seconds=1, max_retries=0)

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    assert batch.error == refused(host, address, reason), batch.error


def test_a_name_that_resolves_to_loopback_is_refused_when_loopback_is_off(agency, settings):
    setup = pull_channel(agency, url=f"http://localhost:{agency.port}/api/people")
    settings.AGGREGATION_PULL_ALLOW_LOOPBACK = False

    batch = run(setup)

    assert batch.status == Batch.Status.FAILED
    parts = message_parts(batch.error, REFUSED, host="localhost")
    assert parts["reason"] == message("a loopback address"), batch.error
    assert agency.requests == []


def test_private_addresses_only_inside_the_allowed_networks(agency, settings):
    setup = pull_channel(agency, url="http://10.255.255.1:9/api", timeout_seconds=1, max_retries=0)
    settings.AGGREGATION_PULL_ALLOWED_NETWORKS = []

    batch = run(setup)

    assert batch.error == refused(
        "10.255.255.1",
        "10.255.255.1",
        "a private address outside %(setting)s",
        setting="AGGREGATION_PULL_ALLOWED_NETWORKS",
    ), batch.error

    # Listed: the policy lets it through and the pull really goes there (what answers, if
    # anything, depends on the network this runs on; the policy's refusal is gone).
    settings.AGGREGATION_PULL_ALLOWED_NETWORKS = ["10.255.255.0/24"]
    batch = run(setup)
    assert message_pattern(REFUSED).fullmatch(batch.error or "") is None, batch.error


def test_dns_is_asked_once_and_every_page_comes_from_the_checked_address(agency, monkeypatch):
    """DNS rebinding: the agency's name answers 127.0.0.1 when the pull starts and 127.0.0.2
    (another server, same port) afterwards. The pull asks once and keeps to 127.0.0.1."""
    decoy = Agency(bind="127.0.0.2", port=agency.port)
    decoy.respond = lambda n, q: (200, {"data": {"items": [person(99, name="冒充")]}}, {})
    agency.respond = paged([person(i) for i in range(5)], 2)
    real_lookup = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_dns(host, *args, **kwargs):
        if host != "api.agency.test":
            return real_lookup(host, *args, **kwargs)
        lookups.append(host)
        answer = "127.0.0.1" if len(lookups) == 1 else "127.0.0.2"
        return real_lookup(answer, *args, **kwargs)

    try:
        setup = pull_channel(agency, url=f"http://api.agency.test:{agency.port}/api/people")
        monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)

        batch = run(setup)
    finally:
        decoy.close()

    assert batch.status == Batch.Status.SUCCEEDED, batch.error
    assert lookups == ["api.agency.test"]
    assert len(table(setup)) == 5 and "冒充" not in {row[1] for row in table(setup)}
    assert decoy.requests == []
    assert {r["host"] for r in agency.requests} == {f"api.agency.test:{agency.port}"}


def test_an_unknown_host_is_named():
    with pytest.raises(SourceUnavailable) as caught:
        pull.destination("http://no-such-host.invalid/x")
    unresolved = "The API address %(host)s cannot be resolved: %(error)s"
    message_parts(str(caught.value), unresolved, host="no-such-host.invalid")


def test_redirects_are_not_followed(agency):
    agency.respond = lambda n, q: (302, b"", {"Location": "http://169.254.169.254/"})
    batch = run(pull_channel(agency))
    assert batch.status == Batch.Status.FAILED
    assert batch.error == message(
        "The API redirected to %(target)s; give that address in the channel's settings.",
        target="http://169.254.169.254/",
    )
    assert len(agency.requests) == 1


def test_page_url_keeps_the_address_query_and_replaces_paging():
    assert (
        pull.page_url("http://h/a?page=9&k=v", {"page": 2, "size": 50})
        == "http://h/a?k=v&page=2&size=50"
    )
