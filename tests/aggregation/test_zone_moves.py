"""Moves of a table between storage zones are confirmed by the security side (issue #13, item
2): a move to a less protected zone by the security administrator only, a move to a more
protected one by the provider or the security administrator; each confirmation is recorded
(history and audit log) and the pending move is in the security administrator's work queue."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from aggregation import selectors, services
from aggregation.datastore import datastore_ensure
from aggregation.models import Batch, DatastoreTable
from security.audit.models import AuditEvent
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import items_people, make_channel, security_admin
from tests.aggregation.test_views import client, csv_rows, load
from tests.catalog.factories import grade, make_city_bureau
from wuhan_pdr.accounts.roles import Role, user_roles
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.workqueue import queues_for

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def restricted(db):
    setup = make_channel(items=items_people(), grade="L3", name="受限通道")
    assert load(setup, csv_rows(5)).status == Batch.Status.SUCCEEDED
    return setup


@pytest.fixture
def admin(db):
    return security_admin()


def regrade(setup, code: str) -> None:
    version = setup.resource.published_version
    version.grade = grade(code)
    version.save(update_fields=["grade"])


def table_of(setup) -> DatastoreTable:
    return DatastoreTable.objects.get(resource=setup.resource)


def zone_queue(user) -> list:
    for source, items in queues_for(user, user_roles(user)):
        if source.key == "aggregation_zone_moves":
            return items
    return []


def run(job) -> DatastoreTable | None:
    assert job.task_name == "aggregation.datastore_rebuild"
    return services.datastore_rebuild(**job.kwargs)


# --- a move down: the security administrator's -------------------------------------------------


def test_a_move_to_a_less_protected_zone_is_confirmed_by_the_security_admin_only(restricted, admin):
    regrade(restricted, "L2")
    staff = restricted.agency.staff
    auditor = UserFactory(organization=make_city_bureau().org, roles=[Role.AUDITOR])

    with pytest.raises(DomainError) as refused:
        services.datastore_confirm_changes(
            resource=restricted.resource, confirm=True, acting_user=staff
        )
    assert "security administrator" in str(refused.value)
    for user in (staff, auditor):
        with pytest.raises(AccessDenied):
            services.datastore_zone_move_confirm(
                resource=restricted.resource, confirm=True, acting_user=user
            )
    assert AuditEvent.objects.filter(
        action="datastore.zone_move_confirm", outcome="refused", actor=auditor
    ).exists()
    with pytest.raises(DomainError):  # the box must be ticked
        services.datastore_zone_move_confirm(
            resource=restricted.resource, confirm=False, acting_user=admin
        )
    assert table_of(restricted).zone_move_to == ""
    # Nor does a rebuild queued some other way move it unconfirmed.
    with pytest.raises(DomainError):
        from aggregation.datastore import datastore_apply_pending

        with transaction.atomic():
            datastore_apply_pending(resource=restricted.resource, confirm=True)

    job = services.datastore_zone_move_confirm(
        resource=restricted.resource, confirm=True, acting_user=admin
    )
    table = table_of(restricted)
    assert (table.zone_move_to, table.zone_move_confirmed_by) == ("general", admin)
    confirmed = table.history.first()
    assert confirmed.zone_move_to == "general" and confirmed.history_user == admin
    entry = AuditEvent.objects.get(action="datastore.zone_move_confirmed")
    assert entry.actor == admin and entry.outcome == "success"
    assert entry.details["from"] == "restricted" and entry.details["to"] == "general"
    assert entry.details["downgrade"] is True
    # A second confirmation does nothing new.
    assert (
        services.datastore_zone_move_confirm(
            resource=restricted.resource, confirm=True, acting_user=admin
        )
        is None
    )

    moved = run(job)
    assert moved.schema == "datastore" and moved.row_count == 5
    assert moved.zone_move_to == "" and moved.zone_move_confirmed_by is None


def test_with_other_changes_the_provider_confirms_them_after_the_security_admin(restricted, admin):
    regrade(restricted, "L2")
    version = restricted.resource.published_version
    version.items.filter(english_name="amount").update(data_type="C", length=30)  # a retype
    table = datastore_ensure(resource=restricted.resource)
    assert {c["action"] for c in table.pending_changes} == {"retype", "zone"}

    assert (
        services.datastore_zone_move_confirm(
            resource=restricted.resource, confirm=True, acting_user=admin
        )
        is None
    )
    assert restricted.agency.staff.notifications.filter(title__contains="confirmed").exists()
    job = services.datastore_confirm_changes(
        resource=restricted.resource, confirm=True, acting_user=restricted.agency.staff
    )
    moved = run(job)
    assert moved.schema == "datastore" and moved.row_count == 5


# --- a move up: the provider or the security administrator ------------------------------------


def test_a_move_to_a_more_protected_zone_is_confirmed_by_the_provider_and_recorded(restricted):
    regrade(restricted, "L4")
    staff = restricted.agency.staff
    job = services.datastore_confirm_changes(
        resource=restricted.resource, confirm=True, acting_user=staff
    )
    table = table_of(restricted)
    assert (table.zone_move_to, table.zone_move_confirmed_by) == ("sensitive", staff)
    entry = AuditEvent.objects.get(action="datastore.zone_move_confirmed")
    assert entry.actor == staff and entry.details["downgrade"] is False
    assert run(job).schema == "datastore_sensitive"


def test_the_security_admin_may_confirm_a_move_up_and_another_agency_may_not(
    restricted, admin, staff_b
):
    regrade(restricted, "L4")
    with pytest.raises(AccessDenied):
        services.datastore_zone_move_confirm(
            resource=restricted.resource, confirm=True, acting_user=staff_b
        )
    job = services.datastore_zone_move_confirm(
        resource=restricted.resource, confirm=True, acting_user=admin
    )
    assert run(job).schema == "datastore_sensitive"


def test_nothing_to_confirm_without_a_zone_change(restricted, admin):
    with pytest.raises(DomainError) as refused:
        services.datastore_zone_move_confirm(
            resource=restricted.resource, confirm=True, acting_user=admin
        )
    assert not isinstance(refused.value, AccessDenied)


# --- the work queue and the channel page ---------------------------------------------------------


def test_the_pending_move_is_in_the_security_admins_work_queue(restricted, admin, staff_a):
    assert zone_queue(admin) == []
    regrade(restricted, "L2")
    items = zone_queue(admin)
    assert len(items) == 1
    assert restricted.resource.code in items[0].title and items[0].overdue
    assert items[0].url == reverse("aggregation:channel-detail", args=[restricted.channel.pk])
    assert zone_queue(staff_a) == []  # the security administrator's queue only
    services.datastore_zone_move_confirm(
        resource=restricted.resource, confirm=True, acting_user=admin
    )
    assert zone_queue(admin) == []  # confirmed: off the queue


def test_pending_moves_are_found_in_a_fixed_number_of_queries(
    restricted, django_assert_num_queries
):
    regrade(restricted, "L2")
    other = make_channel(items=items_people(), grade="L3", name="另一通道")
    load(other, csv_rows(2))
    regrade(other, "L4")
    with django_assert_num_queries(2):
        moves = selectors.pending_zone_moves()
    assert [(m.from_zone, m.to_zone, m.downgrade) for m in moves] == [
        ("restricted", "general", True),
        ("restricted", "sensitive", False),
    ]


def test_the_channel_page_asks_the_security_admin_and_not_the_provider(restricted, admin):
    regrade(restricted, "L2")
    url = reverse("aggregation:channel-detail", args=[restricted.channel.pk])
    provider_page = client(restricted.agency.staff).get(url)
    assert "confirmed by the security administrator" in provider_page.text
    assert "Rebuild the table" not in provider_page.text
    assert 'value="zone_confirm"' not in provider_page.text
    refused = client(restricted.agency.staff).post(url, {"action": "zone_confirm", "confirm": "on"})
    assert refused.status_code == 200 and table_of(restricted).zone_move_to == ""

    admin_page = client(admin).get(url)
    assert 'value="zone_confirm"' in admin_page.text
    unticked = client(admin).post(url, {"action": "zone_confirm"})
    assert unticked.status_code == 200 and table_of(restricted).zone_move_to == ""
    done = client(admin).post(url, {"action": "zone_confirm", "confirm": "on"})
    assert done.status_code == 302
    assert table_of(restricted).zone_move_to == "general"
    after = client(restricted.agency.staff).get(url)
    assert "was confirmed by" in after.text


def test_another_agency_posting_the_confirmation_gets_404(restricted, staff_b):
    regrade(restricted, "L2")
    url = reverse("aggregation:channel-detail", args=[restricted.channel.pk])
    assert client(staff_b).post(url, {"action": "zone_confirm", "confirm": "on"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_does_not_wait_for_a_load_holding_the_table():
    import psycopg
    from django.db import connection

    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    setup = make_channel(items=items_people(), grade="L3", name="受限通道")
    assert load(setup, csv_rows(2)).status == Batch.Status.SUCCEEDED
    regrade(setup, "L2")
    admin = security_admin()
    params = connection.get_connection_params()
    for key in ("cursor_factory", "context"):
        params.pop(key, None)
    with psycopg.connect(**params) as other:  # a load in another process holds the row
        other.execute(
            "SELECT 1 FROM aggregation_datastoretable WHERE resource_id = %s FOR UPDATE",
            [setup.resource.pk],
        )
        with pytest.raises(DomainError) as refused:
            services.datastore_zone_move_confirm(
                resource=setup.resource, confirm=True, acting_user=admin
            )
        assert "being loaded" in str(refused.value)
        other.rollback()
    assert services.datastore_zone_move_confirm(
        resource=setup.resource, confirm=True, acting_user=admin
    )
