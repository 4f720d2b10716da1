from django.urls import path

from . import views

urlpatterns = [
    path("", views.tool_list, name="tool-list"),
    path("new/", views.tool_create, name="tool-new"),
    path("<int:pk>/", views.tool_detail, name="tool-detail"),
    path("<int:pk>/edit/", views.tool_edit, name="tool-edit"),
    path("<int:pk>/use/", views.tool_start_use, name="tool-use"),
    path("<int:pk>/suspend/", views.tool_suspend, name="tool-suspend"),
    path("<int:pk>/retire/", views.tool_retire, name="tool-retire"),
]
