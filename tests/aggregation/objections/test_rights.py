"""Objections disclose no more than the user may see (issue 11, item 1).

Who may object to a resource and name its rows follows what it may see of the resource
(`permissions.row_rights`); what an objection shows of the rows is masked as the preview
masks them; a user who may not see the rows gets the same answer whether a key exists or
not; filing is limited per user and hour, counted in the real Redis."""

from __future__ import annotations

import subprocess
import time

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from aggregation.models import Objection
from aggregation.objections import services, throttle
from aggregation.objections.permissions import row_rights
from security.models import Grade
from tests.accounts.factories import UserFactory
from tests.catalog import factories as cf
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import AccessDenied, DomainError

from .conftest import (
    NOT_SHARED,
    OPEN_L1,
    ROWS,
    SHARED_ONLY,
    client,
    load,
    make_resource,
    people_items,
    requester_user,
    submit,
    to_reported,
)

SHARED_L2 = {"grade": "L2", "share_type": "unconditional", "open_type": "none"}
OPEN_CONDITIONAL = {
    "grade": "L2",
    "share_type": "conditional",
    "open_type": "conditional",
    "open_conditions": "签署使用协议。",
}


def detail_url(o) -> str:
    return reverse("objections:detail", kwargs={"pk": o.pk})


def create_url(resource) -> str:
    return reverse("objections:create") + f"?resource={resource.pk}"


def with_rows(fields, **item_flags):
    setup = make_resource(fields, items=people_items(**item_flags))
    load(setup, ROWS)
    return setup


# --- the rule ----------------------------------------------------------------------------------


def test_the_rule_of_who_may_object_name_rows_and_see_them(world):
    company = world.requester
    agency = world.b_staff
    names = {"code", "full_name", "age", "born", "amount", "updated_at"}
    oversight = [
        world.reviewer,
        UserFactory(roles=[Role.SECURITY_ADMIN]),
        UserFactory(roles=[Role.AUDITOR]),
    ]

    # The provider and the overseers: the preview's rights (every column, masks applied).
    for user in [world.staff, world.admin, *oversight]:
        rights = row_rights(user, world.resource)
        assert rights.full and rights.may_name_rows and rights.columns is None, user
    # Open and shared unconditionally (L1): anyone signed in sees the rows and names them.
    for user in (company, agency):
        rights = row_rights(user, world.resource)
        assert rights.may_object and rights.sees_rows and rights.may_name_rows
        assert not rights.full and rights.columns == names

    shared_only = with_rows(SHARED_ONLY).resource
    assert not row_rights(company, shared_only).may_object  # not in the open catalog
    rights = row_rights(agency, shared_only)  # in the sharing catalog, under conditions
    assert rights.may_object and not rights.sees_rows and not rights.may_name_rows

    not_shared = with_rows(NOT_SHARED).resource
    for user in (company, agency):
        assert not row_rights(user, not_shared).may_object
    assert row_rights(world.reviewer, not_shared).full

    shared_l2 = with_rows(SHARED_L2).resource
    assert row_rights(agency, shared_l2).may_name_rows
    assert not row_rights(company, shared_l2).may_object

    open_conditional = with_rows(OPEN_CONDITIONAL).resource
    rights = row_rights(company, open_conditional)
    assert rights.may_object and not rights.sees_rows

    # A masked key: the rows are seen (key masked) but cannot be named.
    masked_key = with_rows(OPEN_L1, masked_key=True).resource
    rights = row_rights(company, masked_key)
    assert rights.sees_rows and not rights.may_name_rows

    inactive = requester_user()
    inactive.is_active = False
    for user in (AnonymousUser(), inactive):
        assert not row_rights(user, world.resource).may_object


def test_a_column_whose_item_grade_forbids_it_is_not_seen(world):
    # The grade table is configurable: an item may carry a grade that allows less than
    # its resource's.
    items = people_items()
    items[2]["grade"] = cf.grade("L1")  # 年龄
    setup = make_resource(SHARED_L2, items=items)
    load(setup, ROWS)
    Grade.objects.filter(code="L1").update(may_share_unconditionally=False)
    rights = row_rights(world.b_staff, setup.resource)
    assert rights.sees_rows and "age" not in rights.columns and "full_name" in rights.columns
    objection = services.objection_submit(
        resource=setup.resource,
        kind="error",
        description="年龄不对。",
        rows="A0003",
        acting_user=world.b_staff,
    )
    table = client(world.b_staff).get(detail_url(objection)).context["rows_table"]
    assert "年龄" not in table["columns"] and "姓名" in table["columns"]
    assert "30" not in [c["before"] for c in table["rows"][0]["cells"]]
    full = client(setup.agency.staff).get(detail_url(objection)).context["rows_table"]
    assert "年龄" in full["columns"]


