"""The registration procedure (Art. 25) through its services: deadlines in working days,
sent back only once, an objection during the notice holds the procedure, codes, changes and
cancellation with history, and the condition authorized operation asks (Art. 23)."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, transaction

from authorization.operation.checks import approval_problems
from registration.applications import services
from registration.applications.models import CodeCounter, NoticeObjection, Registration
from wuhan_pdr.kernel.errors import DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.workdays import SHANGHAI, working_days_between
from wuhan_pdr.kernel.workflow import events_for

from .conftest import end_notice, make_deposit, make_setup

S = Registration.State


# --- deadlines in working days -------------------------------------------------------------


def test_acceptance_deadline_counts_working_days_across_national_day(db, settings):
    settings.REGISTRATION_DAYS_ACCEPT = 3
    # Tuesday 30 September 2025: 1-8 October are holidays, Saturday 11 October is a working day.
    start = dt.datetime(2025, 9, 30, 10, 0, tzinfo=SHANGHAI)
    assert services.acceptance_deadline(start) == dt.datetime(
        2025, 10, 11, 23, 59, 59, tzinfo=SHANGHAI
    )


def test_notice_period_is_ten_working_days_and_a_setting(db, settings):
    start = dt.datetime(2025, 9, 26, 10, 0, tzinfo=SHANGHAI)  # a Friday
    settings.REGISTRATION_NOTICE_DAYS = 10
    # Sunday 28 September is a make-up working day; 1-8 October are not.
    assert services.notice_end(start).date() == dt.date(2025, 10, 16)
    settings.REGISTRATION_NOTICE_DAYS = 5
    assert services.notice_end(start).date() == dt.date(2025, 10, 10)


def test_submitting_sets_the_acceptance_deadline(setup, settings):
    settings.REGISTRATION_DAYS_ACCEPT = 3
    registration = setup.move(setup.draft(), "submit")
    assert registration.state == S.SUBMITTED
    submitted = registration.submitted_at.astimezone(SHANGHAI).date()
    assert working_days_between(submitted, registration.accept_by.astimezone(SHANGHAI).date()) == 3
    assert registration.accept_by == services.acceptance_deadline(registration.submitted_at)


def test_the_review_starts_a_notice_of_the_configured_working_days(setup, settings):
    settings.REGISTRATION_NOTICE_DAYS = 10
    registration = setup.in_notice()
    start = registration.notice_starts_at.astimezone(SHANGHAI).date()
    end = registration.notice_ends_at.astimezone(SHANGHAI).date()
    assert working_days_between(start, end) == 10


# --- apply, send back once ------------------------------------------------------------------


def test_submitting_needs_a_material(setup):
    registration = services.registration_create(
        kind=Registration.Kind.RESOURCE,
        resource=setup.resource,
        deposit=setup.deposit,
        fields={"description": "x", "contact_name": "李明", "contact_phone": "027-1"},
        acting_user=setup.agency.staff,
    )
    with pytest.raises(DomainError, match="material"):
        setup.move(registration, "submit")


def test_the_deposit_must_be_done_and_the_registrants_own(setup):
    from tests.catalog.factories import make_agency

    other = make_agency()
    foreign = make_deposit(holder=other.org, resource=setup.resource, by=other.staff)
    with pytest.raises(DomainError) as refused:
        services.registration_create(
            kind=Registration.Kind.RESOURCE,
            resource=setup.resource,
            deposit=foreign,
            fields={"description": "x", "contact_name": "李明", "contact_phone": "1"},
            acting_user=setup.agency.staff,
        )
    assert refused.value.field == "deposit"
    setup.deposit.state = "pending"
    setup.deposit.save()
    with pytest.raises(DomainError, match="not complete"):
        setup.draft()


def test_an_application_is_sent_back_only_once(setup):
    registration = setup.move(setup.draft(), "submit")
    registration = setup.move(registration, "send_back", comment="缺少授权文件;缺少数据说明书。")
    assert registration.state == S.RETURNED
    assert registration.missing == "缺少授权文件;缺少数据说明书。"
    registration = setup.move(registration, "submit")
    from registration.applications.workflows import registration_workflow

    offered = {t.name for t in registration_workflow.available_to(registration, setup.registrar)}
    assert "send_back" not in offered and "accept" in offered
    with pytest.raises(DomainError, match="only once"):
        setup.move(registration, "send_back", comment="还缺少别的。")
    assert [e.transition for e in events_for(registration)] == [
        "submit",
        "send_back",
        "submit",
    ]


def test_sending_back_must_list_what_is_missing(setup):
    registration = setup.move(setup.draft(), "submit")
    with pytest.raises(DomainError):
        services.registration_move(
            registration=registration,
            transition="send_back",
            comment="  ",
            acting_user=setup.registrar,
        )


def test_applicants_cannot_accept_and_registrars_cannot_submit(setup):
    registration = setup.draft()
    with pytest.raises(TransitionNotAllowed):
        services.registration_move(
            registration=registration, transition="submit", acting_user=setup.registrar
        )
    registration = setup.move(registration, "submit")
    with pytest.raises(TransitionNotAllowed):
        services.registration_move(
            registration=registration, transition="accept", acting_user=setup.agency.staff
        )


# --- public notice and objections -----------------------------------------------------------


def test_the_code_waits_for_the_end_of_the_notice(setup):
    registration = setup.in_notice()
    with pytest.raises(DomainError, match="notice runs until"):
        setup.move(registration, "assign_code")


def test_an_objection_during_the_notice_holds_the_procedure(setup):
    registration = setup.in_notice()
    objection = services.objection_lodge(
        registration=registration,
        name="王女士",
        contact="13900000000",
        text="数据来源有误。",
        client_key="203.0.113.9",
    )
    end_notice(registration)
    with pytest.raises(DomainError, match="not answered"):
        setup.move(registration, "assign_code")
    registration.refresh_from_db()
    assert registration.state == S.NOTICE and registration.code is None
    services.objection_answer(
        objection=objection, answer="已核实,来源无误。", upheld=False, acting_user=setup.registrar
    )
    registration = setup.move(registration, "assign_code")
    assert registration.state == S.REGISTERED and registration.code


def test_an_upheld_objection_lets_the_body_refuse(setup):
    registration = setup.in_notice()
    objection = services.objection_lodge(
        registration=registration,
        name="王",
        contact="wang@example.com",
        text="x",
        client_key="k",
    )
    services.objection_answer(
        objection=objection, answer="异议成立。", upheld=True, acting_user=setup.registrar
    )
    registration = setup.move(registration, "refuse", comment="异议成立,不予登记。")
    assert registration.state == S.REFUSED


def test_objections_only_while_the_notice_runs(setup):
    registration = setup.move(setup.draft(), "submit")
    with pytest.raises(DomainError, match="only while the notice runs"):
        services.objection_lodge(
            registration=registration, name="a", contact="13900000000", text="x", client_key="k"
        )
    registration = setup.move(registration, "accept", "review_pass")
    end_notice(registration)
    with pytest.raises(DomainError, match="only while the notice runs"):
        services.objection_lodge(
            registration=registration, name="a", contact="13900000000", text="x", client_key="k"
        )


def test_objections_are_throttled_per_client(setup, settings):
    settings.REGISTRATION_OBJECTIONS_PER_HOUR = 2
    registration = setup.in_notice()
    for _ in range(2):
        services.objection_lodge(
            registration=registration,
            name="a",
            contact="13900000000",
            text="x",
            client_key="198.51.100.7",
        )
    with pytest.raises(DomainError) as refused:
        services.objection_lodge(
            registration=registration,
            name="a",
            contact="13900000000",
            text="x",
            client_key="198.51.100.7",
        )
    assert refused.value.code == "rate_limited"
    services.objection_lodge(
        registration=registration,
        name="b",
        contact="13900000000",
        text="y",
        client_key="198.51.100.8",
    )
    assert registration.objections.filter(state=NoticeObjection.State.OPEN).count() == 3


def test_only_the_body_answers_objections(setup):
    registration = setup.in_notice()
    objection = services.objection_lodge(
        registration=registration, name="a", contact="13900000000", text="x", client_key="k"
    )
    with pytest.raises(DomainError):
        services.objection_answer(
            objection=objection, answer="no", upheld=False, acting_user=setup.agency.staff
        )


# --- codes ----------------------------------------------------------------------------------


def test_code_format_is_a_setting(setup, settings):
    settings.REGISTRATION_CODE_FORMAT = "WHDJ-{year}-{seq:06d}"
    registration = setup.registered()
    year = registration.registered_at.astimezone(SHANGHAI).year
    assert registration.code == f"WHDJ-{year}-000001"
    settings.REGISTRATION_CODE_FORMAT = "DJ{year}{seq:04d}"
    with transaction.atomic():
        assert services.code_next(year) == f"DJ{year}0002"


def test_codes_are_gap_free_per_year_and_a_rollback_gives_the_number_back(db):
    assert services.code_next(2031).endswith("-000001")
    try:
        with transaction.atomic():
            assert services.code_next(2031).endswith("-000002")
            raise RuntimeError("the assignment fails after taking a number")
    except RuntimeError:
        pass
    assert services.code_next(2031).endswith("-000002")
    assert services.code_next(2032) == "WHDJ-2032-000001"
    assert CodeCounter.objects.get(year=2031).last == 2


@pytest.mark.django_db(transaction=True)
def test_codes_assigned_at_once_are_distinct_and_consecutive():
    # Eight connections take numbers at the same moment: the counter row serializes them.
    barrier = threading.Barrier(8)
    codes, errors = [], []

    def take():
        try:
            barrier.wait(timeout=10)
            with transaction.atomic():
                codes.append(services.code_next(2040))
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=take) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert sorted(codes) == [f"WHDJ-2040-{n:06d}" for n in range(1, 9)]


# --- changes and cancellation ---------------------------------------------------------------


def test_a_change_rests_on_a_new_deposit_and_raises_the_version(setup):
    registration = setup.registered()
    with pytest.raises(DomainError, match="new evidence deposit"):
        services.change_request(
            registration=registration,
            description="新说明",
            reason="新增字段",
            deposit=setup.deposit,
            acting_user=setup.agency.staff,
        )
    new = make_deposit(
        holder=setup.agency.org, resource=setup.resource, by=setup.agency.staff, content=b"v2"
    )
    change = services.change_request(
        registration=registration,
        description="新说明",
        reason="新增字段",
        deposit=new,
        acting_user=setup.agency.staff,
    )
    services.change_decide(change=change, approve=True, comment="", acting_user=setup.registrar)
    registration.refresh_from_db()
    assert registration.deposit == new and registration.version == 2
    assert registration.description == "新说明"
    reasons = list(registration.history.values_list("history_change_reason", flat=True))
    assert f"change #{change.pk} approved" in reasons


def test_cancellation_needs_a_reason_and_is_recorded(setup):
    registration = setup.registered()
    with pytest.raises(DomainError):
        services.registration_move(
            registration=registration, transition="cancel", acting_user=setup.agency.staff
        )
    registration = setup.move(registration, "cancel", comment="资源停止提供。")
    assert registration.state == S.CANCELLED and registration.cancel_reason == "资源停止提供。"
    assert events_for(registration).last().transition == "cancel"


# --- the condition of authorized operation (Art. 23) ----------------------------------------


def test_operation_approval_needs_every_resource_registered(db):
    first = make_setup()
    second = make_setup()
    resources = [first.resource, second.resource]
    problems = approval_problems(resources)
    assert len(problems) == 2 and first.resource.code in problems[0]
    registration = first.registered()
    problems = approval_problems(resources)
    assert problems == [p for p in problems if second.resource.code in p] and len(problems) == 1
    first.move(registration, "cancel", comment="注销。")
    assert len(approval_problems(resources)) == 2


def test_mandatory_when_an_agencys_resource_is_in_the_operation_scope(db):
    eligible = make_setup(operation_eligible=True)
    assert eligible.draft().mandatory is True
    other = make_setup()
    assert other.draft().mandatory is False


# --- the daily sweep ------------------------------------------------------------------------


def test_the_daily_sweep_flags_overdue_acceptance_and_ended_notices_once(setup):
    from django.utils import timezone

    from wuhan_pdr.kernel.models import Notification

    late = setup.move(setup.draft(), "submit")
    Registration.objects.filter(pk=late.pk).update(accept_by=timezone.now() - dt.timedelta(hours=1))
    second = make_setup()
    second.registrar = setup.registrar
    ended = second.in_notice()
    end_notice(ended)
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.registrations_daily() == {"overdue": 1, "notice_ended": 1}
    assert services.registrations_daily() == {"overdue": 0, "notice_ended": 0}
    late.refresh_from_db()
    assert late.accept_overdue_at is not None
    titles = set(
        Notification.objects.filter(recipient=setup.registrar).values_list("title", flat=True)
    )
    assert any("Acceptance overdue" in t or "受理" in t for t in titles)


def test_only_open_data_registers_as_an_open_data_resource(setup):
    with pytest.raises(DomainError, match="not open data"):
        services.registration_create(
            kind=Registration.Kind.OPEN_DATA,
            resource=setup.resource,  # shared under conditions, not open
            deposit=make_deposit(
                holder=setup.agency.org,
                resource=setup.resource,
                kind="open_data",
                by=setup.agency.staff,
            ),
            fields={"description": "x", "contact_name": "李明", "contact_phone": "1"},
            acting_user=setup.agency.staff,
        )


def test_a_resource_is_registered_under_its_catalog_name(setup):
    registration = setup.draft(name="自拟的名称")
    assert registration.name == setup.resource.published_version.name
