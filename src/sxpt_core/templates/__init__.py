"""Templates as data: the columns of each national workbook, by version.

A template is an ordered list of :class:`Column`. Columns are found in a workbook by
their header text (trimmed, NFKC-normalised, aliases allowed), never by position.
Code lists belong to the template version, so a later version may change them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping

import attrs

from sxpt_core.errors import ConfigError

__all__ = [
    "Column",
    "Template",
    "get_template",
    "header_key",
    "register_template",
    "template_names",
]

KINDS = frozenset(
    {
        "id",  # identifier kept as text: 学号, 课程代码
        "name",  # a person's name
        "text",  # free text with a maximum length
        "year",  # a four-digit year
        "credits",  # a positive number with at most one decimal place
        "choice",  # one value of a code list
        "academic_year",  # 2024-2025
        "uscc",  # unified social credit code
        "city",  # GB/T 2260 city code
        "yesno",  # 是 / 否
        "date",
        "days",  # a whole number of days
        "money",  # yuan per month, not negative
        "phone",
        "school_code",  # 10-digit school code
        "major_code",  # 本科专业目录 code such as 080901
        "term",  # 第一学期 / 第二学期 / 第三学期
        "count",  # a positive whole number
    }
)


@attrs.frozen
class Column:
    """One column of a template.

    ``attr`` is the attribute name on the model class; ``header`` is the template's
    Chinese header, which is also the field name in reports and JSON records.
    """

    header: str
    attr: str
    kind: str
    required: bool = True
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()
    choice_aliases: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    max_length: int | None = None
    description: tuple[str, str] = ("", "")
    exported: bool = True

    def __attrs_post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ConfigError(f"模板列 {self.header} 的类型 {self.kind!r} 无效")
        if self.kind == "choice" and not self.choices:
            raise ConfigError(f"模板列 {self.header} 是代码表列，但没有可选值")


def header_key(text: str) -> str:
    r"""Return the comparable form of a header cell: NFKC, no whitespace of any kind.

    Templates often mark required columns with ``*`` and put a note on a second line of
    the header cell; both are ignored.

    >>> header_key(" 学号 ")
    '学号'
    >>> header_key("实习报酬(元/月)") == header_key("实习报酬（元/月）")
    True
    >>> header_key("*学号"), header_key("实习开始时间\n（格式：2024-09-01）")
    ('学号', '实习开始时间')
    """
    first_line = text.strip().split("\n", 1)[0]
    folded = unicodedata.normalize("NFKC", first_line)
    kept = "".join(ch for ch in folded if not ch.isspace() and ch not in "\u200b\u200c\u200d\ufeff")
    return kept.strip("*")


@attrs.frozen
class Template:
    """A versioned list of columns, e.g. ``实习数据/2024``."""

    kind: str
    version: str
    title: str
    columns: tuple[Column, ...]
    lookup: Mapping[str, Column] = attrs.field(init=False, hash=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        lookup: dict[str, Column] = {}
        for column in self.columns:
            for text in (column.header, *column.aliases):
                key = header_key(text)
                if key in lookup:
                    raise ConfigError(f"模板 {self.name} 中表头 {text} 重复")
                lookup[key] = column
        object.__setattr__(self, "lookup", lookup)

    @property
    def name(self) -> str:
        return f"{self.title}/{self.version}"

    def __iter__(self) -> Iterator[Column]:
        return iter(self.columns)

    def column_for(self, header: str) -> Column | None:
        """Return the column whose header or alias matches ``header``, or None."""
        return self.lookup.get(header_key(header))

    def column(self, header: str) -> Column:
        """Return the column with the exact template header ``header``."""
        for column in self.columns:
            if column.header == header:
                return column
        raise KeyError(header)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.required)


_TEMPLATES: dict[tuple[str, str], Template] = {}


def register_template(template: Template) -> None:
    """Make ``template`` available to :func:`get_template` under its kind and version."""
    _TEMPLATES[(template.kind, template.version)] = template


def get_template(kind: str = "records", version: str = "2024") -> Template:
    """Return the template of ``kind`` (records, plan, roster) and ``version``."""
    from sxpt_core.templates import v2024  # noqa: F401  (registers the built-in version)

    try:
        return _TEMPLATES[(kind, version)]
    except KeyError:
        known = ", ".join(f"{k}/{v}" for k, v in sorted(_TEMPLATES))
        raise ConfigError(
            f"没有模板 {kind}/{version}，可用的模板：{known}",
            message_en=f"no template {kind}/{version}; available: {known}",
        ) from None


def template_names() -> list[str]:
    """Return ``kind/version`` of every registered template."""
    get_template()
    return [f"{kind}/{version}" for kind, version in sorted(_TEMPLATES)]
