"""Refused attempts stay in the audit log although the refused action's transaction rolled
back: access_* helpers (404 for "forbidden" too), refused workflow moves, refused services."""

from __future__ import annotations

import pytest
from django.db import transaction
from django.http import HttpResponse

from security.audit.models import AuditEvent
from security.audit.recording import AuditMiddleware
from tests.accounts.factories import UserFactory
from tests.kernel_testapp.models import Ticket
from tests.kernel_testapp.workflows import TICKET_WORKFLOW
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import TransitionNotAllowed

pytestmark = pytest.mark.django_db


def test_a_refused_workflow_move_in_a_request_is_recorded_after_the_rollback(rf, agency_a):
    staff = UserFactory(organization=agency_a, roles=[Role.AGENCY_STAFF])
    ticket = Ticket.objects.create(title="census form", state=Ticket.State.SUBMITTED)

    def view(request):
        try:
            with transaction.atomic():
                ticket.title = "changed in the refused transaction"
                ticket.save()
                TICKET_WORKFLOW.apply(ticket, "approve", acting_user=request.user)
        except TransitionNotAllowed:
            return HttpResponse("refused", status=400)
        return HttpResponse("ok")

    request = rf.post("/tickets/approve/", REMOTE_ADDR="10.9.8.7", HTTP_USER_AGENT="UA/1")
    request.user = staff
    response = AuditMiddleware(view)(request)
    assert response.status_code == 400
    ticket.refresh_from_db()
    assert ticket.title == "census form"  # the refused transaction rolled back
    row = AuditEvent.objects.get(action="workflow.ticket.approve")
    assert (row.outcome, row.actor_id, row.ip, row.user_agent) == (
        "refused",
        staff.pk,
        "10.9.8.7",
        "UA/1",
    )
    assert row.object_id == str(ticket.pk)
    assert row.details["state"] == Ticket.State.SUBMITTED
    assert row.details["error"] == "TransitionNotAllowed"


def test_a_forbidden_object_is_recorded_as_refused_and_a_missing_one_too(login, admin_a, staff_b):
    c = login(admin_a)
    assert c.get(f"/manage/users/{staff_b.pk}/").status_code == 404
    assert c.get("/manage/users/999999/").status_code == 404
    forbidden, missing = AuditEvent.objects.filter(action="access.user").order_by("id")
    assert (forbidden.outcome, forbidden.actor_id, forbidden.object_id) == (
        "refused",
        admin_a.pk,
        str(staff_b.pk),
    )
    assert forbidden.details["exists"] is True
    assert forbidden.object_label == str(staff_b)
    assert (missing.object_id, missing.details["exists"]) == ("999999", False)


def test_an_allowed_access_records_no_refusal(login, admin_a, staff_a):
    assert login(admin_a).get(f"/manage/users/{staff_a.pk}/").status_code == 200
    assert not AuditEvent.objects.filter(outcome="refused").exists()
