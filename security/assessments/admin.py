from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Assessment, ChecklistAnswer


class ChecklistAnswerInline(admin.TabularInline):
    model = ChecklistAnswer
    extra = 0
    can_delete = False
    readonly_fields = ("position", "key", "question", "answer", "note")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    """Assessments are recorded through their pages (services check the rules); the admin
    only looks."""

    list_display = ("subject_title", "subject_kind", "assessed_on", "result", "valid_until")
    list_filter = ("subject_kind", "result", "is_current")
    search_fields = ("subject_title",)
    inlines = [ChecklistAnswerInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
