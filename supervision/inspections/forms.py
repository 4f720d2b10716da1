from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from supervision.rectification.forms import MultipleFileField
from supervision.rectification.models import Case

from .models import LEGAL_BASIS, Area, Finding, Kind


class DateInput(forms.DateInput):
    input_type = "date"


class InspectionForm(forms.Form):
    subject = forms.ModelChoiceField(label=_("subject inspected"), queryset=None)
    title = forms.CharField(label=pgettext_lazy("inspection", "title"), max_length=200)
    kind = forms.ChoiceField(label=pgettext_lazy("inspection", "kind"), choices=Kind.choices)
    scope = forms.MultipleChoiceField(
        label=pgettext_lazy("inspection", "scope"),
        choices=Area.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The matters the inspection covers."),
    )
    resources = forms.ModelMultipleChoiceField(
        label=_("resources inspected"),
        queryset=None,
        required=False,
        help_text=_(
            "Optional: specific resources of the subject (an operator: its authorized ones); "
            "hold Ctrl (⌘ on a Mac) to choose several."
        ),
    )
    planned_start = forms.DateField(label=_("planned start"), widget=DateInput)
    planned_end = forms.DateField(label=_("planned end"), widget=DateInput)
    inspectors = forms.ModelMultipleChoiceField(
        label=_("inspectors"), queryset=None, widget=forms.CheckboxSelectMultiple
    )
    legal_basis = forms.CharField(
        label=_("legal basis"),
        max_length=1000,
        initial=LEGAL_BASIS,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, subjects, resources, inspectors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = subjects
        self.fields["resources"].queryset = resources
        self.fields["resources"].label_from_instance = _resource_label
        self.fields["inspectors"].queryset = inspectors
        self.fields["inspectors"].label_from_instance = lambda u: u.display_name

    def clean(self):
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            self.add_error("planned_end", _("The planned end is before the planned start."))
        return data


def _resource_label(r) -> str:
    v = r.published_version
    return f"{r.code} {v.name}" if v else r.code


class FindingForm(forms.Form):
    area = forms.ChoiceField(label=pgettext_lazy("finding", "category"), choices=Area.choices)
    severity = forms.ChoiceField(
        label=pgettext_lazy("finding", "severity"), choices=Finding.Severity.choices
    )
    description = forms.CharField(
        label=pgettext_lazy("finding", "description"), max_length=4000, widget=forms.Textarea
    )
    resources = forms.ModelMultipleChoiceField(
        label=_("records involved"),
        queryset=None,
        required=False,
        help_text=_("Resources of the subject; hold Ctrl (⌘ on a Mac) to choose several."),
    )
    references = forms.CharField(
        label=_("other records involved"),
        max_length=500,
        required=False,
        help_text=_("E.g. share request #12, channel #3; one line."),
    )
    files = MultipleFileField(
        label=_("evidence (PDF, Word, OpenDocument, Excel, PNG, JPEG)"), required=False
    )

    def __init__(self, *args, resources, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = resources
        self.fields["resources"].label_from_instance = _resource_label


class FindingOrderForm(forms.Form):
    case = forms.ChoiceField(label=_("case (Art. 31)"), choices=Case.choices)
    facts = forms.CharField(label=_("facts found"), max_length=4000, widget=forms.Textarea)
    requirement = forms.CharField(
        label=_("what must be done"), max_length=4000, required=False, widget=forms.Textarea
    )
    deadline_days = forms.IntegerField(
        label=_("deadline in working days"), min_value=1, max_value=120
    )


class NoActionForm(forms.Form):
    reason = forms.CharField(label=_("why no order"), max_length=2000, widget=forms.Textarea)


class ActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[(a, a) for a in ("notify", "start", "record", "close", "cancel")]
    )
    comment = forms.CharField(max_length=4000, required=False, widget=forms.Textarea)
