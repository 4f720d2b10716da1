"""Forms of authorized operation: input shape only; the services decide."""

from __future__ import annotations

import re

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from catalog.models import Classification, Resource
from wuhan_pdr.accounts.models import Division, Organization

from .models import FeeBasis, OperationAuthorization

SEARCH_MAX = 100
CODE_SPLIT = re.compile(r"[\s,，;；]+")


class _Cleaned(forms.Form):
    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, _("Null characters are not allowed."))
        return cleaned


class DateInput(forms.DateInput):
    input_type = "date"


class ApplyForm(_Cleaned):
    kind = forms.ChoiceField(
        label=pgettext_lazy("operation", "Kind"),
        choices=OperationAuthorization.Kind.choices,
        widget=forms.RadioSelect,
        initial=OperationAuthorization.Kind.INDIVIDUAL,
    )
    resource_codes = forms.CharField(
        label=_("Resource codes"),
        required=False,
        max_length=8000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Individual authorization: the catalog codes of the resources, separated by commas "
            "or new lines. Only resources eligible for authorized operation are accepted."
        ),
    )
    domain = forms.ModelChoiceField(
        label=_("Domain"),
        required=False,
        queryset=Classification.objects.order_by("code"),
        help_text=_("Whole authorization: every eligible resource of this domain ..."),
    )
    region = forms.ModelChoiceField(
        label=_("Region"),
        required=False,
        queryset=Division.objects.order_by("code"),
        help_text=_("... or of this region (choose one of the two)."),
    )
    scope = forms.CharField(
        label=_("Scope of operation"), max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )
    purpose = forms.CharField(
        label=pgettext_lazy("operation", "Purpose"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    security_measures = forms.CharField(
        label=_("Security measures"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )
    plan = forms.FileField(
        label=_("Implementation plan"),
        required=False,
        help_text=_(
            "Individual authorization: the plan drawn up with the providers, as PDF, Word "
            "(.docx) or OpenDocument (.odt)."
        ),
        widget=forms.FileInput(attrs={"accept": ".pdf,.docx,.odt"}),
    )
    starts_on = forms.DateField(label=_("Starts on"), widget=DateInput)
    ends_on = forms.DateField(label=_("Ends on"), widget=DateInput)

    def clean(self):
        cleaned = super().clean()
        codes = [c for c in CODE_SPLIT.split(cleaned.get("resource_codes") or "") if c]
        found = {r.code: r for r in Resource.objects.filter(code__in=codes[:500])}
        unknown = [c for c in codes if c not in found]
        if unknown:
            self.add_error(
                "resource_codes",
                _("No resource has the code %(codes)s.") % {"codes": ", ".join(unknown[:5])},
            )
        cleaned["resources"] = [found[c] for c in codes if c in found]
        return cleaned

    def service_fields(self) -> dict:
        d = self.cleaned_data
        return {
            k: d.get(k)
            for k in (
                "kind",
                "resources",
                "domain",
                "region",
                "scope",
                "purpose",
                "security_measures",
                "plan",
                "starts_on",
                "ends_on",
            )
        }


class DecisionForm(_Cleaned):
    action = forms.ChoiceField(label=pgettext_lazy("operation", "Decision"), choices=())
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when returning, refusing, suspending or revoking: the reasons."),
    )

    def __init__(self, *args, transitions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "—")] + [(t.name, t.label) for t in transitions]


class ConsentForm(_Cleaned):
    provider = forms.ModelChoiceField(label=_("Provider"), queryset=Organization.objects.none())
    note = forms.CharField(
        label=_("How the consent was given"),
        max_length=500,
        help_text=_("E.g. the signed plan, its date and the signatory."),
    )

    def __init__(self, *args, providers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].queryset = Organization.objects.filter(
            pk__in=[p.pk for p in providers]
        ).order_by("name")


class FilterForm(_Cleaned):
    q = forms.CharField(label=_("Search"), required=False)
    state = forms.ChoiceField(label=pgettext_lazy("operation", "State"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["state"].choices = [("", _("All"))] + OperationAuthorization.State.choices

    def cleaned(self) -> tuple[str, str]:
        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return (d.get("q") or "").replace("\x00", "")[:SEARCH_MAX], d.get("state") or ""


class PublicFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    state = forms.ChoiceField(label=pgettext_lazy("operation", "State"), required=False)
    kind = forms.ChoiceField(label=pgettext_lazy("operation", "Kind"), required=False)
    bureau = forms.ModelChoiceField(
        label=_("Authorizing bureau"), required=False, queryset=Organization.objects.none()
    )

    def __init__(self, *args, bureaus=None, **kwargs):
        super().__init__(*args, **kwargs)
        S = OperationAuthorization.State
        self.fields["state"].choices = [("", _("All"))] + [
            (s.value, s.label) for s in S if s in OperationAuthorization.DISCLOSED
        ]
        self.fields["kind"].choices = [("", _("All"))] + OperationAuthorization.Kind.choices
        if bureaus is not None:
            self.fields["bureau"].queryset = bureaus

    def to_query(self):
        from .selectors import DisclosureQuery

        self.is_valid()
        d = getattr(self, "cleaned_data", {})
        return DisclosureQuery(
            q=(d.get("q") or "").replace("\x00", "")[:SEARCH_MAX],
            state=d.get("state") or "",
            kind=d.get("kind") or "",
            bureau=d["bureau"].pk if d.get("bureau") else None,
        )


class ProductForm(_Cleaned):
    name = forms.CharField(label=pgettext_lazy("product", "Name"), max_length=200)
    description = forms.CharField(
        label=pgettext_lazy("product", "Description"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    resources = forms.ModelMultipleChoiceField(
        label=_("Resources used"),
        queryset=Resource.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    price = forms.DecimalField(
        label=pgettext_lazy("product", "Price (yuan)"),
        max_digits=14,
        decimal_places=4,
        min_value=0,
    )
    unit = forms.CharField(
        label=pgettext_lazy("product", "Unit"),
        max_length=50,
        help_text=_("E.g. 次, 条, 月, 份."),
    )
    fee_basis = forms.ChoiceField(label=_("Fee basis"), choices=FeeBasis.choices)

    def __init__(self, *args, resources=None, **kwargs):
        super().__init__(*args, **kwargs)
        if resources is not None:
            self.fields["resources"].queryset = resources
            self.fields["resources"].label_from_instance = lambda r: (
                f"{r.code} {r.published_version.name if r.published_version_id else ''}"
            )


class FeeCapForm(_Cleaned):
    basis = forms.ChoiceField(label=_("Fee basis"), choices=FeeBasis.choices)
    amount = forms.DecimalField(
        label=_("Fee cap (yuan)"), max_digits=14, decimal_places=4, min_value=0
    )
    rule = forms.CharField(
        label=_("Pricing rule"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class DisclosureDraftForm(_Cleaned):
    year = forms.IntegerField(label=pgettext_lazy("disclosure", "Year"), min_value=2000)
    body = forms.CharField(
        label=pgettext_lazy("disclosure", "Report"),
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_(
            "What the operator did with the data in the year: products and services, usage, "
            "revenue, security measures and incidents."
        ),
    )


class DisclosureMoveForm(DecisionForm):
    pass
