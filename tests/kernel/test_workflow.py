"""The kernel's workflow helper, driven by the test-only `Ticket` model."""

import pytest

from tests.accounts.factories import UserFactory
from tests.kernel_testapp.models import Ticket
from tests.kernel_testapp.workflows import TICKET_WORKFLOW
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.workflow import events_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(agency_a):
    return UserFactory(organization=agency_a, roles=[Role.AGENCY_STAFF])


@pytest.fixture
def officer(agency_a):
    return UserFactory(organization=agency_a, roles=[Role.AGENCY_ADMIN])


def make_ticket(state=Ticket.State.DRAFT):
    return Ticket.objects.create(title="census form", state=state)


def assert_unchanged(ticket, state):
    ticket.refresh_from_db()
    assert ticket.state == state
    assert not events_for(ticket).exists()
    assert ticket.history.count() == 1  # only the creation


def test_allowed_move_changes_state_and_records_event_with_actor_and_comment(staff):
    ticket = make_ticket()
    event = TICKET_WORKFLOW.apply(ticket, "submit", acting_user=staff, comment="  first filing  ")

    ticket.refresh_from_db()
    assert ticket.state == Ticket.State.SUBMITTED
    assert (event.transition, event.from_state, event.to_state) == ("submit", "draft", "submitted")
    assert event.actor == staff
    assert event.comment == "first filing"
    assert event.subject == ticket
    assert list(events_for(ticket)) == [event]


def test_allowed_move_is_saved_in_history_naming_the_actor(staff):
    ticket = make_ticket()
    TICKET_WORKFLOW.apply(ticket, "submit", acting_user=staff)

    latest = ticket.history.order_by("-history_id").first()
    assert latest.state == Ticket.State.SUBMITTED
    assert latest.history_user == staff
    assert latest.history_change_reason == "Submit"


def test_events_of_a_ticket_come_oldest_first(staff, officer):
    ticket = make_ticket()
    TICKET_WORKFLOW.apply(ticket, "submit", acting_user=staff)
    TICKET_WORKFLOW.apply(ticket, "return", acting_user=officer, comment="missing fields")
    TICKET_WORKFLOW.apply(ticket, "submit", acting_user=staff)

    events = list(events_for(ticket))
    assert [e.transition for e in events] == ["submit", "return", "submit"]
    assert [e.actor for e in events] == [staff, officer, staff]
    assert ticket.history.count() == 4


def test_move_from_wrong_state_is_refused_and_changes_nothing(officer):
    ticket = make_ticket()
    with pytest.raises(TransitionNotAllowed):
        TICKET_WORKFLOW.apply(ticket, "approve", acting_user=officer)
    assert_unchanged(ticket, Ticket.State.DRAFT)


def test_move_by_wrong_role_is_refused_and_changes_nothing(staff):
    ticket = make_ticket(Ticket.State.SUBMITTED)
    with pytest.raises(TransitionNotAllowed):
        TICKET_WORKFLOW.apply(ticket, "approve", acting_user=staff)
    assert_unchanged(ticket, Ticket.State.SUBMITTED)


def test_user_without_any_role_cannot_move(agency_a):
    nobody = UserFactory(organization=agency_a)
    ticket = make_ticket()
    with pytest.raises(TransitionNotAllowed):
        TICKET_WORKFLOW.apply(ticket, "submit", acting_user=nobody)
    assert_unchanged(ticket, Ticket.State.DRAFT)


@pytest.mark.parametrize("comment", ["", "   \n "])
def test_move_needing_a_comment_is_refused_without_one(officer, comment):
    ticket = make_ticket(Ticket.State.SUBMITTED)
    with pytest.raises(DomainError) as exc:
        TICKET_WORKFLOW.apply(ticket, "return", acting_user=officer, comment=comment)
    assert exc.value.field == "comment"
    assert not isinstance(exc.value, TransitionNotAllowed)
    assert_unchanged(ticket, Ticket.State.SUBMITTED)


def test_unknown_action_is_refused(officer):
    ticket = make_ticket()
    with pytest.raises(TransitionNotAllowed):
        TICKET_WORKFLOW.apply(ticket, "publish", acting_user=officer)
    assert_unchanged(ticket, Ticket.State.DRAFT)


def test_available_to_lists_only_moves_the_user_may_take_now(staff, officer):
    draft = make_ticket()
    submitted = make_ticket(Ticket.State.SUBMITTED)
    approved = make_ticket(Ticket.State.APPROVED)

    def names(ticket, user):
        return [t.name for t in TICKET_WORKFLOW.available_to(ticket, user)]

    assert names(draft, staff) == ["submit"]
    assert names(submitted, staff) == []
    assert names(submitted, officer) == ["approve", "return"]
    assert names(approved, officer) == []
