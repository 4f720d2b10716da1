"""Signals of the sharing chapter for downstream chapters (which connect to them; sharing
imports none of them).

`coordination_asked(sender=ShareRequest, request=..., note=..., acting_user=...)` is sent inside
the transaction of `share_request_ask_coordination`, the request row locked: a receiver's
writes commit or roll back with the request's move to coordination. The supervision chapter
opens the linked dispute (Art. 30)."""

from django.dispatch import Signal

coordination_asked = Signal()
