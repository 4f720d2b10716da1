from django.urls import path

from . import views

app_name = "objections"

urlpatterns = [
    path("", views.objection_index, name="index"),
    path("new/", views.objection_create, name="create"),
    path("mine/", views.objection_list, {"scope": "mine"}, name="mine"),
    path("bureau/", views.objection_list, {"scope": "bureau"}, name="bureau"),
    path("provider/", views.objection_list, {"scope": "provider"}, name="provider"),
    path("limits/", views.time_limits, name="limits"),
    path("<int:pk>/", views.objection_detail, name="detail"),
    path("<int:pk>/decide/", views.objection_decide, name="decide"),
    path("<int:pk>/consult/", views.objection_consult, name="consult"),
    path("<int:pk>/report/", views.objection_report, name="report"),
    path("<int:pk>/review/", views.objection_review, name="review"),
    path("<int:pk>/evidence/", views.objection_evidence, name="evidence"),
]
