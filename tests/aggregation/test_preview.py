"""The data preview keeps masked keys masked (issue 11, item 5): its page cursors are sealed
(kernel/cursors.py) and bound to the table, its generation, the ordering and the user; the
"starts with" filter is refused on a masked key. Paging still returns every row once."""

from __future__ import annotations

import base64
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from aggregation import selectors, services
from aggregation.datastore import datastore_apply_pending, qualified
from aggregation.models import Batch, DatastoreTable
from tests.aggregation.factories import items_people, make_channel
from tests.aggregation.test_views import HEADER, _base, client, csv_rows, load  # noqa: F401
from tests.catalog import factories as cf
from wuhan_pdr.kernel import cursors, sealing

ID_HEADER = "编号,姓名,年龄,出生日期,金额,更新时间\n"


def id_number(i: int) -> str:
    return f"42010219900307{i:04d}"


def id_rows(n: int, start: int = 1) -> str:
    return ID_HEADER + "".join(
        f"{id_number(i)},姓名{i},{20 + i % 50},1990-01-{1 + i % 28:02d},{i}.50,"
        "2025-01-02 08:00:00\n"
        for i in range(start, start + n)
    )


def masked_key_items() -> list[dict]:
    items = items_people()
    items[0]["masking_rule"] = "保留首尾"
    return items


@pytest.fixture
def masked(db):
    return make_channel(items=masked_key_items(), name="身份证通道")


@pytest.fixture
def reviewer(db):
    return cf.make_city_bureau().reviewer


def url_of(setup) -> str:
    return reverse("aggregation:preview", args=[setup.resource.pk])


def links(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]*)"', html)]


def cursor_bytes(token: str) -> bytes:
    return base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))


def assert_no_plain_key(text: str | bytes, values: list[str]) -> None:
    for v in values:
        needle = v.encode() if isinstance(text, bytes) else v
        assert needle not in text
        # Not even the part the mask hides (the middle), nor its base64 spelling.
        middle = v[1:-1]
        assert (middle.encode() if isinstance(text, bytes) else middle) not in text


# --- nothing of a masked key leaves the server ------------------------------------------------


def test_a_masked_key_never_appears_in_a_url_cursor_or_page(masked):
    load(masked, id_rows(120))
    keys = [id_number(i) for i in range(1, 121)]
    c = client(masked.agency.staff)
    url = url_of(masked)
    response = c.get(url)
    seen_rows = []
    tokens = []
    pages = 0
    while True:
        pages += 1
        assert response.status_code == 200
        assert_no_plain_key(response.text, keys)
        page = response.context["page"]
        seen_rows += [r[0] for r in page.rows]
        for href in links(response.text):
            assert_no_plain_key(href, keys)
            for values in parse_qs(urlsplit(href).query).values():
                for token in values:
                    tokens.append(token)
        for token in filter(None, [page.next_cursor, page.prev_cursor]):
            tokens.append(token)
            raw = cursor_bytes(token)
            assert_no_plain_key(raw, keys)
            assert_no_plain_key(token, keys)
            assert re.fullmatch(r"[A-Za-z0-9_-]+", token) and len(token) < 300
        if not page.next_cursor:
            break
        response = c.get(url, {"after": page.next_cursor})
    assert pages == 3 and len(seen_rows) == 120
    assert all(re.fullmatch(r"4\*{8}\d", r) for r in seen_rows)
    assert tokens


def test_cursor_length_does_not_tell_the_key_length(db):
    scope = cursors.CursorScope(table="t:1", generation=1, ordering=("k",), holder="user:1")
    short = cursors.cursor_issue(["1"], scope=scope)
    long = cursors.cursor_issue(["420102199003071234"], scope=scope)
    assert len(short) == len(long)


# --- refused cursors: tampered, forged, foreign, stale, expired --------------------------------


