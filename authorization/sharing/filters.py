"""The list filters of sharing (django-filter): a search box and the state."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .models import Grant, ShareRequest


class _Search(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("Search"), method="filter_q")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.form.fields["q"].max_length = 200
        self.form.fields["q"].widget.attrs["placeholder"] = _("Resource, code or agency")

    def filter_q(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(self.search_q(value))


class ShareRequestFilter(_Search):
    state = django_filters.ChoiceFilter(
        label=pgettext_lazy("share request", "State"),
        choices=ShareRequest.State.choices,
        empty_label=_("All states"),
    )
    overdue = django_filters.BooleanFilter(
        label=_("Overdue replies only"),
        method="filter_overdue",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = ShareRequest
        fields: list[str] = []

    def search_q(self, value):
        return (
            Q(resource__code__icontains=value)
            | Q(version__name__icontains=value)
            | Q(requester__name__icontains=value)
            | Q(provider__name__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        from django.utils import timezone

        return queryset.filter(state=ShareRequest.State.PENDING, reply_due__lt=timezone.now())


class GrantFilter(_Search):
    state = django_filters.ChoiceFilter(
        label=pgettext_lazy("grant", "State"),
        choices=Grant.State.choices,
        empty_label=_("All states"),
    )
    flagged = django_filters.BooleanFilter(
        label=_("Flagged only"),
        method="filter_flagged",
        widget=forms.CheckboxInput,
    )

    class Meta:
        model = Grant
        fields: list[str] = []

    def search_q(self, value):
        return (
            Q(resource__code__icontains=value)
            | Q(resource__published_version__name__icontains=value)
            | Q(grantee__name__icontains=value)
            | Q(key_prefix__icontains=value)
        )

    def filter_flagged(self, queryset, name, value):
        return queryset.filter(flagged_at__isnull=False) if value else queryset
