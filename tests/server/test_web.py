"""The web pages: rendering per level, CSRF, login, upload, review, accounts, keys, headers and English."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from sxpt_server import create_app, web
from sxpt_server.store import get_store
from sxpt_server.web import catalogue_en, catalogue_zh
from sxpt_server.web.security import CONTENT_SECURITY_POLICY, safe_next
from tests.server.records_support import DEPARTMENT_0, record, upload_json, xlsx_of
from tests.server.support import PASSWORD, World, last_sms, new_phone, outbox
from tests.server.test_statistics import add_coverage_world

LEVELS = ("ministry", "province", "school", "dept0")

# Each page and the levels that may open it; the others get a 403 page.
PAGES = {
    "/": LEVELS,
    "/upload": ("school", "dept0"),
    "/batches": ("school", "dept0"),
    "/records": LEVELS,
    "/review": ("school",),
    "/statistics": LEVELS,
    "/accounts": ("ministry", "province", "school"),
    "/organisations": ("ministry", "province", "school"),
    "/keys": ("school",),
    "/audit": ("ministry", "province", "school"),
}

CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


@pytest.fixture
def app(app: Flask) -> Flask:
    """The app of ``conftest`` with the pages registered, as ``create_app`` will do."""
    if "web" not in app.blueprints:
        web.init_app(app)
    return app


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def token_of(client: FlaskClient, path: str) -> str:
    """Open ``path`` and return the CSRF token of its forms."""
    response = client.get(path)
    assert response.status_code == 200, text_of(response)[:500]
    found = CSRF.search(text_of(response))
    assert found, f"no CSRF token on {path}"
    return found.group(1)


def location_of(response: Any) -> str:
    """Return the path and query of a redirect's target."""
    parts = urlsplit(response.headers["Location"])
    return parts.path + (f"?{parts.query}" if parts.query else "")


def foreign(index: int, **changes: str) -> dict[str, str]:
    """A record with a foreign unit, which needs no unit verification and so waits for review at once."""
    return record(index, **{"实习单位统一社会信用代码": "无", "实习地区及代码": "990000",
                            "实习单位名称": f"Nordlicht Werkstatt {index}", **changes})


def stored(world: World, who: str = "school") -> dict[str, dict[str, Any]]:
    """Return the records that ``who`` reads through the API, by student number."""
    response = world.client(who).get("/api/v1/records?limit=500")
    assert response.status_code == 200, response.get_json()
    return {item["cells"]["学号"]: item for item in response.get_json()["records"]}


def page_login(world: World, name: str, *, next_path: str | None = None) -> tuple[FlaskClient, Any]:
    """Log in through the pages (password, then the SMS code); return the client and the last response."""
    client = world.app.test_client()
    path = "/login" + (f"?next={quote(next_path)}" if next_path else "")
    token = token_of(client, path)
    world.clock.advance(seconds=61)
    form = {"csrf_token": token, "account": name, "password": PASSWORD, "next": next_path or ""}
    sent = client.post("/login", data=form)
    assert sent.status_code == 302, text_of(sent)[:500]
    assert location_of(sent).startswith("/login/code")
    code = last_sms(world.app, account=name, purpose="login")["code"]
    token = token_of(client, location_of(sent))
    response = client.post("/login/code", data={"csrf_token": token, "code": code, "next": next_path or ""})
    return client, response


# --- pages per level ---------------------------------------------------------------------------


def test_pages_render_for_each_level(world: World) -> None:
    """Every page renders for the levels that may use it, with the API's session cookie; others get a 403 page."""
    for who in LEVELS:
        client = world.client(who)
        for path, allowed in PAGES.items():
            response = client.get(path)
            if who in allowed:
                assert response.status_code == 200, (who, path, text_of(response)[:300])
                assert world.names[who] in text_of(response), (who, path)
            else:
                assert response.status_code == 403, (who, path)
                assert "您可以使用以下功能" in text_of(response), (who, path)


def test_menu_lists_only_allowed_pages(world: World) -> None:
    """The department's menu has upload and records but no review, accounts or keys."""
    page = text_of(world.client("dept0").get("/"))
    assert 'data-testid="nav-upload"' in page
    assert 'data-testid="nav-records"' in page
    assert 'data-testid="nav-review"' not in page
    assert 'data-testid="nav-accounts"' not in page
    assert 'data-testid="nav-keys"' not in page
    school = text_of(world.client("school").get("/"))
    assert 'data-testid="nav-review"' in school
    assert 'data-testid="nav-keys"' in school


