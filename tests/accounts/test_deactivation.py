"""Deactivating a user: it cannot sign in, its API token is revoked, and ending its open
sessions is recorded as a background job in the same transaction as the change."""

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.accounts.factories import DEFAULT_PASSWORD
from wuhan_pdr.accounts import services
from wuhan_pdr.accounts.tasks import end_user_sessions
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.jobs import job_run
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = pytest.mark.django_db


def sessions_of(user) -> list[str]:
    return [
        s.session_key
        for s in Session.objects.all()
        if s.get_decoded().get("_auth_user_id") == str(user.pk)
    ]


def test_deactivation_records_the_session_job_and_sends_it_after_commit(
    admin_a, staff_a, django_capture_on_commit_callbacks
):
    token = services.api_token_regenerate(acting_user=staff_a)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.user_deactivate(user=staff_a, acting_user=admin_a, reason="调岗")

    staff_a.refresh_from_db()
    assert staff_a.is_active is False
    assert not Token.objects.filter(key=token.key).exists()
    job = BackgroundJob.objects.get()
    assert (job.task_name, job.kwargs, job.state) == (
        "accounts.end_user_sessions",
        {"user_id": staff_a.pk},
        BackgroundJob.State.PENDING,
    )
    assert job.created_by == admin_a
    assert len(callbacks) == 1  # job_send, run only once the change is committed


def test_deactivation_rolled_back_leaves_neither_change_nor_job(admin_a, staff_a):
    Token.objects.create(user=staff_a)

    with pytest.raises(RuntimeError), transaction.atomic():
        services.user_deactivate(user=staff_a, acting_user=admin_a)
        raise RuntimeError("something after it failed")

    staff_a.refresh_from_db()
    assert staff_a.is_active is True
    assert Token.objects.filter(user=staff_a).exists()
    assert not BackgroundJob.objects.exists()


def test_deactivating_twice_is_refused(admin_a, staff_a):
    services.user_deactivate(user=staff_a, acting_user=admin_a)
    with pytest.raises(DomainError):
        services.user_deactivate(user=staff_a, acting_user=admin_a)
    assert BackgroundJob.objects.count() == 1


def test_deactivated_user_cannot_sign_in(admin_a, staff_a):
    services.user_deactivate(user=staff_a, acting_user=admin_a)
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "staff_a", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_deactivated_users_open_session_no_longer_works(admin_a, staff_a, login):
    browser = login(staff_a)
    assert browser.get("/api/v1/me/").status_code == 200

    services.user_deactivate(user=staff_a, acting_user=admin_a)

    assert browser.get("/api/v1/me/").status_code in (401, 403)


def test_deactivated_users_token_no_longer_works(admin_a, staff_a):
    token = services.api_token_regenerate(acting_user=staff_a)
    api = Client(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.get("/api/v1/me/").status_code == 200

    services.user_deactivate(user=staff_a, acting_user=admin_a)

    assert api.get("/api/v1/me/").status_code in (401, 403)


def test_session_job_ends_only_the_deactivated_users_sessions(admin_a, staff_a, login):
    login(staff_a)
    login(staff_a)  # two browsers
    login(admin_a)
    assert len(sessions_of(staff_a)) == 2

    services.user_deactivate(user=staff_a, acting_user=admin_a)
    job = BackgroundJob.objects.get()

    assert job_run(job_id=str(job.pk)) == "done"
    assert sessions_of(staff_a) == []
    assert len(sessions_of(admin_a)) == 1
    # A second delivery of the same job does nothing.
    assert job_run(job_id=str(job.pk)) == "skipped"


def test_ending_sessions_is_safe_to_run_twice(admin_a, staff_a, login):
    login(staff_a)
    job = BackgroundJob(task_name="accounts.end_user_sessions")
    end_user_sessions.job_function(job, user_id=staff_a.pk)
    end_user_sessions.job_function(job, user_id=staff_a.pk)
    assert sessions_of(staff_a) == []
