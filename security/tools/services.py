"""Writes of the data tool register. Each takes `acting_user`, checks the right to act for the
tool's organization, runs in one transaction and records history naming the actor."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.history import audited_save

from ..assessments import has_valid_pass
from ..assessments.services import assessments_revoke
from .models import DataTool
from .permissions import may_write_for

SUBJECT_KIND = "data_tool"
TOOL_FIELDS = ("name", "vendor", "version", "category", "purpose")
# A change of these is a different tool: its pass no longer holds.
ASSESSED_FIELDS = ("name", "vendor", "version", "category")
S = DataTool.State


def _require_writer(user, organization) -> None:
    if not may_write_for(user, organization):
        raise AccessDenied(_("You may not register data tools for that organization."))


def _clean(fields: dict) -> dict:
    unknown = set(fields) - set(TOOL_FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    out = {k: (v.strip() if isinstance(v, str) else v) for k, v in fields.items()}
    for name in TOOL_FIELDS:
        if name in out and not out[name]:
            raise DomainError(_("This field is required."), field=name)
        if isinstance(out.get(name), str) and "\x00" in out[name]:
            raise DomainError(_("Null characters are not allowed."), field=name)
    return out


def _unique(tool: DataTool) -> None:
    twin = DataTool.objects.filter(
        organization=tool.organization, name=tool.name, version=tool.version
    ).exclude(pk=tool.pk)
    if twin.exists():
        raise DomainError(
            _("This organization has already registered this version of the tool."),
            field="version",
        )


def _locked(tool: DataTool) -> DataTool:
    return DataTool.objects.select_for_update().select_related("organization").get(pk=tool.pk)


@transaction.atomic
def tool_register(*, organization: Organization, fields: dict, acting_user) -> DataTool:
    """Register a data tool of `organization`. It waits for a security assessment before it
    may be put into use."""
    _require_writer(acting_user, organization)
    tool = DataTool(organization=organization, created_by=acting_user, **_clean(fields))
    _unique(tool)
    return audited_save(tool, acting_user=acting_user, reason="registered")


@transaction.atomic
def tool_update(*, tool: DataTool, fields: dict, acting_user) -> DataTool:
    """Change a tool's details. A new name, vendor, version or category is another tool:
    its assessment pass is revoked, and a tool in use is suspended until assessed again."""
    tool = _locked(tool)
    _require_writer(acting_user, tool.organization)
    if tool.state == S.RETIRED:
        raise DomainError(_("A retired tool cannot be changed."))
    fields = _clean(fields)
    changed = [k for k in ASSESSED_FIELDS if k in fields and fields[k] != getattr(tool, k)]
    for name, value in fields.items():
        setattr(tool, name, value)
    _unique(tool)
    reason = "update"
    if changed:
        assessments_revoke(
            subject_kind=SUBJECT_KIND,
            subject_id=tool.pk,
            reason=_("Changed: %(fields)s") % {"fields": ", ".join(changed)},
            acting_user=acting_user,
        )
        if tool.state == S.IN_USE:
            tool.state = S.SUSPENDED
            tool.state_reason = _("Changed; suspended until assessed again.")
            reason = "update: suspended until assessed again"
    return audited_save(tool, acting_user=acting_user, reason=reason)


@transaction.atomic
def tool_start_use(*, tool: DataTool, acting_user) -> DataTool:
    """Put a registered or suspended tool into use: refused unless it holds a valid security
    assessment pass (Art. 27)."""
    tool = _locked(tool)
    _require_writer(acting_user, tool.organization)
    if tool.state not in (S.REGISTERED, S.SUSPENDED):
        raise DomainError(_("Only a registered or suspended tool can be put into use."))
    if not has_valid_pass(SUBJECT_KIND, tool.pk):
        raise DomainError(
            _(
                "A data tool can be put into use only while it holds a valid security assessment pass."
            )
        )
    tool.state, tool.state_reason = S.IN_USE, ""
    return audited_save(tool, acting_user=acting_user, reason="start use")


@transaction.atomic
def tool_suspend(*, tool: DataTool, reason: str, acting_user) -> DataTool:
    """Stop using a tool for now (it may be put into use again while its pass holds)."""
    tool = _locked(tool)
    _require_writer(acting_user, tool.organization)
    if tool.state != S.IN_USE:
        raise DomainError(_("Only a tool in use can be suspended."))
    tool.state, tool.state_reason = S.SUSPENDED, (reason or "").strip()[:300]
    return audited_save(tool, acting_user=acting_user, reason="suspend")


@transaction.atomic
def tool_retire(*, tool: DataTool, reason: str, acting_user) -> DataTool:
    """Take a tool out of the register for good (it stays on file with its assessments)."""
    tool = _locked(tool)
    _require_writer(acting_user, tool.organization)
    if tool.state == S.RETIRED:
        raise DomainError(_("This tool is already retired."))
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Say why the tool is retired."), field="reason")
    tool.state, tool.state_reason = S.RETIRED, reason[:300]
    return audited_save(tool, acting_user=acting_user, reason="retire")


@transaction.atomic
def tool_suspend_on_expiry(*, tool: DataTool) -> bool:
    """The platform suspends a tool in use whose security assessment ran out (called by the
    daily assessment job through the hook in assessments.py). Returns whether it did."""
    tool = _locked(tool)
    if tool.state != S.IN_USE:
        return False
    tool.state = S.SUSPENDED
    tool.state_reason = _("The security assessment expired.")
    audited_save(tool, acting_user=None, reason="suspend: security assessment expired")
    return True
