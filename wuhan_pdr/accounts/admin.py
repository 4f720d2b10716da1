from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from guardian.admin import GuardedModelAdmin
from simple_history.admin import SimpleHistoryAdmin

from .models import Division, LegacyCreditCode, Organization, User


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin, GuardedModelAdmin):
    list_display = ("name", "kind", "division", "credit_code", "is_active")
    list_filter = ("kind", "division", "is_active")
    search_fields = ("name", "credit_code")


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    list_display = ("username", "full_name", "organization", "is_active")
    list_filter = ("is_active", "groups", "organization__kind")
    search_fields = ("username", "full_name", "email")
    fieldsets = BaseUserAdmin.fieldsets + (
        ("Organization", {"fields": ("full_name", "organization", "phone")}),
    )


@admin.register(Division)
class DivisionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "valid_from", "valid_to")
    list_filter = ("level",)
    search_fields = ("code", "name")


@admin.register(LegacyCreditCode)
class LegacyCreditCodeAdmin(admin.ModelAdmin):
    list_display = ("code", "note", "created_at")
    search_fields = ("code",)
