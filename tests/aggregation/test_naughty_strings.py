"""The Big List of Naughty Strings through the aggregation pages: the searches of every list,
the channel form (name, access requirements, column mapping) and the downtime form. No
input may cause a server error; what is stored comes back unchanged (trimmed) or is refused
with a message; pages showing stored text escape it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from aggregation.models import Channel, ChannelKind, DowntimeReport
from tests.aggregation.factories import items_people
from tests.aggregation.test_views import client
from tests.catalog import factories as cf
from tests.catalog.filing.conftest import make_system

pytestmark = pytest.mark.django_db


def test_list_searches_survive_naughty_strings(naughty):
    reviewer = cf.make_city_bureau().reviewer
    c = client(reviewer)
    urls = [
        reverse("aggregation:channels"),
        reverse("aggregation:board"),
        reverse("aggregation:downtime"),
        "/quality/issues/",
        "/quality/",
        "/objections/bureau/",
    ]
    for i, s in enumerate(naughty):
        url = urls[i % len(urls)]
        response = c.get(url, {"q": s})
        assert response.status_code == 200, (url, repr(s))


def test_channel_form_stores_naughty_text_unchanged_or_refuses_it(naughty):
    agency = cf.make_agency()
    resource = cf.make_published(
        agency, cf.make_city_bureau().reviewer, items=items_people()
    ).resource
    url = reverse("aggregation:channel-create") + f"?resource={resource.pk}"
    c = client(agency.staff)
    stored = {}
    for i, s in enumerate(naughty):
        name = f"通道{i}"
        response = c.post(
            url,
            {
                "kind": ChannelKind.FILE,
                "name": name,
                "source_kind": "local",
                "access_requirements": s or "政务外网",
                "schedule": "",
                "column_mapping": f"{s} = code"
                if s.strip() and "=" not in s and "\n" not in s
                else "",
            },
        )
        assert response.status_code in (200, 302), repr(s)
        if response.status_code == 302:
            stored[name] = (s or "政务外网").strip()
        else:
            assert response.context["form"].errors, repr(s)
    assert len(stored) > len(naughty) * 0.8
    saved = dict(Channel.objects.filter(name__in=stored).values_list("name", "access_requirements"))
    assert [n for n, s in stored.items() if saved[n].strip() != s] == []
    page = c.get(reverse("aggregation:channels"), {"page": 1})
    assert page.status_code == 200 and "<script>alert(0)</script>" not in page.text


def test_downtime_form_survives_naughty_descriptions(naughty):
    agency = cf.make_agency()
    system = make_system(agency, name="测试系统")
    c = client(agency.staff)
    start = timezone.localtime(timezone.now() + dt.timedelta(days=3))
    created = 0
    for i, s in enumerate(naughty):
        starts = start + dt.timedelta(hours=i)
        response = c.post(
            reverse("aggregation:downtime-create"),
            {
                "information_system": system.pk,
                "kind": "maintenance",
                "starts_at": starts.strftime("%Y-%m-%dT%H:%M"),
                "ends_at": (starts + dt.timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M"),
                "description": s,
            },
        )
        assert response.status_code in (200, 302), repr(s)
        created += response.status_code == 302
    assert created == DowntimeReport.objects.filter(information_system=system).count() > 0
