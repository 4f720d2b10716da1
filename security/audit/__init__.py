"""The audit log (Ch. 8): `record()` is the one function every part of the platform calls.

See `recording.py` for how an entry reaches the kernel's ledger and why refusals are recorded
after their transaction rolled back, `receivers.py` for what is recorded by signals, and
docs/decisions for the split between ledger leaves and prunable rows.
"""

from __future__ import annotations


def record(
    action: str,
    *,
    actor=None,
    request=None,
    obj=None,
    outcome: str = "success",
    details: dict | None = None,
    organization=None,
):
    """Record `action` in the audit log (see `security.audit.recording.record`)."""
    from .recording import record as _record

    return _record(
        action,
        actor=actor,
        request=request,
        obj=obj,
        outcome=outcome,
        details=details,
        organization=organization,
    )


def observe_refusals(
    action: str, *, actor_arg: str = "acting_user", object_arg: str | None = None, model=None
):
    """Decorator recording the refusals of a service or `access_*` helper in the audit log
    (`wuhan_pdr.kernel.errors.observe_refusals`)."""
    from wuhan_pdr.kernel.errors import observe_refusals as _observe

    return _observe(action, actor_arg=actor_arg, object_arg=object_arg, model=model)


class counted:
    """Wrap the rows of an export to learn how many were written:
    `rows = counted(rows)`; after the workbook is built, `rows.count` (for `record`)."""

    def __init__(self, rows):
        self._rows = rows
        self.count = 0

    def __iter__(self):
        for row in self._rows:
            self.count += 1
            yield row
