from django.urls import path

from . import views

urlpatterns = [
    path("", views.dispute_list, name="disputes"),
    path("new/", views.dispute_create, name="dispute_create"),
    path("<int:pk>/", views.dispute_detail, name="dispute"),
    path("<int:pk>/meeting/", views.dispute_meeting, name="dispute_meeting"),
    path(
        "<int:pk>/<slug:action>/",
        views.dispute_move,
        name="dispute_move",
    ),
]
