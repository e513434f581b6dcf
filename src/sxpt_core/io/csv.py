"""Reading CSV files (and ``.txt`` files that contain CSV) into the row model.

A row number is the number of the record in the file, counted from 1, which is the row
Excel shows when it opens the file. It equals the line number unless a quoted field
contains a line break. Column letters are the ones Excel would show. Every value is text.
"""

from __future__ import annotations

import codecs
import csv
import itertools
from collections.abc import Iterable, Iterator, Sequence

from sxpt_core.errors import HeaderNotFoundError, InputError
from sxpt_core.io.table import (
    DEFAULT_LIMITS,
    HEADER_SCAN_ROWS,
    ReadLimits,
    RowCollector,
    SheetPlace,
    Table,
    find_header_row,
    header_matches,
    map_columns,
    sort_issues,
)
from sxpt_core.templates import Template

__all__ = ["DELIMITERS", "decode_text", "read_csv"]

# Comma is the CSV standard; Excel writes tab for "Unicode text" and semicolon in
# locales whose decimal separator is a comma.
DELIMITERS = (",", "\t", ";")

_DELIMITER_NAMES = {",": ("逗号", "comma"), "\t": ("制表符", "tab"), ";": ("分号", "semicolon")}


def read_csv(
    data: bytes, template: Template, *, name: str, limits: ReadLimits = DEFAULT_LIMITS
) -> Table:
    """Read the CSV file ``data``; ``name`` is the file name used in messages.

    The text is parsed twice, first for the width of the widest record and then for the
    rows, so that no more than the data rows are kept in memory.
    """
    text = decode_text(data, name)
    _allow_field_size(len(text) + 1)
    delimiter, position, header = _find_header(text, template, name)
    width = max(map(len, _records(text, delimiter, name)), default=0)

    header_row = position + 1
    place = SheetPlace(None, header_row, 0)
    columns, issues = map_columns(_padded(header, width), place, template)

    collector = RowCollector(
        place=place, columns=columns, limits=limits, name=name, text_errors=True,
        check_lengths=len(text) > limits.max_cell_chars,
    )
    records = itertools.islice(_records(text, delimiter, name), header_row, None)
    collector.collect(_numbered(records, header_row + 1, width, unwrap='="' in text))

    issues.extend(collector.issues)
    return Table(
        sheet=None, header_row=header_row, columns=columns, rows=collector.rows,
        issues=sort_issues(issues),
    )


def decode_text(data: bytes, name: str) -> str:
    """Decode a text file: a UTF-8 or UTF-16 byte order mark, else UTF-8, else GB18030.

    GB18030 also decodes GBK and GB2312, the encodings of Excel's and WPS's "CSV
    (逗号分隔)" on Chinese Windows.
    """
    if data.startswith(codecs.BOM_UTF8):
        return _decode(data, "utf-8-sig", name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode(data, "utf-16", name)
    if b"\x00" in data:
        raise InputError(
            f"{name} 不是文本文件（其中有二进制内容），无法按 CSV 读取。"
            "请选择 .xlsx 工作簿或 CSV 文件。",
            message_en=f"{name} is not a text file (it contains binary data), so it cannot "
            "be read as CSV. Choose an .xlsx workbook or a CSV file.",
        )
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError(
        f"无法识别 {name} 的文字编码，已尝试 UTF-8 和 GB18030（兼容 GBK、GB2312）。"
        "请在 Excel 或 WPS 中把它另存为“CSV UTF-8（逗号分隔）”后再试。",
        message_en=f"The text encoding of {name} is not recognised; tried UTF-8 and GB18030 "
        "(which covers GBK and GB2312). Save it as 'CSV UTF-8 (comma delimited)' in Excel "
        "or WPS and try again.",
    )


def _decode(data: bytes, encoding: str, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name} 开头标明是 {encoding.upper()} 编码，但第 {error.start} 个字节起的内容"
            "不符合该编码，文件可能已损坏。请重新导出。",
            message_en=f"{name} starts with a {encoding.upper()} byte order mark, but the bytes "
            f"from offset {error.start} are invalid in that encoding; the file may be damaged. "
            "Export it again.",
        ) from None


