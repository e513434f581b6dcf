"""Reading the user's files into the row model of :mod:`sxpt_core.io.table`.

:func:`read_table` accepts ``.xlsx`` and ``.xlsm`` workbooks and CSV files (``.csv``,
or ``.txt`` containing CSV). It chooses the reader by the file's content where that is
clear (a zip package is a workbook whatever its name) and by its extension otherwise,
and explains in Chinese and English what to do with anything it cannot read.
"""

from __future__ import annotations

import os
from typing import BinaryIO

from sxpt_core.errors import FileTooLargeError, InputError, UnsupportedFormatError
from sxpt_core.io.csv import read_csv
from sxpt_core.io.table import (
    DEFAULT_LIMITS,
    CellError,
    CellValue,
    ReadLimits,
    SourceColumn,
    SourceRow,
    Table,
    column_index,
    column_letter,
)
from sxpt_core.io.xlsx import read_xlsx
from sxpt_core.templates import Template

__all__ = [
    "ACCEPTED_EXTENSIONS",
    "CellError",
    "CellValue",
    "ReadLimits",
    "SourceColumn",
    "SourceRow",
    "Table",
    "column_index",
    "column_letter",
    "read_table",
]

ACCEPTED_EXTENSIONS = (".xlsx", ".xlsm", ".csv", ".txt")

ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
OLE2_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Excel stores a password-protected .xlsx as an OLE2 file with this stream name.
ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")

_SAVE_AS_XLSX = (
    "请在 Excel 或 WPS 中打开它，选择“另存为”，保存类型选“Excel 工作簿 (*.xlsx)”，然后检查新文件。",
    "Open it in Excel or WPS, choose Save As, pick 'Excel Workbook (*.xlsx)' and check the "
    "new file.",
)

_OTHER_FORMATS = {
    ".xls": ("旧版 Excel 97-2003 工作簿（.xls）", "a legacy Excel 97-2003 workbook (.xls)"),
    ".xlsb": ("Excel 二进制工作簿（.xlsb）", "an Excel binary workbook (.xlsb)"),
    ".et": ("WPS 表格文件（.et）", "a WPS Spreadsheets file (.et)"),
    ".ods": ("OpenDocument 表格（.ods）", "an OpenDocument spreadsheet (.ods)"),
    ".numbers": ("Numbers 表格（.numbers）", "an Apple Numbers file (.numbers)"),
}


def read_table(
    source: str | os.PathLike[str] | bytes | BinaryIO,
    template: Template,
    *,
    filename: str | None = None,
    sheet: str | None = None,
    limits: ReadLimits = DEFAULT_LIMITS,
) -> Table:
    """Read the data table of a workbook or CSV file for ``template``.

    ``source`` is a path, the file's bytes or a binary file object. ``filename`` names
    the file in messages and, for bytes and file objects, gives the extension. With
    ``sheet`` only that worksheet of a workbook is read. Problems of the data are
    returned in :attr:`Table.issues`; a file that cannot be read as a table raises
    :class:`~sxpt_core.errors.InputError` or one of its subclasses.
    """
    path = os.fspath(source) if isinstance(source, (str, os.PathLike)) else None
    name = filename or (os.path.basename(path) if path else _stream_name(source)) or "(未命名文件)"
    extension = os.path.splitext(name)[1].lower()

    _reject_by_name(name, extension)
    if path is not None:
        head = _read_path(path, name, limits, whole=False)
        data = head if head.startswith(ZIP_SIGNATURES) else _read_path(path, name, limits)
    else:
        data = _read_stream(source, name, limits)  # type: ignore[arg-type]

    if data.startswith(OLE2_SIGNATURE):
        raise _ole2_error(name, data)
    if data.startswith(ZIP_SIGNATURES):
        return read_xlsx(path if path is not None else data, template, name=name, sheet=sheet,
                         limits=limits)
    if extension in (".xlsx", ".xlsm"):
        raise InputError(
            f"{name} 不是有效的 xlsx 文件：它不是 Excel 工作簿的格式，可能已损坏，"
            f"或是改了扩展名的其他文件。{_SAVE_AS_XLSX[0]}",
            message_en=f"{name} is not a valid xlsx file: its content is not an Excel "
            f"workbook. It may be damaged or another file renamed. {_SAVE_AS_XLSX[1]}",
        )
    if extension == ".xls":
        raise _xls_error(name, data)
    return read_csv(data, template, name=name, limits=limits)


def _stream_name(source: object) -> str | None:
    stream_name = getattr(source, "name", None)
    return os.path.basename(stream_name) if isinstance(stream_name, str) else None


