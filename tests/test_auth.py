"""Tests of SMS codes, send limits, sessions, passwords, account names, API keys and phones."""

from __future__ import annotations

import base64
import collections
import datetime
import hashlib
import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sxpt_core.access import Unit, unit_code
from sxpt_core.auth import (
    ACTIVATION_LIFETIME,
    CODE_LIFETIME,
    CODE_MAX_TRIES,
    CODE_RANDOM_BYTES,
    SEND_INTERVAL,
    SENDS_PER_DAY,
    CodeResult,
    SendDecision,
    StoredCode,
    account_name,
    api_key_digest,
    api_key_matches,
    api_key_prefix,
    check_code,
    code_digest,
    code_message,
    hash_password,
    issue_code,
    may_send,
    needs_rehash,
    new_api_key,
    new_code,
    normalise_phone,
    password_problems,
    phone_problems,
    session_expired,
    tries_left,
    verify_password,
)
from tests.strategies import LOGIN_EPOCH, send_histories, send_request_times

KEY = b"server-secret-for-tests-32-bytes"
PHONE = "13800138000"
NOW = LOGIN_EPOCH
MINUTE = datetime.timedelta(minutes=1)
DAY = datetime.timedelta(hours=24)
MICROSECOND = datetime.timedelta(microseconds=1)

six_digit_codes = st.from_regex(r"[0-9]{6}", fullmatch=True)


def stored_code(code: str = "123456", *, tries: int = 0, used: bool = False) -> StoredCode:
    digest = code_digest(KEY, purpose="login", phone=PHONE, code=code)
    return StoredCode(digest, "login", PHONE, NOW, tries=tries, used=used)


class TestNewCode:
    @pytest.mark.parametrize("digits", [1, 2])
    def test_every_code_equally_likely(self, digits: int) -> None:
        """Over every possible 2-byte chunk, each accepted code occurs equally often."""
        counts: collections.Counter[str] = collections.Counter()
        for value in range(2**16):
            try:
                counts[new_code(value.to_bytes(2, "big"), digits)] += 1
            except ValueError:
                continue
        assert len(counts) == 10**digits
        assert len(set(counts.values())) == 1

    def test_last_value_below_limit(self) -> None:
        """The largest 4-byte value below 4294 * 10**6 gives 999999."""
        assert new_code((4_293_999_999).to_bytes(4, "big")) == "999999"

    def test_value_at_limit_skipped(self) -> None:
        """A chunk at 4294 * 10**6 is skipped and the next chunk is used."""
        assert new_code((4_294_000_000).to_bytes(4, "big") + (42).to_bytes(4, "big")) == "000042"

    def test_leading_zeros_kept(self) -> None:
        """A small value is padded to six digits."""
        assert new_code(bytes(CODE_RANDOM_BYTES)) == "000000"

    def test_too_few_bytes(self) -> None:
        """Fewer bytes than one chunk raise ValueError."""
        with pytest.raises(ValueError, match="at least 4 random bytes"):
            new_code(b"\x01\x02\x03")

    def test_all_chunks_rejected(self) -> None:
        """Bytes whose every chunk is skipped raise ValueError instead of a biased code."""
        with pytest.raises(ValueError, match="rejected"):
            new_code(b"\xff" * CODE_RANDOM_BYTES)

    def test_zero_digits(self) -> None:
        """A code of no digits raises ValueError."""
        with pytest.raises(ValueError, match="digits"):
            new_code(bytes(16), 0)

    @given(st.binary(min_size=CODE_RANDOM_BYTES, max_size=CODE_RANDOM_BYTES))
    def test_six_ascii_digits(self, random_bytes: bytes) -> None:
        """Any 16 bytes give six ASCII digits unless every chunk is at or above the limit."""
        chunks = [int.from_bytes(random_bytes[i : i + 4], "big") for i in range(0, 16, 4)]
        if all(chunk >= 4_294_000_000 for chunk in chunks):
            with pytest.raises(ValueError):
                new_code(random_bytes)
            return
        assert re.fullmatch(r"[0-9]{6}", new_code(random_bytes))


