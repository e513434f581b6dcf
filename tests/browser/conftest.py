"""Fixtures of the browser tests: a real ``sxpt-server serve`` on 127.0.0.1 and Debian's chromium.

The server runs from a temporary instance folder whose ``config.py`` reads the clock
offset file ``clock_offset`` (see ``tests.server.test_real_server``), so a test moves the
server's clock past the one-minute SMS interval or the 30-minute idle timeout by writing
that file. SMS codes are read from the development gateway's ``outbox.jsonl``.

The accounts (a school, two departments) are created once per module. The school's
account comes from ``sxpt-server create-account`` and sets its password on the activation
page with the code of its SMS. It then registers the departments on the organisations page
and creates their accounts, and each department sets its own password on the same page.

Playwright is imported inside the fixtures, so that the test module can skip itself with
a reason when Playwright or chromium is missing.
"""

from __future__ import annotations

import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import sxpt_server
from sxpt_core.codes.uscc import calc_check_character
from sxpt_server.sms import read_outbox
from tests.server.support import PASSWORD
from tests.server.test_real_server import CLOCK_CONFIG, free_port, server_command

CHROMIUM = Path("/usr/bin/chromium")
# Headless Debian chromium as root in CI: no sandbox, no GPU, and no background traffic
# to any other host.
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# Every Playwright wait and action gives up after this many milliseconds.
ACTION_TIMEOUT_MS = 15_000
SERVER_START_TIMEOUT = 20.0
COMMAND_TIMEOUT = 60
VIEWPORT = {"width": 1280, "height": 900}

PROVINCE = "330000"
SCHOOL = "4133010007"
SCHOOL_NAME = "西湖滨江学院"
SCHOOL_USCC_BODY = "12330000MB0457821"
CITY = "330100"
SCHOOL_PHONE = "13957010021"
DEPARTMENT = "机械工程学院"
OTHER_DEPARTMENT = "外国语学院"
DEPARTMENT_PHONES = {DEPARTMENT: "13957010022", OTHER_DEPARTMENT: "13957010023"}
# The host organisation that ``sxpt-server worker --once`` finds in the instance's
# directory of known units (UNIT_VERIFIER = "directory").
KNOWN_UNIT_NAME = "杭州云栖数控设备有限公司"
KNOWN_UNIT_CODE = "91330106MA2K7Q3P4" + calc_check_character("91330106MA2K7Q3P4")
# The wait between two SMS to one phone that the server requires, plus a second.
SMS_INTERVAL_SECONDS = 61


def browser_missing() -> str | None:
    """Return why the browser tests cannot run here, or None when Playwright and chromium are installed."""
    if not CHROMIUM.exists():
        return f"chromium is not installed at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is not installed (pip install -e '.[test]')"
    return None


