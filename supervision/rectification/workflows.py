"""The rectification order's workflow: issued -> acknowledged -> answered -> verified, or
returned to the agency (with the reason) and answered again."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import RectificationOrder
from .permissions import is_agency_side, is_issuer_side

S = RectificationOrder.State

order_workflow = Workflow(
    transitions=[
        Transition(
            "acknowledge",
            frozenset({S.ISSUED}),
            S.ACKNOWLEDGED,
            pgettext_lazy("rectification", "Acknowledge"),
            guard=is_agency_side,
        ),
        Transition(
            "answer",
            frozenset({S.ACKNOWLEDGED, S.RETURNED}),
            S.ANSWERED,
            _("Answer with evidence"),
            guard=is_agency_side,
        ),
        Transition(
            "verify",
            frozenset({S.ANSWERED}),
            S.VERIFIED,
            pgettext_lazy("rectification", "Verify and close"),
            guard=is_issuer_side,
        ),
        Transition(
            "return",
            frozenset({S.ANSWERED}),
            S.RETURNED,
            pgettext_lazy("rectification", "Return to the agency"),
            guard=is_issuer_side,
            comment_required=True,
        ),
    ]
)
