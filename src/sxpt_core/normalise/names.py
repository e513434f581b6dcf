"""Normaliser of people's names: 学生姓名, 校内指导教师, 企业指导人员姓名.

A name is compared character by character with the registry, so sxpt only tidies what
cannot be part of a registered name. It never applies NFKC to Han characters, because
NFKC turns a CJK compatibility ideograph into a different code point. Characters
outside the BMP, such as 𠀀 or 𪚥, are kept exactly.

Tidying, each a warning:

- ``SXPT-W-NAME-DOT``: the separator of minority and foreign names written as •, ・, ‧,
  ．, ∙, ⋅, ⸱ and the like becomes ``·`` (U+00B7). An ASCII full stop becomes ``·`` only
  in a name without Latin letters, because in ``J. Smith`` it marks an initial.
- ``SXPT-W-NAME-LIST``: several names separated by commas, semicolons or slashes are
  joined with 、, the separator the template asks for (校内指导教师 may list several
  people). Names with Latin letters keep their commas. Dots and 、 at the start or end
  of a name are dropped, and doubled ones become one.
- ``SXPT-W-NAME-FULLWIDTH``: full-width Latin letters become ASCII letters.
- ``SXPT-W-NAME-SPACE``: whitespace of every kind is trimmed, zero-width characters are
  dropped, spaces between Han characters (or next to · and 、) are removed, and other
  runs of spaces become one space.

A cell with several of these changes reports the first that applies in the order above,
because the report's normalisation entry already shows the whole rewrite.

Rejections, each an error: a lost character (``?``, ``？``, U+FFFD, □ or 〓), digits,
other characters that no name contains (brackets, symbols, emoji, private-use
characters), and a name over the column's maximum length. Several errors of one cell
are all reported.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from sxpt_core.catalogue import Finding, Layer, Rule, Severity
from sxpt_core.io.table import CellError
from sxpt_core.normalise import BLANK, UNREADABLE, Outcome
from sxpt_core.normalise.fields import WHITESPACE, check_cell_type, shown, trim

__all__ = ["normalise_name"]

_NAME_FIELDS = ("学生姓名", "姓名", "校内指导教师", "企业指导人员姓名")

NAME_SPACE = Rule(
    code="SXPT-W-NAME-SPACE", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_NAME_FIELDS,
    statement=(
        "姓名首尾的空白和零宽字符会被去掉，汉字之间的空格会被删除，其余连续空格合并为一个。",
        "Whitespace around a name and zero-width characters are removed, spaces between Han "
        "characters are deleted, and other runs of spaces become one space.",
    ),
    message=("“{value}” 中的空格已整理，读作 “{text}”",
             "the spaces in '{value}' were tidied; read as '{text}'"),
    hint=("删除姓名中多余的空格，汉字之间不加空格。",
          "Delete the extra spaces; Han characters take no spaces between them."),
)

NAME_DOT = Rule(
    code="SXPT-W-NAME-DOT", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_NAME_FIELDS,
    statement=("少数民族和外国人姓名中的分隔点统一为“·”（U+00B7）。",
               "The separator in minority and foreign names is unified to '·' (U+00B7)."),
    message=("“{value}” 中的分隔点已统一为“·”，读作 “{text}”",
             "the separator in '{value}' was unified to '·'; read as '{text}'"),
    hint=("用中文输入法下的间隔号“·”分隔，与学籍信息保持一致。",
          "Use the middle dot '·' of a Chinese input method, as in the registry."),
)

NAME_LIST = Rule(
    code="SXPT-W-NAME-LIST", severity=Severity.WARNING, layer=Layer.FORMAT, fields=_NAME_FIELDS,
    statement=("一个单元格中的多个姓名用顿号“、”分隔。",
               "Several names in one cell are separated by '、'."),
    message=("“{value}” 中的分隔符已改为顿号，读作 “{text}”",
             "the separators in '{value}' were replaced by '、'; read as '{text}'"),
    hint=("多个姓名之间用顿号“、”分隔。", "Separate several names with '、'."),
)

NAME_FULLWIDTH = Rule(
    code="SXPT-W-NAME-FULLWIDTH", severity=Severity.WARNING, layer=Layer.FORMAT,
    fields=_NAME_FIELDS,
    statement=("姓名中的全角拉丁字母改为半角字母。",
               "Full-width Latin letters in names become ASCII letters."),
    message=("“{value}” 中的全角字母已改为半角，读作 “{text}”",
             "the full-width letters in '{value}' were replaced; read as '{text}'"),
    hint=("用半角字母填写外文姓名。", "Write Latin letters in half width."),
)

NAME_QUESTION_MARK = Rule(
    code="SXPT-E-NAME-QUESTION-MARK", severity=Severity.ERROR, layer=Layer.FORMAT,
    fields=_NAME_FIELDS,
    statement=(
        "姓名中不能有“?”“？”“□”等替代符号，它们通常是丢失的生僻字。",
        "Names must not contain '?', '□' or similar placeholders, which usually stand for a lost "
        "rare character.",
    ),
    message=("“{value}” 中有 “{chars}”，可能是丢失的生僻字",
             "'{value}' contains '{chars}', probably a lost rare character"),
    hint=(
        "用支持生僻字的输入法（如 Unicode 扩展区汉字）重新输入姓名，保存为 xlsx 或 UTF-8 编码的 "
        "CSV，并与学籍信息核对。",
        "Type the name again with an input method that has rare characters (Unicode CJK "
        "extensions), save as xlsx or UTF-8 CSV, and check it against the registry.",
    ),
)

NAME_DIGIT = Rule(
    code="SXPT-E-NAME-DIGIT", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_NAME_FIELDS,
    statement=("姓名中不能有数字。", "Names contain no digits."),
    message=("“{value}” 中有数字", "'{value}' contains digits"),
    hint=("只填写姓名；学号等信息填在各自的列。",
          "Enter only the name; the student number and the like have their own columns."),
)

NAME_CHARACTER = Rule(
    code="SXPT-E-NAME-CHARACTER", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_NAME_FIELDS,
    statement=(
        "姓名只由文字、间隔号“·”和顿号“、”组成，外文姓名还可有空格、连字符、撇号和缩写点。",
        "Names consist of letters, the middle dot '·' and '、'; Latin-script names may also have "
        "spaces, hyphens, apostrophes and full stops.",
    ),
    message=("“{value}” 中有姓名不应包含的字符 “{chars}”",
             "'{value}' contains characters no name has: '{chars}'"),
    hint=(
        "删除括号、备注和符号；少数民族姓名用“·”分隔；若是自造字（私用区字符），改用 Unicode "
        "标准汉字。",
        "Remove brackets, notes and symbols; minority names use '·'; replace a self-made "
        "(private-use) character by the standard Unicode character.",
    ),
)

NAME_TOO_LONG = Rule(
    code="SXPT-E-NAME-TOO-LONG", severity=Severity.ERROR, layer=Layer.FORMAT, fields=_NAME_FIELDS,
    statement=("姓名不超过模板为该列规定的最大长度。",
               "A name is at most the maximum length the template sets for its column."),
    message=("姓名有 {length} 个字符，超过了上限 {limit}",
             "the name has {length} characters, over the limit of {limit}"),
    hint=("核对是否把其他内容填进了姓名列。",
          "Check whether other content was entered in the name column."),
)

# Han ideographs: Extension A, the unified block, the compatibility block, and the
# supplementary planes 2 and 3 (Extensions B–I), plus 〇. Planes 2 and 3 are taken
# whole so that characters newer than Python's Unicode tables still count as Han.
_HAN_RANGES = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff\u3007"
_CLEAN_NAME = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]+(?:·[\u3400-\u4dbf\u4e00-\u9fff]+)*")

_LOST_CHARACTERS = frozenset("?？\ufffd□〓")
_DOT = "·"
# Look-alikes of the middle dot that input methods and fonts produce.
_DOT_LOOKALIKES = "•・‧．∙⋅⸱･\u0387"
_DOT_LOOKALIKE_SET = frozenset(_DOT_LOOKALIKES)
_UNIFY_DOTS = str.maketrans(dict.fromkeys(_DOT_LOOKALIKES, _DOT))
_UNIFY_DOTS_AND_STOPS = str.maketrans(dict.fromkeys(_DOT_LOOKALIKES + ".", _DOT))
# Two or more dots, also with whitespace between them: tidy_spaces would join them.
_DOT_RUNS = re.compile(r"·(?:\s*·)+")

_FULLWIDTH_LETTERS = str.maketrans(
    {code: code - 0xFEE0 for code in (*range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
)
_LATIN_LETTER = re.compile("[A-Za-z\u00c0-\u024f]")

_LIST_SEPARATOR_CHARS = frozenset(",，;；/／、")
_OTHER_LIST_SEPARATORS = _LIST_SEPARATOR_CHARS - {"、"}
# Separators and whitespace that a name neither starts nor ends with.
_OUTER_SEPARATORS = "·、" + WHITESPACE
# Spaces before a separator need no pattern: tidy_spaces drops spaces next to 、.
_LIST_SEPARATORS = re.compile(r"[,，;；/／、][,，;；/／、\s]*")
_SPACE_RUNS = re.compile("[" + WHITESPACE + "]+")
_HAN = re.compile("[" + _HAN_RANGES + "]")
_ALLOWED_PUNCTUATION = frozenset(" ·、-'’.")


def normalise_name(value: Any, *, max_length: int | None = None) -> Outcome:
    """Read a person's name (or several, separated by 、) as text.

    >>> normalise_name("张三").value
    '张三'
    >>> normalise_name("𪚥𠀀").value == "𪚥𠀀"
    True
    >>> normalise_name("张 三").change.code
    'SXPT-W-NAME-SPACE'
    >>> normalise_name("阿依古丽•买买提").text
    '阿依古丽·买买提'
    >>> normalise_name("李四，王五").change.code
    'SXPT-W-NAME-LIST'
    >>> normalise_name("ＪＯＨＮ").change.code
    'SXPT-W-NAME-FULLWIDTH'
    >>> normalise_name("张?").findings[0].code
    'SXPT-E-NAME-QUESTION-MARK'
    >>> normalise_name("张三2").findings[0].code
    'SXPT-E-NAME-DIGIT'
    >>> normalise_name("张三（男）").findings[0].code
    'SXPT-E-NAME-CHARACTER'
    >>> normalise_name("张三", max_length=1).findings[0].code
    'SXPT-E-NAME-TOO-LONG'
    """
    cls = value.__class__
    if cls is str:
        if _CLEAN_NAME.fullmatch(value) and (max_length is None or len(value) <= max_length):
            return Outcome(value)
        return _name_from_text(value, max_length)
    if value is None:
        return BLANK
    if cls is CellError:
        return UNREADABLE
    finding = check_cell_type(value)
    if finding is None:
        # A number cell: a name has no digits.
        finding = NAME_DIGIT(value=shown(value))
    return Outcome(None, (finding,))


def _name_from_text(text: str, max_length: int | None) -> Outcome:
    trimmed = trim(text)
    if not trimmed:
        return BLANK

    wide = trimmed.translate(_FULLWIDTH_LETTERS)
    has_latin = _LATIN_LETTER.search(wide) is not None
    tidied = unify_dots(wide, has_latin=has_latin)
    if not has_latin:
        tidied = join_names(tidied)
    tidied = tidy_spaces(tidied).strip(_OUTER_SEPARATORS)

    findings = check_name_characters(tidied or trimmed, shown(text))
    if max_length is not None and len(tidied) > max_length:
        findings.append(NAME_TOO_LONG(length=len(tidied), limit=max_length))
    if findings:
        return Outcome(None, tuple(findings))

    change = _name_change(trimmed, wide, tidied, has_latin=has_latin)
    if change is None:
        if tidied == text:
            return Outcome(text)
        change = NAME_SPACE
    return Outcome(tidied, change=change, text=tidied)


def _name_change(trimmed: str, wide: str, tidied: str, *, has_latin: bool) -> Rule | None:
    """Return the rule of the most telling change from ``trimmed`` to ``tidied``, if any."""
    lookalikes = _DOT_LOOKALIKE_SET if has_latin else _DOT_LOOKALIKE_SET | {"."}
    if lookalikes.intersection(trimmed) or trimmed.count(_DOT) != tidied.count(_DOT):
        return NAME_DOT
    if not has_latin and (
        _OTHER_LIST_SEPARATORS.intersection(trimmed) or trimmed.count("、") != tidied.count("、")
    ):
        return NAME_LIST
    if wide != trimmed:
        return NAME_FULLWIDTH
    return None


def check_name_characters(name: str, value: str) -> list[Finding]:
    """Return the errors of the characters of a tidied name; ``value`` is the cell as shown.

    The errors are a lost character, digits, and characters that no name contains. A
    name without a single letter counts as the last.

    >>> check_name_characters("买买提·艾力", "买买提·艾力")
    []
    >>> [finding.code for finding in check_name_characters("王?1", "王?1")]
    ['SXPT-E-NAME-QUESTION-MARK', 'SXPT-E-NAME-DIGIT']
    """
    lost: list[str] = []
    has_digit = False
    has_letter = False
    others: list[str] = []
    for char in name:
        if char in _LOST_CHARACTERS:
            lost.append(char)
        elif char in _ALLOWED_PUNCTUATION:
            continue
        elif _HAN.match(char):
            has_letter = True
        else:
            category = unicodedata.category(char)
            if category == "Nd":
                has_digit = True
            elif category[0] in "LM":
                has_letter = True
            else:
                others.append(char)

    findings = []
    if lost:
        findings.append(NAME_QUESTION_MARK(value=value, chars="".join(dict.fromkeys(lost))))
    if has_digit:
        findings.append(NAME_DIGIT(value=value))
    if others or not (has_letter or lost or has_digit):
        chars = "".join(dict.fromkeys(others)) or name
        findings.append(NAME_CHARACTER(value=value, chars=shown(chars)))
    return findings


def unify_dots(text: str, *, has_latin: bool) -> str:
    """Replace look-alikes of the middle dot by ``·`` and doubled dots by one.

    ``has_latin`` keeps ASCII full stops, which mark initials in Latin-script names.

    >>> unify_dots("阿依古丽・・买买提", has_latin=False)
    '阿依古丽·买买提'
    >>> unify_dots("J. Smith", has_latin=True)
    'J. Smith'
    """
    unified = text.translate(_UNIFY_DOTS if has_latin else _UNIFY_DOTS_AND_STOPS)
    if _DOT not in unified:
        return unified
    return _DOT_RUNS.sub(_DOT, unified)


def join_names(text: str) -> str:
    """Separate the names of a list with one 、 in place of commas, semicolons and slashes.

    >>> join_names("李四，王五")
    '李四、王五'
    >>> join_names("李四、王五")
    '李四、王五'
    """
    if not _LIST_SEPARATOR_CHARS.intersection(text):
        return text
    return _LIST_SEPARATORS.sub("、", text)


def tidy_spaces(text: str) -> str:
    """Drop spaces next to Han characters, · and 、, and make other runs of spaces one space.

    >>> tidy_spaces("张 三")
    '张三'
    >>> tidy_spaces("John\\u3000\\u3000Smith")
    'John Smith'
    """
    return _SPACE_RUNS.sub(lambda match: _space_between(text, match), text)


def _space_between(text: str, match: re.Match[str]) -> str:
    if match.start() == 0 or match.end() == len(text):
        return ""
    before, after = text[match.start() - 1], text[match.end()]
    if before in "·、" or after in "·、" or (_HAN.match(before) and _HAN.match(after)):
        return ""
    return " "
