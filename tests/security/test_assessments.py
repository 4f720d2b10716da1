"""Security assessments (Art. 27) replace the channel sign-off: activation needs a valid pass,
a changed source revokes it, expiry suspends through the daily beat job (once through a real
worker) after reminders, and the upgrade turns sign-offs into passes that keep live channels
running. Pages: schedule, overdue list, detail, the form opened from the channel's page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from aggregation import services as agg
from aggregation.assessments import CHANNEL_CHECKLIST
from aggregation.models import Channel
from security.assessments import has_valid_pass
from security.assessments.models import Assessment
from security.assessments.services import assessment_record, assessments_daily
from security.assessments.upgrade import MIGRATED_FINDINGS, assessments_from_signoffs
from security.models import Grade
from tests.accounts.factories import UserFactory
from tests.aggregation.factories import assess_channel, make_channel, security_admin
from tests.aggregation.test_views import _base, client  # noqa: F401  (autouse fixture)
from tests.catalog import factories as cf
from tests.services import wait_for
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.models import Notification

YES = [(q.key, "yes", "") for q in CHANNEL_CHECKLIST]


def _expire(assessment: Assessment, *, days_ago: int = 1) -> None:
    """Move a pass's validity end into the past (time passing, without waiting for it)."""
    today = timezone.localdate()
    Assessment.objects.filter(pk=assessment.pk).update(
        assessed_on=today - dt.timedelta(days=400),
        valid_until=today - dt.timedelta(days=days_ago),
    )


# --- the grade says whether its data may enter authorized operation ------------------------


def test_grades_l1_to_l3_may_enter_authorized_operation_l4_may_not(db):
    allowed = dict(Grade.objects.values_list("code", "may_operate"))
    assert allowed == {"L1": True, "L2": True, "L3": True, "L4": False}


# --- activation is gated -----------------------------------------------------------------


def test_activation_needs_a_valid_pass_not_a_fail_nor_an_expired_one(db):
    s = make_channel(activate=False)
    with pytest.raises(DomainError, match="valid security assessment pass"):
        agg.channel_activate(channel=s.channel, acting_user=s.agency.staff)
    assess_channel(s.channel, result="fail")
    with pytest.raises(DomainError):
        agg.channel_activate(channel=s.channel, acting_user=s.agency.staff)
    passed = assess_channel(s.channel)
    assert Assessment.objects.filter(subject_id=str(s.channel.pk), is_current=True).count() == 1
    _expire(passed)
    with pytest.raises(DomainError):
        agg.channel_activate(channel=s.channel, acting_user=s.agency.staff)
    assess_channel(s.channel)
    channel = agg.channel_activate(channel=s.channel, acting_user=s.agency.staff)
    assert channel.state == Channel.State.ACTIVE


def test_only_a_security_admin_assesses_and_the_rules_of_a_pass_hold(db):
    s = make_channel(activate=False)
    today = timezone.localdate()
    base = dict(
        subject_kind="channel",
        subject_id=s.channel.pk,
        assessed_on=today,
        findings="已检查",
        answers=YES,
    )
    with pytest.raises(AccessDenied):
        assessment_record(
            **base,
            result="pass",
            valid_until=today + dt.timedelta(days=9),
            acting_user=s.agency.staff,
        )
    admin = security_admin()
    with pytest.raises(DomainError, match="validity end"):
        assessment_record(**base, result="pass", valid_until=today, acting_user=admin)
    with pytest.raises(DomainError, match="conditions"):
        assessment_record(
            **base,
            result="conditional",
            valid_until=today + dt.timedelta(days=9),
            acting_user=admin,
        )
    with pytest.raises(DomainError, match="every checklist question"):
        assessment_record(
            **{**base, "answers": YES[:-1]},
            result="pass",
            valid_until=today + dt.timedelta(days=9),
            acting_user=admin,
        )
    no_without_note = [("network", "no", ""), *YES[1:]]
    with pytest.raises(DomainError, match="needs a note"):
        assessment_record(
            **{**base, "answers": no_without_note},
            result="pass",
            valid_until=today + dt.timedelta(days=9),
            acting_user=admin,
        )
    with pytest.raises(DomainError, match="no longer exists"):
        assessment_record(
            **{**base, "subject_id": 10**9},
            result="fail",
            acting_user=admin,
        )
    a = assessment_record(
        **base,
        result="conditional",
        conditions="三个月内完成专线改造",
        valid_until=today + dt.timedelta(days=90),
        acting_user=admin,
    )
    assert a.passed and a.answers.count() == len(CHANNEL_CHECKLIST)
    assert has_valid_pass("channel", s.channel.pk)


