from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import MaskingRule
from .services import RULE_FIELDS


class MaskingRuleForm(forms.ModelForm):
    class Meta:
        model = MaskingRule
        fields = list(RULE_FIELDS)
        widgets = {
            "description": forms.Textarea(attrs={"rows": 2}),
            "note": forms.Textarea(attrs={"rows": 2}),
        }


class RuleFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    method = forms.ChoiceField(
        label=pgettext_lazy("masking", "Method"),
        required=False,
        choices=[("", _("All methods")), *MaskingRule.Method.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.attrs["placeholder"] = _("Name, description or note")

    def filters(self) -> dict:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return {"q": (d.get("q") or "").strip(), "method": d.get("method") or ""}
