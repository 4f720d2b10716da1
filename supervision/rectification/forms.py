from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Case


class OrderForm(forms.Form):
    agency = forms.ModelChoiceField(label=_("agency ordered"), queryset=None)
    case = forms.ChoiceField(label=_("case (Art. 31)"), choices=Case.choices)
    facts = forms.CharField(label=_("facts found"), max_length=4000, widget=forms.Textarea)
    requirement = forms.CharField(
        label=_("what must be done"), max_length=4000, required=False, widget=forms.Textarea
    )
    deadline_days = forms.IntegerField(
        label=_("deadline in working days"), min_value=1, max_value=120, initial=15
    )

    def __init__(self, *args, agencies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = agencies


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, (list, tuple)):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


class AnswerForm(forms.Form):
    answer = forms.CharField(label=_("agency's answer"), max_length=4000, widget=forms.Textarea)
    files = MultipleFileField(
        label=_("evidence (PDF, Word, OpenDocument, Excel, PNG, JPEG)"), required=False
    )


class ActionForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("acknowledge", "acknowledge"), ("verify", "verify"), ("return", "return")]
    )
    comment = forms.CharField(max_length=2000, required=False, widget=forms.Textarea)


class ConfirmForm(forms.Form):
    deadline_days = forms.IntegerField(
        label=_("deadline in working days"), min_value=1, max_value=120, initial=15
    )


class DismissForm(forms.Form):
    reason = forms.CharField(
        label=_("why it is dismissed"), max_length=2000, required=False, widget=forms.Textarea
    )
