"""The permission model: who may manage which accounts, and who may read which records.

Accounts of the national system sit on four levels: the ministry (教育部), a province
(省级教育行政部门), a school (校级) and a department of a school (院系级). The rules below
come from the official FAQ of 全国大学生实习公共服务系统 unless marked as decided here:

- A superior creates, edits and deletes the accounts of the level directly below it,
  and changes their phone numbers. A school user may also create further school-level
  accounts of its own school.
- An account is bound to one unit (a school or a department, for example), and every
  account of the same unit reads the same data and has the same rights. So every check
  here takes the account's ``Unit``, never the account itself.
- Only records that a school-level user approved are visible to the province and the
  ministry (FAQ: 只有校级用户审核通过的数据省厅和学生司才能看到).
- Decided here: a department reads and uploads the records of its own department, and
  a school those of all its departments, whatever their review state. Only school users
  review, and only school users issue API keys, scoped to the school or one department.
  An account reads the audit log of its own unit and of every unit below it.

Every function is pure. The caller looks up the account's unit and the record's school
and department and passes them in.
"""

from __future__ import annotations

import datetime
import enum
import re

import attrs

from sxpt_core.errors import SxptError

__all__ = [
    "ACTIONS",
    "API_KEY_ACTIONS",
    "MINISTRY_CODE",
    "InvalidUnitError",
    "Level",
    "Unit",
    "allowed_actions",
    "api_key_allowed_actions",
    "api_key_usable",
    "can_create_unit",
    "can_manage_account",
    "can_manage_api_keys",
    "can_review",
    "can_see_records",
    "can_upload_records",
    "can_upload_reference_lists",
    "can_view_audit",
    "is_within",
    "unit_code",
]

# Decided here: the ministry has no GB/T 2260 division code, so its account names use
# six zeros, which no province code equals.
MINISTRY_CODE = "000000"

_PROVINCE_CODE = re.compile(r"[1-9][0-9]0000")
_SCHOOL_CODE = re.compile(r"[0-9]{10}")

# Action names returned by allowed_actions, with the check that guards each one.
ACTIONS: dict[str, str] = {
    "records:read": "can_see_records",
    "records:upload": "can_upload_records",
    "records:review": "can_review",
    "accounts:manage:province": "can_manage_account",
    "accounts:manage:school": "can_manage_account",
    "accounts:manage:department": "can_manage_account",
    "keys:manage": "can_manage_api_keys",
    "audit:read": "can_view_audit",
}


class InvalidUnitError(SxptError, ValueError):
    """A unit's level, province code, school code or department name is invalid."""

    code = "SXPT-UNIT-INVALID"


class Level(str, enum.Enum):
    """The level of an account in the national system, from the top down."""

    MINISTRY = "ministry"  # 教育部
    PROVINCE = "province"  # 省级教育行政部门
    SCHOOL = "school"  # 校级
    DEPARTMENT = "department"  # 院系级


def _to_level(value: str) -> Level:
    """Accept a Level or its value, as a database row or a JSON body carries it."""
    return Level(value)


def _check_unit(unit: Unit) -> None:
    """Raise InvalidUnitError unless the unit's fields fit its level."""
    level = unit.level
    if level is Level.MINISTRY:
        if unit.province is not None or unit.school is not None or unit.department is not None:
            raise InvalidUnitError(
                "教育部单位不能有省份、学校或院系。",
                message_en="The ministry unit has no province, school or department.",
            )
        return

    if unit.province is None:
        raise InvalidUnitError(
            f"缺少省份代码：{level.value} 级单位须给出 6 位省份代码，如 330000。",
            message_en=f"The province code is missing: a {level.value} unit needs a 6-digit code such as 330000.",
        )
    if not _PROVINCE_CODE.fullmatch(unit.province):
        raise InvalidUnitError(
            f"省份代码 {unit.province!r} 无效：应为以 0000 结尾的 6 位行政区划代码，如 330000。",
            message_en=f"Invalid province code {unit.province!r}: expected 6 digits ending in 0000, such as 330000.",
        )
    if level is Level.PROVINCE:
        if unit.school is not None or unit.department is not None:
            raise InvalidUnitError(
                "省级单位不能有学校或院系。",
                message_en="A province unit has no school or department.",
            )
        return

    if unit.school is None:
        raise InvalidUnitError(
            f"缺少学校代码：{level.value} 级单位须给出 10 位学校标识码，如 4133010001。",
            message_en=f"The school code is missing: a {level.value} unit needs the 10-digit code such as 4133010001.",
        )
    if not _SCHOOL_CODE.fullmatch(unit.school):
        raise InvalidUnitError(
            f"学校代码 {unit.school!r} 无效：应为 10 位数字的学校标识码，如 4133010001。",
            message_en=f"Invalid school code {unit.school!r}: expected the 10-digit school code, such as 4133010001.",
        )
    if level is Level.SCHOOL:
        if unit.department is not None:
            raise InvalidUnitError("校级单位不能有院系。", message_en="A school unit has no department.")
        return

    name = unit.department
    if name is None:
        raise InvalidUnitError("缺少院系名称。", message_en="The department name is missing.")
    if not name.strip() or name != name.strip():
        raise InvalidUnitError(
            f"院系名称 {name!r} 无效：不能为空，首尾不能有空格。",
            message_en=f"Invalid department name {name!r}: it must not be blank or start or end with spaces.",
        )


