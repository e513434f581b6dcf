"""Rules on 实习单位统一社会信用代码: the host organisation's credit code.

The cell contains an 18-character USCC, or the literal ``无`` for internships abroad and in
Hong Kong, Macao and Taiwan (the city-code rules in :mod:`sxpt_core.rules.record` check
that pairing). Lower case, spaces, hyphens and full-width characters are normalised
with a warning. A character that only looks like a valid one (the letter O for the
digit 0) is an error: the hint names it, but sxpt never guesses the fix.
"""

from __future__ import annotations

from sxpt_core.catalogue import Layer, Rule, Severity
from sxpt_core.codes import uscc
from sxpt_core.normalise import Outcome

__all__ = ["normalise_unit_code"]

FIELD = "实习单位统一社会信用代码"
NONE = "无"

# Texts that people write instead of 无 when there is no mainland code.
NONE_LIKE = frozenset(
    {"NA", "N/A", "/", "-", "—", "--", "——", "暂无", "没有", "空", "境外", "国外", "不适用", "无代码", "NONE", "NULL",
     "無", "无。", "无.", "（无）", "(无)"}
)

OLD_KINDS = {
    "registration_number": ("15 位工商注册号", "15-digit business registration number"),
    "organisation_code": ("9 位组织机构代码", "9-character organisation code"),
}

USCC_FORMAT = Rule(
    code="SXPT-W-USCC-FORMAT",
    severity=Severity.WARNING,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "统一社会信用代码中的小写字母、空格、连字符和全角字符按标准写法读取。",
        "Lower case, spaces, hyphens and full-width characters in a USCC are normalised.",
    ),
    message=("代码 {value} 已按标准写法读取为 {text}", "Code {value} was read as {text}"),
    hint=("请在表格中改为 18 位大写、无空格的写法。", "Write the code as 18 upper-case characters."),
)

USCC_NONE_FORM = Rule(
    code="SXPT-E-USCC-NONE-FORM",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "没有统一社会信用代码的境外单位填写“无”，不能写成其他形式。",
        "A unit without a USCC is written as 无, not in another form.",
    ),
    message=("“{value}”不是有效的统一社会信用代码", "{value} is not a valid USCC"),
    hint=(
        "境外（含港澳台）实习填“无”；境内单位请填写 18 位统一社会信用代码。",
        "Write 无 for internships abroad, in HK, Macao or Taiwan; otherwise the 18-character USCC.",
    ),
    source="全国大学生实习公共服务系统常见问题",
)

USCC_NUMBER = Rule(
    code="SXPT-E-USCC-NUMBER",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "统一社会信用代码须以文本保存；数字格式的单元格只保留 15 位有效数字。",
        "A USCC is stored as text; a numeric cell keeps only 15 significant digits.",
    ),
    message=("代码 {value} 是数字格式，Excel 只保留 15 位有效数字，后面几位已经丢失",
             "Code {value} is a number; Excel keeps 15 significant digits, so the last ones are lost"),
    hint=("把这一列设为文本格式，再对照营业执照重新输入完整的 18 位代码。",
          "Format the column as text and enter the full 18-character code again from the licence."),
)

USCC_OLD = Rule(
    code="SXPT-E-USCC-OLD",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "旧的工商注册号和组织机构代码不能代替统一社会信用代码。",
        "An old registration number or organisation code cannot replace the USCC.",
    ),
    message=("{value} 是 {kind}，不是统一社会信用代码", "{value} is a {kind_en}, not a USCC"),
    hint=(
        "请在国家企业信用信息公示系统查询该单位的 18 位统一社会信用代码。",
        "Look up the unit's 18-character USCC in the national enterprise credit register.",
    ),
    source="GB 32100-2015",
)

USCC_LENGTH = Rule(
    code="SXPT-E-USCC-LENGTH",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=("统一社会信用代码为 18 位。", "A USCC has 18 characters."),
    message=("代码 {value} 有 {length} 位，应为 18 位", "Code {value} has {length} characters, not 18"),
    hint=("请核对是否漏填或多填了字符。", "Check for missing or extra characters."),
    source="GB 32100-2015",
)

USCC_LOOKALIKE = Rule(
    code="SXPT-E-USCC-LOOKALIKE",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "统一社会信用代码不使用字母 I、O、S、V、Z。",
        "A USCC never contains the letters I, O, S, V or Z.",
    ),
    message=(
        "代码 {value} 第 {position} 位是字母 {character}，统一社会信用代码不使用该字母",
        "Character {position} of {value} is the letter {character}, which a USCC never uses",
    ),
    hint=(
        "第 {position} 位可能应为 {probable}，请对照营业执照核实后修改。",
        "Character {position} is probably {probable}; check against the business licence.",
    ),
    source="GB 32100-2015",
)

