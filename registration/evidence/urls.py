from django.urls import path

from . import views

app_name = "evidence"

urlpatterns = [
    path("", views.deposit_list, name="list"),
    path("new/", views.deposit_create, name="create"),
    path("verify/", views.verify, name="verify"),
    path("<str:public_id>/", views.deposit_detail, name="detail"),
    path("d/<str:public_id>/data/", views.deposit_download, name="download"),
    # The same, the file's name at the end (links: a browser and a crawler see a file).
    path("d/<str:public_id>/data/<str:name>", views.deposit_download, name="download_named"),
    path("d/<str:public_id>/bundle.json", views.deposit_bundle, name="bundle"),
]
