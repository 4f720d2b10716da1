"""The registration procedure (Art. 25) as one workflow: the registrant applies; the
registration body accepts within the acceptance period or sends the application back once
listing everything missing; reviews its form; puts it on public notice; and, once the notice
period has passed with every objection answered, assigns the code. A registration is later
cancelled by its registrant or by the body. The conditions beyond role and state (sent back
only once, the notice period over, no objection unanswered) are checked by the services."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow, events_for

from .models import Registration
from .permissions import is_registrant_of, is_registrar

S = Registration.State


def _registrant(registration, user) -> bool:
    return is_registrant_of(user, registration)


def _registrar(registration, user) -> bool:
    return is_registrar(user)


def _send_back_allowed(registration, user) -> bool:
    # Once only: a recorded send-back (not the field, which the service fills before the move).
    return is_registrar(user) and not (
        events_for(registration).filter(transition="send_back").exists()
    )


def _either(registration, user) -> bool:
    return is_registrant_of(user, registration) or is_registrar(user)


registration_workflow = Workflow(
    transitions=[
        Transition(
            "submit",
            frozenset({S.DRAFT, S.RETURNED}),
            S.SUBMITTED,
            pgettext_lazy("registration", "Submit the application"),
            _registrant,
        ),
        Transition(
            "withdraw",
            frozenset({S.DRAFT, S.SUBMITTED, S.RETURNED, S.ACCEPTED}),
            S.WITHDRAWN,
            pgettext_lazy("registration", "Withdraw"),
            _registrant,
        ),
        Transition(
            "accept",
            frozenset({S.SUBMITTED}),
            S.ACCEPTED,
            pgettext_lazy("registration", "Accept"),
            _registrar,
        ),
        Transition(
            "send_back",
            frozenset({S.SUBMITTED}),
            S.RETURNED,
            pgettext_lazy("registration", "Send back for materials"),
            _send_back_allowed,
            comment_required=True,
        ),
        Transition(
            "review_pass",
            frozenset({S.ACCEPTED}),
            S.NOTICE,
            pgettext_lazy("registration", "Pass the review and start the public notice"),
            _registrar,
        ),
        Transition(
            "refuse",
            frozenset({S.ACCEPTED, S.NOTICE}),
            S.REFUSED,
            pgettext_lazy("registration", "Refuse"),
            _registrar,
            comment_required=True,
        ),
        Transition(
            "assign_code",
            frozenset({S.NOTICE}),
            S.REGISTERED,
            pgettext_lazy("registration", "Assign the registration code"),
            _registrar,
        ),
        Transition(
            "cancel",
            frozenset({S.REGISTERED}),
            S.CANCELLED,
            pgettext_lazy("registration", "Cancel the registration"),
            _either,
            comment_required=True,
        ),
    ]
)