class TestCodeDigest:
    def test_is_hex_sha256(self) -> None:
        """The digest is 64 lower-case hex digits."""
        assert re.fullmatch(r"[0-9a-f]{64}", code_digest(KEY, purpose="login", phone=PHONE, code="123456"))

    @pytest.mark.parametrize(
        "other",
        [
            {"purpose": "activation", "phone": PHONE, "code": "123456"},
            {"purpose": "phone_change", "phone": PHONE, "code": "123456"},
            {"purpose": "login", "phone": "13900139000", "code": "123456"},
            {"purpose": "login", "phone": PHONE, "code": "123457"},
            {"purpose": "login", "phone": PHONE[:-1], "code": PHONE[-1] + "123456"},
        ],
    )
    def test_fields_change_digest(self, other: dict[str, str]) -> None:
        """Another purpose, phone or code, or the same characters split differently, changes the digest."""
        base = code_digest(KEY, purpose="login", phone=PHONE, code="123456")
        assert code_digest(KEY, **other) != base

    def test_key_changes_digest(self) -> None:
        """Another server secret gives another digest."""
        first = code_digest(KEY, purpose="login", phone=PHONE, code="123456")
        assert code_digest(KEY[::-1], purpose="login", phone=PHONE, code="123456") != first

    def test_unknown_purpose(self) -> None:
        """A purpose outside login, activation and phone_change raises ValueError."""
        with pytest.raises(ValueError, match="purpose"):
            code_digest(KEY, purpose="reset", phone=PHONE, code="123456")

    @pytest.mark.parametrize("key", [b"", b"short-secret"])
    def test_short_secret(self, key: bytes) -> None:
        """An empty or short server secret raises ValueError."""
        with pytest.raises(ValueError, match="server secret"):
            code_digest(key, purpose="login", phone=PHONE, code="123456")


