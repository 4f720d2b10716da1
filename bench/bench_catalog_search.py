"""Issue #3: the public catalog search through the full Django stack.

100,000 published resources with 1,000,000 data items are generated with COPY; `/catalog/?q=`
is requested with two- and four-character words and two facets each, through Django's test
client (URL routing, middleware, view, selectors, template). The baseline, measured in the
same run and the same way, is a page with the same layout that runs one indexed query for 20
rows. The p95 is measured at 10,000 and at 100,000 resources: an index carries the search
when the ratio stays well under 10 (the data grew tenfold).
"""

from __future__ import annotations

import statistics
import time

import catalog_data
from django.db import connection, reset_queries
from django.http import HttpResponse
from django.template import engines
from django.test import Client, override_settings
from django.urls import path

from catalog.models import CatalogEntry
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.urls import urlpatterns as product_urls

ONE_QUERY_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}<ol>{% for e in rows %}'
    "<li>{{ e.code }} {{ e.name }} {{ e.provider_name }} {{ e.published_at|date:'Y-m-d' }}</li>"
    "{% endfor %}</ol>{% endblock %}"
)


def one_query_page(request):
    rows = list(CatalogEntry.objects.order_by("-published_at")[:20])
    return HttpResponse(ONE_QUERY_TEMPLATE.render({"rows": rows}, request))


urlpatterns = [path("bench/one-query/", one_query_page), *product_urls]

SEARCHES = [
    ("人口", {"share_type": "conditional", "update_cycle": "monthly"}),
    ("企业", {"open_type": "none", "share_type": "conditional"}),
    ("监测", {"share_type": "unconditional", "update_cycle": "daily"}),
    ("户籍人口", {"share_type": "conditional", "update_cycle": "yearly"}),
    ("企业登记", {"open_type": "conditional", "update_cycle": "weekly"}),
    ("空气质量", {"share_type": "conditional", "open_type": "conditional"}),
]
REQUESTS = 240
WARMUP = 24


def _timed(client: Client, url: str, data: dict | None = None) -> float:
    t0 = time.perf_counter()
    response = client.get(url, data or {})
    elapsed = (time.perf_counter() - t0) * 1000
    if response.status_code != 200:
        raise RuntimeError(f"{url} {data} answered {response.status_code}")
    return elapsed


def _p(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def _measure_search(client: Client) -> list[float]:
    for i in range(WARMUP):
        q, facets = SEARCHES[i % len(SEARCHES)]
        _timed(client, "/catalog/", {"q": q, **facets})
    samples = []
    for i in range(REQUESTS):
        q, facets = SEARCHES[i % len(SEARCHES)]
        samples.append(_timed(client, "/catalog/", {"q": q, **facets}))
    return samples


def _measure_baseline(client: Client) -> list[float]:
    for _ in range(WARMUP):
        _timed(client, "/bench/one-query/")
    return [_timed(client, "/bench/one-query/") for _ in range(REQUESTS)]


def _ensure_organizations() -> None:
    if not Organization.objects.filter(kind=Organization.Kind.CITY_AGENCY).exists():
        from wuhan_pdr.accounts.demo import seed_accounts

        seed_accounts({})


@override_settings(
    ROOT_URLCONF="bench_catalog_search",
    ALLOWED_HOSTS=["*"],
    DEBUG=False,
    CATALOG_FACET_CACHE_SECONDS=0,  # measure the uncached path: every search counts its facets
    STORAGES={
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    },
)
def run() -> list[dict]:
    _ensure_organizations()
    client = Client()
    catalog_data.reset()
    catalog_data.generate(10_000)
    small = _measure_search(client)
    catalog_data.generate(90_000, start=10_000)
    large = _measure_search(client)
    baseline = _measure_baseline(client)
    with connection.cursor() as cur:
        cur.execute("SELECT count(*) FROM catalog_dataitem")
        items = cur.fetchone()[0]
    reset_queries()
    p95_small, p95_large, p95_base = _p(small, 95), _p(large, 95), _p(baseline, 95)
    method = (
        f"{REQUESTS} GETs of /catalog/?q=<2- or 4-char word>&<two facets> through Django's test client "
        f"(6 searches in turn, {WARMUP} warm-up) over {CatalogEntry.objects.count():,} published resources "
        f"with {items:,} items; baseline: the same layout with one indexed query of 20 rows, same run"
    )
    return [
        {
            "name": "catalog.search.p95_ms",
            "value": round(p95_large, 1),
            "unit": "ms",
            "target": "<= 150",
            "baseline": round(p95_base, 1),
            "method": method,
            "p50_ms": round(_p(large, 50), 1),
            "ratio_to_baseline": round(p95_large / p95_base, 2),
        },
        {
            "name": "catalog.search.scale_ratio",
            "value": round(p95_large / p95_small, 2),
            "unit": "ratio",
            "target": "<= 2",
            "baseline": round(p95_small, 1),
            "method": "p95 at 100,000 resources divided by p95 at 10,000 (baseline field: the p95 at 10,000, ms)",
        },
    ]
