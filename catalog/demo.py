"""Demo catalog: some seventy published resources of city and district agencies, and entries
of 武汉市民政局 (the demo agency staff's agency) waiting in every workflow state, so that each
demo role has work in its queue.

Everything goes through the catalog services, acted by users who hold the right roles: the
provider's staff files and submits, its data officer approves, the responsible reviewer (city
bureau, or the district bureau of a district agency) reviews, publishes, returns and retires;
a district bureau publishes its district's reviewed entries with a district release.
Agencies without demo users get a filer `demo_staff_<slug>` and a data officer
`demo_admin_<slug>`; districts other than 江岸区 get `demo_district_reviewer_<division code>`.

Idempotent: a resource whose name its provider already has (in any version) is left alone,
so a second run changes nothing and stray entries of the same name are tolerated.

Catalog feedback (Art. 14, seeder `catalog_feedback`): one report of demo_requester in each
state of its workflow (waiting for a proposal, adjustment or no adjustment proposed, sent back,
agreed, adjusted, closed with no adjustment, rejected), and a 江岸区 proposal for
demo_district_reviewer to agree on.

Resources are rows `(agency, name, summary, classification, system, policy, items[, extra])`:
- classification: "101" or "101,211" (the code, then extra theme codes);
- policy: "grade share open cycle mode format", e.g. "L3 C N d I db" where share and open are
  U(nconditional) / C(onditional) / N(one), the cycle is rt/d/w/m/q/y/ir, the mode
  I(ncremental) / F(ull) and the format db/api/xls/file/img/stream/json; a periodic cycle
  (d to y) needs an item with the update flag U (Art. 16);
- items: space-separated `column:名称:TYPE[length][:flags[:masking rule]]`, flags K (key),
  U (update flag), R (required); `@name` expands a common item from COMMON_ITEMS;
- extra: flow (see FLOWS), comment, share_basis, open_basis, share_conditions,
  open_conditions, op (eligible for authorized operation), change (note, item) for revisions.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group

from security.models import Grade
from wuhan_pdr.accounts.models import Organization, User
from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.accounts.services import _sync_object_groups
from wuhan_pdr.kernel.demo import Seeder, register_seeder

from .models import (
    Classification,
    DataItem,
    OpenType,
    ResourceFormat,
    ResourceVersion,
    ShareMethod,
    ShareType,
    UpdateCycle,
    UpdateMode,
)
from .services import (
    ITEM_FIELDS,
    RulesBroken,
    district_release_publish,
    resource_draft_create,
    resource_draft_update,
    resource_revise,
    resource_transition,
)

# Short name -> (organization name, user slug, staff full name, data officer full name).
AGENCIES = {
    "公安": ("武汉市公安局", "police", "李明", "黄俊"),
    "民政": ("武汉市民政局", "", "", ""),  # demo_agency_staff / demo_agency_admin
    "人社": ("武汉市人力资源和社会保障局", "hrss", "周婷", "吴涛"),
    "资规": ("武汉市自然资源和城乡建设局", "nrcb", "郑浩", "冯雪"),
    "市场": ("武汉市市场监督管理局", "samr", "陈晨", "杨帆"),
    "卫健": ("武汉市卫生健康委员会", "health", "徐敏", "朱磊"),
    "教育": ("武汉市教育局", "edu", "胡静", "郭亮"),
    "交通": ("武汉市交通运输局", "transport", "何勇", "高燕"),
    "环境": ("武汉市生态环境局", "eco", "林峰", "罗娟"),
    "住房": ("武汉市住房和城市更新局", "housing", "梁斌", "宋佳"),
    "医保": ("武汉市医疗保障局", "medins", "谢超", "韩梅"),
    "城管": ("武汉市城市管理执法委员会", "urban", "唐凯", "曹琳"),
    "水务": ("武汉市水务局", "water", "许刚", "邓洁"),
    "文旅": ("武汉市文化和旅游局", "culture", "彭宇", "萧然"),
    "财政": ("武汉市财政局", "finance", "曾伟", "田甜"),
    "应急": ("武汉市应急管理局", "emergency", "董鹏", "袁媛"),
    "水司": ("武汉市水务集团有限公司", "watergroup", "潘杰", "蒋蕾"),
    "江岸民政": ("武汉市江岸区民政局", "jiangan_mz", "蔡琪", "余波"),
    "江岸市场": ("武汉市江岸区市场监督管理局", "jiangan_sj", "杜鑫", "叶倩"),
    "武昌民政": ("武汉市武昌区民政局", "wuchang_mz", "程远", "魏霞"),
    "洪山市场": ("武汉市洪山区市场监督管理局", "hongshan_sj", "苏航", "吕欣"),
}
# Reviewers of district bureaus other than 江岸区 (which has demo_district_reviewer).
DISTRICT_REVIEWERS = {"420106": "沈丹", "420111": "姚旭"}

SHARE = {"U": ShareType.UNCONDITIONAL, "C": ShareType.CONDITIONAL, "N": ShareType.NONE}
OPEN = {"U": OpenType.UNCONDITIONAL, "C": OpenType.CONDITIONAL, "N": OpenType.NONE}
CYCLE = {
    "rt": UpdateCycle.REALTIME,
    "d": UpdateCycle.DAILY,
    "w": UpdateCycle.WEEKLY,
    "m": UpdateCycle.MONTHLY,
    "q": UpdateCycle.QUARTERLY,
    "y": UpdateCycle.YEARLY,
    "ir": UpdateCycle.IRREGULAR,
}
MODE = {"I": UpdateMode.INCREMENTAL, "F": UpdateMode.FULL}
FORMAT = {
    "db": ResourceFormat.DATABASE,
    "api": ResourceFormat.API,
    "xls": ResourceFormat.SPREADSHEET,
    "file": ResourceFormat.FILE,
    "img": ResourceFormat.IMAGE,
    "stream": ResourceFormat.STREAM,
    "json": ResourceFormat.SELF_DESCRIBING,
}

SHARE_CONDITIONS = (
    "仅限政务部门为履行法定职责使用,经提供部门审核同意后通过共享平台按需调用,不得转交第三方。"
)
OPEN_CONDITIONS = (
    "申请人签署数据利用协议并说明用途,经提供部门审核同意后在开放平台受控环境中使用脱敏数据。"
)
PERSONAL_BASIS = "《中华人民共和国个人信息保护法》第十三条、第二十八条"
SECURITY_BASIS = "《中华人民共和国数据安全法》第二十一条"

COMMON_ITEMS = {
    "@sfz": "gmsfhm:公民身份号码:C18:R:保留前6位和后4位",
    "@xm": "xm:姓名:C50:R:保留姓氏",
    "@xydm": "tyshxydm:统一社会信用代码:C18:R",
    "@dh": "lxdh:联系电话:C20::保留前3位和后4位",
    "@dz": "dz:地址:C200",
    "@qh": "xzqhdm:所属行政区划代码:C6",
    "@gxsj": "gxsj:更新时间:T:U",
}

# What happens to an entry after it is filed; each step is done by the role that may.
FLOWS = {
    "draft": [],
    "submitted": ["submit"],
    "agency_approved": ["submit", "agency_approve"],
    "reviewed": ["submit", "agency_approve", "review"],
    "published": ["submit", "agency_approve", "review", "publish"],
    "agency_returned": ["submit", "agency_return"],
    "review_returned": ["submit", "agency_approve", "review_return"],
    "retired": ["submit", "agency_approve", "review", "publish", "retire"],
    "revising": ["submit", "agency_approve", "review", "publish", "revise"],
    "republished": [
        *("submit", "agency_approve", "review", "publish", "revise"),
        *("submit", "agency_approve", "review", "publish"),
    ],
}

# fmt: off
RESOURCES = [
    # 武汉市公安局
    ("公安", "户籍人口基本信息", "全市户籍人口的身份、出生、民族和户籍地址等基本信息,用于人口身份核验和政务服务办理。", "101", "公安人口管理信息系统", "L3 C N d I db",
     "gmsfhm:公民身份号码:C18:K:保留前6位和后4位 @xm xb:性别:C1 mz:民族:C2 csrq:出生日期:D hjdz:户籍地址:C200::保留至区县 hkxz:户口性质:C2 @gxsj"),
    ("公安", "居住证办理信息", "在本市办理居住证的流动人口及其居住地、有效期限信息,用于积分入户和基本公共服务办理。", "101", "流动人口居住登记管理系统", "L3 C N d I db",
     "jzzbh:居住证编号:C20:K @sfz @xm jzdz:居住地址:C200::保留至区县 fzrq:发证日期:D yxqz:有效期至:D @gxsj"),
    ("公安", "机动车驾驶人信息", "本市核发的机动车驾驶证及准驾车型、有效期和记分状态信息。", "101,205", "公安交通管理综合应用平台", "L3 C N w I db",
     "jszh:驾驶证号:C18:K:保留前6位和后4位 @xm zjcx:准驾车型:C10 ccly:初次领证日期:D yxqz:有效期至:D jszt:驾驶证状态:C2 ljjf:累积记分:I @gxsj"),
    ("公安", "机动车登记信息", "本市登记机动车的号牌、车辆类型、使用性质和检验有效期信息。", "205", "公安交通管理综合应用平台", "L2 C N d I db",
     "hphm:号牌号码:C15:K hpzl:号牌种类:C2 cllx:车辆类型:C4 syxz:使用性质:C2 ccdjrq:初次登记日期:D jyyxq:检验有效期至:D clzt:机动车状态:C2 @gxsj"),
    ("公安", "居民身份证电子证照", "居民身份证的电子证照照面信息,经持证人授权后用于线上身份认证和证照免提交。", "105", "公安电子证照库", "L4 C N rt I api",
     "zzbh:证照编号:C40:K @sfz @xm qfjg:签发机关:C100 yxqqsrq:有效期起始日期:D yxqjzrq:有效期截止日期:D zzzt:证照状态:C2 @gxsj"),
    # 武汉市民政局
    ("民政", "婚姻登记信息", "全市婚姻登记机关办理的结婚、离婚登记及补领婚姻登记证信息。", "101,211", "婚姻登记管理信息系统", "L4 C N d I db",
     "djbh:登记编号:C30:K nfsfhm:男方公民身份号码:C18:R:保留前6位和后4位 nfxm:男方姓名:C50::保留姓氏 vfsfhm:女方公民身份号码:C18:R:保留前6位和后4位 vfxm:女方姓名:C50::保留姓氏 ywlx:业务类型:C2 djrq:登记日期:D djjg:登记机关:C100 @gxsj"),
    ("民政", "最低生活保障对象信息", "全市城乡最低生活保障家庭及成员的保障类别、保障金额和审批信息。", "203", "湖北省社会救助信息系统", "L3 C N m I db",
     "jtbh:家庭编号:C30:K @sfz @xm bzlb:保障类别:C2 bzrs:保障人数:I yfje:月保障金额:N12 spsj:审批日期:D @qh @gxsj"),
    ("民政", "社会组织登记信息", "在本市登记的社会团体、民办非企业单位和基金会的登记事项与年检结果。", "102", "社会组织管理信息系统", "L1 U U m F db",
     "tyshxydm:统一社会信用代码:C18:K zzmc:社会组织名称:C200:R zzlx:组织类型:C2 fddbr:法定代表人:C50 zczj:注册资金:N16 djrq:成立登记日期:D ywzgdw:业务主管单位:C100 njjg:年检结论:C10 @gxsj"),
    ("民政", "收养登记信息", "本市办理的收养登记、解除收养关系登记信息。", "101", "收养登记管理信息系统", "L4 N N ir I db",
     "djbh:登记编号:C30:K syrsfhm:收养人公民身份号码:C18:R:保留前6位和后4位 syrxm:收养人姓名:C50::保留姓氏 bsyrxm:被收养人姓名:C50::保留姓氏 djlx:登记类型:C2 djrq:登记日期:D @gxsj",
     {"share_basis": "《中华人民共和国民法典》第一千一百一十条", "open_basis": "《中华人民共和国民法典》第一千一百一十条;《中华人民共和国个人信息保护法》第十三条"}),
    ("民政", "地名信息", "全市标准地名的名称、类别、罗马字母拼写和地理位置信息。", "103", "地名信息管理系统", "L1 U U ir F json",
     "dmdm:地名代码:C20:K bzmc:标准名称:C100:R lmzmpx:罗马字母拼写:C200 dmlb:地名类别:C4 @qh jd:中心点经度:F wd:中心点纬度:F mmly:命名由来:M",
     {"op": True}),
    ("民政", "养老机构信息", "全市备案养老机构的名称、地址、床位数和服务对象信息。", "211", "养老服务信息平台", "L1 U U m F db",
     "@xydm jgmc:机构名称:C200:R @dz @qh cws:床位总数:I sfdx:收住对象:C100 @dh badjrq:备案日期:D jgbh:机构编号:C30:K @gxsj",
     {"flow": "revising", "change": ("新增护理型床位数,按季度核实床位数据。", "hlxcws:护理型床位数:I")}),
    ("民政", "殡葬服务机构信息", "全市殡仪馆、公墓等殡葬服务机构的名称、地址和服务项目信息。", "211", "殡葬管理服务信息系统", "L1 U U y F xls",
     "jgbh:机构编号:C30:K jgmc:机构名称:C200:R jglx:机构类型:C2 @dz fwxm:服务项目:C500 sfbz:收费标准:M @gxsj",
     {"flow": "republished", "change": ("新增服务电话,便于群众查询办事。", "fwdh:服务电话:C20")}),
    ("民政", "老年人高龄津贴发放信息", "全市80周岁以上老年人高龄津贴的发放对象、标准和发放月份。", "203", "养老服务信息平台", "L3 C N m I db",
     "ffbh:发放编号:C30:K @sfz @xm nl:年龄:I ffbz:发放标准:N10 ffyf:发放月份:C6 @gxsj",
     {"flow": "draft"}),
    ("民政", "残疾人两项补贴发放信息", "困难残疾人生活补贴和重度残疾人护理补贴的发放对象、标准和金额。", "203", "湖北省社会救助信息系统", "L3 C N m I db",
     "ffbh:发放编号:C30:K @sfz @xm cjzh:残疾人证号:C20 btlx:补贴类型:C2 ffje:发放金额:N10 ffyf:发放月份:C6 @gxsj",
     {"flow": "agency_returned", "comment": "“发放金额”请注明单位(元),并补充残疾等级信息项后重新提交。"}),
    ("民政", "临时救助对象信息", "全市临时救助对象的救助类型、救助金额和审批时间。", "203", "湖北省社会救助信息系统", "L3 C N m I db",
     "jzbh:救助编号:C30:K @sfz @xm jzlx:救助类型:C2 jzje:救助金额:N12 sprq:审批日期:D @gxsj",
     {"flow": "review_returned", "comment": "共享条件请写明可调用的部门范围和使用场景;“救助类型”请引用民政救助类型代码表。"}),
    ("民政", "慈善组织认定信息", "经民政部门认定或登记的慈善组织及其公开募捐资格信息。", "102", "社会组织管理信息系统", "L1 U U m F db",
     "tyshxydm:统一社会信用代码:C18:K zzmc:慈善组织名称:C200:R rdrq:认定日期:D gkmjzg:公开募捐资格:L zsbh:资格证书编号:C30 @gxsj"),
    ("民政", "社区养老服务设施信息", "全市社区养老服务中心、老年人日间照料中心的位置、规模和运营机构信息。", "211", "养老服务信息平台", "L1 U U q F db",
     "ssbh:设施编号:C30:K ssmc:设施名称:C200:R @dz @qh jzmj:建筑面积:N10 yyjg:运营机构:C200 @dh @gxsj",
     {"flow": "agency_approved"}),
    ("民政", "婚姻登记机关信息", "全市各婚姻登记处的名称、地址、办公时间和预约电话。", "211", "婚姻登记管理信息系统", "L1 U U ir F xls",
     "jgbm:机关编码:C20:K jgmc:机关名称:C100:R @dz bgsj:办公时间:C100 yydh:预约电话:C20",
     {"flow": "reviewed"}),
    ("民政", "行政区划变更信息", "本市区、街道、乡镇行政区划的设立、撤销、更名和界线调整信息。", "103", "区划地名管理系统", "L1 U U ir F xls",
     "bgbh:变更编号:C20:K yqhdm:原区划代码:C12 xqhdm:新区划代码:C12 qhmc:区划名称:C100 bglx:变更类型:C2 pzrq:批准日期:D",
     {"flow": "retired", "comment": "已由市数据局统一发布的行政区划代码值域替代,本目录停止维护。"}),
    ("民政", "困境儿童保障信息", "全市困境儿童的类别、监护情况和基本生活保障金发放信息。", "203", "儿童福利信息系统", "L4 C N m I db",
     "etbh:儿童编号:C30:K @sfz @xm etlb:困境儿童类别:C2 jhqk:监护情况:C2 bzje:月保障金额:N10 @gxsj",
     {"flow": "submitted"}),
    # 武汉市人力资源和社会保障局
    ("人社", "社会保险参保信息", "参加企业职工养老、工伤、失业保险的个人及参保单位、缴费状态信息。", "203", "武汉市社会保险信息系统", "L3 C N d I db",
     "grbh:个人编号:C20:K @sfz @xm cbdw:参保单位名称:C200 xz:险种类型:C3 cbzt:参保状态:C2 cbrq:参保日期:D jfjs:缴费基数:N12 @gxsj"),
    ("人社", "养老保险待遇领取信息", "企业职工基本养老保险待遇领取人员的待遇类别、月待遇金额和发放状态。", "203", "武汉市社会保险信息系统", "L3 C N m I db",
     "grbh:个人编号:C20:K @sfz @xm dylb:待遇类别:C2 ydyje:月待遇金额:N12 ksffrq:开始发放日期:D ffzt:发放状态:C2 @gxsj"),
    ("人社", "人力资源服务机构信息", "取得人力资源服务许可或备案的经营性人力资源服务机构信息。", "102", "人力资源市场管理系统", "L1 U U m F db",
     "xkzbh:许可证编号:C30:K @xydm jgmc:机构名称:C200:R @dz fwfw:服务范围:C500 yxqz:有效期至:D @gxsj"),
    ("人社", "职业技能等级证书信息", "本市评价机构颁发的职业技能等级证书的职业、等级和发证日期。", "105", "职业技能鉴定管理系统", "L2 U C ir I db",
     "zsbh:证书编号:C30:K @xm @sfz zymc:职业名称:C100 jb:等级:C2 fzrq:发证日期:D pjjg:评价机构:C200 @gxsj"),
    # 武汉市市场监督管理局
    ("市场", "企业登记注册信息", "在本市登记的企业名称、类型、法定代表人、注册资本和登记状态信息。", "102", "湖北省市场主体登记注册系统", "L1 U U rt I api",
     "tyshxydm:统一社会信用代码:C18:K qymc:企业名称:C200:R qylx:企业类型:C4 fddbr:法定代表人:C50 zczb:注册资本(万元):N16 clrq:成立日期:D djzt:登记状态:C2 zs:住所:C200 jyfw:经营范围:M @gxsj",
     {"op": True}),
    ("市场", "食品经营许可信息", "本市核发的食品经营许可证的经营者、经营项目、许可期限信息。", "208", "食品经营许可管理系统", "L1 U U d I db",
     "xkzbh:许可证编号:C30:K @xydm jyzmc:经营者名称:C200:R jycs:经营场所:C200 ztyt:主体业态:C50 jyxm:经营项目:C500 yxqz:有效期至:D @gxsj"),
    ("市场", "特种设备使用登记信息", "锅炉、压力容器、电梯、起重机械等特种设备的使用单位、登记证号和检验信息。", "209", "特种设备安全监察系统", "L2 U C m I db",
     "djzbh:使用登记证编号:C30:K sbzl:设备种类:C4 sydw:使用单位:C200 sbdd:设备地点:C200 xcjyrq:下次检验日期:D sbzt:设备状态:C2 @gxsj"),
    ("市场", "行政处罚信息", "市场监管部门作出的行政处罚决定书文号、违法行为、处罚结果等公示信息。", "104", "市场监管行政执法办案系统", "L1 U U d I db",
     "jdswh:处罚决定书文号:C50:K dxmc:当事人名称:C200:R @xydm wfxw:违法行为类型:C200 cfnr:处罚内容:M cfrq:处罚决定日期:D @gxsj"),
    ("市场", "药品零售企业许可信息", "本市药品零售企业的许可证号、经营范围、质量负责人和有效期信息。", "202,208", "药品监管业务系统", "L1 U U w I db",
     "xkzh:许可证号:C30:K @xydm qymc:企业名称:C200:R jydz:经营地址:C200 jyfw:经营范围:C500 zlfzr:质量负责人:C50 yxqz:有效期至:D @gxsj"),
    # 武汉市卫生健康委员会
    ("卫健", "医疗机构执业登记信息", "全市医疗机构的名称、类别、诊疗科目、床位数和执业许可证信息。", "202", "医疗机构电子化注册管理系统", "L1 U U m F db",
     "djh:登记号:C30:K jgmc:机构名称:C200:R jglb:机构类别:C10 jyxz:经营性质:C2 zlkm:诊疗科目:C500 cws:核定床位数:I @dz yxqz:许可证有效期至:D @gxsj"),
    ("卫健", "出生医学证明信息", "本市助产机构签发的出生医学证明信息,用于新生儿落户和社保参保“一件事”办理。", "105", "出生医学证明管理系统", "L4 C N d I api",
     "zmbh:出生医学证明编号:C20:K xsexm:新生儿姓名:C50::保留姓氏 xb:性别:C1 csrq:出生时间:T mqsfhm:母亲公民身份号码:C18:R:保留前6位和后4位 fqsfhm:父亲公民身份号码:C18::保留前6位和后4位 qfjg:签发机构:C200 qfrq:签发日期:D @gxsj"),
    ("卫健", "医师执业注册信息", "在本市执业注册的医师的执业类别、执业范围和执业机构。", "202", "医师电子化注册系统", "L2 U C m I db",
     "zyzsbm:执业证书编码:C30:K @xm zylb:执业类别:C2 zyfw:执业范围:C100 zyjg:主要执业机构:C200 zcrq:注册日期:D @gxsj"),
    ("卫健", "精神障碍患者信息", "严重精神障碍患者的登记、随访和服药管理信息。", "202", "严重精神障碍信息管理系统", "L4 N N m I db",
     "hzbh:患者编号:C30:K @sfz @xm zdlb:诊断类别:C10 wxxpg:危险性评估等级:C1 sfrq:最近随访日期:D @gxsj",
     {"share_basis": "《中华人民共和国精神卫生法》第四条", "open_basis": "《中华人民共和国精神卫生法》第四条;《中华人民共和国个人信息保护法》第二十八条"}),
    # 武汉市教育局
    ("教育", "中小学校基本信息", "全市公办和民办中小学校的名称、学段、办学性质、地址和招生范围。", "204", "教育管理信息系统", "L1 U U y F db",
     "xxbsm:学校标识码:C10:K xxmc:学校名称:C200:R xd:学段:C2 bxxz:办学性质:C2 @dz @qh zsfw:招生范围:M @dh @gxsj",
     {"op": True}),
    ("教育", "学生学籍信息", "全市中小学生的学籍号、在读学校、年级和学籍状态信息。", "101,204", "全国中小学生学籍信息管理系统", "L3 C N q I db",
     "xjh:学籍号:C19:K @sfz @xm jdxx:就读学校:C200 nj:年级:C2 xjzt:学籍状态:C2 @gxsj"),
    ("教育", "民办教育机构办学许可信息", "本市审批的民办学校和培训机构的办学许可证号、办学内容与有效期。", "204", "民办教育管理系统", "L1 U U q F db",
     "xkzh:办学许可证号:C30:K jgmc:机构名称:C200:R @xydm bxnr:办学内容:C500 bxdz:办学地址:C200 yxqz:有效期至:D @gxsj"),
    ("教育", "教师资格证书信息", "本市认定的教师资格证书的资格种类、任教学科和认定日期。", "105", "教师资格管理信息系统", "L2 C C ir I db",
     "zsbh:证书编号:C20:K @xm @sfz zgzl:资格种类:C20 rjxk:任教学科:C50 rdrq:认定日期:D @gxsj"),
    # 武汉市交通运输局
    ("交通", "公交线路站点信息", "全市常规公交线路的走向、站点名称、站点坐标和首末班时间。", "205", "公共交通运营监管平台", "L1 U U m F json",
     "xlbm:线路编码:C20:K xlmc:线路名称:C50:R zdxh:站点序号:I:K zdmc:站点名称:C100 jd:经度:F wd:纬度:F smbsj:首末班时间:C20 @gxsj",
     {"op": True}),
    ("交通", "道路运输经营许可信息", "道路旅客运输、货物运输经营业户的许可证号、经营范围和有效期。", "102,205", "道路运政管理信息系统", "L1 U U d I db",
     "xkzh:道路运输经营许可证号:C30:K yhmc:业户名称:C200:R @xydm jyfw:经营范围:C200 fzrq:发证日期:D yxqz:有效期至:D @gxsj"),
    ("交通", "网约车车辆运输证信息", "取得网络预约出租汽车运输证的车辆、所属平台和有效期信息。", "205", "网约车监管信息交互平台", "L2 U C d I db",
     "ysz:运输证号:C30:K hphm:车牌号码:C15 ssqt:所属平台公司:C200 cllx:车辆类型:C20 fzrq:发证日期:D yxqz:有效期至:D @gxsj"),
    ("交通", "公共停车场泊位实时信息", "全市接入智慧停车平台的公共停车场实时空余泊位数。", "205", "武汉智慧停车平台", "L1 U U rt I stream",
     "tccbm:停车场编码:C30:K tccmc:停车场名称:C200:R zbws:总泊位数:I kybws:空余泊位数:I jd:经度:F wd:纬度:F sjsj:数据时间:T:U",
     {"op": True}),
    # 武汉市生态环境局
    ("环境", "空气质量监测数据", "全市国控、省控空气自动监测站点逐小时的六项污染物浓度和空气质量指数。", "206", "环境空气质量自动监测系统", "L1 U U rt I stream",
     "zdbm:站点编码:C20:K zdmc:站点名称:C100 jcsj:监测时间:T:U pm25:PM2.5浓度:F pm10:PM10浓度:F o3:臭氧浓度:F no2:二氧化氮浓度:F aqi:空气质量指数:I",
     {"op": True}),
    ("环境", "排污许可证信息", "本市核发的排污许可证的排污单位、行业类别、主要污染物和有效期。", "206", "全国排污许可证管理信息平台", "L1 U U w I db",
     "xkzbh:许可证编号:C30:K dwmc:单位名称:C200:R @xydm hylb:行业类别:C100 zywrw:主要污染物种类:C200 yxqz:有效期至:D @gxsj"),
    ("环境", "地表水水质监测数据", "全市国省控地表水断面的月度水质类别和主要监测指标。", "206", "地表水环境质量监测系统", "L1 U U m I db",
     "dmbm:断面编码:C20:K dmmc:断面名称:C100 jcyf:监测月份:D:U szlb:水质类别:C4 ph:pH值:F rjy:溶解氧:F ad:氨氮:F zl:总磷:F"),
    ("环境", "建设项目环评审批信息", "建设项目环境影响评价文件的审批文号、项目名称和审批结论。", "206,207", "建设项目环评审批系统", "L1 U U w I db",
     "spwh:审批文号:C50:K xmmc:项目名称:C200:R jsdw:建设单位:C200 xmdd:项目地点:C200 spjl:审批结论:C20 sprq:审批日期:D @gxsj"),
    # 武汉市自然资源和城乡建设局
    ("资规", "不动产登记信息", "全市不动产权利的权利人、坐落、用途、面积和抵押查封状态。", "103", "不动产登记信息管理平台", "L4 C N d I db",
     "bdcdyh:不动产单元号:C28:K bdcqzh:不动产权证号:C50 qlr:权利人:C200::保留姓氏 zjhm:权利人证件号码:C18::保留前6位和后4位 zl:坐落:C200 yt:用途:C20 mj:面积:N12 qlzt:权利状态:C2 @gxsj"),
    ("资规", "建设工程规划许可证信息", "本市核发的建设工程规划许可证的建设单位、项目名称和建设规模。", "207", "规划审批管理系统", "L1 U U w I db",
     "xkzh:许可证号:C50:K jsdw:建设单位:C200:R xmmc:项目名称:C200 jswz:建设位置:C200 jsgm:建设规模:C200 fzrq:发证日期:D @gxsj"),
    ("资规", "国有建设用地供应信息", "以出让、划拨方式供应的国有建设用地的位置、面积、用途和成交价格。", "103,210", "土地市场动态监测与监管系统", "L1 U U m I db",
     "gdbh:供地编号:C30:K dkwz:地块位置:C200 mj:面积(公顷):N12 tdyt:土地用途:C20 gyfs:供应方式:C2 cjjg:成交价格(万元):N16 qdrq:签订日期:D @gxsj"),
    ("资规", "建筑施工企业资质信息", "本市建筑业企业的资质类别、等级、证书编号和有效期。", "102,207", "建筑市场监管与诚信信息平台", "L1 U U m I db",
     "zsbh:资质证书编号:C30:K qymc:企业名称:C200:R @xydm zzlb:资质类别及等级:C500 yxqz:有效期至:D @gxsj"),
    # 武汉市住房和城市更新局
    ("住房", "公租房保障家庭信息", "全市公共租赁住房保障家庭的保障方式、房源和租金补贴信息。", "203,207", "住房保障管理信息系统", "L3 C N m I db",
     "jtbh:保障家庭编号:C30:K @sfz @xm jtrk:家庭人口:I bzfs:保障方式:C2 fydz:房源地址:C200::保留至区县 zjbt:月租金补贴:N10 @gxsj"),
    ("住房", "商品房预售许可信息", "商品房预售许可证的项目名称、开发企业、预售面积和套数。", "207", "房地产市场监管平台", "L1 U U d I db",
     "xkzh:预售许可证号:C30:K xmmc:项目名称:C200:R kfqy:开发企业:C200 ysmj:预售面积:N12 ysts:预售套数:I fzrq:发证日期:D @gxsj",
     {"op": True}),
    # 武汉市医疗保障局
    ("医保", "医保定点医药机构信息", "全市基本医疗保险定点医疗机构和定点零售药店的名称、地址和类别。", "202", "医疗保障信息平台", "L1 U U m F db",
     "jgbm:定点机构编码:C20:K jgmc:机构名称:C200:R jglx:机构类型:C2 @dz @qh xydj:协议等级:C2 @dh @gxsj"),
    ("医保", "基本医疗保险参保信息", "职工和城乡居民基本医疗保险参保人员的险种、参保状态和参保单位。", "202,203", "医疗保障信息平台", "L3 C N d I db",
     "grbh:个人编号:C20:K @sfz @xm xz:险种类型:C3 cbzt:参保状态:C2 cbdw:参保单位:C200 cbrq:参保日期:D @gxsj"),
    ("医保", "医疗救助对象信息", "享受医疗救助的困难群众的救助类别、资助参保和救助金额信息。", "203", "医疗保障信息平台", "L3 C N m I db",
     "jzbh:救助编号:C30:K @sfz @xm jzlb:救助对象类别:C2 jzje:救助金额:N12 jzrq:救助日期:D @gxsj"),
    ("医保", "门诊慢特病待遇认定信息", "参保人门诊慢性病、特殊疾病的病种和待遇认定信息。", "202", "医疗保障信息平台", "L4 C N m I db",
     "rdbh:认定编号:C30:K @sfz @xm bzmc:病种名称:C100 rdrq:认定日期:D yxqz:有效期至:D @gxsj"),
    # 武汉市水务局
    ("水务", "河湖名录信息", "全市河流和湖泊的名称、所在区、面积长度及河湖长信息。", "206", "河湖长制管理信息系统", "L1 U U y F xls",
     "hhbm:河湖编码:C20:K hhmc:河湖名称:C100:R hhlx:类型:C2 @qh cdmj:长度或面积:N12 hhz:河湖长:C50 @gxsj"),
    ("水务", "取水许可信息", "取水许可证的取水单位、水源类型、取水地点和年许可取水量。", "206", "取水许可管理系统", "L1 U U m I db",
     "xkzbh:许可证编号:C30:K qsqr:取水权人:C200:R sylx:水源类型:C2 qsdd:取水地点:C200 nqsl:年许可取水量(万立方米):N12 yxqz:有效期至:D @gxsj"),
    ("水务", "排水户许可信息", "城镇污水排入排水管网许可证的排水户名称、排水类别和许可期限。", "207", "城市排水管理信息系统", "L1 U U m I db",
     "xkzbh:许可证编号:C30:K pshmc:排水户名称:C200:R pslb:排水类别:C2 psdz:排水地址:C200 yxqz:有效期至:D @gxsj"),
    ("水务", "渍水点实时监测数据", "城区易渍水点的实时积水深度和预警等级,用于汛期调度和出行提醒。", "209,205", "城市防汛智慧调度系统", "L2 U C rt I stream",
     "jcdbm:监测点编码:C20:K jcdmc:监测点名称:C100 jssd:积水深度(厘米):F yjdj:预警等级:C1 jcsj:监测时间:T:U"),
    # 武汉市水务集团有限公司
    ("水司", "供水管网压力监测数据", "供水管网压力监测点的实时压力和流量数据,用于管网调度和爆管预警。", "207", "供水管网SCADA系统", "L3 C N rt I stream",
     "jcdbm:监测点编码:C20:K jcdmc:监测点名称:C100 yl:压力(兆帕):F ll:瞬时流量:F jcsj:监测时间:T:U",
     {"open_basis": SECURITY_BASIS}),
    ("水司", "居民用水户缴费信息", "居民用水户的户号、用水量和缴费状态,用于公共服务缴费核验。", "201", "供水营业收费系统", "L3 C N m I db",
     "hh:用户户号:C20:K hm:户名:C100::保留姓氏 ysdz:用水地址:C200::保留至区县 ysl:月用水量(立方米):N10 jfzt:缴费状态:C2 @gxsj"),
    # 武汉市文化和旅游局
    ("文旅", "A级旅游景区信息", "全市A级旅游景区的名称、等级、地址、开放时间和咨询电话。", "212", "文化旅游综合管理平台", "L1 U U ir F json",
     "jqbm:景区编码:C20:K jqmc:景区名称:C200:R jqdj:景区等级:C2 @dz kfsj:开放时间:C200 @dh",
     {"op": True}),
    ("文旅", "旅行社经营许可信息", "本市旅行社的许可证号、经营范围和质量保证金信息。", "212", "全国旅游监管服务平台", "L1 U U m I db",
     "xkzh:旅行社业务经营许可证号:C30:K lxsmc:旅行社名称:C200:R @xydm jyfw:经营范围:C200 @dz @gxsj"),
    ("文旅", "公共图书馆信息", "全市公共图书馆及分馆的地址、开放时间和馆藏规模。", "204,212", "公共文化服务平台", "L1 U U y F xls",
     "tsgbm:图书馆编码:C20:K tsgmc:图书馆名称:C200:R @dz kfsj:开放时间:C200 gcl:馆藏量(万册):N10 @gxsj"),
    # 武汉市应急管理局
    ("应急", "安全生产许可证信息", "非煤矿山、危险化学品生产等企业安全生产许可证的许可范围和有效期。", "209", "安全生产许可管理系统", "L1 U U w I db",
     "xkzbh:许可证编号:C30:K qymc:企业名称:C200:R @xydm xkfw:许可范围:C500 yxqz:有效期至:D @gxsj"),
    ("应急", "危险化学品经营许可证信息", "危险化学品经营企业的许可证号、经营方式和许可品种。", "209", "危险化学品安全监管信息系统", "L2 U C w I db",
     "xkzbh:许可证编号:C30:K qymc:企业名称:C200:R @xydm jyfs:经营方式:C20 xkfw:许可范围:M ccdz:储存地址:C200 @gxsj"),
    ("应急", "应急避难场所信息", "全市应急避难场所的位置、类型、面积和可容纳人数。", "209", "应急资源管理系统", "L1 U U y F json",
     "csbm:场所编码:C20:K csmc:场所名称:C200:R cslx:场所类型:C2 @dz mj:有效面积(平方米):N12 rnrs:可容纳人数:I jd:经度:F wd:纬度:F @gxsj"),
    ("应急", "应急救援物资储备信息", "市级应急救援物资储备库的位置、物资品类和储备数量。", "209", "应急资源管理系统", "L3 C N m F db",
     "ckbm:储备库编码:C20:K ckmc:储备库名称:C200 wzpl:物资品类:C100 cbsl:储备数量:I jldw:计量单位:C10 @gxsj",
     {"open_basis": SECURITY_BASIS}),
    # 武汉市城市管理执法委员会
    ("城管", "户外广告设置许可信息", "户外广告设施的设置单位、位置、规格和许可期限。", "207", "城市管理综合执法平台", "L1 U U m I db",
     "xkbh:许可编号:C30:K szdw:设置单位:C200:R szwz:设置位置:C200 gg:规格:C50 yxqz:许可期限至:D @gxsj"),
    ("城管", "城市道路占用挖掘许可信息", "占用、挖掘城市道路的施工单位、路段、期限和恢复要求。", "207,205", "城市管理综合执法平台", "L1 U U w I db",
     "xkbh:许可编号:C30:K sqdw:申请单位:C200:R ld:路段:C200 zymj:占用面积(平方米):N10 ksrq:开始日期:D jsrq:结束日期:D @gxsj"),
    # 武汉市财政局
    ("财政", "政府采购合同信息", "本市政府采购项目的合同编号、采购人、供应商和合同金额。", "210", "政府采购管理交易系统", "L1 U U d I db",
     "htbh:合同编号:C50:K xmmc:项目名称:C200:R cgr:采购人:C200 gys:供应商:C200 htje:合同金额(元):N16 qdrq:签订日期:D @gxsj"),
    ("财政", "行政事业性收费项目信息", "本市执行的行政事业性收费项目、收费标准和政策依据。", "210", "非税收入管理系统", "L1 U U y F xls",
     "xmbm:项目编码:C20:K xmmc:收费项目名称:C200:R zsdw:执收单位:C200 sfbz:收费标准:C500 zcyj:政策依据:M @gxsj"),
    # 江岸区
    ("江岸民政", "江岸区社区居委会信息", "江岸区各社区居民委员会的名称、所属街道、办公地址和联系电话。", "211", "江岸区基层治理信息平台", "L1 U U q F xls",
     "sqbm:社区编码:C12:K sqmc:社区名称:C100:R ssjd:所属街道:C50 @dz @dh @gxsj"),
    ("江岸民政", "江岸区居家养老服务对象信息", "江岸区享受政府购买居家养老服务的老年人及服务项目信息。", "211,203", "江岸区智慧养老服务平台", "L3 C N m I db",
     "dxbh:服务对象编号:C30:K @sfz @xm fwxm:服务项目:C200 fwjg:服务机构:C200 @gxsj"),
    ("江岸民政", "江岸区临时救助发放信息", "江岸区各街道审批发放的临时救助对象、救助金额和发放日期。", "203", "湖北省社会救助信息系统", "L3 C N m I db",
     "jzbh:救助编号:C30:K @sfz @xm ssjd:所属街道:C50 jzje:救助金额:N12 ffrq:发放日期:D @gxsj",
     {"flow": "agency_approved"}),
    ("江岸市场", "江岸区个体工商户登记信息", "江岸区登记的个体工商户名称、经营者、经营场所和经营范围。", "102", "湖北省市场主体登记注册系统", "L1 U U d I db",
     "tyshxydm:统一社会信用代码:C18:K mc:个体工商户名称:C200:R jyz:经营者:C50::保留姓氏 jycs:经营场所:C200 jyfw:经营范围:M @gxsj"),
    ("江岸市场", "江岸区食品小作坊登记信息", "江岸区食品小作坊的登记证号、生产品种和有效期。", "208", "食品生产经营监管系统", "L2 U C w I db",
     "djzh:登记证号:C30:K zfmc:小作坊名称:C200:R scdz:生产地址:C200 scpz:生产品种:C200 yxqz:有效期至:D @gxsj"),
    # 武昌区、洪山区
    ("武昌民政", "武昌区低收入人口动态监测信息", "武昌区低收入人口的类别、监测预警和帮扶措施信息。", "203", "湖北省社会救助信息系统", "L3 C N m I db",
     "jtbh:家庭编号:C30:K @sfz @xm rklb:低收入人口类别:C2 yjdj:预警等级:C1 bfcs:帮扶措施:C500 @gxsj"),
    ("洪山市场", "洪山区小餐饮经营备案信息", "洪山区小餐饮经营者的备案编号、经营地址和经营品种。", "208", "食品生产经营监管系统", "L2 U C w I db",
     "babh:备案编号:C30:K jyzmc:经营者名称:C200:R jydz:经营地址:C200 jypz:经营品种:C200 barq:备案日期:D @gxsj"),
]
# fmt: on

ITEM = re.compile(
    r"^(?P<col>[a-z][a-z0-9_]*):(?P<name>[^:]+):(?P<type>[A-Z])(?P<len>\d+)?(?::(?P<flags>[KUR]*))?(?::(?P<mask>.+))?$"
)


def parse_items(spec: str) -> list[dict]:
    """The item dicts of a compact spec (see the module docstring)."""
    items = []
    for raw in spec.split():
        token = COMMON_ITEMS.get(raw, raw)
        m = ITEM.match(token)
        if m is None:
            raise ValueError(f"bad item spec: {raw!r}")
        flags = m["flags"] or ""
        items.append(
            {
                "english_name": m["col"],
                "name": m["name"],
                "data_type": DataItem.DataType(m["type"]),
                "length": int(m["len"]) if m["len"] else None,
                "is_key": "K" in flags,
                "is_update_flag": "U" in flags,
                "nullable": not ("K" in flags or "R" in flags),
                "masking_rule": m["mask"] or "",
            }
        )
    return items


def _fields(summary: str, system: str, policy: str, grades: dict, extra: dict) -> dict:
    grade, share, open_, cycle, mode, fmt = policy.split()
    share_type, open_type = SHARE[share], OPEN[open_]
    return {
        "summary": summary,
        "source_system": system,
        "grade": grades[grade],
        "share_type": share_type,
        "share_conditions": extra.get("share_conditions", SHARE_CONDITIONS)
        if share_type == ShareType.CONDITIONAL
        else "",
        "share_method": ShareMethod.API if fmt in ("api", "stream") else ShareMethod.PLATFORM,
        "share_legal_basis": extra.get("share_basis", PERSONAL_BASIS)
        if share_type == ShareType.NONE
        else "",
        "open_type": open_type,
        "open_conditions": extra.get("open_conditions", OPEN_CONDITIONS)
        if open_type == OpenType.CONDITIONAL
        else "",
        "open_legal_basis": extra.get("open_basis", PERSONAL_BASIS)
        if open_type == OpenType.NONE
        else "",
        "operation_eligible": bool(extra.get("op")),
        "update_cycle": CYCLE[cycle],
        "update_mode": MODE[mode],
        "format": FORMAT[fmt],
    }


def _demo_user(username: str, full_name: str, org: Organization, role: str, password: str) -> User:
    user, created = User.objects.update_or_create(
        username=username,
        defaults={
            "full_name": full_name,
            "organization": org,
            "email": f"{username}@example.gov.cn",
            "is_active": True,
            "is_staff": False,
        },
    )
    if created:
        user.password = password  # already hashed, once per run
        user.save(update_fields=["password"])
    user.groups.set([Group.objects.get(name=role)])
    _sync_object_groups(user)
    return user


class _Actors:
    """Who files, approves and reviews for each agency, made on first use."""

    def __init__(self, context: dict):
        self.orgs: dict[str, Organization] = context["organizations"]
        self.users: dict[str, User] = context["users"]
        self._password: str | None = None
        self._cache: dict[str, User] = {}

    @property
    def password(self) -> str:
        if self._password is None:
            self._password = make_password(settings.DEMO_PASSWORD)
        return self._password

    def _user(self, username: str, full_name: str, org: Organization, role: str) -> User:
        if username not in self._cache:
            self._cache[username] = _demo_user(username, full_name, org, role, self.password)
        return self._cache[username]

    def filer(self, key: str) -> User:
        org_name, slug, staff, _admin = AGENCIES[key]
        if not slug:
            return self.users[Role.AGENCY_STAFF]
        return self._user(f"demo_staff_{slug}", staff, self.orgs[org_name], Role.AGENCY_STAFF)

    def admin(self, key: str) -> User:
        org_name, slug, _staff, admin = AGENCIES[key]
        if not slug:
            return self.users[Role.AGENCY_ADMIN]
        return self._user(f"demo_admin_{slug}", admin, self.orgs[org_name], Role.AGENCY_ADMIN)

    def reviewer(self, provider: Organization) -> User:
        if provider.kind != Organization.Kind.DISTRICT_AGENCY:
            return self.users[Role.CITY_REVIEWER]
        code = provider.division.code
        demo = self.users[Role.DISTRICT_REVIEWER]
        if demo.organization.division_id == provider.division_id:
            return demo
        bureau = Organization.objects.get(
            kind=Organization.Kind.DISTRICT_BUREAU, division_id=provider.division_id
        )
        return self._user(
            f"demo_district_reviewer_{code}",
            DISTRICT_REVIEWERS[code],
            bureau,
            Role.DISTRICT_REVIEWER,
        )

    def for_action(self, action: str, key: str, provider: Organization) -> User:
        if action in ("submit", "withdraw", "revise"):
            return self.filer(key)
        if action in ("agency_approve", "agency_return"):
            return self.admin(key)
        return self.reviewer(provider)


def _run_flow(version: ResourceVersion, key: str, extra: dict, actors: _Actors) -> bool:
    """Take the entry along its flow; True when it waits for its district's release."""
    provider = version.resource.provider
    flow = extra.get("flow", "published")
    actions = FLOWS[flow]
    # A district bureau publishes its district's reviewed entries with a dated release.
    by_release = flow == "published" and provider.kind == Organization.Kind.DISTRICT_AGENCY
    if by_release:
        actions = actions[:-1]
    for action in actions:
        user = actors.for_action(action, key, provider)
        if action == "revise":
            version = resource_revise(resource=version.resource, acting_user=user)
            note, item = extra["change"]
            items = [{k: getattr(i, k) for k in ITEM_FIELDS} for i in version.items.all()]
            version = resource_draft_update(
                version=version,
                acting_user=user,
                fields={"change_note": note},
                items=[*items, *parse_items(item)],
            )
            continue
        comment = (
            extra.get("comment", "")
            if action in ("agency_return", "review_return", "retire")
            else ""
        )
        try:
            version = resource_transition(
                version=version, action=action, acting_user=user, comment=comment
            )
        except RulesBroken as e:
            problems = "; ".join(f"{v.field}[{v.item}]: {v.message}" for v in e.violations)
            raise RuntimeError(
                f"demo resource {version.name!r} breaks the rules: {problems}"
            ) from e
    return by_release


