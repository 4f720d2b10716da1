"""Stored XSS (issue #11, item 2): text an agency's staff typed into the catalog (item names,
item descriptions, the resource name) and into a channel (its name) comes back escaped on
every page that shows it: the catalog entry and its versions (with the diff of a revision),
the entry's edit form, the channel page and its form, the batch page, the data preview's
header, the quality page, the objection form (whose help text lists the key
items) and an objection's page. Help text is escaped like any other text
(templates/includes/field.html); no page carries the markup as markup."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape

from aggregation import services as agg
from aggregation.objections import services as objections
from aggregation.quality import services as quality
from catalog import services as catalog
from catalog.models import DataItem
from tests.aggregation.factories import items_people, make_channel
from tests.catalog import factories as cf
from tests.catalog.conftest import ensure_catalog_base_data

pytestmark = pytest.mark.django_db

KEY_ITEM = "<img src=x onerror=alert(1)>"
NAME_ITEM = "<script>alert(2)</script>姓名"
DESCRIPTION = "<b onmouseover=alert(3)>说明</b>"
RESOURCE = '"><svg onload=alert(4)>人员信息'
CHANNEL = "<iframe src=javascript:alert(5)>通道"
PAYLOADS = (KEY_ITEM, NAME_ITEM, DESCRIPTION, RESOURCE, CHANNEL)


@pytest.fixture(autouse=True)
def _base(db, settings, tmp_path):
    ensure_catalog_base_data()
    settings.MEDIA_ROOT = str(tmp_path / "media")
    with translation.override("en"):
        yield


def client(user) -> Client:
    c = Client()
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    c.force_login(user)
    return c


def hostile_items() -> list[dict]:
    items = items_people()
    items[0]["name"] = KEY_ITEM
    items[1]["name"] = NAME_ITEM
    items[1]["description"] = DESCRIPTION
    return items


@pytest.fixture
def world():
    setup = make_channel(items=hostile_items(), name=CHANNEL)
    batch = agg.batch_upload(
        channel=setup.channel,
        uploaded=SimpleUploadedFile(
            "data.csv",
            (
                "code,full_name,age,born,amount,updated_at\n"
                "A0001,张三,30,1990-01-01,10.50,2025-01-02 08:00:00\n"
            ).encode(),
        ),
        acting_user=setup.agency.staff,
    )
    batch = agg.batch_run(batch_id=batch.pk)
    assert batch.status == "succeeded", batch.status
    return setup, batch


def shows_escaped(page, *texts: str) -> None:
    """The page answers 200, shows each text escaped, and carries no payload as markup."""
    assert page.status_code == 200, page.status_code
    body = page.content.decode()
    for text in texts:
        assert escape(text) in body, f"{text!r} not shown on {page.wsgi_request.path}"
    for payload in PAYLOADS:
        assert payload not in body, f"{payload!r} unescaped on {page.wsgi_request.path}"


def test_item_names_typed_by_staff_are_escaped_on_every_page_that_shows_them(world):
    setup, batch = world
    resource, staff = setup.resource, setup.agency.staff
    version = resource.published_version
    reviewer = cf.make_city_bureau().reviewer
    assert DataItem.objects.filter(version=version, name=KEY_ITEM, is_key=True).exists()

    staff_pages = {
        "catalog entry": reverse("catalog:resource", args=[resource.pk]),
        "published version": reverse("catalog:version", args=[version.pk]),
        "channel": reverse("aggregation:channel-detail", args=[setup.channel.pk]),
        "preview": reverse("aggregation:preview", args=[resource.pk]),
    }
    for url in staff_pages.values():
        shows_escaped(client(staff).get(url), KEY_ITEM, NAME_ITEM)

    # The channel's own pages show its name (and its form the item names as choices/help).
    shows_escaped(client(staff).get(reverse("aggregation:channel-edit", args=[setup.channel.pk])))
    shows_escaped(client(staff).get(reverse("aggregation:batch-detail", args=[batch.pk])), CHANNEL)
    shows_escaped(
        client(staff).get(reverse("aggregation:channel-detail", args=[setup.channel.pk])), CHANNEL
    )

    # A revision renaming the resource and changing an item: its page shows the differences,
    # its form the items as values.
    draft = catalog.resource_revise(resource=resource, acting_user=staff)
    items = [
        {k: getattr(i, k) for k in catalog.ITEM_FIELDS} for i in draft.items.order_by("position")
    ]
    items[1]["description"] = DESCRIPTION + "(新)"
    catalog.resource_draft_update(
        version=draft, acting_user=staff, fields={"name": RESOURCE}, items=items
    )
    shows_escaped(
        client(staff).get(reverse("catalog:version", args=[draft.pk])),
        NAME_ITEM,
        RESOURCE,
        DESCRIPTION,
    )
    shows_escaped(
        client(staff).get(reverse("catalog:version_edit", args=[draft.pk])), KEY_ITEM, RESOURCE
    )
    shows_escaped(client(staff).get(reverse("catalog:resource_versions", args=[resource.pk])))

    # Quality: the rules derived from the items are named after them.
    quality.quality_rules_sync(resource=resource)
    shows_escaped(client(reviewer).get(reverse("quality:resource", args=[resource.pk])), KEY_ITEM)

    # The objection form lists the key items in the help text of its rows field (shown to who
    # may name rows: here the provider, the resource being neither open nor shared freely).
    form = client(staff).get(reverse("objections:create") + f"?resource={resource.pk}")
    shows_escaped(form, KEY_ITEM)
    objection = objections.objection_submit(
        resource=resource,
        kind="error",
        description=DESCRIPTION,
        rows="A0001",
        acting_user=staff,
    )
    shows_escaped(
        client(reviewer).get(reverse("objections:detail", args=[objection.pk])), DESCRIPTION
    )
