"""The quality issue list: a failing rule opens an issue with a deadline in working days;
the agency answers; the next run verifies by itself or opens it again; the bureau closes,
reopens, escalates; overdue issues are flagged once with a notification."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from aggregation.models import QualityIssue, QualityRule
from aggregation.quality import services as quality
from tests.aggregation.factories import make_channel
from tests.catalog.factories import make_city_bureau
from wuhan_pdr.kernel.errors import DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import working_days_between
from wuhan_pdr.kernel.workflow import events_for

from .factories import code_list, element, execute, load, run_now

S = QualityIssue.State


@pytest.fixture
def towns(db):
    areas = element(name="区划代码", format="n6", code_list=code_list(["420102", "420103"]))
    setup = make_channel(
        items=[
            {
                "name": "代码",
                "english_name": "code",
                "data_type": "C",
                "length": 12,
                "is_key": True,
            },
            {
                "name": "区划",
                "english_name": "area_code",
                "data_type": "C",
                "length": 6,
                "element": areas,
            },
        ]
    )
    load(setup, "代码,区划\nT1,420102\nT2,420103\nT3,420103\n")
    setup.bureau = make_city_bureau()
    return setup


def issue_of(setup) -> QualityIssue:
    return QualityIssue.objects.get(resource=setup.resource, rule__kind=QualityRule.Kind.CODE_LIST)


def break_codes(setup):
    execute("UPDATE {t} SET area_code = '999999' WHERE code IN ('T2', 'T3')", setup.resource)


def test_a_failing_rule_opens_one_issue_for_the_provider_with_a_deadline(towns):
    assert not QualityIssue.objects.filter(resource=towns.resource).exists()
    assert run_now(towns.resource).score == 100
    break_codes(towns)
    run = run_now(towns.resource)
    issue = issue_of(towns)
    assert (issue.state, issue.rows_failed, sorted(issue.sample_keys)) == (S.OPEN, 2, ["T2", "T3"])
    assert issue.provider == towns.agency.org and issue.opened_by_run == run
    days = working_days_between(timezone.localdate(), timezone.localtime(issue.deadline).date())
    assert days == 10
    assert Notification.objects.filter(recipient=towns.agency.staff, url__contains=f"/{issue.pk}/")
    run_now(towns.resource)  # still failing: the same issue is updated
    assert QualityIssue.objects.filter(resource=towns.resource).count() == 1


def test_answered_fixed_is_verified_by_the_next_run_then_closed(towns):
    break_codes(towns)
    run_now(towns.resource)
    issue = quality.quality_issue_answer(
        issue=issue_of(towns), answer="fixed", text="已更正区划代码", acting_user=towns.agency.staff
    )
    assert issue.state == S.ANSWERED
    execute("UPDATE {t} SET area_code = '420103' WHERE code IN ('T2', 'T3')", towns.resource)
    run_now(towns.resource)
    issue.refresh_from_db()
    assert (issue.state, issue.rows_failed) == (S.VERIFIED, 0)
    issue = quality.quality_issue_transition(
        issue=issue, action="close", acting_user=towns.bureau.reviewer
    )
    assert issue.state == S.CLOSED and issue.closed_at
    moves = list(events_for(issue).order_by("pk").values_list("transition", "actor"))
    assert moves == [
        ("answer", towns.agency.staff.pk),
        ("verify", None),
        ("close", towns.bureau.reviewer.pk),
    ]


def test_a_fixed_answer_that_still_fails_is_open_again(towns):
    break_codes(towns)
    run_now(towns.resource)
    quality.quality_issue_answer(
        issue=issue_of(towns), answer="fixed", text="已更正", acting_user=towns.agency.staff
    )
    run_now(towns.resource)
    assert issue_of(towns).state == S.OPEN


def test_an_explained_answer_waits_for_the_bureau_even_if_still_failing(towns):
    break_codes(towns)
    run_now(towns.resource)
    quality.quality_issue_answer(
        issue=issue_of(towns), answer="explained", text="新设街道", acting_user=towns.agency.staff
    )
    run_now(towns.resource)
    issue = issue_of(towns)
    assert issue.state == S.ANSWERED
    with pytest.raises(DomainError):
        quality.quality_issue_transition(
            issue=issue, action="reopen", acting_user=towns.bureau.reviewer
        )  # a comment is required
    issue = quality.quality_issue_transition(
        issue=issue, action="escalate", comment="请主管领导处理", acting_user=towns.bureau.reviewer
    )
    assert issue.state == S.ESCALATED
    issue = quality.quality_issue_transition(
        issue=issue, action="close", acting_user=towns.bureau.reviewer
    )
    issue = quality.quality_issue_transition(
        issue=issue, action="reopen", comment="仍有问题", acting_user=towns.bureau.reviewer
    )
    assert issue.state == S.OPEN and issue.closed_at is None


def test_only_the_provider_answers_and_only_the_bureau_decides(towns):
    break_codes(towns)
    run_now(towns.resource)
    issue = issue_of(towns)
    other = make_channel()
    with pytest.raises(TransitionNotAllowed):
        quality.quality_issue_answer(
            issue=issue, answer="fixed", text="x", acting_user=other.agency.staff
        )
    with pytest.raises(TransitionNotAllowed):
        quality.quality_issue_answer(
            issue=issue, answer="fixed", text="x", acting_user=towns.bureau.reviewer
        )
    with pytest.raises(TransitionNotAllowed):
        quality.quality_issue_transition(
            issue=issue, action="close", acting_user=towns.agency.staff
        )
    with pytest.raises(DomainError):
        quality.quality_issue_answer(
            issue=issue, answer="fixed", text="  ", acting_user=towns.agency.staff
        )


def test_overdue_issues_are_flagged_once_with_a_notification(towns):
    break_codes(towns)
    run_now(towns.resource)
    issue = issue_of(towns)
    later = issue.deadline + dt.timedelta(days=1)
    assert quality.quality_issues_flag_overdue(now=issue.deadline - dt.timedelta(hours=1)) == 0
    assert quality.quality_issues_flag_overdue(now=later) == 1
    assert quality.quality_issues_flag_overdue(now=later + dt.timedelta(days=1)) == 0
    issue.refresh_from_db()
    assert issue.overdue_flagged_at == later
    titles = Notification.objects.filter(
        recipient__in=[towns.agency.staff, towns.bureau.reviewer], title__icontains="overdue"
    )
    assert titles.count() == 2


def test_a_succeeded_batch_queues_a_run(towns):
    from aggregation.models import QualityRun
    from wuhan_pdr.kernel.models import BackgroundJob

    run = QualityRun.objects.filter(resource=towns.resource).latest("created_at")
    assert run.trigger == QualityRun.Trigger.BATCH and run.batch is not None
    assert BackgroundJob.objects.get(pk=run.job_id).task_name == "aggregation.quality_run"


def test_nightly_runs_queue_every_resource_with_data(towns):
    from aggregation.models import QualityRun

    run_now(towns.resource)
    assert quality.quality_runs_nightly() >= 1
    assert QualityRun.objects.filter(resource=towns.resource, trigger="nightly").count() == 1