@dataclass
class LiveServer:
    """A running ``sxpt-server serve`` process and its instance folder."""

    base_url: str
    instance: Path
    environment: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def move_clock(self, seconds: float) -> None:
        """Move the server's clock forward by ``seconds``."""
        offset_file = self.instance / "clock_offset"
        offset = float(offset_file.read_text(encoding="utf-8")) if offset_file.exists() else 0.0
        offset_file.write_text(str(offset + seconds), encoding="utf-8")

    def messages(self) -> list[dict[str, str]]:
        """Return every SMS the development gateway wrote, oldest first."""
        return read_outbox(self.instance / "outbox.jsonl")

    def last_sms(self, *, purpose: str, account: str | None = None, phone: str | None = None) -> dict[str, str]:
        """Return the newest SMS with ``purpose`` to ``account`` or ``phone``."""
        found = [message for message in self.messages() if message["purpose"] == purpose
                 and (account is None or message["account"] == account)
                 and (phone is None or message["phone"] == phone)]
        assert found, f"no {purpose} SMS for account {account} / phone {phone} in the outbox"
        return found[-1]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run an ``sxpt-server`` command on the instance folder and require success."""
        result = subprocess.run([*server_command(), *args], env=self.environment, capture_output=True, text=True,
                                timeout=COMMAND_TIMEOUT, check=False)
        assert result.returncode == 0, f"sxpt-server {' '.join(args)} failed:\n{result.stdout}{result.stderr}"
        return result

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def _wait_until_up(server: LiveServer) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while True:
        assert server.process is not None and server.process.poll() is None, server.log()
        try:
            with urllib.request.urlopen(f"{server.base_url}/api/v1/health", timeout=1.0):
                return
        except (urllib.error.URLError, OSError):
            assert time.monotonic() < deadline, f"the server did not answer within {SERVER_START_TIMEOUT} s"
            time.sleep(0.2)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server process by its pid: SIGTERM, then SIGKILL after ten seconds."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Start ``sxpt-server serve`` on a free port of 127.0.0.1 with a fresh database; stop it afterwards."""
    root = tmp_path_factory.mktemp("browser")
    instance = root / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(CLOCK_CONFIG + '\nUNIT_VERIFIER = "directory"\nUNIT_DIRECTORY = "units.csv"\n',
                                        encoding="utf-8")
    (instance / "units.csv").write_text(f"统一社会信用代码,单位名称\n{KNOWN_UNIT_CODE},{KNOWN_UNIT_NAME}\n",
                                        encoding="utf-8-sig")
    source = str(Path(sxpt_server.__file__).resolve().parent.parent)
    environment = {
        **os.environ,
        "SXPT_INSTANCE_PATH": str(instance),
        "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
    }
    server = LiveServer(base_url=f"http://127.0.0.1:{free_port()}", instance=instance, environment=environment,
                        log_path=root / "server.log")
    server.run("init-db")

    port = server.base_url.rsplit(":", 1)[1]
    with server.log_path.open("wb") as log:
        server.process = subprocess.Popen([*server_command(), "serve", "--host", "127.0.0.1", "--port", port],
                                          env=environment, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_until_up(server)
            yield server
        finally:
            _stop(server.process)


@pytest.fixture(scope="module")
def browser(live_server: LiveServer) -> Iterator[Any]:
    """Launch headless chromium once per module; close it (and so end its processes) afterwards."""
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                              timeout=ACTION_TIMEOUT_MS)
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        playwright.stop()


@dataclass
class Pages:
    """Opens browser windows (contexts with one page each) that only reach the live server."""

    browser: Any
    server: LiveServer
    contexts: list[Any] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)

    def open(self) -> Any:
        """Open a fresh window with its own cookies, Chinese locale and a 1280 px wide viewport."""
        context = self.browser.new_context(base_url=self.server.base_url, locale="zh-CN", viewport=VIEWPORT,
                                           accept_downloads=True)
        self.contexts.append(context)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        context.route("**/*", self._only_the_server)
        return context.new_page()

    def _only_the_server(self, route: Any) -> None:
        url = route.request.url
        if url.startswith(self.server.base_url + "/") or url.startswith("data:"):
            route.continue_()
        else:
            self.blocked.append(url)
            route.abort()

    def close(self) -> None:
        for context in self.contexts:
            context.close()
        self.contexts.clear()


@pytest.fixture
def pages(browser: Any, live_server: LiveServer) -> Iterator[Pages]:
    """Open windows for one test, close them afterwards, and fail if a page requested another host."""
    opened = Pages(browser=browser, server=live_server)
    try:
        yield opened
    finally:
        opened.close()
    assert not opened.blocked, f"the pages requested other hosts: {opened.blocked}"


# --- logging in through the pages ----------------------------------------------------------------


def submit_login(page: Any, server: LiveServer, account: str, *, code: str | None = None) -> None:
    """Fill the login page that ``page`` shows: account and password, then the SMS code from the outbox.

    With ``code`` given, that code is typed instead of the one in the outbox, and the
    function returns on whatever page the server sends back.
    """
    page.fill("#account", account)
    page.fill("#password", PASSWORD)
    server.move_clock(SMS_INTERVAL_SECONDS)
    with page.expect_navigation():
        page.click("[data-testid=send-code]")
    assert "/login/code" in page.url, f"the password step led to {page.url}:\n{page.inner_text('main')}"

    with page.expect_navigation():
        page.fill("#code", code if code is not None else server.last_sms(purpose="login", account=account)["code"])
        page.click("[data-testid=login]")
    if code is None:
        assert "/login" not in page.url, f"the code step led to {page.url}:\n{page.inner_text('main')}"