def seed_catalog(context: dict) -> None:
    actors = _Actors(context)
    grades = {g.code: g for g in Grade.objects.all()}
    classifications = {c.code: c for c in Classification.objects.all()}
    releases: dict[int, Organization] = {}  # district -> one of its agencies with entries waiting
    existing = set(
        ResourceVersion.objects.values_list("resource__provider__name", "name").distinct()
    )
    for row in RESOURCES:
        key, name, summary, codes, system, policy, items = row[:7]
        extra = row[7] if len(row) > 7 else {}
        org_name = AGENCIES[key][0]
        if (org_name, name) in existing:
            continue
        provider = actors.orgs[org_name]
        classification, *themes = (classifications[c] for c in codes.split(","))
        fields = {"name": name, **_fields(summary, system, policy, grades, extra)}
        version = resource_draft_create(
            acting_user=actors.filer(key),
            provider=provider,
            classification=classification,
            fields=fields,
            items=parse_items(items),
            themes=themes,
        )
        if _run_flow(version, key, extra, actors):
            releases[provider.division_id] = provider
    for provider in releases.values():
        district_release_publish(
            acting_user=actors.reviewer(provider),
            note=f"{provider.division.name}首批区级公共数据资源目录发布",
        )


register_seeder(Seeder(name="catalog", order=20, run=seed_catalog))


