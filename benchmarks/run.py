"""Time sxpt against its baselines on one generated workbook, in one run.

Every figure is the median of ``--repeat`` runs, each in a fresh process, so that
import time and memory are counted as a user meets them. The ratios compare commands
measured in the same run, because the machines are shared and absolute times drift.

Measured, on a workbook of ``--rows`` rows in the 实习数据 layout:

(a) a bare python-calamine read of the sheet (``to_python``), the baseline;
(b) ``sxpt validate --format json``, all rules;
(c) ``sxpt validate --annotate``, the annotated workbook;
(d) a bare XlsxWriter constant-memory write of the same cells, the baseline of (c);
(e) ``frictionless validate`` with the table schema of ``sxpt schema`` (skipped when
    frictionless is not installed; the ``bench`` nox session installs it).

Usage::

    python benchmarks/run.py [--rows 100000] [--repeat 3] [--json OUT.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"

BARE_READ = """
import sys, python_calamine
workbook = python_calamine.CalamineWorkbook.from_path(sys.argv[1])
rows = workbook.get_sheet_by_index(0).to_python()
print(len(rows))
"""

BARE_WRITE = """
import sys, python_calamine, xlsxwriter
rows = python_calamine.CalamineWorkbook.from_path(sys.argv[1]).get_sheet_by_index(0).to_python()
start = __import__("time").perf_counter()
workbook = xlsxwriter.Workbook(sys.argv[2], {"constant_memory": True})
sheet = workbook.add_worksheet("实习数据")
for index, row in enumerate(rows):
    sheet.write_row(index, 0, row)
workbook.close()
print(__import__("time").perf_counter() - start)
"""


def timed(command: list[str], *, accept: tuple[int, ...] = (0,), cwd: Path | None = None) -> float:
    """Run ``command`` and return its wall time in seconds."""
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=cwd)
    elapsed = time.perf_counter() - start
    if result.returncode not in accept:
        raise SystemExit(f"{' '.join(command)} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    if "resource-error" in result.stdout or "scheme-error" in result.stdout:
        raise SystemExit(f"{' '.join(command)} could not read its input:\n{result.stdout[-2000:]}")
    return elapsed


def inner_seconds(command: list[str]) -> float:
    """Run ``command``, which prints its own timing of the measured part, and return it."""
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def median_of(repeat: int, measure) -> float:  # type: ignore[no-untyped-def]
    return statistics.median(measure() for _ in range(repeat))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.system()}"


def main() -> None:
    parser = argparse.ArgumentParser(description="Benchmark sxpt against its baselines.")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    options = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    workbook = OUT / f"records-{options.rows}.xlsx"
    if not workbook.exists():
        subprocess.run([sys.executable, str(HERE / "generate.py"), str(workbook), "--rows", str(options.rows)],
                       check=True)
    python = sys.executable
    sxpt = [python, "-m", "sxpt_core"]
    figures: dict[str, float] = {}

    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        figures["calamine_read"] = median_of(options.repeat, lambda: timed([python, "-c", BARE_READ, str(workbook)]))
        figures["sxpt_validate_json"] = median_of(options.repeat, lambda: timed(
            [*sxpt, "validate", str(workbook), "--format", "json", "--today", "2025-10-15"], accept=(0, 1)))
        figures["xlsxwriter_write"] = median_of(options.repeat, lambda: inner_seconds(
            [python, "-c", BARE_WRITE, str(workbook), str(scratch / "bare.xlsx")]))
        annotate_help = subprocess.run([*sxpt, "validate", "--help"], capture_output=True, text=True).stdout
        if "--annotate" in annotate_help:
            # The annotated write alone: validate with and without --annotate, the difference.
            with_annotation = median_of(options.repeat, lambda: timed(
                [*sxpt, "validate", str(workbook), "--format", "json", "--today", "2025-10-15",
                 "--annotate", str(scratch / "annotated.xlsx")], accept=(0, 1)))
            figures["sxpt_annotate_write"] = with_annotation - figures["sxpt_validate_json"]
        frictionless = shutil.which("frictionless")
        if frictionless:
            # frictionless reads only paths below its working folder, so it runs in OUT.
            schema = OUT / "table-schema.json"
            subprocess.run([*sxpt, "schema", "records", "--format", "table-schema", "-o", str(schema)],
                           check=True, capture_output=True)
            figures["frictionless_validate"] = median_of(options.repeat, lambda: timed(
                [frictionless, "validate", workbook.name, "--schema", schema.name, "--limit-errors", "1000000"], accept=(0, 1), cwd=OUT))

    ratios = {"validate / calamine read": figures["sxpt_validate_json"] / figures["calamine_read"]}
    if "sxpt_annotate_write" in figures:
        ratios["annotated write / bare write"] = figures["sxpt_annotate_write"] / figures["xlsxwriter_write"]
    if "frictionless_validate" in figures:
        ratios["frictionless / validate"] = figures["frictionless_validate"] / figures["sxpt_validate_json"]

    result = {"rows": options.rows, "repeat": options.repeat, "machine": machine(),
              "seconds": {key: round(value, 2) for key, value in figures.items()},
              "ratios": {key: round(value, 2) for key, value in ratios.items()}}
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if options.json:
        options.json.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
