"""Read-only admin views of the aggregation records: every write goes through the services
(history, assessments, datastore), so the admin only looks."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Batch, Channel, DatastoreTable, DowntimeReport


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Channel)
class ChannelAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("name", "resource", "kind", "source_kind", "state")
    list_filter = ("kind", "state", "source_kind")
    search_fields = ("name", "resource__code")
    list_select_related = ("resource",)
    # The credential and the token digest never appear, not even here.
    exclude = ("secret", "token_hash")


@admin.register(Batch)
class BatchAdmin(ReadOnlyAdmin):
    list_display = (
        "pk",
        "channel",
        "mode",
        "status",
        "rows_received",
        "rows_rejected",
        "created_at",
    )
    list_filter = ("status", "mode")
    search_fields = ("channel__name", "channel__resource__code", "external_id")
    list_select_related = ("channel",)


@admin.register(DatastoreTable)
class DatastoreTableAdmin(ReadOnlyAdmin):
    list_display = ("table_name", "resource", "row_count", "last_loaded_at")
    search_fields = ("table_name", "resource__code")
    list_select_related = ("resource",)


@admin.register(DowntimeReport)
class DowntimeReportAdmin(ReadOnlyAdmin, SimpleHistoryAdmin):
    list_display = ("information_system", "kind", "starts_at", "ends_at", "cancelled_at")
    list_filter = ("kind",)
    search_fields = ("information_system__name", "description")
    list_select_related = ("information_system",)