# --- catalog feedback (Art. 14): one report in each state of its workflow ---------------------
# fmt: off
# (provider, resource name or None for an omission, kind, description by demo_requester,
#  moves: (action, who, comment) with who one of "provider", "bureau", "revise"). "revise"
# starts a new version of the resource (adding an item) that the adjustment then links.
FEEDBACK = [
    ("民政", "婚姻登记信息", "outdated",
     "目录写明“婚姻登记信息”按日更新,但共享平台上的数据最近一次更新已是上个月。",
     []),
    ("民政", "最低生活保障对象信息", "error",
     "信息项“月保障金额”没有注明计量单位,调用方无法判断是元还是分。",
     [("propose_adjustment", "provider", "同意在“月保障金额”的说明中注明单位为元,下一版目录一并修订。")]),
    ("民政", "收养登记信息", "error",
     "该资源为不予共享,但我单位办理收养相关政务服务需要核验,建议改为有条件共享。",
     [("propose_no_change", "provider",
       "收养信息依据《中华人民共和国民法典》第一千一百一十条应当保密,维持不予共享;核验需求可通过个案协查办理。")]),
    ("民政", "社会组织登记信息", "outdated",
     "社会组织登记信息缺少注销日期,已注销的组织与正常存续的组织无法区分。",
     [("propose_no_change", "provider", "组织是否存续可通过年检结论判断,目录无需调整。"),
      ("send_back", "bureau",
       "年检结论不能反映注销状态。请提出增加“注销日期”或“登记状态”信息项的调整方案。")]),
    ("民政", "地名信息", "error",
     "地名信息缺少地名的批准日期,无法判断标准名称的启用时间。",
     [("propose_adjustment", "provider", "增加信息项“批准日期”(日期型),在下次修订目录时发布。"),
      ("agree_adjustment", "bureau", "同意该调整方案,请在期限内完成目录修订。")]),
    ("民政", "慈善组织认定信息", "outdated",
     "慈善组织认定信息没有公开募捐资格证书的有效期,已过期的资格仍显示为有效。",
     [("propose_adjustment", "provider", "增加信息项“资格有效期至”,并按季度核实。"),
      ("agree_adjustment", "bureau", "同意。"),
      ("revise", "provider", ("增加公开募捐资格有效期。", "zgyxqz:资格有效期至:D")),
      ("adjust", "provider", "已在新版本中增加“资格有效期至”,提交审核后发布。")]),
    ("民政", "殡葬服务机构信息", "data_quality",
     "目录中殡仪馆的收费标准与各馆现场公示的价格不一致。",
     [("propose_no_change", "provider",
       "目录中的收费标准取自价格主管部门的核定文件;各馆现场公示的是减免后的惠民价格,二者并不矛盾。"),
      ("agree_no_change", "bureau", "经核对核定文件,同意目录不作调整。")]),
    ("民政", None, "omission",
     "希望民政局提供全市居民婚姻状况的批量查询接口,供我公司商业征信使用。",
     [("reject", "bureau",
       "该诉求不属于目录内容的遗漏、过时或错误;如需使用数据,请通过共享或授权运营渠道申请。")]),
    ("江岸民政", "江岸区社区居委会信息", "outdated",
     "江岸区部分社区已经合并,目录中的社区名单仍是调整前的。",
     [("propose_adjustment", "provider", "按区政府最新批复调整社区名单,并在信息项中补充撤并说明。")]),
]
# fmt: on


