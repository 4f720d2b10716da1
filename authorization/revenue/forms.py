"""Forms of operation revenue: recording a period's revenue, setting its distribution, and
the list filters."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.accounts.models import Organization

from .models import Distribution


class DateInput(forms.DateInput):
    input_type = "date"


class RevenueForm(forms.Form):
    operator = forms.ModelChoiceField(
        label=_("authorized operator"), queryset=Organization.objects.none()
    )
    period_start = forms.DateField(label=_("period from"), widget=DateInput)
    period_end = forms.DateField(label=_("period until"), widget=DateInput)
    amount = forms.DecimalField(
        label=_("revenue (yuan)"),
        max_digits=15,
        decimal_places=2,
        min_value=Decimal("0"),
        help_text=_("Revenue from authorized operation in the period, in yuan."),
    )
    note = forms.CharField(
        label=pgettext_lazy("revenue", "note"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, operators, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["operator"].queryset = operators
        if operators.count() == 1:
            self.fields["operator"].initial = operators.first()


class DistributionForm(forms.Form):
    government_percent = forms.DecimalField(
        label=_("government share (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        help_text=_(
            "The part of the revenue that goes to the government side; the rest stays"
            " with the operator."
        ),
    )
    rule = forms.ChoiceField(label=_("rule among agencies"), choices=Distribution.Rule.choices)
    reason = forms.CharField(
        label=_("reason for the adjustment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args, agencies, adjusting: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.agencies = list(agencies)
        for agency in self.agencies:
            self.fields[f"weight_{agency.pk}"] = forms.DecimalField(
                label=_("weight of %(agency)s") % {"agency": agency.name},
                max_digits=11,
                decimal_places=4,
                min_value=Decimal("0"),
                max_value=Decimal("1000000"),
                required=False,
                help_text=_("Used only with the rule “by fixed weights”."),
            )
        if adjusting:
            self.fields["reason"].required = True
        else:
            del self.fields["reason"]

    def weights(self) -> dict[int, Decimal]:
        return {
            a.pk: self.cleaned_data.get(f"weight_{a.pk}") or Decimal("0") for a in self.agencies
        }

    def ratio(self) -> Decimal:
        return self.cleaned_data["government_percent"] / 100


class RevenueFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    year = forms.IntegerField(label=_("year"), min_value=2000, max_value=2100, required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {"q": self.cleaned_data["q"].strip(), "year": self.cleaned_data["year"]}


class StatementFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {"q": self.cleaned_data["q"].strip()}
