"""The workflows of pilot calls (open -> under review -> selection finished; the move to
review is made by beat at the deadline, or earlier by the bureau) and of proposals
(submitted -> withdrawn, selected or not selected)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow, anyone

from .models import PilotCall, Proposal
from .permissions import manages, proposes

C = PilotCall.State
P = Proposal.State

call_workflow = Workflow(
    transitions=[
        Transition(
            "close_submissions", frozenset({C.OPEN}), C.REVIEW, _("Close for proposals"), manages
        ),
        Transition(
            "deadline", frozenset({C.OPEN}), C.REVIEW, _("Deadline passed"), anyone, internal=True
        ),
        Transition("finish", frozenset({C.REVIEW}), C.CLOSED, _("Finish the selection"), manages),
    ]
)

proposal_workflow = Workflow(
    transitions=[
        Transition(
            "withdraw",
            frozenset({P.SUBMITTED}),
            P.WITHDRAWN,
            pgettext_lazy("proposal", "Withdraw"),
            proposes,
        ),
        Transition("select", frozenset({P.SUBMITTED}), P.SELECTED, _("Select as a pilot"), manages),
        Transition(
            "not_selected",
            frozenset({P.SUBMITTED}),
            P.NOT_SELECTED,
            _("Not selected"),
            anyone,
            internal=True,
        ),
    ]
)
