"""Filters of the inspection list (django-filter): a search, the state (with "open"), the kind,
the matter covered, and the subject for those who see several."""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Area, Finding, Inspection, Kind


class InspectionFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q", max_length=100)
    state = django_filters.ChoiceFilter(
        label=pgettext_lazy("inspection", "state"),
        choices=[("open", _("Open")), *Inspection.State.choices],
        empty_label=_("All"),
        method="filter_state",
    )
    kind = django_filters.ChoiceFilter(
        label=pgettext_lazy("inspection", "kind"), choices=Kind.choices, empty_label=_("All")
    )
    area = django_filters.ChoiceFilter(
        label=pgettext_lazy("inspection", "scope"),
        choices=Area.choices,
        empty_label=_("All"),
        method="filter_area",
    )
    year = django_filters.NumberFilter(
        label=_("Year"), field_name="planned_start__year", min_value=2000, max_value=2100
    )

    class Meta:
        model = Inspection
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        value = value.replace("\x00", "").strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(subject__name__icontains=value)
            | Q(
                Exists(
                    Finding.objects.filter(inspection=OuterRef("pk"), description__icontains=value)
                )
            )
        )

    def filter_state(self, queryset, name, value):
        if value == "open":
            return queryset.filter(state__in=Inspection.OPEN_STATES)
        return queryset.filter(state=value)

    def filter_area(self, queryset, name, value):
        return queryset.filter(scope__contains=[value])
