from django.urls import path

from . import views

app_name = "aggregation"

urlpatterns = [
    path("", views.channel_list, name="channels"),
    path("channels/new/", views.channel_create, name="channel-create"),
    path("channels/<int:pk>/", views.channel_detail, name="channel-detail"),
    path("channels/<int:pk>/edit/", views.channel_edit, name="channel-edit"),
    path("channels/<int:pk>/template.csv", views.channel_template, name="channel-template"),
    path("batches/<uuid:pk>/", views.batch_detail, name="batch-detail"),
    path("batches/<uuid:pk>/progress.json", views.batch_progress, name="batch-progress"),
    path("batches/<uuid:pk>/rejects.csv", views.batch_reject_file, name="batch-reject-file"),
    path("batches/<uuid:pk>/retry/", views.batch_retry, name="batch-retry"),
    path("batches/<uuid:pk>/confirm/", views.batch_confirm, name="batch-confirm"),
    path("batches/<uuid:pk>/discard/", views.batch_discard, name="batch-discard"),
    path("batches/<uuid:pk>/resend/", views.batch_resend, name="batch-resend"),
    path("resources/<int:resource_pk>/preview/", views.preview, name="preview"),
    path("board/", views.board, name="board"),
    path("downtime/", views.downtime_list, name="downtime"),
    path("downtime/new/", views.downtime_create, name="downtime-create"),
    path("downtime/<int:pk>/", views.downtime_detail, name="downtime-detail"),
]
