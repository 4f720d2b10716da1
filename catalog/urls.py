from django.urls import include, path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.catalog_list, name="list"),
    path("export.xlsx", views.catalog_export, name="export"),
    path("resources/<int:pk>/", views.resource_detail, name="resource"),
    path("resources/<int:pk>/versions/", views.resource_versions, name="resource_versions"),
    path("resources/<int:pk>/revise/", views.resource_revise, name="resource_revise"),
    path("new/", views.version_create, name="version_create"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/edit/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/action/", views.version_action, name="version_action"),
    path("versions/<int:pk>/masking/", views.version_masking, name="version_masking"),
    path("mine/", views.my_resources, name="mine"),
    path("review/", views.review_list, name="review"),
    path("feedback/", views.feedback_list, name="feedback_list"),
    path("feedback/new/", views.feedback_create, name="feedback_create"),
    path("feedback/<int:pk>/", views.feedback_detail, name="feedback"),
    path("releases/", views.release_list, name="releases"),
    path("releases/<int:pk>/", views.release_detail, name="release"),
    path("bulk/", include("catalog.bulk.urls")),
]
