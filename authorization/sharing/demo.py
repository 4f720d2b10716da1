"""Demo data of sharing (item 8): share requests in every state and grants in every state,
made through the services. `demo_staff_police` (武汉市公安局) holds a working grant to
武汉市民政局's 最低生活保障对象信息 (data loaded by the aggregation demo), with a passed
security assessment and, where settings.DEMO_SUPPLY_KEY is set (local settings only), that
fixed key, so the README can show a curl line. Idempotent: each request is recognised by its
scenario text and made once."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone

from catalog.models import Resource
from security.assessments import has_valid_pass
from security.assessments.services import assessment_record
from wuhan_pdr.accounts.models import User
from wuhan_pdr.kernel.demo import Seeder, register_seeder
from wuhan_pdr.kernel.workdays import today

from . import services
from .assessments import GRANT_CHECKLIST
from .models import Grant, ShareRequest

MZ = "武汉市民政局"
SUPPLY_RESOURCE = "最低生活保障对象信息"
POLICE_SCENARIO = "公安机关办理户籍业务时核验申请人最低生活保障身份,减免相关费用。"


def _user(username: str) -> User | None:
    return User.objects.filter(username=username).first()


def _resource(name: str, provider: str = MZ) -> Resource | None:
    return (
        Resource.objects.filter(
            provider__name=provider,
            published_version__name=name,
            retired_at__isnull=True,
        )
        .select_related("published_version")
        .first()
    )


def _fields(scenario: str, **overrides) -> dict:
    fields = {
        "scenario": scenario,
        "basis_kind": "law",
        "law_name": "《武汉市公共数据资源管理办法》",
        "law_article": "第七条",
        "duty": "",
        "purpose": "依法履行职责,减少群众重复提交材料。",
        "period_start": today(),
        "period_end": today() + dt.timedelta(days=365),
        "expected_daily_rows": 200,
    }
    fields.update(overrides)
    return fields


def _ask(username: str, resource_name: str, scenario: str, **overrides) -> ShareRequest | None:
    """The request, made once: None when its user or resource is missing."""
    existing = ShareRequest.objects.filter(scenario=scenario).first()
    if existing is not None:
        return existing
    user, resource = _user(username), _resource(resource_name)
    if user is None or resource is None:
        return None
    items = overrides.pop("items", None)
    item_ids = [
        i.pk
        for i in resource.published_version.items.all()
        if items is None or i.english_name in items
    ]
    return services.share_request_create(
        resource=resource,
        item_ids=item_ids,
        fields=_fields(scenario, **overrides),
        acting_user=user,
    )


def _usage(grant: Grant, days: int, rows: int) -> None:
    if grant.usage.exists():
        return
    for back in range(days, 0, -1):
        services.usage_record(
            grant,
            rows=rows + (back * 37) % 50,
            calls=5 + back % 4,
            day=today() - dt.timedelta(back),
        )


def _pass(grant: Grant) -> None:
    if not grant.needs_assessment or has_valid_pass(services.ASSESSMENT_KIND, grant.pk):
        return
    assessment_record(
        subject_kind=services.ASSESSMENT_KIND,
        subject_id=grant.pk,
        assessed_on=today(),
        result="pass",
        findings="调用方部署在政务外网,身份证号以 HMAC 形式交付,姓名脱敏,符合共享安全要求。",
        answers=[(q.key, "yes", "") for q in GRANT_CHECKLIST],
        valid_until=today() + dt.timedelta(days=365),
        acting_user=_user("demo_security_admin"),
    )


def seed_police_grant() -> Grant | None:
    """demo_staff_police's working grant to 最低生活保障对象信息."""
    request = _ask("demo_staff_police", SUPPLY_RESOURCE, POLICE_SCENARIO)
    if request is None:
        return None
    admin = _user("demo_agency_admin")
    if request.state == ShareRequest.State.PENDING:
        deliveries = {}
        for row in request.items.select_related("item__grade", "item__version__grade"):
            item = row.item
            if item.is_key:
                deliveries[item.pk] = "clear"
            elif item.name == "公民身份号码":
                deliveries[item.pk] = "hmac"
            else:
                deliveries[item.pk] = services.default_delivery(item)
        services.share_request_approve(
            request=request, deliveries=deliveries, allowed_ips=(), acting_user=admin
        )
    grant = request.grants.order_by("pk").first()
    if grant is None:
        return None
    _pass(grant)
    key = getattr(settings, "DEMO_SUPPLY_KEY", "")
    if key and grant.key_hash != services.key_digest(key):
        services.grant_key_install(grant=grant, raw_key=key, acting_user=admin)
    _usage(grant, 14, 150)
    return grant


