"""Fixtures of the filing tests (the catalog's fixtures apply too: agencies, bureaus, base
data): a system, a campaign and a project made through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from catalog.filing import services
from tests.catalog import factories as f


@pytest.fixture(autouse=True)
def catalog_gates_only():
    """These tests are about the catalog's own acceptance gates; the aggregation chapter's
    check (a working channel, registered when the app loads) has its tests in
    tests/aggregation/test_checks.py."""
    from aggregation.checks import resource_has_working_channel
    from authorization.sharing.checks import resource_has_supply_path

    services.unregister_acceptance_check(resource_has_working_channel)
    services.unregister_acceptance_check(resource_has_supply_path)
    yield
    services.register_acceptance_check(resource_has_working_channel)
    services.register_acceptance_check(resource_has_supply_path)


def system_fields(**overrides) -> dict:
    """Every census field filled."""
    fields = {
        "name": "婚姻登记管理信息系统",
        "purpose": "婚姻登记业务办理。",
        "builder": "武汉市大数据中心",
        "budget_funded": True,
        "go_live_date": dt.date(2018, 5, 1),
        "database_kind": "dameng",
        "data_volume_gb": Decimal("120.50"),
        "status": "in_use",
        "contact_name": "张伟",
        "contact_phone": "027-85550000",
    }
    fields.update(overrides)
    return fields


def make_system(agency: f.Agency, *, resources=(), **overrides):
    return services.system_create(
        organization=agency.org,
        fields=system_fields(**overrides),
        resources=resources,
        acting_user=agency.staff,
    )


def make_campaign(city: f.Bureau, *, deadline=None, name="2026 年度目录编制"):
    return services.campaign_open(
        name=name,
        year=2026,
        deadline=deadline or dt.date(2099, 12, 31),
        description="年度目录编制",
        acting_user=city.reviewer,
    )


def make_project(agency: f.Agency, *, name="智慧养老服务平台升级项目"):
    return services.project_create(
        organization=agency.org,
        fields={
            "name": name,
            "budget_amount": Decimal("1000000"),
            "year": 2026,
            "description": "",
        },
        acting_user=agency.staff,
    )


@pytest.fixture
def campaign(city):
    return make_campaign(city)


@pytest.fixture
def project(agency):
    return make_project(agency)