def first_page_with_message(c, url, params, message):
    response = c.get(url, params, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain and response.redirect_chain[-1][1] == 302
    assert message in response.text
    page = response.context["page"]
    assert not page.prev_cursor  # the first page
    return page


def test_a_tampered_or_forged_cursor_is_refused(masked):
    load(masked, id_rows(120))
    c = client(masked.agency.staff)
    url = url_of(masked)
    token = c.get(url).context["page"].next_cursor
    flipped = token[:20] + ("A" if token[20] != "A" else "B") + token[21:]
    forged = base64.urlsafe_b64encode(f'["{id_number(50)}"]'.encode()).decode().rstrip("=")
    for bad in (flipped, token[:-4], forged, "!!not-a-cursor", "x" * 5000):
        page = first_page_with_message(
            c, url, {"after": bad}, "This page link is not valid (it was changed"
        )
        assert page.rows[0][0] == "4********1"
    # An "after" cursor is not a "before" one.
    first_page_with_message(c, url, {"before": token}, "This page link is not valid")


def test_a_cursor_from_before_a_full_reload_is_refused_as_stale(masked):
    load(masked, id_rows(120))
    c = client(masked.agency.staff)
    url = url_of(masked)
    token = c.get(url).context["page"].next_cursor
    assert c.get(url, {"after": token}).status_code == 200
    load(masked, id_rows(120, start=500))  # a full load swaps in a new table
    first_page_with_message(
        c, url, {"after": token}, "The table was reloaded since this page link was made"
    )


def test_a_cursor_issued_to_one_user_does_not_work_for_another(masked, reviewer):
    load(masked, id_rows(120))
    url = url_of(masked)
    token = client(masked.agency.staff).get(url).context["page"].next_cursor
    other = client(reviewer)  # the bureau may preview the table too, but not with A's link
    first_page_with_message(other, url, {"after": token}, "made for another user")


def test_a_cursor_for_another_table_is_refused(masked):
    other = make_channel(items=masked_key_items(), name="另一通道", agency=masked.agency)
    load(masked, id_rows(120))
    load(other, id_rows(120))
    c = client(masked.agency.staff)
    token = c.get(url_of(masked)).context["page"].next_cursor
    first_page_with_message(c, url_of(other), {"after": token}, "This page link is not valid")


def test_an_expired_cursor_is_refused(db):
    scope = cursors.CursorScope(table="t:1", generation=3, ordering=("k",), holder="user:1")
    token = cursors.cursor_issue(["a"], scope=scope, now=1_000_000)
    assert cursors.cursor_open(token, scope=scope, now=1_000_000 + 60).values == ["a"]
    with pytest.raises(cursors.CursorExpired):
        cursors.cursor_open(token, scope=scope, now=1_000_000 + cursors.MAX_AGE + 1)
    with pytest.raises(cursors.CursorInvalid):  # from the future
        cursors.cursor_open(token, scope=scope, now=1_000_000 - 3600)


def test_cursors_and_sealed_credentials_do_not_open_each_other(db):
    scope = cursors.CursorScope(table="t:1", generation=1, ordering=("k",), holder="user:1")
    token = cursors.cursor_issue(["secret"], scope=scope)
    with pytest.raises(ValueError):
        sealing.unseal(sealing.PREFIX + token)
    sealed = sealing.seal('["user:1","t:1",1,"x",1,"a",["secret"]]')
    for candidate in (sealed, sealed[len(sealing.PREFIX) :]):
        with pytest.raises(cursors.CursorInvalid):
            cursors.cursor_open(candidate, scope=scope)


def test_a_cursor_survives_key_rotation(settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    scope = cursors.CursorScope(table="t:1", generation=1, ordering=("k",), holder="user:1")
    settings.FIELD_ENCRYPTION_KEY = old
    token = cursors.cursor_issue(["v"], scope=scope)
    settings.FIELD_ENCRYPTION_KEY = f"{new},{old}"
    assert cursors.cursor_open(token, scope=scope).values == ["v"]
    settings.FIELD_ENCRYPTION_KEY = new
    with pytest.raises(cursors.CursorInvalid):
        cursors.cursor_open(token, scope=scope)


# --- the generation: bumped when the table is replaced ----------------------------------------


def load_mode(setup, content: str, mode: str) -> Batch:
    batch = services.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile("data.csv", content.encode()),
        acting_user=setup.agency.staff,
        mode=mode,
    )
    return services.batch_run(batch_id=batch.pk)


def test_the_generation_moves_on_full_loads_and_rebuilds_not_on_merges(db):
    s = make_channel(update_mode="incremental")
    assert load_mode(s, csv_rows(5), "full").status == Batch.Status.SUCCEEDED
    table = DatastoreTable.objects.get(resource=s.resource)
    g0 = table.generation
    assert load_mode(s, csv_rows(3, start=10), "incremental").status == Batch.Status.SUCCEEDED
    table.refresh_from_db()
    assert table.row_count == 8 and table.generation == g0  # a merge keeps the keyset order
    assert load_mode(s, csv_rows(5), "full").status == Batch.Status.SUCCEEDED
    table.refresh_from_db()
    assert table.row_count == 5 and table.generation == g0 + 1
    datastore_apply_pending(resource=s.resource, confirm=True)
    table.refresh_from_db()
    assert table.generation == g0 + 2


# --- filters on masked columns -----------------------------------------------------------------


def test_the_prefix_filter_on_a_masked_key_is_refused_and_not_offered(masked):
    load(masked, id_rows(120))
    c = client(masked.agency.staff)
    url = url_of(masked)
    first = c.get(url)
    assert 'name="prefix"' not in first.text
    assert "masked" in first.text
    page = first_page_with_message(
        c, url, {"prefix": "4201021990030701"}, "The key column code is masked"
    )
    assert len(page.rows) == 50  # not filtered
    with pytest.raises(selectors.PreviewRefused):
        selectors.preview_page(
            DatastoreTable.objects.get(resource=masked.resource),
            user=masked.agency.staff,
            prefix="4",
        )


def test_the_prefix_filter_on_an_unmasked_key_still_works_and_pages(db):
    s = make_channel()
    load(s, csv_rows(300))
    c = client(s.agency.staff)
    url = url_of(s)
    first = c.get(url, {"prefix": "A01"})
    assert 'name="prefix"' in first.text
    page = first.context["page"]
    assert [r[0] for r in page.rows] == [f"A{i:04d}" for i in range(100, 150)]
    second = c.get(url, {"prefix": "A01", "after": page.next_cursor}).context["page"]
    assert [r[0] for r in second.rows] == [f"A{i:04d}" for i in range(150, 200)]
    assert not second.next_cursor


def test_a_composite_key_with_a_masked_second_column_filters_on_the_first(db):
    items = items_people()
    items[1] = dict(items[1], is_key=True, length=20, masking_rule="保留首尾")
    s = make_channel(items=items)
    rows = "".join(
        f"A{i % 3},{id_number(i)},30,1990-01-01,1,2025-01-02 08:00:00\n" for i in range(1, 40)
    )
    load(s, HEADER + rows)
    c = client(s.agency.staff)
    response = c.get(url_of(s), {"prefix": "A1"})
    assert response.status_code == 200
    page = response.context["page"]
    assert {r[0] for r in page.rows} == {"A1"} and len(page.rows) == 13
    assert_no_plain_key(response.text, [id_number(i) for i in range(1, 40)])


# --- paging returns every row exactly once -----------------------------------------------------


def walk(table, user, *, limit=7, prefix=""):
    """Page forwards to the end, then backwards to the start; the keys seen each way."""
    forward, pages = [], []
    page = selectors.preview_page(table, user=user, limit=limit, prefix=prefix)
    while True:
        pages.append(page)
        forward += page.rows
        if not page.next_cursor:
            break
        page = selectors.preview_page(table, user=user, after=page.next_cursor, limit=limit)
    backward = list(page.rows)
    while page.prev_cursor:
        page = selectors.preview_page(table, user=user, before=page.prev_cursor, limit=limit)
        backward = page.rows + backward
    return forward, backward, pages


def stored(table) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT * FROM {qualified(table).as_string(cur.connection)}"  # noqa: S608
        )
        return cur.fetchall()


