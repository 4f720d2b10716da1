from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from wuhan_pdr.accounts.models import Organization

from .models import Dispute


class DisputeForm(forms.Form):
    other_party = forms.ModelChoiceField(
        label=pgettext_lazy("dispute", "other party"),
        queryset=Organization.objects.filter(
            is_active=True,
            kind__in=(*Organization.AGENCY_KINDS, Organization.Kind.OPERATOR),
        ),
    )
    subject = forms.ChoiceField(label=_("subject"), choices=Dispute.Subject.choices)
    title = forms.CharField(label=_("what the dispute is about"), max_length=200)
    reference = forms.CharField(label=_("record concerned"), max_length=100, required=False)
    description = forms.CharField(label=_("the dispute"), max_length=4000, widget=forms.Textarea)

    def __init__(self, *args, link=None, **kwargs):
        """`link` (from `links.resolve`) pre-fills the form from the disputed record; its
        subject and other party are then fixed."""
        super().__init__(*args, **kwargs)
        if link is not None:
            self.initial.update(subject=link.subject, title=link.title, reference=link.reference)
            self.fields["subject"].disabled = True
            if link.other_party is None:
                self.fields["other_party"].queryset = link.choices
            else:
                self.fields["other_party"].queryset = Organization.objects.filter(
                    pk=link.other_party.pk
                )
                self.initial["other_party"] = link.other_party.pk
                self.fields["other_party"].disabled = True


class MeetingForm(forms.Form):
    held_on = forms.DateField(label=_("held on"), widget=forms.DateInput(attrs={"type": "date"}))
    participants = forms.CharField(label=_("participants"), max_length=500)
    minutes = forms.CharField(label=_("minutes"), max_length=8000, widget=forms.Textarea)


class TextForm(forms.Form):
    text = forms.CharField(max_length=4000, required=False, widget=forms.Textarea)
