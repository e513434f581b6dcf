"""Reading ``.xlsx`` and ``.xlsm`` workbooks with python-calamine.

python-calamine returns the values of a sheet but drops two things sxpt must report:
hidden rows, and formula errors, which come back as empty strings (checked with
python-calamine 0.9.1). This module therefore streams each worksheet's XML out of the
zip package itself, in chunks and with byte searches rather than an XML parser, and
recovers both.

The same scan protects calamine from hostile packages. Before calamine opens anything,
the zip directory is checked against the decompression limits. Before calamine loads a
sheet, the sheet's used range is checked against ``ReadLimits.max_cells``, because
calamine allocates the whole range at once. One cell in XFD1048576 would otherwise make
it request hundreds of gigabytes, and the failed allocation aborts the process.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import html
import io
import itertools
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator, Sequence
from typing import IO, Any

import attrs
import python_calamine

from sxpt_core.errors import (
    AmbiguousSheetError,
    FileTooLargeError,
    HeaderNotFoundError,
    InputError,
    UnsupportedFormatError,
)
from sxpt_core.io.table import (
    DEFAULT_LIMITS,
    HEADER_SCAN_ROWS,
    MERGED_CELLS,
    CellValue,
    ReadLimits,
    RowCollector,
    SheetPlace,
    SourceColumn,
    Table,
    column_index,
    column_letter,
    field_name,
    find_header_row,
    map_columns,
    numbered,
    sort_issues,
)
from sxpt_core.models import Issue
from sxpt_core.templates import Template

__all__ = ["read_xlsx"]

CHUNK_BYTES = 1024 * 1024

# Members smaller than this are not checked for their compression ratio: small XML
# parts compress well and cannot hold a zip bomb.
RATIO_MIN_BYTES = 1024 * 1024


_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\s([^>]*)>")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\s([^>]*)>")
_ATTRIBUTE = re.compile(rb"([\w:.-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ROOT = re.compile(rb"<(?:(\w+):)?worksheet[\s>]")
_FIRST_QUOTE = re.compile(rb"<(?:\w+:)?worksheet\s[^>]*?=\s*([\"'])")
_DIMENSION = re.compile(
    rb"<(?:\w+:)?dimension\s+ref\s*=\s*[\"']((?P<first_letters>[A-Z]{1,3})(?P<first_row>\d+)"
    rb"(?::(?P<last_letters>[A-Z]{1,3})(?P<last_row>\d+))?)[\"']"
)
_CELL_REFERENCE = re.compile(rb"\sr\s*=\s*[\"']([A-Z]+)(\d+)[\"']")
# A cell start tag with its reference; group 3 is "/" for a cell without a value.
_CELL_TAG = re.compile(rb"<(?:\w+:)?c\s[^>]*?\br\s*=\s*[\"']([A-Z]+)(\d+)[\"'][^>]*?(/?)>")
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"'](\d+)[\"']")
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>([^<]*)</")


@attrs.frozen
class SheetScan:
    """Findings of the XML scan of one worksheet.

    ``cell_errors`` maps an Excel row number to {0-based column: error text}.
    ``long_text`` is True when the sheet may contain a text longer than the cell limit.
    """

    hidden_rows: frozenset[int]
    cell_errors: dict[int, dict[int, str]]
    long_text: bool


@attrs.define
class _Candidate:
    """A worksheet whose first rows contain the template's header row."""

    name: str
    sheet: Any
    scan: SheetScan
    start_row: int
    start_column: int
    head: list[list[CellValue]]
    header_position: int
    rest: Iterator[list[CellValue]]


