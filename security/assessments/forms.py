"""Forms of the assessment pages: the filter of the schedule and the assessment itself, whose
checklist questions come from the subject's kind."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.kernel.workdays import today as local_today

from .models import Assessment, ChecklistAnswer
from .registry import ChecklistQuestion, subject_kinds
from .selectors import STATUSES

STATUS_LABELS = {
    "valid": _("Valid"),
    "expiring": _("Expiring soon"),
    "expired": _("Expired"),
    "failed": _("Failed"),
    "revoked": _("Revoked"),
}


def _no_nulls(form: forms.Form) -> None:
    for name, value in form.cleaned_data.items():
        if isinstance(value, str) and "\x00" in value:
            form.add_error(name, _("Null characters are not allowed."))


class DateInput(forms.DateInput):
    input_type = "date"


class AssessmentFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    kind = forms.ChoiceField(label=_("Subject kind"), required=False)
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            ("", _("All")),
            *((s.kind, s.label) for s in subject_kinds()),
        ]
        self.fields["status"].choices = [("", _("All")), *((s, STATUS_LABELS[s]) for s in STATUSES)]

    def clean(self):
        cleaned = super().clean()
        _no_nulls(self)
        return cleaned

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        d = self.cleaned_data
        return {"q": d.get("q", ""), "kind": d.get("kind", ""), "status": d.get("status", "")}


class AssessmentForm(forms.Form):
    """The assessment: one yes / no / not applicable answer (and a note) per checklist
    question, then the findings, the result and the validity."""

    assessed_on = forms.DateField(label=_("Assessment date"), widget=DateInput)
    result = forms.ChoiceField(
        label=_("Result"), choices=Assessment.Result.choices, widget=forms.RadioSelect
    )
    findings = forms.CharField(
        label=_("Findings"), max_length=8000, widget=forms.Textarea(attrs={"rows": 4})
    )
    conditions = forms.CharField(
        label=_("Conditions"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required for a pass with conditions."),
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        required=False,
        widget=DateInput,
        help_text=_("Required for a pass; the subject is suspended after this day."),
    )

    def __init__(self, *args, checklist: tuple[ChecklistQuestion, ...], **kwargs):
        super().__init__(*args, **kwargs)
        self.checklist = checklist
        today = local_today()
        self.fields["assessed_on"].initial = today
        self.fields["valid_until"].initial = today + dt.timedelta(
            days=settings.ASSESSMENT_VALIDITY_DAYS
        )
        for q in checklist:
            self.fields[f"q_{q.key}"] = forms.ChoiceField(
                label=q.text, choices=ChecklistAnswer.Answer.choices, widget=forms.RadioSelect
            )
            self.fields[f"n_{q.key}"] = forms.CharField(
                label=_("Note"), required=False, max_length=1000
            )

    def question_rows(self) -> list[tuple]:
        return [(self[f"q_{q.key}"], self[f"n_{q.key}"]) for q in self.checklist]

    def clean(self):
        cleaned = super().clean()
        _no_nulls(self)
        return cleaned

    def answers(self) -> list[tuple[str, str, str]]:
        d = self.cleaned_data
        return [(q.key, d[f"q_{q.key}"], d.get(f"n_{q.key}", "")) for q in self.checklist]