def test_record_pages_per_level(world: World) -> None:
    """A department reads its record and edit form; the other department and the province get 404 before approval."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    for who in ("school", "dept0"):
        assert world.client(who).get(f"/records/{record_id}").status_code == 200, who
        assert world.client(who).get(f"/records/{record_id}/edit").status_code == 200, who
    for who in ("dept1", "other_school", "province", "ministry"):
        response = world.client(who).get(f"/records/{record_id}")
        assert response.status_code == 404, who
        assert "不存在" in text_of(response), who


def test_home_shows_due_month_and_tasks(world: World) -> None:
    """The school's home page names this month's reporting month and counts the records waiting for review."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2, **{"实习结束时间": "2025-09-20"})])
    page = text_of(world.client("school").get("/"))
    assert "本月报送：2025-10" in page
    assert "2025-09" in page
    awaiting = re.search(r'data-testid="awaiting-review">\s*<div class="number">(\d+)', page)
    assert awaiting and awaiting.group(1) == "2"
    due = re.search(r'data-testid="due-total">\s*<div class="number">(\d+)', page)
    assert due and due.group(1) == "1"


# --- login, logout, idle timeout ---------------------------------------------------------------


def test_anonymous_page_redirects_to_login_with_next(world: World) -> None:
    """A page without a session sends the browser to the login page, which will return to it."""
    response = world.app.test_client().get("/records?month=2025-10")
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    assert parse_qs(target.query)["next"] == ["/records?month=2025-10"]


def test_login_through_the_pages(world: World) -> None:
    """Password, then the SMS code from the outbox, starts a session that the pages and the API accept."""
    name = world.names["dept0"]
    client, response = page_login(world, name)
    assert response.status_code == 302
    assert location_of(response) == "/"
    assert world.names["dept0"] in text_of(client.get("/"))
    assert client.get("/api/v1/me").status_code == 200


def test_login_code_page_masks_the_phone(world: World) -> None:
    """The second step names the account and the masked phone, never the full number."""
    client = world.app.test_client()
    token = token_of(client, "/login")
    world.clock.advance(seconds=61)
    sent = client.post("/login", data={"csrf_token": token, "account": world.names["school"], "password": PASSWORD})
    page = text_of(client.get(location_of(sent)))
    assert "****" in page
    assert world.names["school"] in page
    assert 'name="password"' not in page


def test_login_with_wrong_password_or_code(world: World) -> None:
    """A wrong password and a wrong code show the service's Chinese message on the form."""
    client = world.app.test_client()
    token = token_of(client, "/login")
    wrong = client.post("/login", data={"csrf_token": token, "account": world.names["dept1"], "password": "Wrong-9876x"})
    assert wrong.status_code == 401
    assert "账号或密码错误" in text_of(wrong)

    world.clock.advance(seconds=61)
    sent = client.post("/login", data={"csrf_token": token, "account": world.names["dept1"], "password": PASSWORD})
    code = last_sms(world.app, account=world.names["dept1"], purpose="login")["code"]
    bad_code = f"{(int(code) + 1) % 1_000_000:06d}"
    token = token_of(client, location_of(sent))
    refused = client.post("/login/code", data={"csrf_token": token, "code": bad_code})
    assert refused.status_code == 400
    assert "验证码错误" in text_of(refused)
    assert "sxpt_session=" not in refused.headers.get("Set-Cookie", "")


def test_login_resend_too_soon_keeps_code(world: World) -> None:
    """A second send within a minute goes on to the code step, where the first code still logs in."""
    client = world.app.test_client()
    name = world.names["dept1"]
    token = token_of(client, "/login")
    world.clock.advance(seconds=61)
    client.post("/login", data={"csrf_token": token, "account": name, "password": PASSWORD})
    code = last_sms(world.app, account=name, purpose="login")["code"]
    again = client.post("/login", data={"csrf_token": token, "account": name, "password": PASSWORD})
    assert again.status_code == 302
    assert "wait=" in location_of(again)
    step = client.get(location_of(again))
    assert "刚刚发送过" in text_of(step)
    token = CSRF.search(text_of(step))
    assert token
    response = client.post("/login/code", data={"csrf_token": token.group(1), "code": code})
    assert response.status_code == 302


def test_code_step_without_password_step_restarts(world: World) -> None:
    """Opening the code step without a checked password returns to the first step."""
    response = world.app.test_client().get("/login/code")
    assert response.status_code == 302
    assert location_of(response).startswith("/login?reason=code_expired")


def test_idle_timeout_returns_to_the_page_after_login(world: World) -> None:
    """After 31 idle minutes a page sends the user to the login page with a message, and login returns there."""
    world.clock.advance(minutes=31)
    response = world.client("school").get("/review?department=" + DEPARTMENT_0)
    assert response.status_code == 302
    target = location_of(response)
    assert target.startswith("/login?")
    query = parse_qs(urlsplit(target).query)
    assert query["reason"] == ["expired"]
    assert query["next"] == ["/review?department=" + DEPARTMENT_0]
    page = text_of(world.client("school").get(target))
    assert "超过 30 分钟未操作，已自动退出" in page

    _client, login = page_login(world, world.names["school"], next_path=query["next"][0])
    assert login.status_code == 302
    assert unquote(location_of(login)) == "/review?department=" + DEPARTMENT_0