def _reject_by_name(name: str, extension: str) -> None:
    """Raise for Office lock files and for extensions sxpt does not read."""
    if name.startswith("~$"):
        raise UnsupportedFormatError(
            f"{name} 是 Excel 或 WPS 打开工作簿时自动生成的临时锁定文件，不是数据文件。"
            f"请选择同一文件夹中名字没有“~$”前缀的那个工作簿（{name[2:]} 之类）。",
            message_en=f"{name} is the temporary lock file that Excel or WPS creates while a "
            "workbook is open, not a data file. Choose the workbook in the same folder whose "
            f"name lacks the '~$' prefix (such as {name[2:]}).",
        )
    if extension in _OTHER_FORMATS and extension != ".xls":
        zh, en = _OTHER_FORMATS[extension]
        raise UnsupportedFormatError(
            f"{name} 是{zh}，sxpt 不读取这种格式。{_SAVE_AS_XLSX[0]}",
            message_en=f"{name} is {en}, which sxpt does not read. {_SAVE_AS_XLSX[1]}",
        )
    if extension and extension not in ACCEPTED_EXTENSIONS and extension != ".xls":
        accepted = "、".join(ACCEPTED_EXTENSIONS)
        raise UnsupportedFormatError(
            f"不能读取 {name}：不支持 {extension} 格式。可以读取的格式：{accepted}"
            "（.txt 须为 CSV 文本）。",
            message_en=f"Cannot read {name}: the {extension} format is not supported. "
            f"Accepted formats: {', '.join(ACCEPTED_EXTENSIONS)} (.txt containing CSV text).",
        )


def _read_path(path: str, name: str, limits: ReadLimits, *, whole: bool = True) -> bytes:
    """Return the file's bytes, or only its first bytes, enough to recognise its format."""
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(path)
        _check_size(os.stat(path).st_size, name, limits)
        with open(path, "rb") as stream:
            return stream.read(limits.max_file_bytes if whole else len(OLE2_SIGNATURE))
    except FileNotFoundError:
        raise InputError(
            f"找不到文件 {path}，请检查路径和文件名。",
            message_en=f"File not found: {path}. Check the path and the file name.",
        ) from None
    except IsADirectoryError:
        raise InputError(
            f"{path} 是文件夹，不是文件。请选择要检查的工作簿或 CSV 文件。",
            message_en=f"{path} is a folder, not a file. Choose the workbook or CSV file to check.",
        ) from None
    except PermissionError:
        raise InputError(
            f"没有权限读取 {path}。如果它正在 Excel 中打开，请先关闭；否则请检查文件权限。",
            message_en=f"No permission to read {path}. Close it if it is open in Excel; "
            "otherwise check the file's permissions.",
        ) from None
    except OSError as error:
        raise InputError(
            f"无法读取 {path}：{error.strerror or error}。",
            message_en=f"Cannot read {path}: {error.strerror or error}.",
        ) from None


def _read_stream(source: bytes | BinaryIO, name: str, limits: ReadLimits) -> bytes:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        _check_size(len(data), name, limits)
        return data
    data = source.read(limits.max_file_bytes + 1)
    if not isinstance(data, bytes):
        raise TypeError("read_table needs a binary file object, opened with 'rb'")
    # Reading stops one byte past the limit, so a larger stream's size stays unknown.
    _check_size(len(data), name, limits, exact=len(data) <= limits.max_file_bytes)
    return data


def _check_size(size: int, name: str, limits: ReadLimits, *, exact: bool = True) -> None:
    if size == 0:
        raise InputError(
            f"{name} 是空文件（0 字节），请检查是否选对了文件，或重新导出。",
            message_en=f"{name} is empty (0 bytes). Check that it is the right file, or "
            "export it again.",
        )
    if size <= limits.max_file_bytes:
        return
    limit = f"{limits.max_file_bytes / (1024 * 1024):,.0f} MiB"
    found = f"{size / (1024 * 1024):,.1f} MiB"
    size_zh = f"为 {found}" if exact else "超过上限"
    size_en = f"is {found}" if exact else "is larger than the limit"
    raise FileTooLargeError(
        f"{name} 的大小{size_zh}，上限是 {limit}。请把数据拆分成几个较小的文件后分别检查。",
        message_en=f"{name} {size_en}; the limit is {limit}. Split the data into smaller "
        "files and check each of them.",
    )


def _ole2_error(name: str, data: bytes) -> UnsupportedFormatError:
    if ENCRYPTED_STREAM in data:
        return UnsupportedFormatError(
            f"{name} 设置了打开密码，无法读取。请在 Excel 中打开它，在“文件 → 信息 → 保护工作簿 → "
            "用密码进行加密”中清空密码并保存，再检查。",
            message_en=f"{name} is protected by a password and cannot be read. Open it in "
            "Excel, clear the password under File > Info > Protect Workbook > Encrypt with "
            "Password, save it and check it again.",
        )
    zh, en = _OTHER_FORMATS[".xls"]
    return UnsupportedFormatError(
        f"{name} 是{zh}，sxpt 不读取这种格式。{_SAVE_AS_XLSX[0]}",
        message_en=f"{name} is {en}, which sxpt does not read. {_SAVE_AS_XLSX[1]}",
    )


def _xls_error(name: str, data: bytes) -> UnsupportedFormatError:
    """Explain an ``.xls`` file that is neither a workbook package nor OLE2.

    Many web systems export an HTML table under an ``.xls`` name; Excel opens it with a
    warning, but it is not a workbook.
    """
    start = data[:1024].lstrip().lower()
    if start.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"\xef\xbb\xbf<")):
        return UnsupportedFormatError(
            f"{name} 的扩展名是 .xls，但内容是网页（HTML）或 XML 表格，不是真正的 Excel 工作簿，"
            f"常见于从网页系统导出的文件。{_SAVE_AS_XLSX[0]}",
            message_en=f"{name} is named .xls but contains a web page (HTML) or XML table, not a "
            f"real Excel workbook, as web systems often export. {_SAVE_AS_XLSX[1]}",
        )
    return _ole2_error(name, b"")
