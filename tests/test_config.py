"""Tests of reading sxpt.toml."""

from __future__ import annotations

from pathlib import Path

import pytest

from sxpt_core.errors import ConfigError
from sxpt_core.io.config import load_config


def write(folder: Path, text: str) -> Path:
    (folder / "sxpt.toml").write_text(text, encoding="utf-8")
    return folder


def test_missing_file_gives_defaults(tmp_path: Path) -> None:
    """Without sxpt.toml every setting has its default."""
    config = load_config(tmp_path)
    assert config.school.name is None
    assert config.school.year_start == (9, 1)


def test_full_file_read(tmp_path: Path) -> None:
    """Every setting is read, and file paths are taken relative to the file."""
    config = load_config(write(tmp_path, '[school]\nname = "东海理工大学"\nunit_code = "12330000mb12345676"\n'
                                         'city_code = "330106"\nyear_start = "08-20"\n[files]\nroster = "r.xlsx"\n'))
    assert config.school.name == "东海理工大学"
    assert config.school.unit_code == "12330000MB12345676"
    assert config.school.city_code == "330100"
    assert config.school.year_start == (8, 20)
    assert config.roster == tmp_path / "r.xlsx"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('[school]\nunit_code = "12330000MB1234567A"\n', "unit_code"),
        ('[school]\ncity_code = "510000"\n', "city_code"),
        ("[school]\nname = 12\n", "school.name"),
        ('[school]\nyear_start = "13-01"\n', "year_start"),
        ('[schol]\nname = "x"\n', "schol"),
        ('[school]\nnmae = "x"\n', "nmae"),
        ("[school\n", "TOML"),
    ],
)
def test_invalid_setting_named(tmp_path: Path, text: str, fragment: str) -> None:
    """An invalid setting is one error naming the setting."""
    with pytest.raises(ConfigError) as raised:
        load_config(write(tmp_path, text))
    assert fragment in raised.value.message
    assert "sxpt.toml" in raised.value.message


def test_binary_file_rejected(tmp_path: Path) -> None:
    """A file that is not UTF-8 text is rejected in Chinese."""
    (tmp_path / "sxpt.toml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="UTF-8"):
        load_config(tmp_path)


def test_folder_rejected(tmp_path: Path) -> None:
    """A folder named sxpt.toml is rejected."""
    (tmp_path / "sxpt.toml").mkdir()
    with pytest.raises(ConfigError, match="文件夹"):
        load_config(tmp_path)


def test_server_section_read(tmp_path: Path) -> None:
    """[server] gives the upload commands a URL and a key file relative to sxpt.toml."""
    config = load_config(write(tmp_path, '[server]\nurl = "https://sxpt.example.edu.cn"\napi_key_file = "key.txt"\n'))
    assert config.server_url == "https://sxpt.example.edu.cn"
    assert config.api_key_file == tmp_path / "key.txt"


@pytest.mark.parametrize("text", ['[server]\nurl = "sxpt.example.edu.cn"\n', "[server]\nurl = 8000\n",
                                  "[server]\napi_key_file = 1\n", '[server]\napi_key = "sxpt_x_y"\n'])
def test_server_section_invalid(tmp_path: Path, text: str) -> None:
    """A URL without a scheme, a number, or the key itself in the file is refused with the setting named."""
    with pytest.raises(ConfigError, match="server"):
        load_config(write(tmp_path, text))
