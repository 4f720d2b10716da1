from django.urls import path

from . import views

app_name = "registration"

urlpatterns = [
    path("", views.public_register, name="register"),
    path("r/<uuid:public_id>/", views.public_detail, name="public-detail"),
    path("r/<uuid:public_id>/objection/", views.objection_lodge, name="objection-lodge"),
    path("certificate/<str:code>/", views.certificate, name="certificate"),
    path("applications/", views.application_list, name="applications"),
    path("applications/new/", views.application_new, name="apply"),
    path("applications/<int:pk>/", views.application_detail, name="detail"),
    path("applications/<int:pk>/edit/", views.application_edit, name="edit"),
    path("applications/<int:pk>/materials/", views.material_add, name="material-add"),
    path(
        "applications/<int:pk>/materials/<int:material_pk>/",
        views.material_download,
        name="material",
    ),
    path("applications/<int:pk>/move/", views.application_move, name="move"),
    path(
        "applications/<int:pk>/objections/<int:objection_pk>/answer/",
        views.objection_answer,
        name="objection-answer",
    ),
    path("applications/<int:pk>/change/", views.change_new, name="change"),
    path(
        "applications/<int:pk>/changes/<int:change_pk>/decide/",
        views.change_decide,
        name="change-decide",
    ),
]
