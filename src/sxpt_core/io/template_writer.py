"""Writing an empty template workbook that people fill in: ``sxpt template``.

The workbook has two sheets. The data sheet is named after the template (``实习数据``)
and has a frozen header row in template order. Code-list columns get drop-down lists,
identifier columns the text format (so that Excel keeps their leading zeros) and date
columns a date format. The second sheet (``填表说明``, or ``Instructions`` in English)
explains each column: header, required or not, allowed values, format, an example and
the template's description.

sxpt's reader finds the data sheet by its header row. The instructions sheet therefore
lists the columns downwards, one per row, and never has two template headers in one
row. Otherwise both sheets would look like data and reading the template back would
raise :class:`~sxpt_core.errors.AmbiguousSheetError`.
"""

from __future__ import annotations

import io
import os
import unicodedata
from collections.abc import Mapping
from typing import IO, Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from sxpt_core.templates import Column, Template

__all__ = [
    "DATE_FORMAT",
    "TEXT_KINDS",
    "instructions_sheet_name",
    "template_bytes",
    "write_template",
]

# Column kinds written as text cells, so that Excel keeps leading zeros and does not
# turn long digit strings into floating-point numbers or 2024-2025 into a date.
TEXT_KINDS = frozenset({"id", "uscc", "city", "phone", "school_code", "major_code", "academic_year"})

DATE_FORMAT = "yyyy-mm-dd"

# The last Excel row (1,048,576) as a 0-based index: validations and formats cover
# the whole column below the header.
LAST_ROW = 1_048_575

# Excel limits of a data validation: the list of a list validation is at most 255
# characters, the input title 32 and the input message 255.
LIST_LIMIT = 255
INPUT_TITLE_LIMIT = 32
INPUT_MESSAGE_LIMIT = 255

MIN_WIDTH, MAX_WIDTH = 8, 40

CODE_LIST_SHEET = "代码表"

# Examples of the 2024 templates' columns, by header. A header missing here falls back
# to KIND_EXAMPLES; all people and units are invented.
EXAMPLES: Mapping[str, str] = {
    "学号": "2201010001",
    "学生姓名": "林晓雨",
    "姓名": "林晓雨",
    "入学年份": "2022",
    "年级": "2022",
    "院系": "机械工程学院",
    "班级": "机械2201班",
    "课程名称": "生产实习",
    "课程代码": "0803101",
    "学分": "4",
    "实习类型": "生产实习",
    "实习组织形式": "集中实习",
    "实习方式": "现场实习",
    "学年": "2024-2025",
    "校内指导教师": "周明远",
    "实习单位名称": "云栖数控设备有限公司",
    "实习单位统一社会信用代码": "91110000600037341L",
    "实习地区及代码": "330100；杭州市-330100",
    "实习详细地址": "浙江省杭州市西湖区文三路 100 号",
    "实习单位获取方式": "学校安排",
    "实习开始时间": "2025-07-01",
    "实习结束时间": "2025-08-29",
    "实际实习天数": "60",
    "实习岗位": "数控编程实习生",
    "实习报酬（元/月）": "3000",
    "企业指导人员姓名": "王建国",
    "企业指导人员电话": "13800138000；0571-88888888",
    "专业": "机械设计制造及其自动化",
    "学期": "第二学期",
    "专业代码": "080202",
    "专业名称": "机械设计制造及其自动化",
    "计划实习周数": "4",
    "计划实习人数": "75",
    "学校名称": "东海理工大学",
    "层次": "本科",
    "学籍状态": "在籍",
    "入学日期": "2022-09-01",
}

KIND_EXAMPLES: Mapping[str, str] = {
    "year": "2022",
    "credits": "2",
    "academic_year": "2024-2025",
    "uscc": "91110000600037341L",
    "city": "330100",
    "date": "2025-07-01",
    "days": "30",
    "money": "3000",
    "phone": "13800138000",
    "school_code": "4133010335",
    "major_code": "080901",
    "count": "30",
}

