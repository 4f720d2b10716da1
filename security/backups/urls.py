from django.urls import path

from . import views

app_name = "backups"

urlpatterns = [
    path("", views.index, name="index"),
    path("drills/", views.drills, name="drills"),
    path("run/", views.run_backup, name="run"),
    path("drill/", views.run_drill, name="drill"),
    path("status/", views.status, name="status"),
]
