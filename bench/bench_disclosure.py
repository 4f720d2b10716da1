"""Issue #15: the public disclosure list (/disclosures/) costs little beside a page of the same
size built from one query.

Data (made once, kept): 20 published resources eligible for authorized operation, 50
operators, 1,000 authorizations in force granted by the city bureau (each with 3 resources)
and 10,000 listed products (200 per operator), written with bulk inserts.

- platform: an anonymous GET of `/disclosures/` through the whole Django stack (middleware,
  the filter form, the count, the page of 20 with its operator, bureau and resources, the
  page around the cached fragment), with the cache *cold*: the disclosure cache generation is
  bumped before every request, so the fragment is built anew each time. The *warm* figure
  (same request, fragment cached) is reported beside it;
- baseline: a GET of a page of the same size through the same stack, built from one SQL
  query (the same 20 rows with their operator, bureau and resources aggregated with
  json_agg, the total by a window count) rendered by the same templates.

Figure `disclosure.list.onequery_ratio` = platform (cold) median / baseline median, over
alternating rounds. Target <= 2.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import time
from decimal import Decimal
from types import SimpleNamespace

from django.db import connection, transaction
from django.shortcuts import render
from django.test import Client, override_settings
from django.urls import include, path

N_AUTH = int(os.environ.get("BENCH_DISCLOSURE_AUTHORIZATIONS", 1000))
N_PRODUCTS = int(os.environ.get("BENCH_DISCLOSURE_PRODUCTS", 10_000))
N_OPERATORS = 50
N_RESOURCES = 20
ROUNDS = 30
SCOPE = "基准授权运营范围"


def _data() -> None:
    from authorization.operation.models import (
        AuthorizedResource,
        OperationAuthorization,
        Product,
    )
    from catalog.models import Resource
    from tests.accounts.factories import OrganizationFactory, UserFactory, division
    from tests.catalog.factories import grade, make_agency, make_city_bureau, make_published
    from wuhan_pdr.accounts.models import Organization
    from wuhan_pdr.accounts.roles import Role

    if OperationAuthorization.objects.filter(scope__startswith=SCOPE).count() >= N_AUTH:
        return
    with transaction.atomic():
        bureau = Organization.objects.filter(kind=Organization.Kind.CITY_BUREAU).first()
        reviewer = None
        if bureau is None:
            made = make_city_bureau()
            bureau, reviewer = made.org, made.reviewer
        else:
            reviewer = UserFactory(organization=bureau, roles=[Role.CITY_REVIEWER])
        agency = make_agency()
        resources = [
            Resource.objects.get(
                pk=make_published(
                    agency,
                    reviewer,
                    name=f"基准运营资源{i:02d}",
                    grade=grade("L1"),
                    operation_eligible=True,
                ).resource_id
            )
            for i in range(N_RESOURCES)
        ]
        operators = [
            OrganizationFactory(kind=Organization.Kind.OPERATOR, division=division("420100"))
            for _ in range(N_OPERATORS)
        ]
        applicant = UserFactory(organization=operators[0], roles=[Role.OPERATOR])
        today = dt.date.today()
        now = dt.datetime.now(dt.UTC)
        auths = OperationAuthorization.objects.bulk_create(
            OperationAuthorization(
                kind="individual" if i % 3 else "whole",
                operator=operators[i % N_OPERATORS],
                applicant=applicant,
                authorizing_body=bureau,
                scope=f"{SCOPE}{i:04d}:开发公共数据产品和服务。",
                purpose="基准。",
                security_measures="基准。",
                starts_on=today,
                ends_on=today + dt.timedelta(days=365 + i),
                state="active",
                decided_at=now - dt.timedelta(minutes=i),
            )
            for i in range(N_AUTH)
        )
        AuthorizedResource.objects.bulk_create(
            AuthorizedResource(
                authorization=a, resource=resources[(i + k) % N_RESOURCES], delivery="rows"
            )
            for i, a in enumerate(auths)
            for k in range(3)
        )
        products = Product.objects.bulk_create(
            Product(
                operator=operators[i % N_OPERATORS],
                name=f"基准产品{i:05d}",
                description="基准产品说明。",
                price=Decimal("0.01"),
                unit="次",
                fee_basis="call",
            )
            for i in range(N_PRODUCTS)
        )
        through = Product.resources.through
        through.objects.bulk_create(
            through(product_id=p.pk, resource_id=resources[i % N_RESOURCES].pk)
            for i, p in enumerate(products)
        )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")


ONE_QUERY = """
SELECT a.id, a.kind, a.scope, a.starts_on, a.ends_on, a.state, a.decided_at, a.ended_at,
       a.operator_id, o.name, b.name, count(*) OVER () AS total,
       (SELECT json_agg(json_build_object('code', r.code, 'name', v.name, 'provider', p.name,
                                          'delivery', e.delivery) ORDER BY r.code)
          FROM authorization_authorizedresource e
          JOIN catalog_resource r ON r.id = e.resource_id
          JOIN catalog_resourceversion v ON v.id = r.published_version_id
          JOIN accounts_organization p ON p.id = r.provider_id
         WHERE e.authorization_id = a.id) AS resources
  FROM authorization_operationauthorization a
  JOIN accounts_organization o ON o.id = a.operator_id
  JOIN accounts_organization b ON b.id = a.authorizing_body_id
 WHERE a.state IN ('approved', 'active', 'suspended', 'revoked', 'expired')
 ORDER BY a.decided_at DESC NULLS LAST, a.id DESC
 LIMIT 20
