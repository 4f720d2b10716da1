"""APIs of the authorization app under /api/v1/ (the supply API, the open-data API)."""

from django.urls import include, path

urlpatterns = [
    path("supply/", include("authorization.supply.urls")),
    path("open/", include("authorization.opendata.api_urls")),
]
