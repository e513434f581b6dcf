"""USCC (统一社会信用代码, unified social credit code), GB 32100-2015.

The code identifies every legal person and other organisation registered in mainland
China. It has 18 characters from the set ``0-9 A-H J-N P-R T U W-Y`` (no I, O, S, V, Z):

* position 1: the registration authority (1-9, A, N or Y)
* position 2: the kind of organisation within that authority
* positions 3-8: the division code of the registering office (where the code was
  issued. It never changes when the organisation moves, so it does not show where
  an internship takes place)
* positions 9-17: the organisation code (GB 11714)
* position 18: a check character, MOD 31 over weights 3^(i-1) mod 31

Before 2015 organisations had a 15-digit business registration number (工商注册号) and
a 9-character organisation code (组织机构代码); both are recognised so that the user
can be told a USCC is now required.

python-stdnum's ``stdnum.cn.uscc`` rejects the first characters A, N and Y, which GB 32100
allows, so sxpt does not depend on it.

>>> validate('91350100M000100Y43')
'91350100M000100Y43'
>>> calc_check_character('91350100M000100Y4')
'3'
>>> is_valid('91350100M000100Y44')
False
"""

from __future__ import annotations

import unicodedata

__all__ = [
    "ALPHABET",
    "InvalidCharacter",
    "InvalidChecksum",
    "InvalidFirstCharacter",
    "InvalidLength",
    "OldIdentifier",
    "USCCError",
    "calc_check_character",
    "compact",
    "is_valid",
    "validate",
]

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
FIRST_CHARACTERS = frozenset("123456789ANY")
WEIGHTS = tuple(pow(3, index, 31) for index in range(17))
_VALUES = {character: value for value, character in enumerate(ALPHABET)}

# Characters that are not in the alphabet, with the character people usually meant.
LOOKALIKES = {"O": "0", "I": "1", "S": "5", "Z": "2", "V": "U"}

_SEPARATORS = str.maketrans("", "", " -_\u3000\u00a0\u200b\t\r\n")


class USCCError(ValueError):
    """The value is not a valid USCC; each subclass names one reason."""


class InvalidLength(USCCError):
    """The code does not have 18 characters."""


class InvalidCharacter(USCCError):
    """A character is outside the USCC alphabet."""

    def __init__(self, message: str, *, position: int, character: str) -> None:
        super().__init__(message)
        self.position = position
        self.character = character


class InvalidFirstCharacter(USCCError):
    """The first character is not a registration authority code (1-9, A, N, Y)."""


class InvalidChecksum(USCCError):
    """The check character does not match."""

    def __init__(self, message: str, *, expected: str) -> None:
        super().__init__(message)
        self.expected = expected


class OldIdentifier(USCCError):
    """The value is a pre-2015 registration number or organisation code, not a USCC."""

    def __init__(self, message: str, *, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


def compact(number: str) -> str:
    """Convert ``number`` to its minimal form: NFKC, upper case, no spaces or hyphens.

    >>> compact(' 91350100-m000100y43 ')
    '91350100M000100Y43'
    >>> compact('９１３５０１００Ｍ０００１００Ｙ４３')
    '91350100M000100Y43'
    """
    return unicodedata.normalize("NFKC", number).translate(_SEPARATORS).upper()


def calc_check_character(number: str) -> str:
    """Return the check character for the first 17 characters of ``number``.

    >>> calc_check_character('91110000600037341')
    'L'
    """
    total = sum(_VALUES[character] * weight for character, weight in zip(number[:17], WEIGHTS))
    return ALPHABET[-total % 31]


def _old_identifier_kind(number: str) -> str | None:
    if len(number) == 15 and number.isdigit():
        return "registration_number"
    if len(number) == 9 and number[:8].isalnum() and (number[8].isdigit() or number[8] == "X"):
        return "organisation_code"
    return None


def validate(number: str) -> str:
    """Check ``number`` and return its compact form; raise a ``USCCError`` subclass.

    >>> validate('91350100M000100Y4')
    Traceback (most recent call last):
        ...
    sxpt_core.codes.uscc.InvalidLength: a USCC has 18 characters, not 17
    >>> validate('330106000123456')
    Traceback (most recent call last):
        ...
    sxpt_core.codes.uscc.OldIdentifier: 330106000123456 is an old registration_number
    """
    number = compact(number)
    old = _old_identifier_kind(number)
    if old is not None:
        raise OldIdentifier(f"{number} is an old {old}", kind=old)
    if len(number) != 18:
        raise InvalidLength(f"a USCC has 18 characters, not {len(number)}")
    for position, character in enumerate(number, start=1):
        if character not in _VALUES:
            raise InvalidCharacter(
                f"character {character!r} at position {position} is not allowed",
                position=position,
                character=character,
            )
    if number[0] not in FIRST_CHARACTERS:
        raise InvalidFirstCharacter(f"first character {number[0]!r} is not a registration authority")
    expected = calc_check_character(number)
    if number[17] != expected:
        raise InvalidChecksum(f"check character should be {expected}", expected=expected)
    return number


def is_valid(number: object) -> bool:
    """Return True when ``number`` is a string holding a valid USCC.

    >>> is_valid('91110000600037341L')
    True
    >>> is_valid(None)
    False
    """
    if not isinstance(number, str):
        return False
    try:
        validate(number)
    except USCCError:
        return False
    return True
