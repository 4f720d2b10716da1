from django.urls import path

from . import views

urlpatterns = [
    path("", views.rule_list, name="masking-rules"),
    path("new/", views.rule_create, name="masking-rule-create"),
    path("<int:pk>/", views.rule_detail, name="masking-rule"),
]
