from django.urls import path

from . import api

app_name = "opendata_api"

urlpatterns = [
    path("resources/", api.OpenResourceList.as_view(), name="list"),
    path("resources/<int:pk>/", api.OpenResourceDetail.as_view(), name="detail"),
    path(
        "resources/<int:pk>/download/<str:fmt>/",
        api.OpenResourceDownload.as_view(),
        name="download",
    ),
]
