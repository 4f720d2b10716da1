"""Subjects of security assessments (Art. 27), registered by the apps that own them.

`security` imports no chapter app, so it knows a subject only by its kind and id: the app that
owns channels (or data tools, or later share grants) registers an `AssessmentSubject` in its
AppConfig.ready() saying how to find the object, link to it, name it, who to tell, what to do
when its assessment expires, and which questions the checklist asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class ChecklistQuestion:
    key: str
    text: str | Promise


# What every assessment asks unless the subject's kind brings its own questions.
DEFAULT_CHECKLIST: tuple[ChecklistQuestion, ...] = (
    ChecklistQuestion("network", _("The connection runs over the approved network only.")),
    ChecklistQuestion("encryption", _("Data is encrypted in transit.")),
    ChecklistQuestion("credentials", _("Credentials give the least access needed.")),
    ChecklistQuestion("vulnerabilities", _("No known vulnerability is left unpatched.")),
    ChecklistQuestion("logging", _("Access is logged and the logs are kept.")),
    ChecklistQuestion("minimisation", _("Only the data listed in the catalog is collected.")),
)


def _nobody(obj) -> list:
    return []


def _nothing(obj) -> None:
    return None


def _none_pending() -> Iterable:
    return ()


@dataclass(frozen=True)
class AssessmentSubject:
    """How `security` reaches subjects of one kind.

    resolve(pk) -> the object or None; title(obj) and url(obj) for pages and messages;
    recipients(obj) -> users told about reminders and expiry (besides security admins);
    on_expired(obj) suspends the subject when its pass runs out (or is revoked);
    on_passed(obj) runs after a pass is recorded; pending() -> objects waiting for a first
    assessment (for the overdue list and the work queue)."""

    kind: str
    label: str | Promise
    resolve: Callable[[str], object | None]
    title: Callable[[object], str]
    url: Callable[[object], str]
    recipients: Callable[[object], list] = _nobody
    on_expired: Callable[[object], None] = _nothing
    on_passed: Callable[[object], None] = _nothing
    pending: Callable[[], Iterable] = _none_pending
    checklist: tuple[ChecklistQuestion, ...] = field(default=DEFAULT_CHECKLIST)


_SUBJECTS: dict[str, AssessmentSubject] = {}


def register_assessment_subject(subject: AssessmentSubject) -> None:
    _SUBJECTS[subject.kind] = subject


def subject_kind(kind: str) -> AssessmentSubject | None:
    return _SUBJECTS.get(kind)


def subject_kinds() -> list[AssessmentSubject]:
    return sorted(_SUBJECTS.values(), key=lambda s: s.kind)