def test_a_changed_source_revokes_the_pass_and_suspends_the_channel(db):
    s = make_channel()
    assert has_valid_pass("channel", s.channel.pk)
    channel = agg.channel_update(
        channel=s.channel, access_requirements="改为互联网访问", acting_user=s.agency.staff
    )
    assert channel.state == Channel.State.SUSPENDED
    assert not has_valid_pass("channel", s.channel.pk)
    assert Assessment.objects.get(subject_id=str(s.channel.pk), is_current=True).revoked_at
    with pytest.raises(DomainError):
        agg.channel_activate(channel=channel, acting_user=s.agency.staff)


# --- expiry and reminders ------------------------------------------------------------------


def test_expiry_suspends_the_channel_and_notifies_once(db):
    s = make_channel()
    admin = UserFactory(organization=cf.make_city_bureau().org, roles=[Role.SECURITY_ADMIN])
    passed = Assessment.objects.get(subject_id=str(s.channel.pk), is_current=True)
    day_after = passed.valid_until + dt.timedelta(days=1)
    assert assessments_daily(today=passed.valid_until) == {"expired": 0, "reminded": 1}
    result = assessments_daily(today=day_after)
    assert result == {"expired": 1, "reminded": 0}
    channel = Channel.objects.get(pk=s.channel.pk)
    assert channel.state == Channel.State.SUSPENDED and channel.next_run_at is None
    assert channel.history.first().history_change_reason == "suspend: security assessment expired"
    titles = list(Notification.objects.filter(recipient=admin).values_list("title", flat=True))
    assert any("has expired" in t for t in titles) and any("ends on" in t for t in titles)
    assert Notification.objects.filter(recipient=s.channel.created_by, title__contains="expired")
    assert assessments_daily(today=day_after) == {"expired": 0, "reminded": 0}
    # A new pass lets the agency start it again.
    assess_channel(s.channel)
    assert agg.channel_activate(channel=channel, acting_user=s.agency.staff).state == "active"


def test_reminders_go_out_once_within_the_window_only(db, settings):
    settings.ASSESSMENT_REMINDER_DAYS = 30
    s = make_channel()
    a = Assessment.objects.get(subject_id=str(s.channel.pk), is_current=True)
    before_window = a.valid_until - dt.timedelta(days=31)
    in_window = a.valid_until - dt.timedelta(days=30)
    assert assessments_daily(today=before_window)["reminded"] == 0
    assert assessments_daily(today=in_window)["reminded"] == 1
    assert assessments_daily(today=in_window + dt.timedelta(days=1))["reminded"] == 0
    assert Channel.objects.get(pk=s.channel.pk).state == Channel.State.ACTIVE
    assert Notification.objects.filter(recipient=s.agency.admin, title__contains="ends on").exists()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_run_by_a_real_worker_suspends_an_expired_channel(
    celery_worker, celery_app_on_spare_redis
):
    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    with transaction.atomic():
        s = make_channel()
        _expire(Assessment.objects.get(subject_id=str(s.channel.pk), is_current=True))
    from security.assessments.tasks import assessments_daily as task

    task.delay()

    def suspended():
        return Channel.objects.get(pk=s.channel.pk).state == Channel.State.SUSPENDED

    try:
        wait_for(suspended, timeout=90, interval=0.5, what="channel suspended by the worker")
    except TimeoutError as exc:
        raise AssertionError(f"{exc}\n--- worker ---\n{celery_worker.log_tail()}") from None
    assert Assessment.objects.get(subject_id=str(s.channel.pk), is_current=True).expired_at


