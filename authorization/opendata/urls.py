from django.urls import path

from . import views

app_name = "opendata"

urlpatterns = [
    path("", views.open_list, name="list"),
    path("<int:pk>/", views.open_detail, name="detail"),
    path("<int:pk>/download/<str:fmt>/", views.open_download, name="download"),
    path("<int:pk>/apply/", views.application_create, name="apply"),
    path("applications/", views.application_list, name="applications"),
    path("applications/<int:pk>/", views.application_detail, name="application"),
    path("applications/<int:pk>/key/", views.application_key, name="application_key"),
]