def log_in(page: Any, server: LiveServer, account: str) -> None:
    """Open the login page and log in as ``account``, which ends on the home page."""
    page.goto("/login")
    submit_login(page, server, account)


def activate(page: Any, server: LiveServer, account: str) -> None:
    """Set the password of a new account with the code of its activation SMS, through the activation page."""
    page.goto("/login")
    page.click("[data-testid=activate-link]")
    page.wait_for_url("**/activate**")
    page.fill("#account", account)
    page.fill("#code", server.last_sms(purpose="activation", account=account)["code"])
    page.fill("#password", PASSWORD)
    page.fill("#password_repeat", PASSWORD)
    page.click("[data-testid=activate]")
    page.wait_for_url("**/login?**")
    notice = page.get_by_test_id("notice").inner_text()
    assert "密码已设置" in notice, notice


@dataclass
class Site:
    """The generated account names of the module's school and of its departments."""

    school: str
    departments: dict[str, str]


def _create_department_account(page: Any, server: LiveServer, department: str) -> str:
    """Create the account of ``department`` with the school's session and return its generated name.

    NOTE: this goes through ``POST /api/v1/accounts`` because the department list of the
    accounts page is broken (see ``test_accounts_page_creates_department_account``).
    """
    response = page.request.post("/api/v1/accounts", data={
        "level": "department", "department": department, "phone": DEPARTMENT_PHONES[department],
        "contact_name": "周老师" if department == DEPARTMENT else "陆老师"})
    assert response.status == 201, response.text()
    return server.last_sms(purpose="activation", phone=DEPARTMENT_PHONES[department])["account"]


@pytest.fixture(scope="module")
def site(browser: Any, live_server: LiveServer) -> Iterator[Site]:
    """Create the school's account with the CLI, then the departments and their accounts through the pages."""
    server = live_server
    server.run("create-account", "--level", "school", "--province", PROVINCE, "--school", SCHOOL,
               "--school-name", SCHOOL_NAME, "--uscc", SCHOOL_USCC_BODY + calc_check_character(SCHOOL_USCC_BODY),
               "--city", CITY, "--phone", SCHOOL_PHONE, "--contact-name", "钱老师")
    school = server.last_sms(purpose="activation", phone=SCHOOL_PHONE)["account"]

    setup = Pages(browser=browser, server=server)
    try:
        page = setup.open()
        activate(page, server, school)
        submit_login(page, server, school)

        for department in (DEPARTMENT, OTHER_DEPARTMENT):
            page.click("[data-testid=nav-organisations]")
            page.fill("#org-name", department)
            page.click("[data-testid=organisation-submit]")
            page.get_by_test_id("notice").wait_for()
        departments = {department: _create_department_account(page, server, department)
                       for department in (DEPARTMENT, OTHER_DEPARTMENT)}
        page.click("[data-testid=nav-accounts]")
        for name in departments.values():
            row = page.locator(f"[data-testid=account-row][data-account='{name}']")
            assert "待激活" in row.inner_text()

        for name in departments.values():
            activate(setup.open(), server, name)
    finally:
        setup.close()
    assert not setup.blocked, f"the pages requested other hosts: {setup.blocked}"
    yield Site(school=school, departments=departments)


# --- other helpers ---------------------------------------------------------------------------------


def wait_for_download(page: Any, click: Callable[[], None], target: Path) -> Path:
    """Click a download link and save the file the browser receives to ``target``."""
    with page.expect_download(timeout=ACTION_TIMEOUT_MS) as info:
        click()
    download = info.value
    assert download.failure() is None, download.failure()
    download.save_as(target)
    return target