@attrs.frozen
class Unit:
    """The organisation that an account, or the scope of an API key, belongs to.

    Two units are equal when level and codes are equal. Department names are compared
    exactly, so callers trim them first.
    """

    level: Level = attrs.field(converter=_to_level)
    province: str | None = None  # GB/T 2260 province code, such as "330000", or None for the ministry
    school: str | None = None  # 10-digit school code (学校标识码), or None above school level
    department: str | None = None  # department name within the school, set only for DEPARTMENT

    def __attrs_post_init__(self) -> None:
        _check_unit(self)

    @classmethod
    def ministry(cls) -> Unit:
        """Create the ministry unit.

        >>> Unit.ministry().level
        <Level.MINISTRY: 'ministry'>
        """
        return cls(Level.MINISTRY)

    @classmethod
    def for_province(cls, province: str) -> Unit:
        """Create the unit of a province from its GB/T 2260 code.

        >>> Unit.for_province("330000").province
        '330000'
        >>> Unit.for_province("330100")
        Traceback (most recent call last):
        ...
        sxpt_core.access.InvalidUnitError: 省份代码 '330100' 无效：应为以 0000 结尾的 6 位行政区划代码，如 330000。
        """
        return cls(Level.PROVINCE, province)

    @classmethod
    def for_school(cls, province: str, school: str) -> Unit:
        """Create the unit of a school from its province code and 10-digit school code.

        >>> Unit.for_school("330000", "4133010001").school
        '4133010001'
        """
        return cls(Level.SCHOOL, province, school)

    @classmethod
    def for_department(cls, province: str, school: str, name: str) -> Unit:
        """Create the unit of a department, named as the school names it.

        >>> Unit.for_department("330000", "4133010001", "机械工程学院").department
        '机械工程学院'
        """
        return cls(Level.DEPARTMENT, province, school, name)

    @property
    def parent(self) -> Unit | None:
        """The unit directly above this one, or None for the ministry.

        >>> Unit.for_school("330000", "4133010001").parent
        Unit(level=<Level.PROVINCE: 'province'>, province='330000', school=None, department=None)
        """
        if self.level is Level.MINISTRY:
            return None
        if self.level is Level.PROVINCE:
            return Unit.ministry()
        if self.level is Level.SCHOOL:
            return Unit(Level.PROVINCE, self.province)
        return Unit(Level.SCHOOL, self.province, self.school)

    def key(self) -> tuple[str, str, str, str]:
        """Return the unit as a tuple of strings, with "" for absent parts, for dict keys and SQL.

        >>> Unit.for_province("330000").key()
        ('province', '330000', '', '')
        """
        return (self.level.value, self.province or "", self.school or "", self.department or "")


def unit_code(unit: Unit) -> str:
    """Return the code that account names of ``unit`` carry after ``sxpt``.

    That is the province code for a province and the school code for a school. Decided
    here: departments have no national code, so a department's accounts carry the code
    of their school, and the ministry's carry ``MINISTRY_CODE``.

    >>> unit_code(Unit.for_department("330000", "4133010001", "机械工程学院"))
    '4133010001'
    >>> unit_code(Unit.ministry())
    '000000'
    """
    if unit.level is Level.MINISTRY:
        return MINISTRY_CODE
    if unit.level is Level.PROVINCE:
        assert unit.province is not None  # guaranteed by _check_unit
        return unit.province
    assert unit.school is not None  # guaranteed by _check_unit
    return unit.school


