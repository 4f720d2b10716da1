"""The incident workflow: reported -> being handled -> closed (with lessons learned), and
reopened when handling must go on."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workflow import Transition, Workflow

from .models import Incident
from .permissions import may_write_for

S = Incident.State


def _handles(incident: Incident, user) -> bool:
    return may_write_for(user, incident.organization)


incident_workflow = Workflow(
    transitions=[
        Transition("respond", frozenset({S.REPORTED}), S.RESPONDING, _("Start handling"), _handles),
        Transition("close", frozenset({S.RESPONDING}), S.CLOSED, _("Close"), _handles),
        Transition(
            "reopen",
            frozenset({S.CLOSED}),
            S.RESPONDING,
            _("Reopen"),
            _handles,
            comment_required=True,
        ),
    ]
)
