"""The inspection's workflow: planned -> notified (the subject is told) -> in progress ->
findings recorded (follow-up) -> closed; cancelled with a reason from any open state but the
follow-up. Every move is the inspecting bureau's."""

from __future__ import annotations

from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import Inspection
from .permissions import is_bureau_side

S = Inspection.State

inspection_workflow = Workflow(
    transitions=[
        Transition(
            "notify",
            frozenset({S.PLANNED}),
            S.NOTIFIED,
            pgettext_lazy("inspection", "Notify the subject"),
            guard=is_bureau_side,
        ),
        Transition(
            "start",
            frozenset({S.NOTIFIED}),
            S.IN_PROGRESS,
            pgettext_lazy("inspection", "Start the inspection"),
            guard=is_bureau_side,
        ),
        Transition(
            "record",
            frozenset({S.IN_PROGRESS}),
            S.FINDINGS,
            pgettext_lazy("inspection", "Findings complete: follow up"),
            guard=is_bureau_side,
        ),
        Transition(
            "close",
            frozenset({S.FINDINGS}),
            S.CLOSED,
            pgettext_lazy("inspection", "Close the inspection"),
            guard=is_bureau_side,
        ),
        Transition(
            "cancel",
            frozenset({S.PLANNED, S.NOTIFIED, S.IN_PROGRESS}),
            S.CANCELLED,
            pgettext_lazy("inspection", "Cancel the inspection"),
            guard=is_bureau_side,
            comment_required=True,
        ),
    ]
)