# Formats that each column kind accepts, in words for the instructions sheet, as
# (Chinese, English). column_format appends the maximum length where the column has one.
KIND_FORMATS: Mapping[str, tuple[str, str]] = {
    "id": ("文本格式，保留开头的 0", "Text cell, leading zeros kept"),
    "name": ("姓名，少数民族姓名用“·”分隔", "Name, '·' between the parts of minority names"),
    "text": ("文本", "Text"),
    "year": ("四位年份", "Four-digit year"),
    "credits": ("大于 0 的数字，最多一位小数", "Number greater than 0, at most one decimal place"),
    "choice": ("从下拉列表中选择", "Choose from the drop-down list"),
    "term": ("从下拉列表中选择", "Choose from the drop-down list"),
    "yesno": ("从下拉列表中选择“是”或“否”", "Choose 是 (yes) or 否 (no) from the drop-down list"),
    "academic_year": ("文本，写作 YYYY-YYYY，后一年比前一年大 1", "Text YYYY-YYYY, the second year the first plus one"),
    "uscc": ("文本，18 位统一社会信用代码；无代码的境外单位填“无”",
             "Text, the 18-character unified social credit code; 无 for units outside the mainland"),
    "city": ("文本，六位城市代码，或写作“城市名-代码”", "Text, six-digit city code, or 'city name-code'"),
    "date": ("日期，YYYY-MM-DD", "Date, YYYY-MM-DD"),
    "days": ("不小于 1 的整数", "Whole number, at least 1"),
    "money": ("不小于 0 的金额（元），最多两位小数", "Amount in yuan, not negative, at most two decimal places"),
    "phone": ("文本，11 位手机号，或带区号的固定电话", "Text, an 11-digit mobile number or a landline with area code"),
    "school_code": ("文本，10 位学校标识码", "Text, the 10-digit school code"),
    "major_code": ("文本，6 位专业代码，特设专业加 T，国家控制布点专业加 K",
                   "Text, the 6-digit major code, with T or K for special majors"),
    "count": ("正整数", "Whole number, at least 1"),
}

TEXT: Mapping[str, tuple[str, str]] = {
    "sheet": ("填表说明", "Instructions"),
    "title": ("{title}（{version} 版）填表说明", "{title} (version {version}): how to fill in the template"),
    "note_header": (
        "1. “{sheet}”工作表的第一行是表头，请勿修改表头文字；每行填写一条数据，不要合并单元格。",
        "1. The first row of the sheet '{sheet}' is the header row: do not change the headers. "
        "Enter one row of data per line and do not merge cells.",
    ),
    "note_required": (
        "2. 表头为橙色的列必填，灰色的列选填。",
        "2. Columns with an orange header are required, grey ones optional.",
    ),
    "note_lists": (
        "3. 有下拉列表的列请从列表中选择；复制粘贴的数据不受下拉列表限制，请用 sxpt validate 检查。",
        "3. Choose values from the drop-down lists. Pasted data bypasses the lists, so check the file "
        "with sxpt validate.",
    ),
    "note_text": (
        "4. 学号、课程代码等代码列已设为文本格式，开头的 0 会保留；请不要改成数字格式。",
        "4. Code columns such as 学号 and 课程代码 are text cells that keep leading zeros; do not change "
        "them to numbers.",
    ),
    "letter": ("列", "Column"),
    "header": ("列名", "Header"),
    "required": ("是否必填", "Required"),
    "choices": ("可选值", "Allowed values"),
    "format": ("格式", "Format"),
    "example": ("示例", "Example"),
    "description": ("说明", "Description"),
    "yes": ("必填", "required"),
    "no": ("选填", "optional"),
    "aliases": ("也可用表头：{aliases}", "Also accepted as header: {aliases}"),
    "list_error": ("请从下拉列表中选择：{choices}", "Choose from the list: {choices}"),
    "number_error": ("请填写{format}。", "Expected: {format}."),
    "max_length": ("；最多 {max} 个字符", "; at most {max} characters"),
}


def _text(key: str, lang: str, **params: object) -> str:
    zh, en = TEXT[key]
    return (en if lang == "en" else zh).format(**params)


def instructions_sheet_name(lang: str = "zh") -> str:
    """Return the name of the instructions sheet in ``lang``."""
    return _text("sheet", lang)


def display_width(text: str) -> int:
    """Return the width of ``text`` in Excel character units: CJK and full-width count two.

    >>> display_width("学号")
    4
    >>> display_width("2024-2025")
    9
    """
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_example(column: Column) -> str:
    """Return an example value of ``column`` for the instructions sheet."""
    if column.header in EXAMPLES:
        return EXAMPLES[column.header]
    if column.choices:
        return column.choices[0]
    return KIND_EXAMPLES.get(column.kind, "")


