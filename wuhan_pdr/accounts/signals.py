"""Signals of the accounts app that other apps listen to."""

from django.dispatch import Signal

two_factor_event = Signal()
"""Sent with (sender, user, request, event, actor) when a two-factor event happens: `event`
is "enrolled", "verified", "failed", "recovery_used", "reset" or "disabled"; `user` is whose
device it is, `actor` who acted (the user, or the security admin who reset it). The audit log
records each one."""
