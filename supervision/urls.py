"""Pages of the supervision app; each part keeps its own URL table."""

from django.urls import include, path

app_name = "supervision"

urlpatterns = [
    path("evaluation/", include("supervision.evaluation.urls")),
    path("orders/", include("supervision.rectification.urls")),
    path("disputes/", include("supervision.disputes.urls")),
    path("inspections/", include("supervision.inspections.urls")),
    path("", include("supervision.dashboard.urls")),
]
