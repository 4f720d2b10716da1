from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Drill, EmergencyPlan, Incident


class _ReadOnly(SimpleHistoryAdmin):
    """Written through their pages (services check rights per organization); the admin only
    looks."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Incident)
class IncidentAdmin(_ReadOnly):
    list_display = ("title", "level", "category", "organization", "state", "occurred_at")
    list_filter = ("level", "state", "category")
    search_fields = ("title",)


@admin.register(EmergencyPlan)
class EmergencyPlanAdmin(_ReadOnly):
    list_display = ("title", "version", "organization", "valid_from", "valid_until")
    search_fields = ("title",)


@admin.register(Drill)
class DrillAdmin(_ReadOnly):
    list_display = ("title", "organization", "held_on", "plan")
    search_fields = ("title",)