def is_within(unit: Unit, scope: Unit) -> bool:
    """Return True when ``unit`` is ``scope`` itself or any unit below it.

    >>> school = Unit.for_school("330000", "4133010001")
    >>> is_within(Unit.for_department("330000", "4133010001", "机械工程学院"), school)
    True
    >>> is_within(Unit.for_province("330000"), school)
    False
    """
    current: Unit | None = unit
    while current is not None:
        if current == scope:
            return True
        current = current.parent
    return False


def can_manage_account(actor: Unit, target: Unit) -> bool:
    """Decide whether an account of ``actor`` may create, edit or delete an account of ``target``.

    The same check guards changing that account's phone and resending its activation
    SMS. It allows the unit directly above ``target``, and a school for further accounts
    of its own school. The ministry manages provinces, a province its schools, and a
    school its departments.

    >>> school = Unit.for_school("330000", "4133010001")
    >>> can_manage_account(school, Unit.for_department("330000", "4133010001", "机械工程学院"))
    True
    >>> can_manage_account(school, school)
    True
    >>> can_manage_account(Unit.for_province("330000"), Unit.for_department("330000", "4133010001", "机械工程学院"))
    False
    """
    if target.parent == actor:
        return True
    return actor.level is Level.SCHOOL and target == actor


def can_manage_level(actor: Unit, level: Level | str) -> bool:
    """Decide whether ``actor`` may manage accounts of some unit at ``level``.

    This is the level part of can_manage_account, for checking a request before its unit
    codes are complete: the level directly below the actor's, and a school's own level.

    >>> can_manage_level(Unit.ministry(), "province")
    True
    >>> can_manage_level(Unit.ministry(), "school")
    False
    >>> can_manage_level(Unit.for_school("330000", "4133010001"), "school")
    True
    """
    wanted = _to_level(level)
    if actor.level is Level.SCHOOL and wanted is Level.SCHOOL:
        return True
    levels = list(Level)
    below = levels.index(actor.level) + 1
    return below < len(levels) and levels[below] is wanted


def can_create_unit(actor: Unit, unit: Unit) -> bool:
    """Decide whether an account of ``actor`` may register the organisation ``unit``.

    Only the unit directly above may register it: the ministry a province, a province
    one of its schools, a school one of its departments. Unlike can_manage_account, a
    school may not register itself, because it already exists.

    >>> can_create_unit(Unit.for_province("330000"), Unit.for_school("330000", "4133010001"))
    True
    >>> can_create_unit(Unit.for_province("110000"), Unit.for_school("330000", "4133010001"))
    False
    """
    return unit.parent == actor


def can_see_records(actor: Unit, *, province: str, school: str, department: str, approved: bool) -> bool:
    """Decide whether an account of ``actor`` may read a record of the given school and department.

    ``approved`` is True for a version that a school user approved. A department may
    read every record of its own department and a school every record of the school,
    in any state. A province may read the approved records of schools in the province,
    and the ministry every approved record.

    >>> department = Unit.for_department("330000", "4133010001", "机械工程学院")
    >>> can_see_records(department, province="330000", school="4133010001", department="机械工程学院", approved=False)
    True
    >>> can_see_records(department, province="330000", school="4133010001", department="外国语学院", approved=True)
    False
    >>> can_see_records(Unit.for_province("330000"), province="330000", school="4133010001", department="外国语学院",
    ...                 approved=False)
    False
    """
    if actor.level is Level.MINISTRY:
        return approved
    if actor.level is Level.PROVINCE:
        return approved and province == actor.province
    if actor.level is Level.SCHOOL:
        return province == actor.province and school == actor.school
    return province == actor.province and school == actor.school and department == actor.department


def can_upload_records(actor: Unit, *, school: str, department: str) -> bool:
    """Decide whether an account of ``actor`` may upload, edit or delete records of a department.

    A department uploads for itself, and a school for any of its departments. Provinces
    and the ministry only read.

    >>> can_upload_records(Unit.for_school("330000", "4133010001"), school="4133010001", department="外国语学院")
    True
    >>> can_upload_records(Unit.for_department("330000", "4133010001", "机械工程学院"), school="4133010001",
    ...                    department="外国语学院")
    False
    """
    if actor.level is Level.SCHOOL:
        return school == actor.school
    if actor.level is Level.DEPARTMENT:
        return school == actor.school and department == actor.department
    return False


