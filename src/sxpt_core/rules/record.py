"""Rules across the fields of one record: dates, days, unit code with city, on-campus units."""

from __future__ import annotations

import datetime
import functools

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.context import Context, SchoolSettings
from sxpt_core.rules import Placed, RowValues

__all__ = [
    "check_dates",
    "check_days",
    "check_enrolment_year",
    "check_on_campus_unit",
    "check_overseas_base",
    "check_record",
    "check_unit_and_city",
]

EARLIEST_DATE = datetime.date(2015, 1, 1)
FOREIGN = "990000"
HONG_KONG_MACAO_TAIWAN = frozenset({"810000", "820000", "710000"})
NO_MAINLAND_CODE = frozenset({FOREIGN, *HONG_KONG_MACAO_TAIWAN})

# Unit names meaning "our school" that do not name it.
ON_CAMPUS_WORDS = frozenset(
    {"本校", "校内", "我校", "学校", "本学校", "本院", "我院", "学院", "校内实习", "校内实习基地",
     "校内实训基地", "本校实验室", "校内实验室", "学校内", "在校", "校本部"}
)

DATE_OUT_OF_RANGE = Rule(
    code="SXPT-E-DATE-OUT-OF-RANGE",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=("实习开始时间", "实习结束时间"),
    statement=(
        "实习日期须在 2015-01-01 至今天之后一年之间。",
        "Internship dates lie between 2015-01-01 and one year after today.",
    ),
    message=("日期 {value} 不在合理范围内（{earliest} 至 {latest}）",
             "Date {value} is outside the plausible range {earliest} to {latest}"),
    hint=("请检查年份是否填错。", "Check the year."),
)

END_BEFORE_START = Rule(
    code="SXPT-E-DATE-END-BEFORE-START",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=("实习开始时间", "实习结束时间"),
    statement=("实习结束时间不能早于实习开始时间。", "The end date is not before the start date."),
    message=("实习结束时间 {end} 早于实习开始时间 {start}", "End date {end} is before start date {start}"),
    hint=("请检查两列是否填反。", "Check whether the two dates are swapped."),
)

DAYS_EXCEED_SPAN = Rule(
    code="SXPT-E-DAYS-EXCEED-SPAN",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=("实际实习天数", "实习开始时间", "实习结束时间"),
    statement=(
        "实际实习天数不能超过开始和结束时间之间的天数（含首尾两天）。",
        "实际实习天数 is at most the number of days from start to end, both included.",
    ),
    message=("实际实习天数 {value} 超过了 {start} 至 {end} 的 {span} 天",
             "{value} days exceed the {span} days from {start} to {end}"),
    hint=("请填写实际实习的天数，不超过 {span}。", "Enter the days actually worked, at most {span}."),
)

UNIT_NONE_MAINLAND = Rule(
    code="SXPT-E-UNIT-NONE-MAINLAND",
    severity=Severity.ERROR,
    layer=Layer.CODE_TABLE,
    fields=("实习单位统一社会信用代码", "实习地区及代码"),
    statement=(
        "统一社会信用代码填“无”的只能是国外（990000）或港澳台（810000、820000、710000）实习。",
        "无 as the unit code is only for 990000 (abroad) or 810000, 820000, 710000.",
    ),
    message=("单位代码为“无”，但实习地区是境内的 {city}",
             "The unit code is 无 but the city {city} is in mainland China"),
    hint=(
        "境内单位请填写 18 位统一社会信用代码；国外实习的城市代码填 990000，港澳台填 810000、820000 或 710000。",
        "Give the unit's USCC; abroad use city code 990000, HK 810000, Macao 820000, Taiwan 710000.",
    ),
    source="全国大学生实习公共服务系统常见问题",
)

UNIT_CODE_ABROAD = Rule(
    code="SXPT-W-UNIT-CODE-ABROAD",
    severity=Severity.WARNING,
    layer=Layer.CODE_TABLE,
    fields=("实习单位统一社会信用代码", "实习地区及代码"),
    statement=(
        "国外实习（990000）的单位一般没有统一社会信用代码，应填“无”。",
        "A unit abroad (990000) usually has no USCC and is written as 无.",
    ),
    message=("实习地区为国外（990000），但填写了统一社会信用代码 {code}",
             "The city is abroad (990000) but a USCC {code} is given"),
    hint=(
        "若在境内单位的境外机构实习，可保留；否则请把代码改为“无”或核对城市代码。",
        "Keep it for a mainland unit's office abroad; otherwise write 无 or fix the city code.",
    ),
    source="全国大学生实习公共服务系统常见问题",
)

