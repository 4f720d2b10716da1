"""Forms of the incident, plan and drill pages. They check input shape; the services check
rights and rules, and their refusals are shown on the form."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Drill, EmergencyPlan, Incident, IncidentEntry
from .services import parse_resource_codes

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


def _no_nulls(form: forms.Form) -> None:
    for name, value in list(form.cleaned_data.items()):
        if isinstance(value, str) and "\x00" in value:
            form.add_error(name, _("Null characters are not allowed."))


class _Cleaned(forms.Form):
    def clean(self):
        cleaned = super().clean()
        _no_nulls(self)
        return cleaned

    def filters(self) -> dict:
        return (
            {k: v for k, v in self.cleaned_data.items() if v not in (None, "")}
            if self.is_valid()
            else {}
        )


class _OrgChoice(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.name


class ServiceModelForm(forms.ModelForm):
    """A model form whose instance is saved by a service: it checks input shape (and refuses
    null characters), leaves the model's own validation to the service (which reports
    refusals on the form) and hands the service `service_fields()`, its Meta fields."""

    def clean(self):
        cleaned = super().clean()
        _no_nulls(self)
        return cleaned

    def _post_clean(self):
        pass

    def service_fields(self) -> dict:
        return {k: self.cleaned_data.get(k) for k in self.Meta.fields}


class IncidentFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    level = forms.ChoiceField(
        label=_("Level"), required=False, choices=[("", _("All")), *Incident.Level.choices]
    )
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All")), *Incident.State.choices]
    )
    category = forms.ChoiceField(
        label=_("Category"), required=False, choices=[("", _("All")), *Incident.Category.choices]
    )


class IncidentForm(ServiceModelForm):
    organization = _OrgChoice(label=_("Organization"), queryset=None)
    occurred_at = forms.DateTimeField(
        label=_("Occurred"), input_formats=DATETIME_FORMATS, widget=DateTimeInput
    )
    discovered_at = forms.DateTimeField(
        label=_("Discovered"), input_formats=DATETIME_FORMATS, widget=DateTimeInput
    )
    resources = forms.CharField(
        label=_("Affected resources"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Catalog resource codes, separated by commas or new lines."),
    )

    class Meta:
        model = Incident
        fields = ["title", "level", "category", "summary"]
        widgets = {"summary": forms.Textarea(attrs={"rows": 5})}

    field_order = [
        "title",
        "organization",
        "level",
        "category",
        "occurred_at",
        "discovered_at",
        "summary",
        "resources",
    ]

    def __init__(self, *args, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        if organizations.count() == 1:
            self.fields["organization"].initial = organizations.first()
        self.order_fields(self.field_order)

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {
            k: d[k]
            for k in ("title", "level", "category", "occurred_at", "discovered_at", "summary")
        }

    def resource_codes(self) -> list[str]:
        return parse_resource_codes(self.cleaned_data.get("resources", ""))


class ResourcesForm(_Cleaned):
    resources = forms.CharField(
        label=_("Resource codes"),
        max_length=4000,
        help_text=_("Catalog resource codes, separated by commas or new lines."),
    )

    def resource_codes(self) -> list[str]:
        return parse_resource_codes(self.cleaned_data.get("resources", ""))


class EntryForm(_Cleaned):
    kind = forms.ChoiceField(label=_("Kind"), choices=IncidentEntry.Kind.choices)
    at = forms.DateTimeField(label=_("Time"), input_formats=DATETIME_FORMATS, widget=DateTimeInput)
    text = forms.CharField(
        label=_("Text"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


class MoveForm(_Cleaned):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    lessons_learned = forms.CharField(
        label=_("Lessons learned"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Required to close: causes, what worked, what will change."),
    )


class PlanFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    validity = forms.ChoiceField(
        label=_("Validity"),
        required=False,
        choices=[("", _("All")), ("current", _("In force")), ("expired", _("Expired"))],
    )


class PlanForm(ServiceModelForm):
    organization = _OrgChoice(label=_("Organization"), queryset=None)
    # Checked and stored by the service (plan_document_check): not a model field of the form.
    document = forms.FileField(
        label=_("Document"),
        required=False,
        help_text=_(
            "The plan as filed: PDF, Word (.docx) or OpenDocument (.odt), at most %(mb)s MB."
            " A new file replaces the current one; earlier versions stay in the plan's history."
        ),
        widget=forms.FileInput(attrs={"accept": ".pdf,.docx,.odt"}),
    )

    class Meta:
        model = EmergencyPlan
        fields = ["title", "version", "scope", "content", "valid_from", "valid_until"]
        widgets = {
            "content": forms.Textarea(attrs={"rows": 10}),
            "valid_from": DateInput,
            "valid_until": DateInput,
        }

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = organizations
            self.order_fields(["title", "organization"])
        field = self.fields["document"]
        field.help_text = field.help_text % {
            "mb": settings.SECURITY_PLAN_DOCUMENT_MAX_BYTES // (1024 * 1024)
        }


class DrillFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)


class DrillForm(ServiceModelForm):
    organization = _OrgChoice(label=_("Organization"), queryset=None)

    class Meta:
        model = Drill
        fields = [
            "title",
            "plan",
            "held_on",
            "scenario",
            "participants",
            "participant_count",
            "findings",
            "improvements",
        ]
        widgets = {
            "held_on": DateInput,
            "scenario": forms.Textarea(attrs={"rows": 3}),
            "participants": forms.Textarea(attrs={"rows": 2}),
            "findings": forms.Textarea(attrs={"rows": 3}),
            "improvements": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args, organizations, plans, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = organizations
        self.fields["plan"].queryset = plans
        self.order_fields(["title", "organization"])