def _find_header(text: str, template: Template, name: str) -> tuple[str, int, list[str]]:
    """Return the delimiter, the index of the header record and the header record.

    Each delimiter is tried on the first records, and the one that gives the header
    row naming the most template columns wins.
    """
    best: tuple[int, str, int, list[str]] | None = None
    for delimiter in DELIMITERS:
        head = list(itertools.islice(_records(text, delimiter, name), HEADER_SCAN_ROWS))
        position = find_header_row(head, template)
        if position is None:
            continue
        matched, _ = header_matches(head[position], template)
        if best is None or matched > best[0]:
            best = (matched, delimiter, position, head[position])

    if best is None:
        headers = "、".join(column.header for column in template.required)
        raise HeaderNotFoundError(
            f"在 {name} 的前 {HEADER_SCAN_ROWS} 行中没有找到“{template.title}”的表头行"
            f"（已按逗号、制表符和分号分隔尝试）。表头行应包含这些列：{headers}。"
            "请使用 sxpt 生成的模板，或把表头改成模板中的写法。",
            message_en=f"No header row of the {template.title} template was found in the first "
            f"{HEADER_SCAN_ROWS} lines of {name} (tried comma, tab and semicolon as the "
            "delimiter). The header row must contain these columns: "
            f"{', '.join(column.header for column in template.required)}.",
        )
    _, delimiter, position, header = best
    return delimiter, position, header


def _records(text: str, delimiter: str, name: str) -> Iterator[list[str]]:
    """Yield the records of ``text``; raise InputError for text that is not valid CSV."""
    reader = csv.reader(_lines(text), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error as error:
        zh, en = _DELIMITER_NAMES[delimiter]
        raise InputError(
            f"{name} 第 {reader.line_num} 行不是有效的 CSV（按{zh}分隔）："
            "引号没有配对或有不该出现的字符。请在 Excel 中打开它并重新另存为 CSV。",
            message_en=f"Line {reader.line_num} of {name} is not valid CSV ({en} delimited): "
            f"{error}. Open it in Excel and save it as CSV again.",
        ) from None


def _lines(text: str) -> Iterator[str]:
    """Yield the lines of ``text`` with their line ends, as csv.reader expects them.

    Lines end at "\n", which covers "\r\n", or at "\r" in a text without any "\n", as
    old Mac exports write. Slicing the text keeps memory low, where io.StringIO would
    copy it at four bytes a character.
    """
    separator = "\n" if "\n" in text or "\r" not in text else "\r"
    find = text.find
    start = 0
    while start < len(text):
        end = find(separator, start)
        if end < 0:
            yield text[start:]
            return
        yield text[start:end + 1]
        start = end + 1


def _allow_field_size(size: int) -> None:
    """Raise the csv module's field size limit to at least ``size`` characters.

    The limit is process-wide and 131,072 characters by default, so a 10 MB junk cell
    would make the csv module raise instead of letting sxpt report the cell. The limit is
    only ever raised, so concurrent readers never lower it for each other.
    """
    if csv.field_size_limit() < size:
        csv.field_size_limit(size)


def _padded(record: Sequence[str], width: int) -> list[str]:
    if len(record) >= width:
        return list(record)
    return [*record, *([""] * (width - len(record)))]


def _numbered(
    records: Iterable[list[str]], first: int, width: int, *, unwrap: bool
) -> Iterator[tuple[int, list[str]]]:
    """Yield (row number, values padded to ``width``), numbering from ``first``."""
    for number, record in enumerate(records, first):
        if len(record) < width:
            record = _padded(record, width)
        if unwrap:
            record = [_unwrap_formula_text(value) for value in record]
        yield number, record


def _unwrap_formula_text(value: str) -> str:
    """Return the text of an ``="00123"`` cell, which exports use to keep leading zeros.

    >>> _unwrap_formula_text('="00123"'), _unwrap_formula_text("00123")
    ('00123', '00123')
    """
    if len(value) >= 3 and value.startswith('="') and value.endswith('"'):
        return value[2:-1].replace('""', '"')
    return value