def seed_feedback(context: dict) -> None:
    """One catalog feedback report of demo_requester in each state of the Art. 14 workflow,
    moved by the provider's filer and the responsible bureau's reviewer. Idempotent: a report
    with the same description by demo_requester is left alone."""
    from .models import CatalogFeedback, Resource
    from .services import feedback_create, feedback_transition

    requester = User.objects.filter(username="demo_requester").first()
    if requester is None:
        return
    actors = _Actors(context)
    done = set(
        CatalogFeedback.objects.filter(requester=requester).values_list("description", flat=True)
    )
    for key, name, kind, description, moves in FEEDBACK:
        if description in done:
            continue
        provider = actors.orgs[AGENCIES[key][0]]
        resource = None
        if name is not None:
            resource = Resource.objects.filter(
                provider=provider, published_version__name=name, retired_at__isnull=True
            ).first()
            if resource is None:
                continue
        feedback = feedback_create(
            acting_user=requester,
            kind=kind,
            description=description,
            resource=resource,
            provider=provider,
        )
        version = None
        for action, who, comment in moves:
            if action == "revise":
                version = resource_revise(resource=resource, acting_user=actors.filer(key))
                note, item = comment
                items = [{k: getattr(i, k) for k in ITEM_FIELDS} for i in version.items.all()]
                version = resource_draft_update(
                    version=version,
                    acting_user=actors.filer(key),
                    fields={"change_note": note},
                    items=[*items, *parse_items(item)],
                )
                continue
            user = actors.filer(key) if who == "provider" else actors.reviewer(provider)
            feedback = feedback_transition(
                feedback=feedback,
                action=action,
                acting_user=user,
                comment=comment,
                version=version if action == "adjust" else None,
            )


register_seeder(Seeder(name="catalog_feedback", order=25, run=seed_feedback))

from .standards import demo as _standards_demo  # noqa: E402, F401 (registers the standards seeders)
