"""Exceptions raised by sxpt.

Problems in the data (a wrong credit code, a missing column value) are never raised:
they are collected as issues in a report. Exceptions are for input that cannot be read
at all and for programming mistakes. Every sxpt exception derives from ``SxptError``::

    SxptError
    ├── InputError (ValueError)          the input cannot be read as a table
    │   ├── UnsupportedFormatError       .xls, Office lock files, unknown extensions
    │   ├── FileTooLargeError            over a size, row or decompression limit
    │   ├── HeaderNotFoundError          no sheet has the template's header row
    │   └── AmbiguousSheetError          two sheets both look like data
    ├── OutputError                      an output file cannot be written where asked
    └── ConfigError (ValueError)         invalid settings, options or template

Each class has a stable ``code`` (``SXPT-…``) used by the CLI, the server and the SDK.
"""

from __future__ import annotations

__all__ = [
    "AmbiguousSheetError",
    "ConfigError",
    "FileTooLargeError",
    "HeaderNotFoundError",
    "InputError",
    "OutputError",
    "SxptError",
    "UnsupportedFormatError",
]


class SxptError(Exception):
    """Base class of every exception that sxpt raises on purpose."""

    code = "SXPT-ERROR"

    def __init__(self, message: str, *, message_en: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en or message

    def text(self, lang: str = "zh") -> str:
        """Return the message in ``lang`` (``zh`` or ``en``)."""
        return self.message_en if lang == "en" else self.message


class InputError(SxptError, ValueError):
    """The file cannot be read as a table of the expected template."""

    code = "SXPT-INPUT"


class UnsupportedFormatError(InputError):
    """The file is of a format sxpt does not read (``.xls``, a lock file, …)."""

    code = "SXPT-INPUT-FORMAT"


class FileTooLargeError(InputError):
    """The file is over the configured size, row or decompression limit."""

    code = "SXPT-INPUT-TOO-LARGE"


class HeaderNotFoundError(InputError):
    """No sheet of the workbook contains the template's header row."""

    code = "SXPT-INPUT-NO-HEADER"


class AmbiguousSheetError(InputError):
    """More than one sheet looks like a data sheet, and sxpt does not guess."""

    code = "SXPT-INPUT-AMBIGUOUS-SHEET"


class OutputError(SxptError):
    """An output workbook cannot be written where the caller asked."""

    code = "SXPT-OUTPUT"


class ConfigError(SxptError, ValueError):
    """A setting, an option or a template definition is invalid."""

    code = "SXPT-CONFIG"
