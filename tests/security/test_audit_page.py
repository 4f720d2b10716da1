"""The auditor's page: who may read it, its filters, the Excel export (itself recorded),
the ledger's status and the verification job; retention."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from security.audit import record
from security.audit.models import AuditEvent
from security.audit.services import audit_prune
from tests.accounts.factories import UserFactory
from tests.naughty import naughty_strings
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.ledger.models import LedgerEntry, LedgerLeaf
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = pytest.mark.django_db

URL = "/security/audit/"


@pytest.fixture
def auditor(bureau):
    return UserFactory(username="auditor1", organization=bureau, roles=[Role.AUDITOR])


@pytest.fixture
def security_admin(bureau):
    return UserFactory(username="secadmin1", organization=bureau, roles=[Role.SECURITY_ADMIN])


@pytest.fixture
def entries(staff_a, staff_b):
    AuditEvent.objects.all().delete()
    record("auth.login", actor=staff_a, obj=staff_a)
    record("auth.login_failed", actor="nobody", outcome="failure")
    record(
        "data.preview",
        actor=staff_b,
        obj=("catalog.resource", 42, "户籍人口"),
        details={"rows": 20},
    )
    record(
        "access.channel", actor=staff_b, obj=("aggregation.channel", 9_000_007), outcome="refused"
    )
    return staff_a, staff_b


def rows_of(response):
    return list(response.context["page_obj"].object_list)


@pytest.mark.parametrize("role", [r for r in Role if r not in (Role.AUDITOR, Role.SECURITY_ADMIN)])
def test_other_roles_get_404_on_every_audit_url(role, login, bureau):
    user = UserFactory(organization=bureau, roles=[role])
    c = login(user)
    assert c.get(URL).status_code == 404
    assert c.get(URL + "export/").status_code == 404
    assert c.post(URL + "verify/").status_code == 404
    assert not BackgroundJob.objects.filter(task_name="security.audit_verify").exists()


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_the_auditor_and_the_security_admin_see_the_log(login, auditor, security_admin, entries):
    for user in (auditor, security_admin):
        response = login(user).get(URL)
        assert response.status_code == 200
        actions = {e.action for e in rows_of(response)}
        assert {"auth.login", "auth.login_failed", "data.preview", "access.channel"} <= actions
    menu = login(auditor).get("/").content.decode()
    assert URL in menu


def test_filters_by_actor_action_object_outcome_and_time(login, auditor, entries):
    staff_a, staff_b = entries
    c = login(auditor)
    by_actor = rows_of(c.get(URL, {"actor": staff_b.username}))
    assert {e.action for e in by_actor} == {"data.preview", "access.channel"}
    by_action = rows_of(c.get(URL, {"action": "auth."}))
    assert {e.action for e in by_action} >= {"auth.login", "auth.login_failed"}
    assert all(e.action.startswith("auth.") for e in by_action)
    by_object = rows_of(c.get(URL, {"object": "户籍"}))
    assert [e.action for e in by_object] == ["data.preview"]
    # an id no user or resource reaches in a test database (staff_a is logged as an object too)
    by_object_id = rows_of(c.get(URL, {"object": "9000007"}))
    assert [e.action for e in by_object_id] == ["access.channel"]
    refused = rows_of(c.get(URL, {"outcome": "refused"}))
    assert [e.action for e in refused] == ["access.channel"]
    today = timezone.localdate()
    assert rows_of(c.get(URL, {"since": today + dt.timedelta(days=1)})) == []
    assert len(rows_of(c.get(URL, {"until": today, "actor": staff_a.username}))) >= 1


def test_the_page_query_count_does_not_grow_with_rows(login, auditor, entries):
    c = login(auditor)
    c.get(URL)
    with CaptureQueriesContext(connection) as few:
        c.get(URL)
    for i in range(30):
        record("data.preview", actor=entries[0], obj=("catalog.resource", i))
    with CaptureQueriesContext(connection) as many:
        c.get(URL)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_naughty_strings_in_the_filters_never_break_the_page(login, auditor, entries):
    c = login(auditor)
    c.raise_request_exception = False
    fields = ("actor", "action", "object", "since", "until", "outcome")
    for s in [*naughty_strings(), "空字符\x00在中间", "\x00"]:
        response = c.get(URL, dict.fromkeys(fields, s))
        assert response.status_code == 200, repr(s)


def test_the_export_is_formula_safe_and_is_itself_recorded(login, auditor, entries):
    record("auth.login_failed", actor='=HYPERLINK("http://evil")', outcome="failure")
    c = login(auditor)
    response = c.get(URL + "export/", {"outcome": "failure"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = book.active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 1 + 2  # header + the two failures
    cells = [c for c in sheet.iter_rows(min_row=2)]
    names = {row[1].value: row[1].data_type for row in cells}
    assert names['=HYPERLINK("http://evil")'] == "s"
    export = AuditEvent.objects.filter(action="audit.export").get()
    assert export.actor_id == auditor.pk
    assert export.details == {"rows": 2, "filters": {"outcome": "failure"}}


def test_the_page_shows_the_ledger_and_verify_queues_a_job(login, auditor, entries):
    c = login(auditor)
    response = c.get(URL)
    assert response.context["ledger"]["appended"] >= 4
    response = c.post(URL + "verify/")
    assert response.status_code == 302
    job = BackgroundJob.objects.get(task_name="security.audit_verify")
    assert job.created_by_id == auditor.pk
    assert AuditEvent.objects.filter(action="audit.verify_requested", actor=auditor).exists()


def test_prune_deletes_old_rows_and_entry_bytes_but_keeps_the_leaves(staff_a, settings):
    old = record("auth.login", actor=staff_a)
    new = record("auth.logout", actor=staff_a)
    AuditEvent.objects.filter(pk=old.pk).update(
        occurred_at=timezone.now() - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    )
    later = (
        timezone.now() + dt.timedelta(days=settings.AUDIT_RETENTION_DAYS) - dt.timedelta(hours=1)
    )
    deleted = audit_prune(now=later - dt.timedelta(days=0))
    assert deleted >= 1
    assert not AuditEvent.objects.filter(pk=old.pk).exists()
    assert AuditEvent.objects.filter(pk=new.pk).exists()
    assert LedgerLeaf.objects.filter(pk=old.leaf_id).exists()
    assert LedgerLeaf.objects.filter(pk=new.leaf_id).exists()


def test_prune_deletes_the_entry_bytes_of_old_leaves(staff_a, settings):
    event = record("auth.login", actor=staff_a)
    much_later = timezone.now() + dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 1)
    audit_prune(now=much_later)
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    assert not LedgerEntry.objects.filter(leaf_id=event.leaf_id).exists()
    assert LedgerLeaf.objects.filter(pk=event.leaf_id).exists()


def test_a_retention_below_180_days_is_refused(monkeypatch):
    import importlib

    import wuhan_pdr.settings.base as base

    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "179")
    with pytest.raises(ImproperlyConfigured):
        importlib.reload(base)
    monkeypatch.setenv("AUDIT_RETENTION_DAYS", "180")
    importlib.reload(base)
    assert base.AUDIT_RETENTION_DAYS == 180


def test_verification_finds_a_changed_entry_and_the_page_says_so(login, auditor, staff_a):
    from security.audit.services import audit_verify_run
    from wuhan_pdr.kernel.ledger.tree import integrate

    event = record("auth.login", actor=staff_a)
    record("auth.logout", actor=staff_a)
    integrate("audit")
    ok, message = audit_verify_run()
    assert ok, message
    page = login(auditor).get(URL)
    assert page.context["ledger"]["verification"].outcome == "success"
    assert page.context["ledger"]["head"].size >= 2
    with connection.cursor() as cur:  # the test runs as the tables' owner: allowed
        cur.execute(
            "UPDATE kernel_ledgerentry SET entry = 'forged' WHERE leaf_id = %s", [event.leaf_id]
        )
    ok, message = audit_verify_run()
    assert not ok
    page = login(auditor).get(URL)
    verification = page.context["ledger"]["verification"]
    assert verification.outcome == "failure"
    assert verification.details["message"] == message
    assert message in page.content.decode()


def test_the_ledger_still_verifies_after_a_prune(staff_a, settings):
    from security.audit.services import audit_verify_run
    from wuhan_pdr.kernel.ledger.tree import integrate

    for _ in range(3):
        record("auth.login", actor=staff_a)
    integrate("audit")
    audit_prune(now=timezone.now() + dt.timedelta(days=settings.AUDIT_RETENTION_DAYS + 1))
    ok, message = audit_verify_run()
    assert ok, message
