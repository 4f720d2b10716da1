from django.urls import path

from . import views

app_name = "opendata"

urlpatterns = [
    path("", views.open_list, name="list"),
    path("<int:pk>/", views.open_detail, name="detail"),
    path("<int:pk>/download/<str:fmt>/", views.open_download, name="download"),
]
