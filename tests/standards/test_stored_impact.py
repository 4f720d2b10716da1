"""Issue 12 item 1: a change request counts the stored values that would fail the proposed
format or value domain (Art. 9), in a background job, with samples for those who may preview
the resource (masked as the preview masks), shown "as of" the count on the request page and
in the reviewer's decision form."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from psycopg import sql

from aggregation.datastore import datastore_ensure, qualified
from aggregation.impact import counter as datastore_counter
from catalog.models import ElementImpactCount
from catalog.standards import impact
from catalog.standards.impact import impact_count_run, stored_data_counter
from tests.accounts.factories import UserFactory
from tests.catalog import factories as cf
from tests.standards.factories import (
    OPEN,
    client,
    committed,
    make_agency,
    make_city_bureau,
    make_code_list,
    make_element,
    move,
    propose,
)
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.jobs import job_run
from wuhan_pdr.kernel.models import BackgroundJob

pytestmark = pytest.mark.django_db

# 12 stored names: 8 good codes, 3 × "男", 1 × "X", 2 NULL and 1 empty.
VALUES = ["1", "2", "1", "9", "0", "1", "2", "2", "男", "男", "男", "X", None, None, ""]


class World:
    def __init__(self, *, masked: bool = False):
        self.bureau = make_city_bureau()
        self.reviewer = self.bureau.reviewer
        self.provider = make_agency()
        self.other = make_agency()
        self.element = make_element(self.provider, self.reviewer, name="性别", format="c..50")
        make_code_list()
        items = cf.valid_items()
        items[1].update({"name": "性别", "english_name": "sex", "element": self.element})
        if masked:
            items[1]["masking_rule"] = "保留首尾"
        version = cf.make_published(self.provider, self.reviewer, items=items, **OPEN)
        self.resource = version.resource
        self.resource.refresh_from_db()
        self.table = datastore_ensure(resource=self.resource)
        self.fill(VALUES)

    def fill(self, values, *, start: int = 0):
        with connection.cursor() as cur:
            for n, value in enumerate(values, start=start):
                cur.execute(
                    sql.SQL("INSERT INTO {} (id_number, sex) VALUES (%s, %s)").format(
                        qualified(self.table)
                    ),
                    [f"K{n:06d}", value],
                )

    def request(self, by=None, **content):
        """A submitted change of the element to `content` (a code-list domain by default)."""
        content = content or {"domain_kind": "code_list", "code_list": "GB/T 2261.1"}
        request = propose(self.other, "change", element=self.element, **content)
        return move(request, "submit", self.other.staff)


def run_job(request) -> str:
    request.refresh_from_db()
    return job_run(job_id=str(request.impact_job_id))


@pytest.fixture
def world():
    return World()


def test_submitting_a_change_records_a_count_job_on_the_long_queue(world, settings):
    request = world.request()
    job = BackgroundJob.objects.get(pk=request.impact_job_id)
    assert job.task_name == impact.TASK_NAME
    assert job.kwargs == {"request_id": request.pk}
    assert settings.CELERY_TASK_ROUTES[impact.TASK_NAME] == {"queue": "long"}
    assert stored_data_counter() is datastore_counter  # registered by aggregation's ready()


def test_a_code_list_domain_counts_the_stored_values_outside_it(world):
    request = world.request()
    assert run_job(request) == "done"
    (count,) = ElementImpactCount.objects.filter(change_request=request)
    assert (count.column, count.stored, count.checked, count.failing) == ("sex", True, 12, 4)
    assert [(s["value"], s["count"]) for s in count.samples] == [("男", 3), ("X", 1)]
    assert count.samples[0]["messages"]["en"].startswith("“男” is not a code of 人的性别代码")
    assert count.samples[0]["messages"]["zh-hans"].startswith("“男”不是 人的性别代码")
    request.refresh_from_db()
    assert request.impact_counted_at == count.counted_at


def test_a_format_is_checked_by_streaming_the_distinct_values_through_the_validator(world):
    request = world.request(format="n..2")
    run_job(request)
    (count,) = ElementImpactCount.objects.filter(change_request=request)
    assert (count.checked, count.failing) == (12, 4)
    assert [(s["value"], s["count"]) for s in count.samples] == [("男", 3), ("X", 1)]
    assert count.samples[0]["messages"]["en"] == "Must be at most 2 digits."


def test_a_pattern_counts_with_the_same_validator(world):
    request = world.request(domain_kind="pattern", pattern="[12]")
    run_job(request)
    (count,) = ElementImpactCount.objects.filter(change_request=request)
    # "9", "0", 3 × "男" and "X" fail.
    assert count.failing == 6
    assert {s["value"] for s in count.samples} == {"9", "0", "男", "X"}


def test_a_resource_without_stored_data_is_listed_as_such(world):
    items = cf.valid_items()
    items[1].update({"name": "性别", "english_name": "sex", "element": world.element})
    cf.make_published(world.provider, world.reviewer, items=items, **OPEN)
    request = world.request()
    run_job(request)
    counts = list(ElementImpactCount.objects.filter(change_request=request).order_by("pk"))
    assert sorted((c.stored, c.failing) for c in counts) == [(False, 0), (True, 4)]


def page(user, request) -> str:
    response = client(user).get(f"/standards/requests/{request.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def as_of(request) -> str:
    request.refresh_from_db()
    from django.utils import timezone

    return timezone.localtime(request.impact_counted_at).strftime("%Y-%m-%d %H:%M")


def test_the_request_page_and_the_decision_form_show_the_count_as_of_its_time(world):
    request = world.request()
    counting = page(world.reviewer, request)
    assert "Counting the stored data…" in counting
    assert f'data-impact-status-url="/standards/requests/{request.pk}/impact-status/"' in counting
    status = client(world.reviewer).get(f"/standards/requests/{request.pk}/impact-status/")
    assert status.json() == {"done": False, "state": "counting"}

    run_job(request)
    html = page(world.reviewer, request)
    sentence = f"4 stored values would fail, as of {as_of(request)}."
    start = html.index('class="card actions-card"')
    decision = html[start : html.index("</section>", start)]
    assert sentence in decision  # the reviewer's decision form
    stored = html[html.index('id="stored-values"') :]
    assert sentence in stored
    assert "Count again" in stored
    assert "data-impact-status-url" not in html
    assert "not yet available" not in html
    assert "男" in stored and "is not a code of 人的性别代码" in stored
    status = client(world.reviewer).get(f"/standards/requests/{request.pk}/impact-status/")
    assert status.json() == {"done": True, "state": "done"}


def test_who_may_not_preview_the_resource_sees_counts_but_no_samples(world):
    request = world.request()
    run_job(request)
    # The requesting agency is not the provider: counts, no values.
    html = page(world.other.staff, request)
    assert f"4 stored values would fail, as of {as_of(request)}." in html
    assert "Only the provider and the data bureau see the values." in html
    stored = html[html.index('id="stored-values"') :]
    assert "男" not in stored.replace("性别", "")
    assert "Count again" not in html
    # The city reviewer may preview every resource: the values are shown.
    assert "× 3" in page(world.reviewer, request)
    # The provider's staff may preview its own resource: they see the values of its request.
    own = move(
        propose(world.provider, "change", element=world.element, format="n..2"),
        "submit",
        world.provider.staff,
    )
    run_job(own)
    provider_staff = UserFactory(organization=world.provider.org, roles=[Role.AGENCY_STAFF])
    html = page(provider_staff, own)
    assert "× 3" in html
    assert "Only the provider and the data bureau see the values." not in html


def test_samples_of_a_masked_column_are_masked_as_the_preview_masks_them():
    world = World(masked=True)
    world.fill(["ABCDEFGHIJKL"] * 2, start=100)
    request = world.request()
    run_job(request)
    (count,) = ElementImpactCount.objects.filter(change_request=request)
    values = [s["value"] for s in count.samples]
    # mask_value: first and last character, at most 8 asterisks; 3 × "男", 2 × ABC…L, "X".
    assert values == ["*", "A********L", "*"]
    assert "ABCDEFGHIJKL" not in str(count.samples)
    html = page(world.reviewer, request)
    assert "A********L" in html and "ABCDEFGHIJKL" not in html
    assert "“A********L” is not a code of" in html


def test_recount_by_the_reviewer_replaces_the_counts(world):
    request = world.request()
    run_job(request)
    first = request.impact_job_id
    world.fill(["X"] * 5, start=200)
    response = client(world.reviewer).post(f"/standards/requests/{request.pk}/recount/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.impact_job_id != first
    # A second press while it counts is refused with a message, not a second job.
    client(world.reviewer).post(f"/standards/requests/{request.pk}/recount/")
    assert BackgroundJob.objects.filter(task_name=impact.TASK_NAME).count() == 2
    run_job(request)
    (count,) = ElementImpactCount.objects.filter(change_request=request)
    assert count.failing == 9
    # Only a city reviewer recounts.
    other = client(world.other.staff).post(f"/standards/requests/{request.pk}/recount/")
    assert other.status_code == 302
    assert BackgroundJob.objects.filter(task_name=impact.TASK_NAME).count() == 2


def test_a_failed_count_keeps_the_previous_one_and_says_so(world, settings):
    settings.BACKGROUND_JOB_MAX_ATTEMPTS = 1
    request = world.request()
    run_job(request)
    when = as_of(request)
    committed(impact.impact_recount, change_request=request, acting_user=world.reviewer)
    with connection.cursor() as cur:  # the table goes missing: the count fails
        cur.execute(sql.SQL("ALTER TABLE {} RENAME TO gone").format(qualified(world.table)))
    assert run_job(request) == "failed"
    assert ElementImpactCount.objects.get(change_request=request).failing == 4
    html = page(world.reviewer, request)
    assert "The count failed:" in html
    assert "The previous count is shown below." in html
    assert f"4 stored values would fail, as of {when}." in html
    assert re.search(r"Count again", html)


def test_an_added_or_retired_element_has_nothing_to_count(world):
    add = move(propose(world.other, "add"), "submit", world.other.staff)
    assert add.impact_job_id is None
    assert 'id="stored-values"' not in page(world.reviewer, add)
    assert impact_count_run(request_id=add.pk) == 0
