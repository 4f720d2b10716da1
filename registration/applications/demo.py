"""Demo registrations in every state of the procedure, moved through the real services by the
demo users: 武汉市民政局 (demo_agency_staff) registers its resources, 武汉数据集团有限公司
(demo_operator) its products, 武汉市公共数据资源登记中心 (demo_registrar) handles them. Two
are registered with a code and a certificate: 地名信息 and the open data of 养老机构信息.
Idempotent: a registration already present (by registrant and name) is left as it is.

养老机构信息 rests on the evidence demo's own deposit of its open distribution (seeder
`evidence`, order 64): its certificate offers the deposited CSV, which a visitor downloads and
checks on /registration/evidence/verify/. The others rest on small deposits made here by the
evidence service from the bytes of a tiny CSV (`demo_deposit`)."""

from __future__ import annotations

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from catalog.models import Resource
from registration.evidence.models import Deposit
from registration.evidence.services import deposit_of_bytes
from wuhan_pdr.accounts.models import User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from . import services
from .models import NoticeObjection, Registration

AGENCY = "武汉市民政局"
K = Registration.Kind
S = Registration.State
PDF = b"%PDF-1.4\n% demo registration material\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

# (registrant user, kind, resource name or product name, target state)
PLAN = [
    ("demo_agency_staff", K.RESOURCE, "地名信息", S.REGISTERED),
    ("demo_agency_staff", K.RESOURCE, "社会组织登记信息", S.NOTICE),
    ("demo_agency_staff", K.OPEN_DATA, "慈善组织认定信息", S.SUBMITTED),
    ("demo_agency_staff", K.OPEN_DATA, "养老机构信息", S.REGISTERED),
    ("demo_operator", K.PRODUCT, "养老服务机构画像数据产品", S.ACCEPTED),
    ("demo_operator", K.PRODUCT, "社会组织信用评价服务", S.RETURNED),
    ("demo_operator", K.PRODUCT, "地名地址标准化接口服务", S.DRAFT),
    ("demo_operator", K.PRODUCT, "婚育人口趋势分析报告", S.REFUSED),
    ("demo_operator", K.PRODUCT, "殡葬服务指引数据集", S.WITHDRAWN),
    ("demo_operator", K.PRODUCT, "区划地名对照数据产品", S.CANCELLED),
]

# The steps from a draft to each state, with the user who takes each and its comment.
STEPS = {
    S.DRAFT: [],
    S.SUBMITTED: [("submit", "a", "")],
    S.RETURNED: [("submit", "a", ""), ("send_back", "r", "缺少数据产品说明书和数据来源授权文件。")],
    S.ACCEPTED: [("submit", "a", ""), ("accept", "r", "")],
    S.NOTICE: [("submit", "a", ""), ("accept", "r", ""), ("review_pass", "r", "")],
    S.REGISTERED: [
        ("submit", "a", ""),
        ("accept", "r", ""),
        ("review_pass", "r", ""),
        ("assign_code", "r", ""),
    ],
    S.REFUSED: [("submit", "a", ""), ("accept", "r", ""), ("refuse", "r", "数据来源授权不清。")],
    S.WITHDRAWN: [("submit", "a", ""), ("withdraw", "a", "")],
    S.CANCELLED: [
        ("submit", "a", ""),
        ("accept", "r", ""),
        ("review_pass", "r", ""),
        ("assign_code", "r", ""),
        ("cancel", "a", "产品停止提供,申请注销登记。"),
    ],
}


def demo_deposit(*, holder, kind: str, resource, name: str, by) -> Deposit:
    """A finished deposit of a small CSV, made by the evidence service as its job makes one
    (stored, digested, in the ledger's evidence log)."""
    return deposit_of_bytes(
        kind=kind,
        holder=holder,
        resource=resource,
        data=f"name\r\n{name}\r\n".encode(),
        acting_user=by,
        title=name if kind == Deposit.Kind.PRODUCT else "",
    )


