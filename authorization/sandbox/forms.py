"""Forms of the sandbox: ask for a session, decide it, filter the lists, and the aggregate
builder (choices only: never a piece of SQL)."""

from __future__ import annotations

import django_filters
from django import forms
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .engine import EPSILON_CHOICES, MAX_FILTERS
from .models import SandboxSession
from .selectors import bounds_key, resource_name


class SessionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    state = django_filters.ChoiceFilter(
        choices=SandboxSession.State.choices, label=pgettext_lazy("sandbox", "State")
    )

    overdue = django_filters.BooleanFilter(
        label=_("Overdue replies only"), method="filter_overdue", widget=forms.CheckboxInput
    )

    class Meta:
        model = SandboxSession
        fields = ["q", "state", "overdue"]

    def filter_overdue(self, qs, name, value):
        if not value:
            return qs
        return qs.filter(state=SandboxSession.State.SUBMITTED, step_deadline__lt=timezone.now())

    def search(self, qs, name, value):
        value = (value or "").replace("\x00", "").strip()[:100]
        if not value:
            return qs
        q = (
            Q(purpose__icontains=value)
            | Q(resources__published_version__name__icontains=value)
            | Q(organization__name__icontains=value)
            | Q(provider__name__icontains=value)
        )
        if value.lstrip("#").isdigit():
            q |= Q(pk=int(value.lstrip("#")))
        return qs.filter(q).distinct()


class SessionRequestForm(forms.Form):
    resources = forms.ModelMultipleChoiceField(
        label=_("Resources"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Resources of one provider, with data on the platform."),
    )
    purpose = forms.CharField(
        label=pgettext_lazy("sandbox", "Purpose"),
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=4000,
        help_text=_("What the analysis is for, and the duty or law it serves."),
    )
    valid_from = forms.DateField(
        label=_("Valid from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("Valid until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, resources=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resources"].queryset = resources
        self.fields["resources"].label_from_instance = lambda r: (
            f"{resource_name(r)} ({r.provider.name})"
        )


class ApproveForm(forms.Form):
    epsilon_total = forms.FloatField(
        label=_("Privacy budget (epsilon) of the session"),
        min_value=0.01,
        max_value=100,
        help_text=_(
            "Each query spends part of it; smaller means more noise and fewer queries. "
            "Every released figure carries calibrated noise."
        ),
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, numeric_items=(), **kwargs):
        """`numeric_items`: [(resource, SandboxItem)] that may get clamping bounds."""
        super().__init__(*args, **kwargs)
        self.fields["epsilon_total"].initial = settings.SANDBOX_EPSILON_TOTAL
        self.bound_pairs = []
        for resource, item in numeric_items:
            key = bounds_key(resource.pk, item.column)
            lo_name, hi_name = f"lo_{resource.pk}_{item.column}", f"hi_{resource.pk}_{item.column}"
            label = f"{resource_name(resource)} · {item.label}"
            self.fields[lo_name] = forms.FloatField(
                label=_("%(item)s: lower bound") % {"item": label}, required=False
            )
            self.fields[hi_name] = forms.FloatField(
                label=_("%(item)s: upper bound") % {"item": label}, required=False
            )
            self.bound_pairs.append((key, lo_name, hi_name))

    def bounds(self) -> dict:
        return {
            key: [self.cleaned_data.get(lo), self.cleaned_data.get(hi)]
            for key, lo, hi in self.bound_pairs
        }


class ReasonForm(forms.Form):
    comment = forms.CharField(
        label=_("Reasons"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3})
    )


FILTER_OPS = (
    ("", "—"),
    ("eq", pgettext_lazy("sandbox filter", "equals")),
    ("in", pgettext_lazy("sandbox filter", "one of (one value a line)")),
    ("range", pgettext_lazy("sandbox filter", "between")),
)


class BuilderForm(forms.Form):
    """The aggregate builder: a resource, a measure, up to three groups, up to five filters."""

    resource = forms.TypedChoiceField(label=_("Resource"), coerce=int)
    measure = forms.ChoiceField(label=pgettext_lazy("sandbox", "Measure"))
    value = forms.ChoiceField(label=_("Of the item"), required=False)
    group1 = forms.ChoiceField(label=_("Group by"), required=False)
    group2 = forms.ChoiceField(label=pgettext_lazy("sandbox", "then by"), required=False)
    group3 = forms.ChoiceField(label=pgettext_lazy("sandbox", "then by"), required=False)
    epsilon = forms.TypedChoiceField(
        label=_("Privacy budget of this query"),
        coerce=float,
        choices=[(e, f"{e:g}") for e in EPSILON_CHOICES],
        help_text=_("Spent from the session's budget; a larger share gives less noise."),
    )

    def __init__(self, *args, resources=(), items=(), measures=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [(r.pk, resource_name(r)) for r in resources]
        self.fields["measure"].choices = list(measures)
        numeric = [(i.column, i.label) for i in items if i.numeric and not i.masked]
        self.fields["value"].choices = [("", "—"), *numeric]
        groupable = [("", "—")] + [(i.column, i.label) for i in items if i.groupable]
        for name in ("group1", "group2", "group3"):
            self.fields[name].choices = groupable
        self.fields["epsilon"].initial = settings.SANDBOX_QUERY_EPSILON
        for n in range(1, MAX_FILTERS + 1):
            self.fields[f"f{n}_column"] = forms.ChoiceField(
                label=_("Filter %(n)d: item") % {"n": n}, required=False, choices=groupable
            )
            self.fields[f"f{n}_op"] = forms.ChoiceField(
                label=_("Filter %(n)d: how") % {"n": n}, required=False, choices=FILTER_OPS
            )
            self.fields[f"f{n}_value"] = forms.CharField(
                label=_("Filter %(n)d: value(s)") % {"n": n},
                required=False,
                max_length=4000,
                widget=forms.Textarea(attrs={"rows": 1}),
            )
            self.fields[f"f{n}_lo"] = forms.CharField(
                label=_("Filter %(n)d: from") % {"n": n}, required=False, max_length=200
            )
            self.fields[f"f{n}_hi"] = forms.CharField(
                label=_("Filter %(n)d: to") % {"n": n}, required=False, max_length=200
            )

    def filter_rows(self):
        """The filter fields, grouped per filter, for the template."""
        return [
            [self[f"f{n}_{part}"] for part in ("column", "op", "value", "lo", "hi")]
            for n in range(1, MAX_FILTERS + 1)
        ]

    def main_fields(self):
        return [self[n] for n in ("measure", "value", "group1", "group2", "group3", "epsilon")]

    def spec(self) -> dict:
        d = self.cleaned_data
        filters = []
        for n in range(1, MAX_FILTERS + 1):
            column, op = d.get(f"f{n}_column"), d.get(f"f{n}_op")
            if not column and not op:
                continue
            text = d.get(f"f{n}_value") or ""
            filters.append(
                {
                    "column": column,
                    "op": op,
                    "value": text.strip(),
                    "values": [v.strip() for v in text.splitlines() if v.strip()],
                    "lo": d.get(f"f{n}_lo") or "",
                    "hi": d.get(f"f{n}_hi") or "",
                }
            )
        return {
            "measure": d["measure"],
            "value": d.get("value") or None,
            "groups": [d.get(f"group{n}") for n in (1, 2, 3) if d.get(f"group{n}")],
            "filters": filters,
        }
