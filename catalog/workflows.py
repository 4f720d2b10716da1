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

F = CatalogFeedback.State

feedback_workflow = Workflow(
    transitions=[
        Transition(
            "answer",
            frozenset({F.OPEN}),
            F.ANSWERED,
            _("Answer"),
            feedback_responder,
            comment_required=True,
        ),
        Transition(
            "adjust",
            frozenset({F.OPEN, F.ANSWERED}),
            F.ADJUSTED,
            _("Adjusted: link the new version"),
            feedback_responder,
        ),
        Transition(
            "reject",
            frozenset({F.OPEN, F.ANSWERED}),
            F.REJECTED,
            _("Reject with reasons"),
            feedback_reviewer,
            comment_required=True,
        ),
    ]
)
