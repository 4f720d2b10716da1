from django.urls import path

from . import views

urlpatterns = [
    path("", views.plan_list, name="plans"),
    path("new/", views.plan_create, name="plan_create"),
    path("mine/", views.my_results, name="my_results"),
    path("<int:pk>/", views.plan_detail, name="plan"),
    path("<int:pk>/run/", views.plan_run, name="plan_run"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/publish/", views.run_publish, name="run_publish"),
    path("runs/<int:pk>/report.xlsx", views.run_report, name="run_report"),
    path("runs/<int:pk>/agencies/<int:agency>/", views.run_agency, name="run_agency"),
    path("runs/<int:pk>/agencies/<int:agency>/<slug:key>/", views.run_records, name="run_records"),
    path("copies/<int:pk>/", views.copy_download, name="copy"),
]
