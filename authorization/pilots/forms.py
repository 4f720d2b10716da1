"""Forms of pilot scenarios."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import SCORE_MAX, PilotCall


class DateInput(forms.DateInput):
    input_type = "date"


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"


class CallForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    area = forms.CharField(label=_("application area"), max_length=200)
    requirements = forms.CharField(
        label=_("requirements"), max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )
    deadline = forms.DateTimeField(label=_("deadline for proposals"), widget=DateTimeInput)


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200)
    summary = forms.CharField(
        label=_("scenario"), max_length=8000, widget=forms.Textarea(attrs={"rows": 6})
    )
    data_needed = forms.CharField(
        label=_("public data needed"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    document = forms.FileField(
        label=_("document"), help_text=_("The full proposal: PDF, Word (.docx) or OpenDocument.")
    )


def _score(label):
    return forms.IntegerField(label=label, min_value=0, max_value=SCORE_MAX)


class ScoreForm(forms.Form):
    value = _score(_("value of the application"))
    feasibility = _score(_("feasibility"))
    security = _score(_("data security"))
    innovation = _score(_("innovation"))
    comment = forms.CharField(
        label=_("comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def scores(self) -> dict:
        return {k: self.cleaned_data[k] for k in ("value", "feasibility", "security", "innovation")}


class SelectForm(forms.Form):
    service = forms.CharField(label=_("product or service"), max_length=200)
    price = forms.DecimalField(
        label=_("price (yuan)"), max_digits=12, decimal_places=2, min_value=Decimal("0")
    )
    unit = forms.CharField(label=_("pricing unit"), max_length=50)
    waived_until = forms.DateField(label=_("fee waived until"), widget=DateInput)
    comment = forms.CharField(
        label=_("decision comment"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class CallFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    state = forms.ChoiceField(
        label=_("state"), choices=[("", "—"), *PilotCall.State.choices], required=False
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {"q": self.cleaned_data["q"].strip(), "state": self.cleaned_data["state"]}


class PublicFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {"q": self.cleaned_data["q"].strip()}
