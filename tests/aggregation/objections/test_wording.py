"""Issue 12 item 11: the objection form names its target "异议对象" (not the catalog
feedback's "纠错对象"), and "我的异议" says where an objection is started."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from django.test import Client
from django.utils import translation

from .conftest import publish_bare, requester_user, submit

pytestmark = pytest.mark.django_db
PO_FILE = Path(__file__).resolve().parents[3] / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"


@pytest.fixture
def chinese(tmp_path, settings):
    """Translations compiled from the working tree's .po, the portal's own language."""
    mo_dir = tmp_path / "locale" / "zh_Hans" / "LC_MESSAGES"
    mo_dir.mkdir(parents=True)
    subprocess.run(["msgfmt", "-o", str(mo_dir / "django.mo"), str(PO_FILE)], check=True)
    settings.LOCALE_PATHS = [tmp_path / "locale"]
    with translation.override("zh-hans"):
        yield


def zh_client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_objection_form_names_its_target_as_the_object_of_the_objection(chinese):
    resource = publish_bare()
    html = zh_client(requester_user()).get("/objections/new/", {"resource": resource.pk})
    assert html.status_code == 200
    text = html.content.decode()
    assert "异议对象" in text
    assert "纠错对象" not in text


def test_feedback_form_keeps_its_own_wording(chinese):
    resource = publish_bare()
    html = zh_client(requester_user()).get("/catalog/feedback/new/", {"resource": resource.pk})
    assert html.status_code == 200
    assert "纠错对象" in html.content.decode()


def test_my_objections_says_where_to_start_one_when_the_list_is_not_empty(world):
    submit(world)
    response = Client()
    response.force_login(world.requester)
    html = response.get("/objections/mine/").content.decode()
    assert "objection-start" in html
    assert 'href="/catalog/"' in html
