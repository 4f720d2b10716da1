"""Conditions an operation authorization must meet before the bureau approves it, added by
later chapters (registration: every resource registered) without this package importing
them, as IT-project acceptance does (`catalog.filing.services.register_acceptance_check`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

# check(resources) -> one message per resource that stands in the way ("<code>: not
# registered"), an empty list when none does.
ApprovalCheck = Callable[[Iterable], list[str]]

_APPROVAL_CHECKS: list[ApprovalCheck] = []


def register_approval_check(check: ApprovalCheck) -> ApprovalCheck:
    """Add a condition; usable as a decorator; registering twice has no effect."""
    if check not in _APPROVAL_CHECKS:
        _APPROVAL_CHECKS.append(check)
    return check


def unregister_approval_check(check: ApprovalCheck) -> None:
    if check in _APPROVAL_CHECKS:
        _APPROVAL_CHECKS.remove(check)


def approval_problems(resources) -> list[str]:
    """What every registered check finds wrong with these resources (a list of messages)."""
    resources = list(resources)
    problems: list[str] = []
    for check in _APPROVAL_CHECKS:
        problems.extend(check(resources))
    return problems
