"""The objection services: every transition allowed and refused, time limits that follow the
bureau's settings, notifications at each step, row keys checked against the data, evidence
upload limits, the rows before and after, and the daily overdue flag."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from aggregation.models import Objection, TimeLimit
from aggregation.objections import services
from tests.catalog import factories as cf
from wuhan_pdr.kernel.errors import AccessDenied, DomainError, TransitionNotAllowed
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import deadline_after
from wuhan_pdr.kernel.workflow import events_for

from .conftest import ROWS, load, make_resource, submit, to_agreed, to_reported

S = Objection.State
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content)


def docx_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


def xlsx_bytes() -> bytes:
    wb = Workbook()
    wb.active["A1"] = "证据"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def inbox(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user, url__startswith="/objections/")
        .order_by("pk")
        .values_list("title", flat=True)
    )


# --- filing ----------------------------------------------------------------------------------


def test_submit_about_the_whole_resource(world):
    objection = submit(world)
    assert objection.state == S.SUBMITTED
    assert objection.row_keys == []
    assert objection.step_deadline == deadline_after(5)
    events = list(events_for(objection))
    assert [(e.transition, e.to_state, e.actor_id) for e in events] == [
        ("submit", S.SUBMITTED, world.requester.pk)
    ]
    assert objection.history.first().history_user_id == world.requester.pk


def test_submit_needs_a_signed_in_user(world):
    with pytest.raises(AccessDenied):
        submit(world, acting_user=AnonymousUser())
    assert not Objection.objects.exists()


def test_submit_refuses_an_unpublished_resource(world):
    draft = cf.make_draft(cf.make_agency())
    with pytest.raises(DomainError):
        submit(world, resource=draft.resource)


def test_submit_checks_kind_and_description(world):
    with pytest.raises(DomainError) as exc:
        submit(world, kind="rumour")
    assert exc.value.field == "kind"
    with pytest.raises(DomainError) as exc:
        submit(world, description="   ")
    assert exc.value.field == "description"
    with pytest.raises(DomainError) as exc:
        submit(world, description="a\x00b")
    assert exc.value.field == "description"


# --- row keys --------------------------------------------------------------------------------


def test_row_keys_are_stored_with_the_rows_as_filed(world):
    objection = submit(world, rows="A0002\n\n A0004 \nA0002\n")
    assert objection.row_keys == [["A0002"], ["A0004"]]
    before = objection.changed_rows["before"]
    assert [r[0] for r in before] == ["A0002", "A0004"]
    # Snapshots kept outside the table hold masked columns masked (read through the
    # table's read function, issue #13).
    assert before[0][1] == "姓*2"
    assert objection.changed_rows["after"] == []


def test_a_missing_key_is_named(world):
    with pytest.raises(DomainError) as exc:
        submit(world, rows="A0001\nA0099\nZZZ")
    assert exc.value.field == "rows"
    assert "A0099" in str(exc.value) and "ZZZ" in str(exc.value)
    assert "A0001" not in str(exc.value)
    assert not Objection.objects.exists()


def test_keys_of_several_columns_need_every_value(db):
    items = [
        {"name": "区划", "english_name": "area", "data_type": "C", "length": 6, "is_key": True},
        {"name": "编号", "english_name": "code", "data_type": "C", "length": 10, "is_key": True},
        {"name": "名称", "english_name": "title", "data_type": "C", "length": 20},
    ]
    setup = make_resource(items=items)
    from aggregation import services as agg

    batch = agg.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("d.csv", "区划,编号,名称\n420102,1,甲\n420103,1,乙\n".encode()),
        acting_user=setup.agency.staff,
    )
    agg.batch_run(batch_id=batch.pk)
    requester = cf.make_agency().staff
    ok = services.objection_submit(
        resource=setup.resource,
        kind="error",
        description="名称错误",
        rows="420102, 1\n420103,1",
        acting_user=requester,
    )
    assert ok.row_keys == [["420102", "1"], ["420103", "1"]]
    with pytest.raises(DomainError) as exc:
        services.objection_submit(
            resource=setup.resource,
            kind="error",
            description="名称错误",
            rows="420102",
            acting_user=requester,
        )
    assert "Line 1" in str(exc.value) and exc.value.field == "rows"
    with pytest.raises(DomainError) as exc:
        services.objection_submit(
            resource=setup.resource,
            kind="error",
            description="名称错误",
            rows="420104,1",
            acting_user=requester,
        )
    assert "420104, 1" in str(exc.value)


def test_rows_of_a_resource_without_data_are_refused(db):
    version = cf.make_published(cf.make_agency(), cf.make_city_bureau().reviewer)
    requester = cf.make_agency().staff
    with pytest.raises(DomainError) as exc:
        services.objection_submit(
            resource=version.resource,
            kind="omission",
            description="缺少数据",
            rows="110101199001011234",
            acting_user=requester,
        )
    assert exc.value.field == "rows"
    whole = services.objection_submit(
        resource=version.resource, kind="omission", description="缺少数据", acting_user=requester
    )
    assert whole.row_keys == []


def test_too_many_row_keys_are_refused(world):
    rows = "\n".join(f"A{i:04d}" for i in range(1, services.MAX_ROW_KEYS + 2))
    with pytest.raises(DomainError) as exc:
        submit(world, rows=rows)
    assert exc.value.field == "rows"


# --- evidence --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,content",
    [
        ("证据.pdf", PDF),
        ("photo.PNG", PNG),
        ("scan.jpeg", b"\xff\xd8\xff\xe0" + b"\x00" * 32),
        ("说明.docx", docx_bytes()),
        ("对照表.xlsx", xlsx_bytes()),
    ],
)
def test_evidence_of_the_allowed_types_is_stored_under_a_random_name(world, name, content):
    objection = submit(world, evidence=upload(name, content))
    assert objection.evidence
    stored = objection.evidence.name
    assert name.rsplit(".", 1)[0] not in stored
    assert stored.startswith("objections/")
    with objection.evidence.open("rb") as f:
        assert f.read() == content


def test_oversized_evidence_is_refused(world, settings):
    settings.OBJECTION_EVIDENCE_MAX_BYTES = 1024
    with pytest.raises(DomainError) as exc:
        submit(world, evidence=upload("big.pdf", PDF + b"x" * 2000))
    assert exc.value.field == "evidence" and "too large" in str(exc.value)
    assert not Objection.objects.exists()


@pytest.mark.parametrize(
    "name,content",
    [
        ("notes.txt", b"plain text"),
        ("virus.exe", EXE),
        ("macro.docm", docx_bytes()),
        ("empty.pdf", b""),
    ],
)
def test_evidence_of_other_types_is_refused(world, name, content):
    with pytest.raises(DomainError) as exc:
        submit(world, evidence=upload(name, content))
    assert exc.value.field == "evidence"


@pytest.mark.parametrize(
    "name,content",
    [
        ("证据.pdf", EXE),  # a renamed .exe
        ("photo.png", PDF),  # a PDF named .png
        ("说明.docx", xlsx_bytes()),  # a workbook named .docx
        ("表.xlsx", b"PK\x03\x04 not really a zip"),
    ],
)
def test_evidence_is_checked_by_content_not_name(world, name, content):
    with pytest.raises(DomainError) as exc:
        submit(world, evidence=upload(name, content))
    assert exc.value.field == "evidence"
    assert "content" in str(exc.value)


# --- transitions -----------------------------------------------------------------------------


def test_bureau_accepts_with_reasons(world):
    objection = submit(world)
    objection = services.objection_decide(
        objection=objection, accept=True, reason="理由充分。", acting_user=world.reviewer
    )
    assert objection.state == S.ACCEPTED
    assert objection.decision_reason == "理由充分。"
    assert objection.step_deadline == deadline_after(10)


def test_bureau_rejects_with_reasons_and_it_is_final(world):
    objection = submit(world)
    objection = services.objection_decide(
        objection=objection, accept=False, reason="数据无误。", acting_user=world.reviewer
    )
    assert objection.state == S.REJECTED and objection.closed_at and not objection.step_deadline
    with pytest.raises(TransitionNotAllowed):
        services.objection_decide(
            objection=objection, accept=True, reason="改主意。", acting_user=world.reviewer
        )


@pytest.mark.parametrize("accept", [True, False])
def test_decision_needs_reasons(world, accept):
    objection = submit(world)
    with pytest.raises(DomainError) as exc:
        services.objection_decide(
            objection=objection, accept=accept, reason=" ", acting_user=world.reviewer
        )
    assert exc.value.field == "reason"
    objection.refresh_from_db()
    assert objection.state == S.SUBMITTED


@pytest.mark.parametrize("who", ["requester", "staff", "admin", "b_staff", "other_requester"])
def test_only_the_bureau_decides(world, who):
    objection = submit(world)
    with pytest.raises(TransitionNotAllowed):
        services.objection_decide(
            objection=objection, accept=True, reason="受理。", acting_user=getattr(world, who)
        )


def test_consultation_agrees_an_outcome_for_the_provider(world):
    objection = to_agreed(world, submit(world), outcome="delete")
    assert objection.state == S.AGREED
    assert objection.outcome == "delete" and objection.consultation_minutes == "会商纪要。"
    assert objection.step_deadline == deadline_after(10)
    assert [e.transition for e in events_for(objection)] == ["submit", "accept", "agree"]


def test_consultation_outcome_reject_closes_as_not_upheld(world):
    objection = to_agreed(world, submit(world), outcome="reject")
    assert objection.state == S.CLOSED and objection.outcome == "reject"
    assert objection.closed_at and objection.step_deadline is None
    assert [e.transition for e in events_for(objection)][-1] == "not_upheld"


def test_consultation_is_refused_before_acceptance_and_to_others(world):
    objection = submit(world)
    kwargs = {
        "held_at": timezone.now(),
        "participants": "三方",
        "minutes": "纪要",
        "outcome": "correct",
        "outcome_detail": "更正",
    }
    with pytest.raises(TransitionNotAllowed):
        services.objection_record_consultation(
            objection=objection, acting_user=world.reviewer, **kwargs
        )
    objection = services.objection_decide(
        objection=objection, accept=True, reason="受理。", acting_user=world.reviewer
    )
    with pytest.raises(TransitionNotAllowed):
        services.objection_record_consultation(
            objection=objection, acting_user=world.staff, **kwargs
        )
    with pytest.raises(DomainError) as exc:
        services.objection_record_consultation(
            objection=objection,
            acting_user=world.reviewer,
            **{**kwargs, "held_at": timezone.now() + dt.timedelta(days=2)},
        )
    assert exc.value.field == "held_at"
    with pytest.raises(DomainError) as exc:
        services.objection_record_consultation(
            objection=objection, acting_user=world.reviewer, **{**kwargs, "outcome": "ignore"}
        )
    assert exc.value.field == "outcome"
    with pytest.raises(DomainError) as exc:
        services.objection_record_consultation(
            objection=objection, acting_user=world.reviewer, **{**kwargs, "minutes": ""}
        )
    assert exc.value.field == "minutes"


def test_provider_reports_with_the_rows_before_and_after(world):
    objection = submit(world, rows="A0002\nA0003")
    objection = to_agreed(world, objection)
    # The provider corrects A0002 and deletes A0003 with a new full load.
    load(world.setup, [(c, "更正后" if c == "A0002" else n) for c, n in ROWS if c != "A0003"])
    objection = services.objection_report(
        objection=objection, report="已更正并删除。", acting_user=world.admin
    )
    assert objection.state == S.REPORTED
    assert objection.step_deadline == deadline_after(5)
    rows = objection.changed_rows
    assert [r[0] for r in rows["before"]] == ["A0002", "A0003"]
    assert [r[0] for r in rows["after"]] == ["A0002"]
    assert rows["after"][0][1] == "更*后"  # kept masked, as the snapshot before
    from aggregation.objections.selectors import changed_rows_table

    table = changed_rows_table(objection, world.staff)
    first, second = table["rows"]
    # the name column is masked (as the preview masks it), for the provider too
    assert first["cells"][1] == {"before": "姓*2", "after": "更*后", "changed": True}
    assert first["cells"][0]["changed"] is False
    assert second["deleted"] is True


@pytest.mark.parametrize("who", ["reviewer", "requester", "b_staff"])
def test_only_the_provider_reports(world, who):
    objection = to_agreed(world, submit(world))
    with pytest.raises(TransitionNotAllowed):
        services.objection_report(
            objection=objection, report="已处理。", acting_user=getattr(world, who)
        )


def test_report_is_refused_before_the_consultation_and_without_text(world):
    objection = submit(world)
    with pytest.raises(TransitionNotAllowed):
        services.objection_report(objection=objection, report="已处理。", acting_user=world.staff)
    objection = to_agreed(world, objection)
    with pytest.raises(DomainError) as exc:
        services.objection_report(objection=objection, report="", acting_user=world.staff)
    assert exc.value.field == "report"


def test_bureau_closes_a_reported_objection(world):
    objection = to_reported(world, submit(world))
    objection = services.objection_close(
        objection=objection, comment="核实无误。", acting_user=world.reviewer
    )
    assert objection.state == S.CLOSED and objection.closed_at and objection.step_deadline is None
    with pytest.raises(TransitionNotAllowed):
        services.objection_close(objection=objection, acting_user=world.reviewer)


@pytest.mark.parametrize("who", ["staff", "requester"])
def test_only_the_bureau_closes(world, who):
    objection = to_reported(world, submit(world))
    with pytest.raises(TransitionNotAllowed):
        services.objection_close(objection=objection, acting_user=getattr(world, who))


def test_close_is_refused_before_the_report(world):
    objection = to_agreed(world, submit(world))
    with pytest.raises(TransitionNotAllowed):
        services.objection_close(objection=objection, acting_user=world.reviewer)


def test_bureau_returns_a_report_with_a_comment(world):
    objection = to_reported(world, submit(world))
    with pytest.raises(DomainError) as exc:
        services.objection_return(objection=objection, comment="", acting_user=world.reviewer)
    assert exc.value.field == "comment"
    with pytest.raises(TransitionNotAllowed):
        services.objection_return(objection=objection, comment="不够。", acting_user=world.staff)
    objection = services.objection_return(
        objection=objection, comment="仍有一行未更正。", acting_user=world.reviewer
    )
    assert objection.state == S.AGREED
    assert objection.step_deadline == deadline_after(10)
    # ... and the provider reports again.
    objection = services.objection_report(
        objection=objection, report="全部更正。", acting_user=world.staff
    )
    assert objection.state == S.REPORTED


# --- time limits -----------------------------------------------------------------------------


def test_changed_time_limits_set_the_next_deadlines(world):
    services.time_limit_set(
        key=TimeLimit.Key.OBJECTION_DECIDE, working_days=2, acting_user=world.reviewer
    )
    objection = submit(world)
    assert objection.step_deadline == deadline_after(2)
    services.time_limit_set(
        key=TimeLimit.Key.OBJECTION_CONSULT, working_days=3, acting_user=world.reviewer
    )
    objection = services.objection_decide(
        objection=objection, accept=True, reason="受理。", acting_user=world.reviewer
    )
    assert objection.step_deadline == deadline_after(3)
    services.time_limit_set(
        key=TimeLimit.Key.OBJECTION_CARRY_OUT, working_days=20, acting_user=world.reviewer
    )
    objection = services.objection_record_consultation(
        objection=objection,
        held_at=timezone.now(),
        participants="三方",
        minutes="纪要",
        outcome="supplement",
        outcome_detail="补充",
        acting_user=world.reviewer,
    )
    assert objection.step_deadline == deadline_after(20)
    services.time_limit_set(
        key=TimeLimit.Key.OBJECTION_CLOSE, working_days=1, acting_user=world.reviewer
    )
    objection = services.objection_report(
        objection=objection, report="已补充。", acting_user=world.staff
    )
    assert objection.step_deadline == deadline_after(1)
    limit = TimeLimit.objects.get(key=TimeLimit.Key.OBJECTION_CLOSE)
    assert limit.history.first().history_user_id == world.reviewer.pk


def test_time_limits_are_set_by_the_bureau_only_and_within_range(world):
    with pytest.raises(AccessDenied):
        services.time_limit_set(
            key=TimeLimit.Key.OBJECTION_DECIDE, working_days=3, acting_user=world.staff
        )
    for bad in (0, 61, -1):
        with pytest.raises(DomainError):
            services.time_limit_set(
                key=TimeLimit.Key.OBJECTION_DECIDE, working_days=bad, acting_user=world.reviewer
            )
    with pytest.raises(DomainError):
        services.time_limit_set(key="nope", working_days=3, acting_user=world.reviewer)
    assert not TimeLimit.objects.exists()


# --- notifications ---------------------------------------------------------------------------


def test_requester_is_notified_at_each_step_and_provider_when_it_reaches_them(world):
    objection = submit(world)
    assert len(inbox(world.requester)) == 1
    assert inbox(world.staff) == []  # the provider hears of it once the bureau accepts
    assert len(inbox(world.reviewer)) == 1
    objection = services.objection_decide(
        objection=objection, accept=True, reason="受理。", acting_user=world.reviewer
    )
    assert len(inbox(world.requester)) == 2
    assert len(inbox(world.staff)) == 1 and len(inbox(world.admin)) == 1
    objection = services.objection_record_consultation(
        objection=objection,
        held_at=timezone.now(),
        participants="三方",
        minutes="纪要",
        outcome="correct",
        outcome_detail="更正",
        acting_user=world.reviewer,
    )
    assert len(inbox(world.requester)) == 3
    assert len(inbox(world.staff)) == 2
    objection = services.objection_report(
        objection=objection, report="已更正。", acting_user=world.staff
    )
    assert len(inbox(world.requester)) == 4
    assert len(inbox(world.reviewer)) == 2
    objection = services.objection_return(
        objection=objection, comment="再核对。", acting_user=world.reviewer
    )
    assert len(inbox(world.requester)) == 5 and len(inbox(world.staff)) == 3
    objection = services.objection_report(
        objection=objection, report="已核对。", acting_user=world.staff
    )
    services.objection_close(objection=objection, acting_user=world.reviewer)
    titles = inbox(world.requester)
    assert len(titles) == 7
    assert all(t.startswith(f"#{objection.pk} ") for t in titles)
    assert "closed" in titles[-1]
    url = Notification.objects.filter(recipient=world.requester).order_by("pk").first().url
    assert url == f"/objections/{objection.pk}/"
    assert inbox(world.b_staff) == [] and inbox(world.other_requester) == []


def test_requester_is_notified_of_a_rejection(world):
    objection = submit(world)
    services.objection_decide(
        objection=objection, accept=False, reason="无依据。", acting_user=world.reviewer
    )
    assert "rejected" in inbox(world.requester)[-1]
    body = Notification.objects.filter(recipient=world.requester).order_by("pk").last().body
    assert body == "无依据。"


# --- overdue ---------------------------------------------------------------------------------


def test_overdue_objections_are_flagged_once_a_day(world):
    late = submit(world)
    on_time = submit(world, description="另一条。")
    Objection.objects.filter(pk=late.pk).update(step_deadline=timezone.now() - dt.timedelta(days=1))
    before = len(inbox(world.reviewer))
    assert services.objections_flag_overdue() == 1
    assert len(inbox(world.reviewer)) == before + 1
    assert "overdue" in inbox(world.requester)[-1]
    assert services.objections_flag_overdue() == 0
    # An agreed objection is the provider's to carry out: its staff are told.
    late = to_agreed(world, late)
    Objection.objects.filter(pk=late.pk).update(step_deadline=timezone.now() - dt.timedelta(days=1))
    assert services.objections_flag_overdue(now=timezone.now() + dt.timedelta(days=1)) == 1
    assert "overdue" in inbox(world.staff)[-1]
    assert on_time.state == S.SUBMITTED


def test_the_daily_task_runs_the_overdue_flag(world):
    from aggregation.objections.tasks import objections_flag_overdue

    late = submit(world)
    Objection.objects.filter(pk=late.pk).update(
        step_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    assert objections_flag_overdue() == 1
    assert "overdue" in inbox(world.requester)[-1]