def test_session_status_does_not_extend_the_session(world: World) -> None:
    """The countdown reads the time left without counting as activity, and a page view resets it."""
    client = world.client("dept0")
    world.clock.advance(minutes=10)
    assert client.get("/session/status").get_json() == {"remaining": 20 * 60}
    assert client.get("/session/status").get_json() == {"remaining": 20 * 60}
    client.get("/")
    assert client.get("/session/status").get_json() == {"remaining": 30 * 60}
    world.clock.advance(minutes=31)
    assert client.get("/session/status").get_json() == {"remaining": 0}


def test_keepalive_needs_the_csrf_header(world: World) -> None:
    """The "stay logged in" button posts with the token in its header; without it the post is refused."""
    client = world.client("dept0")
    token = token_of(client, "/")
    world.clock.advance(minutes=25)
    assert client.post("/session/keepalive").status_code == 400
    response = client.post("/session/keepalive", headers={"X-CSRF-Token": token})
    assert response.status_code == 200
    assert client.get("/session/status").get_json() == {"remaining": 30 * 60}


def test_page_shows_idle_countdown(world: World) -> None:
    """Every page of a logged-in user carries the countdown and the warning with their settings."""
    page = text_of(world.client("dept0").get("/records"))
    assert 'data-idle-timeout="1800"' in page
    assert 'data-idle-warning="300"' in page
    assert 'id="idle-remaining"' in page
    assert 'id="idle-warning"' in page


def test_logout(world: World) -> None:
    """Logout ends the session, so the API returns 401 for the same cookie."""
    client = world.client("dept1")
    token = token_of(client, "/")
    response = client.post("/logout", data={"csrf_token": token})
    assert response.status_code == 302
    assert location_of(response) == "/login?reason=logged_out"
    assert client.get("/api/v1/me").status_code == 401


@pytest.mark.parametrize(("target", "expected"), [
    ("/records?month=2025-10", "/records?month=2025-10"),
    ("/review", "/review"),
    ("https://example.org/", "/"),
    ("//example.org/records", "/"),
    ("/\\example.org", "/"),
    ("\\\\example.org", "/"),
    ("javascript:alert(1)", "/"),
    ("records", "/"),
    ("/records\r\nX-Test: 1", "/"),
    ("/api/v1/export", "/"),
    ("", "/"),
    (None, "/"),
])
def test_next_accepts_only_local_paths(target: str | None, expected: str) -> None:
    """``next`` is a path on this server; other hosts, schemes and API paths fall back to the home page."""
    assert safe_next(target) == expected


def test_login_pages_are_rate_limited(tmp_path: Path) -> None:
    """The login pages share the API's per-account limit: failed logins beyond it get a 429 page."""
    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"), "RATELIMIT_ENABLED": True,
                      "RATELIMIT_PER_ACCOUNT": "2 per hour"})
    assert app.test_cli_runner().invoke(args=["init-db"]).exit_code == 0
    if "web" not in app.blueprints:
        web.init_app(app)
    client = app.test_client()
    token = token_of(client, "/login")
    form = {"csrf_token": token, "account": "sxpt4133010001099", "password": "Wrong-9876x"}
    statuses = [client.post("/login", data=form).status_code for _attempt in range(3)]
    assert statuses == [401, 401, 429]
    page = client.post("/login", data=form)
    assert "操作过于频繁" in text_of(page)
    other = client.post("/login", data={**form, "account": "sxpt4133010001098"})
    assert other.status_code == 401


def test_login_ignores_a_foreign_next(world: World) -> None:
    """A login started with next=https://… ends on the home page, not on the other site."""
    _client, response = page_login(world, world.names["dept0"], next_path="https://example.org/x")
    assert location_of(response) == "/"


def test_activation_then_login(world: World) -> None:
    """A new account sets its password with the activation code on the page, then logs in through the pages."""
    school = world.client("school")
    token = token_of(school, "/accounts")
    created = school.post("/accounts", data={"csrf_token": token, "level": "department", "department": DEPARTMENT_0,
                                             "phone": new_phone(), "contact_name": "王五"})
    assert created.status_code == 303
    name = parse_qs(urlsplit(created.headers["Location"]).query)["account"][0]
    code = last_sms(world.app, account=name, purpose="activation")["code"]

    client = world.app.test_client()
    token = token_of(client, "/activate")
    mismatch = client.post("/activate", data={"csrf_token": token, "account": name, "code": code,
                                              "password": PASSWORD, "password_repeat": PASSWORD + "x"})
    assert mismatch.status_code == 400
    assert "两次输入的新密码不一致" in text_of(mismatch)
    weak = client.post("/activate", data={"csrf_token": token, "account": name, "code": code,
                                          "password": "abc", "password_repeat": "abc"})
    assert weak.status_code == 422
    assert "密码不符合要求" in text_of(weak)
    done = client.post("/activate", data={"csrf_token": token, "account": name, "code": code,
                                          "password": PASSWORD, "password_repeat": PASSWORD})
    assert done.status_code == 302
    assert "reason=activated" in location_of(done)

    _client, login = page_login(world, name)
    assert login.status_code == 302


