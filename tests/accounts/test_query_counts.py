"""List pages run the same number of queries whatever the number of rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.accounts.factories import OrganizationFactory, UserFactory, division
from wuhan_pdr.accounts.roles import Role

pytestmark = pytest.mark.django_db

DISTRICTS = ["420102", "420103", "420104", "420105", "420106", "420107", "420111"]


def measure(client, url) -> tuple[int, int]:
    """(queries run, rows shown) for one page view."""
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries), len(response.context["page_obj"])


def add_organizations(n, parent):
    for i in range(n):
        OrganizationFactory(parent=parent, division=division(DISTRICTS[i % len(DISTRICTS)]))


def add_users(n, organizations):
    roles = [[Role.AGENCY_STAFF], [Role.AGENCY_ADMIN], [Role.AGENCY_STAFF, Role.REQUESTER]]
    for i in range(n):
        UserFactory(organization=organizations[i % len(organizations)], roles=roles[i % 3])


def assert_flat(client, url, grow, django_assert_max_num_queries):
    client.get(url)  # warm caches (content types, permissions) out of the measurement
    few, few_rows = measure(client, url)
    grow()
    many, many_rows = measure(client, url)
    assert (few_rows, many_rows) == (5, 20)  # the page holds 20 of the 40 rows
    assert many == few, f"{url}: {few} queries for {few_rows} rows, {many} for {many_rows}"
    with django_assert_max_num_queries(few):
        client.get(url)


def test_directory_query_count_does_not_grow_with_rows(
    client, bureau, django_assert_max_num_queries
):
    add_organizations(4, bureau)  # with the bureau: 5 rows
    assert_flat(
        client,
        "/organizations/",
        lambda: add_organizations(35, bureau),
        django_assert_max_num_queries,
    )


def test_directory_query_count_does_not_grow_for_a_signed_in_user(
    bureau, staff_a, login, django_assert_max_num_queries
):
    add_organizations(3, bureau)
    assert_flat(
        login(staff_a),
        "/organizations/",
        lambda: add_organizations(35, bureau),
        django_assert_max_num_queries,
    )


def test_user_list_query_count_does_not_grow_with_rows(
    system_admin, agency_a, agency_b, login, django_assert_max_num_queries
):
    orgs = [agency_a, agency_b]
    add_users(4, orgs)  # with the system administrator: 5 rows
    assert_flat(
        login(system_admin),
        "/manage/users/",
        lambda: add_users(35, orgs),
        django_assert_max_num_queries,
    )


def test_agency_admin_user_list_query_count_does_not_grow_with_rows(
    admin_a, agency_a, login, django_assert_max_num_queries
):
    add_users(4, [agency_a])
    assert_flat(
        login(admin_a),
        "/manage/users/",
        lambda: add_users(35, [agency_a]),
        django_assert_max_num_queries,
    )


def test_organization_management_list_query_count_does_not_grow_with_rows(
    system_admin, bureau, login, django_assert_max_num_queries
):
    add_organizations(4, bureau)
    assert_flat(
        login(system_admin),
        "/manage/organizations/",
        lambda: add_organizations(35, bureau),
        django_assert_max_num_queries,
    )