class TestCheckCode:
    def test_right_code_accepted(self) -> None:
        """The right code is accepted and marks the record used."""
        result, after = check_code(stored_code(), "123456", key=KEY, now=NOW)
        assert result is CodeResult.OK
        assert after.used

    def test_replay_rejected(self) -> None:
        """The right code entered a second time is USED."""
        _, after = check_code(stored_code(), "123456", key=KEY, now=NOW)
        result, again = check_code(after, "123456", key=KEY, now=NOW)
        assert result is CodeResult.USED
        assert again == after

    def test_wrong_code_counts_try(self) -> None:
        """A wrong code is WRONG and counts one try."""
        result, after = check_code(stored_code(), "654321", key=KEY, now=NOW)
        assert result is CodeResult.WRONG
        assert after.tries == 1
        assert not after.used

    def test_fifth_wrong_then_locked(self) -> None:
        """Five wrong codes lock the code, so the right one is then rejected."""
        stored = stored_code()
        for _ in range(CODE_MAX_TRIES):
            result, stored = check_code(stored, "000000", key=KEY, now=NOW)
            assert result is CodeResult.WRONG
        result, after = check_code(stored, "123456", key=KEY, now=NOW)
        assert result is CodeResult.LOCKED
        assert after == stored

    def test_fourth_wrong_then_right(self) -> None:
        """After four wrong codes the right one is still accepted."""
        stored = stored_code(tries=CODE_MAX_TRIES - 1)
        assert check_code(stored, "123456", key=KEY, now=NOW)[0] is CodeResult.OK

    def test_expired_at_lifetime(self) -> None:
        """At exactly five minutes after issue the code is EXPIRED."""
        result, after = check_code(stored_code(), "123456", key=KEY, now=NOW + CODE_LIFETIME)
        assert result is CodeResult.EXPIRED
        assert not after.used

    def test_valid_just_before_expiry(self) -> None:
        """One microsecond before five minutes the code is accepted."""
        result, _ = check_code(stored_code(), "123456", key=KEY, now=NOW + CODE_LIFETIME - MICROSECOND)
        assert result is CodeResult.OK

    def test_activation_lasts_72_hours(self) -> None:
        """An activation code is accepted after 71 hours and expired after 72."""
        code, stored = issue_code(bytes(16), key=KEY, purpose="activation", phone=PHONE, now=NOW)
        assert check_code(stored, code, key=KEY, now=NOW + datetime.timedelta(hours=71))[0] is CodeResult.OK
        assert check_code(stored, code, key=KEY, now=NOW + ACTIVATION_LIFETIME)[0] is CodeResult.EXPIRED

    def test_full_width_and_spaces_accepted(self) -> None:
        """Full-width digits and spaces typed with the code are ignored."""
        assert check_code(stored_code(), " １２３ ４５６ ", key=KEY, now=NOW)[0] is CodeResult.OK

    def test_other_secret_rejected(self) -> None:
        """A code checked under another server secret is WRONG."""
        assert check_code(stored_code(), "123456", key=KEY[::-1], now=NOW)[0] is CodeResult.WRONG

    def test_issue_code_round_trip(self) -> None:
        """A code from issue_code is accepted against the record issued with it."""
        code, stored = issue_code(b"\x00\x01\xe2\x40" * 4, key=KEY, purpose="login", phone=PHONE, now=NOW)
        assert code == "123456"
        assert stored.lifetime == CODE_LIFETIME
        assert check_code(stored, code, key=KEY, now=NOW)[0] is CodeResult.OK

    @pytest.mark.parametrize(
        ("result", "tries", "chinese"),
        [
            (CodeResult.WRONG, 1, "还可以再试 4 次"),
            (CodeResult.WRONG, 5, "已达到 5 次上限"),
            (CodeResult.EXPIRED, 0, "已过期"),
            (CodeResult.LOCKED, 5, "已失效"),
            (CodeResult.USED, 0, "已使用"),
        ],
    )
    def test_messages(self, result: CodeResult, tries: int, chinese: str) -> None:
        """Each rejection has a Chinese message and an English one."""
        message = code_message(result, stored_code(tries=tries))
        assert message is not None
        assert chinese in message[0]
        assert message[1].isascii()

    def test_no_message_for_ok(self) -> None:
        """An accepted code has no message."""
        assert code_message(CodeResult.OK, stored_code()) is None

    def test_tries_left_never_negative(self) -> None:
        """A record with more tries than allowed has none left."""
        assert tries_left(stored_code(tries=7)) == 0

    @given(st.lists(st.one_of(st.just("123456"), six_digit_codes), max_size=12))
    def test_accepted_once_only(self, entries: list[str]) -> None:
        """Whatever is entered, at most one entry is OK and every entry after it is USED."""
        stored = stored_code()
        results = []
        for entry in entries:
            result, stored = check_code(stored, entry, key=KEY, now=NOW)
            results.append(result)
        assert results.count(CodeResult.OK) <= 1
        if CodeResult.OK in results:
            after_ok = results[results.index(CodeResult.OK) + 1 :]
            assert all(result is CodeResult.USED for result in after_ok)

    @given(st.lists(six_digit_codes.filter(lambda code: code != "123456"), min_size=CODE_MAX_TRIES, max_size=9))
    def test_locked_after_five_wrong(self, wrong: list[str]) -> None:
        """After five or more wrong entries the right code is LOCKED."""
        stored = stored_code()
        for entry in wrong:
            _, stored = check_code(stored, entry, key=KEY, now=NOW)
        assert stored.tries == CODE_MAX_TRIES
        assert check_code(stored, "123456", key=KEY, now=NOW)[0] is CodeResult.LOCKED

    @given(
        st.timedeltas(min_value=datetime.timedelta(0), max_value=datetime.timedelta(days=30)),
        st.one_of(st.just("123456"), six_digit_codes),
        st.integers(0, CODE_MAX_TRIES - 1),
    )
    def test_expired_always_rejected(self, late: datetime.timedelta, entry: str, tries: int) -> None:
        """At or after expiry every entry, the right one included, is EXPIRED and counts no try."""
        stored = stored_code(tries=tries)
        result, after = check_code(stored, entry, key=KEY, now=NOW + CODE_LIFETIME + late)
        assert result is CodeResult.EXPIRED
        assert after == stored


