"""API throttling (issue 11, job floods) against the real Redis cache: anonymous callers per
address, signed-in users per user, push channels per channel; a refused request gets 429
with Retry-After and a message in the portal's language. The client's address comes from
X-Forwarded-For only through the configured number of trusted proxies, for throttling and
for django-axes alike."""

from __future__ import annotations

import json
import uuid

import pytest
from axes.models import AccessAttempt
from django.test import Client, RequestFactory

from aggregation import services
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import make_channel
from tests.messages import message
from wuhan_pdr.accounts.services import api_token_regenerate
from wuhan_pdr.kernel.throttling import client_ip

pytestmark = pytest.mark.django_db

ORGS = "/api/v1/organizations/"
ME = "/api/v1/me/"
INGEST = "/api/v1/ingest/batches/"
THROTTLED = "Too many requests: try again in %(wait)d seconds."


def rates(settings, **low):
    rf = dict(settings.REST_FRAMEWORK)
    rf["DEFAULT_THROTTLE_RATES"] = {**rf["DEFAULT_THROTTLE_RATES"], **low}
    settings.REST_FRAMEWORK = rf


def fresh_address() -> str:
    """A documentation-range address nobody else's test has used (counters live in Redis)."""
    n = uuid.uuid4().int
    return f"198.51.{n % 250}.{(n >> 8) % 250 + 1}"


def assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    body = json.loads(response.content)
    wait = int(response["Retry-After"])
    assert 0 < wait <= 60
    assert body == {"detail": message(THROTTLED, wait=wait), "code": "throttled", "wait": wait}
    assert response["Content-Language"] == "zh-hans"


def test_anonymous_callers_are_throttled_per_address(settings):
    rates(settings, anon="3/min")
    caller = Client(REMOTE_ADDR=fresh_address())
    for _ in range(3):
        assert caller.get(ORGS).status_code == 200
    assert_throttled(caller.get(ORGS))
    # Another address has a bucket of its own.
    assert Client(REMOTE_ADDR=fresh_address()).get(ORGS).status_code == 200


def test_signed_in_users_are_throttled_per_user_whatever_their_address(settings, agency_a):
    rates(settings, user="2/min")
    first, second = (UserFactory(organization=agency_a) for _ in range(2))
    token = api_token_regenerate(acting_user=first).key
    for _ in range(2):
        here = Client(REMOTE_ADDR=fresh_address(), HTTP_AUTHORIZATION=f"Token {token}")
        assert here.get(ME).status_code == 200
    assert_throttled(
        Client(REMOTE_ADDR=fresh_address(), HTTP_AUTHORIZATION=f"Token {token}").get(ME)
    )
    other = Client(REMOTE_ADDR=fresh_address())
    other.force_login(second)
    assert other.get(ME).status_code == 200


def test_push_channels_are_throttled_per_channel_at_the_ingest_rate(settings):
    rates(settings, anon="1/min", ingest="3/min")
    address = fresh_address()
    pushers = []
    for _ in range(2):
        setup = make_channel(kind="push")
        token = services.channel_token_rotate(channel=setup.channel, acting_user=setup.agency.staff)
        pushers.append(Client(REMOTE_ADDR=address, HTTP_AUTHORIZATION=f"Bearer {token}"))
    # Not the anonymous rate (1/min): the ingest rate, per channel, from one address.
    for n in range(3):
        assert pushers[0].get(INGEST + f"B-{n}/").status_code == 404
    assert_throttled(pushers[0].get(INGEST + "B-9/"))
    assert pushers[1].get(INGEST + "B-1/").status_code == 404


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    rates(settings, anon="1/min")
    address = fresh_address()
    first = Client(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=fresh_address())
    assert first.get(ORGS).status_code == 200
    forged = Client(REMOTE_ADDR=address, HTTP_X_FORWARDED_FOR=fresh_address())
    assert_throttled(forged.get(ORGS))  # a new header is not a new bucket


def test_behind_one_trusted_proxy_the_right_most_address_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    rates(settings, anon="1/min")
    proxy, client_a, client_b = fresh_address(), fresh_address(), fresh_address()
    a = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"10.9.9.9, {client_a}")
    assert a.get(ORGS).status_code == 200
    # The same client writing something else to the left of what the proxy appended.
    forged = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"{fresh_address()}, {client_a}")
    assert_throttled(forged.get(ORGS))
    # Another client behind the same proxy does not share its bucket.
    b = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=client_b)
    assert b.get(ORGS).status_code == 200


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "203.0.113.9, 198.51.100.7", "192.0.2.1"),
        (1, "203.0.113.9, 198.51.100.7", "198.51.100.7"),
        (2, "203.0.113.9, 198.51.100.7", "203.0.113.9"),
        (1, "", "192.0.2.1"),
        (1, "not-an-address", "192.0.2.1"),
    ],
)
def test_client_ip_counts_trusted_proxies_from_the_right(settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


@pytest.mark.parametrize(("count", "expected"), [(0, "192.0.2.44"), (1, "198.51.100.44")])
def test_axes_records_the_same_client_address(settings, agency_a, count, expected):
    settings.TRUSTED_PROXY_COUNT = count
    UserFactory(username="lisi", organization=agency_a)
    browser = Client(REMOTE_ADDR="192.0.2.44", HTTP_X_FORWARDED_FOR="203.0.113.1, 198.51.100.44")
    browser.post("/accounts/login/", {"username": "lisi", "password": "wrong-password-1"})
    attempt = AccessAttempt.objects.get(username="lisi")
    assert attempt.ip_address == expected
