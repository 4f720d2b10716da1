from django.urls import path

from . import views

urlpatterns = [
    path("", views.order_list, name="orders"),
    path("new/", views.order_create, name="order_create"),
    path("suggestions/", views.suggestion_list, name="suggestions"),
    path("suggestions/<int:pk>/confirm/", views.suggestion_confirm, name="suggestion_confirm"),
    path("suggestions/<int:pk>/dismiss/", views.suggestion_dismiss, name="suggestion_dismiss"),
    path("<int:pk>/", views.order_detail, name="order"),
    path("<int:pk>/action/", views.order_action, name="order_action"),
    path("<int:pk>/answer/", views.order_answer, name="order_answer"),
    path("<int:pk>/evidence/<int:evidence>/", views.evidence_download, name="order_evidence"),
]
