"""The catalog filing workflow (Art. 12-13): draft -> submitted -> approved by the agency ->
reviewed -> published, with returns for changes and retirement."""

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import CatalogFeedback, ResourceVersion
from .permissions import (
    can_file_for,
    feedback_responder,
    feedback_reviewer,
    is_agency_admin_of,
    reviews_for,
)

S = ResourceVersion.State


def _filer(version, user) -> bool:
    return can_file_for(user, version.resource.provider)


def _agency_admin(version, user) -> bool:
    return is_agency_admin_of(user, version.resource.provider)


def _reviewer(version, user) -> bool:
    return reviews_for(user, version.resource.provider)


catalog_workflow = Workflow(
    transitions=[
        Transition("submit", frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, _("Submit"), _filer),
        Transition("withdraw", frozenset({S.SUBMITTED}), S.DRAFT, _("Withdraw"), _filer),
        Transition(
            "agency_approve",
            frozenset({S.SUBMITTED}),
            S.AGENCY_APPROVED,
            _("Approve"),
            _agency_admin,
        ),
        Transition(
            "agency_return",
            frozenset({S.SUBMITTED}),
            S.RETURNED,
            _("Return for changes"),
            _agency_admin,
            comment_required=True,
        ),
        Transition(
            "review", frozenset({S.AGENCY_APPROVED}), S.REVIEWED, _("Pass review"), _reviewer
        ),
        Transition(
            "review_return",
            frozenset({S.AGENCY_APPROVED, S.REVIEWED}),
            S.RETURNED,
            _("Return for changes"),
            _reviewer,
            comment_required=True,
        ),
        Transition("publish", frozenset({S.REVIEWED}), S.PUBLISHED, _("Publish"), _reviewer),
        Transition(
            "supersede",
            frozenset({S.PUBLISHED}),
            S.SUPERSEDED,
            _("Superseded by a newer version"),
            internal=True,
        ),
        Transition(
            "retire",
            frozenset({S.PUBLISHED}),
            S.RETIRED,
            _("Retire"),
            _reviewer,
            comment_required=True,
        ),
    ]
)


# --- catalog feedback (Art. 14) -------------------------------------------------------------
# The catalog is adjusted after the bureau and the provider agree: the provider proposes
# (an adjustment, or that none is needed), the responsible bureau agrees or sends the
# proposal back with a comment, and only an agreed adjustment is made. The bureau may reject
# an unfounded report at any step before agreement.

F = CatalogFeedback.State
PROPOSING = frozenset({F.OPEN, F.RETURNED})
PROPOSED = frozenset({F.ADJUSTMENT_PROPOSED, F.NO_CHANGE_PROPOSED})

feedback_workflow = Workflow(
    transitions=[
        Transition(
            "propose_adjustment",
            PROPOSING,
            F.ADJUSTMENT_PROPOSED,
            _("Propose an adjustment"),
            feedback_responder,
            comment_required=True,
        ),
        Transition(
            "propose_no_change",
            PROPOSING,
            F.NO_CHANGE_PROPOSED,
            _("Propose no adjustment"),
            feedback_responder,
            comment_required=True,
        ),
        Transition(
            "agree_adjustment",
            frozenset({F.ADJUSTMENT_PROPOSED}),
            F.AGREED,
            _("Agree to the adjustment"),
            feedback_reviewer,
        ),
        Transition(
            "agree_no_change",
            frozenset({F.NO_CHANGE_PROPOSED}),
            F.NO_CHANGE,
            _("Agree: no adjustment needed"),
            feedback_reviewer,
        ),
        Transition(
            "send_back",
            PROPOSED,
            F.RETURNED,
            _("Send the proposal back"),
            feedback_reviewer,
            comment_required=True,
        ),
        Transition(
            "adjust",
            frozenset({F.AGREED}),
            F.ADJUSTED,
            _("Adjusted: link the new version"),
            feedback_responder,
        ),
        Transition(
            "reject",
            PROPOSING | PROPOSED,
            F.REJECTED,
            _("Reject with reasons"),
            feedback_reviewer,
            comment_required=True,
        ),
        # The provider's answer of the earlier procedure: never taken any more (no state
        # leads to it), declared so that the moves recorded then keep their label.
        Transition(
            "answer", frozenset(), F.ANSWERED, _("Answer"), feedback_responder, internal=True
        ),
        # The move migration 0009 recorded for each answered report: back to the provider,
        # whose answer becomes a proposal for the bureau to agree on.
        Transition(
            "procedure_changed",
            frozenset({F.ANSWERED}),
            F.RETURNED,
            _("Sent back: the bureau now agrees before the catalog is adjusted"),
            internal=True,
        ),
    ]
)