@pytest.mark.parametrize("shape", ["single", "composite", "no key", "masked"])
def test_paging_forwards_and_backwards_returns_every_row_once(db, shape):
    items = items_people()
    if shape == "composite":
        items[2] = dict(items[2], is_key=True)
    elif shape == "no key":
        items = [dict(i, is_key=False) for i in items]
    elif shape == "masked":
        items = masked_key_items()
    s = make_channel(items=items)
    if shape == "masked":
        load(s, id_rows(40))
    else:
        load(s, csv_rows(40))
    table = DatastoreTable.objects.get(resource=s.resource)
    forward, backward, pages = walk(table, s.agency.staff)
    assert len(pages) == 6 and all(len(p.rows) == 7 for p in pages[:-1])
    # A masked key is never a sort key: such a table is paged in storage order too.
    assert pages[0].by_ctid == (shape in ("no key", "masked"))
    as_tuples = [tuple(r) for r in forward]
    assert len(as_tuples) == 40 and len(set(as_tuples)) == 40
    assert backward == forward
    if shape != "masked":
        assert {r[1] for r in forward} == {r[1] for r in stored(table)}


# --- query count -------------------------------------------------------------------------------


def test_preview_query_count_does_not_grow(masked):
    load(masked, id_rows(120))
    c = client(masked.agency.staff)
    url = url_of(masked)
    c.get(url)
    counts = []
    with CaptureQueriesContext(connection) as q:
        page = c.get(url).context["page"]
    counts.append(len(q))
    with CaptureQueriesContext(connection) as q:
        page = c.get(url, {"after": page.next_cursor}).context["page"]
    counts.append(len(q))
    with CaptureQueriesContext(connection) as q:
        c.get(url, {"before": page.prev_cursor})
    counts.append(len(q))
    # 19 on every page before cursors were sealed; one fewer now (the resource is read once);
    # one more for the audit record of the read (its ledger leaf and row, one statement).
    assert max(counts) <= 19, counts
