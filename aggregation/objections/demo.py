"""Demo objections (order 70, after the aggregation demo at 50, whose file channel loads the
place names of 武汉市民政局's published resource 地名信息):

- one just submitted by demo_requester about a row (黎黄陂路's origin of the name), waiting
  for the bureau's decision;
- one about another row (昙华林), accepted by demo_city_reviewer and consulted on with the
  agreed outcome "correct", waiting for demo_agency_staff to carry it out;
- one about the resource as a whole, rejected by the bureau with its reasons.

When the resource holds no data (the aggregation demo did not run), the row objections are
filed about the resource as a whole. Everything goes through the services. Idempotent: an
objection with the same description by the same requester is left alone.
"""

from __future__ import annotations

from django.utils import timezone

from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from ..datastore import table_exists
from ..models import DatastoreTable, Objection
from . import services

AGENCY = "武汉市民政局"
RESOURCE = "地名信息"
SUBMITTED = "“黎黄陂路”的命名由来中“黎元洪(黄陂人)”表述不完整,应为“纪念辛亥革命首义都督黎元洪(湖北黄陂人)”。"
AGREED = "“昙华林”的罗马字母拼写应按地名拼写规则分写为“Tanhua Lin”,现数据连写。"
REJECTED = "该资源的地名类别代码涉及本公司的商业秘密,请删除。"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _resource():
    from catalog.models import Resource

    return (
        Resource.objects.filter(
            provider__name=AGENCY, published_version__name=RESOURCE, retired_at__isnull=True
        )
        .select_related("published_version", "provider")
        .first()
    )


def _has_rows(resource) -> bool:
    table = DatastoreTable.objects.filter(resource=resource).first()
    return (
        table is not None and table_exists(table.table_name, table.schema) and table.row_count > 0
    )


def seed_objections(context: dict) -> None:
    resource = _resource()
    requester = _user("demo_requester")
    reviewer = _user("demo_city_reviewer")
    if resource is None or requester is None or reviewer is None:
        return
    rows = _has_rows(resource)
    mine = Objection.objects.filter(requester=requester, resource=resource)

    if not mine.filter(description=SUBMITTED).exists():
        services.objection_submit(
            resource=resource,
            kind=Objection.Kind.ERROR,
            description=SUBMITTED,
            rows="420102002" if rows else "",
            acting_user=requester,
        )

    if not mine.filter(description=AGREED).exists():
        objection = services.objection_submit(
            resource=resource,
            kind=Objection.Kind.ERROR,
            description=AGREED,
            rows="420106002" if rows else "",
            acting_user=requester,
        )
        objection = services.objection_decide(
            objection=objection,
            accept=True,
            reason="异议有具体行和依据,受理并组织会商。",
            acting_user=reviewer,
        )
        services.objection_record_consultation(
            objection=objection,
            held_at=timezone.now(),
            participants="市数据局 陈静;市民政局 张伟;武汉光谷数据科技有限公司 刘洋",
            minutes="三方核对《汉语拼音正词法基本规则》与地名标准化规定,同意异议。",
            outcome=Objection.Outcome.CORRECT,
            outcome_detail="市民政局在 5 个工作日内将罗马字母拼写更正为“Tanhua Lin”,并重新上传数据。",
            acting_user=reviewer,
        )

    if not mine.filter(description=REJECTED).exists():
        objection = services.objection_submit(
            resource=resource,
            kind=Objection.Kind.TRADE_SECRET,
            description=REJECTED,
            acting_user=requester,
        )
        services.objection_decide(
            objection=objection,
            accept=False,
            reason="地名类别代码来自国家标准 GB/T 18521,属于公开信息,不涉及商业秘密。",
            acting_user=reviewer,
        )


register_seeder(Seeder(name="objections", order=70, run=seed_objections))
