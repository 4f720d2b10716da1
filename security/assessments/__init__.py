"""Security assessments (Art. 27): an assessment of a subject (a channel, a data tool, later a
share grant) with a checklist, findings, a result and a validity end. A subject may be used
only while it holds a valid pass (`has_valid_pass`); beat suspends it when the pass expires."""

from .registry import (  # noqa: F401
    DEFAULT_CHECKLIST,
    AssessmentSubject,
    ChecklistQuestion,
    register_assessment_subject,
    subject_kind,
)


def has_valid_pass(kind: str, subject_id, *, on=None) -> bool:
    """Whether the subject's current assessment is a pass (with or without conditions) that is
    still valid today (or on the date `on`)."""
    from .selectors import has_valid_pass as _has_valid_pass

    return _has_valid_pass(kind, subject_id, on=on)
