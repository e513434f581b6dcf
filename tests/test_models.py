"""Tests of the models and their JSON conversion."""

from __future__ import annotations

import datetime
from decimal import Decimal

from sxpt_core.catalogue import Layer, Severity
from sxpt_core.models import Issue, PlanCourse, Record, Report, RosterEntry, converter


def make_record() -> Record:
    return Record(
        student_id="2201010001", student_name="林晓雨", enrolment_year=2022, department="机械工程学院",
        class_name="机械2201班", course_name="生产实习", course_code="0803101", credits=Decimal("2.5"),
        internship_type="生产实习", organisation_form="集中实习", mode="现场实习", academic_year="2024-2025",
        school_supervisor="周明远", unit_name="云栖数控设备有限公司", unit_code="91110000600037341L",
        city_code="330100", has_liability_insurance=True, has_accident_insurance=True,
        had_safety_training=True, signed_agreement=False, unit_source="学校安排",
        unit_has_emergency_plan=True, is_school_base=False, is_digital_base=False, is_overseas_base=False,
        start_date=datetime.date(2025, 7, 1), end_date=datetime.date(2025, 7, 31), actual_days=31,
        pay=Decimal("1500"),
    )


def test_record_keys_are_template_headers() -> None:
    """A record's JSON keys are the template's Chinese headers."""
    data = converter.unstructure(make_record())
    assert data["学号"] == "2201010001"
    assert data["实习单位统一社会信用代码"] == "91110000600037341L"
    assert data["实习报酬（元/月）"] == "1500"


def test_record_round_trip() -> None:
    """Unstructuring and structuring again gives an equal record."""
    record = make_record()
    assert converter.structure(converter.unstructure(record), Record) == record


def test_record_dates_iso() -> None:
    """Dates become ISO strings and credits keep their decimal text."""
    data = converter.unstructure(make_record())
    assert data["实习开始时间"] == "2025-07-01"
    assert data["学分"] == "2.5"


def test_roster_and_plan_round_trip() -> None:
    """Roster entries and plan courses convert both ways."""
    entry = RosterEntry("2201010001", "林晓雨", enrolment_date=datetime.date(2022, 9, 1))
    course = PlanCourse("2024-2025", "第三学期", "机械工程学院", "080202", "机械设计制造及其自动化", 2022,
                        "0803101", "生产实习", Decimal("4"), "生产实习", "集中实习", "现场实习")
    assert converter.structure(converter.unstructure(entry), RosterEntry) == entry
    assert converter.structure(converter.unstructure(course), PlanCourse) == course
    assert converter.unstructure(entry)["姓名"] == "林晓雨"


def test_natural_key_uses_name_for_none() -> None:
    """With 无 as the code, the unit name identifies the unit."""
    record = make_record()
    abroad = converter.structure({**converter.unstructure(record), "实习单位统一社会信用代码": "无",
                                  "实习单位名称": "Northwind Ltd."}, Record)
    assert record.natural_key("东海理工大学")[-1] == "91110000600037341L"
    assert abroad.natural_key("东海理工大学")[-1] == "Northwind Ltd."


def test_report_counts_normalisations_as_warnings() -> None:
    """Every normalisation counts as a warning in the report's counts."""
    from sxpt_core.models import Normalisation

    issue = Issue("SXPT-E-USCC-CHECKSUM", Severity.ERROR, Layer.CHECKSUM, "Sheet1", 14, "O",
                  "实习单位统一社会信用代码", "91110000600037341M", {"value": "91110000600037341M"})
    change = Normalisation("SXPT-W-ID-NUMERIC", "Sheet1", 9, "A", "学号", "21050101.0", "21050101")
    report = Report("实习数据/2024", 10, 9, (issue,), (change,))
    data = report.to_dict()
    assert data["counts"] == {"error": 1, "warning": 1}
    assert data["issues"][0]["message"] == "代码 91110000600037341M 的校验码不正确"
    assert data["normalised"][0] == {"row": 9, "column": "A", "field": "学号", "from": "21050101.0",
                                     "to": "21050101", "code": "SXPT-W-ID-NUMERIC"}


def test_issue_message_in_english() -> None:
    """The same issue renders in English on request."""
    issue = Issue("SXPT-E-USCC-CHECKSUM", Severity.ERROR, Layer.CHECKSUM, None, 2, "O", None, None,
                  {"value": "X"})
    assert issue.message("en") == "The check character of X is wrong"


def test_yes_no_text_structured() -> None:
    """是 and 否 in JSON become True and False, never bool('否')."""
    data = converter.unstructure(make_record())
    data["是否签订实习三方协议"] = "否"
    data["是否有实习责任险"] = "是"
    record = converter.structure(data, Record)
    assert record.signed_agreement is False
    assert record.has_liability_insurance is True