def test_the_daily_job_is_in_the_beat_schedule(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["security.assessments_daily"]
    assert entry["task"] == "security.assessments_daily"


# --- the upgrade: sign-offs become passes ----------------------------------------------------


def test_migrated_signoffs_keep_live_channels_active(db, settings):
    """The data migration's function on channels that were signed off and running before the
    upgrade (the state is made by hand: the sign-off fields are gone from today's model)."""
    settings.ASSESSMENT_MIGRATED_VALIDITY_DAYS = 365
    signer = security_admin()
    live = make_channel(activate=False, name="在用通道").channel
    Channel.objects.filter(pk=live.pk).update(state=Channel.State.ACTIVE)
    draft = make_channel(activate=False, name="未签通道").channel
    signed_at = timezone.now() - dt.timedelta(days=700)
    rows = [
        {
            "subject_id": live.pk,
            "title": "在用通道",
            "signed_at": signed_at,
            "signed_by_id": signer.pk,
            "note": "已检查网络",
        }
    ]
    valid_until = timezone.localdate() + dt.timedelta(days=365)
    made = assessments_from_signoffs(
        Assessment=Assessment, rows=rows, kind="channel", valid_until=valid_until
    )
    assert made == 1
    a = Assessment.objects.get(subject_id=str(live.pk))
    assert a.assessed_on == timezone.localdate(signed_at) and a.assessor == signer
    assert a.result == "pass" and MIGRATED_FINDINGS in a.findings and "已检查网络" in a.findings
    assert has_valid_pass("channel", live.pk) and not has_valid_pass("channel", draft.pk)
    # The daily job leaves it running, and running the migration again adds nothing.
    assert assessments_daily()["expired"] == 0
    assert Channel.objects.get(pk=live.pk).state == Channel.State.ACTIVE
    assert (
        assessments_from_signoffs(
            Assessment=Assessment, rows=rows, kind="channel", valid_until=valid_until
        )
        == 0
    )


def test_the_migration_module_reads_the_old_fields_and_uses_the_setting():
    import importlib

    module = importlib.import_module("aggregation.migrations.0009_channel_signoffs_to_assessments")
    dependencies = dict(module.Migration.dependencies)
    assert dependencies["security"] == "0006_assessments_incidents"
    assert callable(module.signoffs_to_assessments)


# --- pages ---------------------------------------------------------------------------------


def test_schedule_overdue_and_detail_for_the_security_admin_404_for_agencies(db):
    active = make_channel(name="在用通道")
    waiting = make_channel(activate=False, name="待评估通道")
    expired = make_channel(name="过期通道")
    _expire(Assessment.objects.get(subject_id=str(expired.channel.pk), is_current=True))
    admin = client(security_admin())
    schedule = admin.get(reverse("security:assessment-list"))
    assert schedule.status_code == 200
    assert "在用通道" in schedule.text and "过期通道" in schedule.text
    overdue = admin.get(reverse("security:assessment-overdue"))
    assert "过期通道" in overdue.text and "待评估通道" in overdue.text
    assert "在用通道" not in overdue.text
    assert reverse("security:assessment-new", args=["channel", waiting.channel.pk]) in overdue.text
    a = Assessment.objects.get(subject_id=str(active.channel.pk), is_current=True)
    detail = admin.get(reverse("security:assessment-detail", args=[a.pk]))
    assert detail.status_code == 200 and "leased line" in detail.text
    staff = client(active.agency.staff)
    for url in (
        reverse("security:assessment-list"),
        reverse("security:assessment-overdue"),
        reverse("security:assessment-detail", args=[a.pk]),
        reverse("security:assessment-new", args=["channel", active.channel.pk]),
    ):
        assert staff.get(url).status_code == 404
    assert admin.get(reverse("security:assessment-detail", args=[10**9])).status_code == 404
    assert admin.get(reverse("security:assessment-new", args=["nothing", 1])).status_code == 404
    assert admin.get(reverse("security:assessment-new", args=["channel", "x"])).status_code == 404
    auditor = client(UserFactory(organization=cf.make_city_bureau().org, roles=[Role.AUDITOR]))
    assert auditor.get(reverse("security:assessment-list")).status_code == 200
    assert (
        auditor.get(
            reverse("security:assessment-new", args=["channel", active.channel.pk])
        ).status_code
        == 404
    )
    home = admin.get("/")
    assert "Security assessments due" in home.text and "待评估通道" in home.text


def test_schedule_query_count_does_not_grow_with_rows(db):
    admin = client(security_admin())
    make_channel()

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert admin.get(reverse("security:assessment-list")).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for _ in range(3):
        make_channel()
    assert count() == few


def test_filters_and_the_form_survive_naughty_strings(db, naughty):
    s = make_channel(activate=False)
    admin = client(security_admin())
    url = reverse("security:assessment-list")
    for status in ("", "valid", "expiring", "expired", "failed", "revoked", "bogus"):
        assert admin.get(url, {"status": status}).status_code == 200
    new_url = reverse("security:assessment-new", args=["channel", s.channel.pk])
    answers = {f"q_{q.key}": "yes" for q in CHANNEL_CHECKLIST}
    today = timezone.localdate()
    for i, text in enumerate(naughty):
        assert admin.get(url, {"q": text, "kind": text}).status_code == 200, repr(text)
        if i % 10:
            continue
        response = admin.post(
            new_url,
            {
                **answers,
                "n_network": text,
                "assessed_on": today.isoformat(),
                "findings": text,
                "result": "fail",
            },
        )
        assert response.status_code in (200, 302), repr(text)
        if response.status_code == 200:
            assert response.context["form"].errors, repr(text)
    failed = Assessment.objects.filter(subject_id=str(s.channel.pk))
    assert failed.exists()
    detail = admin.get(reverse("security:assessment-detail", args=[failed.first().pk]))
    assert detail.status_code == 200 and "<script>alert" not in detail.text


@pytest.mark.django_db(transaction=True)
def test_the_real_migration_turns_a_recorded_signoff_into_a_pass():
    """Back to the schema with sign-off fields, a signed-off live channel as the old code left
    it, then forward again through the data migration."""
    from django.core.management import call_command

    from tests.catalog.conftest import ensure_catalog_base_data

    ensure_catalog_base_data()
    s = make_channel(activate=False, name="旧签核通道")
    signer = security_admin()
    Channel.objects.filter(pk=s.channel.pk).update(state=Channel.State.ACTIVE)
    before = [("aggregation", "0008_batch_hold_and_resend")]
    latest = None
    try:
        from django.db.migrations.executor import MigrationExecutor

        executor = MigrationExecutor(connection)
        latest = [key for key in executor.loader.graph.leaf_nodes() if key[0] == "aggregation"]
        executor.migrate(before)
        signed_at = timezone.now() - dt.timedelta(days=30)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE aggregation_channel SET security_signoff_at = %s, "
                "security_signoff_by_id = %s, security_signoff_note = %s WHERE id = %s",
                [signed_at, signer.pk, "已检查", s.channel.pk],
            )
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(latest)
    finally:
        if latest is None:
            call_command("migrate", "aggregation", verbosity=0)
    a = Assessment.objects.get(subject_kind="channel", subject_id=str(s.channel.pk))
    assert a.result == "pass" and a.assessor_id == signer.pk and a.is_current
    assert a.valid_until >= timezone.localdate() + dt.timedelta(days=300)
    assert has_valid_pass("channel", s.channel.pk)
    assert assessments_daily()["expired"] == 0
    assert Channel.objects.get(pk=s.channel.pk).state == Channel.State.ACTIVE
