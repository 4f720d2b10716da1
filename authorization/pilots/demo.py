"""A demo call for pilot scenarios with two proposals (武汉数据集团有限公司 and 武汉光谷数据科技
有限公司), both scored, the first selected with a priced-but-free trial; and a second call
still open. Idempotent: found by title."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import services
from .models import PilotCall

CALL = "2026 年度公共数据“数据要素×”应用试点场景征集"
OPEN_CALL = "城市交通出行公共数据应用试点场景征集"

# The smallest well-formed PDF: the upload check reads its header.
PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
)


def _doc(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def seed_pilots(context: dict) -> None:
    reviewer = User.objects.filter(username="demo_city_reviewer").first()
    operator = User.objects.filter(username="demo_operator").first()
    requester = User.objects.filter(username="demo_requester").first()
    if reviewer is None or operator is None or requester is None:
        return
    now = timezone.now()
    if not PilotCall.objects.filter(title=OPEN_CALL).exists():
        services.call_publish(
            title=OPEN_CALL,
            area="交通出行",
            requirements="利用公交、地铁客流与道路拥堵等公共数据,提供出行规划或运力调度服务;"
            "须在数据沙箱或授权运营环境中使用数据,不得导出个人信息。",
            deadline=now + dt.timedelta(days=45),
            acting_user=reviewer,
        )
    if PilotCall.objects.filter(title=CALL).exists():
        return
    call = services.call_publish(
        title=CALL,
        area="普惠金融、医疗健康",
        requirements="面向普惠金融、医疗健康领域,提出公共数据与社会数据融合应用的场景方案;"
        "说明所需公共数据、数据安全措施、预期成效与服务定价。",
        deadline=now + dt.timedelta(days=1),
        acting_user=reviewer,
    )
    chosen = services.proposal_submit(
        call=call,
        title="小微企业信用画像与普惠贷款风控",
        summary="融合市场监管、税务、社保缴纳等公共数据,为银行提供小微企业信用评分服务,"
        "缩短贷款审批时间。",
        data_needed="企业登记信息、社保缴纳人数、纳税信用等级",
        document=_doc("小微企业信用画像方案.pdf"),
        acting_user=operator,
    )
    other = services.proposal_submit(
        call=call,
        title="慢病患者就医导航服务",
        summary="基于医疗机构公开信息与医保定点数据,为慢病患者推荐就近可报销的医疗机构。",
        data_needed="医疗机构名录、医保定点机构信息",
        document=_doc("慢病就医导航方案.pdf"),
        acting_user=requester,
    )
    services.call_move(call=call, transition="close_submissions", acting_user=reviewer)
    services.proposal_score(
        proposal=chosen,
        scores={"value": 23, "feasibility": 21, "security": 22, "innovation": 19},
        comment="应用价值明确,数据安全措施完备;建议先在两家银行试点。",
        acting_user=reviewer,
    )
    services.proposal_score(
        proposal=other,
        scores={"value": 18, "feasibility": 15, "security": 20, "innovation": 14},
        comment="场景可行,但与现有公开服务重叠较多。",
        acting_user=reviewer,
    )
    services.proposal_select(
        proposal=chosen,
        service="小微企业信用评分接口",
        price=Decimal("0.50"),
        unit="元/次",
        waived_until=timezone.localdate() + dt.timedelta(days=180),
        comment="入选首批试点,试点期内计价免费。",
        acting_user=reviewer,
    )
    services.call_move(call=call, transition="finish", acting_user=reviewer)


register_seeder(Seeder(name="pilots", order=97, run=seed_pilots))
