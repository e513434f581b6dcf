"""sxpt: the rules of China's national undergraduate internship reporting, as a library.

A school's academic-affairs system validates its data before upload::

    import datetime
    from sxpt_core import Context, SchoolSettings, load_divisions, validate_file

    context = Context(today=datetime.date.today(), divisions=load_divisions(),
                      school=SchoolSettings(name="东海理工大学"))
    report = validate_file("实习数据.xlsx", context).report
    print(report.to_dict())  # the JSON report: every issue with its Excel row and column
"""

from __future__ import annotations

from sxpt_core.calendar import PeriodStatus, ReportingPeriod, classify_period, reporting_month
from sxpt_core.catalogue import Layer, Rule, Severity, all_rules, get_rule
from sxpt_core.codes.divisions import DivisionTable, load_divisions
from sxpt_core.context import Context, PlanIndex, Roster, RosterIndex, SchoolSettings
from sxpt_core.errors import ConfigError, InputError, SxptError
from sxpt_core.models import Issue, Normalisation, PlanCourse, Record, Report, RosterEntry, converter
from sxpt_core.templates import Column, Template, get_template
from sxpt_core.validate import Validation, validate_file, validate_rows, validate_table

__version__ = "0.1.0"

__all__ = [
    "Column",
    "ConfigError",
    "Context",
    "DivisionTable",
    "InputError",
    "Issue",
    "Layer",
    "Normalisation",
    "PeriodStatus",
    "PlanCourse",
    "PlanIndex",
    "Record",
    "Report",
    "ReportingPeriod",
    "Roster",
    "RosterEntry",
    "RosterIndex",
    "Rule",
    "SchoolSettings",
    "Severity",
    "SxptError",
    "Template",
    "Validation",
    "__version__",
    "all_rules",
    "classify_period",
    "converter",
    "get_rule",
    "get_template",
    "load_divisions",
    "reporting_month",
    "validate_file",
    "validate_rows",
    "validate_table",
]