def read_xlsx(
    source: str | bytes,
    template: Template,
    *,
    name: str,
    sheet: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Table:
    """Read the data sheet of the workbook ``source`` (a path or the file's bytes).

    ``name`` is the file name used in messages. With ``sheet`` only that sheet is read;
    otherwise the one visible worksheet whose first rows hold the template's header row.
    """
    package = _open_package(source, name, limits)
    with package:
        parts = _worksheet_parts(package, name)
        workbook = _open_workbook(source, name)
        candidates = _find_candidates(workbook, package, parts, template, name, sheet, limits)
        long_shared_strings = shared_strings_long(package, limits)
        date1904 = _uses_1904_dates(package)
    chosen = _choose(candidates, workbook, template, name, sheet)
    table = _build_table(chosen, template, name, limits, check_lengths=long_shared_strings)
    return attrs.evolve(table, date1904=date1904)


_DATE1904 = re.compile(rb"<(?:\w+:)?workbookPr\b[^>]*\bdate1904\s*=\s*[\"'](?:1|true)[\"']")


def _uses_1904_dates(package: zipfile.ZipFile) -> bool:
    """Return True when the workbook part sets the 1904 date system."""
    data = _read_small(package, _workbook_part(package)) or b""
    return _DATE1904.search(data) is not None


# --- the zip package -----------------------------------------------------------------


def _open_package(source: str | bytes, name: str, limits: ReadLimits) -> zipfile.ZipFile:
    try:
        package = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise InputError(
            f"{name} 不是有效的 xlsx 文件，可能已损坏或没有下载完整。"
            "请在 Excel 或 WPS 中打开它并另存为 .xlsx，或重新导出。",
            message_en=f"{name} is not a valid xlsx file; it may be damaged or incomplete "
            f"({error}). Open it in Excel or WPS and save it as .xlsx, or export it again.",
        ) from None

    infos = package.infolist()
    total = sum(info.file_size for info in infos)
    if total > limits.max_uncompressed_bytes:
        package.close()
        raise FileTooLargeError(
            f"{name} 解压后共 {_size(total)}，超过上限 {_size(limits.max_uncompressed_bytes)}。"
            "请把数据拆分成几个较小的工作簿再检查。",
            message_en=f"{name} unpacks to {_size(total)}, more than the limit of "
            f"{_size(limits.max_uncompressed_bytes)}. Split the data into smaller workbooks.",
        )
    for info in infos:
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size >= RATIO_MIN_BYTES and ratio > limits.max_compression_ratio:
            package.close()
            raise FileTooLargeError(
                f"{name} 中的 {info.filename} 压缩比为 {ratio:,.0f}:1，超过上限 "
                f"{limits.max_compression_ratio}:1。正常的工作簿不会这样，文件可能是恶意构造的"
                "（zip 炸弹），已停止读取。请在 Excel 中打开并另存为 .xlsx 后再试。",
                message_en=f"{info.filename} in {name} is compressed {ratio:,.0f}:1, more than "
                f"the limit of {limits.max_compression_ratio}:1. Normal workbooks are not; the "
                "file may be a zip bomb and was not read. Open it in Excel and save it as .xlsx.",
            )
        if info.flag_bits & 0x1:
            package.close()
            raise _password_error(name)
    return package


def _password_error(name: str) -> UnsupportedFormatError:
    return UnsupportedFormatError(
        f"{name} 设置了打开密码，无法读取。请在 Excel 中打开它，在“文件 → 信息 → 保护工作簿 → "
        "用密码进行加密”中清空密码并保存，再检查。",
        message_en=f"{name} is protected by a password and cannot be read. Open it in Excel, "
        "clear the password under File > Info > Protect Workbook > Encrypt with Password, "
        "save it and check it again.",
    )


def _size(count: int) -> str:
    return f"{count / (1024 * 1024):,.1f} MiB"


def _attributes(tag: bytes) -> dict[str, str]:
    """Return a tag's attributes by local name, with XML character references decoded."""
    found = {}
    for key, double, single in _ATTRIBUTE.findall(tag):
        local = key.decode("utf-8", "replace").rpartition(":")[2]
        found[local] = html.unescape((double or single).decode("utf-8", "replace"))
    return found


def _read_small(package: zipfile.ZipFile, part: str) -> bytes | None:
    try:
        return package.read(part)
    except KeyError:
        return None


def _relationships(package: zipfile.ZipFile, part: str) -> dict[str, tuple[str, str]]:
    """Return {relationship id: (type, target part)} from ``part``'s relationships file.

    ``part`` is "" for the package's own relationships.
    """
    folder, base = posixpath.split(part)
    data = _read_small(package, posixpath.join(folder, "_rels", base + ".rels"))
    found = {}
    for match in _RELATIONSHIP.finditer(data or b""):
        attributes = _attributes(match.group(1))
        target = attributes.get("Target", "")
        if target.startswith("/"):
            target = target[1:]
        else:
            target = posixpath.normpath(posixpath.join(folder, target))
        found[attributes.get("Id", "")] = (attributes.get("Type", ""), target)
    return found


def _workbook_part(package: zipfile.ZipFile) -> str:
    for kind, target in _relationships(package, "").values():
        if kind.endswith("/officeDocument"):
            return target
    return "xl/workbook.xml"


def _worksheet_parts(package: zipfile.ZipFile, name: str) -> dict[str, str]:
    """Return {sheet name: worksheet XML part} from the package's workbook part."""
    workbook_part = _workbook_part(package)
    data = _read_small(package, workbook_part)
    if data is None:
        mimetype = _read_small(package, "mimetype") or b""
        if b"opendocument" in mimetype:
            raise UnsupportedFormatError(
                f"{name} 是 OpenDocument 表格（.ods），不是 Excel 工作簿。请另存为 .xlsx 后再试。",
                message_en=f"{name} is an OpenDocument spreadsheet (.ods), not an Excel "
                "workbook. Save it as .xlsx and try again.",
            )
        raise InputError(
            f"{name} 是 zip 压缩包，但不是 Excel 工作簿（缺少 {workbook_part}）。"
            "请选择 .xlsx 工作簿，或在 Excel 中另存为 .xlsx。",
            message_en=f"{name} is a zip archive but not an Excel workbook ({workbook_part} is "
            "missing). Choose an .xlsx workbook, or save it as .xlsx in Excel.",
        )

    relationships = _relationships(package, workbook_part)
    parts = {}
    for match in _SHEET.finditer(data):
        attributes = _attributes(match.group(1))
        kind, target = relationships.get(attributes.get("id", ""), ("", ""))
        if "name" in attributes and kind.endswith("/worksheet"):
            parts[attributes["name"]] = target
    return parts


# --- scanning a worksheet's XML --------------------------------------------------------


def start_scan(
    package: zipfile.ZipFile, part: str, *, sheet: str, name: str, limits: ReadLimits
) -> SheetXml:
    """Open one worksheet's XML and read its head, up to the start of its cells.

    The used range is read from the sheet's ``<dimension>`` element, which Excel, WPS,
    LibreOffice, XlsxWriter and openpyxl write. When it is missing or over
    ``limits.max_cells``, :attr:`SheetXml.checks_range` is set. Then
    :meth:`SheetXml.finish` must read the cell references themselves before calamine may
    load the sheet. Formatted empty rows and cells widen the dimension, but not the range
    that calamine allocates.
    """
    sheet_xml = SheetXml(part=part, sheet=sheet, name=name, limits=limits)
    try:
        sheet_xml.stream = package.open(part)
    except (KeyError, zipfile.BadZipFile, NotImplementedError, OSError):
        raise sheet_xml.damaged() from None
    with sheet_xml.reading():
        sheet_xml.read_head()
    return sheet_xml


@attrs.define
class SheetXml:
    """A worksheet's XML being scanned in chunks; see :func:`start_scan`."""

    part: str
    sheet: str
    name: str
    limits: ReadLimits
    stream: IO[bytes] | None = None
    buffer: bytearray = attrs.field(factory=bytearray)
    scanner: _XmlScanner | None = None
    checks_range: bool = False

    def damaged(self) -> InputError:
        return InputError(
            f"{self.name} 已损坏，无法读取工作表“{self.sheet}”（{self.part}）。"
            "请在 Excel 中打开它并另存为 .xlsx。",
            message_en=f"{self.name} is damaged: sheet '{self.sheet}' ({self.part}) cannot be "
            "read. Open it in Excel and save it as .xlsx.",
        )

    @contextlib.contextmanager
    def reading(self) -> Iterator[None]:
        """Turn the errors of a damaged zip member into InputError, closing the stream."""
        try:
            yield
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError):
            self.close()
            raise self.damaged() from None
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None

    def read_head(self) -> None:
        """Read up to the cells and decide whether their range must be checked one by one."""
        assert self.stream is not None
        while b"sheetData" not in self.buffer and len(self.buffer) < 4 * CHUNK_BYTES:
            chunk = self.stream.read(CHUNK_BYTES)
            if not chunk:
                break
            self.buffer += chunk

        root = _ROOT.search(self.buffer)
        prefix = root.group(1) + b":" if root and root.group(1) else b""
        quote_match = _FIRST_QUOTE.search(self.buffer)
        quote = quote_match.group(1) if quote_match else b'"'
        self.scanner = _XmlScanner(prefix=prefix, quote=quote,
                                   long_text_window=_long_text_window(self.limits))

        # NOTE: a forged dimension smaller than the cells it covers, or cells without an
        # r attribute, still reach calamine unchecked; Excel, WPS and LibreOffice write
        # neither.
        dimension = _DIMENSION.search(self.buffer)
        if dimension:
            first_column = column_index(dimension["first_letters"].decode())
            last_letters = dimension["last_letters"] or dimension["first_letters"]
            last_column = column_index(last_letters.decode())
            first_row = int(dimension["first_row"])
            last_row = int(dimension["last_row"] or first_row)
            cells = (last_row - first_row + 1) * (last_column - first_column + 1)
            self.checks_range = cells > self.limits.max_cells
        else:
            self.checks_range = True
        self.scanner.track_extent = self.checks_range

    def finish(self) -> SheetScan:
        """Scan the rest of the XML, close it and return the findings.

        Raise FileTooLargeError when the cells span more than ``limits.max_cells``.
        """
        with self.reading():
            self._scan_rest()
        self.close()
        assert self.scanner is not None
        scanner = self.scanner
        if scanner.track_extent and scanner.extent is not None:
            top, left, bottom, right = scanner.extent
            _check_range(
                cells=(bottom - top + 1) * (right - left + 1),
                reference=f"{column_letter(left)}{top}:{column_letter(right)}{bottom}",
                sheet=self.sheet, name=self.name, limits=self.limits,
            )
        return SheetScan(frozenset(scanner.hidden_rows), scanner.cell_errors, scanner.long_text)

    def _scan_rest(self) -> None:
        """Scan chunk by chunk, each cut after its last complete row."""
        assert self.stream is not None and self.scanner is not None
        buffer = self.buffer
        row_close = b"</" + self.scanner.prefix + b"row>"
        while True:
            chunk = self.stream.read(CHUNK_BYTES)
            if chunk:
                buffer += chunk
                cut = buffer.rfind(row_close, max(0, len(buffer) - len(chunk) - len(row_close)))
                if cut < 0:
                    continue
                end = cut + len(row_close)
            else:
                end = len(buffer)
            self.scanner.scan(buffer, end)
            del buffer[:end]
            if not chunk:
                return