"""


def one_query_page(request):
    """The same page from one query, rendered by the same templates."""
    from django.template.loader import render_to_string
    from django.utils.safestring import mark_safe

    from authorization.operation.forms import PublicFilterForm
    from authorization.operation.models import OperationAuthorization
    from wuhan_pdr.accounts.models import Organization
    from wuhan_pdr.kernel.pagination import KnownCountPaginator

    kinds = dict(OperationAuthorization.Kind.choices)
    states = dict(OperationAuthorization.State.choices)
    with connection.cursor() as cur:
        cur.execute(ONE_QUERY)
        fetched = cur.fetchall()
    rows = []
    for r in fetched:
        resources = r[12] if isinstance(r[12], list) else json.loads(r[12] or "[]")
        rows.append(
            SimpleNamespace(
                pk=r[0],
                kind=r[1],
                get_kind_display=lambda k=r[1]: kinds[k],
                scope=r[2],
                starts_on=r[3],
                ends_on=r[4],
                state=r[5],
                get_state_display=lambda s=r[5]: states[s],
                decided_at=r[6],
                ended_at=r[7],
                operator_id=r[8],
                operator=SimpleNamespace(name=r[9]),
                authorizing_body=SimpleNamespace(name=r[10]),
                domain=None,
                region=None,
                public_resources=resources,
            )
        )
    total = fetched[0][11] if fetched else 0
    page = KnownCountPaginator(rows, 20, count=total).get_page(1)
    form = PublicFilterForm(None, bureaus=Organization.objects.none())
    body = render_to_string(
        "authorization/operation/public/_list.html",
        {"form": form, "page_obj": page, "total": total, "filtered": False},
        request=request,
    )
    return render(
        request,
        "authorization/operation/public/list.html",
        {"body": mark_safe(body)},  # noqa: S308  (our own template's output)
    )


urlpatterns = [
    path("bench-onequery/", one_query_page),
    path("", include("wuhan_pdr.urls")),
]


def _time(client: Client, url: str, before=None) -> float:
    if before is not None:
        before()
    started = time.perf_counter()
    response = client.get(url)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


def run() -> list[dict]:
    from django.core.cache import cache

    from authorization.operation.services import GENERATION_KEY

    _data()

    def cold():
        try:
            cache.incr(GENERATION_KEY)
        except ValueError:
            cache.set(GENERATION_KEY, 2, timeout=None)

    platform, baseline, warm = [], [], []
    with override_settings(ROOT_URLCONF="bench_disclosure", ALLOWED_HOSTS=["*"]):
        client = Client()
        for _ in range(3):  # warm up both paths (templates, connections)
            _time(client, "/disclosures/", cold)
            _time(client, "/bench-onequery/")
        for _ in range(ROUNDS):
            platform.append(_time(client, "/disclosures/", cold))
            baseline.append(_time(client, "/bench-onequery/"))
            warm.append(_time(client, "/disclosures/"))
        page = client.get("/disclosures/").content.decode()
        assert page.count('class="card disclosure"') == 20
    p, b, w = (statistics.median(x) * 1000 for x in (platform, baseline, warm))
    return [
        {
            "name": "disclosure.list.onequery_ratio",
            "value": round(p / b, 2),
            "unit": "ratio",
            "target": "<= 2",
            "baseline": None,
            "method": (
                f"median of {ROUNDS} anonymous GETs of /disclosures/ with the cache cold "
                f"({N_AUTH} authorizations, {N_PRODUCTS} products) / median of a same-size "
                "page built from one SQL query, alternating, full Django stack"
            ),
            "platform_cold_ms": round(p, 2),
            "platform_warm_ms": round(w, 2),
            "one_query_ms": round(b, 2),
        },
        {
            "name": "disclosure.list.warm_ratio",
            "value": round(w / b, 2),
            "unit": "ratio",
            "target": None,
            "baseline": None,
            "method": "the same with the page's fragment cached (warm) / the one-query page",
        },
    ]
