"""The server URL and the API key from the environment, for scripts and the ``sxpt`` CLI.

An API key is a password for the school's data, so sxpt never reads it from
``sxpt.toml``, which is often committed with the school's settings. It comes from:

- ``SXPT_API_KEY``: the key itself, set by the scheduler or a secret store; or
- ``SXPT_API_KEY_FILE``: the path of a file that contains only the key. On POSIX
  systems the file must not be readable by the group or others (``chmod 600``).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from pathlib import Path

from sxpt_core.errors import ConfigError

__all__ = [
    "API_KEY_ENV",
    "API_KEY_FILE_ENV",
    "SERVER_URL_ENV",
    "api_key_from_environment",
    "check_api_key",
    "read_api_key_file",
    "server_url_from_environment",
]

SERVER_URL_ENV = "SXPT_SERVER_URL"
API_KEY_ENV = "SXPT_API_KEY"
API_KEY_FILE_ENV = "SXPT_API_KEY_FILE"

# A key file is one short line; anything longer is not a key file.
MAX_KEY_FILE_BYTES = 1024


def check_api_key(key: str) -> str:
    """Return ``key`` trimmed, or raise ConfigError when it cannot be an API key.

    The message never repeats the key.
    """
    key = key.strip()
    if not key or not key.isascii() or not key.isprintable() or any(character.isspace() for character in key):
        raise ConfigError(
            "API 密钥格式无效：应为一行不含空格的文本（以 sxpt_ 开头）。请检查 SXPT_API_KEY 或密钥文件。",
            message_en="The API key is malformed: it is one line without spaces (starting with sxpt_). Check "
                       "SXPT_API_KEY or the key file.",
        )
    return key


def read_api_key_file(path: str | os.PathLike[str]) -> str:
    """Read an API key from a file that only its owner can read.

    Raises ConfigError when the file is missing, readable by the group or others on a
    POSIX system, larger than a key file, or does not contain one key.
    """
    file = Path(path)
    try:
        status = file.stat()
    except FileNotFoundError:
        raise ConfigError(f"找不到 API 密钥文件 {file}。", message_en=f"The API key file {file} does not exist.") from None
    if os.name == "posix" and status.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"API 密钥文件 {file} 其他用户也能读取，sxpt 不会使用它。请运行 chmod 600 {file}。",
            message_en=f"Other users can read the API key file {file}, so sxpt does not use it. Run chmod 600 {file}.",
        )
    if status.st_size > MAX_KEY_FILE_BYTES:
        raise ConfigError(f"API 密钥文件 {file} 过大，文件中应只有密钥一行。",
                          message_en=f"The API key file {file} is too large; it should contain the key only.")
    try:
        text = file.read_text(encoding="ascii")
    except (UnicodeDecodeError, OSError) as error:
        raise ConfigError(f"无法读取 API 密钥文件 {file}（{type(error).__name__}）。",
                          message_en=f"Cannot read the API key file {file} ({type(error).__name__}).") from None
    return check_api_key(text)


def api_key_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """Return the key of ``SXPT_API_KEY``, else of the file ``SXPT_API_KEY_FILE`` names, else None."""
    environ = os.environ if environ is None else environ
    key = environ.get(API_KEY_ENV)
    if key:
        return check_api_key(key)
    path = environ.get(API_KEY_FILE_ENV)
    if path:
        return read_api_key_file(path)
    return None


def server_url_from_environment(environ: Mapping[str, str] | None = None) -> str | None:
    """Return ``SXPT_SERVER_URL``, or None when it is unset or blank."""
    environ = os.environ if environ is None else environ
    url = environ.get(SERVER_URL_ENV, "").strip()
    return url or None