def _check_range(*, cells: int, reference: str, sheet: str, name: str, limits: ReadLimits) -> None:
    if cells <= limits.max_cells:
        return
    used = reference
    raise FileTooLargeError(
        f"{name} 的工作表“{sheet}”的使用区域是 {used}，共 {cells:,} 个单元格，超过上限 "
        f"{limits.max_cells:,} 个。通常是远离数据的某个单元格里有内容或格式：在 Excel 中按 "
        "Ctrl+End 找到它，删除数据下方多余的行和右侧多余的列，保存后再检查。",
        message_en=f"Sheet '{sheet}' of {name} uses the range {used}, {cells:,} cells, more "
        f"than the limit of {limits.max_cells:,}. Usually a cell far from the data contains a "
        "value or formatting: press Ctrl+End in Excel to find it, delete the extra rows "
        "and columns, save and check again.",
    )


@attrs.define
class _XmlScanner:
    """Searches complete rows of worksheet XML for the few things calamine drops."""

    prefix: bytes
    quote: bytes
    track_extent: bool = False
    hidden_rows: set[int] = attrs.field(factory=set)
    cell_errors: dict[int, dict[int, str]] = attrs.field(factory=dict)
    long_text_window: int = 16_384
    long_text: bool = False
    # The bounds of the cells with a value scanned so far, kept only with track_extent:
    # (top row, left column, bottom row, right column), rows from 1 and columns from 0.
    extent: tuple[int, int, int, int] | None = None

    def scan(self, buffer: bytearray, end: int) -> None:
        """Scan ``buffer[:end]``, which ends with a complete row (or the document)."""
        self._find_errors(buffer, end)
        self._find_hidden_rows(buffer, end)
        if not self.long_text:
            self.long_text = _has_long_text(buffer, end, self.long_text_window)
        if self.track_extent:
            self._track_extent(buffer, end)

    def _track_extent(self, buffer: bytearray, end: int) -> None:
        top, left, bottom, right = self.extent or (2**63, 2**63, 0, 0)
        for match in _CELL_TAG.finditer(buffer, 0, end):
            if match.group(3):
                continue
            column = column_index(match.group(1).decode())
            row = int(match.group(2))
            top, bottom = min(top, row), max(bottom, row)
            left, right = min(left, column), max(right, column)
        if bottom:
            self.extent = (top, left, bottom, right)

    def _find_errors(self, buffer: bytearray, end: int) -> None:
        needle = b"t=" + self.quote + b"e" + self.quote
        cell_tag = b"<" + self.prefix + b"c"
        position = buffer.find(needle, 0, end)
        while position >= 0:
            start = buffer.rfind(b"<", 0, position)
            tag_end = buffer.find(b">", position, end)
            if start >= 0 and tag_end >= 0 and _is_tag(buffer, start, cell_tag):
                self._record_error(buffer, start, tag_end, end)
            position = buffer.find(needle, position + len(needle), end)

    def _record_error(self, buffer: bytearray, start: int, tag_end: int, end: int) -> None:
        # NOTE: a cell without an r attribute cannot be placed and is left as calamine
        # returns it (an empty value). Excel, WPS and LibreOffice always write r.
        reference = _CELL_REFERENCE.search(buffer, start, tag_end + 1)
        if reference is None:
            return
        column = column_index(reference.group(1).decode())
        row = int(reference.group(2))
        text = "#VALUE!"  # Excel writes the error text in <v>; this is only a fallback.
        if buffer[tag_end - 1:tag_end] != b"/":
            cell_end = buffer.find(b"</" + self.prefix + b"c>", tag_end, end)
            value = _VALUE.search(buffer, tag_end, cell_end if cell_end >= 0 else end)
            if value and value.group(1).strip():
                text = html.unescape(value.group(1).decode("utf-8", "replace").strip())
        self.cell_errors.setdefault(row, {})[column] = text

    def _find_hidden_rows(self, buffer: bytearray, end: int) -> None:
        row_tag = b"<" + self.prefix + b"row"
        position = buffer.find(b"hidden=", 0, end)
        while position >= 0:
            value_start = position + len(b"hidden=")
            value = bytes(buffer[value_start:value_start + 6])
            hidden = (self.quote + b"1" + self.quote, self.quote + b"true" + self.quote)
            if value.startswith(hidden):
                start = buffer.rfind(b"<", 0, position)
                tag_end = buffer.find(b">", position, end)
                if start >= 0 and tag_end >= 0 and _is_tag(buffer, start, row_tag):
                    number = _ROW_NUMBER.search(buffer, start, tag_end + 1)
                    if number:
                        self.hidden_rows.add(int(number.group(1)))
            position = buffer.find(b"hidden=", value_start, end)


