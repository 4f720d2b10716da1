from django.urls import path

from . import views

app_name = "sandbox"

urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.mine, name="mine"),
    path("review/", views.review, name="review"),
    path("request/", views.session_request, name="request"),
    path("<int:pk>/", views.session_detail, name="detail"),
    path("<int:pk>/approve/", views.session_approve, name="approve"),
    path("<int:pk>/refuse/", views.session_refuse, name="refuse"),
    path("<int:pk>/withdraw/", views.session_withdraw, name="withdraw"),
    path("<int:pk>/workspace/", views.workspace, name="workspace"),
    path("<int:pk>/queries/<int:query_pk>/", views.query_detail, name="query"),
    path(
        "<int:pk>/queries/<int:query_pk>/export.<str:fmt>",
        views.query_export,
        name="export",
    ),
]
