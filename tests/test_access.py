"""Tests of the permission model: units, account management, visibility and actions."""

from __future__ import annotations

import pytest
from hypothesis import given

from sxpt_core.access import (
    ACTIONS,
    InvalidUnitError,
    Level,
    Unit,
    allowed_actions,
    can_create_unit,
    can_manage_account,
    can_manage_api_keys,
    can_review,
    can_see_records,
    can_upload_records,
    can_view_audit,
    is_within,
    unit_code,
)
from tests.strategies import account_trees, ancestors, trees_with_records

MINISTRY = Unit.ministry()
ZHEJIANG = Unit.for_province("330000")
BEIJING = Unit.for_province("110000")
DONGHAI = Unit.for_school("330000", "4133010001")
XIHU = Unit.for_school("330000", "4133010002")
YANJING = Unit.for_school("110000", "4111010001")
MECHANICAL = Unit.for_department("330000", "4133010001", "机械工程学院")
LANGUAGES = Unit.for_department("330000", "4133010001", "外国语学院")
XIHU_MECHANICAL = Unit.for_department("330000", "4133010002", "机械工程学院")

ALL_UNITS = [MINISTRY, ZHEJIANG, BEIJING, DONGHAI, XIHU, YANJING, MECHANICAL, LANGUAGES, XIHU_MECHANICAL]


def may_read(actor: Unit, department: Unit, approved: bool) -> bool:
    assert department.province is not None
    assert department.school is not None
    assert department.department is not None
    return can_see_records(
        actor,
        province=department.province,
        school=department.school,
        department=department.department,
        approved=approved,
    )


class TestUnit:
    @pytest.mark.parametrize(
        "arguments",
        [
            (Level.MINISTRY, "330000"),
            (Level.PROVINCE, None),
            (Level.PROVINCE, "330100"),
            (Level.PROVINCE, "000000"),
            (Level.PROVINCE, "33000"),
            (Level.PROVINCE, "330000", "4133010001"),
            (Level.SCHOOL, "330000", None),
            (Level.SCHOOL, "330000", "413301000"),
            (Level.SCHOOL, "330000", "41330100011"),
            (Level.SCHOOL, "330000", "４１３３０１０００１"),
            (Level.SCHOOL, "330000", "4133010001", "机械工程学院"),
            (Level.DEPARTMENT, "330000", "4133010001", None),
            (Level.DEPARTMENT, "330000", "4133010001", ""),
            (Level.DEPARTMENT, "330000", "4133010001", "\u3000"),
            (Level.DEPARTMENT, "330000", "4133010001", " 机械工程学院"),
        ],
    )
    def test_invalid_unit_rejected(self, arguments: tuple[object, ...]) -> None:
        """A unit whose codes do not fit its level raises InvalidUnitError."""
        with pytest.raises(InvalidUnitError):
            Unit(*arguments)  # type: ignore[arg-type]

    def test_invalid_unit_message_bilingual(self) -> None:
        """The error names the bad code in Chinese and in English."""
        with pytest.raises(InvalidUnitError) as caught:
            Unit.for_school("330000", "12345")
        assert "12345" in caught.value.message
        assert "12345" in caught.value.message_en
        assert caught.value.code == "SXPT-UNIT-INVALID"

    def test_level_from_text(self) -> None:
        """A level given as its text value, as a database row stores it, is converted."""
        assert Unit("school", "330000", "4133010001") == DONGHAI  # type: ignore[arg-type]

    def test_parent_chain(self) -> None:
        """Department, school, province and ministry are each other's parents in turn."""
        assert MECHANICAL.parent == DONGHAI
        assert DONGHAI.parent == ZHEJIANG
        assert ZHEJIANG.parent == MINISTRY
        assert MINISTRY.parent is None

    def test_key_distinguishes_units(self) -> None:
        """Every unit of the fixture has its own key."""
        assert len({unit.key() for unit in ALL_UNITS}) == len(ALL_UNITS)

    def test_key_fills_absent_parts(self) -> None:
        """Absent codes appear as empty strings in the key."""
        assert MINISTRY.key() == ("ministry", "", "", "")
        assert MECHANICAL.key() == ("department", "330000", "4133010001", "机械工程学院")

    @pytest.mark.parametrize(
        ("unit", "code"),
        [(MINISTRY, "000000"), (ZHEJIANG, "330000"), (DONGHAI, "4133010001"), (MECHANICAL, "4133010001")],
    )
    def test_unit_code(self, unit: Unit, code: str) -> None:
        """Account names carry the province code, the school code, or the ministry's zeros."""
        assert unit_code(unit) == code

    def test_is_within_self(self) -> None:
        """A unit is within itself."""
        assert is_within(DONGHAI, DONGHAI)

    def test_is_within_other_school(self) -> None:
        """A department of another school is not within a school."""
        assert not is_within(XIHU_MECHANICAL, DONGHAI)


