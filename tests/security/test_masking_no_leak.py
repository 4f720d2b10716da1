"""No page, cursor, filter, sort or error of the data preview and of objections shows a
masked value in clear, whatever the rule: the rows come masked out of PostgreSQL
(the read functions of security.zones), the cursors are sealed, and the only filter is refused on a masked key.
(Neither page has an export: the preview and objections show rows on screen only.)"""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from aggregation.objections import services as objections
from security.masking import mask_value
from security.masking.models import MaskingRule
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import load
from tests.catalog import factories as cf

pytestmark = pytest.mark.django_db

HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


def id_number(i: int) -> str:
    return f"42010219900307{i:04d}"


def rows(n: int) -> str:
    return HEADER + "".join(
        f"{id_number(i)},欧阳{i:03d}号,{20 + i % 50},1987-06-{1 + i % 28:02d},{i}.50,"
        "2025-01-02 08:00:00\n"
        for i in range(1, n + 1)
    )


def secrets(n: int) -> list[str]:
    """What must never show: the keys, the names and the birth days (day included)."""
    out = []
    for i in range(1, n + 1):
        out += [id_number(i), id_number(i)[6:14], f"欧阳{i:03d}号", f"{i:03d}号"]
        out.append(f"1987-06-{1 + i % 28:02d}")
    return out


def assert_clean(text: str, hidden: list[str]) -> None:
    for v in hidden:
        assert v not in text, v
    # nor in a cursor's base64 (sealed: nothing readable inside)
    for token in re.findall(r"(?:after|before)=([A-Za-z0-9_-]+)", text):
        blob = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        for v in hidden:
            assert v.encode() not in blob


@pytest.fixture
def setup(db):
    items = items_people()
    items[0] = dict(items[0], length=20, masking_rule="哈希")  # the key by keyed hash
    items[1]["masking_rule"] = "保留姓氏"
    items[3]["masking_rule"] = "保留年月"
    s = make_channel(items=items, name="脱敏测试通道")
    load(s, rows(60))
    return s


def _walk(c, url, hidden):
    """Every page forwards then backwards; each response checked; the rows seen."""
    seen = []
    response = c.get(url)
    while True:
        assert response.status_code == 200
        text = unescape(response.content.decode())
        assert_clean(text, hidden)
        page = response.context["page"]
        seen += [tuple(r) for r in page.rows]
        if not page.next_cursor:
            break
        response = c.get(url, {"after": page.next_cursor})
    back = []
    while page.prev_cursor:
        response = c.get(url, {"before": page.prev_cursor})
        assert_clean(unescape(response.content.decode()), hidden)
        page = response.context["page"]
        back = [tuple(r) for r in page.rows] + back
    return seen, back


def test_preview_pages_and_cursors_show_only_masked_values(setup):
    hidden = secrets(60)
    c = cf_client(setup.agency.staff)
    url = reverse("aggregation:preview", args=[setup.resource.pk])
    forward, backward = _walk(c, url, hidden)
    assert len(forward) == 60 and len(set(forward)) == 60
    key = MaskingRule.objects.get(name="哈希")
    name = MaskingRule.objects.get(name="保留姓氏")
    # what is shown is the rule's masking (the SQL agreeing with the Python twin)
    expected_keys = {mask_value(id_number(i), key) for i in range(1, 61)}
    assert {r[0] for r in forward} == expected_keys
    assert {r[1] for r in forward} == {mask_value(f"欧阳{i:03d}号", name) for i in range(1, 61)}
    assert {r[3] for r in forward} == {"1987-06"}
    assert set(backward) <= set(forward)


def test_filter_sort_and_errors_give_nothing_away(setup):
    hidden = secrets(60)
    c = cf_client(setup.agency.staff)
    url = reverse("aggregation:preview", args=[setup.resource.pk])
    # the prefix filter on the masked key is refused, whatever the prefix
    answers = set()
    for prefix in ("4201", "9", id_number(1), "欧阳", "' OR 1=1 --"):
        r = c.get(url, {"prefix": prefix}, follow=True)
        assert r.status_code == 200
        text = unescape(r.content.decode())
        assert_clean(text, hidden)
        answers.add(len(r.context["page"].rows))
    assert len(answers) == 1
    # there is no sort: order parameters are ignored (the order stays the key's, sealed)
    plain = [tuple(x) for x in c.get(url).context["page"].rows]
    for param in ("sort", "order", "o", "ordering"):
        for column in ("full_name", "born", "code", "-code"):
            r = c.get(url, {param: column})
            assert [tuple(x) for x in r.context["page"].rows] == plain
    # forged, foreign and cut cursors: an error that says nothing of the rows
    page = c.get(url).context["page"]
    other = cf_client(cf.make_city_bureau().reviewer)
    for bad in ("x", page.next_cursor[:-4], page.next_cursor[:-1] + "A", "A" * 400):
        r = c.get(url, {"after": bad}, follow=True)
        assert r.status_code == 200
        assert_clean(unescape(r.content.decode()), hidden)
    r = other.get(url, {"after": page.next_cursor}, follow=True)
    assert_clean(unescape(r.content.decode()), hidden)
    # a cursor cannot be turned into a key: it does not open as a prefix or position
    q = parse_qs(urlsplit("?after=" + page.next_cursor).query)
    assert q["after"][0] == page.next_cursor


def test_objections_show_masked_rows_and_keys(setup):
    hidden = secrets(60)
    staff = setup.agency.staff
    from aggregation.models import Objection
    from wuhan_pdr.kernel.errors import DomainError

    # A masked key is never an equality filter (storage zones): not even the provider names
    # rows by it. Keys named before that rule (kept on old objections) are shown masked.
    with pytest.raises(DomainError):
        objections.objection_submit(
            resource=setup.resource,
            kind="error",
            description="出生日期有误。",
            rows=f"{id_number(7)}\n{id_number(9)}",
            acting_user=staff,
        )
    objection = objections.objection_submit(
        resource=setup.resource, kind="error", description="出生日期有误。", acting_user=staff
    )
    Objection.objects.filter(pk=objection.pk).update(row_keys=[[id_number(7)], [id_number(9)]])
    reviewer = cf.make_city_bureau().reviewer
    for user, scope in ((staff, "provider"), (reviewer, "bureau")):
        c = cf_client(user)
        r = c.get(reverse("objections:detail", args=[objection.pk]))
        assert r.status_code == 200
        assert_clean(unescape(r.content.decode()), hidden)
        key = MaskingRule.objects.get(name="哈希")
        assert r.context["row_keys"] == [
            mask_value(id_number(7), key),
            mask_value(id_number(9), key),
        ]
        # a search by a stored value finds nothing (rows are not searched)
        page = c.get(reverse(f"objections:{scope}"), {"q": "欧阳"})
        assert page.status_code == 200
        assert_clean(unescape(page.content.decode()), hidden)
        assert list(page.context["page_obj"].object_list) == []
    # naming a row by a masked key is not an oracle: an unknown and a known key answer alike
    outsider = cf.make_agency().staff
    answers = set()
    for k in (id_number(7), id_number(999)):
        with pytest.raises(DomainError) as exc:
            objections.objection_submit(
                resource=setup.resource,
                kind="error",
                description="错。",
                rows=k,
                acting_user=outsider,
            )
        answers.add(str(exc.value))
        assert id_number(7) not in str(exc.value)
    assert len(answers) == 1


def cf_client(user):
    from django.test import Client

    c = Client()
    c.force_login(user)
    return c
