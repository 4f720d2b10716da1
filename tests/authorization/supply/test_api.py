"""The unified data supply API (issue #14 item 4): rows in each granted field's delivery form
from the zone's definer function, only for the grant's own resource; refusals with stable
codes; throttling per grant; an audit entry and usage per call; changed_since with deleted
keys; a constant query count per page."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aggregation.models import Batch
from authorization.sharing.models import Grant, GrantUsage
from security.audit.models import AuditEvent
from tests.aggregation.factories import make_channel
from tests.aggregation.test_views import csv_rows, load

from .conftest import api, issue


def rows_url(resource, **params) -> str:
    from urllib.parse import urlencode

    url = reverse("api:supply:rows", args=[resource.pk])
    return f"{url}?{urlencode(params)}" if params else url


def test_a_page_has_the_granted_fields_only_in_their_forms(supply):
    response = api(supply.key).get(rows_url(supply.resource, limit=5))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["fields"] == ["code", "full_name", "age", "updated_at"]
    assert body["forms"] == {
        "code": "clear",
        "full_name": "masked",
        "age": "hmac",
        "updated_at": "clear",
    }
    assert body["count"] == 5 and body["next"]
    first = body["rows"][0]
    assert set(first) == {"code", "full_name", "age", "updated_at"}
    assert first["code"] == "A0001"
    assert first["full_name"] == "姓*1"
    assert len(first["age"]) == 64 and first["age"] != "21"
    assert first["updated_at"] == "2025-01-02 08:00:00"
    text = response.content.decode()
    assert "1990-01" not in text and "1.50" not in text  # born, amount: not granted


def test_paging_through_every_row_with_the_cursor(supply):
    client = api(supply.key)
    seen, url = [], rows_url(supply.resource, limit=5)
    while url:
        body = client.get(url).json()
        seen += [r["code"] for r in body["rows"]]
        url = rows_url(supply.resource, limit=5, cursor=body["next"]) if body["next"] else None
    assert seen == [f"A{i:04d}" for i in range(1, 13)]


def test_the_key_is_accepted_as_x_api_key(supply):
    assert api(supply.key, header="x-api-key").get(rows_url(supply.resource)).status_code == 200


def test_fields_subset_and_a_field_outside_the_grant(supply):
    client = api(supply.key)
    body = client.get(rows_url(supply.resource, fields="full_name")).json()
    assert body["fields"] == ["full_name"]
    assert set(body["rows"][0]) == {"full_name"}
    # not granted (born) and nonexistent (nothing): the same answer
    granted_not = client.get(rows_url(supply.resource, fields="code,born"))
    missing = client.get(rows_url(supply.resource, fields="code,nothing"))
    assert granted_not.status_code == missing.status_code == 400
    assert granted_not.json() == missing.json()
    assert granted_not.json()["code"] == "field_not_granted"
    assert "born" not in granted_not.content.decode()


def test_csv_streams_every_granted_row(supply):
    for url in (
        reverse("api:supply:rows-csv", args=[supply.resource.pk]),
        rows_url(supply.resource, format="csv"),
    ):
        response = api(supply.key).get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        text = b"".join(response.streaming_content).decode()
        table = list(csv.reader(io.StringIO(text)))
        assert table[0] == ["code", "full_name", "age", "updated_at"]
        assert [r[0] for r in table[1:]] == [f"A{i:04d}" for i in range(1, 13)]
        assert table[1][1] == "姓*1"
    assert AuditEvent.objects.filter(action="supply.rows", details__rows=12).count() == 2


def test_count(supply):
    response = api(supply.key).get(reverse("api:supply:count", args=[supply.resource.pk]))
    assert response.json() == {"resource": supply.resource.pk, "count": 12}


def test_the_resource_may_be_named_by_its_code(supply):
    slug = supply.resource.code.replace("/", "-")
    assert api(supply.key).get(reverse("api:supply:rows", args=[slug])).status_code == 200


# --- refusals ----------------------------------------------------------------------------------


def refusal(response, status: int, code: str):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    return body


def test_no_key_and_a_bad_key(supply):
    refusal(api().get(rows_url(supply.resource)), 401, "key_missing")
    refusal(api("pdr_0123456789ab_" + "x" * 40).get(rows_url(supply.resource)), 401, "key_invalid")
    refusal(api(supply.key + "x").get(rows_url(supply.resource)), 401, "key_invalid")


def test_expired_revoked_suspended_keys(supply):
    url = rows_url(supply.resource)
    Grant.objects.filter(pk=supply.grant.pk).update(
        valid_from=timezone.now() - dt.timedelta(days=2),
        valid_until=timezone.now() - dt.timedelta(seconds=1),
    )
    refusal(api(supply.key).get(url), 401, "grant_expired")
    Grant.objects.filter(pk=supply.grant.pk).update(
        valid_until=timezone.now() + dt.timedelta(days=1), state="suspended"
    )
    refusal(api(supply.key).get(url), 403, "grant_suspended")
    Grant.objects.filter(pk=supply.grant.pk).update(state="revoked")
    refusal(api(supply.key).get(url), 403, "grant_revoked")


def test_a_key_from_an_address_outside_its_list(supply):
    Grant.objects.filter(pk=supply.grant.pk).update(allowed_ips=["10.1.0.0/16"])
    refusal(api(supply.key, ip="10.2.0.1").get(rows_url(supply.resource)), 403, "ip_not_allowed")
    assert api(supply.key, ip="10.1.3.4").get(rows_url(supply.resource)).status_code == 200


def test_over_the_rate_answers_429_with_retry_after(supply):
    Grant.objects.filter(pk=supply.grant.pk).update(rate_per_minute=2)
    client = api(supply.key)
    assert client.get(rows_url(supply.resource)).status_code == 200
    assert client.get(rows_url(supply.resource)).status_code == 200
    response = client.get(rows_url(supply.resource))
    body = refusal(response, 429, "rate_limited")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert body["wait"] == int(response["Retry-After"])


def test_a_grant_reads_no_other_resource(supply, requester):
    other = make_channel(name="别的通道")
    assert load(other, csv_rows(3)).status == Batch.Status.SUCCEEDED
    client = api(supply.key)
    wrong = client.get(rows_url(other.resource))
    missing = client.get(reverse("api:supply:rows", args=["999999999"]))
    assert refusal(wrong, 404, "not_found") == refusal(missing, 404, "not_found")
    refusal(client.get(reverse("api:supply:count", args=[other.resource.pk])), 404, "not_found")
    # and another grantee's grant of the same resource gives its own fields only
    grant, key = issue(supply.resource, requester.org, {"code": "clear"})
    body = api(key).get(rows_url(supply.resource)).json()
    assert body["fields"] == ["code"]


def test_bad_parameters(supply):
    client = api(supply.key)
    refusal(client.get(rows_url(supply.resource, limit=5001)), 400, "limit_invalid")
    refusal(client.get(rows_url(supply.resource, limit="x")), 400, "limit_invalid")
    refusal(client.get(rows_url(supply.resource, cursor="abc")), 400, "cursor_invalid")
    refusal(client.get(rows_url(supply.resource, format="xml")), 400, "format_invalid")
    refusal(
        client.get(rows_url(supply.resource, changed_since="yesterday")),
        400,
        "changed_since_invalid",
    )


def test_naughty_strings_never_500(supply):
    from tests.naughty import naughty_strings

    Grant.objects.filter(pk=supply.grant.pk).update(rate_per_minute=100_000)
    client = api(supply.key)
    for value in naughty_strings()[:200]:
        for param in ("fields", "cursor", "changed_since", "limit", "format"):
            response = client.get(rows_url(supply.resource, **{param: value}))
            assert response.status_code in (200, 400), (param, value, response.content)


def test_a_cursor_of_another_grant_is_refused(supply, requester):
    body = api(supply.key).get(rows_url(supply.resource, limit=3)).json()
    _grant, other_key = issue(supply.resource, requester.org)
    response = api(other_key).get(rows_url(supply.resource, limit=3, cursor=body["next"]))
    refusal(response, 400, "cursor_invalid")


# --- audit, usage, query count -----------------------------------------------------------------


def test_every_call_is_audited_and_counted(supply):
    client = api(supply.key)
    client.get(rows_url(supply.resource, limit=5))
    client.get(rows_url(supply.resource, limit=5000))
    client.get(rows_url(supply.resource, fields="born"))
    events = list(AuditEvent.objects.filter(action="supply.rows").order_by("pk"))
    assert [(e.outcome, e.details.get("rows")) for e in events] == [
        ("success", 5),
        ("success", 12),
        ("refused", 0),
    ]
    assert events[0].object_id == str(supply.resource.pk)
    assert events[0].actor_label == f"grant:{supply.grant.key_prefix}"
    assert events[0].organization_id == supply.grant.grantee_id
    usage = GrantUsage.objects.get(grant=supply.grant)
    assert (usage.calls, usage.rows) == (2, 17)


def test_a_page_costs_the_same_queries_whatever_its_size(supply):
    client = api(supply.key)
    counts = []
    for limit in (1, 12):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(rows_url(supply.resource, limit=limit)).status_code == 200
        counts.append(len(ctx))
    assert counts[0] == counts[1]
    assert counts[0] <= 10


# --- changed_since -----------------------------------------------------------------------------


def test_changed_since_gives_changed_rows_and_deleted_keys(supply):
    since = "2025-01-02T08:00:00+08:00"
    client = api(supply.key)
    body = client.get(rows_url(supply.resource, changed_since=since)).json()
    assert body["count"] == 12 and body["deleted"] == []
    before_load = timezone.now() - dt.timedelta(seconds=2)
    newer = csv_rows(10, start=3).replace("2025-01-02 08:00:00", "2025-02-01 09:00:00")
    assert load(supply.setup, newer).status == Batch.Status.SUCCEEDED  # drops A0001, A0002
    body = client.get(rows_url(supply.resource, changed_since="2025-01-15")).json()
    assert [r["code"] for r in body["rows"]] == [f"A{i:04d}" for i in range(3, 13)]
    assert sorted(d["code"] for d in body["deleted"]) == ["A0001", "A0002"]
    later = timezone.localtime(before_load + dt.timedelta(days=1)).isoformat()
    body = client.get(rows_url(supply.resource, changed_since=later)).json()
    assert body["rows"] == [] and body["deleted"] == []
    count = client.get(
        reverse("api:supply:count", args=[supply.resource.pk]) + "?changed_since=2025-01-15"
    ).json()
    assert count["count"] == 10


def test_changed_since_needs_the_update_flag_in_clear(supply, requester):
    _grant, key = issue(supply.resource, requester.org, {"code": "clear", "updated_at": "masked"})
    refusal(
        api(key).get(rows_url(supply.resource, changed_since="2025-01-01")),
        400,
        "changed_since_unavailable",
    )


def test_a_key_not_in_clear_pages_in_storage_order(supply, requester):
    _grant, key = issue(supply.resource, requester.org, {"code": "hmac", "full_name": "clear"})
    client = api(key)
    seen, url = [], rows_url(supply.resource, limit=5)
    while url:
        body = client.get(url).json()
        seen += [r["full_name"] for r in body["rows"]]
        url = rows_url(supply.resource, limit=5, cursor=body["next"]) if body["next"] else None
    assert sorted(seen) == sorted(f"姓名{i}" for i in range(1, 13))
    assert all(len(r["code"]) == 64 for r in body["rows"]) or body["rows"] == []


@pytest.mark.parametrize("path", ["rows", "count"])
def test_the_schema_lists_the_supply_api(db, path):
    from django.test import Client

    schema = Client().get("/api/schema/", {"format": "json"}).json()
    assert f"/api/v1/supply/{{resource}}/{path}/" in schema["paths"]
    assert "/api/v1/supply/{resource}/rows.csv" in schema["paths"]
    assert "grantKey" in schema["components"]["securitySchemes"]


def test_refusals_speak_chinese_first(supply):
    body = api().get(rows_url(supply.resource)).json()
    assert body == {
        "code": "key_missing",
        "detail": "请提供授权凭证的 API 密钥：Authorization: Bearer <key> 或 X-API-Key: <key>。",
    }


def test_a_table_made_before_the_supply_functions_gets_them(supply):
    from aggregation.models import DatastoreTable
    from security import zones

    table = DatastoreTable.objects.get(resource=supply.resource)
    with connection.cursor() as cur:
        for name in (f"{table.table_name}_supply", f"{table.table_name}_supply_count"):
            cur.execute(f'DROP FUNCTION "{table.schema}"."{name}"')
    DatastoreTable.objects.filter(pk=table.pk).update(
        read_masked={k: v for k, v in table.read_masked.items() if k != "@functions"}
    )
    assert zones.builders_signature()
    # (the test runs as the superuser, who may remake them as the worker would)
    assert api(supply.key).get(rows_url(supply.resource)).status_code == 200


def test_the_web_role_reads_a_zone_resource_through_the_definer_function(supply):
    from aggregation.models import DatastoreTable
    from authorization.supply import selectors
    from tests.security.test_zones import as_role

    table = DatastoreTable.objects.get(resource=supply.resource)
    assert table.schema == "datastore_restricted"
    plan = selectors.supply_plan(supply.grant, table, None)
    with as_role("web"):
        page = selectors.rows_page(plan, supply.grant, cursor="", limit=20, changed_since=None)
        assert selectors.rows_count(plan, changed_since=None) == 12
    assert page.rows == 12
    assert '"full_name" : "姓*1"' in page.body and "姓名1" not in page.body


def test_too_many_deletions_ask_for_a_full_load(supply, monkeypatch):
    from authorization.supply import selectors

    monkeypatch.setattr(selectors, "MAX_DELETED", 1)
    assert load(supply.setup, csv_rows(9, start=2)).status == Batch.Status.SUCCEEDED  # drops 3
    response = api(supply.key).get(rows_url(supply.resource, changed_since="2025-01-01"))
    refusal(response, 400, "changed_since_too_old")


def test_a_zone_grant_answers_only_after_a_passed_assessment(supply, requester):
    """Grants to resources of the higher grades need a passed assessment before their first
    call (Art. 27): the API answers 403 assessment_required until the security administrator
    records a pass, then rows."""
    from authorization.sharing.services import ASSESSMENT_KIND, grant_issue
    from security.assessments.registry import subject_kind
    from security.assessments.services import assessment_record
    from tests.accounts.factories import UserFactory
    from tests.catalog import factories as cf
    from wuhan_pdr.accounts.roles import Role
    from wuhan_pdr.kernel.workdays import today

    items = {
        i.pk: "clear"
        for i in supply.resource.published_version.items.all()
        if i.english_name == "code"
    }
    grant, key = grant_issue(
        resource=supply.resource,
        grantee=requester.org,
        items=items,
        origin="share_request",
        valid_until=timezone.now() + dt.timedelta(days=30),
        acting_user=supply.setup.agency.admin,
    )
    assert grant.needs_assessment  # an L3 resource, kept in the restricted zone
    refusal(api(key).get(rows_url(supply.resource)), 403, "assessment_required")
    refusal(
        api(key).get(reverse("api:supply:count", args=[supply.resource.pk])),
        403,
        "assessment_required",
    )
    assert not GrantUsage.objects.filter(grant=grant).exists()
    subject = subject_kind(ASSESSMENT_KIND)
    assessment_record(
        subject_kind=ASSESSMENT_KIND,
        subject_id=grant.pk,
        assessed_on=today(),
        result="pass",
        findings="符合要求。",
        answers=[(q.key, "yes", "") for q in subject.checklist],
        valid_until=today() + dt.timedelta(days=365),
        acting_user=UserFactory(
            organization=cf.make_city_bureau().org, roles=[Role.SECURITY_ADMIN]
        ),
    )
    body = api(key).get(rows_url(supply.resource)).json()
    assert body["fields"] == ["code"] and len(body["rows"]) == 12


def test_a_resource_without_loaded_data_answers_no_data(requester):
    from tests.catalog import factories as cf

    provider = cf.make_agency()
    version = cf.make_published(provider, cf.make_city_bureau().reviewer, name="尚未归集的资源")
    grant, key = issue(
        version.resource,
        requester.org,
        {"id_number": "hmac", "full_name": "masked"},
        acting_user=provider.admin,
    )
    refusal(api(key).get(rows_url(version.resource)), 404, "no_data")
    refusal(api(key).get(reverse("api:supply:count", args=[version.resource.pk])), 404, "no_data")
    event = AuditEvent.objects.filter(action="supply.rows", outcome="refused").latest("pk")
    assert event.details["code"] == "no_data" and event.details["rows"] == 0