def _is_tag(buffer: bytearray, start: int, tag: bytes) -> bool:
    """Return whether the tag at ``start`` is ``tag`` itself, not a longer name."""
    after = start + len(tag)
    following = bytes(buffer[after:after + 1])
    return buffer.startswith(tag, start) and len(following) == 1 and following in b" \t\r\n"


def _long_text_window(limits: ReadLimits) -> int:
    # A text over max_cell_chars characters takes at least max_cell_chars + 1 bytes, and a
    # run of 2 * window - 1 bytes always covers one whole aligned window.
    return max(1, (limits.max_cell_chars + 2) // 2)


def _has_long_text(buffer: bytes | bytearray, end: int, window: int) -> bool:
    """Return whether ``buffer[:end]`` may contain a text over the cell length limit.

    Such a text is a run without '<' that covers at least one aligned window of
    ``window`` bytes, so one short search per window finds it.
    """
    for offset in range(0, end - window + 1, window):
        if buffer.find(b"<", offset, offset + window) < 0:
            return True
    return False


def shared_strings_long(package: zipfile.ZipFile, limits: ReadLimits) -> bool:
    """Return whether the workbook's shared strings may contain a too long text.

    NOTE: a long text split into formatted runs (``<r>`` elements) is not detected, so
    its cell reaches the normalisers uncut. Excel splits a text only where its format
    changes.
    """
    part = _shared_strings_part(package)
    if part is None:
        return False
    try:
        info = package.getinfo(part)
        if info.file_size <= limits.max_cell_chars:
            return False
        window = _long_text_window(limits)
        with package.open(info) as stream:
            tail = b""
            while chunk := stream.read(CHUNK_BYTES):
                data = tail + chunk
                if _has_long_text(data, len(data), window):
                    return True
                tail = data[-2 * window:]
    except (KeyError, zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, OSError):
        return False  # calamine reports the damaged part when it loads the workbook.
    return False


def _shared_strings_part(package: zipfile.ZipFile) -> str | None:
    workbook_part = _workbook_part(package)
    for kind, target in _relationships(package, workbook_part).values():
        if kind.endswith("/sharedStrings"):
            return target
    return None


# --- python-calamine ---------------------------------------------------------------------


def _calamine_error(name: str, error: Exception, sheet: str | None = None) -> InputError:
    if isinstance(error, python_calamine.PasswordError):
        return _password_error(name)
    where = f"工作表“{sheet}”" if sheet else "工作簿"
    where_en = f"sheet '{sheet}'" if sheet else "the workbook"
    return InputError(
        f"无法读取 {name} 的{where}，文件可能已损坏。"
        "请在 Excel 或 WPS 中打开它并另存为 .xlsx，再检查。",
        message_en=f"Cannot read {where_en} of {name}; the file may be damaged ({error}). "
        "Open it in Excel or WPS, save it as .xlsx and check it again.",
    )


def _open_workbook(source: str | bytes, name: str) -> python_calamine.CalamineWorkbook:
    try:
        if isinstance(source, bytes):
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(source))
        return python_calamine.CalamineWorkbook.from_path(source)
    except (python_calamine.CalamineError, OSError) as error:
        raise _calamine_error(name, error) from None


