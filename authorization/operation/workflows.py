"""The workflows of authorized operation.

An authorization: submitted -> returned (comments) -> submitted again, or -> approved |
refused (reasons) | withdrawn (by the operator); approved -> active on its start date (beat, or
at once when it has come); active <-> suspended; active, suspended or approved -> revoked
(reasons) or expired (beat, after the end date).

A yearly disclosure: draft -> submitted -> published, or returned -> submitted again. Only the
bureau publishes.
"""

from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import OperationAuthorization, YearlyDisclosure
from .permissions import holds, publishes_for, reviews

A = OperationAuthorization.State
D = YearlyDisclosure.State

authorization_workflow = Workflow(
    transitions=[
        Transition(
            "approve",
            frozenset({A.SUBMITTED}),
            A.APPROVED,
            pgettext_lazy("operation", "Approve"),
            reviews,
        ),
        Transition(
            "return",
            frozenset({A.SUBMITTED}),
            A.RETURNED,
            pgettext_lazy("operation", "Return with comments"),
            reviews,
            comment_required=True,
        ),
        Transition(
            "refuse",
            frozenset({A.SUBMITTED}),
            A.REFUSED,
            pgettext_lazy("operation", "Refuse"),
            reviews,
            comment_required=True,
        ),
        Transition(
            "resubmit",
            frozenset({A.RETURNED}),
            A.SUBMITTED,
            pgettext_lazy("operation", "Submit again"),
            holds,
        ),
        Transition(
            "withdraw",
            frozenset({A.SUBMITTED, A.RETURNED}),
            A.WITHDRAWN,
            pgettext_lazy("operation", "Withdraw"),
            holds,
        ),
        Transition(
            "activate",
            frozenset({A.APPROVED}),
            A.ACTIVE,
            pgettext_lazy("operation", "Came into force"),
            internal=True,
        ),
        Transition(
            "suspend",
            frozenset({A.ACTIVE}),
            A.SUSPENDED,
            pgettext_lazy("operation", "Suspend"),
            reviews,
            comment_required=True,
        ),
        Transition(
            "resume",
            frozenset({A.SUSPENDED}),
            A.ACTIVE,
            pgettext_lazy("operation", "Resume"),
            reviews,
            comment_required=True,
        ),
        Transition(
            "revoke",
            frozenset({A.APPROVED, A.ACTIVE, A.SUSPENDED}),
            A.REVOKED,
            pgettext_lazy("operation", "Revoke"),
            reviews,
            comment_required=True,
        ),
        Transition(
            "expire",
            frozenset({A.APPROVED, A.ACTIVE, A.SUSPENDED}),
            A.EXPIRED,
            pgettext_lazy("operation", "Expired"),
            internal=True,
        ),
    ]
)


def _drafts(disclosure, user) -> bool:
    from .permissions import is_operator

    return is_operator(user) and user.organization_id == disclosure.operator_id


def _publishes(disclosure, user) -> bool:
    return publishes_for(user, disclosure.operator_id)


disclosure_workflow = Workflow(
    transitions=[
        Transition(
            "submit",
            frozenset({D.DRAFT, D.RETURNED}),
            D.SUBMITTED,
            pgettext_lazy("disclosure", "Submit to the bureau"),
            _drafts,
        ),
        Transition(
            "publish",
            frozenset({D.SUBMITTED}),
            D.PUBLISHED,
            pgettext_lazy("disclosure", "Check and publish"),
            _publishes,
        ),
        Transition(
            "return",
            frozenset({D.SUBMITTED}),
            D.RETURNED,
            pgettext_lazy("disclosure", "Return with comments"),
            _publishes,
            comment_required=True,
        ),
    ]
)
