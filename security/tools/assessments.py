"""Data tools as subjects of security assessments (kind "data_tool"), registered in
SecurityConfig.ready() like the channels in aggregation/assessments.py."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.roles import Role

from ..assessments import AssessmentSubject, ChecklistQuestion, register_assessment_subject
from .models import DataTool
from .services import SUBJECT_KIND

DATA_TOOL_CHECKLIST = (
    ChecklistQuestion(
        "origin", _("The tool comes from a known vendor, licensed, from an untampered source.")
    ),
    ChecklistQuestion(
        "vulnerabilities", _("The version in use is patched and free of known vulnerabilities.")
    ),
    ChecklistQuestion(
        "network", _("It connects only to approved networks and sends nothing to its vendor.")
    ),
    ChecklistQuestion("access", _("Its accounts give the least access needed.")),
    ChecklistQuestion(
        "minimisation", _("It collects or processes only the data its purpose needs.")
    ),
    ChecklistQuestion(
        "storage", _("Data it keeps locally is encrypted and deleted when no longer needed.")
    ),
    ChecklistQuestion("logging", _("Its use is logged and the logs are kept.")),
)


def _resolve(pk: str):
    if not str(pk).isdigit():
        return None
    return DataTool.objects.select_related("organization", "created_by").filter(pk=int(pk)).first()


def _title(tool: DataTool) -> str:
    return f"{tool.name} {tool.version} · {tool.organization.name}"


def _url(tool: DataTool) -> str:
    return reverse("security:tool-detail", args=[tool.pk])


def _recipients(tool: DataTool) -> list:
    """The organization's data officers and the person who registered the tool."""
    users = list(
        get_user_model().objects.filter(
            organization_id=tool.organization_id,
            groups__name=Role.AGENCY_ADMIN,
            is_active=True,
        )
    )
    return [*users, tool.created_by]


def _on_expired(tool: DataTool) -> None:
    from .services import tool_suspend_on_expiry

    tool_suspend_on_expiry(tool=tool)


def _pending():
    from .selectors import tools_never_assessed

    return tools_never_assessed()


def register() -> None:
    register_assessment_subject(
        AssessmentSubject(
            kind=SUBJECT_KIND,
            label=_("Data tool"),
            resolve=_resolve,
            title=_title,
            url=_url,
            recipients=_recipients,
            on_expired=_on_expired,
            pending=_pending,
            checklist=DATA_TOOL_CHECKLIST,
        )
    )
