"""Fixtures of the supply API tests: a restricted-zone resource with 12 rows loaded, and a
grant of four of its six items to another agency (code clear, full_name masked, age as an
HMAC, updated_at clear; born and amount not granted)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from aggregation.models import Batch
from authorization.sharing.models import Grant
from authorization.sharing.services import grant_issue
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import csv_rows, load
from tests.catalog import factories as cf

DELIVERY = {"code": "clear", "full_name": "masked", "age": "hmac", "updated_at": "clear"}


@dataclass
class Supply:
    setup: object
    grant: Grant
    key: str

    @property
    def resource(self):
        return self.setup.resource


def issue(resource, grantee, delivery=None, **kwargs) -> tuple[Grant, str]:
    delivery = delivery or DELIVERY
    items = {
        i.pk: delivery[i.english_name]
        for i in resource.published_version.items.all()
        if i.english_name in delivery
    }
    grant, key = grant_issue(
        resource=resource,
        grantee=grantee,
        items=items,
        origin="share_request",
        valid_until=kwargs.pop("valid_until", timezone.now() + dt.timedelta(days=30)),
        acting_user=kwargs.pop("acting_user", None),
        **kwargs,
    )
    # The assessment a zone resource's grant needs is the sharing part's (tested there).
    Grant.objects.filter(pk=grant.pk).update(needs_assessment=False)
    grant.refresh_from_db()
    return grant, key


@pytest.fixture(autouse=True)
def _fresh_counters():
    cache.clear()
    yield


@pytest.fixture
def requester(db):
    return cf.make_agency(name="武汉市公安局(测试)")


@pytest.fixture
def restricted(db):
    items = items_people()
    items[1]["masking_rule"] = "保留首尾"  # full_name
    setup = make_channel(items=items, grade="L3", name="受限通道")
    assert load(setup, csv_rows(12)).status == Batch.Status.SUCCEEDED
    return setup


@pytest.fixture
def supply(restricted, requester) -> Supply:
    grant, key = issue(restricted.resource, requester.org, acting_user=restricted.agency.admin)
    return Supply(setup=restricted, grant=grant, key=key)


def api(key: str | None = None, *, header: str = "bearer", ip: str = "127.0.0.1") -> Client:
    extra = {"REMOTE_ADDR": ip}
    if key is not None:
        if header == "bearer":
            extra["HTTP_AUTHORIZATION"] = f"Bearer {key}"
        else:
            extra["HTTP_X_API_KEY"] = key
    return Client(**extra)