def _evidence_demo_deposit(org, kind: str, resource) -> Deposit | None:
    """The finished deposit of a resource's open distribution made by the evidence demo (the
    file a visitor downloads from the certificate), when there is one."""
    if kind != K.OPEN_DATA:
        return None
    return (
        Deposit.objects.filter(
            holder=org, resource=resource, kind=Deposit.Kind.OPEN_DATA, state=Deposit.State.DONE
        )
        .order_by("-pk")
        .first()
    )


def _one(applicant: User, registrar: User, kind: str, name: str, target: str) -> None:
    org = applicant.organization
    if Registration.objects.filter(registrant=org, name=name).exists():
        return
    resource = None
    if kind != K.PRODUCT:
        resource = Resource.objects.filter(
            provider=org, published_version__name=name, retired_at__isnull=True
        ).first()
        if resource is None:
            return
    with transaction.atomic():
        deposit = _evidence_demo_deposit(org, kind, resource) or demo_deposit(
            holder=org,
            kind=Registration.DEPOSIT_KINDS[kind],
            resource=resource,
            name=name,
            by=applicant,
        )
        registration = services.registration_create(
            kind=kind,
            resource=resource,
            deposit=deposit,
            fields={
                "name": name,
                "description": f"{name}:面向社会提供的数据资源登记演示。",
                "source_note": "数据来源于部门业务系统,经平台归集、清洗和脱敏。",
                "update_cycle": "每月",
                "contact_name": applicant.display_name[:50] or "联系人",
                "contact_phone": "027-85000000",
            },
            acting_user=applicant,
        )
        services.material_add(
            registration=registration,
            title="登记申请表",
            uploaded=SimpleUploadedFile("登记申请表.pdf", PDF, "application/pdf"),
            acting_user=applicant,
        )
        for transition, who, comment in STEPS[target]:
            if transition == "assign_code":
                # The demo does not wait ten working days: its notice is dated back.
                Registration.objects.filter(pk=registration.pk).update(
                    notice_starts_at=timezone.now() - dt.timedelta(days=20),
                    notice_ends_at=timezone.now() - dt.timedelta(days=1),
                )
            registration = services.registration_move(
                registration=registration,
                transition=transition,
                comment=comment,
                acting_user=applicant if who == "a" else registrar,
            )
        if target == S.NOTICE:
            services.objection_lodge(
                registration=registration,
                name="张先生",
                contact="13800000000",
                text="部分社会组织已注销,请核实数据是否及时更新。",
                client_key="demo",
            )
            objection = registration.objections.filter(state=NoticeObjection.State.OPEN).first()
            services.objection_answer(
                objection=objection,
                answer="已核实:注销组织的状态每月同步更新,登记内容无误。",
                upheld=False,
                acting_user=registrar,
            )


def seed_registrations(context: dict) -> None:
    users = {u.username: u for u in User.objects.filter(username__startswith="demo_")}
    registrar = users.get("demo_registrar")
    if registrar is None:
        return
    for username, kind, name, target in PLAN:
        applicant = users.get(username)
        if applicant is None or applicant.organization_id is None:
            continue
        _one(applicant, registrar, kind, name, target)


def seed_operation_scope(context: dict) -> None:
    """Art. 23: the resources in the authorized-operation scope are registered (mandatory), by
    a staff member of each provider, before the operation demo's authorizations are approved
    (approval requires it: `operation_registration_problems`)."""
    registrar = User.objects.filter(username="demo_registrar").first()
    if registrar is None:
        return
    scope = (
        Resource.objects.filter(published_version__operation_eligible=True, retired_at__isnull=True)
        .exclude(registrations__isnull=False)
        .select_related("provider", "published_version")
        .order_by("code")
    )
    for resource in scope:
        applicant = (
            User.objects.filter(
                organization=resource.provider, groups__name=Role.AGENCY_STAFF, is_active=True
            )
            .order_by("pk")
            .first()
        )
        if applicant is not None:
            _one(applicant, registrar, K.RESOURCE, resource.published_version.name, S.REGISTERED)


register_seeder(Seeder(name="operation_scope_registrations", order=84, run=seed_operation_scope))
register_seeder(Seeder(name="registrations", order=95, run=seed_registrations))
