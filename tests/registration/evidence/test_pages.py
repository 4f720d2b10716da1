"""Pages of evidence (issue #16, items 3 and 4): the deposited open distribution anyone
downloads, exactly as deposited; the public verification page (digest, deposit id, code,
the server's size-limited and throttled fallback; naughty strings); the holder's pages."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from authorization.opendata.models import OpenFile
from authorization.opendata.services import downloads_build
from registration.evidence import services
from registration.evidence.models import Deposit
from security.audit.models import AuditEvent
from tests.authorization.opendata.factories import city_licence, load, make_open, rows
from tests.naughty import naughty_strings
from wuhan_pdr.kernel.ledger.tree import integrate

from .factories import deposit, typed

VERIFY = "/registration/evidence/verify/"


def body(response) -> bytes:
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def english(**kw) -> Client:
    c = Client(**kw)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return c


def client_addr() -> str:
    # A fresh address: the fallback's hourly count lives in the shared cache.
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250}"


@pytest.fixture
def opened(db):
    city_licence()
    setup = make_open(n=6)
    downloads_build(resource_id=setup.resource.pk)
    made = deposit(setup, kind=Deposit.Kind.OPEN_DATA)
    integrate("evidence")
    return setup, made


def test_anyone_downloads_the_open_distribution_exactly_as_deposited(opened):
    setup, made = opened
    published = OpenFile.objects.get(dataset__resource=setup.resource, format="csv")
    with published.file.open("rb") as fh:
        at_deposit = fh.read()
    response = english().get(f"/registration/evidence/d/{made.public_id}/data/")
    assert response.status_code == 200
    data = body(response)
    assert data == at_deposit
    assert hashlib.sha256(data).hexdigest() == made.data_sha256
    assert data.startswith("\ufeff".encode())  # the published file, BOM and all
    # A later load replaces the published file; the deposit's copy stays.
    load(setup, rows(3, start=100))
    downloads_build(resource_id=setup.resource.pk)
    published.refresh_from_db()
    with published.file.open("rb") as fh:
        assert fh.read() != at_deposit
    assert body(english().get(f"/registration/evidence/d/{made.public_id}/data/")) == at_deposit
    assert services.deposit_check(made) == []


def test_a_resource_s_data_is_the_holder_s_download_audited(db):
    setup = typed()
    made = deposit(setup)
    url = f"/registration/evidence/d/{made.public_id}/data/"
    assert english().get(url).status_code == 404
    stranger = typed()
    other = english()
    other.force_login(stranger.agency.staff)
    assert other.get(url).status_code == 404
    assert other.get(f"/registration/evidence/{made.public_id}/").status_code == 404
    holder = english()
    holder.force_login(setup.agency.staff)
    response = holder.get(url)
    assert response.status_code == 200
    assert hashlib.sha256(body(response)).hexdigest() == made.data_sha256
    assert AuditEvent.objects.filter(action="evidence.download").count() == 1
    page = holder.get(f"/registration/evidence/{made.public_id}/")
    assert page.status_code == 200 and made.data_sha256 in page.content.decode()
    listing = holder.get("/registration/evidence/").content.decode()
    assert str(made.public_id) in listing
    assert str(made.public_id) not in other.get("/registration/evidence/").content.decode()
    assert english().get("/registration/evidence/").status_code == 302


def test_the_verification_page_matches_a_digest_and_shows_the_proof(opened):
    setup, made = opened
    client = english()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(VERIFY, {"digest": made.data_sha256.upper()})
    html = response.content.decode()
    assert response.status_code == 200
    assert "verify-match" in html and "verify-no-match" not in html
    assert "inclusion proof verifies against the signed checkpoint" in html
    assert len(queries) <= 12, [q["sql"] for q in queries.captured_queries]
    # One byte changed: another digest, no match.
    data = bytearray(body(client.get(f"/registration/evidence/d/{made.public_id}/data/")))
    data[-3] ^= 0x01
    other = hashlib.sha256(bytes(data)).hexdigest()
    html = client.get(VERIFY, {"digest": other}).content.decode()
    assert "verify-no-match" in html and "verify-match" not in html
    # Against one deposit named.
    html = client.get(VERIFY, {"deposit": str(made.public_id), "digest": other}).content.decode()
    assert "verify-no-match" in html
    html = client.get(VERIFY, {"deposit": str(made.public_id)}).content.decode()
    assert made.data_sha256 in html and "bundle.json" in html
    # The metadata digest is found too.
    assert "verify-match" in client.get(VERIFY, {"digest": made.metadata_sha256}).content.decode()
    # A code: not wired yet.
    html = client.get(VERIFY, {"code": "WHDJ-2026-000123"}).content.decode()
    assert "No registration with this code" in html
    assert "js/sha256.js" in html and "<script>" not in html


def test_the_server_side_fallback_is_size_limited_and_throttled(opened, settings):
    setup, made = opened
    settings.EVIDENCE_VERIFY_UPLOADS_PER_HOUR = 2
    settings.EVIDENCE_VERIFY_MAX_BYTES = 1024 * 1024
    data = body(english().get(f"/registration/evidence/d/{made.public_id}/data/"))
    addr = client_addr()
    client = english(REMOTE_ADDR=addr)
    html = client.post(VERIFY, {"file": SimpleUploadedFile("x.csv", data)}).content.decode()
    assert "verify-match" in html
    html = client.post(VERIFY, {"file": SimpleUploadedFile("y.csv", data + b"!")}).content.decode()
    assert "verify-no-match" in html
    html = client.post(VERIFY, {"file": SimpleUploadedFile("z.csv", data)}).content.decode()
    assert "Too many files" in html and "verify-match" not in html
    big = english(REMOTE_ADDR=client_addr())
    settings.EVIDENCE_VERIFY_MAX_BYTES = 10
    html = big.post(VERIFY, {"file": SimpleUploadedFile("b.csv", b"x" * 200_000)}).content
    assert "larger than" in html.decode()


def test_naughty_strings_never_break_the_verification_page(opened, settings):
    setup, made = opened
    settings.EVIDENCE_VERIFY_UPLOADS_PER_HOUR = 10_000
    client = english(REMOTE_ADDR=client_addr())
    # The list has no NUL byte, which PostgreSQL refuses in text: try it too.
    for s in [*naughty_strings(), "\x00", "WHDJ-2026-\x00"]:
        for params in ({"digest": s}, {"deposit": s}, {"code": s}, {"digest": s, "deposit": s}):
            response = client.get(VERIFY, params)
            assert response.status_code == 200, (params, response.status_code)
    for i, s in enumerate(naughty_strings()[:60]):
        response = client.post(VERIFY, {"file": SimpleUploadedFile(f"n{i}.csv", s.encode())})
        assert response.status_code == 200


def test_naughty_strings_never_break_the_deposit_form(db):
    setup = typed()
    client = english()
    client.force_login(setup.agency.staff)
    assert client.get("/registration/evidence/new/").status_code == 200
    for s in naughty_strings()[:80]:
        response = client.post(
            "/registration/evidence/new/",
            {
                "kind": "product",
                "title": s,
                "description": s,
                "upload": SimpleUploadedFile("p.bin", b"product " + s.encode()),
            },
        )
        assert response.status_code in (200, 302), s
    made = Deposit.objects.filter(kind="product").first()
    assert made is not None and made.state == Deposit.State.PENDING


def test_a_product_names_the_deposits_it_was_made_from(opened):
    setup, source = opened
    made = services.deposit_request(
        kind=Deposit.Kind.PRODUCT,
        holder=setup.resource.provider,
        sources=[source],
        title="养老服务地图",
        description="由开放数据加工。",
        upload=SimpleUploadedFile("map.geojson", b'{"type":"FeatureCollection"}'),
        acting_user=setup.agency.staff,
    )
    made = services.deposit_make(deposit_id=made.pk)
    assert made.state == Deposit.State.DONE
    import json

    meta = json.loads(made.metadata_json)
    assert meta["sources"] == [
        {
            "deposit": str(source.public_id),
            "data_sha256": source.data_sha256,
            "metadata_sha256": source.metadata_sha256,
        }
    ]
    assert meta["product"]["title"] == "养老服务地图"
    assert made.data_sha256 == hashlib.sha256(b'{"type":"FeatureCollection"}').hexdigest()
    assert services.deposit_check(made) == []
    assert made.data_name.endswith(".geojson")


def test_the_holder_s_list_costs_the_same_for_more_deposits(db):
    setup = typed()
    holder = english()
    holder.force_login(setup.agency.staff)
    deposit(setup)
    holder.get("/registration/evidence/")
    with CaptureQueriesContext(connection) as one:
        assert holder.get("/registration/evidence/").status_code == 200
    for _ in range(3):
        deposit(setup)
    with CaptureQueriesContext(connection) as four:
        html = holder.get("/registration/evidence/?state=done").content.decode()
    assert html.count("/registration/evidence/") >= 4
    assert len(four) <= len(one) + 1, [q["sql"] for q in four.captured_queries]
