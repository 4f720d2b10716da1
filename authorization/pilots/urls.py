"""Pages of pilot scenarios under /pilots/ (the first one public)."""

from django.urls import path

from . import views

app_name = "pilots"

urlpatterns = [
    path("", views.public_list, name="public"),
    path("calls/", views.call_list, name="calls"),
    path("calls/new/", views.call_create, name="call_create"),
    path("calls/<int:pk>/", views.call_detail, name="call"),
    path("calls/<int:pk>/propose/", views.proposal_create, name="propose"),
    path("calls/<int:pk>/<slug:action>/", views.call_move, name="call_move"),
    path("proposals/<int:pk>/", views.proposal_detail, name="proposal"),
    path("proposals/<int:pk>/document/", views.proposal_document, name="document"),
    path("proposals/<int:pk>/score/", views.proposal_score, name="score"),
    path("proposals/<int:pk>/select/", views.proposal_select, name="select"),
    path("proposals/<int:pk>/withdraw/", views.proposal_withdraw, name="withdraw"),
]