class TestMaySend:
    def test_first_send_allowed(self) -> None:
        """A phone with no earlier sends may get a code."""
        assert may_send([], now=NOW) == SendDecision(True)

    def test_within_minute_rejected(self) -> None:
        """A send 59 seconds after the last one waits one more second."""
        decision = may_send([NOW - datetime.timedelta(seconds=59)], now=NOW)
        assert decision.reason == "interval"
        assert decision.retry_after == datetime.timedelta(seconds=1)

    def test_after_minute_allowed(self) -> None:
        """A send exactly one minute after the last one is allowed."""
        assert may_send([NOW - SEND_INTERVAL], now=NOW).allowed

    def test_tenth_in_day_rejected(self) -> None:
        """With ten sends in the last 24 hours, the next waits until the oldest leaves the window."""
        history = [NOW - datetime.timedelta(hours=hours) for hours in range(1, 11)]
        decision = may_send(history, now=NOW)
        assert decision.reason == "daily"
        assert decision.retry_after == datetime.timedelta(hours=14)

    def test_send_24_hours_ago_not_counted(self) -> None:
        """A send exactly 24 hours ago is outside the window."""
        history = [NOW - DAY] + [NOW - datetime.timedelta(hours=hours) for hours in range(1, 10)]
        assert may_send(history, now=NOW).allowed

    def test_future_send_counts(self) -> None:
        """A send stamped after now, from a clock set back, blocks until one minute after it."""
        decision = may_send([NOW + MINUTE], now=NOW)
        assert decision.reason == "interval"
        assert decision.retry_after == 2 * MINUTE

    def test_interval_message(self) -> None:
        """The interval message gives the wait in seconds."""
        message = may_send([NOW - datetime.timedelta(seconds=20)], now=NOW).message()
        assert message == ("发送过于频繁，请 40 秒后再试。", "Codes are sent at most once a minute. Try again in 40 s.")

    def test_daily_message(self) -> None:
        """The daily message gives the wait in hours and minutes."""
        history = [NOW - datetime.timedelta(hours=hours) for hours in range(1, 11)]
        message = may_send(history, now=NOW).message()
        assert message is not None
        assert "14 小时 0 分钟" in message[0]
        assert "14 h 0 min" in message[1]

    def test_no_message_when_allowed(self) -> None:
        """An allowed send has no message."""
        assert may_send([], now=NOW).message() is None

    @given(send_request_times)
    def test_limits_hold_for_any_requests(self, requests: list[datetime.datetime]) -> None:
        """Sends allowed one after another are a minute apart and at most ten in any 24 hours."""
        sent: list[datetime.datetime] = []
        for moment in requests:
            if may_send(sent, now=moment).allowed:
                sent.append(moment)
        for earlier, later in itertools.pairwise(sent):
            assert later - earlier >= SEND_INTERVAL
        for moment in sent:
            assert sum(1 for other in sent if moment - DAY < other <= moment) <= SENDS_PER_DAY

    @given(send_histories)
    def test_allowed_send_keeps_limits(self, history: list[datetime.datetime]) -> None:
        """For any history, an allowed send follows no send within a minute and at most nine in 24 hours."""
        if may_send(history, now=NOW).allowed:
            assert all(sent <= NOW - SEND_INTERVAL for sent in history)
            assert sum(1 for sent in history if sent > NOW - DAY) < SENDS_PER_DAY

    @given(send_histories)
    def test_retry_after_is_exact(self, history: list[datetime.datetime]) -> None:
        """A rejected send is allowed at now + retry_after and still rejected a microsecond earlier."""
        decision = may_send(history, now=NOW)
        if decision.allowed:
            return
        assert decision.retry_after is not None
        assert decision.retry_after > datetime.timedelta(0)
        assert may_send(history, now=NOW + decision.retry_after).allowed
        assert not may_send(history, now=NOW + decision.retry_after - MICROSECOND).allowed


class TestSession:
    def test_idle_30_minutes_kept(self) -> None:
        """A session idle for exactly 30 minutes is still open."""
        assert not session_expired(NOW, now=NOW + datetime.timedelta(minutes=30))

    def test_idle_over_30_minutes_ends(self) -> None:
        """A session idle for 30 minutes and a microsecond has ended."""
        assert session_expired(NOW, now=NOW + datetime.timedelta(minutes=30) + MICROSECOND)

    def test_custom_timeout(self) -> None:
        """A shorter timeout passed by the caller applies."""
        assert session_expired(NOW, now=NOW + 2 * MINUTE, timeout=MINUTE)


