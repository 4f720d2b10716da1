from django.urls import path

from . import views

app_name = "standards"

urlpatterns = [
    path("", views.element_list, name="elements"),
    path("export.xlsx", views.elements_export, name="elements_export"),
    path("import/", views.elements_import, name="elements_import"),
    path("element-masking/<int:pk>/", views.element_masking, name="element_masking"),
    path("elements/<path:identifier>/", views.element_detail, name="element"),
    path("code-lists/", views.code_list_list, name="code_lists"),
    path("code-lists/import/", views.code_list_import, name="code_list_import"),
    # Code lists are addressed by id: identifiers such as "GB/T 2261.1-2003" carry spaces,
    # slashes and Chinese characters that a path would have to escape (or misread: a list
    # named "import").
    path("code-lists/<int:pk>/", views.code_list_detail, name="code_list"),
    path("code-lists/<int:pk>/export.xlsx", views.code_list_export, name="code_list_export"),
    # The earlier addresses by identifier redirect to the ones by id.
    path(
        "code-lists/<path:identifier>/export.xlsx",
        views.code_list_by_identifier,
        {"export": True},
        name="code_list_export_by_identifier",
    ),
    path(
        "code-lists/<path:identifier>/",
        views.code_list_by_identifier,
        name="code_list_by_identifier",
    ),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request_edit"),
    path("requests/<int:pk>/action/", views.request_action, name="request_action"),
    path("requests/<int:pk>/recount/", views.request_recount, name="request_recount"),
    path(
        "requests/<int:pk>/impact-status/",
        views.request_impact_status,
        name="request_impact_status",
    ),
]
