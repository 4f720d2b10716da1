from django.urls import path

from . import views

app_name = "filing"

urlpatterns = [
    path("", views.home, name="home"),
    path("systems/", views.system_list, name="systems"),
    path("systems/new/", views.system_create, name="system_create"),
    path("systems/<int:pk>/", views.system_detail, name="system"),
    path("systems/<int:pk>/edit/", views.system_edit, name="system_edit"),
    path("census/", views.census_board, name="census"),
    path("campaigns/", views.campaign_list, name="campaigns"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("campaigns/<int:pk>/action/", views.campaign_action, name="campaign_action"),
    path("campaigns/<int:pk>/confirm/", views.campaign_confirm, name="campaign_confirm"),
    path("projects/", views.project_list, name="projects"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/edit/", views.project_edit, name="project_edit"),
    path("projects/<int:pk>/action/", views.project_action, name="project_action"),
    path("projects/<int:pk>/entries/", views.project_entry_add, name="project_entry_add"),
    path(
        "projects/<int:pk>/entries/<int:entry_pk>/link/",
        views.project_entry_link,
        name="project_entry_link",
    ),
    path(
        "projects/<int:pk>/entries/<int:entry_pk>/remove/",
        views.project_entry_remove,
        name="project_entry_remove",
    ),
    path("collection/", views.collection_list, name="collection"),
    path("collection/new/", views.collection_create, name="collection_create"),
    path("collection/export.xlsx", views.collection_export, name="collection_export"),
    path("collection/<int:pk>/edit/", views.collection_edit, name="collection_edit"),
    path("collection/<int:pk>/delete/", views.collection_delete, name="collection_delete"),
]
