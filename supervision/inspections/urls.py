from django.urls import path

from . import views

urlpatterns = [
    path("", views.inspection_list, name="inspections"),
    path("new/", views.inspection_create, name="inspection_create"),
    path("<int:pk>/", views.inspection_detail, name="inspection"),
    path("<int:pk>/action/", views.inspection_action, name="inspection_action"),
    path("<int:pk>/findings/", views.finding_create, name="finding_create"),
    path("<int:pk>/findings.xlsx", views.findings_export, name="findings_export"),
    path("<int:pk>/findings/<int:finding>/order/", views.finding_order, name="finding_order"),
    path(
        "<int:pk>/findings/<int:finding>/no-action/",
        views.finding_no_action,
        name="finding_no_action",
    ),
    path("<int:pk>/evidence/<int:evidence>/", views.evidence_download, name="inspection_evidence"),
]
