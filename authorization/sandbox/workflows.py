"""The sandbox session workflow (Art. 27).

    (new) --submit--> submitted --approve--> approved --withdraw--> withdrawn
                          |                   |
                          +--refuse--> refused  +--expire--> expired
                          |
                          +--expire--> expired

The requester submits; the provider's data officer approves (setting the privacy budget and
the clamping bounds) or refuses with reasons within `SANDBOX_DAYS_PROVIDER_REPLY` working
days; a reply not given by then is overdue (shown in the queues, flagged once by beat
"sandbox.daily"). Either party may withdraw an approved session before its window ends; once
the window has ended, the same beat job closes the session (approved, or never decided) as
expired.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import SandboxSession
from .permissions import party_guard, provider_guard, requester_guard

S = SandboxSession.State

session_workflow = Workflow(
    transitions=[
        Transition(
            "submit", frozenset({""}), S.SUBMITTED, _("Submit"), requester_guard, internal=True
        ),
        Transition(
            "approve",
            frozenset({S.SUBMITTED}),
            S.APPROVED,
            pgettext_lazy("sandbox", "Approve"),
            provider_guard,
        ),
        Transition(
            "refuse",
            frozenset({S.SUBMITTED}),
            S.REFUSED,
            pgettext_lazy("sandbox", "Refuse"),
            provider_guard,
            comment_required=True,
        ),
        Transition(
            "withdraw",
            frozenset({S.APPROVED}),
            S.WITHDRAWN,
            pgettext_lazy("sandbox", "Withdraw"),
            party_guard,
            comment_required=True,
        ),
        Transition(
            "expire",
            frozenset({S.SUBMITTED, S.APPROVED}),
            S.EXPIRED,
            pgettext_lazy("sandbox", "Window ended"),
            internal=True,
        ),
    ]
)