# --- who may object ----------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["requester", "b_staff"])
def test_an_outsider_cannot_object_to_a_resource_not_shared(world, who):
    resource = with_rows(NOT_SHARED).resource
    user = getattr(world, who)
    with pytest.raises(AccessDenied):
        services.objection_submit(
            resource=resource, kind="error", description="错。", acting_user=user
        )
    c = client(user)
    assert c.get(create_url(resource)).status_code == 404
    response = c.post(
        create_url(resource), {"kind": "error", "description": "错。", "rows": "A0001"}
    )
    assert response.status_code == 404
    assert not Objection.objects.exists()


def test_a_company_cannot_object_to_a_resource_that_is_not_open(world):
    resource = with_rows(SHARED_ONLY).resource
    with pytest.raises(AccessDenied):
        submit(world, resource=resource)
    assert client(world.requester).get(create_url(resource)).status_code == 404


# --- no oracle for whether a key exists --------------------------------------------------------


def test_who_may_not_see_the_rows_gets_the_same_answer_whatever_the_key(world):
    """Agency B may object to a resource shared under conditions, but not see its rows: an
    existing key and a made-up one get the same refusal, and through the page the same
    objection to the resource as a whole."""
    resource = with_rows(SHARED_ONLY).resource
    answers = []
    for key in ("A0001", "A0999"):
        with pytest.raises(DomainError) as exc:
            services.objection_submit(
                resource=resource,
                kind="error",
                description="错。",
                rows=key,
                acting_user=world.b_staff,
            )
        answers.append((exc.value.field, str(exc.value)))
    assert answers[0] == answers[1] and answers[0][0] == "rows"
    assert "A0001" not in answers[0][1]
    assert not Objection.objects.exists()

    c = client(world.b_staff)
    page = c.get(create_url(resource))
    assert "rows" not in page.context["form"].fields
    assert "Rows can be named only by those who may see" in page.content.decode()
    filed = []
    for key in ("A0001", "A0999"):
        response = c.post(
            create_url(resource), {"kind": "error", "description": f"错 {key}", "rows": key}
        )
        assert response.status_code == 302
        objection = Objection.objects.get(description=f"错 {key}")
        assert objection.row_keys == [] and objection.changed_rows in (None, {})
        filed.append(c.get(detail_url(objection)).content.decode())
    assert "姓名1" not in filed[0] and "姓*1" not in filed[0]


def test_who_sees_the_rows_is_told_precisely(world):
    with pytest.raises(DomainError) as exc:
        submit(world, rows="A0999")
    assert "A0999" in str(exc.value)
    resource = with_rows(SHARED_ONLY).resource
    staff = resource.provider.users.get(groups__name=Role.AGENCY_STAFF)
    with pytest.raises(DomainError) as exc:
        services.objection_submit(
            resource=resource, kind="error", description="错。", rows="A0999", acting_user=staff
        )
    assert "A0999" in str(exc.value)


def test_rows_with_a_masked_key_cannot_be_named_by_outsiders(world):
    resource = with_rows(OPEN_L1, masked_key=True).resource
    answers = set()
    for key in ("A0001", "A0999"):
        with pytest.raises(DomainError) as exc:
            submit(world, resource=resource, rows=key)
        answers.add(str(exc.value))
    assert len(answers) == 1


# --- what an objection shows -------------------------------------------------------------------


def test_the_rows_are_masked_as_the_preview_masks_them_for_everyone(world):
    objection = submit(world, rows="A0002\nA0003")
    for user in (world.requester, world.staff, world.reviewer):
        response = client(user).get(detail_url(objection))
        page = response.content.decode()
        assert "姓*2" in page and "姓*3" in page, user
        assert "姓名2" not in page and "姓名3" not in page, user
        assert "A0002" in page  # the key column is not masked


