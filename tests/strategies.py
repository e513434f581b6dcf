"""Hypothesis strategies for cell values as people type them into the national templates.

Most strategies come in pairs: a clean value, and the same value written the ways the
normalisers accept (spaces, look-alike characters, other date shapes, units). Tests
then check that every way of writing a value reads back as the clean value.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from hypothesis import strategies as st

# --- Whitespace and full width ------------------------------------------------------

# Whitespace that people paste into cells: ordinary, no-break and ideographic spaces,
# tabs, line breaks, and zero-width characters.
PADDING_CHARS = " \t\n\xa0\u3000\u2002\u200b\u200c\u200d\ufeff"

padding = st.text(alphabet=PADDING_CHARS, max_size=3)


def to_full_width(text: str) -> str:
    """Return ``text`` with ASCII digits, letters and punctuation in full width."""
    return "".join(chr(ord(char) + 0xFEE0) if "!" <= char <= "~" else char for char in text)


@st.composite
def padded(draw: st.DrawFn, text: str) -> str:
    """Surround ``text`` with random whitespace and zero-width characters."""
    return draw(padding) + text + draw(padding)


# --- Names --------------------------------------------------------------------------

common_han = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
# Rare characters of CJK Extension B, outside the BMP, as found in real names.
rare_han = st.characters(min_codepoint=0x20000, max_codepoint=0x2A6DF)

han_names = st.text(
    alphabet=st.one_of(common_han, common_han, common_han, rare_han), min_size=1, max_size=4
)
minority_names = st.lists(han_names, min_size=2, max_size=3).map("·".join)
latin_names = st.lists(
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8
    ),
    min_size=1,
    max_size=3,
).map(" ".join)

clean_names = st.one_of(han_names, minority_names)

# Separators that input methods produce in place of the middle dot U+00B7.
DOT_LOOKALIKES = "•・‧．.∙⋅⸱･\u0387\u2027\u30fb\uff0e\u2022"


@st.composite
def written_names(draw: st.DrawFn) -> tuple[str, str]:
    """Return (clean name, the name as typed): spaces, look-alike dots, padding."""
    clean = draw(clean_names)
    typed = []
    for char in clean:
        if char == "·":
            char = draw(st.sampled_from("·" + DOT_LOOKALIKES))
        typed.append(char)
        typed.append(draw(st.sampled_from(["", "", "", " ", "\u3000", "\xa0", "\u200b"])))
    return clean, draw(padded("".join(typed)))


# --- Dates --------------------------------------------------------------------------

dates = st.dates(min_value=datetime.date(1990, 1, 1), max_value=datetime.date(2100, 12, 31))


def _date_shapes(day: datetime.date) -> list[object]:
    y, m, d = day.year, day.month, day.day
    serial = (day - datetime.date(1899, 12, 30)).days
    return [
        day,
        datetime.datetime(y, m, d),
        datetime.datetime(y, m, d, 8, 30),
        day.isoformat(),
        f"{y}-{m}-{d}",
        f"{y}/{m}/{d}",
        f"{y}.{m}.{d}",
        f"{y}年{m}月{d}日",
        f"{y}年{m:02d}月{d:02d}号",
        f"{y}{m:02d}{d:02d}",
        to_full_width(day.isoformat()),
        f"{day.isoformat()} 08:00:00",
        f"{day.isoformat()}T08:00",
        serial,
        float(serial),
        int(f"{y}{m:02d}{d:02d}"),
    ]


@st.composite
def written_dates(draw: st.DrawFn) -> tuple[datetime.date, object]:
    """Return (date, the date in one of the accepted shapes of a cell)."""
    day = draw(dates)
    return day, draw(st.sampled_from(_date_shapes(day)))


# --- Credits ------------------------------------------------------------------------

credits = st.integers(min_value=1, max_value=400).map(lambda tenths: Decimal(tenths) / 10)


@st.composite
def written_credits(draw: st.DrawFn) -> tuple[Decimal, object]:
    """Return (credits, the credits as a number cell or as typed text)."""
    value = draw(credits)
    text = format(value.normalize(), "f")
    shape = draw(
        st.sampled_from(
            [
                text,
                float(text),
                value,
                f"{text}学分",
                f"{text} 学分",
                to_full_width(text),
                f"+{text}",
            ]
        )
    )
    if isinstance(shape, str):
        shape = draw(padded(shape))
    return value, shape


# --- Identifiers --------------------------------------------------------------------

identifier_texts = st.from_regex(r"[0-9A-Za-z][0-9A-Za-z_-]{0,19}", fullmatch=True)
identifier_numbers = st.integers(min_value=0, max_value=10**15 - 1)


@st.composite
def written_identifiers(draw: st.DrawFn) -> tuple[str, object]:
    """Return (identifier text, the identifier as typed or as a number cell)."""
    if draw(st.booleans()):
        number = draw(identifier_numbers)
        return str(number), draw(st.sampled_from([number, float(number)]))
    text = draw(identifier_texts)
    return text, draw(st.sampled_from([text, to_full_width(text), draw(padded(text))]))


# --- Junk ---------------------------------------------------------------------------

emoji = st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)

junk = st.one_of(
    st.none(),
    st.just(""),
    st.text(),
    st.text(alphabet=emoji),
    st.sampled_from(
        ["¥", "￥", "？", "?", "\ufffd", "#N/A", "-", "·", "、", "nan", "inf", "1e309"]
    ),
    st.text(alphabet="０１２３４５６７８９．－／：年月日学分周天元", max_size=12),
    st.text(alphabet=PADDING_CHARS),
    st.floats(allow_nan=True, allow_infinity=True),
    st.just(-0.0),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([10**15, 10**5000, -(10**5000)]),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.times(),
    st.timedeltas(),
)


# --- whole 实习数据 rows, as text, for comparing the xlsx and CSV readers ---------------

# Per header, values that a department really writes: clean ones and typical mistakes.
RECORD_CELL_CHOICES: dict[str, tuple[str, ...]] = {
    "学号": ("2201010001", "2201010002", " 2201010003", "２２０１０１０００４", "22010100O5", ""),
    "学生姓名": ("林晓雨", "周 明远", "阿依古丽•买买提", "张?", "𠀀佳", ""),
    "入学年份": ("2022", "2022级", "22", ""),
    "院系": ("机械工程学院", " 机械工程学院 "),
    "班级": ("机械2201班",),
    "课程名称": ("生产实习", "毕业实习"),
    "课程代码": ("0803101", "0803102", "JX9999"),
    "学分": ("4", "4学分", "2周", "0", "1.25", "２"),
    "实习类型": ("生产实习", "生产", "顶岗实习"),
    "实习组织形式": ("集中实习", "集中", "分散实习"),
    "实习方式": ("现场实习", "线下", "远程"),
    "学年": ("2024-2025", "2024—2025", "2024-2026"),
    "校内指导教师": ("周明远", "周明远、李华"),
    "实习单位名称": ("云栖数控设备有限公司", "本校", ""),
    "实习单位统一社会信用代码": ("91110000600037341L", "91110000600037341M", "91110000 600037341l", "无",
                         "330106000123456", "9111000O600037341L"),
    "实习地区及代码": ("330100", "杭州市-330100", "330106", "330000", "990000", "810000", "341400"),
    "是否有实习责任险": ("是", "否", "Y", "可能"),
    "是否有人身意外险": ("是",),
    "是否进行实习安全教育和培训": ("是",),
    "是否签订实习三方协议": ("是", "有"),
    "实习单位获取方式": ("学校安排", "学生自主联系", "自主"),
    "实习单位是否有安全应急预案": ("是",),
    "实习单位是否为校级及以上实习基地": ("否",),
    "实习单位是否为数智赋能实习基地": ("否",),
    "实习单位是否为海外实习基地": ("否", "是"),
    "实习开始时间": ("2025-07-01", "2025/7/1", "2025年7月1日", "20250701", "7/1/2025", "2025-02-30"),
    "实习结束时间": ("2025-08-31", "2025-09-30", "2025-10-10", "2025-11-20", "2025-06-30"),
    "实际实习天数": ("30", "62", "200", "30天", "0"),
    "实习岗位": ("技术员", ""),
    "实习报酬（元/月）": ("0", "3000", "3000元", "-1", ""),
    "企业指导人员姓名": ("王经理", ""),
    "企业指导人员电话": ("13800138000", "0571-88888888", "1381234", ""),
    "专业": ("机械设计制造及其自动化", ""),
}


@st.composite
def record_rows(draw: st.DrawFn, *, min_rows: int = 1, max_rows: int = 6) -> list[list[str]]:
    """Draw 实习数据 rows as text in template order, from RECORD_CELL_CHOICES."""
    count = draw(st.integers(min_value=min_rows, max_value=max_rows))
    rows = []
    for _ in range(count):
        rows.append([draw(st.sampled_from(choices)) for choices in RECORD_CELL_CHOICES.values()])
    return rows


# --- Account trees and login histories ----------------------------------------------

from sxpt_core.access import Level, Unit  # noqa: E402

PROVINCE_CODES = ("110000", "310000", "330000", "440000", "510000", "650000")
# Few names, so that departments of different schools often share a name, as real ones do.
DEPARTMENT_NAMES = ("机械工程学院", "外国语学院", "计算机学院", "经济管理学院")


@st.composite
def account_trees(draw: st.DrawFn, *, max_children: int = 3) -> dict[Unit, Unit | None]:
    """Draw a tree of ministry, provinces, schools and departments as {unit: parent}.

    The parents are recorded as drawn, not taken from ``Unit.parent``, so tests can use
    them as an independent oracle. School codes are unique in the tree, and each level
    has 0 to ``max_children`` children per unit.
    """
    ministry = Unit.ministry()
    tree: dict[Unit, Unit | None] = {ministry: None}
    provinces = draw(st.lists(st.sampled_from(PROVINCE_CODES), unique=True, max_size=max_children))
    for province_code in provinces:
        province = Unit.for_province(province_code)
        tree[province] = ministry
        suffixes = draw(st.lists(st.integers(0, 999_999), unique=True, max_size=max_children))
        for suffix in suffixes:
            school_code = f"41{province_code[:2]}{suffix:06d}"
            school = Unit.for_school(province_code, school_code)
            tree[school] = province
            names = draw(st.lists(st.sampled_from(DEPARTMENT_NAMES), unique=True, max_size=max_children))
            for name in names:
                tree[Unit.for_department(province_code, school_code, name)] = school
    return tree


def ancestors(tree: dict[Unit, Unit | None], unit: Unit) -> list[Unit]:
    """Return ``unit`` and the units above it in ``tree``, following the drawn parents."""
    chain: list[Unit] = []
    current: Unit | None = unit
    while current is not None:
        chain.append(current)
        current = tree[current]
    return chain


@st.composite
def trees_with_records(draw: st.DrawFn) -> tuple[dict[Unit, Unit | None], list[tuple[Unit, bool]]]:
    """Draw an account tree and records of its departments as (department, approved)."""
    tree = draw(account_trees())
    departments = [unit for unit in tree if unit.level is Level.DEPARTMENT]
    records: list[tuple[Unit, bool]] = []
    if departments:
        records = draw(st.lists(st.tuples(st.sampled_from(departments), st.booleans()), max_size=12))
    return tree, records


LOGIN_EPOCH = datetime.datetime(2025, 10, 15, 9, 0, tzinfo=datetime.timezone.utc)

# Offsets from LOGIN_EPOCH, down to the microsecond, over two days around it.
login_offsets = st.timedeltas(min_value=datetime.timedelta(days=-2), max_value=datetime.timedelta(days=2))

# Earlier sends of one phone, in any order and possibly stamped after "now" (a clock set back).
send_histories = st.lists(login_offsets.map(lambda offset: LOGIN_EPOCH + offset), max_size=30)

# Times of send requests in increasing order: gaps from a microsecond to six hours,
# many of them close to the one-minute limit, so that runs of sends reach the daily limit.
send_request_times = st.lists(
    st.one_of(
        st.timedeltas(min_value=datetime.timedelta(microseconds=1), max_value=datetime.timedelta(hours=6)),
        st.sampled_from([datetime.timedelta(seconds=59), datetime.timedelta(minutes=1), datetime.timedelta(seconds=61)]),
        st.timedeltas(min_value=datetime.timedelta(seconds=55), max_value=datetime.timedelta(seconds=65)),
    ),
    max_size=60,
).map(lambda gaps: [LOGIN_EPOCH + sum(gaps[: index + 1], datetime.timedelta()) for index in range(len(gaps))])
