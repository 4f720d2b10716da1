from django.urls import path

from . import views

app_name = "bulk"

urlpatterns = [
    path("", views.filing_list, name="list"),
    path("template.xlsx", views.template_download, name="template"),
    path("upload/", views.filing_upload, name="upload"),
    path("<int:pk>/", views.filing_detail, name="detail"),
    path("<int:pk>/status.json", views.filing_status, name="status"),
    path("<int:pk>/marked.xlsx", views.marked_download, name="marked"),
]