class TestManageAccount:
    @pytest.mark.parametrize(
        ("actor", "target"),
        [
            (MINISTRY, ZHEJIANG),
            (MINISTRY, BEIJING),
            (ZHEJIANG, DONGHAI),
            (ZHEJIANG, XIHU),
            (DONGHAI, MECHANICAL),
            (DONGHAI, LANGUAGES),
            (DONGHAI, DONGHAI),
        ],
    )
    def test_allowed(self, actor: Unit, target: Unit) -> None:
        """The unit directly above, or the same school, manages the account."""
        assert can_manage_account(actor, target)

    @pytest.mark.parametrize(
        ("actor", "target"),
        [
            (MINISTRY, MINISTRY),
            (MINISTRY, DONGHAI),
            (MINISTRY, MECHANICAL),
            (ZHEJIANG, ZHEJIANG),
            (ZHEJIANG, BEIJING),
            (ZHEJIANG, YANJING),
            (ZHEJIANG, MECHANICAL),
            (DONGHAI, XIHU),
            (DONGHAI, XIHU_MECHANICAL),
            (DONGHAI, ZHEJIANG),
            (MECHANICAL, MECHANICAL),
            (MECHANICAL, LANGUAGES),
            (MECHANICAL, DONGHAI),
        ],
    )
    def test_rejected(self, actor: Unit, target: Unit) -> None:
        """Skipping a level, another scope, a superior or a peer department is rejected."""
        assert not can_manage_account(actor, target)

    def test_school_cannot_create_itself(self) -> None:
        """A school adds accounts of its own school but does not register the school again."""
        assert not can_create_unit(DONGHAI, DONGHAI)

    def test_province_creates_own_school(self) -> None:
        """A province registers a school of its own province."""
        assert can_create_unit(ZHEJIANG, XIHU)

    def test_province_cannot_create_department(self) -> None:
        """A province does not register departments, which is the school's job."""
        assert not can_create_unit(ZHEJIANG, MECHANICAL)


