"""Forms of the data tool pages. They check input shape; the services check rights and rules,
and their refusals are shown on the form."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from ..incidents.forms import ServiceModelForm, _Cleaned, _OrgChoice
from .models import DataTool


class DataToolForm(ServiceModelForm):
    organization = _OrgChoice(label=_("Organization using it"), queryset=None)

    class Meta:
        model = DataTool
        fields = ["name", "vendor", "version", "category", "purpose"]
        widgets = {"purpose": forms.Textarea(attrs={"rows": 4})}
        help_texts = {
            "version": _("A new version is assessed again before it is used."),
            "purpose": _("What the tool does with which data, and where it runs."),
        }

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.fields["organization"]
        else:
            self.fields["organization"].queryset = organizations
            if organizations.count() == 1:
                self.fields["organization"].initial = organizations.first()
            self.order_fields(["name", "organization"])


class ReasonForm(_Cleaned):
    """Why a tool is suspended (optional: `required=False`) or retired."""

    reason = forms.CharField(
        label=_("Reason"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, required: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = required
