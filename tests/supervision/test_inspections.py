"""Supervision inspections (Art. 28): who plans whom, the workflow with history, findings with
evidence, a finding followed up by a rectification order (linked both ways), closing refused
while a finding has no follow-up, what each side sees (lists, counts, filters, exports),
naughty input, and the list's constant query count."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from authorization.operation import checks
from supervision.inspections import services
from supervision.inspections.models import Finding, Inspection
from supervision.rectification.models import RectificationOrder
from tests.accounts.factories import OrganizationFactory, UserFactory, division
from tests.authorization.operation.conftest import apply, approve, eligible
from tests.catalog.factories import (
    JIANGAN,
    JIANGHAN,
    make_agency,
    make_city_bureau,
    make_district_agency,
    make_district_bureau,
)
from tests.conftest import client_for
from wuhan_pdr.accounts.models import Organization
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError
from wuhan_pdr.kernel.models import Notification
from wuhan_pdr.kernel.workdays import today as local_today
from wuhan_pdr.kernel.workflow import events_for

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
S = Inspection.State


def pdf(name="检查记录.pdf"):
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@pytest.fixture
def city(db):
    return make_city_bureau()


def plan(bureau, subject, *, title="数据管理定期检查", **kw):
    fields = {
        "subject": subject,
        "kind": "regular",
        "title": title,
        "scope": ["catalog", "sharing"],
        "planned_start": local_today(),
        "planned_end": local_today() + dt.timedelta(days=5),
        "inspectors": [bureau.reviewer],
        "acting_user": bureau.reviewer,
    }
    fields.update(kw)
    return services.inspection_plan(**fields)


def move(inspection, user, *actions, comment=""):
    for a in actions:
        inspection = services.inspection_transition(
            inspection=inspection, action=a, comment=comment, acting_user=user
        )
    return inspection


def find(inspection, user, **kw):
    fields = {
        "inspection": inspection,
        "area": "catalog",
        "severity": "moderate",
        "description": "目录未按周期更新",
        "acting_user": user,
    }
    fields.update(kw)
    return services.finding_record(**fields)


def test_the_city_inspects_any_agency_a_district_only_its_own(city):
    own = make_district_agency(JIANGAN)
    foreign = make_district_agency(JIANGHAN)
    city_agency = make_agency()
    district = make_district_bureau(JIANGAN)
    i = plan(district, own.org)
    assert i.bureau_id == district.org.pk and i.state == S.PLANNED
    for target in (foreign, city_agency):
        with pytest.raises(DomainError) as exc:
            plan(district, target.org)
        assert exc.value.field == "subject"
    with pytest.raises(DomainError):
        plan(district, own.org, acting_user=own.admin)
    assert plan(city, foreign.org).bureau_id == city.org.pk
    # Inspectors come from the planning bureau only; dates in order; a scope is required.
    with pytest.raises(DomainError) as exc:
        plan(city, foreign.org, inspectors=[district.reviewer])
    assert exc.value.field == "inspectors"
    with pytest.raises(DomainError) as exc:
        plan(city, foreign.org, planned_end=local_today() - dt.timedelta(days=1))
    assert exc.value.field == "planned_end"
    with pytest.raises(DomainError) as exc:
        plan(city, foreign.org, scope=["nonsense"])
    assert exc.value.field == "scope"
    # The district bureau sees its own and its district's agencies' inspections, not others'.
    c = client_for(district.reviewer)
    listing = c.get(reverse("supervision:inspections")).content.decode()
    assert f"#{i.pk}<" in listing
    other = Inspection.objects.get(subject=foreign.org)
    assert f"#{other.pk}<" not in listing
    assert c.get(reverse("supervision:inspection", args=[other.pk])).status_code == 404


def test_the_workflow_notifies_the_subject_and_keeps_history(city):
    a = make_agency()
    i = plan(city, a.org)
    # A plan is the bureau's: the subject does not see it yet.
    c = client_for(a.staff)
    assert c.get(reverse("supervision:inspection", args=[i.pk])).status_code == 404
    with pytest.raises(DomainError):  # the subject cannot move it
        services.inspection_transition(inspection=i, action="notify", acting_user=a.admin)
    with pytest.raises(DomainError):  # no skipping a step
        services.inspection_transition(inspection=i, action="start", acting_user=city.reviewer)
    i = move(i, city.reviewer, "notify")
    assert i.state == S.NOTIFIED and i.notified_at
    assert Notification.objects.filter(recipient=a.staff).exists()
    page = c.get(reverse("supervision:inspection", args=[i.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert i.title in body and f"{i.planned_start:%Y-%m-%d}" in body
    assert 'id="actions"' not in body  # nothing for the subject to press
    home = c.get("/").content.decode()
    assert i.title in home  # in the subject's work queue, with its dates
    i = move(i, city.reviewer, "start")
    f = find(i, city.reviewer, files=[pdf()])
    assert f.number == 1 and f.evidence.count() == 1
    i = move(i, city.reviewer, "record", comment="发现问题 1 项")
    assert i.state == S.FINDINGS and i.follow_up_due and i.summary == "发现问题 1 项"
    with pytest.raises(DomainError):  # no finding after the findings are complete
        find(i, city.reviewer)
    services.finding_no_action(finding=f, reason="已当场整改", acting_user=city.reviewer)
    i = move(i, city.reviewer, "close")
    assert i.state == S.CLOSED and i.closed_at
    assert i.history.count() >= 5
    assert [e.transition for e in events_for(i)] == [
        "notify",
        "start",
        "record",
        "close",
    ]


def test_cancel_needs_a_reason_and_the_page_asks_for_confirmation(city):
    a = make_agency()
    i = move(plan(city, a.org), city.reviewer, "notify")
    c = client_for(city.reviewer)
    body = c.get(reverse("supervision:inspection", args=[i.pk])).content.decode()
    assert 'class="confirm"' in body and 'value="cancel"' in body
    r = c.post(reverse("supervision:inspection_action", args=[i.pk]), {"action": "cancel"})
    assert r.status_code == 422
    i.refresh_from_db()
    assert i.state == S.NOTIFIED
    r = c.post(
        reverse("supervision:inspection_action", args=[i.pk]),
        {"action": "cancel", "comment": "检查组人员调整"},
    )
    assert r.status_code == 302
    i.refresh_from_db()
    assert i.state == S.CANCELLED and i.cancel_reason == "检查组人员调整"
    # The subject, told of it, is told of the cancellation and still sees it with the reason.
    assert Notification.objects.filter(recipient=a.staff).count() == 2
    body = client_for(a.staff).get(reverse("supervision:inspection", args=[i.pk])).content
    assert "检查组人员调整" in body.decode()
    # A plan cancelled before anyone was told stays the bureau's.
    j = plan(city, a.org, title="未通知即取消")
    services.inspection_transition(
        inspection=j, action="cancel", comment="计划调整", acting_user=city.reviewer
    )
    assert (
        client_for(a.staff).get(reverse("supervision:inspection", args=[j.pk])).status_code == 404
    )


def test_a_finding_issues_an_order_linked_both_ways_and_close_waits_for_follow_up(city):
    a = make_agency()
    i = move(plan(city, a.org), city.reviewer, "notify", "start")
    f1 = find(i, city.reviewer, severity="serious", references="共享申请 #12")
    f2 = find(i, city.reviewer, area="security", severity="minor", description="日志留存不足")
    i = move(i, city.reviewer, "record")
    with pytest.raises(DomainError) as exc:
        move(i, city.reviewer, "close")
    assert "#1" in str(exc.value.message) and "#2" in str(exc.value.message)
    c = client_for(city.reviewer)
    url = reverse("supervision:finding_order", args=[i.pk, f1.pk])
    page = c.get(url).content.decode()
    # Pre-filled from the finding: the facts name the inspection, the finding and its records.
    assert "目录未按周期更新" in page and "共享申请 #12" in page
    r = c.post(
        url,
        {
            "case": "not_provided",
            "facts": services.order_facts(Finding.objects.get(pk=f1.pk)),
            "requirement": "限期整改",
            "deadline_days": 5,
        },
    )
    assert r.status_code == 302
    f1.refresh_from_db()
    order = f1.order
    assert f1.follow_up == Finding.FollowUp.ORDERED and order.agency_id == a.org.pk
    assert order.state == RectificationOrder.State.ISSUED and order.deadline_days == 5
    assert order.inspection_finding == f1
    # A second order from the same finding is refused.
    with pytest.raises(DomainError):
        services.finding_order(
            finding=f1, case="other", facts="x", deadline_days=5, acting_user=city.reviewer
        )
    # Still one finding without follow-up: close refused on the page too.
    r = c.post(reverse("supervision:inspection_action", args=[i.pk]), {"action": "close"})
    assert r.status_code == 422 and "#2" in r.content.decode()
    # No action needs a reason.
    with pytest.raises(DomainError) as exc:
        services.finding_no_action(finding=f2, reason="  ", acting_user=city.reviewer)
    assert exc.value.field == "reason"
    c.post(reverse("supervision:finding_no_action", args=[i.pk, f2.pk]), {"reason": "已当场整改"})
    i = move(i, city.reviewer, "close")
    assert i.state == S.CLOSED
    # The agency sees the inspection, the order's state beside the finding, and the order
    # page names the inspection.
    ca = client_for(a.admin)
    body = ca.get(reverse("supervision:inspection", args=[i.pk])).content.decode()
    assert reverse("supervision:order", args=[order.pk]) in body
    order_page = ca.get(reverse("supervision:order", args=[order.pk])).content.decode()
    assert reverse("supervision:inspection", args=[i.pk]) in order_page


def test_subjects_see_only_their_own_inspections_counts_and_filters(city):
    a, b = make_agency(), make_agency()
    mine = move(plan(city, a.org, title="甲单位检查"), city.reviewer, "notify", "start")
    find(mine, city.reviewer, description="甲单位问题", files=[pdf()])
    theirs = move(plan(city, b.org, title="乙单位检查"), city.reviewer, "notify", "start")
    find(theirs, city.reviewer, description="乙单位问题", files=[pdf()])
    c = client_for(a.staff)
    r = c.get(reverse("supervision:inspections"))
    listing = r.content.decode()
    assert "甲单位检查" in listing and "乙单位检查" not in listing
    assert r.context["page_obj"].paginator.count == 1
    # A search for the other's finding text, or a filter, finds nothing of theirs.
    for params, n in (
        ({"q": "乙单位"}, 0),
        ({"state": "in_progress"}, 1),
        ({"state": "open"}, 1),
        ({"q": "检查", "kind": "regular"}, 1),
        ({"area": "catalog"}, 1),
    ):
        r = c.get(reverse("supervision:inspections"), params)
        assert "乙单位检查" not in r.content.decode(), params
        assert r.context["page_obj"].paginator.count == n, params
    # The work queue on the home page counts only its own.
    home = c.get("/").content.decode()
    assert "甲单位检查" in home and "乙单位检查" not in home
    assert c.get(reverse("supervision:inspection", args=[theirs.pk])).status_code == 404
    assert c.get(reverse("supervision:findings_export", args=[theirs.pk])).status_code == 404
    ev = theirs.findings.get().evidence.get()
    assert (
        c.get(reverse("supervision:inspection_evidence", args=[theirs.pk, ev.pk])).status_code
        == 404
    )
    # ...nor through its own inspection's URL.
    assert (
        c.get(reverse("supervision:inspection_evidence", args=[mine.pk, ev.pk])).status_code == 404
    )
    own_ev = mine.findings.get().evidence.get()
    assert (
        c.get(reverse("supervision:inspection_evidence", args=[mine.pk, own_ev.pk])).status_code
        == 200
    )
    # The subject cannot plan, act or record findings.
    assert c.get(reverse("supervision:inspection_create")).status_code == 404
    assert (
        c.post(
            reverse("supervision:inspection_action", args=[mine.pk]), {"action": "record"}
        ).status_code
        == 404
    )
    assert (
        c.post(
            reverse("supervision:finding_create", args=[mine.pk]),
            {"area": "catalog", "severity": "minor", "description": "x"},
        ).status_code
        == 404
    )
    # The dashboard is the bureau's.
    assert c.get(reverse("supervision:dashboard")).status_code == 404


def test_anonymous_visitors_and_requesters_see_nothing(city):
    a = make_agency()
    i = move(plan(city, a.org), city.reviewer, "notify")
    from django.test import Client

    anon = Client()
    for name, args in (
        ("supervision:inspections", []),
        ("supervision:inspection", [i.pk]),
        ("supervision:findings_export", [i.pk]),
    ):
        r = anon.get(reverse(name, args=args))
        assert r.status_code == 302 and "login" in r["Location"]
    org = OrganizationFactory(kind=Organization.Kind.USER_ORG, division=division("420100"))
    requester = UserFactory(organization=org, roles=[Role.REQUESTER])
    c = client_for(requester)
    assert c.get(reverse("supervision:inspections")).status_code == 404
    assert c.get(reverse("supervision:inspection", args=[i.pk])).status_code == 404


def test_an_operator_is_inspected_sees_its_own_and_gets_no_order(city, db):
    saved = list(checks._APPROVAL_CHECKS)
    checks._APPROVAL_CHECKS.clear()
    try:
        provider = make_agency()
        resource = eligible(provider, city.reviewer)
        op_org = OrganizationFactory(
            kind=Organization.Kind.OPERATOR, division=division("420100"), name="测试运营公司"
        )
        op_user = UserFactory(organization=op_org, roles=[Role.OPERATOR])
        authorization = approve(apply(op_user, [resource]), city.reviewer)
    finally:
        checks._APPROVAL_CHECKS[:] = saved
    i = plan(
        city,
        op_org,
        kind="spot",
        scope=["operation"],
        resources=[resource],
        authorization=authorization,
    )
    # Another operator without an authorization is not a subject.
    bare = OrganizationFactory(kind=Organization.Kind.OPERATOR, division=division("420100"))
    with pytest.raises(DomainError):
        plan(city, bare)
    # Only the operator's authorized resources may be named.
    other = eligible(provider, city.reviewer, name="其他资源")
    with pytest.raises(DomainError) as exc:
        plan(city, op_org, resources=[other])
    assert exc.value.field == "resources"
    i = move(i, city.reviewer, "notify", "start")
    f = find(i, city.reviewer, area="operation")
    with pytest.raises(DomainError):
        services.finding_order(
            finding=f, case="other", facts="x", deadline_days=5, acting_user=city.reviewer
        )
    c = client_for(op_user)
    body = c.get(reverse("supervision:inspection", args=[i.pk])).content.decode()
    assert "目录未按周期更新" in body
    assert reverse("supervision:finding_order", args=[i.pk, f.pk]) not in body
    listing = c.get(reverse("supervision:inspections")).content.decode()
    assert f"#{i.pk}<" in listing


def test_the_pages_refuse_naughty_input_without_a_500(city, naughty):
    a = make_agency()
    i = move(plan(city, a.org), city.reviewer, "notify", "start")
    f = find(i, city.reviewer)
    cb = client_for(city.reviewer)
    for text in [*naughty[::9], "ab\x00cd"]:
        r1 = cb.post(
            reverse("supervision:inspection_create") + f"?subject={a.org.pk}",
            {
                "subject": a.org.pk,
                "title": text,
                "kind": text,
                "scope": [text, "catalog"],
                "planned_start": text,
                "planned_end": "2026-13-01",
                "inspectors": [text],
                "legal_basis": text,
            },
        )
        r2 = cb.get(
            reverse("supervision:inspections"),
            {"q": text, "state": text, "kind": text, "area": text, "year": text},
        )
        r3 = cb.post(
            reverse("supervision:finding_create", args=[i.pk]),
            {"area": "catalog", "severity": "minor", "description": text, "references": text},
        )
        r4 = cb.post(
            reverse("supervision:inspection_action", args=[i.pk]),
            {"action": text, "comment": text},
        )
        r5 = cb.get(reverse("supervision:inspection_create"), {"subject": text})
        assert max(r.status_code for r in (r1, r2, r3, r4, r5)) < 500, repr(text)
    # A valid plan with a title keeps what was typed when another field is wrong.
    r = cb.post(
        reverse("supervision:inspection_create") + f"?subject={a.org.pk}",
        {"subject": a.org.pk, "title": "保留的标题", "kind": "regular", "scope": ["catalog"]},
    )
    assert r.status_code == 200 and "保留的标题" in r.content.decode()
    # Text that looks like a formula stays text in the export.
    services.inspection_transition(inspection=i, action="record", acting_user=city.reviewer)
    f2 = Finding.objects.get(pk=f.pk)
    Finding.objects.filter(pk=f2.pk).update(references='=HYPERLINK("http://x")')
    r = cb.get(reverse("supervision:findings_export", args=[i.pk]))
    ws = load_workbook(io.BytesIO(b"".join(r.streaming_content))).active
    cells = [c.value for c in ws[2]]
    assert '=HYPERLINK("http://x")' in cells
    assert ws.cell(row=2, column=6).data_type == "s"


def test_the_list_and_detail_keep_a_constant_query_count(city):
    agencies = [make_agency() for _ in range(3)]
    c = client_for(city.reviewer)

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(url).status_code == 200
        return len(ctx.captured_queries)

    i = move(plan(city, agencies[0].org), city.reviewer, "notify", "start")
    find(i, city.reviewer, files=[pdf()])
    list_one = count(reverse("supervision:inspections"))
    detail_one = count(reverse("supervision:inspection", args=[i.pk]))
    for a in agencies:
        j = move(plan(city, a.org), city.reviewer, "notify", "start")
        find(j, city.reviewer, files=[pdf()])
    for _ in range(3):
        find(i, city.reviewer, files=[pdf()])
    assert count(reverse("supervision:inspections")) == list_one
    assert count(reverse("supervision:inspection", args=[i.pk])) == detail_one
    # Strict CSP: no inline style or script on either page.
    for url in (reverse("supervision:inspections"), reverse("supervision:inspection", args=[i.pk])):
        html = c.get(url).content.decode()
        assert " style=" not in html and "<script>" not in html


def test_the_dashboard_counts_inspections_and_findings_by_severity(city):
    a = make_agency()
    i = move(plan(city, a.org), city.reviewer, "notify", "start")
    find(i, city.reviewer, severity="serious")
    find(i, city.reviewer, severity="serious", description="第二项")
    f = find(i, city.reviewer, severity="minor")
    move(plan(city, a.org), city.reviewer, "notify")
    body = client_for(city.reviewer).get(reverse("supervision:dashboard")).content.decode()
    assert 'id="dash-inspections-open">2<' in body
    assert 'id="dash-inspections-closed">0<' in body
    i = move(i, city.reviewer, "record")
    for x in i.findings.all():
        services.finding_no_action(finding=x, reason="无需整改", acting_user=city.reviewer)
    move(i, city.reviewer, "close")
    body = client_for(city.reviewer).get(reverse("supervision:dashboard")).content.decode()
    assert 'id="dash-inspections-open">1<' in body
    assert 'id="dash-inspections-closed">1<' in body
    assert f.get_severity_display() in body
