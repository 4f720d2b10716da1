from django.contrib import admin, messages
from django.utils.translation import gettext as _

from .models import BackgroundJob, CalendarDay, WorkflowEvent
from .workdays import years_needing_entries


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ("date", "kind", "name")
    list_filter = ("kind",)
    date_hierarchy = "date"
    search_fields = ("name",)

    def changelist_view(self, request, extra_context=None):
        for year in years_needing_entries():
            messages.warning(
                request,
                _(
                    "The holiday calendar does not know %(year)d yet: deadlines in %(year)d "
                    "count Monday to Friday as working days until you enter that year's "
                    "official holidays and make-up working days here."
                )
                % {"year": year},
            )
        return super().changelist_view(request, extra_context)


@admin.register(WorkflowEvent)
class WorkflowEventAdmin(admin.ModelAdmin):
    list_display = (
        "created_at",
        "content_type",
        "object_id",
        "transition",
        "from_state",
        "to_state",
        "actor",
    )
    list_filter = ("content_type", "transition")
    readonly_fields = [f.name for f in WorkflowEvent._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(BackgroundJob)
class BackgroundJobAdmin(admin.ModelAdmin):
    list_display = ("created_at", "task_name", "state", "attempts", "progress", "finished_at")
    list_filter = ("state", "task_name")
    readonly_fields = [f.name for f in BackgroundJob._meta.fields]

    def has_add_permission(self, request):
        return False
