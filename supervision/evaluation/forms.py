from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .indicators import all_indicators


class PlanForm(forms.Form):
    name = forms.CharField(label=_("plan name"), max_length=100)
    period_start = forms.DateField(
        label=pgettext_lazy("evaluation", "period from"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    period_end = forms.DateField(
        label=pgettext_lazy("evaluation", "period until"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    note = forms.CharField(label=_("note"), max_length=2000, required=False, widget=forms.Textarea)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator_fields = []
        for ind in all_indicators():
            name = f"w_{ind.key}"
            self.fields[name] = forms.IntegerField(
                label=ind.label,
                help_text=ind.description,
                min_value=0,
                max_value=100,
                required=False,
            )
            self.indicator_fields.append(name)

    def weights(self) -> dict[str, int]:
        return {
            name[2:]: self.cleaned_data[name]
            for name in self.indicator_fields
            if self.cleaned_data.get(name)
        }


class AdjustForm(forms.Form):
    delta = forms.DecimalField(
        label=_("points added (negative: removed)"), max_digits=6, decimal_places=2
    )
    # Not required here: the service refuses an empty reason with its own message.
    reason = forms.CharField(
        label=_("reason"), max_length=2000, required=False, widget=forms.Textarea
    )