class TestRecords:
    @pytest.mark.parametrize(
        ("actor", "department", "approved", "expected"),
        [
            (MECHANICAL, MECHANICAL, False, True),
            (MECHANICAL, MECHANICAL, True, True),
            (MECHANICAL, LANGUAGES, True, False),
            (MECHANICAL, XIHU_MECHANICAL, True, False),
            (DONGHAI, MECHANICAL, False, True),
            (DONGHAI, LANGUAGES, True, True),
            (DONGHAI, XIHU_MECHANICAL, True, False),
            (ZHEJIANG, MECHANICAL, True, True),
            (ZHEJIANG, MECHANICAL, False, False),
            (ZHEJIANG, XIHU_MECHANICAL, True, True),
            (BEIJING, MECHANICAL, True, False),
            (MINISTRY, MECHANICAL, True, True),
            (MINISTRY, XIHU_MECHANICAL, False, False),
        ],
    )
    def test_visibility(self, actor: Unit, department: Unit, approved: bool, expected: bool) -> None:
        """Departments and schools see their own records, provinces and the ministry the approved ones."""
        assert may_read(actor, department, approved) is expected

    def test_department_same_name_other_school(self) -> None:
        """A department does not see the records of a same-named department of another school."""
        assert not may_read(MECHANICAL, XIHU_MECHANICAL, False)

    @pytest.mark.parametrize(
        ("actor", "school", "department", "expected"),
        [
            (MECHANICAL, "4133010001", "机械工程学院", True),
            (MECHANICAL, "4133010001", "外国语学院", False),
            (MECHANICAL, "4133010002", "机械工程学院", False),
            (DONGHAI, "4133010001", "外国语学院", True),
            (DONGHAI, "4133010002", "机械工程学院", False),
            (ZHEJIANG, "4133010001", "机械工程学院", False),
            (MINISTRY, "4133010001", "机械工程学院", False),
        ],
    )
    def test_upload(self, actor: Unit, school: str, department: str, expected: bool) -> None:
        """A department uploads for itself and a school for its departments, but no level above."""
        assert can_upload_records(actor, school=school, department=department) is expected

    @pytest.mark.parametrize(
        ("actor", "school", "expected"),
        [
            (DONGHAI, "4133010001", True),
            (DONGHAI, "4133010002", False),
            (MECHANICAL, "4133010001", False),
            (ZHEJIANG, "4133010001", False),
            (MINISTRY, "4133010001", False),
        ],
    )
    def test_review(self, actor: Unit, school: str, expected: bool) -> None:
        """Only school users review, and only their own school's records."""
        assert can_review(actor, school=school) is expected


class TestKeysAuditActions:
    @pytest.mark.parametrize(
        ("actor", "scope", "expected"),
        [
            (DONGHAI, DONGHAI, True),
            (DONGHAI, MECHANICAL, True),
            (DONGHAI, XIHU, False),
            (DONGHAI, XIHU_MECHANICAL, False),
            (MECHANICAL, MECHANICAL, False),
            (ZHEJIANG, DONGHAI, False),
            (MINISTRY, MINISTRY, False),
        ],
    )
    def test_api_keys(self, actor: Unit, scope: Unit, expected: bool) -> None:
        """School users issue keys for their school or one of its departments."""
        assert can_manage_api_keys(actor, scope) is expected

    @pytest.mark.parametrize(
        ("actor", "about", "expected"),
        [
            (MINISTRY, MECHANICAL, True),
            (ZHEJIANG, ZHEJIANG, True),
            (ZHEJIANG, MECHANICAL, True),
            (ZHEJIANG, YANJING, False),
            (ZHEJIANG, MINISTRY, False),
            (DONGHAI, LANGUAGES, True),
            (DONGHAI, XIHU, False),
            (MECHANICAL, DONGHAI, False),
            (MECHANICAL, LANGUAGES, False),
        ],
    )
    def test_audit(self, actor: Unit, about: Unit, expected: bool) -> None:
        """An account reads the audit log of its own unit and the units below."""
        assert can_view_audit(actor, about) is expected

    @pytest.mark.parametrize(
        ("actor", "expected"),
        [
            (MINISTRY, ["records:read", "accounts:manage:province", "audit:read"]),
            (ZHEJIANG, ["records:read", "accounts:manage:school", "audit:read"]),
            (
                DONGHAI,
                [
                    "records:read",
                    "records:upload",
                    "records:review",
                    "accounts:manage:school",
                    "accounts:manage:department",
                    "keys:manage",
                    "audit:read",
                ],
            ),
            (MECHANICAL, ["records:read", "records:upload", "audit:read"]),
        ],
    )
    def test_allowed_actions(self, actor: Unit, expected: list[str]) -> None:
        """Each level gets the actions its checks can allow."""
        assert allowed_actions(actor) == expected

    @pytest.mark.parametrize("actor", ALL_UNITS)
    def test_actions_are_known(self, actor: Unit) -> None:
        """Every action returned is listed in ACTIONS."""
        assert set(allowed_actions(actor)) <= set(ACTIONS)


