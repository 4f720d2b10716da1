"""The public disclosure pages (Art. 20) at /disclosures/, no login."""

from django.urls import path  # noqa: F401

app_name = "disclosures"

urlpatterns: list = []