def seed_requests() -> None:
    admin = _user("demo_agency_admin")
    # Pending, in demo_agency_admin's queue.
    _ask(
        "demo_staff_police",
        "婚姻登记信息",
        "办理户籍登记时核验当事人婚姻状况。",
        basis_kind="duty",
        duty="户籍登记管理职责",
        law_name="",
        law_article="",
    )
    # Pending and overdue: the provider did not reply in time.
    late = _ask("demo_staff_hrss", SUPPLY_RESOURCE, "社会保险费减免资格核验。")
    if late is not None and late.overdue_flagged_at is None and late.state == "pending":
        ShareRequest.objects.filter(pk=late.pk).update(
            reply_due=timezone.now() - dt.timedelta(days=2)
        )
        services.share_requests_flag_overdue()
    # Refused by the provider, with reasons.
    refused = _ask("demo_staff_edu", "婚姻登记信息", "学生资助对象家庭情况核查。")
    if refused is not None and refused.state == "pending":
        services.share_request_refuse(
            request=refused,
            reasons="婚姻登记信息不属于学生资助核查所需,请改用最低生活保障对象信息。",
            acting_user=admin,
        )
    # Not shared: refused at once with the catalog's basis, then coordination asked.
    none = _ask("demo_staff_hrss", "收养登记信息", "就业困难人员认定中核实家庭成员关系。")
    if none is not None and none.state == "refused":
        services.share_request_ask_coordination(
            request=none,
            note="就业困难人员认定确需核实收养关系,请市数据局协调提供核验接口。",
            acting_user=_user("demo_admin_hrss"),
        )
    # Withdrawn by the requester.
    gone = _ask("demo_staff_health", "婚姻登记信息", "出生医学证明办理中核验父母婚姻状况。")
    if gone is not None and gone.state == "pending":
        services.share_request_withdraw(request=gone, acting_user=_user("demo_staff_health"))


def seed_grants() -> None:
    """Unconditionally shared resources granted at once, then a grant in each other state."""
    admin = _user("demo_agency_admin")
    # Active, key still to collect.
    _ask("demo_staff_police", "社会组织登记信息", "核查涉案社会组织的登记状态。")
    # Flagged: its use far exceeds the declared volume.
    flagged = _ask("demo_staff_hrss", "地名信息", "社保经办地址标准化。", expected_daily_rows=100)
    if flagged is not None:
        grant = flagged.grants.first()
        if grant is not None and not grant.usage.exists():
            _usage(grant, 6, 80)
            services.usage_record(grant, rows=1500, calls=40, day=today() - dt.timedelta(1))
            services.grants_volume_check()
    # Suspended by the provider.
    paused = _ask("demo_staff_edu", "社会组织登记信息", "校外培训机构资质核查。")
    if paused is not None:
        grant = paused.grants.first()
        if grant is not None and grant.state == Grant.State.ACTIVE:
            _usage(grant, 5, 40)
            services.grant_suspend(
                grant=grant,
                reason="调用方未按约定报送使用情况,暂停至报送后恢复。",
                acting_user=admin,
            )
    # Revoked.
    ended = _ask("demo_staff_health", "地名信息", "院前急救地址定位。")
    if ended is not None:
        grant = ended.grants.first()
        if grant is not None and grant.state == Grant.State.ACTIVE:
            services.grant_revoke(
                grant=grant, reason="业务已改用市级地址库服务,终止本授权。", acting_user=admin
            )
    # Expired: a past period.
    old = _ask("demo_staff_eco", "社会组织登记信息", "环保社会组织名录核对(2025 年度)。")
    if old is not None:
        grant = old.grants.first()
        if grant is not None and grant.state == Grant.State.ACTIVE:
            past = timezone.now() - dt.timedelta(days=1)
            Grant.objects.filter(pk=grant.pk).update(
                valid_from=past - dt.timedelta(days=365), valid_until=past
            )
            services.grants_expire()


def seed_sharing(context: dict) -> None:
    seed_police_grant()
    seed_requests()
    seed_grants()


register_seeder(Seeder(name="sharing", order=80, run=seed_sharing))
