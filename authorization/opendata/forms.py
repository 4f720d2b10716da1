"""The open-data search form: a bad or stale filter is dropped, never a 500."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.models import Classification, ResourceFormat
from wuhan_pdr.accounts.models import Organization

from .models import Licence
from .selectors import OpenQuery

SEARCH_MAX = 100


class OpenSearchForm(forms.Form):
    # No max_length: an over-long search is cut, not refused (refusing would drop the filter).
    q = forms.CharField(label=_("Search"), required=False)
    provider = forms.ModelChoiceField(
        label=_("Provider"),
        required=False,
        queryset=Organization.objects.filter(kind__in=Organization.AGENCY_KINDS),
    )
    classification = forms.ModelChoiceField(
        label=_("Classification"), required=False, queryset=Classification.objects.all()
    )
    # Not "format": the API's URL_FORMAT_OVERRIDE takes that name.
    resource_format = forms.ChoiceField(
        label=_("Format"), required=False, choices=ResourceFormat.choices
    )
    licence = forms.ModelChoiceField(
        label=pgettext_lazy("open data", "Licence"), required=False, queryset=Licence.objects.all()
    )

    def to_query(self) -> OpenQuery:
        # Keep the valid fields: a mistyped filter must not drop the search and the others.
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        q = (d.get("q") or "").replace("\x00", "")[:SEARCH_MAX]
        return OpenQuery(
            q=q,
            provider=d["provider"].pk if d.get("provider") else None,
            classification=d["classification"].pk if d.get("classification") else None,
            resource_format=d.get("resource_format") or "",
            licence=d["licence"].pk if d.get("licence") else None,
        )


class ApplicationForm(forms.Form):
    purpose = forms.CharField(
        label=pgettext_lazy("open application", "Purpose of use"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the data will be used for, by whom, and for how long."),
    )
    security_measures = forms.CharField(
        label=pgettext_lazy("open application", "Security measures promised"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("How the data will be stored, who may access it, and when it is deleted."),
    )
    licence_accepted = forms.BooleanField(
        label=_("I have read and accept the licence terms"), required=True
    )


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=())
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when refusing: the reasons are sent to the applicant."),
    )

    def __init__(self, *args, transitions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [(t.name, t.label) for t in transitions]


class ApplicationFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    state = forms.ChoiceField(label=pgettext_lazy("open application", "State"), required=False)

    def __init__(self, *args, **kwargs):
        from .models import OpenApplication

        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All"))] + OpenApplication.State.choices

    def cleaned(self) -> tuple[str, str]:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return (d.get("q") or "").replace("\x00", "")[:SEARCH_MAX], d.get("state") or ""
