"""The public disclosure pages (Art. 20) at /disclosures/, no login."""

from django.urls import path

from . import views

app_name = "disclosures"

urlpatterns = [
    path("", views.public_list, name="list"),
    path("feed.json", views.feed_json, name="feed_json"),
    path("feed.atom", views.feed_atom, name="feed_atom"),
    path("fees/", views.public_fees, name="fees"),
    path("<int:pk>/", views.public_detail, name="authorization"),
    path("operators/<int:pk>/", views.public_operator, name="operator"),
    path("reports/<int:pk>/", views.public_report, name="report"),
]
