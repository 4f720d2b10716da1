"""Pages of the registration app; each part keeps its own URL table."""

from django.urls import include, path

urlpatterns = [
    path("evidence/", include("registration.evidence.urls")),
    path("", include("registration.applications.urls")),
]