class TestPassword:
    PASSWORD = "Sxpt-2025-秋季"

    def test_round_trip(self) -> None:
        """The hashed password verifies."""
        assert verify_password(self.PASSWORD, hash_password(self.PASSWORD, salt=bytes(range(16))))

    def test_wrong_password(self) -> None:
        """A password differing in case is rejected."""
        assert not verify_password(self.PASSWORD.lower(), hash_password(self.PASSWORD, salt=bytes(range(16))))

    def test_matches_hashlib_scrypt(self) -> None:
        """The stored hash is hashlib.scrypt with n=2**14, r=8, p=1 and 32 bytes."""
        salt = bytes(range(16))
        expected = hashlib.scrypt(self.PASSWORD.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
        stored = hash_password(self.PASSWORD, salt=salt)
        assert stored.split("$") == [
            "scrypt", "16384", "8", "1", base64.b64encode(salt).decode(), base64.b64encode(expected).decode()
        ]

    def test_full_width_equals_ascii(self) -> None:
        """A password typed in full width verifies against its ASCII form."""
        stored = hash_password("Sxpt-2025-qiuji", salt=bytes(16))
        assert verify_password("Ｓｘｐｔ－２０２５－ｑｉｕｊｉ", stored)

    def test_salt_changes_hash(self) -> None:
        """Two salts give two different stored hashes."""
        assert hash_password(self.PASSWORD, salt=bytes(16)) != hash_password(self.PASSWORD, salt=bytes(range(16)))

    def test_short_salt(self) -> None:
        """A salt under 16 bytes raises ValueError."""
        with pytest.raises(ValueError, match="salt"):
            hash_password(self.PASSWORD, salt=bytes(8))

    @pytest.mark.parametrize(
        "stored",
        [
            "",
            "plain-text",
            "bcrypt$16384$8$1$AAAA$AAAA",
            "scrypt$16384$8$1$AAAA",
            "scrypt$16000$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
            "scrypt$1048576$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAA",
            "scrypt$16384$8$1$not base64$AAAA",
            "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$",
            "scrypt$-1$8$1$AAAA$AAAA",
        ],
    )
    def test_malformed_hash(self, stored: str) -> None:
        """A stored value that hash_password did not write raises ValueError."""
        with pytest.raises(ValueError, match="invalid password hash"):
            verify_password(self.PASSWORD, stored)

    def test_older_parameters_verify_and_need_rehash(self) -> None:
        """A hash with weaker parameters still verifies and is marked for rehashing."""
        salt = bytes(16)
        derived = hashlib.scrypt(self.PASSWORD.encode(), salt=salt, n=2**10, r=8, p=1, dklen=32)
        stored = f"scrypt$1024$8$1${base64.b64encode(salt).decode()}${base64.b64encode(derived).decode()}"
        assert verify_password(self.PASSWORD, stored)
        assert needs_rehash(stored)

    def test_current_parameters_no_rehash(self) -> None:
        """A hash written now needs no rehash."""
        assert not needs_rehash(hash_password(self.PASSWORD, salt=bytes(16)))

    @pytest.mark.parametrize(
        "password",
        ["Sxpt-2025-秋季", "correct Horse 7 battery", "Tq8#mW2!pL", "实习数据Report26", "ab1CD2ef3G"],
    )
    def test_good_passwords(self, password: str) -> None:
        """Passwords meeting every rule have no problems."""
        assert password_problems(password) == []

    @pytest.mark.parametrize(
        ("password", "english"),
        [
            ("Ab1!xyz", "needs at least 10"),
            ("A1!" + "xq" * 70, "the maximum is 128"),
            ("abcdefghij", "at least 3 of"),
            ("实习数据实习数据实习数据", "at least 3 of"),
            ("Aa1Aa1Aa1Aa1", "at least 5 different"),
            ("Passw12345!", "repeated or consecutive"),
            ("Wq!zzzzz9x", "repeated or consecutive"),
            ("Qwe-FEDCBa7", "repeated or consecutive"),
            ("Tq8#mW2!pL\n", "control or invisible"),
            (" Tq8#mW2!pL", "start or end with a space"),
            ("Tq8#mW2!pL\u3000", "start or end with a space"),
        ],
    )
    def test_bad_passwords(self, password: str, english: str) -> None:
        """Each rule that a password breaks is listed with its English message."""
        problems = password_problems(password)
        assert any(english in message for _, message in problems), problems

    def test_messages_chinese_first(self) -> None:
        """Each problem is a (Chinese, English) pair."""
        (chinese, english), *_ = password_problems("short")
        assert "密码" in chinese
        assert english.isascii()

    def test_contains_account_name(self) -> None:
        """A password containing the account name, in any case, is rejected."""
        problems = password_problems("SXPT4133010001001-x", account="sxpt4133010001001")
        assert ("密码不能包含账号名。", "The password must not contain the account name.") in problems

    def test_contains_phone(self) -> None:
        """A password containing the phone number is rejected."""
        problems = password_problems(f"Tel:{PHONE}x", phone=PHONE)
        assert ("密码不能包含手机号。", "The password must not contain the phone number.") in problems


class TestAccountName:
    def test_school_account(self) -> None:
        """A school's first account is sxpt, the school code and 001."""
        assert account_name("4133010001", 1) == "sxpt4133010001001"

    def test_department_account(self) -> None:
        """A department account carries its school's code."""
        unit = Unit.for_department("330000", "4133010001", "机械工程学院")
        assert account_name(unit_code(unit), 12) == "sxpt4133010001012"

    def test_province_account(self) -> None:
        """A province account carries the province code."""
        assert account_name(unit_code(Unit.for_province("330000")), 999) == "sxpt330000999"

    @pytest.mark.parametrize("sequence", [0, -1, 1000])
    def test_sequence_out_of_range(self, sequence: int) -> None:
        """A sequence outside 1 to 999 raises ValueError."""
        with pytest.raises(ValueError, match="sequence"):
            account_name("4133010001", sequence)

    @pytest.mark.parametrize("code", ["", "4133 010001", "东海理工", "x" * 21])
    def test_invalid_unit_code(self, code: str) -> None:
        """A unit code that is blank, too long or not ASCII letters and digits raises ValueError."""
        with pytest.raises(ValueError, match="unit code"):
            account_name(code, 1)


class TestApiKey:
    def test_shape(self) -> None:
        """A key is sxpt_, 8 base32 characters, _, and a base32 secret."""
        key, prefix = new_api_key(bytes(range(32)))
        assert re.fullmatch(r"sxpt_[a-z2-7]{8}_[a-z2-7]{44}", key)
        assert key.split("_")[1] == prefix

    def test_prefix_round_trip(self) -> None:
        """The prefix read back from a key is the prefix it was made with."""
        key, prefix = new_api_key(bytes(range(100, 140)))
        assert api_key_prefix(key) == prefix

    def test_too_few_bytes(self) -> None:
        """Fewer than 32 random bytes raise ValueError."""
        with pytest.raises(ValueError, match="32 random bytes"):
            new_api_key(bytes(31))

    @pytest.mark.parametrize(
        "presented",
        ["", "Bearer x", "sxpt_aaaqeaye", "sxpt_AAAQEAYE_" + "a" * 44, "sxpt_aaaqeay_" + "a" * 44, "sxpt_aaaqeaye_a"],
    )
    def test_malformed_prefix(self, presented: str) -> None:
        """A presented value not shaped like a key has no prefix."""
        assert api_key_prefix(presented) is None

    def test_digest_is_sha256(self) -> None:
        """The stored digest is the SHA-256 hex digest of the whole key."""
        key, _ = new_api_key(bytes(32))
        assert api_key_digest(key) == hashlib.sha256(key.encode()).hexdigest()

    def test_matches(self) -> None:
        """The key matches its digest and a changed key does not."""
        key, _ = new_api_key(bytes(32))
        assert api_key_matches(key, api_key_digest(key))
        assert not api_key_matches(key[:-1] + "b", api_key_digest(key))

    @given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
    def test_distinct_bytes_distinct_keys(self, first: bytes, second: bytes) -> None:
        """Different random bytes give different keys."""
        assert (new_api_key(first)[0] == new_api_key(second)[0]) is (first == second)


class TestPhone:
    @pytest.mark.parametrize("phone", ["13800138000", "19912345678", "16600000000"])
    def test_valid(self, phone: str) -> None:
        """Eleven digits starting with 13 to 19 are a valid mobile number."""
        assert phone_problems(phone) == []

    @pytest.mark.parametrize(
        "phone", ["12800138000", "1380013800", "138001380000", "23800138000", "1380013800a", "0571-88888888"]
    )
    def test_invalid(self, phone: str) -> None:
        """Other numbers are rejected with the number in the message."""
        problems = phone_problems(phone)
        assert len(problems) == 1
        assert phone in problems[0][0]
        assert phone in problems[0][1]

    def test_missing(self) -> None:
        """An empty phone is reported missing."""
        assert phone_problems("") == [("请填写手机号。", "The mobile number is missing.")]

    @pytest.mark.parametrize("phone", ["+86 138 0013 8000", "138-0013-8000", "１３８００１３８０００"])
    def test_decorated_hint(self, phone: str) -> None:
        """A number that only needs cleaning gets a message to drop spaces, hyphens and +86."""
        assert "+86" in phone_problems(phone)[0][1]

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("+86 138 0013 8000", "13800138000"),
            ("0086-13800138000", "13800138000"),
            ("8613800138000", "13800138000"),
            ("１３８００１３８０００", "13800138000"),
            ("(138) 0013 8000", "13800138000"),
            ("86138001380", "86138001380"),
        ],
    )
    def test_normalise(self, text: str, expected: str) -> None:
        """Spaces, hyphens, brackets, full width and the country code are removed."""
        assert normalise_phone(text) == expected
