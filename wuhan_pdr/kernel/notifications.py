"""The in-site notification inbox: writes and reads."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone

from .models import Notification


def notify(*, recipients: Iterable, title: str, body: str = "", url: str = "") -> int:
    """Put a message in the inbox of each recipient (each once). Returns how many."""
    seen, rows = set(), []
    for user in recipients:
        if user is None or user.pk in seen or not user.is_active:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, title=str(title)[:200], body=str(body), url=url))
    Notification.objects.bulk_create(rows)
    return len(rows)


def notification_list_for(user) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notification_mark_read(*, notification: Notification, acting_user) -> Notification:
    if notification.recipient_id != acting_user.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, acting_user) -> int:
    return Notification.objects.filter(recipient=acting_user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


def notifications_purge(*, older_than_days: int = 365) -> int:
    """Delete read notifications older than a year (beat, nightly)."""
    cutoff = timezone.now() - timezone.timedelta(days=older_than_days)
    deleted, _ = Notification.objects.filter(read_at__isnull=False, created_at__lt=cutoff).delete()
    return deleted
