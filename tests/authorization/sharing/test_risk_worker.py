"""Item 7 through a real Celery worker: the volume check that beat runs daily flags a grant
whose rows exceed its declared daily volume by SHARING_VOLUME_FACTOR, and tells the
security administrator and the provider's data officer."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from authorization.sharing.models import Grant
from authorization.sharing.services import grant_issue, usage_record
from tests.accounts.factories import UserFactory
from tests.services import wait_for
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import today

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_the_volume_check_is_on_beats_schedule():
    assert settings.CELERY_BEAT_SCHEDULE["sharing.volume_check"]["task"] == "sharing.volume_check"
    assert settings.CELERY_BEAT_SCHEDULE["sharing.daily"]["task"] == "sharing.daily"


def test_the_worker_flags_a_grant_over_its_declared_volume(
    celery_worker, celery_app_on_spare_redis, resource, requester, provider, bureau
):
    from wuhan_pdr.celery import app

    security_admin = UserFactory(organization=bureau.org, roles=[Role.SECURITY_ADMIN])
    items = {i.pk: "clear" for i in resource.published_version.items.all()}

    def issue(declared):
        grant, _raw = grant_issue(
            resource=resource,
            grantee=requester.org,
            items=items,
            origin="share_request",
            valid_until=timezone.now() + dt.timedelta(days=30),
            declared_daily_rows=declared,
            acting_user=provider.admin,
        )
        return grant

    over, within = issue(100), issue(1000)
    yesterday = today() - dt.timedelta(days=1)
    usage_record(over, rows=301, calls=12, day=yesterday)  # > 3 x 100
    usage_record(within, rows=2999, calls=12, day=yesterday)  # < 3 x 1000
    app.send_task("sharing.volume_check")
    try:
        wait_for(
            lambda: Grant.objects.filter(pk=over.pk, flagged_at__isnull=False).exists(),
            timeout=60,
            interval=0.3,
            what="the volume flag",
        )
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    over.refresh_from_db()
    within.refresh_from_db()
    assert "301" in over.flag_reason
    assert within.flagged_at is None
    assert over.state == Grant.State.ACTIVE  # flagged, not suspended: people decide
    for user in (security_admin, provider.admin):
        assert Notification.objects.filter(
            recipient=user, url=f"/sharing/grants/{over.pk}/"
        ).exists()
    assert not Notification.objects.filter(url=f"/sharing/grants/{within.pk}/").exists()
