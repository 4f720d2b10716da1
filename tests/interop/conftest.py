"""Interop tests: an open catalog with, beside its open resources, resources that must never
appear (closed, not shared, above the open grade their grade allows)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation

from authorization.opendata import services as opendata_services
from tests.authorization.opendata.factories import city_licence, make_open
from tests.catalog.conftest import ensure_catalog_base_data


@pytest.fixture(autouse=True)
def _media(db, settings, tmp_path):
    ensure_catalog_base_data()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    }
    with translation.override("en"):
        yield


@dataclass
class World:
    open_: object  # open unconditionally, loaded, files built
    conditional: object  # open under conditions: metadata only
    closed: object  # not open (and not shared)
    above_grade: object  # opened under conditions with a grade that no longer allows it
    licence: object

    @property
    def hidden(self):
        return [self.closed, self.above_grade]


def make_world() -> World:
    from security.models import Grade

    licence = city_licence()
    open_ = make_open(n=3, name="开放养老机构信息")
    opendata_services.downloads_build(resource_id=open_.resource.pk)
    conditional = make_open(n=0, open_type="conditional", name="有条件开放的医疗机构")
    closed = make_open(
        n=0,
        open_type="none",
        name="不予开放的户籍资料",
        share_type="none",
        share_legal_basis="《中华人民共和国个人信息保护法》第十三条",
    )
    above = make_open(n=0, open_type="conditional", grade="L2", name="超出分级的社保资料")
    # The security administrator tightens L2: its resources may no longer be opened.
    Grade.objects.filter(code="L2").update(may_open_conditionally=False)
    return World(open_, conditional, closed, above, licence)


@pytest.fixture
def world(db) -> World:
    return make_world()
