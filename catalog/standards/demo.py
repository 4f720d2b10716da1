"""Demo standards: the national code lists the demo catalog needs (GB/T 2261.1 sex, GB/T
2261.2 marital status, GB/T 3304 ethnic groups, GB/T 2260 divisions of Hubei's prefecture
level and Wuhan's districts) and 33 common data elements published by the city data bureau.

Two seeders: `standards` (order 15, before the catalog at 20) makes the lists and elements;
`standards_binding` (order 30, after the catalog) binds each demo data item whose name is an
element's name or synonym to that element, so the standards pages show where elements are
used. Both are idempotent: existing code values, identifiers and bindings are left alone.
"""

from __future__ import annotations

import datetime as dt
import re

from wuhan_pdr.accounts.roles import Role
from wuhan_pdr.kernel.demo import Seeder, register_seeder
from wuhan_pdr.kernel.history import audited_save

from ..models import CodeList, CodeValue, DataElement, DataItem

BUREAU = "武汉市数据局"
APPROVED = dt.date(2025, 1, 15)

SEX = "GB/T 2261.1-2003"
MARITAL = "GB/T 2261.2-2003"
ETHNIC = "GB/T 3304-1991"
DIVISIONS = "GB/T 2260-420000"

ETHNIC_GROUPS = (  # GB/T 3304 codes 01-56, in this order
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 "
    "土家族 哈尼族 哈萨克族 傣族 黎族 傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 "
    "景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 毛南族 仡佬族 锡伯族 阿昌族 "
    "普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 塔塔尔族 "
    "独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族"
)

# identifier -> (name, source, description, [(code, name, parent code)])
CODE_LISTS = {
    SEX: (
        "人的性别代码",
        "GB/T 2261.1-2003 个人基本信息分类与代码 第1部分:人的性别代码",
        "",
        [("0", "未知的性别", ""), ("1", "男性", ""), ("2", "女性", ""), ("9", "未说明的性别", "")],
    ),
    MARITAL: (
        "婚姻状况代码",
        "GB/T 2261.2-2003 个人基本信息分类与代码 第2部分:婚姻状况代码",
        "",
        [
            ("10", "未婚", ""),
            ("20", "已婚", ""),
            ("21", "初婚", "20"),
            ("22", "再婚", "20"),
            ("23", "复婚", "20"),
            ("30", "丧偶", ""),
            ("40", "离婚", ""),
            ("90", "未说明的婚姻状况", ""),
        ],
    ),
    ETHNIC: (
        "民族代码",
        "GB/T 3304-1991 中国各民族名称的罗马字母拼写法和代码",
        "",
        [(f"{i:02d}", name, "") for i, name in enumerate(ETHNIC_GROUPS.split(), start=1)]
        + [("97", "其他", ""), ("98", "外国血统中国籍人士", "")],
    ),
    DIVISIONS: (
        "行政区划代码(湖北省地级、武汉市区级)",
        "GB/T 2260 中华人民共和国行政区划代码(2022年10月)",
        "湖北省的17个地级行政区划(含省直辖县级行政单位)和武汉市的13个市辖区。",
        [
            ("420100", "武汉市", "420000"),
            ("420200", "黄石市", "420000"),
            ("420300", "十堰市", "420000"),
            ("420500", "宜昌市", "420000"),
            ("420600", "襄阳市", "420000"),
            ("420700", "鄂州市", "420000"),
            ("420800", "荆门市", "420000"),
            ("420900", "孝感市", "420000"),
            ("421000", "荆州市", "420000"),
            ("421100", "黄冈市", "420000"),
            ("421200", "咸宁市", "420000"),
            ("421300", "随州市", "420000"),
            ("422800", "恩施土家族苗族自治州", "420000"),
            ("429004", "仙桃市", "420000"),
            ("429005", "潜江市", "420000"),
            ("429006", "天门市", "420000"),
            ("429021", "神农架林区", "420000"),
            ("420102", "江岸区", "420100"),
            ("420103", "江汉区", "420100"),
            ("420104", "硚口区", "420100"),
            ("420105", "汉阳区", "420100"),
            ("420106", "武昌区", "420100"),
            ("420107", "青山区", "420100"),
            ("420111", "洪山区", "420100"),
            ("420112", "东西湖区", "420100"),
            ("420113", "汉南区", "420100"),
            ("420114", "蔡甸区", "420100"),
            ("420115", "江夏区", "420100"),
            ("420116", "黄陂区", "420100"),
            ("420117", "新洲区", "420100"),
        ],
    ),
}

