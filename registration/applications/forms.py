"""Forms of the registration procedure. They validate input; the services decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Registration

PHONE_HELP = _("A phone number or e-mail address where the registration body can reach you.")


class DepositChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        target = obj.resource.code if obj.resource_id else obj.get_kind_display()
        return f"{target} · {obj.created_at:%Y-%m-%d %H:%M} · {obj.data_sha256[:12]}…"


class ResourceChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.published_version.name}"


class _Fields(forms.Form):
    name = forms.CharField(
        label=pgettext_lazy("registration", "name"),
        max_length=200,
        required=False,
        help_text=_(
            "A data product's name; a catalog resource is registered under its catalog name."
        ),
    )
    description = forms.CharField(
        label=pgettext_lazy("registration", "description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    source_note = forms.CharField(
        label=pgettext_lazy("registration", "sources and processing"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    update_cycle = forms.CharField(
        label=pgettext_lazy("registration", "update cycle"), max_length=100, required=False
    )
    contact_name = forms.CharField(
        label=pgettext_lazy("registration", "contact person"), max_length=50
    )
    contact_phone = forms.CharField(
        label=pgettext_lazy("registration", "contact phone"), max_length=30
    )

    def service_fields(self) -> dict:
        fields = {
            k: self.cleaned_data[k]
            for k in ("description", "source_note", "update_cycle", "contact_name", "contact_phone")
        }
        if self.cleaned_data.get("name"):
            fields["name"] = self.cleaned_data["name"]
        return fields


class ApplyForm(_Fields):
    kind = forms.ChoiceField(
        label=pgettext_lazy("registration", "what is registered"),
        choices=Registration.Kind.choices,
    )
    resource = ResourceChoiceField(
        label=pgettext_lazy("registration", "resource"),
        queryset=None,
        required=False,
        help_text=_("A public or open data resource: one of your organization's catalog entries."),
    )
    deposit = DepositChoiceField(
        label=pgettext_lazy("registration", "evidence deposit"), queryset=None
    )
    field_order = ["kind", "resource", "deposit", "name"]

    def __init__(self, *args, resources, deposits, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = resources
        self.fields["deposit"].queryset = deposits

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == Registration.Kind.PRODUCT:
            if data.get("resource"):
                self.add_error("resource", _("A data product is described, not chosen."))
            if not data.get("name"):
                self.add_error("name", _("Give the product's name."))
        elif kind and not data.get("resource"):
            self.add_error("resource", _("Choose the catalog resource to register."))
        return data


class EditForm(_Fields):
    deposit = DepositChoiceField(
        label=pgettext_lazy("registration", "evidence deposit"), queryset=None
    )

    def __init__(self, *args, deposits, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deposit"].queryset = deposits


class MaterialForm(forms.Form):
    title = forms.CharField(label=pgettext_lazy("registration", "material"), max_length=200)
    file = forms.FileField(
        label=_("Document"), help_text=_("PDF, Word (.docx), OpenDocument (.odt), PNG or JPEG.")
    )


class MoveForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=4000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Sending back: list everything missing, as it is sent back only once. Refusing or"
            " cancelling: give the reason."
        ),
    )


class ObjectionForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("notice objection", "your name"), max_length=50)
    contact = forms.CharField(
        label=pgettext_lazy("notice objection", "phone or e-mail"),
        max_length=100,
        help_text=PHONE_HELP,
    )
    text = forms.CharField(
        label=pgettext_lazy("notice objection", "objection"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )

    def clean_contact(self):
        value = self.cleaned_data["contact"].strip()
        digits = sum(c.isdigit() for c in value)
        if "@" not in value and digits < 7:
            raise forms.ValidationError(_("Give a phone number or an e-mail address."))
        return value


class AnswerForm(forms.Form):
    answer = forms.CharField(
        label=pgettext_lazy("notice objection", "answer"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    upheld = forms.BooleanField(
        label=_("The objection is upheld (the registration may then be refused)"),
        required=False,
    )


class ChangeForm(forms.Form):
    description = forms.CharField(
        label=pgettext_lazy("registration", "description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    reason = forms.CharField(
        label=pgettext_lazy("registration change", "reason for the change"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    deposit = DepositChoiceField(
        label=pgettext_lazy("registration change", "new evidence deposit"), queryset=None
    )

    def __init__(self, *args, deposits, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["deposit"].queryset = deposits


class DecideForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class FilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    kind = forms.ChoiceField(
        label=pgettext_lazy("registration", "what is registered"),
        choices=[("", _("All"))] + list(Registration.Kind.choices),
        required=False,
    )
    state = forms.ChoiceField(
        label=pgettext_lazy("registration", "State"),
        choices=[("", _("All"))] + list(Registration.State.choices),
        required=False,
    )

    def filters(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


class PublicFilterForm(FilterForm):
    state = forms.ChoiceField(
        label=pgettext_lazy("registration", "State"),
        choices=[("", _("All"))]
        + [(s.value, s.label) for s in Registration.State if s in Registration.PUBLIC_STATES],
        required=False,
    )