# --- CSRF and security headers ------------------------------------------------------------------


def test_post_without_csrf_token_is_rejected(world: World) -> None:
    """Every page POST needs the token. Without it, or with a wrong one, a Chinese 400 page explains it."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    school = world.client("school")
    for token in (None, "0" * 64):
        data = {"action": "approve", "records": str(record_id)}
        if token is not None:
            data["csrf_token"] = token
        response = school.post("/review", data=data)
        assert response.status_code == 400
        assert "表单已失效" in text_of(response)
    assert stored(world)["21050101"]["state"] == "待审核"

    anonymous = world.app.test_client()
    refused = anonymous.post("/login", data={"account": world.names["dept0"], "password": PASSWORD})
    assert refused.status_code == 400
    logout = world.client("dept1").post("/logout")
    assert logout.status_code == 400
    assert world.client("dept1").get("/api/v1/me").status_code == 200


def test_csrf_token_of_another_session_is_rejected(world: World) -> None:
    """A token is bound to its session: the department's token does not work for the school."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    foreign_token = token_of(world.client("dept0"), "/")
    response = world.client("school").post("/review", data={"csrf_token": foreign_token, "action": "approve",
                                                            "records": str(record_id)})
    assert response.status_code == 400


def test_security_headers_on_pages(world: World) -> None:
    """Pages forbid framing and inline scripts and are not cached; the API keeps its own headers."""
    for response in (world.client("school").get("/records"), world.app.test_client().get("/login"),
                     world.app.test_client().get("/no-such-page")):
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Cache-Control"] == "no-store"
    api = world.client("school").get("/api/v1/me")
    assert "Content-Security-Policy" not in api.headers


def test_pages_have_no_inline_scripts_or_styles(world: World) -> None:
    """The policy forbids inline code, so no page may rely on it."""
    upload_json(world.client("dept0"), [foreign(1)])
    for path in ("/", "/records", "/review", "/statistics", "/accounts", "/keys", "/upload"):
        page = text_of(world.client("school").get(path))
        assert "<script>" not in page, path
        assert re.search(r"<script(?![^>]*\bsrc=)", page) is None, path
        assert " style=" not in page, path
        assert " onclick=" not in page, path


def test_anonymous_form_sets_csrf_cookie(world: World) -> None:
    """Before login the token is bound to an HttpOnly browser cookie."""
    response = world.app.test_client().get("/login")
    cookies = response.headers.getlist("Set-Cookie")
    assert any(cookie.startswith("sxpt_csrf=") and "HttpOnly" in cookie for cookie in cookies)


def test_user_text_is_escaped(world: World) -> None:
    """A contact name with markup is shown as text."""
    school = world.client("school")
    token = token_of(school, "/accounts")
    response = school.post("/accounts", data={"csrf_token": token, "level": "department", "department": DEPARTMENT_0,
                                              "phone": new_phone(), "contact_name": "<b>赵六</b>"})
    assert response.status_code == 303
    page = text_of(school.get("/accounts"))
    assert "&lt;b&gt;赵六&lt;/b&gt;" in page
    assert "<b>赵六</b>" not in page


# --- upload, records, review ---------------------------------------------------------------


