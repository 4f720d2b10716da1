"""The workflows of sharing.

A share request: pending -> granted | refused | withdrawn; a refused one may go to the city
bureau for coordination. Unconditionally shared resources are granted, and resources that are
not shared refused, at once by the platform (internal moves, recorded like the others).

A grant: active <-> suspended, -> revoked (final), -> expired (beat, at the end of validity);
renewal gives an active or expired grant a new end of validity.
"""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import Grant, ShareRequest
from .permissions import asks, decides, may_suspend, provides

R = ShareRequest.State
G = Grant.State

request_workflow = Workflow(
    transitions=[
        Transition(
            "grant_at_once",
            frozenset({R.PENDING}),
            R.GRANTED,
            _("Granted at once (unconditional sharing)"),
            internal=True,
        ),
        Transition(
            "refuse_at_once",
            frozenset({R.PENDING}),
            R.REFUSED,
            _("Refused at once (not shared)"),
            internal=True,
        ),
        Transition(
            "approve",
            frozenset({R.PENDING}),
            R.GRANTED,
            pgettext_lazy("sharing", "Approve"),
            decides,
        ),
        Transition(
            "refuse",
            frozenset({R.PENDING}),
            R.REFUSED,
            pgettext_lazy("sharing", "Refuse"),
            decides,
            comment_required=True,
        ),
        Transition(
            "withdraw",
            frozenset({R.PENDING}),
            R.WITHDRAWN,
            pgettext_lazy("sharing", "Withdraw"),
            asks,
        ),
        Transition(
            "ask_coordination",
            frozenset({R.REFUSED}),
            R.COORDINATION,
            _("Ask the city bureau to coordinate"),
            asks,
            comment_required=True,
        ),
    ]
)

grant_workflow = Workflow(
    transitions=[
        Transition(
            "suspend",
            frozenset({G.ACTIVE}),
            G.SUSPENDED,
            pgettext_lazy("sharing", "Suspend"),
            may_suspend,
            comment_required=True,
        ),
        Transition(
            "resume",
            frozenset({G.SUSPENDED}),
            G.ACTIVE,
            pgettext_lazy("sharing", "Resume"),
            may_suspend,
            comment_required=True,
        ),
        Transition(
            "revoke",
            frozenset({G.ACTIVE, G.SUSPENDED}),
            G.REVOKED,
            pgettext_lazy("sharing", "Revoke"),
            provides,
            comment_required=True,
        ),
        Transition(
            "renew",
            frozenset({G.ACTIVE, G.EXPIRED}),
            G.ACTIVE,
            pgettext_lazy("sharing", "Renew"),
            provides,
        ),
        Transition(
            "expire",
            frozenset({G.ACTIVE, G.SUSPENDED}),
            G.EXPIRED,
            pgettext_lazy("sharing", "Expired"),
            internal=True,
        ),
    ]
)
