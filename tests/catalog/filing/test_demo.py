"""The filing demo data: after the accounts and catalog seeders, systems linked to
resources, an open campaign, an approved project and one with an empty list, collection
entries; running it again changes nothing."""

from __future__ import annotations

import pytest
from django.utils.module_loading import autodiscover_modules

from catalog.filing.models import (
    CollectionListEntry,
    CompilationCampaign,
    InformationSystem,
    ITProject,
)
from tests.catalog.conftest import ensure_catalog_base_data
from wuhan_pdr.kernel.demo import seeders

pytestmark = pytest.mark.django_db


def _run_all():
    autodiscover_modules("demo")
    context: dict = {}
    for seeder in seeders():
        if seeder.order <= 40:
            seeder.run(context)


def _counts():
    return (
        InformationSystem.objects.count(),
        CompilationCampaign.objects.count(),
        ITProject.objects.count(),
        CollectionListEntry.objects.count(),
    )


def test_demo_seeds_filing_and_is_idempotent():
    ensure_catalog_base_data()
    _run_all()
    minzheng = InformationSystem.objects.filter(organization__name="武汉市民政局")
    assert minzheng.count() >= 3
    assert minzheng.filter(resources__isnull=False).exists()
    assert minzheng.filter(builder="").exists()  # one incomplete census record
    campaign = CompilationCampaign.objects.get(name="2026 年度目录编制")
    assert campaign.state == "open"
    assert ITProject.objects.filter(state="approved", entries__isnull=False).exists()
    assert ITProject.objects.filter(state="draft", entries__isnull=True).exists()
    assert CollectionListEntry.objects.filter(organization__name="武汉市民政局").count() == 4
    before = _counts()
    _run_all()
    assert _counts() == before
