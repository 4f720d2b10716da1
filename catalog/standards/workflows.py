"""The data-element workflows (Art. 9).

A change request: draft -> submitted (by its agency) -> approved, returned for changes or
rejected (by the city data bureau); a returned request is edited and submitted again.
An element version: its status moves only as a consequence of an approved request
(superseded by a newer version, or retired), so those moves are internal: never offered
to a user, but recorded with the reviewer who approved.
"""

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import DataElement, ElementChangeRequest
from .permissions import requester_guard, reviewer_guard

R = ElementChangeRequest.State
E = DataElement.Status

change_request_workflow = Workflow(
    transitions=[
        Transition(
            "submit",
            frozenset({R.DRAFT, R.RETURNED}),
            R.SUBMITTED,
            _("Submit for review"),
            requester_guard,
        ),
        Transition(
            "approve",
            frozenset({R.SUBMITTED}),
            R.APPROVED,
            _("Approve and publish"),
            reviewer_guard,
        ),
        Transition(
            "return",
            frozenset({R.SUBMITTED}),
            R.RETURNED,
            _("Return for changes"),
            reviewer_guard,
            comment_required=True,
        ),
        Transition(
            "reject",
            frozenset({R.SUBMITTED}),
            R.REJECTED,
            _("Reject"),
            reviewer_guard,
            comment_required=True,
        ),
    ]
)

element_workflow = Workflow(
    state_field="status",
    transitions=[
        Transition(
            "supersede",
            frozenset({E.CANDIDATE, E.STANDARD}),
            E.SUPERSEDED,
            _("Superseded by a newer version"),
            internal=True,
        ),
        Transition(
            "retire",
            frozenset({E.CANDIDATE, E.STANDARD}),
            E.RETIRED,
            _("Retired"),
            internal=True,
        ),
    ],
)
