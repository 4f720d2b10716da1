"""Demo organizations and users: the city data bureau, Wuhan's 13 district bureaus, city and
district agencies with valid unified social credit codes, an authorized operator, a
registration body, and one user per role named demo_<role>."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import Group
from stdnum.cn import uscc

from wuhan_pdr.kernel.demo import Seeder, register_seeder

from .models import Division, Organization, User
from .roles import Role
from .services import _organization_admin_group, _sync_object_groups

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

DISTRICTS = [
    ("420102", "江岸区"),
    ("420103", "江汉区"),
    ("420104", "硚口区"),
    ("420105", "汉阳区"),
    ("420106", "武昌区"),
    ("420107", "青山区"),
    ("420111", "洪山区"),
    ("420112", "东西湖区"),
    ("420113", "汉南区"),
    ("420114", "蔡甸区"),
    ("420115", "江夏区"),
    ("420116", "黄陂区"),
    ("420117", "新洲区"),
]

CITY_AGENCIES = [
    "武汉市公安局",
    "武汉市民政局",
    "武汉市人力资源和社会保障局",
    "武汉市自然资源和城乡建设局",
    "武汉市市场监督管理局",
    "武汉市卫生健康委员会",
    "武汉市教育局",
    "武汉市交通运输局",
    "武汉市生态环境局",
    "武汉市住房和城市更新局",
    "武汉市医疗保障局",
    "武汉市城市管理执法委员会",
    "武汉市水务局",
    "武汉市文化和旅游局",
    "武汉市财政局",
    "武汉市应急管理局",
]

DISTRICT_AGENCY_KINDS = ["民政局", "市场监督管理局"]

DEMO_PEOPLE = {
    Role.REQUESTER: ("demo_requester", "刘洋", "武汉光谷数据科技有限公司"),
    Role.AGENCY_STAFF: ("demo_agency_staff", "张伟", "武汉市民政局"),
    Role.AGENCY_ADMIN: ("demo_agency_admin", "王芳", "武汉市民政局"),
    Role.DISTRICT_REVIEWER: ("demo_district_reviewer", "李娜", "武汉市江岸区数据局"),
    Role.CITY_REVIEWER: ("demo_city_reviewer", "陈静", "武汉市数据局"),
    Role.OPERATOR: ("demo_operator", "赵磊", "武汉数据集团有限公司"),
    Role.REGISTRAR: ("demo_registrar", "郑洁", "武汉市公共数据资源登记中心"),
    Role.SECURITY_ADMIN: ("demo_security_admin", "孙强", "武汉市数据局"),
    Role.AUDITOR: ("demo_auditor", "周敏", "武汉市数据局"),
    Role.SYSTEM_ADMIN: ("demo_system_admin", "吴军", "武汉市数据局"),
}


def _org_code_check(body: str) -> str:
    """GB 11714 check character of an 8-character organization code."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c, 36) * w for c, w in zip(body, weights, strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def demo_credit_code(authority: str, category: str, division: str, serial: int) -> str:
    """A credit code that passes GB 32100 and GB 11714 checks, made from a serial number."""
    body = f"{serial:08d}"
    stem = f"{authority}{category}{division}{body}{_org_code_check(body)}"
    return stem + uscc.calc_check_digit(stem)


def _organizations() -> list[dict]:
    orgs = [
        dict(
            name="武汉市数据局",
            kind=Organization.Kind.CITY_BUREAU,
            division="420100",
            cc=("1", "1"),
        ),
    ]
    for code, name in DISTRICTS:
        orgs.append(
            dict(
                name=f"武汉市{name}数据局",
                kind=Organization.Kind.DISTRICT_BUREAU,
                division=code,
                cc=("1", "1"),
                parent="武汉市数据局",
            )
        )
    for name in CITY_AGENCIES:
        orgs.append(
            dict(name=name, kind=Organization.Kind.CITY_AGENCY, division="420100", cc=("1", "1"))
        )
    for code, district in DISTRICTS:
        for suffix in DISTRICT_AGENCY_KINDS:
            orgs.append(
                dict(
                    name=f"武汉市{district}{suffix}",
                    kind=Organization.Kind.DISTRICT_AGENCY,
                    division=code,
                    cc=("1", "1"),
                )
            )
    orgs += [
        dict(
            name="武汉市水务集团有限公司",
            kind=Organization.Kind.PUBLIC_UTILITY,
            division="420100",
            cc=("9", "1"),
        ),
        dict(
            name="武汉数据集团有限公司",
            kind=Organization.Kind.OPERATOR,
            division="420100",
            cc=("9", "1"),
        ),
        dict(
            name="武汉市公共数据资源登记中心",
            kind=Organization.Kind.REGISTRATION_BODY,
            division="420100",
            cc=("1", "2"),
            parent="武汉市数据局",
        ),
        dict(
            name="武汉光谷数据科技有限公司",
            kind=Organization.Kind.USER_ORG,
            division="420111",
            cc=("9", "1"),
        ),
    ]
    return orgs


def seed_accounts(context: dict) -> None:
    divisions = {d.code: d for d in Division.objects.all()}
    by_name: dict[str, Organization] = {}
    for serial, spec in enumerate(_organizations(), start=10_000_001):
        authority, category = spec["cc"]
        division = divisions[spec["division"]]
        org, _ = Organization.objects.update_or_create(
            name=spec["name"],
            defaults={
                "kind": spec["kind"],
                "division": division,
                "parent": by_name.get(spec.get("parent", "")),
                "credit_code": demo_credit_code(authority, category, division.code, serial),
                "address": f"湖北省武汉市{division.name if division.level == 'district' else ''}",
                "is_active": True,
            },
        )
        _organization_admin_group(org)
        by_name[org.name] = org
    groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
    users = {}
    for role, (username, full_name, org_name) in DEMO_PEOPLE.items():
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "full_name": full_name,
                "organization": by_name[org_name],
                "email": f"{username}@example.gov.cn",
                "is_active": True,
                "is_staff": role == Role.SYSTEM_ADMIN,
            },
        )
        user.set_password(settings.DEMO_PASSWORD)
        user.save(update_fields=["password", "password_changed_at"])
        user.groups.set([groups[str(role)]])
        _sync_object_groups(user)
        users[str(role)] = user
    context["organizations"] = by_name
    context["users"] = users


register_seeder(Seeder(name="accounts", order=10, run=seed_accounts))