UNIT_ON_CAMPUS_WORD = Rule(
    code="SXPT-E-UNIT-ON-CAMPUS-WORD",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=("实习单位名称",),
    statement=(
        "校内实习的实习单位填写本校登记的全称和本校的统一社会信用代码，不能写“本校”“校内”等。",
        "On-campus internships name the school itself with its registered name and code.",
    ),
    message=("实习单位名称“{value}”不是单位全称", "{value} is not the unit's registered name"),
    hint=("{school_hint}", "{school_hint_en}"),
)

UNIT_SCHOOL_NAME = Rule(
    code="SXPT-W-UNIT-SCHOOL-NAME",
    severity=Severity.WARNING,
    layer=Layer.CODE_TABLE,
    fields=("实习单位名称", "实习单位统一社会信用代码"),
    statement=(
        "使用本校统一社会信用代码的记录，实习单位名称应为本校登记的全称。",
        "A record with the school's own USCC names the school with its registered name.",
    ),
    message=("代码 {code} 是本校代码，但单位名称是“{value}”", "Code {code} is the school's, but the name is {value}"),
    hint=("请把实习单位名称改为“{school}”。", "Change the unit name to {school}."),
)

OVERSEAS_BASE_IN_MAINLAND = Rule(
    code="SXPT-W-OVERSEAS-BASE-CITY",
    severity=Severity.WARNING,
    layer=Layer.CODE_TABLE,
    fields=("实习单位是否为海外实习基地", "实习地区及代码"),
    statement=(
        "海外实习基地的实习地区一般为国外（990000）或港澳台。",
        "An overseas internship base usually lies abroad (990000) or in HK, Macao or Taiwan.",
    ),
    message=("标为海外实习基地，但实习地区是境内的 {city}", "Marked as an overseas base, but the city {city} is in the mainland"),
    hint=("请核对“实习单位是否为海外实习基地”或城市代码。", "Check the overseas-base column or the city code."),
)

ENROLMENT_AFTER_START = Rule(
    code="SXPT-W-ENROLMENT-AFTER-START",
    severity=Severity.WARNING,
    layer=Layer.FORMAT,
    fields=("入学年份", "实习开始时间"),
    statement=("实习不会早于入学年份。", "An internship does not start before the year of enrolment."),
    message=("入学年份 {year} 晚于实习开始时间 {start}", "Enrolment year {year} is after the start {start}"),
    hint=("请核对入学年份和实习开始时间。", "Check the enrolment year and the start date."),
)


def check_dates(values: RowValues, today: datetime.date) -> list[Placed]:
    """Check that both dates are plausible and the end is not before the start.

    >>> today = datetime.date(2024, 10, 15)
    >>> check_dates({"start_date": datetime.date(2024, 7, 1), "end_date": datetime.date(2024, 8, 1)}, today)
    []
    >>> [(a, f.code) for a, f in check_dates({"start_date": datetime.date(2014, 7, 1), "end_date": None}, today)]
    [('start_date', 'SXPT-E-DATE-OUT-OF-RANGE')]
    """
    latest = one_year_after(today)
    found: list[Placed] = []
    start, end = values.get("start_date"), values.get("end_date")
    for attr, day in (("start_date", start), ("end_date", end)):
        if day is not None and not EARLIEST_DATE <= day <= latest:
            finding = DATE_OUT_OF_RANGE(value=day.isoformat(), earliest=EARLIEST_DATE.isoformat(),
                                        latest=latest.isoformat())
            found.append((attr, finding))
    if start is not None and end is not None and end < start:
        found.append(("end_date", END_BEFORE_START(start=start.isoformat(), end=end.isoformat())))
    return found


@functools.lru_cache(maxsize=16)
def one_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year + 1, day=28)


def check_days(values: RowValues) -> list[Placed]:
    """Check 实际实习天数 against the inclusive span of the dates.

    >>> d = datetime.date
    >>> check_days({"start_date": d(2024, 7, 1), "end_date": d(2024, 7, 31), "actual_days": 31})
    []
    >>> [f.code for _, f in check_days({"start_date": d(2024, 7, 1), "end_date": d(2024, 7, 31), "actual_days": 40})]
    ['SXPT-E-DAYS-EXCEED-SPAN']
    """
    start, end, days = values.get("start_date"), values.get("end_date"), values.get("actual_days")
    if start is None or end is None or days is None or end < start:
        return []
    span = (end - start).days + 1
    if days > span:
        finding = DAYS_EXCEED_SPAN(value=days, span=span, start=start.isoformat(), end=end.isoformat())
        return [("actual_days", finding)]
    return []


