from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Classification, Resource, ResourceVersion


@admin.register(Classification)
class ClassificationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "tree", "parent")
    list_filter = ("tree",)
    search_fields = ("code", "name")


@admin.register(Resource)
class ResourceAdmin(admin.ModelAdmin):
    list_display = ("code", "provider", "published_version", "retired_at")
    search_fields = ("code",)
    list_select_related = ("provider", "published_version")
    readonly_fields = (
        "code",
        "provider",
        "classification",
        "sequence",
        "published_version",
        "created_by",
    )

    def has_add_permission(self, request):
        return False


@admin.register(ResourceVersion)
class ResourceVersionAdmin(SimpleHistoryAdmin):
    list_display = ("name", "resource", "number", "state", "step_deadline")
    list_filter = ("state",)
    search_fields = ("name", "resource__code")
    list_select_related = ("resource",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
