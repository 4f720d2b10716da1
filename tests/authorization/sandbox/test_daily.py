"""The sandbox's daily job (beat "sandbox.daily"), like share requests' overdue replies: a
session whose provider has not replied by its due time is overdue in the queues (the
provider's and the city bureau's) and flagged once, with the provider's data officers and the
requester told; a session whose validity window has ended (approved, or never decided) is
closed as expired, and its builder answers 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from authorization.sandbox import services
from authorization.sandbox.models import SandboxSession
from tests.aggregation.test_views import client
from tests.authorization.sandbox.factories import make_resource, make_world, submit
from tests.catalog.factories import make_agency, make_city_bureau
from wuhan_pdr.kernel.models import Notification, WorkflowEvent

pytestmark = pytest.mark.django_db
S = SandboxSession.State


def _notified(user, session) -> int:
    url = reverse("sandbox:detail", kwargs={"pk": session.pk})
    return Notification.objects.filter(recipient=user, url=url).count()


def test_an_overdue_reply_is_flagged_once_and_shown_in_the_queues():
    setup = make_resource()
    requester = make_agency().staff
    session = submit(setup, requester)
    officer, bureau = setup.agency.admin, make_city_bureau().reviewer
    detail = reverse("sandbox:detail", kwargs={"pk": session.pk})
    # Not yet due: nothing flagged, nothing in the bureau's queue.
    assert services.sessions_flag_overdue(now=session.step_deadline - dt.timedelta(minutes=1)) == 0
    assert detail not in client(bureau).get("/").text
    told_before = _notified(officer, session)

    SandboxSession.objects.filter(pk=session.pk).update(
        step_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    now = timezone.now()
    assert services.sessions_flag_overdue(now=now) == 1
    assert services.sessions_flag_overdue(now=now + dt.timedelta(days=1)) == 0  # once
    session.refresh_from_db()
    assert session.overdue_flagged_at == now and session.is_overdue
    assert _notified(officer, session) == told_before + 1
    assert _notified(requester, session) == 1

    # The provider's queue marks it overdue; the city bureau's queue lists it and its page opens.
    for user in (officer, bureau):
        home = client(user).get("/").text
        item = home[home.index(detail) - 600 : home.index(detail) + 600]
        assert "overdue" in item, user
    assert client(bureau).get(detail).status_code == 200
    # The bureau follows the session but neither decides it nor queries in it.
    assert client(bureau).post(reverse("sandbox:approve", args=[session.pk]), {}).status_code == 404
    # The lists mark it too, and filter on it; another agency still gets 404.
    assert "tag-bad" in client(officer).get(reverse("sandbox:review")).text
    listed = client(officer).get(reverse("sandbox:review"), {"overdue": "on"})
    assert [s.pk for s in listed.context["page_obj"].object_list] == [session.pk]
    current = make_world(rows=None)
    assert current.session.pk not in [
        s.pk
        for s in client(current.officer)
        .get(reverse("sandbox:review"), {"overdue": "on"})
        .context["page_obj"]
        .object_list
    ]
    assert client(make_agency().admin).get(detail).status_code == 404
    # A decided session is no longer overdue anywhere.
    services.session_refuse(session=session, reason="用途不明确", acting_user=officer)
    assert detail not in client(bureau).get("/").text


def test_sessions_past_their_window_are_closed():
    world = make_world()
    current = make_world()
    other = make_resource()
    undecided = submit(other, make_agency().staff)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    SandboxSession.objects.filter(pk__in=[world.session.pk, undecided.pk]).update(
        valid_from=yesterday - dt.timedelta(days=10), valid_until=yesterday
    )
    assert services.sessions_expire() == 2
    assert services.sessions_expire() == 0
    for session in (world.session, undecided, current.session):
        session.refresh_from_db()
    assert (world.session.state, undecided.state, current.session.state) == (
        S.EXPIRED,
        S.EXPIRED,
        S.APPROVED,
    )
    assert WorkflowEvent.objects.filter(
        transition="expire", object_id=str(world.session.pk), actor__isnull=True
    ).exists()
    assert _notified(world.requester, world.session) >= 1
    assert _notified(undecided.requester, undecided) >= 1
    # The builder is closed; the page stays, naming the state.
    c = client(world.requester)
    assert c.get(reverse("sandbox:workspace", args=[world.session.pk])).status_code == 404
    page = c.get(reverse("sandbox:detail", args=[world.session.pk]))
    assert page.status_code == 200 and world.session.get_state_display() in page.text
    # Nobody may approve a session whose window has ended.
    approve = reverse("sandbox:approve", args=[undecided.pk])
    assert client(other.agency.admin).post(approve, {"epsilon_total": "1"}).status_code == 404


def test_the_daily_job_is_on_beats_schedule_and_reports_both_counts():
    assert settings.CELERY_BEAT_SCHEDULE["sandbox.daily"]["task"] == "sandbox.daily"
    from wuhan_pdr.celery import app

    assert "sandbox.daily" in app.tasks
    setup = make_resource()
    late = submit(setup, make_agency().staff)
    SandboxSession.objects.filter(pk=late.pk).update(
        step_deadline=timezone.now() - dt.timedelta(days=1)
    )
    assert services.sandbox_daily() == {"overdue_sessions": 1, "expired_sessions": 0}
