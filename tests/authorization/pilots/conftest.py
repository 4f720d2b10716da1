"""Fixtures of the pilot tests: the city bureau with two reviewers, an operator, a company
(role requester), and an open call."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from authorization.pilots import services
from authorization.pilots.demo import PDF
from tests.accounts.factories import OrganizationFactory, UserFactory
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role


def pdf(name: str = "方案.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


@dataclass
class World:
    reviewer: User
    reviewer2: User
    operator: User
    company: User
    other_company: User
    auditor: User


@pytest.fixture
def world(db) -> World:
    bureau = OrganizationFactory(kind=Organization.Kind.CITY_BUREAU)
    return World(
        reviewer=UserFactory(organization=bureau, roles=[Role.CITY_REVIEWER]),
        reviewer2=UserFactory(organization=bureau, roles=[Role.CITY_REVIEWER]),
        operator=UserFactory(
            organization=OrganizationFactory(kind=Organization.Kind.OPERATOR),
            roles=[Role.OPERATOR],
        ),
        company=UserFactory(
            organization=OrganizationFactory(kind=Organization.Kind.USER_ORG),
            roles=[Role.REQUESTER],
        ),
        other_company=UserFactory(
            organization=OrganizationFactory(kind=Organization.Kind.USER_ORG),
            roles=[Role.REQUESTER],
        ),
        auditor=UserFactory(organization=bureau, roles=[Role.AUDITOR]),
    )


def publish(world, days: float = 10, title: str = "医疗健康试点场景征集"):
    return services.call_publish(
        title=title,
        area="医疗健康",
        requirements="说明数据需求与安全措施。",
        deadline=timezone.now() + dt.timedelta(days=days),
        acting_user=world.reviewer,
    )


def propose(call, user, title: str = "就医导航"):
    return services.proposal_submit(
        call=call,
        title=title,
        summary="为慢病患者推荐医疗机构。",
        data_needed="医疗机构名录",
        document=pdf(),
        acting_user=user,
    )
