"""The audit log's one function, what it records by itself, and refusals that survive the
rollback of the refused action."""

from __future__ import annotations

import hashlib

import pytest
from django.contrib.auth.models import Group
from django.db import transaction
from django.test import Client

from security.audit import observe_refusals, record
from security.audit.models import AuditEvent
from security.models import Grade
from tests.accounts.factories import DEFAULT_PASSWORD
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.signals import two_factor_event
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.ledger.models import LedgerEntry, LedgerLeaf

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_record_writes_a_row_and_a_ledger_leaf_with_the_same_entry(staff_a):
    event = record(
        "data.export",
        actor=staff_a,
        obj=staff_a.organization,
        details={"rows": 12},
    )
    assert event.actor_id == staff_a.pk
    assert event.actor_label == staff_a.username
    assert event.organization_id == staff_a.organization_id
    assert event.object_type == "accounts.organization"
    assert event.object_id == str(staff_a.organization_id)
    assert event.outcome == "success"
    assert event.details == {"rows": 12}
    leaf = LedgerLeaf.objects.get(pk=event.leaf_id)
    assert leaf.log == "audit"
    entry = bytes(LedgerEntry.objects.get(leaf=leaf).entry)
    assert hashlib.sha256(entry).hexdigest() == event.entry_sha256
    assert bytes(leaf.leaf_hash) == hashlib.sha256(b"\x00" + entry).digest()
    assert b'"action":"data.export"' in entry and b'"rows":12' in entry


def test_record_takes_address_and_user_agent_from_the_request(rf, staff_a):
    request = rf.get("/", HTTP_USER_AGENT="Test-Agent/1.0", REMOTE_ADDR="10.1.2.3")
    request.user = staff_a
    event = record("data.preview", request=request)
    assert (event.ip, event.user_agent, event.actor_id) == (
        "10.1.2.3",
        "Test-Agent/1.0",
        staff_a.pk,
    )


def test_record_refuses_an_unknown_outcome(staff_a):
    with pytest.raises(ValueError):
        record("x", actor=staff_a, outcome="maybe")
    assert not AuditEvent.objects.filter(action="x").exists()


def test_login_logout_and_failed_login_are_recorded(staff_a):
    c = Client(HTTP_USER_AGENT="Browser/2")
    c.post(LOGIN, {"username": staff_a.username, "password": "wrong-password"})
    c.post(LOGIN, {"username": staff_a.username, "password": DEFAULT_PASSWORD})
    c.post("/accounts/logout/")
    (failed,) = events("auth.login_failed")
    assert (failed.outcome, failed.actor_label, failed.actor_id) == (
        "failure",
        staff_a.username,
        None,
    )
    assert failed.ip == "127.0.0.1" and failed.user_agent == "Browser/2"
    (login,) = events("auth.login")
    assert (login.actor_id, login.organization_id) == (staff_a.pk, staff_a.organization_id)
    (logout,) = events("auth.logout")
    assert logout.actor_id == staff_a.pk


def test_a_lockout_is_recorded_as_refused(staff_a, settings):
    c = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        c.post(LOGIN, {"username": staff_a.username, "password": "wrong-password"})
    (lockout,) = events("auth.lockout")
    assert (lockout.outcome, lockout.actor_label) == ("refused", staff_a.username)


@pytest.mark.parametrize(
    "event", ["enrolled", "verified", "failed", "recovery_used", "reset", "disabled"]
)
def test_two_factor_events_are_recorded(event, staff_a, system_admin):
    two_factor_event.send(sender=None, user=staff_a, request=None, event=event, actor=system_admin)
    (row,) = events(f"auth.2fa.{event}")
    assert row.actor_id == system_admin.pk
    assert row.object_id == str(staff_a.pk)
    assert row.outcome == ("failure" if event == "failed" else "success")


def test_role_changes_are_recorded(staff_a):
    group = Group.objects.get(name=Role.CITY_REVIEWER)
    AuditEvent.objects.all().delete()  # the factory's own role assignment
    staff_a.groups.add(group)
    staff_a.groups.remove(group)
    added, removed = events("accounts.user.roles_changed")
    assert added.details == {"added": [Role.CITY_REVIEWER.value]}
    assert removed.details == {"removed": [Role.CITY_REVIEWER.value]}
    assert added.object_id == str(staff_a.pk)


