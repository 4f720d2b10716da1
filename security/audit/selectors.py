"""Reads of the audit log, for its readers only (see permissions.py)."""

from __future__ import annotations

from .models import AuditEvent


def audit_events_for(user):
    from .permissions import may_read_audit

    if not may_read_audit(user):
        return AuditEvent.objects.none()
    return AuditEvent.objects.select_related("organization")


def last_verification():
    return AuditEvent.objects.filter(action="audit.verified").order_by("-occurred_at").first()


def ledger_overview() -> dict:
    """Size, last signed head and, when the ledger offers it, its own status of the audit log
    (for the page; the full check runs as a job)."""
    from wuhan_pdr.kernel.ledger.models import LedgerHead, LedgerLeaf

    from .recording import LEDGER_LOG

    head = LedgerHead.objects.filter(log=LEDGER_LOG).order_by("-size").first()
    return {
        "appended": LedgerLeaf.objects.filter(log=LEDGER_LOG).count(),
        "head": head,
        "head_root": bytes(head.root_hash).hex() if head else "",
        "verification": last_verification(),
    }