def column_format(column: Column, lang: str = "zh") -> str:
    """Return what ``column`` accepts, in words, for the instructions sheet.

    >>> from sxpt_core.templates import get_template
    >>> column_format(get_template("records").column("学号"))
    '文本格式，保留开头的 0；最多 30 个字符'
    """
    zh, en = KIND_FORMATS[column.kind]
    text = en if lang == "en" else zh
    if column.max_length is not None:
        text += _text("max_length", lang, max=column.max_length)
    return text


def _column_width(column: Column) -> int:
    texts = [column.header, column_example(column), *column.choices]
    if column.kind == "date":
        texts.append("2025-07-01")
    width = max(display_width(text) for text in texts) + 2
    return max(MIN_WIDTH, min(MAX_WIDTH, width))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _Writer:
    """Writer of one template into one XlsxWriter workbook."""

    def __init__(self, workbook: Any, template: Template, lang: str) -> None:
        self.workbook = workbook
        self.template = template
        self.lang = lang
        self.formats = self._add_formats()
        self.code_list_sheet: Any = None
        self.code_list_columns = 0

    def _add_formats(self) -> dict[str, Any]:
        add = self.workbook.add_format
        header = {"bold": True, "border": 1, "align": "center", "valign": "vcenter", "text_wrap": True}
        return {
            "required": add({**header, "bg_color": "#F8CBAD"}),
            "optional": add({**header, "bg_color": "#D9D9D9"}),
            "text": add({"num_format": "@"}),
            "date": add({"num_format": DATE_FORMAT}),
            "whole": add({"num_format": "0"}),
            "title": add({"bold": True, "font_size": 14}),
            "table_header": add({"bold": True, "border": 1, "bg_color": "#D9D9D9", "valign": "top"}),
            "cell": add({"border": 1, "text_wrap": True, "valign": "top"}),
            "cell_text": add({"border": 1, "text_wrap": True, "valign": "top", "num_format": "@"}),
        }

    def write(self) -> None:
        self._write_data_sheet()
        self._write_instructions()

    # --- the data sheet -------------------------------------------------------------

    def _write_data_sheet(self) -> None:
        sheet = self.workbook.add_worksheet(self.template.title)
        for index, column in enumerate(self.template.columns):
            style = self.formats["required" if column.required else "optional"]
            sheet.write_string(0, index, column.header, style)
            sheet.set_column(index, index, _column_width(column), self._cell_format(column))
            self._add_validation(sheet, index, column)
        sheet.set_row(0, 30)
        sheet.freeze_panes(1, 0)
        sheet.activate()

    def _cell_format(self, column: Column) -> Any:
        if column.kind in TEXT_KINDS:
            return self.formats["text"]
        if column.kind == "date":
            return self.formats["date"]
        if column.kind in ("year", "days", "count"):
            return self.formats["whole"]
        return None

    def _add_validation(self, sheet: Any, index: int, column: Column) -> None:
        options = self._validation_options(column)
        options["input_title"] = _clip(column.header, INPUT_TITLE_LIMIT)
        description = column.description[1 if self.lang == "en" else 0]
        options["input_message"] = _clip(description or column_format(column, self.lang), INPUT_MESSAGE_LIMIT)
        sheet.data_validation(1, index, LAST_ROW, index, options)

    def _validation_options(self, column: Column) -> dict[str, Any]:
        """Return the validation of ``column``: a list, a number range, or only an input message."""
        if column.choices:
            choices = "、".join(column.choices)
            options: dict[str, Any] = {
                "validate": "list",
                "source": self._list_source(column),
                "error_title": _clip(column.header, INPUT_TITLE_LIMIT),
                "error_message": _clip(_text("list_error", self.lang, choices=choices), INPUT_MESSAGE_LIMIT),
            }
            return options
        number_rules: dict[str, dict[str, Any]] = {
            "credits": {"validate": "decimal", "criteria": ">", "value": 0},
            "money": {"validate": "decimal", "criteria": ">=", "value": 0},
            "days": {"validate": "integer", "criteria": ">=", "value": 1},
            "count": {"validate": "integer", "criteria": ">=", "value": 1},
            "year": {"validate": "integer", "criteria": "between", "minimum": 2000, "maximum": 2100},
        }
        if column.kind in number_rules:
            message = _text("number_error", self.lang, format=column_format(column, self.lang))
            return {**number_rules[column.kind], "error_title": _clip(column.header, INPUT_TITLE_LIMIT),
                    "error_message": _clip(message, INPUT_MESSAGE_LIMIT)}
        return {"validate": "any"}

    def _list_source(self, column: Column) -> list[str] | str:
        """Return the choices inline, or a range of the hidden code-list sheet when too long.

        Excel keeps an inline list of at most 255 characters and cannot have a comma in it.
        """
        inline = ",".join(column.choices)
        if len(inline) <= LIST_LIMIT and not any("," in choice for choice in column.choices):
            return list(column.choices)
        if self.code_list_sheet is None:
            self.code_list_sheet = self.workbook.add_worksheet(CODE_LIST_SHEET)
            self.code_list_sheet.hide()
        position = self.code_list_columns
        self.code_list_columns += 1
        for row, choice in enumerate(column.choices):
            self.code_list_sheet.write_string(row, position, choice)
        letter = xl_col_to_name(position)
        return f"='{CODE_LIST_SHEET}'!${letter}$1:${letter}${len(column.choices)}"

    # --- the instructions sheet -----------------------------------------------------

    def _write_instructions(self) -> None:
        lang = self.lang
        sheet = self.workbook.add_worksheet(instructions_sheet_name(lang))
        title = self.template.title
        sheet.write_string(0, 0, _text("title", lang, title=title, version=self.template.version),
                           self.formats["title"])
        notes = ("note_header", "note_required", "note_lists", "note_text")
        for row, key in enumerate(notes, start=1):
            sheet.write_string(row, 0, _text(key, lang, sheet=title))

        first = len(notes) + 2
        headings = ("letter", "header", "required", "choices", "format", "example", "description")
        for index, key in enumerate(headings):
            sheet.write_string(first, index, _text(key, lang), self.formats["table_header"])
        # One template column per row, so that no row of this sheet looks like a header row.
        for offset, column in enumerate(self.template.columns, start=1):
            row = first + offset
            self._write_column_row(sheet, row, offset - 1, column)
        for index, width in enumerate((6, 30, 10, 30, 40, 26, 60)):
            sheet.set_column(index, index, width)
        sheet.freeze_panes(first + 1, 0)

    def _write_column_row(self, sheet: Any, row: int, index: int, column: Column) -> None:
        lang = self.lang
        description = column.description[1 if lang == "en" else 0]
        if column.aliases:
            separator = ", " if lang == "en" else "、"
            aliases = _text("aliases", lang, aliases=separator.join(column.aliases))
            space = " " if lang == "en" and description else ""
            description = f"{description}{space}{aliases}"
        values = (
            xl_col_to_name(index),
            column.header,
            _text("yes" if column.required else "no", lang),
            "、".join(column.choices),
            column_format(column, lang),
            column_example(column),
            description,
        )
        for position, value in enumerate(values):
            # The example is text, so that Excel shows 0803101 and 2025-07-01 as written.
            style = self.formats["cell_text" if position == 5 else "cell"]
            if value:
                sheet.write_string(row, position, value, style)
            else:
                sheet.write_blank(row, position, None, style)


def write_template(
    target: str | os.PathLike[str] | IO[bytes], template: Template, *, lang: str = "zh"
) -> None:
    """Write the empty template workbook of ``template`` to a path or a binary stream.

    ``lang`` selects the language of the instructions sheet and of the input messages;
    the headers stay in Chinese, as the national system requires.
    """
    if isinstance(target, (str, os.PathLike)):
        workbook = xlsxwriter.Workbook(os.fspath(target))
    else:
        workbook = xlsxwriter.Workbook(target, {"in_memory": True})
    try:
        _Writer(workbook, template, lang).write()
    finally:
        workbook.close()


def template_bytes(template: Template, *, lang: str = "zh") -> bytes:
    """Return the empty template workbook of ``template`` as the bytes of an .xlsx file."""
    buffer = io.BytesIO()
    write_template(buffer, template, lang=lang)
    return buffer.getvalue()
