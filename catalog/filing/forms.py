"""Forms of the filing pages. They check input shape; the services check rights, state and
the rules, and their refusals are shown on the form."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from ..models import Resource
from . import selectors
from .models import CollectionListEntry, CompilationCampaign, InformationSystem, ITProject


def _no_nulls(form: forms.Form) -> None:
    for name, value in form.cleaned_data.items():
        if isinstance(value, str) and "\x00" in value:
            form.add_error(name, _("Null characters are not allowed."))


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        return f"{obj.code} {getattr(obj, 'latest_name', '') or ''}".strip()


class ResourceMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Resource) -> str:
        return f"{obj.code} {getattr(obj, 'latest_name', '') or ''}".strip()


class _Cleaned(forms.Form):
    def clean(self):
        data = super().clean()
        _no_nulls(self)
        return data


class SystemForm(forms.ModelForm):
    resources = ResourceMultipleChoiceField(
        label=_("Resources it produces"),
        queryset=Resource.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Catalog resources of your agency whose data this system holds."),
    )

    class Meta:
        model = InformationSystem
        fields = [
            "name",
            "purpose",
            "builder",
            "budget_funded",
            "go_live_date",
            "database_kind",
            "data_volume_gb",
            "status",
            "contact_name",
            "contact_phone",
        ]
        widgets = {
            "purpose": forms.Textarea(attrs={"rows": 3}),
            "go_live_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        }

    def __init__(self, *args, organization_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = selectors.resources_of(organization_id)
        self.fields["data_volume_gb"].min_value = 0
        self.fields["data_volume_gb"].widget.attrs["min"] = "0"

    def clean(self):
        data = super().clean()
        _no_nulls(self)
        volume = data.get("data_volume_gb")
        if volume is not None and volume < 0:
            self.add_error("data_volume_gb", _("The data volume cannot be negative."))
        return data

    def _post_clean(self):
        # Uniqueness and the model's own checks run in the service (with the actor).
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class SystemFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("All"))] + InformationSystem.Status.choices,
    )
    linked = forms.ChoiceField(
        label=_("Linked to resources"),
        required=False,
        choices=[("", _("All")), ("yes", _("Linked")), ("no", _("Not linked"))],
    )
    organization = forms.TypedChoiceField(
        label=_("Agency"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        if agencies:
            self.fields["organization"].choices = [("", _("All agencies")), *agencies]
        else:
            del self.fields["organization"]


class BoardSearchForm(_Cleaned):
    q = forms.CharField(label=_("Agency"), required=False, max_length=100)


class CampaignForm(_Cleaned):
    name = forms.CharField(label=_("Campaign name"), max_length=100)
    year = forms.IntegerField(label=_("Year"), min_value=2000, max_value=2100)
    deadline = forms.DateField(
        label=_("Deadline"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Agencies not at publication after this day are flagged as overdue."),
    )
    description = forms.CharField(
        label=_("Description"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class CampaignFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"),
        required=False,
        choices=[("", _("All"))] + CompilationCampaign.State.choices,
    )


class CampaignBoardForm(_Cleaned):
    q = forms.CharField(label=_("Agency"), required=False, max_length=100)
    stage = forms.ChoiceField(
        label=_("Stage"),
        required=False,
        choices=[("", _("All stages")), *selectors.Stage.choices()],
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)


class ActionForm(_Cleaned):
    action = forms.CharField(max_length=32)
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ProjectForm(forms.ModelForm):
    class Meta:
        model = ITProject
        fields = ["name", "budget_amount", "year", "description"]
        widgets = {"description": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].min_value = 2000
        self.fields["year"].max_value = 2100
        self.fields["year"].validators += [MinValueValidator(2000), MaxValueValidator(2100)]
        self.fields["budget_amount"].validators.append(MinValueValidator(Decimal("0.01")))

    def clean(self):
        data = super().clean()
        _no_nulls(self)
        return data

    def _post_clean(self):
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields}


class ProjectFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All"))] + ITProject.State.choices
    )
    year = forms.IntegerField(label=_("Year"), required=False, min_value=2000, max_value=2100)


class EntryForm(_Cleaned):
    resource = ResourceChoiceField(
        label=_("Catalog resource"),
        queryset=Resource.objects.none(),
        required=False,
        empty_label=_("— not catalogued yet —"),
        error_messages={
            "invalid_choice": _(
                "Choose a resource of your agency that is not retired and not on the list yet."
            )
        },
    )
    planned_name = forms.CharField(
        label=_("Planned resource name"),
        required=False,
        max_length=200,
        help_text=_("When the resource is not in the catalog yet: the name it will have."),
    )
    note = forms.CharField(label=_("Note"), required=False, max_length=500)

    def __init__(self, *args, organization_id=None, project=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = (
            selectors.resources_not_listed(project)
            if project is not None
            else selectors.resources_of(organization_id)
        )

    def clean(self):
        data = super().clean()
        if not data.get("resource") and not (data.get("planned_name") or "").strip():
            self.add_error(
                "resource",
                _("Choose a catalog resource, or name the resource the project will produce."),
            )
        return data


class LinkForm(_Cleaned):
    resource = ResourceChoiceField(label=_("Catalog resource"), queryset=Resource.objects.none())

    def __init__(self, *args, organization_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = selectors.resources_of(organization_id)


class CollectionEntryForm(forms.ModelForm):
    resource = ResourceChoiceField(
        label=_("Catalog resource"),
        queryset=Resource.objects.none(),
        required=False,
        empty_label=_("— none —"),
    )

    class Meta:
        model = CollectionListEntry
        fields = [
            "data_name",
            "legal_basis",
            "norms",
            "method",
            "frequency",
            "subject_scope",
            "resource",
        ]
        widgets = {"legal_basis": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, organization_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = selectors.resources_of(organization_id)

    def clean(self):
        data = super().clean()
        _no_nulls(self)
        return data

    def _post_clean(self):
        pass

    def service_fields(self) -> dict:
        return {name: self.cleaned_data[name] for name in self._meta.fields if name != "resource"}


class CollectionFilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    method = forms.ChoiceField(
        label=_("Collection method"),
        required=False,
        choices=[("", _("All"))] + CollectionListEntry.Method.choices,
    )
    frequency = forms.ChoiceField(
        label=_("Frequency"),
        required=False,
        choices=[("", _("All"))] + CollectionListEntry.Frequency.choices,
    )
    organization = forms.TypedChoiceField(
        label=_("Agency"), required=False, coerce=int, empty_value=None
    )

    def __init__(self, *args, agencies=(), **kwargs):
        super().__init__(*args, **kwargs)
        if agencies:
            self.fields["organization"].choices = [("", _("All agencies")), *agencies]
        else:
            del self.fields["organization"]
