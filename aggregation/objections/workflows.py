"""The objection workflow (Art. 10).

    (new) --submit--> submitted --accept--> accepted --agree--> agreed --report--> reported
                          |                     |                 ^                  |
                          +--reject--> rejected  |                 +-----return------+
                                                 +--not_upheld--> closed <--close----+

The bureau accepts or rejects a new objection (reasons required either way). An accepted
objection goes to a consultation (会商) of bureau, provider and requester; its record names
the agreed outcome. Correct, supplement or delete send it to the provider (`agreed`); an
outcome of "reject" means the consultation found the objection not well founded, so there is
nothing to carry out: it goes straight to `closed` with outcome "reject" (a closed objection
with outcome reject reads "not upheld after consultation"; `rejected` is kept for objections
refused at the first decision, without consultation). The provider reports what it did; the
bureau closes it or returns it to the provider with a comment.
"""

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workflow import Transition, Workflow

from ..models import Objection
from .permissions import bureau_guard, filer_guard, provider_guard

S = Objection.State

objection_workflow = Workflow(
    transitions=[
        # Filing: the record is created by this move (from no state), so the timeline
        # starts with the submission. Never offered as a button.
        Transition("submit", frozenset({""}), S.SUBMITTED, _("Submit"), filer_guard, internal=True),
        Transition(
            "accept",
            frozenset({S.SUBMITTED}),
            S.ACCEPTED,
            _("Accept"),
            bureau_guard,
            comment_required=True,
        ),
        Transition(
            "reject",
            frozenset({S.SUBMITTED}),
            S.REJECTED,
            _("Reject"),
            bureau_guard,
            comment_required=True,
        ),
        Transition(
            "agree",
            frozenset({S.ACCEPTED}),
            S.AGREED,
            _("Record the consultation and the agreed outcome"),
            bureau_guard,
        ),
        Transition(
            "not_upheld",
            frozenset({S.ACCEPTED}),
            S.CLOSED,
            _("Record the consultation: objection not upheld"),
            bureau_guard,
        ),
        Transition(
            "report",
            frozenset({S.AGREED}),
            S.REPORTED,
            _("Report what was done"),
            provider_guard,
        ),
        Transition(
            "close",
            frozenset({S.REPORTED}),
            S.CLOSED,
            _("Close"),
            bureau_guard,
        ),
        Transition(
            "return",
            frozenset({S.REPORTED}),
            S.AGREED,
            _("Return to the provider"),
            bureau_guard,
            comment_required=True,
        ),
    ]
)

OPEN_STATES = (S.SUBMITTED, S.ACCEPTED, S.AGREED, S.REPORTED)
