"""The ticket workflow: draft -> submitted -> approved, or back to returned with a comment."""

from wuhan_pdr.accounts.roles import Role, role_guard
from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import Ticket

S = Ticket.State

TICKET_WORKFLOW = Workflow(
    transitions=[
        Transition(
            name="submit",
            source=frozenset({S.DRAFT, S.RETURNED}),
            target=S.SUBMITTED,
            label="Submit",
            guard=role_guard(Role.AGENCY_STAFF, Role.AGENCY_ADMIN),
        ),
        Transition(
            name="approve",
            source=frozenset({S.SUBMITTED}),
            target=S.APPROVED,
            label="Approve",
            guard=role_guard(Role.AGENCY_ADMIN),
        ),
        Transition(
            name="return",
            source=frozenset({S.SUBMITTED}),
            target=S.RETURNED,
            label="Return",
            guard=role_guard(Role.AGENCY_ADMIN),
            comment_required=True,
        ),
    ]
)
