"""Forms of sharing. They check shapes (dates, numbers, lengths); the services check the
rules and name the field they refuse."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Delivery, ShareRequest
from .services import default_delivery


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


def _text(label, *, max_length, required=True, rows=None, help_text=""):
    widget = forms.Textarea(attrs={"rows": rows}) if rows else forms.TextInput()
    return forms.CharField(
        label=label,
        max_length=max_length,
        required=required,
        widget=widget,
        help_text=help_text,
    )


class EntrySearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=200, required=False)


class ShareRequestForm(forms.Form):
    items = forms.MultipleChoiceField(
        label=_("Data items needed"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Ask only for the items the scenario needs."),
    )
    scenario = _text(
        _("Application scenario"),
        max_length=2000,
        rows=3,
        help_text=_("The service or task the data is used in."),
    )
    basis_kind = forms.ChoiceField(
        label=_("Legal basis"), choices=ShareRequest.Basis.choices, widget=forms.RadioSelect
    )
    law_name = _text(_("Law or regulation"), max_length=200, required=False)
    law_article = _text(pgettext_lazy("sharing", "Article"), max_length=100, required=False)
    duty = _text(_("Official duty"), max_length=1000, required=False, rows=2)
    purpose = _text(pgettext_lazy("sharing", "Purpose"), max_length=2000, rows=3)
    period_start = forms.DateField(label=_("Period from"), widget=DateInput())
    period_end = forms.DateField(label=_("Period until"), widget=DateInput())
    expected_daily_rows = forms.IntegerField(
        label=_("Expected rows per day"), min_value=1, max_value=1_000_000_000
    )

    def __init__(self, *args, version, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["items"].choices = [
            (str(item.pk), f"{item.name} ({item.english_name})") for item in version.items.all()
        ]

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {name: d[name] for name in self.fields if name != "items"}

    def item_ids(self) -> list[int]:
        return [int(pk) for pk in self.cleaned_data["items"]]


def _ips(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


class DecideForm(forms.Form):
    """Per requested item: not granted, or its delivery form (default from its grade)."""

    valid_until = forms.DateField(
        label=_("Valid until"),
        widget=DateInput(),
        required=False,
        help_text=_("Empty: the end of the period asked for."),
    )
    rate_per_minute = forms.IntegerField(
        label=_("Calls per minute"), min_value=1, max_value=100_000
    )
    allowed_ips = _text(
        _("Allowed client addresses"),
        max_length=2000,
        required=False,
        rows=2,
        help_text=_("One address or network (CIDR) per line; empty: any address."),
    )
    reasons = _text(
        _("Reasons for the items not granted"),
        max_length=2000,
        required=False,
        rows=3,
    )

    def __init__(self, *args, request_items, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("rate_per_minute", settings.SHARING_DEFAULT_RATE_PER_MINUTE)
        super().__init__(*args, **kwargs)
        self.item_fields = []
        choices = [("", _("Not granted")), *Delivery.choices]
        for row in request_items:
            name = f"item_{row.item_id}"
            self.fields[name] = forms.ChoiceField(
                label=f"{row.item.name} ({row.item.english_name})",
                choices=choices,
                required=False,
                initial=default_delivery(row.item),
                help_text=_("Grade %(grade)s")
                % {"grade": row.item.grade or row.item.version.grade},
            )
            self.item_fields.append((row, name))
        # The item choices first, then the terms.
        self.order_fields([name for _row, name in self.item_fields])

    def deliveries(self) -> dict[int, str | None]:
        return {row.item_id: self.cleaned_data.get(name) or None for row, name in self.item_fields}

    def ips(self) -> list[str]:
        return _ips(self.cleaned_data.get("allowed_ips", ""))


class ReasonForm(forms.Form):
    reason = _text(_("Reasons"), max_length=2000, rows=3)


class RefuseForm(forms.Form):
    reasons = _text(_("Reasons for the refusal"), max_length=2000, rows=4)


class CoordinationForm(forms.Form):
    note = _text(_("Why the city bureau should coordinate"), max_length=2000, rows=4)


class RenewForm(forms.Form):
    valid_until = forms.DateField(label=_("New end of validity"), widget=DateInput())


class ReviewForm(forms.Form):
    note = _text(_("What the review found"), max_length=2000, rows=3)
