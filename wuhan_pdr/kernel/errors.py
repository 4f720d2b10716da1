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
