"""The authorized-operation journey of issue #15 in a real browser: demo_operator applies for
an individual authorization of 地名信息 (data loaded by the aggregation demo) with its
implementation plan; demo_city_reviewer finds it in the work queue, records the provider's
consent and approves it, which issues a supply grant; the operator collects the key, lists a
product above the fee cap (refused) and then within it, and calls the supply API; an anonymous
visitor opens /disclosures/ and sees the authorization, the product and its usage (also at
360 px)."""

from __future__ import annotations

import os
import re

import pytest
from django.core.management import call_command
from django.utils import timezone

from authorization.operation.models import OperationAuthorization, Product
from authorization.operation.services import fee_cap_set
from catalog.models import Resource
from registration.applications.demo import seed_operation_scope
from wuhan_pdr.accounts.models import User

from .conftest import login, logout

pytestmark = [pytest.mark.e2e]

RESOURCE = "地名信息"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def test_operator_authorized_lists_a_product_and_is_disclosed(page, seeded, shot, tmp_path):
    password = seeded
    call_command("seed_demo", only=["aggregation"], stdout=open(os.devnull, "w"))  # noqa: SIM115
    # Approval needs the resources registered (Art. 23): the demo registers the operation scope.
    seed_operation_scope({})
    resource = Resource.objects.get(published_version__name=RESOURCE, retired_at__isnull=True)
    reviewer = User.objects.get(username="demo_city_reviewer")
    fee_cap_set(basis="call", amount="0.05", rule="按调用次数计费。", acting_user=reviewer)
    base = page.base_url
    plan = tmp_path / "实施方案.pdf"
    plan.write_bytes(PDF)
    today = timezone.localdate()

    # The operator applies for an individual authorization.
    login(page, "demo_operator", password)
    page.goto(base + "/operation/")
    shot(page, "01-operator-list")
    page.goto(base + "/operation/apply/")
    page.locator("input[name=kind][value=individual]").check()
    page.fill("#id_resource_codes", resource.code)
    page.fill("#id_scope", "基于标准地名数据开发地址核验服务。")
    page.fill("#id_purpose", "为物流企业提供地址标准化服务。")
    page.fill("#id_security_measures", "数据在授权运营平台内加工,全程审计。")
    page.set_input_files("#id_plan", str(plan))
    page.fill("#id_starts_on", today.isoformat())
    page.fill("#id_ends_on", today.replace(year=today.year + 1).isoformat())
    shot(page, "02-apply")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    authorization = OperationAuthorization.objects.get(operator__name="武汉数据集团有限公司")
    assert page.url.endswith(f"/operation/authorizations/{authorization.pk}/")
    assert authorization.state == "submitted"
    shot(page, "03-applied")
    logout(page)

    # The city bureau's reviewer finds it in the work queue, records consent, approves.
    login(page, "demo_city_reviewer", password)
    page.goto(base + "/")
    page.locator(f"a[href='/operation/authorizations/{authorization.pk}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    page.select_option("#id_c-provider", str(resource.provider_id))
    page.fill("#id_c-note", "民政局已签署实施方案。")
    page.locator("form:has(#id_c-note) [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    page.select_option("#id_d-action", "approve")
    page.fill("#id_d-comment", "同意授权。")
    shot(page, "04-review")
    page.locator("form:has(#id_d-action) [type=submit]").click()
    page.wait_for_load_state("domcontentloaded")
    authorization.refresh_from_db()
    assert authorization.state == "active"
    (grant,) = authorization.grants.all()
    shot(page, "05-approved")
    logout(page)

    # The operator collects the key and lists a product: above the cap, then within it.
    login(page, "demo_operator", password)
    page.goto(base + f"/operation/authorizations/{authorization.pk}/")
    page.locator("[data-testid=show-key]").first.click()
    page.wait_for_load_state("domcontentloaded")
    key = page.locator("[data-testid=api-key]").input_value()
    assert re.fullmatch(r"pdr_[0-9a-f]{12}_[A-Za-z0-9_-]+", key)
    shot(page, "06-key")
    page.goto(base + "/operation/products/new/")
    page.fill("#id_name", "地址标准化接口")
    page.fill("#id_description", "输入地址,返回标准地名和行政区划。")
    page.locator(f"input[name=resources][value='{resource.pk}']").check()
    page.fill("#id_price", "0.08")
    page.fill("#id_unit", "次")
    page.select_option("#id_fee_basis", "call")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert "0.05" in page.locator("main").inner_text()
    assert not Product.objects.exists()
    shot(page, "07-above-cap")
    page.fill("#id_price", "0.03")
    page.locator("main form [type=submit]").first.click()
    page.wait_for_load_state("domcontentloaded")
    assert page.url.endswith("/operation/products/")
    shot(page, "08-products")

    response = page.request.get(
        base + f"/api/v1/supply/{resource.pk}/rows/?limit=5",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status == 200, response.text()
    rows = len(response.json()["rows"])
    assert rows > 0
    assert grant.usage.get().calls == 1
    page.goto(base + "/operation/usage/")
    shot(page, "09-usage")
    logout(page)

    # Anyone sees the disclosure: the authorization, the product with its price, the usage.
    page.goto(base + "/disclosures/")
    text = page.locator("main").inner_text()
    assert "武汉数据集团有限公司" in text and resource.code in text and RESOURCE in text
    shot(page, "10-disclosures")
    page.locator(f"a[href='/disclosures/operators/{authorization.operator_id}/']").first.click()
    page.wait_for_load_state("domcontentloaded")
    text = page.locator("main").inner_text()
    assert "地址标准化接口" in text and "0.03" in text
    usage = page.locator("#usage-title + .table-wrap tbody tr").first.inner_text()
    assert re.search(r"\b1\b", usage) and str(rows) in usage
    shot(page, "11-operator-public")
    page.set_viewport_size({"width": 360, "height": 800})
    page.goto(base + "/disclosures/")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, width
    shot(page, "12-disclosures-360")
    page.goto(base + "/disclosures/fees/")
    shot(page, "13-fees-360")
