"""The filing workflows.

An IT project funded by the budget (Art. 11): draft -> submitted for approval -> approved
(立项) -> submitted for acceptance -> accepted (验收). The responsible bureau returns a
submission for changes or rejects it; an acceptance submission it returns goes back to
approved, for the agency to complete the list. The conditions on the data list (not empty
for approval; every entry published for acceptance) are checked by the services, which
list what is missing.

A compilation campaign (Art. 12): open -> closed, and reopened if the bureau closed it too
early.
"""

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import CompilationCampaign, ITProject
from .permissions import is_city_reviewer, project_decider, project_filer

P = ITProject.State
C = CompilationCampaign.State

project_workflow = Workflow(
    transitions=[
        Transition(
            "submit",
            frozenset({P.DRAFT, P.RETURNED}),
            P.SUBMITTED,
            _("Submit for approval"),
            project_filer,
        ),
        Transition("withdraw", frozenset({P.SUBMITTED}), P.DRAFT, _("Withdraw"), project_filer),
        Transition(
            "approve", frozenset({P.SUBMITTED}), P.APPROVED, _("Approve (立项)"), project_decider
        ),
        Transition(
            "return",
            frozenset({P.SUBMITTED}),
            P.RETURNED,
            _("Return for changes"),
            project_decider,
            comment_required=True,
        ),
        Transition(
            "reject",
            frozenset({P.SUBMITTED}),
            P.REJECTED,
            _("Reject"),
            project_decider,
            comment_required=True,
        ),
        Transition(
            "submit_acceptance",
            frozenset({P.APPROVED}),
            P.ACCEPTANCE_SUBMITTED,
            _("Submit for acceptance"),
            project_filer,
        ),
        Transition(
            "accept",
            frozenset({P.ACCEPTANCE_SUBMITTED}),
            P.ACCEPTED,
            _("Accept (验收)"),
            project_decider,
        ),
        Transition(
            "return_acceptance",
            frozenset({P.ACCEPTANCE_SUBMITTED}),
            P.APPROVED,
            _("Return for completion"),
            project_decider,
            comment_required=True,
        ),
    ]
)


def _campaign_owner(campaign, user) -> bool:
    return is_city_reviewer(user)


campaign_workflow = Workflow(
    transitions=[
        Transition(
            "close",
            frozenset({C.OPEN}),
            C.CLOSED,
            _("Close the campaign"),
            _campaign_owner,
        ),
        Transition(
            "reopen",
            frozenset({C.CLOSED}),
            C.OPEN,
            _("Reopen the campaign"),
            _campaign_owner,
            comment_required=True,
        ),
    ]
)