def _load_sheet(workbook: python_calamine.CalamineWorkbook, sheet: str, name: str) -> Any:
    try:
        return workbook.get_sheet_by_name(sheet)
    except (python_calamine.CalamineError, OSError) as error:
        raise _calamine_error(name, error, sheet) from None


def _is_visible_worksheet(metadata: python_calamine.SheetMetadata) -> bool:
    return (
        metadata.typ == python_calamine.SheetTypeEnum.WorkSheet
        and metadata.visible == python_calamine.SheetVisibleEnum.Visible
    )


def _find_candidates(
    workbook: python_calamine.CalamineWorkbook,
    package: zipfile.ZipFile,
    parts: dict[str, str],
    template: Template,
    name: str,
    sheet: str | None,
    limits: ReadLimits,
) -> list[_Candidate]:
    if sheet is not None:
        if sheet not in workbook.sheet_names:
            sheets = "、".join(f"“{each}”" for each in workbook.sheet_names)
            raise InputError(
                f"{name} 中没有名为“{sheet}”的工作表。现有的工作表：{sheets}。",
                message_en=f"{name} has no sheet named '{sheet}'. Its sheets: "
                f"{', '.join(workbook.sheet_names)}.",
            )
        names = [sheet]
    else:
        names = [meta.name for meta in workbook.sheets_metadata if _is_visible_worksheet(meta)]

    candidates = []
    for sheet_name in names:
        part = parts.get(sheet_name)
        if part is None:
            # Chart and dialog sheets have no worksheet part and contain no table.
            continue
        sheet_xml = start_scan(package, part, sheet=sheet_name, name=name, limits=limits)
        if sheet_xml.checks_range:
            scan = sheet_xml.finish()
            loaded = _load_sheet(workbook, sheet_name, name)
        else:
            # calamine releases the GIL while it loads a sheet, so the rest of the scan
            # runs beside it.
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                pending = pool.submit(sheet_xml.finish)
                loaded = _load_sheet(workbook, sheet_name, name)
                scan = pending.result()
        candidate = _inspect_sheet(loaded, sheet_name, scan, template)
        if candidate is not None:
            candidates.append(candidate)
    return candidates


