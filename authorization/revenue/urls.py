"""Pages of operation revenue under /revenue/."""

from django.urls import path

from . import views

app_name = "revenue"

urlpatterns = [
    path("", views.revenue_list, name="list"),
    path("new/", views.revenue_create, name="create"),
    path("<int:pk>/", views.revenue_detail, name="detail"),
    path("<int:pk>/distribute/", views.distribution_edit, name="distribute"),
    path("<int:pk>/export.xlsx", views.revenue_export, name="export"),
    path("statements/", views.statement_list, name="statements"),
    path("statements/<int:pk>/", views.statement_detail, name="statement"),
    path("statements/<int:pk>/export.xlsx", views.statement_export, name="statement_export"),
]
