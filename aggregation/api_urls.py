"""URLs of the ingestion API, included under /api/v1/ingest/ in the `api` namespace."""

from django.urls import path

from . import api

urlpatterns = [
    path("batches/", api.BatchOpen.as_view(), name="ingest-batches"),
    path("batches/<str:batch_id>/", api.BatchDetail.as_view(), name="ingest-batch"),
    path(
        "batches/<str:batch_id>/chunks/<str:number>/",
        api.ChunkPut.as_view(),
        name="ingest-chunk",
    ),
    path("batches/<str:batch_id>/commit/", api.BatchCommit.as_view(), name="ingest-commit"),
]