def _inspect_sheet(
    sheet: Any, sheet_name: str, scan: SheetScan, template: Template
) -> _Candidate | None:
    start = sheet.start
    if start is None:
        return None
    start_row, start_column = start
    # python-calamine 0.9.1 yields start_row empty rows before the used range.
    rows = itertools.islice(iter(sheet.iter_rows()), start_row, None)
    head = list(itertools.islice(rows, HEADER_SCAN_ROWS))
    position = find_header_row(head, template)
    if position is None:
        return None
    return _Candidate(sheet_name, sheet, scan, start_row, start_column, head, position, rows)


def _choose(
    candidates: list[_Candidate],
    workbook: python_calamine.CalamineWorkbook,
    template: Template,
    name: str,
    sheet: str | None,
) -> _Candidate:
    if len(candidates) == 1:
        return candidates[0]
    if len(candidates) > 1:
        names = "、".join(f"“{candidate.name}”" for candidate in candidates)
        raise AmbiguousSheetError(
            f"{name} 中有多个工作表都像数据表：{names}。sxpt 不会猜测该读哪一个；"
            "请删除或隐藏不需要的工作表，或指定要读取的工作表。",
            message_en=f"More than one sheet of {name} looks like a data sheet: "
            f"{', '.join(candidate.name for candidate in candidates)}. sxpt does not guess: "
            "delete or hide the sheets you do not need, or name the sheet to read.",
        )

    checked = [sheet] if sheet is not None else [
        meta.name for meta in workbook.sheets_metadata if _is_visible_worksheet(meta)
    ]
    hidden = [meta.name for meta in workbook.sheets_metadata
              if sheet is None and not _is_visible_worksheet(meta)]
    headers = "、".join(column.header for column in template.required)
    checked_zh = "、".join(f"“{each}”" for each in checked) or "（没有可见的工作表）"
    hidden_zh = f"隐藏的工作表 {'、'.join(hidden)} 没有检查。" if hidden else ""
    hidden_en = f" Hidden sheets were not checked: {', '.join(hidden)}." if hidden else ""
    raise HeaderNotFoundError(
        f"在 {name} 中没有找到“{template.title}”的表头行。检查了工作表 {checked_zh} 的前 "
        f"{HEADER_SCAN_ROWS} 行。{hidden_zh}表头行应包含这些列：{headers}。"
        "请使用 sxpt 生成的模板，或把表头改成模板中的写法。",
        message_en=f"No header row of the {template.title} template was found in {name}. "
        f"Checked the first {HEADER_SCAN_ROWS} rows of: {', '.join(checked) or 'no visible sheet'}."
        f"{hidden_en} The header row must contain these columns: "
        f"{', '.join(column.header for column in template.required)}. Use the template that "
        "sxpt writes, or change the headers to the template's wording.",
    )


