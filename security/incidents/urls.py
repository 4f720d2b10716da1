from django.urls import path

from . import views

urlpatterns = [
    path("", views.incident_list, name="incident-list"),
    path("new/", views.incident_create, name="incident-new"),
    path("<int:pk>/", views.incident_detail, name="incident-detail"),
    path("<int:pk>/timeline/", views.incident_entry, name="incident-entry"),
    path("<int:pk>/resources/", views.incident_resources, name="incident-resources"),
    path("<int:pk>/move/", views.incident_move, name="incident-move"),
    path("plans/", views.plan_list, name="plan-list"),
    path("plans/new/", views.plan_create, name="plan-new"),
    path("plans/<int:pk>/", views.plan_detail, name="plan-detail"),
    path("plans/<int:pk>/edit/", views.plan_edit, name="plan-edit"),
    path("plans/<int:pk>/document/", views.plan_document, name="plan-document"),
    path(
        "plans/<int:pk>/document/<int:version>/",
        views.plan_document,
        name="plan-document-version",
    ),
    path("drills/", views.drill_list, name="drill-list"),
    path("drills/new/", views.drill_create, name="drill-new"),
    path("drills/<int:pk>/", views.drill_detail, name="drill-detail"),
]
