"""Pages of the security chapter (Ch. 8). Each sub-package (audit, assessments, incidents,
backups, masking, zones) adds its own URLs here under a prefix of its own."""

from django.urls import include, path  # noqa: F401

app_name = "security"

urlpatterns: list = [
    path("masking/", include("security.masking.urls")),
]
