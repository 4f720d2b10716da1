from django.urls import path

from . import views

app_name = "standards"

urlpatterns = [
    path("", views.element_list, name="elements"),
    path("elements/<path:identifier>/", views.element_detail, name="element"),
    path("code-lists/", views.code_list_list, name="code_lists"),
    path("code-lists/<path:identifier>/", views.code_list_detail, name="code_list"),
    path("requests/", views.request_list, name="requests"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request"),
    path("requests/<int:pk>/edit/", views.request_edit, name="request_edit"),
    path("requests/<int:pk>/action/", views.request_action, name="request_action"),
]