def test_before_and_after_at_rectification_are_masked(world):
    objection = to_reported(world, submit(world, rows="A0002"))
    # The provider corrected the row between filing and report.
    objection.changed_rows["after"][0][1] = "更正后的姓名"
    objection.save(update_fields=["changed_rows"])
    for user in (world.requester, world.staff, world.reviewer):
        table = client(user).get(detail_url(objection)).context["rows_table"]
        assert table["reported"]
        cells = table["rows"][0]["cells"]
        assert cells[1] == {"before": "姓*2", "after": "更****名", "changed": True}
        page = client(user).get(detail_url(objection)).content.decode()
        assert "更正后的姓名" not in page and "姓名2" not in page


def test_rows_with_a_masked_key_cannot_be_named_even_by_the_provider(world):
    # A masked column is never an equality filter (issue #13): the table's read function
    # refuses, and the provider objects to the resource as a whole.
    setup = with_rows(OPEN_L1, masked_key=True)
    with pytest.raises(DomainError) as refused:
        services.objection_submit(
            resource=setup.resource,
            kind="error",
            description="错。",
            rows="A0004",
            acting_user=setup.agency.staff,
        )
    assert refused.value.field == "rows" and "A0004" not in str(refused.value)
    objection = services.objection_submit(
        resource=setup.resource, kind="error", description="错。", acting_user=setup.agency.staff
    )
    assert objection.row_keys == []


def test_rows_are_not_shown_to_a_requester_who_no_longer_may_see_them(world):
    objection = submit(world, rows="A0002")
    version = world.resource.published_version
    version.open_type = "conditional"
    version.save(update_fields=["open_type"])
    response = client(world.requester).get(detail_url(objection))
    assert response.status_code == 200 and response.context["rows_table"] is None
    assert "姓*2" not in response.content.decode()
    assert response.context["row_keys"] == ["A0002"]


def test_lists_and_search_show_no_row_contents(world):
    submit(world, rows="A0002", description="名字错了")
    for user, name in ((world.requester, "mine"), (world.staff, "provider")):
        c = client(user)
        page = c.get(reverse(f"objections:{name}")).content.decode()
        assert "姓名2" not in page and "姓*2" not in page
        # a search by a value in the rows finds nothing: only descriptions and names are read
        found = c.get(reverse(f"objections:{name}"), {"q": "姓名2"}).context["page_obj"]
        assert list(found.object_list) == []


# --- the hourly limit (real Redis) -------------------------------------------------------------


def test_filing_is_limited_per_user_and_hour(world, settings):
    settings.OBJECTION_FILINGS_PER_HOUR = 2
    submit(world, description="一")
    with pytest.raises(DomainError):
        submit(world, rows="A0999")  # refused for a wrong key: does not count
    submit(world, description="二")
    with pytest.raises(DomainError) as exc:
        submit(world, description="三")
    assert exc.value.code == "rate_limited"
    assert Objection.objects.filter(requester=world.requester).count() == 2
    # counted in Redis, per user: another requester is not held back
    slot = f"{throttle._key(world.requester)}:{int(time.time() // 3600)}"
    assert cache.get(slot) == 2
    services.objection_submit(
        resource=world.resource,
        kind="error",
        description="别人的",
        acting_user=world.other_requester,
    )
    # the next hour starts afresh
    next_hour = (int(time.time() // 3600) + 1) * 3600 + 1
    key = throttle.take_filing_slot(world.requester, now=next_hour)
    assert cache.get(key) == 1
    cache.delete(key)


def test_the_refusal_is_clear_in_chinese_on_the_form(world, settings, tmp_path):
    settings.OBJECTION_FILINGS_PER_HOUR = 1
    locale = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    subprocess.run(
        ["msgfmt", "-o", str(locale / "django.mo"), "locale/zh_Hans/LC_MESSAGES/django.po"],
        check=True,
    )
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    c = client(world.requester)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    with translation.override("zh-hans"):
        first = c.post(create_url(world.resource), {"kind": "error", "description": "一"})
        assert first.status_code == 302
        second = c.post(create_url(world.resource), {"kind": "error", "description": "二"})
    assert second.status_code == 200
    errors = second.context["form"].non_field_errors()
    assert errors and "本小时内已提交 1 件异议" in errors[0]
    assert Objection.objects.count() == 1
