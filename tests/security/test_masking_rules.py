"""Masking rules as data: the seeded rules, the security administrator's pages (list, create,
edit with history), rights (404 for others), naughty strings, and the migration's mapping of
the old free-text rules."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

from security.masking import KEEP_ENDS, mask_value
from security.masking.models import MaskingRule
from security.masking.seed import RULES, TEXT_TO_RULE, rule_for_text, seed_rules
from security.masking.selectors import resolve_rules
from tests.accounts.factories import UserFactory
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.errors import DomainError

pytestmark = pytest.mark.django_db


@pytest.fixture
def security_admin(bureau):
    return UserFactory(username="secadmin", organization=bureau, roles=[Role.SECURITY_ADMIN])


@pytest.fixture
def auditor(bureau):
    return UserFactory(username="auditor1", organization=bureau, roles=[Role.AUDITOR])


def test_the_migration_seeds_the_default_rules_and_seeding_again_adds_nothing():
    names = {r[0] for r in RULES}
    assert names <= set(MaskingRule.objects.values_list("name", flat=True))
    before = MaskingRule.objects.count()
    seed_rules(MaskingRule)
    seed_rules(MaskingRule)
    assert MaskingRule.objects.count() == before
    # the rule the portal masked with before rules were data
    old = MaskingRule.objects.get(name="保留首尾").mask
    assert mask_value("420102199003071234", old) == "4********4"
    assert mask_value("欧阳修远", MaskingRule.objects.get(name="保留姓氏")) == "欧***"


def test_old_free_texts_map_to_rules_and_unknown_ones_keep_their_text_in_a_note():
    rules = seed_rules(MaskingRule)
    for text, name in TEXT_TO_RULE.items():
        assert rule_for_text(MaskingRule, text, rules).name == name
    assert rule_for_text(MaskingRule, "  ", rules) is None
    odd = rule_for_text(MaskingRule, "按照规定处理后展示", rules)
    assert odd.method == KEEP_ENDS and (odd.keep_first, odd.keep_last) == (1, 1)
    assert "按照规定处理后展示" in odd.note
    assert rule_for_text(MaskingRule, "按照规定处理后展示", rules).pk == odd.pk


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_moves_item_texts_to_rules():
    """Catalog 0011/0012 on a real database: items filed with free-text rules before it
    (written as text at 0010) carry the mapped rules after it."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from catalog.models import DataItem
    from tests.catalog.factories import make_agency, make_draft, valid_items

    items = valid_items()
    for item in items:
        item.pop("is_update_flag", None)
    version = make_draft(make_agency(), items=items)
    ids = list(version.items.order_by("position").values_list("pk", flat=True))
    executor = MigrationExecutor(connection)
    # Going back to catalog 0010 also unapplies what depends on it (authorization, ...): go
    # forward to every leaf, so the database is whole again for the tests after this one.
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate([("catalog", "0010_element_change_request_stored_data_impact")])
    with connection.cursor() as cur:
        for pk, text in zip(ids, ["保留前6位和后4位", "保留至街道", "按规定处理"], strict=True):
            cur.execute("UPDATE catalog_dataitem SET masking_rule = %s WHERE id = %s", [text, pk])
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    got = {i.pk: i.masking_rule for i in DataItem.objects.filter(pk__in=ids)}
    assert [got[pk].name for pk in ids] == ["保留前6位和后4位", "保留至区县", "按规定处理"]
    odd = got[ids[2]]
    assert "按规定处理" in odd.note and odd.method == KEEP_ENDS


def test_names_resolve_to_rules_and_unknown_names_are_refused():
    rule = MaskingRule.objects.get(name="保留首尾")
    got = resolve_rules(["保留首尾", "保留至小区", "", None, rule, str(rule.pk)])
    assert [r.name if r else None for r in got] == [
        "保留首尾",
        "保留至区县",
        None,
        None,
        "保留首尾",
        "保留首尾",
    ]
    with pytest.raises(DomainError):
        resolve_rules(["没有这个规则"])


