"""Pages of the security chapter (Ch. 8). Each sub-package (audit, assessments, incidents,
backups, masking, zones) adds its own URLs here under a prefix of its own."""

from django.urls import include, path

app_name = "security"

urlpatterns: list = [
    path("masking/", include("security.masking.urls")),
    path("assessments/", include("security.assessments.urls")),
    path("incidents/", include("security.incidents.urls")),
    path("tools/", include("security.tools.urls")),
    path("audit/", include("security.audit.urls")),
    path("backups/", include("security.backups.urls")),
]