def test_upload_through_the_page_shows_the_error_table(world: World, tmp_path: Path) -> None:
    """A workbook with a wrong credit code uploads through the form; the report page lists the error by row and column."""
    client = world.client("dept0")
    page = text_of(client.get("/upload"))
    token = CSRF.search(page)
    assert token
    assert 'id="upload-progress"' in page
    content = xlsx_of([record(1), record(2, **{"实习单位统一社会信用代码": "91330100MA2B3C4D5X"})],
                      tmp_path / "records.xlsx")
    response = client.post("/upload", data={"csrf_token": token.group(1), "kind": "records", "idempotency_key": "k-1",
                                            "file": (io.BytesIO(content), "九月实习.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 303
    batch_path = location_of(response)
    assert re.fullmatch(r"/batches/\d+", batch_path)

    report = text_of(client.get(batch_path))
    assert 'data-testid="issue-table"' in report
    rows = re.findall(r'<tr class="severity-error" data-testid="issue-row">(.*?)</tr>', report, re.S)
    assert any("<td>3</td>" in row and "<td>O</td>" in row and "SXPT-E-USCC-CHECKSUM" in row for row in rows)
    assert "九月实习.xlsx" in report
    batch_id = batch_path.rsplit("/", 1)[1]
    assert f"/api/v1/batches/{batch_id}/annotated.xlsx?lang=zh" in report
    assert f"/api/v1/batches/{batch_id}/errors.xlsx?lang=zh" in report
    annotated = client.get(f"/api/v1/batches/{batch_id}/annotated.xlsx?lang=zh")
    assert annotated.status_code == 200
    assert annotated.mimetype.endswith("spreadsheetml.sheet")

    batches = text_of(client.get("/batches"))
    assert f'href="/batches/{batch_id}"' in batches


def test_upload_page_repeats_the_same_submission_once(world: World, tmp_path: Path) -> None:
    """The form's idempotency key makes a double submit show the first batch instead of storing twice."""
    client = world.client("dept0")
    token = token_of(client, "/upload")
    content = xlsx_of([foreign(1)], tmp_path / "one.xlsx")
    form = {"csrf_token": token, "kind": "records", "idempotency_key": "double-click-1"}
    first = client.post("/upload", data={**form, "file": (io.BytesIO(content), "a.xlsx")},
                        content_type="multipart/form-data")
    second = client.post("/upload", data={**form, "file": (io.BytesIO(content), "a.xlsx")},
                         content_type="multipart/form-data")
    assert location_of(second).startswith(location_of(first))
    assert "replayed=1" in location_of(second)


def test_upload_without_file_or_with_bad_file(world: World) -> None:
    """A missing file and an unreadable file re-show the form with a Chinese message."""
    client = world.client("dept0")
    token = token_of(client, "/upload")
    missing = client.post("/upload", data={"csrf_token": token, "kind": "records"}, content_type="multipart/form-data")
    assert missing.status_code == 400
    assert "请选择要上传的" in text_of(missing)
    junk = client.post("/upload", data={"csrf_token": token, "kind": "records",
                                        "file": (io.BytesIO(b"not a workbook"), "x.xlsx")},
                       content_type="multipart/form-data")
    assert junk.status_code == 422
    assert 'data-testid="error"' in text_of(junk)
    assert "Traceback" not in text_of(junk)


def test_department_cannot_upload_the_roster(world: World, tmp_path: Path) -> None:
    """The roster choice is only on the school's form, and a forged post is refused."""
    client = world.client("dept0")
    assert 'value="roster"' not in text_of(client.get("/upload"))
    token = token_of(client, "/upload")
    response = client.post("/upload", data={"csrf_token": token, "kind": "roster",
                                            "file": (io.BytesIO(b"x"), "roster.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert 'value="roster"' in text_of(world.client("school").get("/upload"))


def test_records_filters_and_problem_messages(world: World) -> None:
    """Filters narrow the list; an invalid month shows the service's Chinese message, never a traceback."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2)])
    client = world.client("school")
    assert "共 1 条记录" in text_of(client.get("/records?student_id=21050102"))
    redirect = client.get("/records?student_id=21050102&state=&month=")
    assert redirect.status_code == 302
    assert location_of(redirect) == "/records?student_id=21050102"
    bad = client.get("/records?month=2025-13x")
    assert bad.status_code == 422
    assert "报送月份 2025-13x 无效" in text_of(bad)
    province = world.client("province").get("/records")
    assert "学校审核通过的版本" in text_of(province)


def test_review_through_the_page_changes_states(world: World) -> None:
    """The school approves two ticked records and returns one with a reason; without a reason nothing changes."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2), foreign(3)])
    records = stored(world)
    school = world.client("school")
    queue = text_of(school.get("/review"))
    assert "共 3 条记录待审核" in queue
    token = CSRF.search(queue)
    assert token

    ids = [str(records[number]["id"]) for number in ("21050101", "21050102")]
    approved = school.post("/review", data={"csrf_token": token.group(1), "action": "approve", "records": ids})
    assert approved.status_code == 303
    assert "2 条记录已审核通过" in text_of(school.get(location_of(approved)))

    third = str(records["21050103"]["id"])
    refused = school.post("/review", data={"csrf_token": token.group(1), "action": "return", "records": [third]})
    assert refused.status_code == 422
    assert "理由" in text_of(refused)
    assert f'value="{third}" id="pick-{third}" checked' in text_of(refused)
    assert stored(world)["21050103"]["state"] == "待审核"

    returned = school.post("/review", data={"csrf_token": token.group(1), "action": "return", "records": [third],
                                            "reason": "实习单位名称与协议不一致"})
    assert returned.status_code == 303
    after = stored(world, "dept0")
    assert after["21050101"]["state"] == "审核通过"
    assert after["21050102"]["state"] == "审核通过"
    assert after["21050103"]["state"] == "已退回"
    assert after["21050103"]["review_reason"] == "实习单位名称与协议不一致"
    detail = text_of(world.client("dept0").get(f"/records/{third}"))
    assert "实习单位名称与协议不一致" in detail


def test_review_without_selection(world: World) -> None:
    """Posting the queue with no record ticked shows the message to tick one."""
    upload_json(world.client("dept0"), [foreign(1)])
    school = world.client("school")
    token = token_of(school, "/review")
    response = school.post("/review", data={"csrf_token": token, "action": "approve"})
    assert response.status_code == 400
    assert "请至少勾选一条记录" in text_of(response)


def test_edit_through_the_page_makes_a_new_version(world: World) -> None:
    """The department changes one field; the record gets version 2 and waits for review again."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    client = world.client("dept0")
    form_page = text_of(client.get(f"/records/{record_id}/edit"))
    token = CSRF.search(form_page)
    assert token
    fields = dict(re.findall(r'name="(cell:[^"]+)" value="([^"]*)"', form_page))
    assert fields["cell:学号"] == "21050101"
    fields["cell:实习岗位"] = "测试工程师"
    response = client.post(f"/records/{record_id}/edit", data={"csrf_token": token.group(1), **fields})
    assert response.status_code == 303
    assert location_of(response) == f"/records/{record_id}?notice=saved"
    after = stored(world, "dept0")["21050101"]
    assert after["version"] == 2
    assert after["cells"]["实习岗位"] == "测试工程师"

    unchanged = client.post(f"/records/{record_id}/edit", data={"csrf_token": token.group(1),
                                                                "cell:实习岗位": "测试工程师"})
    assert "notice=unchanged" in location_of(unchanged)


def test_edit_with_invalid_value_shows_the_message(world: World) -> None:
    """Clearing 学号 keeps the old version and shows why."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    client = world.client("dept0")
    token = token_of(client, f"/records/{record_id}/edit")
    response = client.post(f"/records/{record_id}/edit", data={"csrf_token": token, "cell:学号": ""})
    assert response.status_code == 422
    assert "须完整有效" in text_of(response)
    assert stored(world, "dept0")["21050101"]["version"] == 1


def test_delete_of_an_approved_record_is_a_request(world: World) -> None:
    """Deleting an approved record through the page files a request, which the school approves in the queue."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2)])
    records = stored(world)
    school = world.client("school")
    token = token_of(school, "/review")
    school.post("/review", data={"csrf_token": token, "action": "approve", "records": [str(records["21050101"]["id"])]})

    client = world.client("dept0")
    approved_id = records["21050101"]["id"]
    confirm = text_of(client.get(f"/records/{approved_id}/delete"))
    assert "删除须经校级用户审核" in confirm
    assert "申请删除" in confirm
    token = CSRF.search(confirm)
    assert token
    requested = client.post(f"/records/{approved_id}/delete", data={"csrf_token": token.group(1)})
    assert location_of(requested) == f"/records/{approved_id}?notice=delete_requested"
    assert stored(world, "dept0")["21050101"]["delete_requested"] is True

    plain_id = records["21050102"]["id"]
    assert "不能恢复" in text_of(client.get(f"/records/{plain_id}/delete"))
    deleted = client.post(f"/records/{plain_id}/delete", data={"csrf_token": token.group(1)})
    assert location_of(deleted) == f"/records?deleted={plain_id}"
    assert "21050102" not in stored(world, "dept0")

    queue = text_of(school.get("/review?delete_requested=true"))
    assert "共 1 条删除申请" in queue
    token = CSRF.search(queue)
    assert token
    done = school.post("/review?delete_requested=true", data={"csrf_token": token.group(1),
                                                              "action": "approve_delete",
                                                              "records": [str(approved_id)]})
    assert done.status_code == 303
    assert stored(world, "dept0") == {}


def test_accept_exception_on_the_record_page(world: World) -> None:
    """The school accepts the late-report warning with a reason; the record lists it and stops offering it."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    school = world.client("school")
    page = text_of(school.get(f"/records/{record_id}"))
    assert 'data-testid="exception-forms"' in page
    assert 'value="SXPT-W-CAL-LATE"' in page
    token = CSRF.search(page)
    assert token
    empty = school.post(f"/records/{record_id}/exceptions", data={"csrf_token": token.group(1),
                                                                  "code": "SXPT-W-CAL-LATE", "reason": ""})
    assert empty.status_code == 422
    assert "理由" in text_of(empty)
    response = school.post(f"/records/{record_id}/exceptions", data={"csrf_token": token.group(1),
                                                                     "code": "SXPT-W-CAL-LATE",
                                                                     "reason": "学生补交了实习材料"})
    assert response.status_code == 303
    after = text_of(school.get(f"/records/{record_id}"))
    assert "学生补交了实习材料" in after
    assert 'value="SXPT-W-CAL-LATE"' not in after
    assert 'data-testid="exception-forms"' not in text_of(world.client("dept0").get(f"/records/{record_id}"))


def test_single_record_review_buttons(world: World) -> None:
    """The school approves one record from its page; the department's page offers no review buttons."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    assert 'data-testid="approve"' not in text_of(world.client("dept0").get(f"/records/{record_id}"))
    school = world.client("school")
    token = token_of(school, f"/records/{record_id}")
    response = school.post(f"/records/{record_id}/review", data={"csrf_token": token, "action": "approve"})
    assert location_of(response) == f"/records/{record_id}?notice=approve"
    assert stored(world)["21050101"]["state"] == "审核通过"
    province = text_of(world.client("province").get(f"/records/{record_id}"))
    assert "Nordlicht Werkstatt 1" in province


def test_department_review_post_is_refused_and_audited(world: World) -> None:
    """A department that posts a review gets the 403 page, and the attempt is in the audit log."""
    upload_json(world.client("dept0"), [foreign(1)])
    record_id = stored(world)["21050101"]["id"]
    client = world.client("dept0")
    token = token_of(client, "/")
    response = client.post(f"/records/{record_id}/review", data={"csrf_token": token, "action": "approve"})
    assert response.status_code == 403
    with world.app.app_context():
        events = [entry.event for entry in get_store().iter_audit()]
    assert events[0] == "action_refused"


# --- accounts, keys, organisations ---------------------------------------------------------


def test_account_management_pages(world: World) -> None:
    """The school creates a department account, resends its SMS, changes its phone and deletes it."""
    school = world.client("school")
    token = token_of(school, "/accounts")
    invalid = school.post("/accounts", data={"csrf_token": token, "level": "department", "department": DEPARTMENT_0,
                                             "phone": "12345"})
    assert invalid.status_code == 422
    assert 'id="phone-error"' in text_of(invalid)

    created = school.post("/accounts", data={"csrf_token": token, "level": "department",
                                             "department": DEPARTMENT_0, "phone": new_phone()})
    name = parse_qs(urlsplit(created.headers["Location"]).query)["account"][0]
    assert "激活短信已发送" in text_of(school.get(location_of(created)))
    sent_before = len([sms for sms in outbox(world.app) if sms["account"] == name])

    world.clock.advance(seconds=61)
    resent = school.post(f"/accounts/{name}/activation", data={"csrf_token": token})
    assert resent.status_code == 303
    assert len([sms for sms in outbox(world.app) if sms["account"] == name]) == sent_before + 1

    phone = new_phone()
    changed = school.post(f"/accounts/{name}/phone", data={"csrf_token": token, "phone": phone})
    assert changed.status_code == 303
    assert last_sms(world.app, account=name, purpose="activation")["phone"] == phone

    assert "不能恢复" in text_of(school.get(f"/accounts/{name}/delete"))
    deleted = school.post(f"/accounts/{name}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303
    assert name not in text_of(school.get("/accounts")).split('data-testid="accounts-table"')[1]


def test_accounts_page_refuses_outside_accounts(world: World) -> None:
    """The province cannot manage a department account, and no user can delete their own account."""
    province = world.client("province")
    token = token_of(province, "/accounts")
    response = province.post(f"/accounts/{world.names['dept0']}/delete", data={"csrf_token": token})
    assert response.status_code == 403
    assert "无权管理账号" in text_of(response)
    school = world.client("school")
    token = token_of(school, "/accounts")
    own = school.post(f"/accounts/{world.names['school']}/delete", data={"csrf_token": token})
    assert own.status_code == 403
    assert world.client("school").get("/api/v1/me").status_code == 200


def test_api_key_is_shown_once(world: World) -> None:
    """The issued key appears on the response page only. The list shows its prefix, and revoking stops it."""
    school = world.client("school")
    token = token_of(school, "/keys")
    issued = school.post("/keys", data={"csrf_token": token, "label": "教务系统同步", "department": DEPARTMENT_0,
                                        "days": "30"})
    assert issued.status_code == 201
    key = re.search(r'data-testid="new-key">(sxpt_[a-z2-7_]+)<', text_of(issued))
    assert key
    secret = key.group(1)
    listing = text_of(school.get("/keys"))
    assert secret not in listing
    assert secret.split("_")[1] in listing
    assert world.app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    prefix = secret.split("_")[1]
    revoked = school.post(f"/keys/{prefix}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 303
    assert world.app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401

    bad = school.post("/keys", data={"csrf_token": token, "label": "x", "days": "99999"})
    assert bad.status_code == 422
    assert "有效天数" in text_of(bad)


def test_organisations_pages(world: World) -> None:
    """The school registers a department; a duplicate shows the service's message."""
    school = world.client("school")
    token = token_of(school, "/organisations")
    created = school.post("/organisations", data={"csrf_token": token, "name": "土木工程学院"})
    assert created.status_code == 303
    assert "土木工程学院" in text_of(school.get("/organisations"))
    duplicate = school.post("/organisations", data={"csrf_token": token, "name": "土木工程学院"})
    assert duplicate.status_code == 409
    assert "已存在" in text_of(duplicate)

    province = world.client("province")
    token = token_of(province, "/organisations")
    invalid = province.post("/organisations", data={"csrf_token": token, "code": "4133010009", "name": "东海测试学院",
                                                    "uscc": "x", "city": "1"})
    assert invalid.status_code == 422
    assert 'id="uscc-error"' in text_of(invalid)


# --- statistics, audit, errors, language ---------------------------------------------------


def test_statistics_page_draws_svg_charts(world: World) -> None:
    """The statistics page draws bars per month and type as SVG and links the exports with its filters."""
    upload_json(world.client("dept0"), [foreign(1), foreign(2), foreign(3, **{"实习类型": "毕业实习"})])
    page = text_of(world.client("school").get(f"/statistics?department={DEPARTMENT_0}"))
    assert page.count("<svg") >= 4
    assert 'data-testid="chart-by-month"' in page
    assert 'data-testid="chart-by-type"' in page
    by_type = page.split('data-testid="chart-by-type"')[1].split("</figure>")[0]
    assert "毕业实习: 1" in by_type
    assert "专业实习: 2" in by_type
    export = re.search(r'href="(/api/v1/export\?format=xlsx[^"]*versions=current)"', page)
    assert export
    link = export.group(1).replace("&amp;", "&")
    assert "department=" in link
    response = world.client("school").get(link)
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")

    bad = world.client("school").get("/statistics?from=2025-13")
    assert bad.status_code == 422
    assert "YYYY-MM" in text_of(bad)


def test_statistics_page_shows_plan_coverage(world: World) -> None:
    """With a roster and a plan, the page draws the share of each course's students and lists those missing."""
    add_coverage_world(world.app)
    page = text_of(world.client("school").get("/statistics"))
    coverage = page.split('data-testid="stats-coverage"')[1].split("</section>")[0]
    assert 'data-testid="chart-coverage"' in coverage
    assert "2/4 (50%)" in coverage
    assert "21050103、21050104" in coverage


def test_audit_page_lists_entries(world: World) -> None:
    """The school's audit page shows logins with Chinese labels."""
    page = text_of(world.client("school").get("/audit"))
    assert 'data-testid="audit-row"' in page
    assert "登录" in page
    assert world.names["dept0"] in page


def test_unknown_path_page_and_api(world: World) -> None:
    """An unknown path outside the API gets a Chinese 404 page; an unknown API path keeps its problem document."""
    page = world.client("school").get("/no-such-page")
    assert page.status_code == 404
    assert page.mimetype == "text/html"
    assert "页面不存在" in text_of(page)
    api = world.client("school").get("/api/v1/no-such-route")
    assert api.status_code == 404
    assert api.mimetype == "application/problem+json"
    missing_batch = world.client("dept0").get("/batches/999")
    assert missing_batch.status_code == 404
    assert "第 999 批上传不存在" in text_of(missing_batch)


def test_english_switch(world: World) -> None:
    """?lang=en stores the choice in a cookie and reloads the page in English; ?lang=zh switches back."""
    client = world.client("school")
    switched = client.get("/records?lang=en&month=2025-10")
    assert switched.status_code == 302
    assert location_of(switched) == "/records?month=2025-10"
    assert any(cookie.startswith("sxpt_lang=en") for cookie in switched.headers.getlist("Set-Cookie"))
    page = text_of(client.get("/records?month=2025-10"))
    assert "Reporting month" in page
    assert '<html lang="en">' in page
    assert "报送月份" not in page

    error = client.get("/records?month=13")
    assert "Invalid reporting month" in text_of(error)

    client.get("/?lang=zh")
    assert "报送月份" in text_of(client.get("/records"))


def test_language_setting_sets_the_default(world: World) -> None:
    """With LANGUAGE = "en" the login page is English without a cookie."""
    world.app.config["LANGUAGE"] = "en"
    assert "Log in" in text_of(world.app.test_client().get("/login"))


def test_catalogues_have_the_same_keys() -> None:
    """Every text has a Chinese and an English version."""
    assert set(catalogue_zh.MESSAGES) == set(catalogue_en.MESSAGES)
    assert all(catalogue_en.MESSAGES.values())


def test_static_files_are_served(world: World) -> None:
    """The stylesheet and the script are served from /assets/."""
    for name, media in (("sxpt.css", "text/css"), ("sxpt.js", "text/javascript")):
        response = world.app.test_client().get(f"/assets/{name}")
        assert response.status_code == 200, name
        assert response.mimetype == media
        response.close()
