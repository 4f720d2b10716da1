"""Signals the accounts app sends for others to record (the audit log connects receivers)."""

from django.dispatch import Signal

two_factor_event = Signal()
"""Sent at each two-factor event, with `sender` (the User class), `user` (whose two-factor
login it is), `request` (or None outside a request), `event` and `actor` (who acted: the user
itself, who has passed the password step; the security administrator for "reset").

`event` is one of "enrolled" (an authenticator app confirmed), "verified" (a login passed the
second factor), "failed" (a wrong code), "recovery_used" (a login with a recovery code),
"reset" (the security administrator removed the user's devices) and "disabled" (the user
turned their own two-factor login off)."""

TWO_FACTOR_EVENTS = ("enrolled", "verified", "failed", "recovery_used", "reset", "disabled")
