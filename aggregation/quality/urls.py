from django.urls import path

from . import views

app_name = "quality"

urlpatterns = [
    path("", views.board, name="board"),
    path("issues/", views.issue_list, name="issues"),
    path("issues/<int:pk>/", views.issue_detail, name="issue-detail"),
    path("issues/<int:pk>/answer/", views.issue_answer, name="issue-answer"),
    path("issues/<int:pk>/decide/", views.issue_decide, name="issue-decide"),
    path("resources/<int:pk>/", views.resource_quality, name="resource"),
    path("resources/<int:pk>/run/", views.run_request, name="run"),
    path("resources/<int:pk>/run-status/", views.run_status, name="run-status"),
    path("resources/<int:pk>/rules/", views.rule_create, name="rule-create"),
    path("resources/<int:pk>/rules/<int:rule_pk>/", views.rule_update, name="rule-update"),
    path("resources/<int:pk>/rules/<int:rule_pk>/toggle/", views.rule_toggle, name="rule-toggle"),
]
