"""The auditor's filters (django-filter): time range, actor, action, object, outcome."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import AuditEvent


class AuditEventFilter(django_filters.FilterSet):
    since = django_filters.DateFilter(
        label=pgettext_lazy("audit", "From"),
        field_name="occurred_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = django_filters.DateFilter(
        label=pgettext_lazy("audit", "To"),
        field_name="occurred_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    actor = django_filters.CharFilter(label=pgettext_lazy("audit", "Actor"), method="filter_actor")
    action = django_filters.CharFilter(
        label=pgettext_lazy("audit", "Action"), method="filter_action"
    )
    object = django_filters.CharFilter(
        label=pgettext_lazy("audit", "Object"), method="filter_object"
    )
    outcome = django_filters.ChoiceFilter(
        label=pgettext_lazy("audit", "Outcome"),
        choices=AuditEvent.Outcome.choices,
        empty_label=_("All outcomes"),
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["actor"].widget.attrs["placeholder"] = _("User name")
        self.form.fields["action"].widget.attrs["placeholder"] = _("e.g. auth.login")
        self.form.fields["object"].widget.attrs["placeholder"] = _("Type, id or name")
        for name in ("actor", "action", "object"):
            self.form.fields[name].max_length = 200

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(actor_label__icontains=value) if value else queryset

    def filter_action(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(action__startswith=value) if value else queryset

    def filter_object(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(object_type__icontains=value) | Q(object_id=value) | Q(object_label__icontains=value)
        )
