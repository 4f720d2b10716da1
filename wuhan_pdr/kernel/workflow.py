"""The one workflow mechanism of the platform.

Each workflow is declared once, in its app's `workflows.py`, as a `Workflow` listing its
transitions. A transition names the states it may start from, the state it leads to and a
guard that decides whether a given user may take it for a given object. `Workflow.apply`
refuses a move with a `TransitionNotAllowed` error and otherwise changes the state, saves
the object with its history and records a `WorkflowEvent` (who, when, from, to, comment).
See docs/decisions/0002-workflow-helper.md for why this is not django-fsm.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from .errors import DomainError, TransitionNotAllowed, refusal_observed
from .history import audited_save
from .models import WorkflowEvent

Guard = Callable[[models.Model, object], bool]


def anyone(obj: models.Model, user: object) -> bool:
    return True


@dataclass(frozen=True)
class Transition:
    name: str
    source: frozenset[str]
    target: str
    label: str | Promise
    guard: Guard = anyone
    comment_required: bool = False
    # A move the platform makes itself (e.g. superseding an old version): never offered to
    # a user by `available_to`, but recorded like any other.
    internal: bool = False


class Workflow:
    def __init__(self, *, state_field: str = "state", transitions: Iterable[Transition]):
        self.state_field = state_field
        self._transitions = {t.name: t for t in transitions}

    def __iter__(self):
        return iter(self._transitions.values())

    def get(self, name: str) -> Transition:
        try:
            return self._transitions[name]
        except KeyError:
            raise TransitionNotAllowed(_("Unknown action “%(name)s”.") % {"name": name}) from None

    def state_of(self, obj: models.Model) -> str:
        return getattr(obj, self.state_field)

    def available_to(self, obj: models.Model, user) -> list[Transition]:
        """The transitions `user` may take on `obj` now, in declaration order."""
        state = self.state_of(obj)
        return [t for t in self if not t.internal and state in t.source and t.guard(obj, user)]

    def check(self, obj: models.Model, name: str, *, acting_user, comment: str = "") -> Transition:
        t = self.get(name)
        state = self.state_of(obj)
        if state not in t.source:
            display = getattr(obj, f"get_{self.state_field}_display", lambda: state)()
            raise TransitionNotAllowed(
                _("“%(action)s” is not possible while the record is “%(state)s”.")
                % {"action": t.label, "state": display}
            )
        if not t.guard(obj, acting_user):
            raise TransitionNotAllowed(
                _("You are not allowed to “%(action)s” this record.") % {"action": t.label}
            )
        if t.comment_required and not comment.strip():
            raise DomainError(_("Please give a comment for this action."), field="comment")
        return t

    def apply(
        self, obj: models.Model, name: str, *, acting_user, comment: str = ""
    ) -> WorkflowEvent:
        """Move `obj` along transition `name`, save it, and record the move.

        Call inside the service's transaction, on an object fetched with
        `select_for_update()` so that two people cannot move it at once.
        """
        try:
            t = self.check(obj, name, acting_user=acting_user, comment=comment)
        except TransitionNotAllowed as refused:
            # The audit log records it once the service's transaction has rolled back.
            refusal_observed(
                refused,
                action=f"workflow.{obj._meta.model_name}.{name}",
                actor=acting_user,
                obj=obj,
                details={"state": str(self.state_of(obj))},
            )
            raise
        from_state = self.state_of(obj)
        with transaction.atomic():
            setattr(obj, self.state_field, t.target)
            audited_save(obj, acting_user=acting_user, reason=str(t.label))
            return WorkflowEvent.objects.create(
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
                transition=t.name,
                from_state=from_state,
                to_state=t.target,
                actor=acting_user if getattr(acting_user, "pk", None) else None,
                comment=comment.strip(),
            )


def events_for(obj: models.Model):
    """The recorded moves of `obj`, oldest first, with their actors."""
    return WorkflowEvent.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).select_related("actor")


def events_described(obj: models.Model, workflow: Workflow) -> list[WorkflowEvent]:
    """`events_for(obj)`, each event also carrying `label`, `from_label` and `to_label` in
    the user's language, for pages that show the history of a workflow."""
    choices = dict(obj._meta.get_field(workflow.state_field).flatchoices)
    events = list(events_for(obj))
    for event in events:
        t = workflow._transitions.get(event.transition)
        event.label = t.label if t else event.transition
        event.from_label = choices.get(event.from_state, event.from_state)
        event.to_label = choices.get(event.to_state, event.to_state)
    return events
