"""Forms of the objection pages: filing, each step of the bureau and the provider, the list
filters and the time limits. Forms check shape; the services check the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from wuhan_pdr.accounts.models import Organization

from ..models import Objection, TimeLimit
from .services import LIMIT_KEYS, MAX_LIMIT_DAYS, MAX_ROW_KEYS

S = Objection.State


class ObjectionForm(forms.Form):
    kind = forms.ChoiceField(label=_("What is wrong"), choices=Objection.Kind.choices)
    description = forms.CharField(
        label=_("Description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What is wrong, and what the data should say instead."),
    )
    rows = forms.CharField(
        label=_("Rows objected to"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 4, "class": "mono"}),
        help_text=_(
            "One key per line (for a key of several columns, the values separated by commas); "
            "at most %(n)d rows. Leave empty to object to the resource as a whole."
        )
        % {"n": MAX_ROW_KEYS},
    )
    evidence = forms.FileField(
        label=_("Evidence"),
        required=False,
        help_text=_("PDF, JPG, PNG, Word (.docx) or Excel (.xlsx), at most 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.docx,.xlsx"}),
    )


class DecideForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept: hold a consultation")), ("reject", _("Reject"))],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("Reasons"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The requester and the provider see them."),
    )


class ConsultationForm(forms.Form):
    held_at = forms.DateTimeField(
        label=_("Held at"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
    )
    participants = forms.CharField(
        label=_("Participants"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Who took part for the bureau, the provider and the requester."),
    )
    minutes = forms.CharField(
        label=_("Minutes"), max_length=8000, widget=forms.Textarea(attrs={"rows": 5})
    )
    outcome = forms.ChoiceField(label=_("Agreed outcome"), choices=Objection.Outcome.choices)
    outcome_detail = forms.CharField(
        label=_("What is to be done"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For “reject”, why the objection is not upheld; it is then closed."),
    )


class ReportForm(forms.Form):
    report = forms.CharField(
        label=_("What was done"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "The rows objected to are read again from the data when you report, so the "
            "bureau and the requester see them before and after."
        ),
    )


class ReviewForm(forms.Form):
    action = forms.ChoiceField(
        label=_("Decision"),
        choices=[("close", _("Close")), ("return", _("Return to the provider"))],
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you return it to the provider."),
    )


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=_("State"), required=False, choices=[("", _("All states")), *S.choices]
    )
    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Objection.Kind.choices]
    )
    agency = forms.ModelChoiceField(
        label=_("Agency"),
        required=False,
        empty_label=_("All agencies"),
        queryset=Organization.objects.none(),
    )
    overdue = forms.BooleanField(label=_("Overdue only"), required=False)

    def __init__(self, *args, with_agency: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if with_agency:
            self.fields["agency"].queryset = Organization.objects.filter(
                kind__in=Organization.AGENCY_KINDS
            ).order_by("name")
        else:
            del self.fields["agency"]

    def filters(self) -> dict:
        if not self.is_bound or not self.is_valid():
            return {}
        data = self.cleaned_data
        return {
            "q": data.get("q") or "",
            "state": data.get("state") or "",
            "kind": data.get("kind") or "",
            "agency": data.get("agency"),
            "overdue": bool(data.get("overdue")),
        }


class TimeLimitsForm(forms.Form):
    """One field per procedure step (the quality issue's and the objection's): its time
    limit in working days."""

    def __init__(self, *args, current: dict[str, int], **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(TimeLimit.Key.choices)
        for key in LIMIT_KEYS:
            self.fields[key] = forms.IntegerField(
                label=labels[key],
                min_value=1,
                max_value=MAX_LIMIT_DAYS,
                initial=current[key],
                help_text=_("Working days"),
            )
