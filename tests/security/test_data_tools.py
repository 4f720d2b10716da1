"""Data tools as subjects of security assessments (Art. 27; issue #13 item 7): a tool is put
into use only with a valid pass, the daily job suspends it when the pass expires, a changed
version revokes the pass; agency A never sees agency B's tools; the list searches, filters and
pages; retiring asks for confirmation; forms and searches survive naughty strings."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from security.assessments import has_valid_pass
from security.assessments.models import Assessment
from security.assessments.selectors import pending_subjects
from security.assessments.services import assessment_record, assessments_daily
from security.tools import services
from security.tools.assessments import DATA_TOOL_CHECKLIST
from security.tools.models import DataTool
from tests.aggregation.factories import security_admin
from tests.aggregation.test_views import _base, client  # noqa: F401  (autouse fixture)
from tests.catalog import factories as cf
from wuhan_pdr.kernel.errors import AccessDenied, DomainError
from wuhan_pdr.kernel.models import Notification

S = DataTool.State


def _fields(**over) -> dict:
    return {
        "name": "采集终端",
        "vendor": "某科技公司",
        "version": "2.1",
        "category": DataTool.Category.COLLECTION_TOOL,
        "purpose": "采集社区人口信息",
        **over,
    }


def assess(tool, admin, *, result="pass", valid_days=365, assessed_on=None):
    day = assessed_on or timezone.localdate()
    return assessment_record(
        subject_kind="data_tool",
        subject_id=tool.pk,
        assessed_on=day,
        result=result,
        findings="已检查",
        answers=[(q.key, "yes", "") for q in DATA_TOOL_CHECKLIST],
        valid_until=day + dt.timedelta(days=valid_days),
        acting_user=admin,
    )


@pytest.fixture
def world(db):
    a, b = cf.make_agency(), cf.make_agency()
    return {"admin": security_admin(), "a": a, "b": b}


def _tool(world, agency="a", **over) -> DataTool:
    org = world[agency]
    return services.tool_register(
        organization=org.org, fields=_fields(**over), acting_user=org.admin
    )


def test_a_tool_is_used_only_with_a_valid_pass(world):
    tool = _tool(world)
    officer = world["a"].admin
    assert tool.state == S.REGISTERED
    with pytest.raises(DomainError, match="valid security assessment pass"):
        services.tool_start_use(tool=tool, acting_user=officer)
    # Waiting for its first assessment: on the overdue list.
    assert any(p.kind == "data_tool" and p.subject_id == str(tool.pk) for p in pending_subjects())
    assess(tool, world["admin"], result="fail")
    with pytest.raises(DomainError, match="valid security assessment pass"):
        services.tool_start_use(tool=tool, acting_user=officer)
    assess(tool, world["admin"])
    tool = services.tool_start_use(tool=tool, acting_user=officer)
    assert tool.state == S.IN_USE and has_valid_pass("data_tool", tool.pk)
    assert not any(p.subject_id == str(tool.pk) for p in pending_subjects())
    # Agency staff and the other agency's officer may not put it into use.
    for outsider in (world["a"].staff, world["b"].admin):
        with pytest.raises(AccessDenied):
            services.tool_suspend(tool=tool, reason="", acting_user=outsider)


def test_expiry_suspends_the_tool_and_tells_its_organization(world):
    tool = _tool(world)
    officer = world["a"].admin
    passed = assess(tool, world["admin"], valid_days=30)
    services.tool_start_use(tool=tool, acting_user=officer)
    assert assessments_daily(today=passed.valid_until) == {"expired": 0, "reminded": 1}
    assert DataTool.objects.get(pk=tool.pk).state == S.IN_USE
    assert assessments_daily(today=passed.valid_until + dt.timedelta(days=1))["expired"] == 1
    tool = DataTool.objects.get(pk=tool.pk)
    assert tool.state == S.SUSPENDED
    assert tool.history.first().history_change_reason == "suspend: security assessment expired"
    assert Notification.objects.filter(recipient=officer, title__contains="expired").exists()
    assert Notification.objects.filter(recipient=world["admin"], title__contains="expired")
    # A new pass lets the officer put it into use again.
    assess(tool, world["admin"])
    assert services.tool_start_use(tool=tool, acting_user=officer).state == S.IN_USE


def test_a_new_version_revokes_the_pass_and_suspends_the_tool(world):
    tool = _tool(world)
    officer = world["a"].admin
    assess(tool, world["admin"])
    services.tool_start_use(tool=tool, acting_user=officer)
    # The purpose alone is not another tool.
    tool = services.tool_update(
        tool=tool, fields=_fields(purpose="采集并核验"), acting_user=officer
    )
    assert tool.state == S.IN_USE and has_valid_pass("data_tool", tool.pk)
    tool = services.tool_update(tool=tool, fields=_fields(version="3.0"), acting_user=officer)
    assert tool.state == S.SUSPENDED and not has_valid_pass("data_tool", tool.pk)
    current = Assessment.objects.get(subject_kind="data_tool", subject_id=str(tool.pk))
    assert current.revoked_at and "version" in current.revoked_reason
    with pytest.raises(DomainError):
        services.tool_start_use(tool=tool, acting_user=officer)


def test_agency_a_never_sees_agency_bs_tools(world):
    mine = _tool(world, "a", name="甲局工具")
    theirs = _tool(world, "b", name="乙局工具")
    a_officer, a_staff = client(world["a"].admin), client(world["a"].staff)
    for c in (a_officer, a_staff):
        page = c.get(reverse("security:tool-list")).text
        assert "甲局工具" in page and "乙局工具" not in page
        # Nor through the search, nor by the address.
        assert "乙局工具" not in c.get(reverse("security:tool-list"), {"q": "乙局"}).text
        assert c.get(reverse("security:tool-detail", args=[theirs.pk])).status_code == 404
    for name in ("tool-edit", "tool-retire"):
        url = reverse(f"security:{name}", args=[theirs.pk])
        assert a_officer.get(url).status_code == 404
    for name in ("tool-use", "tool-suspend"):
        url = reverse(f"security:{name}", args=[theirs.pk])
        assert a_officer.post(url).status_code == 404
    # Staff read their own but change nothing.
    assert a_staff.get(reverse("security:tool-edit", args=[mine.pk])).status_code == 404
    assert a_staff.get(reverse("security:tool-new")).status_code == 404
    # An officer registers for its own organization only.
    with pytest.raises(AccessDenied):
        services.tool_register(
            organization=world["b"].org, fields=_fields(), acting_user=world["a"].admin
        )
    response = a_officer.post(
        reverse("security:tool-new"),
        {**_fields(name="冒名工具"), "organization": world["b"].org.pk},
    )
    assert response.status_code == 200 and not DataTool.objects.filter(name="冒名工具").exists()
    # The security administrator sees both, and filters by organization.
    admin = client(world["admin"])
    page = admin.get(reverse("security:tool-list")).text
    assert "甲局工具" in page and "乙局工具" in page
    page = admin.get(reverse("security:tool-list"), {"organization": world["b"].org.pk}).text
    assert "乙局工具" in page and "甲局工具" not in page
    # An agency without tools reads an empty state telling it what to do.
    other = cf.make_agency()
    page = client(other.admin).get(reverse("security:tool-list")).text
    assert "Register each tool your organization uses" in page


def test_the_pages_register_assess_use_and_retire_a_tool(world):
    officer = client(world["a"].admin)
    response = officer.post(
        reverse("security:tool-new"), {**_fields(), "organization": world["a"].org.pk}
    )
    assert response.status_code == 302
    tool = DataTool.objects.get(name="采集终端")
    detail = reverse("security:tool-detail", args=[tool.pk])
    assert response.url == detail
    # Twice the same version: refused on the version field.
    response = officer.post(
        reverse("security:tool-new"), {**_fields(), "organization": world["a"].org.pk}
    )
    assert "already registered this version" in response.text
    response = officer.post(reverse("security:tool-use", args=[tool.pk]))
    assert response.status_code == 200 and "valid security assessment pass" in response.text
    # The security administrator assesses it from its page.
    admin = client(world["admin"])
    page = admin.get(detail).text
    assess_url = reverse("security:assessment-new", args=["data_tool", tool.pk])
    assert assess_url in page
    assert admin.get(assess_url).status_code == 200
    assess(tool, world["admin"])
    assert officer.post(reverse("security:tool-use", args=[tool.pk])).status_code == 302
    assert DataTool.objects.get(pk=tool.pk).state == S.IN_USE
    # Retiring asks first, and needs a reason.
    retire = reverse("security:tool-retire", args=[tool.pk])
    assert "Retire" in officer.get(retire).text
    assert DataTool.objects.get(pk=tool.pk).state == S.IN_USE
    assert "This field is required" in officer.post(retire, {"reason": ""}).text
    assert officer.post(retire, {"reason": "停用"}).status_code == 302
    tool = DataTool.objects.get(pk=tool.pk)
    assert tool.state == S.RETIRED and tool.state_reason == "停用"
    assert officer.get(reverse("security:tool-edit", args=[tool.pk])).status_code == 404
    history = officer.get(detail).text
    assert "retire" in history and "start use" in history


def test_the_list_filters_and_pages(world):
    for i in range(30):
        _tool(world, name=f"工具{i:02d}", category="device" if i % 3 else "collection")
    admin = client(world["admin"])
    url = reverse("security:tool-list")
    first = admin.get(url)
    assert first.context["page_obj"].paginator.count == 30
    assert len(first.context["page_obj"].object_list) == 25
    assert admin.get(url, {"page": 2}).context["page_obj"].object_list.__len__() == 5
    assert admin.get(url, {"category": "collection"}).context["page_obj"].paginator.count == 10
    assert admin.get(url, {"q": "工具07"}).context["page_obj"].paginator.count == 1
    assert admin.get(url, {"assessment": "valid"}).context["page_obj"].paginator.count == 0
    assert admin.get(url, {"state": "registered"}).context["page_obj"].paginator.count == 30
    page = admin.get(url, {"q": "没有这个"}).text
    assert "No data tool matches." in page


def test_list_query_count_does_not_grow_with_rows(world, django_assert_max_num_queries):
    admin = client(world["admin"])
    url = reverse("security:tool-list")
    _tool(world, name="一")
    admin.get(url)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        admin.get(url)
    for i in range(10):
        _tool(world, "b", name=f"多{i}")
    with CaptureQueriesContext(connection) as many:
        admin.get(url)
    assert len(many.captured_queries) == len(few.captured_queries)


def test_searches_and_the_form_survive_naughty_strings(world, naughty):
    officer = client(world["a"].admin)
    stored = 0
    for i, text in enumerate(naughty):
        response = officer.get(
            reverse("security:tool-list"), {"q": text, "state": text, "organization": text}
        )
        assert response.status_code == 200, repr(text)
        if i % 5:
            continue
        response = officer.post(
            reverse("security:tool-new"),
            {**_fields(name=f"工具{i}", purpose=text), "organization": world["a"].org.pk},
        )
        assert response.status_code in (200, 302), repr(text)
        if response.status_code == 302:
            stored += 1
            assert officer.get(response.url).status_code == 200
        else:
            assert response.context["form"].errors, repr(text)
    assert stored > 0


def test_demo_tools_are_seeded_once(db):
    import os

    from django.core.management import call_command

    for _ in range(2):
        call_command("seed_demo", only=["security_tools"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    tools = DataTool.objects.filter(organization__name="武汉市民政局")
    assert tools.count() == 2
    assert sorted(tools.values_list("state", flat=True)) == [S.IN_USE, S.REGISTERED]
    assert any(p.kind == "data_tool" for p in pending_subjects())
