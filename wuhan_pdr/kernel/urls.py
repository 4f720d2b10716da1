from django.urls import path

from . import views
from .ledger import views as ledger_views

app_name = "kernel"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz/", views.healthz, name="healthz"),
    path("notifications/", views.notification_list, name="notifications"),
    path("notifications/<int:pk>/open/", views.notification_open, name="notification_open"),
    path("notifications/read-all/", views.notification_read_all, name="notification_read_all"),
    path("ledger/", ledger_views.ledger_heads, name="ledger_heads"),
    path("ledger/heads.json", ledger_views.ledger_heads_json, name="ledger_heads_json"),
    path("ledger/inclusion.json", ledger_views.ledger_inclusion_json, name="ledger_inclusion"),
    path(
        "ledger/consistency.json", ledger_views.ledger_consistency_json, name="ledger_consistency"
    ),
]