USCC_CHARACTER = Rule(
    code="SXPT-E-USCC-CHARACTER",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "统一社会信用代码只由数字和除 I、O、S、V、Z 以外的大写字母组成。",
        "A USCC contains only digits and the upper-case letters other than I, O, S, V, Z.",
    ),
    message=(
        "代码 {value} 第 {position} 位“{character}”不是有效字符",
        "Character {position} of {value} ({character}) is not allowed",
    ),
    hint=("请对照营业执照核实该代码。", "Check the code against the business licence."),
    source="GB 32100-2015",
)

USCC_FIRST = Rule(
    code="SXPT-E-USCC-FIRST",
    severity=Severity.ERROR,
    layer=Layer.FORMAT,
    fields=(FIELD,),
    statement=(
        "统一社会信用代码第 1 位是登记管理部门代码：1-9、A、N 或 Y。",
        "The first character of a USCC is the registration authority: 1-9, A, N or Y.",
    ),
    message=(
        "代码 {value} 的第 1 位“{character}”不是登记管理部门代码",
        "The first character of {value} ({character}) is not a registration authority",
    ),
    hint=("请对照营业执照核实该代码。", "Check the code against the business licence."),
    source="GB 32100-2015",
)

USCC_CHECKSUM = Rule(
    code="SXPT-E-USCC-CHECKSUM",
    severity=Severity.ERROR,
    layer=Layer.CHECKSUM,
    fields=(FIELD,),
    statement=(
        "统一社会信用代码第 18 位校验码须与前 17 位按 GB 32100 计算的结果一致。",
        "The 18th character must equal the GB 32100 check character of the first 17.",
    ),
    message=("代码 {value} 的校验码不正确", "The check character of {value} is wrong"),
    hint=(
        "代码中有字符填错了（常见于抄写时错位或看错），请对照营业执照逐位核对。",
        "A character is wrong (often swapped or misread); compare it with the business licence.",
    ),
    source="GB 32100-2015",
)


def _as_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def normalise_unit_code(value: object) -> Outcome:
    """Normalise and check one 统一社会信用代码 cell.

    Returns the compact code, or 无, as the outcome's value; a rejected code has the
    value None and findings that explain why.

    >>> normalise_unit_code('91350100M000100Y43').value
    '91350100M000100Y43'
    >>> normalise_unit_code('91350100-m000100y43').change.code
    'SXPT-W-USCC-FORMAT'
    >>> [f.code for f in normalise_unit_code('91350100M000100Y44').findings]
    ['SXPT-E-USCC-CHECKSUM']
    >>> [f.code for f in normalise_unit_code('9135O100M000100Y43').findings]
    ['SXPT-E-USCC-LOOKALIKE']
    >>> normalise_unit_code('无').value
    '无'
    """
    if isinstance(value, float) and abs(value) >= 1e15:
        return Outcome(None, (USCC_NUMBER(value=f"{value:.15g}"),))
    text = _as_text(value).strip()
    if text == NONE:
        return Outcome(NONE)
    if text.upper() in NONE_LIKE:
        return Outcome(None, (USCC_NONE_FORM(value=text),))

    number = uscc.compact(text)
    changed = number != text
    try:
        uscc.validate(number)
    except uscc.OldIdentifier as error:
        zh, en = OLD_KINDS[error.kind]
        return Outcome(None, (USCC_OLD(value=text, kind=zh, kind_en=en),))
    except uscc.InvalidLength:
        return Outcome(None, (USCC_LENGTH(value=text, length=len(number)),))
    except uscc.InvalidCharacter as error:
        probable = uscc.LOOKALIKES.get(error.character)
        if probable is not None:
            finding = USCC_LOOKALIKE(
                value=text, position=error.position, character=error.character, probable=probable
            )
        else:
            finding = USCC_CHARACTER(value=text, position=error.position, character=error.character)
        return Outcome(None, (finding,))
    except uscc.InvalidFirstCharacter:
        return Outcome(None, (USCC_FIRST(value=text, character=number[0]),))
    except uscc.InvalidChecksum:
        return Outcome(None, (USCC_CHECKSUM(value=number),))

    if changed:
        return Outcome(number, change=USCC_FORMAT, text=number)
    return Outcome(number)
