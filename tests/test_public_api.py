"""The public names of sxpt_core are pinned, and the library example runs."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

import sxpt_core

EXPECTED = {
    "Column", "ConfigError", "Context", "DivisionTable", "InputError", "Issue", "Layer", "Normalisation",
    "PeriodStatus", "PlanCourse", "PlanIndex", "Record", "Report", "ReportingPeriod", "Roster", "RosterEntry",
    "RosterIndex", "Rule", "SchoolSettings", "Severity", "SxptError", "Template", "Validation", "__version__",
    "all_rules", "classify_period", "converter", "get_rule", "get_template", "load_divisions",
    "reporting_month", "validate_file", "validate_rows", "validate_table",
}


def test_all_is_pinned() -> None:
    """__all__ lists exactly the documented public names."""
    assert set(sxpt_core.__all__) == EXPECTED


def test_every_public_name_exists() -> None:
    """Every name in __all__ can be imported."""
    for name in sxpt_core.__all__:
        assert hasattr(sxpt_core, name), name


def test_python_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    """examples/validate_in_python.py runs and reports the example's errors."""
    script = Path(__file__).resolve().parents[1] / "examples" / "validate_in_python.py"
    runpy.run_path(str(script), run_name="__main__")
    output = capsys.readouterr().out
    assert "301 rows, 271 without errors, 30 errors" in output
    assert "271 records ready" in output
