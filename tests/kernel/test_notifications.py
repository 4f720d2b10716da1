"""The in-site inbox: who gets a message, and who may see and open it."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.accounts.factories import UserFactory
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.notifications import (
    notification_mark_read,
    notifications_mark_all_read,
    notifications_purge,
    notify,
    unread_count,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice(agency_a):
    return UserFactory(username="alice", organization=agency_a)


@pytest.fixture
def bob(agency_a):
    return UserFactory(username="bob", organization=agency_a)


def test_notify_gives_each_recipient_one_message(alice, bob):
    sent = notify(
        recipients=[alice, bob, alice, None, bob], title="审核通过", body="已通过", url="/x/"
    )
    assert sent == 2
    assert Notification.objects.filter(recipient=alice).count() == 1
    assert Notification.objects.filter(recipient=bob).count() == 1
    message = Notification.objects.get(recipient=alice)
    assert (message.title, message.body, message.url) == ("审核通过", "已通过", "/x/")


def test_notify_skips_inactive_users(alice, agency_a):
    gone = UserFactory(organization=agency_a, is_active=False)
    assert notify(recipients=[gone, alice], title="hello") == 1
    assert not Notification.objects.filter(recipient=gone).exists()


def test_notify_cuts_overlong_titles_to_the_column(alice):
    notify(recipients=[alice], title="长" * 500)
    assert Notification.objects.get(recipient=alice).title == "长" * 200


def test_unread_count_counts_only_own_unread_messages(alice, bob):
    notify(recipients=[alice], title="one")
    notify(recipients=[alice], title="two")
    notify(recipients=[bob], title="bob's")
    first = Notification.objects.filter(recipient=alice).first()
    notification_mark_read(notification=first, acting_user=alice)

    assert unread_count(alice) == 1
    assert unread_count(bob) == 1


def test_unread_count_of_anonymous_visitor_is_zero():
    from django.contrib.auth.models import AnonymousUser

    assert unread_count(AnonymousUser()) == 0


def test_marking_someone_elses_message_read_is_refused(alice, bob):
    notify(recipients=[bob], title="bob's")
    message = Notification.objects.get(recipient=bob)
    with pytest.raises(Notification.DoesNotExist):
        notification_mark_read(notification=message, acting_user=alice)
    message.refresh_from_db()
    assert message.read_at is None


def test_mark_all_read_touches_only_own_messages(alice, bob):
    notify(recipients=[alice, bob], title="both")
    notify(recipients=[alice], title="alice only")
    assert notifications_mark_all_read(acting_user=alice) == 2
    assert unread_count(alice) == 0
    assert unread_count(bob) == 1


def test_purge_deletes_only_old_read_messages(alice):
    notify(recipients=[alice], title="old read")
    notify(recipients=[alice], title="old unread")
    notify(recipients=[alice], title="new read")
    long_ago = timezone.now() - dt.timedelta(days=400)
    Notification.objects.filter(title__startswith="old").update(created_at=long_ago)
    Notification.objects.exclude(title="old unread").update(read_at=timezone.now())

    assert notifications_purge() == 1
    assert set(Notification.objects.values_list("title", flat=True)) == {"old unread", "new read"}


# --- the inbox pages --------------------------------------------------------------------------


def test_inbox_lists_only_own_messages(alice, bob, login):
    notify(recipients=[alice], title="for alice")
    notify(recipients=[bob], title="for bob")

    response = login(alice).get("/notifications/")

    assert response.status_code == 200
    titles = [n.title for n in response.context["page_obj"]]
    assert titles == ["for alice"]


def test_inbox_can_show_unread_only(alice, login):
    notify(recipients=[alice], title="read one")
    notify(recipients=[alice], title="unread one")
    Notification.objects.filter(title="read one").update(read_at=timezone.now())

    response = login(alice).get("/notifications/", {"show": "unread"})

    assert [n.title for n in response.context["page_obj"]] == ["unread one"]
    assert response.context["show"] == "unread"


def test_inbox_needs_sign_in(client):
    response = client.get("/notifications/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_opening_own_message_marks_it_read_and_follows_its_link(alice, login):
    notify(recipients=[alice], title="go", url="/organizations/")
    message = Notification.objects.get(recipient=alice)

    response = login(alice).post(f"/notifications/{message.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/organizations/"
    message.refresh_from_db()
    assert message.read_at is not None


def test_opening_a_message_with_an_outside_link_stays_in_the_inbox(alice, login):
    notify(recipients=[alice], title="phish", url="https://evil.example.com/")
    message = Notification.objects.get(recipient=alice)

    response = login(alice).post(f"/notifications/{message.pk}/open/")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"


def test_opening_another_users_message_is_not_found(alice, bob, login):
    notify(recipients=[bob], title="bob's")
    message = Notification.objects.get(recipient=bob)

    response = login(alice).post(f"/notifications/{message.pk}/open/")

    assert response.status_code == 404
    message.refresh_from_db()
    assert message.read_at is None


def test_opening_a_message_needs_post(alice, login):
    notify(recipients=[alice], title="x")
    message = Notification.objects.get(recipient=alice)
    assert login(alice).get(f"/notifications/{message.pk}/open/").status_code == 405


def test_read_all_page_marks_all_own_messages_read(alice, bob, login):
    notify(recipients=[alice, bob], title="both")
    notify(recipients=[alice], title="again")

    response = login(alice).post("/notifications/read-all/")

    assert response.status_code == 302
    assert response["Location"] == "/notifications/"
    assert unread_count(alice) == 0
    assert unread_count(bob) == 1