def can_review(actor: Unit, *, school: str) -> bool:
    """Decide whether an account of ``actor`` may approve or return records of ``school``.

    Only school-level users review, and only records of their own school.

    >>> can_review(Unit.for_school("330000", "4133010001"), school="4133010001")
    True
    >>> can_review(Unit.for_department("330000", "4133010001", "机械工程学院"), school="4133010001")
    False
    """
    return actor.level is Level.SCHOOL and school == actor.school


def can_upload_reference_lists(actor: Unit, *, school: str) -> bool:
    """Decide whether an account of ``actor`` may upload the roster or the training plan of ``school``.

    Decided here: the roster and the plan belong to the whole school, so only its
    school-level users upload them; departments and API keys of a department do not.

    >>> can_upload_reference_lists(Unit.for_school("330000", "4133010001"), school="4133010001")
    True
    >>> can_upload_reference_lists(Unit.for_department("330000", "4133010001", "机械工程学院"), school="4133010001")
    False
    """
    return actor.level is Level.SCHOOL and school == actor.school


def can_manage_api_keys(actor: Unit, scope: Unit) -> bool:
    """Decide whether an account of ``actor`` may issue or revoke API keys scoped to ``scope``.

    Only school users manage keys, scoped to their own school or one of its departments.

    >>> school = Unit.for_school("330000", "4133010001")
    >>> can_manage_api_keys(school, Unit.for_department("330000", "4133010001", "机械工程学院"))
    True
    >>> can_manage_api_keys(Unit.for_province("330000"), Unit.for_province("330000"))
    False
    """
    if actor.level is not Level.SCHOOL:
        return False
    return scope == actor or scope.parent == actor


def can_view_audit(actor: Unit, about: Unit) -> bool:
    """Decide whether an account of ``actor`` may read audit entries about the unit ``about``.

    An account reads the entries of its own unit and of every unit below it.

    >>> can_view_audit(Unit.ministry(), Unit.for_department("330000", "4133010001", "机械工程学院"))
    True
    >>> can_view_audit(Unit.for_department("330000", "4133010001", "机械工程学院"), Unit.for_school("330000", "4133010001"))
    False
    """
    return is_within(about, actor)


def allowed_actions(actor: Unit) -> list[str]:
    """List the actions, named as in ``ACTIONS``, that an account of ``actor`` may take on some target.

    Each action still needs its check against the concrete target: "records:upload"
    for a department means its own department only.

    >>> allowed_actions(Unit.for_province("330000"))
    ['records:read', 'accounts:manage:school', 'audit:read']
    """
    actions = ["records:read"]
    if actor.level in (Level.SCHOOL, Level.DEPARTMENT):
        actions.append("records:upload")
    if actor.level is Level.SCHOOL:
        actions.append("records:review")

    if actor.level is Level.MINISTRY:
        actions.append("accounts:manage:province")
    elif actor.level is Level.PROVINCE:
        actions.append("accounts:manage:school")
    elif actor.level is Level.SCHOOL:
        actions.extend(["accounts:manage:school", "accounts:manage:department"])

    if actor.level is Level.SCHOOL:
        actions.append("keys:manage")
    actions.append("audit:read")
    return actions


# An API key serves an academic-affairs system's scripted uploads, so it may read and
# upload records within its scope and never manage accounts, keys or organisations.
API_KEY_ACTIONS = frozenset({"records:read", "records:upload"})


def api_key_allowed_actions(scope: Unit) -> list[str]:
    """List the actions an API key scoped to ``scope`` may take: the record actions of that unit.

    >>> api_key_allowed_actions(Unit.for_school("330000", "4133010001"))
    ['records:read', 'records:upload']
    >>> "keys:manage" in api_key_allowed_actions(Unit.for_school("330000", "4133010001"))
    False
    """
    return [action for action in allowed_actions(scope) if action in API_KEY_ACTIONS]


def api_key_usable(*, expires_at: datetime.datetime, revoked_at: datetime.datetime | None,
                   now: datetime.datetime) -> bool:
    """Return True when a key is neither revoked nor expired at ``now``.

    >>> day = datetime.datetime(2026, 1, 1)
    >>> api_key_usable(expires_at=day, revoked_at=None, now=day - datetime.timedelta(seconds=1))
    True
    >>> api_key_usable(expires_at=day, revoked_at=None, now=day)
    False
    """
    return revoked_at is None and now < expires_at
