"""Errors that services raise when they refuse an action.

A `DomainError` carries a message meant for the user (already translatable), and optionally
the name of the form field it concerns, so a view can show it next to that field.
"""

from __future__ import annotations

from django.utils.functional import Promise


class DomainError(Exception):
    """A refusal the user can understand and act on."""

    def __init__(self, message: str | Promise, *, field: str | None = None, code: str = "invalid"):
        super().__init__(str(message))
        self.message = message
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return str(self.message)


class TransitionNotAllowed(DomainError):
    """A workflow move that the object's state or the user's role does not allow."""


class AccessDenied(DomainError):
    """The acting user may not do this. Views turn it into 404 when the object is involved."""


# --- refusals observed (the audit log listens; the kernel imports no app) ------------------

_REFUSAL_OBSERVERS: list = []


def register_refusal_observer(observer) -> None:
    """`observer(exc, *, action, actor, obj, details)` hears of every refusal noted with
    `refusal_observed` (the security app records them in the audit log)."""
    if observer not in _REFUSAL_OBSERVERS:
        _REFUSAL_OBSERVERS.append(observer)


def refusal_observed(exc, *, action: str, actor=None, obj=None, details=None) -> None:
    """Say that `exc` refused `action` to `actor` (on `obj`). Observers decide when to record
    it: a refusal raised inside a transaction is rolled back with it, so they record it once
    the transaction has unwound (see security.audit)."""
    for observer in list(_REFUSAL_OBSERVERS):
        observer(exc, action=action, actor=actor, obj=obj, details=details)


def observe_refusals(
    action: str, *, actor_arg: str = "acting_user", object_arg: str | None = None, model=None
):
    """Decorate a service or an `access_*` helper so that its refusals (DomainError,
    Django's PermissionDenied, and Http404, which `access_*` raise for "forbidden" too) are
    observed with the caller named by the argument `actor_arg` and the object in argument
    `object_arg` (an instance, or the primary key of a `model`). Put it outside
    `transaction.atomic` so the refusal is observed after the refused transaction rolled
    back."""
    import functools
    import inspect

    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    def decorator(fn):
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            try:
                return fn(*args, **kwargs)
            except (DomainError, PermissionDenied, Http404) as exc:
                try:
                    bound = signature.bind_partial(*args, **kwargs).arguments
                except TypeError:
                    bound = {}
                obj = bound.get(object_arg) if object_arg else None
                if obj is not None and model is not None and not hasattr(obj, "_meta"):
                    obj = (model, obj)
                refusal_observed(exc, action=action, actor=bound.get(actor_arg), obj=obj)
                raise

        return wrapper

    return decorator
