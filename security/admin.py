from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from .models import Grade


@admin.register(Grade)
class GradeAdmin(SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "rank",
        "may_share_unconditionally",
        "may_open_unconditionally",
        "may_open_conditionally",
        "masking_required",
        "storage_zone",
        "may_operate",
    )


from .assessments import admin as _assessments_admin  # noqa: E402,F401
from .incidents import admin as _incidents_admin  # noqa: E402,F401
