"""Pages of the authorization app; each part keeps its own URL table."""

from django.urls import include, path

urlpatterns = [
    path("sharing/", include("authorization.sharing.urls")),
    path("open/", include("authorization.opendata.urls")),
    path("sandbox/", include("authorization.sandbox.urls")),
]