def test_user_changes_and_password_changes_are_recorded_without_values(admin_a, staff_a):
    from wuhan_pdr.accounts import services

    services.user_update(user=staff_a, acting_user=admin_a, full_name="新名字")
    (changed,) = events("accounts.user.changed")
    assert (changed.actor_id, changed.details["changed"]) == (admin_a.pk, ["full_name"])
    assert "新名字" not in changed.details_text
    staff_a.set_password("Yellow-Crane-Tower-88")
    staff_a.save()
    (pw,) = events("accounts.user.password_changed")
    assert pw.object_id == str(staff_a.pk)
    assert "Yellow" not in pw.details_text


def test_a_refused_account_service_is_recorded(admin_a, staff_b):
    from wuhan_pdr.accounts import services
    from wuhan_pdr.kernel.errors import AccessDenied

    with pytest.raises(AccessDenied):
        services.user_update(user=staff_b, acting_user=admin_a, full_name="x")
    (row,) = events("accounts.user.update")
    assert (row.outcome, row.actor_id, row.object_id) == ("refused", admin_a.pk, str(staff_b.pk))
    staff_b.refresh_from_db()
    assert staff_b.full_name != "x"


def test_grade_changes_name_the_changed_fields(system_admin):
    grade = Grade.objects.order_by("rank").first()
    grade.save()  # the data migration's rows have no history yet
    grade._history_user = system_admin
    grade.description = "changed"
    grade.save()
    row = events("security.grade.changed")[-1]
    assert row.details["changed"] == ["description"]
    assert row.actor_id == system_admin.pk


def test_a_refused_service_is_recorded_though_its_transaction_rolled_back(staff_a, agency_b):
    @observe_refusals("test.rename", model=type(agency_b), object_arg="pk")
    @transaction.atomic
    def organization_rename(*, pk, acting_user):
        org = type(agency_b).objects.get(pk=pk)
        org.name = "改名"
        org.save()
        raise DomainError("not yours")

    with pytest.raises(DomainError):
        organization_rename(pk=agency_b.pk, acting_user=staff_a)
    agency_b.refresh_from_db()
    assert agency_b.name != "改名"  # the change rolled back
    (row,) = events("test.rename")
    assert (row.outcome, row.actor_id, row.object_id) == ("refused", staff_a.pk, str(agency_b.pk))
    assert row.details["reason"] == "not yours"
    assert row.details["exists"] is True


def test_every_audited_model_exists_and_keeps_history():
    from django.apps import apps

    from security.audit.receivers import AUDITED_MODELS

    for label in AUDITED_MODELS:
        model = apps.get_model(label)  # LookupError for a label that names no model
        assert hasattr(model, "history"), f"{label} keeps no history: its changes go unrecorded"


def test_masking_rule_changes_are_recorded_with_the_actor(system_admin):
    from security.masking.models import MaskingRule

    rule = MaskingRule.objects.order_by("pk").first()
    rule.save()  # the data migration's rows have no history yet
    rule._history_user = system_admin
    rule.description = "changed by the security administrator"
    rule.save()
    row = events("security.masking_rule.changed")[-1]
    assert row.details["changed"] == ["description"]
    assert row.actor_id == system_admin.pk
    assert row.object_id == str(rule.pk)


@pytest.mark.parametrize("prepared", [True, False])
def test_record_is_one_statement_prepared_or_not(
    prepared, staff_a, settings, django_assert_num_queries
):
    settings.DATABASE_PREPARED_STATEMENTS = prepared
    for rows in (1, 2):  # the first call of a session prepares, the second executes
        with django_assert_num_queries(1):
            event = record("data.export", actor=staff_a, details={"rows": rows, "名": "值"})
        stored = AuditEvent.objects.get(pk=event.pk)
        assert (stored.details, stored.leaf_id, stored.actor_id) == (
            {"rows": rows, "名": "值"},
            event.leaf_id,
            staff_a.pk,
        )
        entry = bytes(LedgerEntry.objects.get(leaf_id=event.leaf_id).entry)
        assert hashlib.sha256(entry).hexdigest() == stored.entry_sha256 == event.entry_sha256
        assert event.occurred_at == stored.occurred_at and not event._state.adding


def test_details_that_are_not_json_yet_are_recorded_as_json(staff_a):
    import datetime as dt
    from decimal import Decimal

    event = record(
        "data.export",
        actor=staff_a,
        details={"on": dt.date(2026, 12, 6), "sum": Decimal("1.50"), "ids": (2, 1)},
    )
    assert (
        AuditEvent.objects.get(pk=event.pk).details
        == event.details
        == {
            "on": "2026-12-06",
            "sum": "1.50",
            "ids": [2, 1],
        }
    )
