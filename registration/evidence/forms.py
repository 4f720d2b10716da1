"""Forms of registration.evidence."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Deposit


class DepositFilterForm(forms.Form):
    q = forms.CharField(label=pgettext_lazy("deposit", "Search"), required=False, max_length=100)
    state = forms.ChoiceField(
        label=pgettext_lazy("deposit", "State"),
        required=False,
        choices=[("", pgettext_lazy("deposit", "Any state")), *Deposit.State.choices],
    )
    kind = forms.ChoiceField(
        label=pgettext_lazy("deposit", "Covers"),
        required=False,
        choices=[("", pgettext_lazy("deposit", "Anything")), *Deposit.Kind.choices],
    )

    def cleaned(self) -> tuple[str, str, str]:
        if not self.is_valid():
            return "", "", ""
        d = self.cleaned_data
        return d["q"], d["state"], d["kind"]


class DepositForm(forms.Form):
    kind = forms.ChoiceField(
        label=pgettext_lazy("deposit", "What the deposit covers"),
        choices=Deposit.Kind.choices,
        widget=forms.RadioSelect,
    )
    resource = forms.ModelChoiceField(
        label=pgettext_lazy("deposit", "Resource"), queryset=None, required=False
    )
    title = forms.CharField(
        label=pgettext_lazy("deposit", "Product or service name"), max_length=200, required=False
    )
    description = forms.CharField(
        label=pgettext_lazy("deposit", "Description"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    upload = forms.FileField(label=pgettext_lazy("deposit", "Product file"), required=False)
    sources = forms.ModelMultipleChoiceField(
        label=pgettext_lazy("deposit", "Made from these deposits"),
        queryset=None,
        required=False,
        help_text=_("For a product: the deposits of the data it was made from."),
    )

    def __init__(self, *args, resources, sources, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources
        self.fields["resource"].label_from_instance = lambda r: (
            f"{r.code} {r.published_version.name if r.published_version else ''}"
        )
        self.fields["sources"].queryset = sources
        self.fields["sources"].label_from_instance = lambda d: (
            f"{d.get_kind_display()} · {d.holder.name} · {d.data_sha256[:16]}"
        )
        self.fields["kind"].choices = [c for c in Deposit.Kind.choices if c[0] in kinds]


class VerifyForm(forms.Form):
    """The server-side fallback: a file sent to be hashed here (size-limited, throttled)."""

    file = forms.FileField(label=pgettext_lazy("deposit", "File"))