PHONE = r"1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}|[0-9]{7,8}|(?:400|800)[0-9]{7}|1[0-9]{4}"
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
PLATE = (
    r"[京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼][A-HJ-NP-Z]"
    r"(?:[A-HJ-NP-Z0-9]{5}|[DF][A-HJ-NP-Z0-9]{5}|[A-HJ-NP-Z0-9]{5}[DF]|[A-HJ-NP-Z0-9]{4}[挂学警])"
)
URL = r"https?://[^\s/$.?#][^\s]*"

# (identifier, name, english name, pinyin, definition, object class, property,
#  representation, data type, format, value domain, checksum, unit, classification, synonyms)
# The value domain is a code list identifier, "re:<pattern>", or "".
# fmt: off
ELEMENTS = [
    ("DE00001", "公民身份号码", "citizen identification number", "gong min shen fen hao ma",
     "赋码机关为每个公民给出的唯一的、终身不变的法定号码(GB 11643)。", "人", "身份", "号码",
     "C", "an18", "", "cn_ric", "", "人员基本信息", "身份证号,身份证号码,居民身份证号码"),
    ("DE00002", "姓名", "name", "xing ming",
     "在户籍管理部门正式登记注册、人事档案中正式记载的姓氏名称。", "人", "姓名", "名称",
     "C", "c..50", "", "", "", "人员基本信息", "人员姓名"),
    ("DE00003", "性别代码", "sex code", "xing bie dai ma",
     "人的性别在特定编码体系中的代码(GB/T 2261.1)。", "人", "性别", "代码",
     "C", "n1", SEX, "", "", "人员基本信息", "性别"),
    ("DE00004", "出生日期", "date of birth", "chu sheng ri qi",
     "人出生当日的公元纪年日期。", "人", "出生", "日期",
     "D", "YYYYMMDD", "", "", "", "人员基本信息", "出生年月日"),
    ("DE00005", "民族代码", "ethnic group code", "min zu dai ma",
     "人所属民族在特定编码体系中的代码(GB/T 3304)。", "人", "民族", "代码",
     "C", "n2", ETHNIC, "", "", "人员基本信息", "民族"),
    ("DE00006", "婚姻状况代码", "marital status code", "hun yin zhuang kuang dai ma",
     "人当前婚姻状况在特定编码体系中的代码(GB/T 2261.2)。", "人", "婚姻状况", "代码",
     "C", "n2", MARITAL, "", "", "人员基本信息", "婚姻状况"),
    ("DE00007", "户籍地址", "registered permanent residence address", "hu ji di zhi",
     "人的户口登记机关登记的常住户口所在地址。", "人", "户籍地址", "文本",
     "C", "c..200", "", "", "", "人员基本信息", "户籍所在地"),
    ("DE00008", "年龄", "age", "nian ling",
     "人从出生到计算时止生存的整周年数。", "人", "年龄", "数值",
     "I", "n..3", "", "", "岁", "人员基本信息", "周岁"),
    ("DE00009", "统一社会信用代码", "unified social credit code", "tong yi she hui xin yong dai ma",
     "按照 GB 32100 为法人和其他组织赋予的唯一的、终身不变的身份识别代码。", "组织", "身份", "代码",
     "C", "an18", "", "cn_uscc", "", "法人基本信息", "社会信用代码,信用代码"),
    ("DE00010", "机构名称", "organization name", "ji gou ming cheng",
     "机构经登记机关核准或依法确定的全称。", "组织", "名称", "名称",
     "C", "c..200", "", "", "", "法人基本信息", "单位名称,组织机构名称,企业名称"),
    ("DE00011", "法定代表人", "legal representative", "fa ding dai biao ren",
     "依照法律或者法人组织章程规定,代表法人行使职权的负责人的姓名。", "组织", "法定代表人", "名称",
     "C", "c..50", "", "", "", "法人基本信息", "法定代表人姓名,负责人"),
    ("DE00012", "注册资本", "registered capital", "zhu ce zi ben",
     "市场主体在登记机关登记的出资总额。", "组织", "注册资本", "金额",
     "Y", "n..16,4", "", "", "万元", "法人基本信息", "注册资本(万元),注册资金"),
    ("DE00013", "成立日期", "date of establishment", "cheng li ri qi",
     "市场主体或组织经登记机关核准成立的日期。", "组织", "成立", "日期",
     "D", "YYYY-MM-DD", "", "", "", "法人基本信息", "成立时间"),
    ("DE00014", "登记日期", "registration date", "deng ji ri qi",
     "登记机关办理登记的日期。", "登记事项", "登记", "日期",
     "D", "YYYY-MM-DD", "", "", "", "通用", "成立登记日期"),
    ("DE00015", "经营范围", "business scope", "jing ying fan wei",
     "市场主体依法登记的从事经营活动的业务范围。", "组织", "经营范围", "文本",
     "M", "c..4000", "", "", "", "法人基本信息", ""),
    ("DE00016", "行政区划代码", "administrative division code", "xing zheng qu hua dai ma",
     "县级及县级以上行政区划在 GB/T 2260 中的6位数字代码。", "行政区划", "标识", "代码",
     "C", "n6", DIVISIONS, "", "", "地理空间", "所属行政区划代码,区划代码"),
    ("DE00017", "地址", "address", "di zhi",
     "地点所在的省、市、区(县)、街道、门牌号等组成的详细位置描述。", "地点", "地址", "文本",
     "C", "c..200", "", "", "", "地理空间", "详细地址,住所,经营地址"),
    ("DE00018", "邮政编码", "postal code", "you zheng bian ma",
     "邮政部门为投递区域编制的6位数字代码。", "地点", "邮政区域", "代码",
     "C", "n6", "", "", "", "地理空间", "邮编"),
    ("DE00019", "经度", "longitude", "jing du",
     "地点在 CGCS2000 坐标系中的经度,以十进制度表示。", "地点", "经度", "数值",
     "N", "n..9,6", "", "", "度", "地理空间", "中心点经度"),
    ("DE00020", "纬度", "latitude", "wei du",
     "地点在 CGCS2000 坐标系中的纬度,以十进制度表示。", "地点", "纬度", "数值",
     "N", "n..8,6", "", "", "度", "地理空间", "中心点纬度"),
    ("DE00021", "联系电话", "contact telephone number", "lian xi dian hua",
     "用于联系的固定电话或移动电话号码。", "人或组织", "电话", "号码",
     "C", "c..20", "re:" + PHONE, "", "", "通用", "电话,电话号码,服务电话,预约电话"),
    ("DE00022", "移动电话号码", "mobile telephone number", "yi dong dian hua hao ma",
     "移动通信运营商分配的11位手机号码。", "人", "移动电话", "号码",
     "C", "n11", r"re:1[3-9][0-9]{9}", "", "", "通用", "手机号码,手机号"),
    ("DE00023", "电子邮箱", "e-mail address", "dian zi you xiang",
     "用于接收电子邮件的地址。", "人或组织", "电子邮件", "地址",
     "C", "c..100", "re:" + EMAIL, "", "", "通用", "电子邮件地址,邮箱"),
    ("DE00024", "网址", "web address", "wang zhi",
     "网站或网页的统一资源定位地址(URL)。", "组织", "网站", "地址",
     "C", "c..500", "re:" + URL, "", "", "通用", "网站地址"),
    ("DE00025", "发证日期", "date of issue", "fa zheng ri qi",
     "证照签发机关签发证照的日期。", "证照", "签发", "日期",
     "D", "YYYY-MM-DD", "", "", "", "证照", "签发日期,颁证日期"),
    ("DE00026", "有效期至", "expiry date", "you xiao qi zhi",
     "证照或许可有效期的最后一日。", "证照", "有效期", "日期",
     "D", "YYYY-MM-DD", "", "", "", "证照", "有效期截止日期,许可证有效期至,检验有效期至"),
    ("DE00027", "证照编号", "licence number", "zheng zhao bian hao",
     "证照签发机关给出的证照唯一编号。", "证照", "编号", "号码",
     "C", "c..40", "", "", "", "证照", "证书编号,许可证编号"),
    ("DE00028", "车牌号码", "vehicle licence plate number", "che pai hao ma",
     "公安机关交通管理部门核发的机动车号牌号码(GA 36)。", "机动车", "号牌", "号码",
     "C", "c..8", "re:" + PLATE, "", "", "交通", "号牌号码,机动车号牌号码"),
    ("DE00029", "金额", "amount", "jin e",
     "以人民币元计的货币数额,保留两位小数。", "业务事项", "金额", "金额",
     "Y", "n..18,2", "", "", "元", "通用", "金额(元),合同金额(元),救助金额,发放金额,月保障金额"),
    ("DE00030", "面积", "area", "mian ji",
     "平面或建筑物的面积。", "地点", "面积", "数值",
     "N", "n..12,2", "", "", "平方米", "地理空间", "建筑面积,有效面积(平方米)"),
    ("DE00031", "床位数", "number of beds", "chuang wei shu",
     "机构核定或实际开放的床位数量。", "机构", "床位", "数量",
     "I", "n..6", "", "", "张", "卫生与养老", "床位总数,核定床位数"),
    ("DE00032", "更新时间", "update time", "geng xin shi jian",
     "数据记录最近一次新增或修改的日期和时间(北京时间)。", "数据记录", "更新", "日期时间",
     "T", "YYYY-MM-DDThh:mm:ss", "", "", "", "通用", "数据更新时间"),
    ("DE00033", "监测时间", "observation time", "jian ce shi jian",
     "监测设备采集数据的日期和时间(北京时间)。", "监测数据", "采集", "日期时间",
     "T", "YYYY-MM-DDThh:mm:ss", "", "", "", "生态与监测", "数据时间"),
    ("DE00034", "营业时间", "opening hours", "ying ye shi jian",
     "场所每日开始对外服务的时刻。", "场所", "开放", "时间",
     "T", "hh:mm:ss", "", "", "", "通用", "开放时间起"),
]
# fmt: on

