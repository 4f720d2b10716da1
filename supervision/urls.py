"""Pages of the supervision app; each part keeps its own URL table."""

from django.urls import include, path  # noqa: F401

urlpatterns: list = []
