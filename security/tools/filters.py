"""Filters of the data tool list (django-filter): a search, the state, the category, whether
the tool holds a valid pass, and the organization for those who see several."""

from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import DataTool


class DataToolFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q", max_length=100)
    state = django_filters.ChoiceFilter(
        label=pgettext_lazy("data tool", "State"),
        choices=DataTool.State.choices,
        empty_label=_("All"),
    )
    category = django_filters.ChoiceFilter(
        label=_("Category"), choices=DataTool.Category.choices, empty_label=_("All")
    )
    assessment = django_filters.ChoiceFilter(
        label=_("Assessment"),
        choices=[("valid", _("Valid pass")), ("none", _("No valid pass"))],
        empty_label=_("All"),
        method="filter_assessment",
    )
    organization = django_filters.ModelChoiceFilter(
        label=_("Organization"), queryset=None, empty_label=_("All")
    )

    class Meta:
        model = DataTool
        fields: list[str] = []

    def __init__(self, *args, organizations=None, **kwargs):
        super().__init__(*args, **kwargs)
        if organizations is None:
            del self.filters["organization"]
        else:
            self.filters["organization"].queryset = organizations

    def filter_q(self, queryset, name, value):
        value = value.strip().replace("\x00", "")
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(vendor__icontains=value)
            | Q(version__icontains=value)
            | Q(purpose__icontains=value)
            | Q(organization__name__icontains=value)
        )

    def filter_assessment(self, queryset, name, value):
        if value == "valid":
            return queryset.filter(has_pass=True)
        if value == "none":
            return queryset.filter(has_pass=False)
        return queryset
