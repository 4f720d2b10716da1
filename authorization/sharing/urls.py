"""Pages of sharing under /sharing/."""

from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "sharing"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="sharing:requests"), name="home"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_choose, name="request_choose"),
    path("requests/new/<int:resource_id>/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/decide/", views.request_decide, name="request_decide"),
    path("requests/<int:pk>/refuse/", views.request_refuse, name="request_refuse"),
    path("requests/<int:pk>/withdraw/", views.request_withdraw, name="request_withdraw"),
    path(
        "requests/<int:pk>/coordination/",
        views.request_coordination,
        name="request_coordination",
    ),
    path("review/", views.review_list, name="review"),
    path("grants/", views.grant_list, name="grants"),
    path("usage/", views.data_usage, name="data_usage"),
    path("risk/", views.risk_review, name="risk"),
    path("grants/<int:pk>/", views.grant_detail, name="grant"),
    path("grants/<int:pk>/key/", views.grant_key, name="grant_key"),
    path("grants/<int:pk>/renew/", views.grant_renew, name="grant_renew"),
    path("grants/<int:pk>/review/", views.grant_review, name="grant_review"),
    path("grants/<int:pk>/<slug:action>/", views.grant_move, name="grant_move"),
]
