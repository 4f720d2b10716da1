"""The data supply API under /api/v1/supply/ (api.py)."""

from django.urls import path

from . import api

app_name = "supply"

urlpatterns = [
    path("<str:resource>/rows/", api.RowsView.as_view(), name="rows"),
    path("<str:resource>/rows.csv", api.RowsCsvView.as_view(), name="rows-csv"),
    path("<str:resource>/count/", api.CountView.as_view(), name="count"),
]
