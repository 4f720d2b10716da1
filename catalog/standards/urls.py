from django.urls import path

from . import views

app_name = "standards"

urlpatterns = [
    path("", views.element_list, name="elements"),
    path("export.xlsx", views.elements_export, name="elements_export"),
    path("import/", views.elements_import, name="elements_import"),
    path("elements/<path:identifier>/", views.element_detail, name="element"),
    path("code-lists/", views.code_list_list, name="code_lists"),
    path("code-lists/import/", views.code_list_import, name="code_list_import"),
    path(
        "code-lists/<path:identifier>/export.xlsx",
        views.code_list_export,
        name="code_list_export",
    ),
    path("code-lists/<path:identifier>/", views.code_list_detail, name="code_list"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request_edit"),
    path("requests/<int:pk>/action/", views.request_action, name="request_action"),
]