def test_only_the_security_admin_and_the_auditor_see_the_rules(
    login, security_admin, auditor, staff_a, system_admin
):
    url = reverse("security:masking-rules")
    rule = MaskingRule.objects.get(name="保留首尾")
    assert login(security_admin).get(url).status_code == 200
    page = login(auditor).get(url)
    assert page.status_code == 200 and "保留首尾" in page.text
    assert reverse("security:masking-rule-create") not in page.text
    for user in (staff_a, system_admin):
        assert login(user).get(url).status_code == 404
        assert login(user).get(reverse("security:masking-rule", args=[rule.pk])).status_code == 404
    # the auditor reads, never writes
    assert login(auditor).get(reverse("security:masking-rule-create")).status_code == 404
    r = login(auditor).post(reverse("security:masking-rule", args=[rule.pk]), {"name": "x"})
    assert r.status_code == 403  # the auditor's account changes nothing (separation of duties)
    assert MaskingRule.objects.get(pk=rule.pk).name == "保留首尾"
    assert (
        login(security_admin).get(reverse("security:masking-rule", args=[99999])).status_code == 404
    )


def test_the_menu_shows_the_rules_to_the_security_admin_only(login, security_admin, staff_a):
    url = reverse("security:masking-rules")
    assert url in login(security_admin).get(reverse("kernel:home")).text
    assert url not in login(staff_a).get(reverse("kernel:home")).text


def _form(**over):
    data = {
        "name": "手机号中间",
        "method": "keep_ends",
        "keep_first": 3,
        "keep_last": 4,
        "max_stars": 4,
        "replacement": "***",
        "digits": 0,
        "multiple": "",
        "description": "手机号保留前三后四。",
        "note": "",
    }
    data.update(over)
    return data


def test_the_security_admin_creates_and_edits_a_rule_with_history(login, security_admin):
    c = login(security_admin)
    r = c.post(reverse("security:masking-rule-create"), _form())
    rule = MaskingRule.objects.get(name="手机号中间")
    assert r.status_code == 302 and r.url == reverse("security:masking-rule", args=[rule.pk])
    page = c.get(r.url)
    assert "138****5678" in page.text  # the example shows what it does
    r = c.post(r.url, _form(keep_first=2, description="改为前二后四"))
    assert r.status_code == 302
    rule.refresh_from_db()
    assert rule.keep_first == 2
    history = list(rule.history.order_by("history_date"))
    assert [h.history_type for h in history] == ["+", "~"]
    assert {h.history_user_id for h in history} == {security_admin.pk}
    assert history[0].keep_first == 3 and history[1].keep_first == 2
    assert "Masking rule changed" in [h.history_change_reason for h in history]
    assert "改为前二后四" in c.get(r.url).text


def test_a_rule_form_refuses_bad_values(login, security_admin):
    c = login(security_admin)
    r = c.post(reverse("security:masking-rule-create"), _form(keep_first=0, keep_last=0))
    assert r.status_code == 200 and not MaskingRule.objects.filter(name="手机号中间").exists()
    r = c.post(reverse("security:masking-rule-create"), _form(name="保留首尾"))
    assert r.status_code == 200
    r = c.post(reverse("security:masking-rule-create"), _form(method="rot13"))
    assert r.status_code == 200


def test_naughty_strings_in_the_search_and_the_form_never_500(login, security_admin, naughty):
    c = login(security_admin)
    url = reverse("security:masking-rules")
    for i, s in enumerate(naughty):
        assert c.get(url, {"q": s}).status_code == 200
        if i % 10 == 0:
            r = c.post(
                reverse("security:masking-rule-create"),
                _form(name=s[:50] or f"n{i}", description=s, replacement=s[:20]),
            )
            assert r.status_code in (200, 302)
    assert c.get(url, {"method": "nope"}).status_code == 200


def test_production_refuses_to_start_without_a_masking_key():
    import os
    import subprocess
    import sys
    from pathlib import Path

    from cryptography.fernet import Fernet

    env = {
        **{k: v for k, v in os.environ.items() if k != "MASKING_HMAC_KEY"},
        "DJANGO_SETTINGS_MODULE": "wuhan_pdr.settings.production",
        "DJANGO_SECRET_KEY": "x" * 60,
        "FIELD_ENCRYPTION_KEY": Fernet.generate_key().decode(),
        "DJANGO_ALLOWED_HOSTS": "data.wuhan.gov.cn",
        "LEDGER_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode(),
        "BACKUP_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode().rstrip("="),
    }
    code = "from django.conf import settings as s; print(s.MASKING_HMAC_KEY)"
    root = Path(__file__).resolve().parents[2]
    run = [sys.executable, "-c", f"import django; django.setup(); {code}"]
    refused = subprocess.run(run, cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "MASKING_HMAC_KEY" in refused.stderr
    env["MASKING_HMAC_KEY"] = "k" * 48
    ok = subprocess.run(run, cwd=root, env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and ok.stdout.strip() == "k" * 48