SYNONYM_SPLIT = re.compile(r"[,,、;;\s]+")


def _code_lists(owner) -> dict[str, CodeList]:
    lists = {}
    for identifier, (name, source, description, values) in CODE_LISTS.items():
        code_list = CodeList.objects.filter(identifier=identifier).first()
        if code_list is None:
            code_list = CodeList.objects.create(
                identifier=identifier,
                name=name,
                source=source,
                description=description,
                owner=owner,
            )
        present = set(code_list.values.values_list("code", flat=True))
        # Valid since before any record here: no start date, no end date.
        CodeValue.objects.bulk_create(
            CodeValue(code_list=code_list, code=code, name=meaning, parent_code=parent)
            for code, meaning, parent in values
            if code not in present
        )
        lists[identifier] = code_list
    return lists


def seed_standards(context: dict) -> None:
    bureau = context["organizations"][BUREAU]
    reviewer = context["users"][Role.CITY_REVIEWER]
    lists = _code_lists(bureau)
    existing = set(DataElement.objects.values_list("identifier", flat=True))
    for row in ELEMENTS:
        (identifier, name, english, pinyin, definition, object_class, prop, representation,
         data_type, fmt, domain, checksum, unit, classification, synonyms) = row  # fmt: skip
        if identifier in existing:
            continue
        element = DataElement(
            identifier=identifier,
            version=1,
            status=DataElement.Status.STANDARD,
            name=name,
            english_name=english,
            pinyin=pinyin,
            definition=definition,
            object_class=object_class,
            property=prop,
            representation=representation,
            data_type=data_type,
            format=fmt,
            checksum=checksum,
            unit=unit,
            classification=classification,
            synonyms=synonyms,
            submitted_by=bureau,
            approved_at=APPROVED,
        )
        if domain.startswith("re:"):
            element.domain_kind, element.pattern = DataElement.DomainKind.PATTERN, domain[3:]
        elif domain:
            element.domain_kind, element.code_list = DataElement.DomainKind.CODE_LIST, lists[domain]
        audited_save(element, acting_user=reviewer, reason="数据元标准首批发布")
    context["code_lists"] = lists


def bind_demo_items(context: dict | None = None) -> int:
    """Bind unbound items named like a current element (its name or a synonym) to it.
    Returns how many items were bound."""
    bound = 0
    for element in DataElement.objects.filter(status=DataElement.Status.STANDARD):
        names = {element.name, *(s for s in SYNONYM_SPLIT.split(element.synonyms) if s)}
        bound += DataItem.objects.filter(element__isnull=True, name__in=names).update(
            element=element
        )
    return bound


register_seeder(Seeder(name="standards", order=15, run=seed_standards))
register_seeder(Seeder(name="standards_binding", order=30, run=bind_demo_items))
