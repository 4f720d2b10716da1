"""Writes of the audit log besides `record()`: retention and verification on request."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from wuhan_pdr.kernel.errors import AccessDenied
from wuhan_pdr.kernel.jobs import job_enqueue
from wuhan_pdr.kernel.ledger.models import LedgerEntry

from .models import AuditEvent
from .permissions import may_read_audit
from .recording import LEDGER_LOG, record

VERIFY_TASK = "security.audit_verify"


@transaction.atomic
def audit_prune(*, now: dt.datetime | None = None) -> int:
    """Delete the searchable rows and the ledger entry bytes older than
    `AUDIT_RETENTION_DAYS`; the ledger's leaves (their hashes) stay, so the tree still
    verifies. Returns the number of rows deleted."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.AUDIT_RETENTION_DAYS)
    deleted, _by_model = AuditEvent.objects.filter(occurred_at__lt=cutoff).delete()
    LedgerEntry.objects.filter(log=LEDGER_LOG, leaf__created_at__lt=cutoff).delete()
    return deleted


@transaction.atomic
def audit_verify_request(*, acting_user):
    """Queue a verification of the audit ledger (a durable job); recorded."""
    if not may_read_audit(acting_user):
        raise AccessDenied(_("You may not verify the audit log."))
    job = job_enqueue(task_name=VERIFY_TASK, kwargs={}, acting_user=acting_user)
    record("audit.verify_requested", actor=acting_user, obj=job)
    return job


def audit_verify_run() -> tuple[bool, str]:
    """Verify the audit log's ledger now (the job's body); the result is recorded."""
    from wuhan_pdr.kernel.ledger.verify import ledger_status

    ok, message, size, _head = ledger_status(LEDGER_LOG)
    with transaction.atomic():
        record(
            "audit.verified",
            outcome="success" if ok else "failure",
            details={"message": str(message)[:500], "size": size},
        )
    return ok, message
