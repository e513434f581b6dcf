"""Frozen models of sxpt: records, roster entries, plan courses, issues and reports.

The classes hold structural invariants only; the rules live in ``sxpt_core.rules``.
:data:`converter` turns them into JSON-ready dicts and back. Record-like models use the
template's Chinese headers as keys (``{"学号": "21050101", ...}``), so a JSON record
reads like a row of the national workbook.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from sxpt_core.catalogue import Finding, Layer, Severity, get_rule
from sxpt_core.templates import Template, get_template

__all__ = [
    "Issue",
    "Normalisation",
    "PlanCourse",
    "Record",
    "Report",
    "RosterEntry",
    "converter",
]


@attrs.frozen
class Record:
    """One row of the 实习数据 template after normalisation (one internship of one student)."""

    student_id: str
    student_name: str
    enrolment_year: int
    department: str
    class_name: str
    course_name: str
    course_code: str
    credits: Decimal
    internship_type: str
    organisation_form: str
    mode: str
    academic_year: str
    school_supervisor: str
    unit_name: str
    unit_code: str
    city_code: str
    has_liability_insurance: bool
    has_accident_insurance: bool
    had_safety_training: bool
    signed_agreement: bool
    unit_source: str
    unit_has_emergency_plan: bool
    is_school_base: bool
    is_digital_base: bool
    is_overseas_base: bool
    start_date: datetime.date
    end_date: datetime.date
    actual_days: int
    address: str | None = None
    position: str | None = None
    pay: Decimal | None = None
    mentor_name: str | None = None
    mentor_phone: str | None = None
    major: str | None = None

    def natural_key(self, school: str) -> tuple[str, ...]:
        """Return the key that identifies this internship within ``school``.

        The unit is identified by its credit code, or by its name where the code is 无.
        """
        unit = self.unit_name if self.unit_code == "无" else self.unit_code
        return (
            school,
            self.student_id,
            self.course_code,
            self.start_date.isoformat(),
            self.end_date.isoformat(),
            unit,
        )


@attrs.frozen
class RosterEntry:
    """One student of the school's registry (学籍名单)."""

    student_id: str
    student_name: str
    school: str = ""
    department: str = ""
    major: str = ""
    level: str = "本科"
    status: str = "在籍"
    enrolment_date: datetime.date | None = None


@attrs.frozen
class PlanCourse:
    """One internship course of the training plan (实习培养方案) for one term."""

    academic_year: str
    term: str
    department: str
    major_code: str
    major: str
    grade: int
    course_code: str
    course_name: str
    credits: Decimal
    internship_type: str
    organisation_form: str
    mode: str
    planned_weeks: Decimal | None = None
    planned_students: int | None = None


@attrs.frozen
class Issue:
    """A problem found in one place of the input, with its message parameters.

    ``row`` is the row number the user sees in Excel (or the line of a CSV file) and
    ``column`` the Excel column letter; both are None for problems of a whole file.
    """

    code: str
    severity: Severity
    layer: Layer
    sheet: str | None
    row: int | None
    column: str | None
    field: str | None
    value: str | None
    params: dict[str, str] = attrs.field(factory=dict, hash=False)

    @classmethod
    def from_finding(
        cls,
        finding: Finding,
        *,
        sheet: str | None,
        row: int | None,
        column: str | None,
        field: str | None,
        value: str | None,
    ) -> Issue:
        """Place ``finding`` at a cell (or a row, or the whole file)."""
        rule = finding.rule
        return cls(rule.code, rule.severity, rule.layer, sheet, row, column, field, value,
                   finding.params)

    def message(self, lang: str = "zh") -> str:
        return get_rule(self.code).render_message(self.params, lang)

    def hint(self, lang: str = "zh") -> str:
        return get_rule(self.code).render_hint(self.params, lang)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """Return the issue as the JSON report shows it."""
        return {
            "code": self.code,
            "severity": self.severity.value,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "value": self.value,
            "message": self.message(lang),
            "hint": self.hint(lang),
        }


@attrs.frozen
class Normalisation:
    """A value that sxpt changed while reading, e.g. ``21050101.0`` → ``21050101``."""

    code: str
    sheet: str | None
    row: int
    column: str
    field: str
    original: str
    normalised: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "from": self.original,
            "to": self.normalised,
            "code": self.code,
        }


@attrs.frozen
class Report:
    """The outcome of validating one file: every issue and every normalisation."""

    template: str
    rows: int
    valid_rows: int
    issues: tuple[Issue, ...]
    normalised: tuple[Normalisation, ...]

    @property
    def error_count(self) -> int:
        return sum(1 for issue in self.issues if issue.severity is Severity.ERROR)

    @property
    def warning_count(self) -> int:
        """Return the number of warnings; every normalisation counts as one."""
        warnings = sum(1 for issue in self.issues if issue.severity is Severity.WARNING)
        return warnings + len(self.normalised)

    @property
    def has_errors(self) -> bool:
        return any(issue.severity is Severity.ERROR for issue in self.issues)

    def to_dict(self, lang: str = "zh") -> dict[str, Any]:
        """Return the JSON-ready report; messages and hints are in ``lang``."""
        return {
            "template": self.template,
            "rows": self.rows,
            "valid_rows": self.valid_rows,
            "counts": {"error": self.error_count, "warning": self.warning_count},
            "issues": [issue.to_dict(lang) for issue in self.issues],
            "normalised": [entry.to_dict() for entry in self.normalised],
        }


def _make_converter() -> cattrs.Converter:
    result = cattrs.Converter()
    result.register_unstructure_hook(Decimal, str)
    result.register_structure_hook(Decimal, lambda value, _: Decimal(str(value)))
    result.register_unstructure_hook(datetime.date, lambda value: value.isoformat())
    result.register_structure_hook(
        datetime.date,
        lambda value, _: value if isinstance(value, datetime.date)
        else datetime.date.fromisoformat(value),
    )
    result.register_structure_hook(bool, _structure_yes_no)
    result.register_unstructure_hook(Severity, lambda value: value.value)
    result.register_unstructure_hook(Layer, lambda value: value.value)
    for cls, template in (
        (Record, get_template("records")),
        (RosterEntry, get_template("roster")),
        (PlanCourse, get_template("plan")),
    ):
        _use_headers_as_keys(result, cls, template)
    return result


_YES_NO = {"是": True, "否": False, "true": True, "false": False}


def _structure_yes_no(value: Any, _: type) -> bool:
    """Read a yes/no field from JSON: true/false or the template's 是/否."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _YES_NO:
        return _YES_NO[value.strip().lower()]
    raise ValueError(f"{value!r} is not 是, 否, true or false")


def _use_headers_as_keys(result: cattrs.Converter, cls: type, template: Template) -> None:
    """Register hooks that use the template's Chinese headers as dict keys for ``cls``."""
    headers = {column.attr: column.header for column in template}
    renames: Mapping[str, Any] = {
        field.name: override(rename=headers[field.name])
        for field in attrs.fields(cls)
        if field.name in headers
    }
    result.register_unstructure_hook(cls, make_dict_unstructure_fn(cls, result, **renames))
    result.register_structure_hook(cls, make_dict_structure_fn(cls, result, **renames))


converter = _make_converter()
