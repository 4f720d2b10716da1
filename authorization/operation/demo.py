"""Demo data of authorized operation (item 7), made through the services after sharing's:
fee caps for the four fee bases; `demo_operator` (武汉数据集团有限公司) holds a whole
authorization (the 交通出行 domain) and an individual one (named resources with a plan and
the providers' consents), both in force with products and usage counted by the supply
counters; one expired and one revoked authorization; last year's disclosure report published
by the city bureau. Idempotent: each authorization is recognised by its scope text."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from authorization.sharing.services import usage_record
from catalog.models import Classification, Resource
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder
from wuhan_pdr.kernel.workdays import today

from . import services
from .models import FeeBasis, FeeCap, OperationAuthorization, Product, YearlyDisclosure

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
CAPS = {
    FeeBasis.CALL: ("0.05", "按接口调用次数计费,每次调用不超过上限;失败调用不计费。"),
    FeeBasis.ROW: ("0.01", "按实际交付数据条数计费,重复交付不重复计费。"),
    FeeBasis.MONTH: ("5000", "按月订阅,不足一月按日折算。"),
    FeeBasis.PRODUCT: ("200000", "定制数据产品按项目一次性计费,含一年维护。"),
}
WHOLE = "交通出行领域公共数据整体授权运营,开发出行服务类数据产品。"
INDIVIDUAL = "企业登记与空气质量数据个别授权运营,开发企业信用与环境评估服务。"
EXPIRED = "A级旅游景区信息授权运营试点(已到期)。"
REVOKED = "商品房预售许可信息授权运营(因违反安全要求被撤销)。"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _resources(*names: str) -> list[Resource]:
    return list(
        Resource.objects.filter(
            published_version__name__in=names,
            retired_at__isnull=True,
            published_version__operation_eligible=True,
        ).order_by("code")
    )


def _plan() -> SimpleUploadedFile:
    return SimpleUploadedFile("实施方案.pdf", PDF, content_type="application/pdf")


def _apply(operator, reviewer, scope: str, **fields) -> OperationAuthorization | None:
    existing = OperationAuthorization.objects.filter(scope=scope).first()
    if existing is not None:
        return existing
    base = {
        "purpose": "在安全可控前提下开发公共数据产品和服务,服务企业和群众。",
        "security_measures": "数据在授权运营平台内加工,按最小必要原则使用,全程留痕审计。",
        "starts_on": today(),
        "ends_on": today() + dt.timedelta(days=730),
    }
    base.update(fields)
    authorization = services.authorization_apply(acting_user=operator, scope=scope, **base)
    for provider in services.missing_consents(authorization):
        services.consent_record(
            authorization=authorization,
            provider=provider,
            note="已签署实施方案(演示数据)。",
            acting_user=reviewer,
        )
    return services.authorization_decide(
        authorization=authorization,
        action="approve",
        comment="材料齐全,同意授权。",
        acting_user=reviewer,
    )


def _usage(authorization: OperationAuthorization, base: int) -> None:
    for n, grant in enumerate(authorization.grants.order_by("pk")):
        if grant.usage.exists():
            continue
        for back in (2, 35, 65):
            day = today() - dt.timedelta(days=back)
            usage_record(grant, calls=base + 10 * n + back, rows=(base + back) * 37, day=day)


def seed_operation(context: dict) -> None:
    operator, reviewer = _user("demo_operator"), _user("demo_city_reviewer")
    if operator is None or reviewer is None or operator.organization_id is None:
        return
    for basis, (amount, rule) in CAPS.items():
        if not FeeCap.objects.filter(basis=basis).exists():
            services.fee_cap_set(basis=basis, amount=amount, rule=rule, acting_user=reviewer)
    domain = Classification.objects.filter(code="205").first()
    whole = individual = None
    if domain is not None and _resources("公交线路站点信息"):
        whole = _apply(operator, reviewer, WHOLE, kind="whole", domain=domain)
    picked = _resources("企业登记注册信息", "空气质量监测数据")
    if picked:
        individual = _apply(
            operator, reviewer, INDIVIDUAL, kind="individual", resources=picked, plan=_plan()
        )
    tourism = _resources("A级旅游景区信息")
    if tourism and not OperationAuthorization.objects.filter(scope=EXPIRED).exists():
        ended = _apply(
            operator,
            reviewer,
            EXPIRED,
            kind="individual",
            resources=tourism,
            plan=_plan(),
            ends_on=today() + dt.timedelta(days=1),
        )
        services.authorizations_expire(today=ended.ends_on + dt.timedelta(days=1))
    housing = _resources("商品房预售许可信息")
    if housing and not OperationAuthorization.objects.filter(scope=REVOKED).exists():
        revoked = _apply(
            operator, reviewer, REVOKED, kind="individual", resources=housing, plan=_plan()
        )
        services.authorization_change(
            authorization=revoked,
            action="revoke",
            reason="运营主体未按实施方案落实数据安全措施,经核查予以撤销。",
            acting_user=reviewer,
        )
    for authorization, base in ((whole, 120), (individual, 80)):
        if authorization is not None:
            _usage(authorization, base)
    _products(operator, whole, individual)
    _report(operator, reviewer)


def _products(operator, whole, individual) -> None:
    wanted = []
    if whole is not None:
        wanted += [
            (
                "公交到站预测接口",
                "基于公交线路站点信息的实时到站预测服务。",
                whole,
                "0.03",
                "次",
                FeeBasis.CALL,
            ),
            (
                "城市出行月度报告",
                "按月发布的全市公共交通出行分析报告。",
                whole,
                "3000",
                "月",
                FeeBasis.MONTH,
            ),
        ]
    if individual is not None:
        wanted += [
            (
                "企业信用画像",
                "融合企业登记与环境数据的企业综合信用评估。",
                individual,
                "0.008",
                "条",
                FeeBasis.ROW,
            ),
        ]
    for name, description, authorization, price, unit, basis in wanted:
        if Product.objects.filter(operator=operator.organization, name=name).exists():
            continue
        services.product_save(
            acting_user=operator,
            name=name,
            description=description,
            price=Decimal(price),
            unit=unit,
            fee_basis=basis,
            resources=list(authorization.entries.values_list("resource_id", flat=True)),
        )


def _report(operator, reviewer) -> None:
    year = today().year - 1
    found = YearlyDisclosure.objects.filter(operator=operator.organization, year=year).first()
    if found is not None and found.state == YearlyDisclosure.State.PUBLISHED:
        return
    disclosure = services.disclosure_draft(
        acting_user=operator,
        year=year,
        body=(
            f"{year}年度,武汉数据集团有限公司在授权范围内开发数据产品3项,"
            "累计调用公共数据接口约1.2万次,未发生数据安全事件。"
        ),
    )
    services.disclosure_move(disclosure=disclosure, action="submit", acting_user=operator)
    services.disclosure_move(disclosure=disclosure, action="publish", acting_user=reviewer)


register_seeder(Seeder(name="operation", order=85, run=seed_operation))
