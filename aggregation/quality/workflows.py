"""The quality issue's workflow (问题清单): the provider answers (fixed, explained,
disputed); runs verify by themselves (a passing rule -> verified; a "fixed" answer whose rule
still fails -> open again); the bureau closes, reopens or escalates."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workflow import Transition, Workflow

from ..models import QualityIssue
from .permissions import can_answer, can_decide

S = QualityIssue.State
LIVE = (S.OPEN, S.ANSWERED, S.VERIFIED, S.ESCALATED)

issue_workflow = Workflow(
    transitions=[
        Transition(
            "answer",
            frozenset({S.OPEN, S.ESCALATED, S.ANSWERED}),
            S.ANSWERED,
            _("Answer"),
            guard=can_answer,
            comment_required=True,
        ),
        Transition(
            "verify",
            frozenset({S.OPEN, S.ANSWERED, S.ESCALATED}),
            S.VERIFIED,
            _("Verified by a run"),
            internal=True,
        ),
        Transition(
            "fail_again",
            frozenset({S.ANSWERED, S.VERIFIED}),
            S.OPEN,
            _("Still failing in a run"),
            internal=True,
        ),
        Transition(
            "close",
            frozenset({S.OPEN, S.ANSWERED, S.VERIFIED, S.ESCALATED}),
            S.CLOSED,
            _("Close"),
            guard=can_decide,
        ),
        Transition(
            "reopen",
            frozenset({S.ANSWERED, S.VERIFIED, S.CLOSED, S.ESCALATED}),
            S.OPEN,
            _("Reopen"),
            guard=can_decide,
            comment_required=True,
        ),
        Transition(
            "escalate",
            frozenset({S.OPEN, S.ANSWERED}),
            S.ESCALATED,
            _("Escalate"),
            guard=can_decide,
            comment_required=True,
        ),
    ]
)