class TestTreeProperties:
    @given(account_trees())
    def test_manage_only_directly_below(self, tree: dict[Unit, Unit | None]) -> None:
        """An account manages exactly the accounts one level below it, plus its own school's."""
        for actor in tree:
            for target in tree:
                expected = tree[target] == actor or (actor.level is Level.SCHOOL and target == actor)
                assert can_manage_account(actor, target) is expected, (actor, target)

    @given(account_trees())
    def test_create_unit_only_directly_below(self, tree: dict[Unit, Unit | None]) -> None:
        """An account registers only units whose drawn parent it is."""
        for actor in tree:
            for unit in tree:
                assert can_create_unit(actor, unit) is (tree[unit] == actor), (actor, unit)

    @given(account_trees())
    def test_manage_actions_match_checks(self, tree: dict[Unit, Unit | None]) -> None:
        """An account that may manage some account has the matching accounts:manage action."""
        for actor in tree:
            for target in tree:
                if can_manage_account(actor, target):
                    assert f"accounts:manage:{target.level.value}" in allowed_actions(actor), (actor, target)

    @given(account_trees())
    def test_audit_is_own_subtree(self, tree: dict[Unit, Unit | None]) -> None:
        """An account reads audit entries of exactly its drawn descendants and itself."""
        for actor in tree:
            for about in tree:
                assert can_view_audit(actor, about) is (actor in ancestors(tree, about)), (actor, about)

    @given(account_trees())
    def test_api_keys_own_school(self, tree: dict[Unit, Unit | None]) -> None:
        """Only a school manages keys, for itself or a department whose drawn parent it is."""
        for actor in tree:
            for scope in tree:
                expected = actor.level is Level.SCHOOL and (scope == actor or tree[scope] == actor)
                assert can_manage_api_keys(actor, scope) is expected, (actor, scope)

    @given(trees_with_records())
    def test_visibility_matches_scope(self, drawn: tuple[dict[Unit, Unit | None], list[tuple[Unit, bool]]]) -> None:
        """Departments and schools see their subtree, provinces and the ministry only the approved records in it."""
        tree, records = drawn
        for actor in tree:
            for department, approved in records:
                in_scope = actor in ancestors(tree, department)
                if actor.level in (Level.MINISTRY, Level.PROVINCE):
                    expected = in_scope and approved
                else:
                    expected = in_scope
                assert may_read(actor, department, approved) is expected, (actor, department, approved)

    @given(trees_with_records())
    def test_upload_and_review_scope(self, drawn: tuple[dict[Unit, Unit | None], list[tuple[Unit, bool]]]) -> None:
        """Uploads come from the record's department or school, and reviews only from its school."""
        tree, records = drawn
        for actor in tree:
            for department, _approved in records:
                assert department.school is not None
                assert department.department is not None
                school = tree[department]
                may_upload = can_upload_records(actor, school=department.school, department=department.department)
                assert may_upload is (actor in (department, school)), (actor, department)
                assert can_review(actor, school=department.school) is (actor == school), (actor, department)


def test_api_key_never_manages() -> None:
    """An API key of any scope gets record actions only."""
    from sxpt_core.access import API_KEY_ACTIONS, Unit, api_key_allowed_actions

    for scope in (Unit.for_school("330000", "4133010001"), Unit.for_department("330000", "4133010001", "机械工程学院")):
        actions = api_key_allowed_actions(scope)
        assert set(actions) <= API_KEY_ACTIONS
        assert "records:upload" in actions


def test_api_key_revoked_unusable() -> None:
    """A revoked key is unusable before its expiry."""
    import datetime

    from sxpt_core.access import api_key_usable

    day = datetime.datetime(2026, 1, 1)
    assert api_key_usable(expires_at=day, revoked_at=day - datetime.timedelta(days=2),
                          now=day - datetime.timedelta(days=1)) is False
