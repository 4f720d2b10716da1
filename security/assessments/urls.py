from django.urls import path

from . import views

urlpatterns = [
    path("", views.assessment_schedule, name="assessment-list"),
    path("overdue/", views.assessment_overdue, name="assessment-overdue"),
    path("<int:pk>/", views.assessment_detail, name="assessment-detail"),
    path("new/<slug:kind>/<str:subject_id>/", views.assessment_create, name="assessment-new"),
]