def check_unit_and_city(values: RowValues) -> list[Placed]:
    """Check that 无 goes with a city outside the mainland, and a USCC with 990000 is flagged.

    >>> check_unit_and_city({"unit_code": "无", "city_code": "990000"})
    []
    >>> check_unit_and_city({"unit_code": "无", "city_code": "810000"})
    []
    >>> [f.code for _, f in check_unit_and_city({"unit_code": "无", "city_code": "330100"})]
    ['SXPT-E-UNIT-NONE-MAINLAND']
    >>> [f.code for _, f in check_unit_and_city({"unit_code": "91110000600037341L", "city_code": "990000"})]
    ['SXPT-W-UNIT-CODE-ABROAD']
    """
    code, city = values.get("unit_code"), values.get("city_code")
    if code is None or city is None:
        return []
    if code == "无" and city not in NO_MAINLAND_CODE:
        return [("unit_code", UNIT_NONE_MAINLAND(city=city))]
    if code != "无" and city == FOREIGN:
        return [("city_code", UNIT_CODE_ABROAD(code=code))]
    return []


def check_on_campus_unit(values: RowValues, school: SchoolSettings) -> list[Placed]:
    """Check that an on-campus unit is named by the school's registered name, not 本校.

    >>> settings = SchoolSettings(name="东海理工大学", unit_code="12330000MB0000001X")
    >>> [f.code for _, f in check_on_campus_unit({"unit_name": "本校"}, settings)]
    ['SXPT-E-UNIT-ON-CAMPUS-WORD']
    >>> check_on_campus_unit({"unit_name": "东海理工大学", "unit_code": "12330000MB0000001X"}, settings)
    []
    """
    name, code = values.get("unit_name"), values.get("unit_code")
    if name is None:
        return []
    if name in ON_CAMPUS_WORDS:
        return [("unit_name", UNIT_ON_CAMPUS_WORD(value=name, **_school_hint(school)))]
    if school.unit_code and school.name and code == school.unit_code and name != school.name:
        return [("unit_name", UNIT_SCHOOL_NAME(value=name, code=code, school=school.name))]
    return []


def _school_hint(school: SchoolSettings) -> dict[str, str]:
    if school.name and school.unit_code:
        return {
            "school_hint": f"校内实习请填写本校全称“{school.name}”和本校统一社会信用代码 {school.unit_code}。",
            "school_hint_en": f"For on-campus work write {school.name} and the code {school.unit_code}.",
        }
    return {
        "school_hint": "校内实习请填写本校登记的全称和统一社会信用代码（可在 sxpt.toml 中设置 school.name 和 school.unit_code）。",
        "school_hint_en": "For on-campus work write the school's registered name and USCC "
        "(set school.name and school.unit_code in sxpt.toml).",
    }


def check_overseas_base(values: RowValues) -> list[Placed]:
    """Flag an overseas internship base whose city is in the mainland.

    >>> [f.code for _, f in check_overseas_base({"is_overseas_base": True, "city_code": "330100"})]
    ['SXPT-W-OVERSEAS-BASE-CITY']
    >>> check_overseas_base({"is_overseas_base": True, "city_code": "990000"})
    []
    """
    city = values.get("city_code")
    if values.get("is_overseas_base") is True and city is not None and city not in NO_MAINLAND_CODE:
        return [("is_overseas_base", OVERSEAS_BASE_IN_MAINLAND(city=city))]
    return []


def check_enrolment_year(values: RowValues) -> list[Placed]:
    """Flag an internship that starts before the student's year of enrolment.

    >>> [f.code for _, f in check_enrolment_year({"enrolment_year": 2024, "start_date": datetime.date(2023, 7, 1)})]
    ['SXPT-W-ENROLMENT-AFTER-START']
    >>> check_enrolment_year({"enrolment_year": 2022, "start_date": datetime.date(2024, 7, 1)})
    []
    """
    year, start = values.get("enrolment_year"), values.get("start_date")
    if year is not None and start is not None and start >= EARLIEST_DATE and year > start.year:
        return [("enrolment_year", ENROLMENT_AFTER_START(year=year, start=start.isoformat()))]
    return []


def check_record(values: RowValues, context: Context) -> list[Placed]:
    """Run every cross-field rule of one record."""
    found = check_dates(values, context.today)
    found += check_days(values)
    found += check_unit_and_city(values)
    found += check_on_campus_unit(values, context.school)
    found += check_overseas_base(values)
    found += check_enrolment_year(values)
    return found