# --- building the table ------------------------------------------------------------------


def _build_table(
    candidate: _Candidate, template: Template, name: str, limits: ReadLimits, *, check_lengths: bool
) -> Table:
    """Map the columns and collect the rows of the chosen sheet.

    ``check_lengths`` forces the per-cell length check, which otherwise runs only when
    the sheet's own XML may contain a too long text.
    """
    header_row = candidate.start_row + candidate.header_position + 1
    place = SheetPlace(candidate.name, header_row, candidate.start_column)
    columns, issues = map_columns(candidate.head[candidate.header_position], place, template)

    cell_errors = {
        row: {column - candidate.start_column: text for column, text in errors.items()}
        for row, errors in candidate.scan.cell_errors.items()
        if row > header_row
    }
    collector = RowCollector(
        place=place, columns=columns, limits=limits, name=name,
        hidden_rows=candidate.scan.hidden_rows, cell_errors=cell_errors,
        check_lengths=check_lengths or candidate.scan.long_text,
    )
    following = candidate.head[candidate.header_position + 1:]
    collector.collect(numbered(itertools.chain(following, candidate.rest), header_row + 1))

    issues.extend(_merged_cell_issues(candidate, columns, header_row))
    issues.extend(collector.issues)
    return Table(
        sheet=candidate.name,
        header_row=header_row,
        columns=columns,
        rows=collector.rows,
        issues=sort_issues(issues),
    )


def _merged_cell_issues(
    candidate: _Candidate, columns: Sequence[SourceColumn], header_row: int
) -> list[Issue]:
    """Report merged ranges that reach the header row or the rows below it."""
    issues = []
    by_index = {column.index: column for column in columns}
    for (top, left), (bottom, right) in candidate.sheet.merged_cell_ranges or ():
        if bottom + 1 < header_row:
            continue
        first = f"{column_letter(left)}{top + 1}"
        cell_range = f"{first}:{column_letter(right)}{bottom + 1}"
        column = by_index.get(left)
        issues.append(Issue.from_finding(
            MERGED_CELLS(range=cell_range), sheet=candidate.name, row=top + 1,
            column=column_letter(left), field=field_name(column) if column else None,
            value=cell_range,
        ))
    return issues
