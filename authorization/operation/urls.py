"""The operation workspace at /operation/ (signed in)."""

from django.urls import path

from . import views

app_name = "operation"

urlpatterns = [
    path("", views.authorization_list, name="list"),
    path("apply/", views.authorization_apply, name="apply"),
    path("authorizations/<int:pk>/", views.authorization_detail, name="detail"),
    path("authorizations/<int:pk>/plan/", views.authorization_plan, name="plan"),
    path("authorizations/<int:pk>/keys/<int:entry>/", views.grant_key, name="grant_key"),
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_edit, name="product_new"),
    path("products/<int:pk>/", views.product_edit, name="product_edit"),
    path("products/<int:pk>/withdraw/", views.product_withdraw, name="product_withdraw"),
    path("usage/", views.usage_report, name="usage"),
    path("fees/", views.fee_caps, name="fees"),
    path("disclosures/", views.disclosure_list, name="disclosures"),
    path("disclosures/<int:pk>/", views.disclosure_detail, name="disclosure"),
]
