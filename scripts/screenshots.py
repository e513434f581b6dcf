"""Take screenshots of the main web pages, in Chinese, for the officer guide.

The script starts ``sxpt-server serve`` on 127.0.0.1 with a fresh database in a temporary
folder. It fills the database with the invented school of ``examples/``: its roster, its
plan and its records with the planted mistakes. Then it opens the pages in headless
chromium as a department officer, the school's reviewer and the province would. The server's clock is set to
2025-10-15 09:30 China time, the reporting day that the example data is made for.

Usage::

    python scripts/screenshots.py                     # writes docs/images/*.png
    python scripts/screenshots.py --output /tmp/shots --chromium /usr/bin/chromium

Run it where sxpt is installed with its test extra (``pip install -e '.[test]'``, which
brings the server, httpx, openpyxl and playwright), or with ``PYTHONPATH=src``. It needs a
chromium and a CJK font (Debian: ``apt-get install chromium fonts-noto-cjk``), installs no
browser, and visits no address other than its own server.
"""

from __future__ import annotations

import argparse
import datetime
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import openpyxl

from sxpt_core.codes.uscc import is_valid
from sxpt_core.review import can_accept

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CHINA = datetime.timezone(datetime.timedelta(hours=8))
# The reporting day of the example data: September's internships are due in October.
SCREENSHOT_TIME = datetime.datetime(2025, 10, 15, 9, 30, tzinfo=CHINA)
WIDTH = 1280
VIEWPORT_HEIGHT = 900
# Taller pages are cut at this height, so an image stays readable and a few hundred KB.
MAX_HEIGHT = 2000
TIMEOUT_MS = 15_000
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

PASSWORD = "Shili-2025-十月"
PROVINCE = "330000"
SCHOOL = "4133010001"
SCHOOL_NAME = "东海理工大学"
SCHOOL_USCC = "12330000MB12345676"
CITY = "330100"
PHONES = {"province": "13705710101", "school": "13705710102"}
DEPARTMENTS = {
    "机械工程学院": ("13705710111", "周明远"),
    "计算机科学与技术学院": ("13705710112", "沈佳宁"),
    "经济管理学院": ("13705710113", "何晓岚"),
    "外国语学院": ("13705710114", "陆思齐"),
}
UPLOADER = "机械工程学院"
# The department of which the school leaves a few records unreviewed, so the review queue
# shows rows and its buttons on one screen.
NOT_REVIEWED = "外国语学院"
LEFT_IN_QUEUE = 6
RETURN_REASONS = ("实习岗位填写过于笼统，请写明具体岗位和主要工作内容", "实习单位名称与三方协议不一致，请核对后修改")

# The server reads its clock from this instance config: the real time plus the seconds in
# the file clock_offset, which the script sets to the reporting day and moves past the
# one-minute interval between two SMS to one phone.
CLOCK_CONFIG = '''
import datetime
import pathlib

_OFFSET_FILE = pathlib.Path(__file__).with_name("clock_offset")


def NOW():
    offset = float(_OFFSET_FILE.read_text()) if _OFFSET_FILE.exists() else 0.0
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=offset)


RATELIMIT_ENABLED = False
UNIT_VERIFIER = "directory"
UNIT_DIRECTORY = "units.csv"
'''
SMS_INTERVAL_SECONDS = 61


class Server:
    """An ``sxpt-server`` instance folder, its commands and its ``serve`` process on 127.0.0.1."""

    def __init__(self, instance: Path) -> None:
        self.instance = instance
        source = str(ROOT / "src")
        self.environment = {**os.environ, "SXPT_INSTANCE_PATH": str(instance),
                            "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")]))}
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.base_url = f"http://127.0.0.1:{self.port}"

    def run(self, *args: str) -> str:
        """Run an ``sxpt-server`` command and return its output; raise when it fails."""
        result = subprocess.run([sys.executable, "-m", "sxpt_server", *args], env=self.environment,
                                capture_output=True, text=True, timeout=120, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"sxpt-server {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def set_clock(self, moment: datetime.datetime) -> None:
        offset = (moment - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        (self.instance / "clock_offset").write_text(str(offset), encoding="utf-8")

    def move_clock(self, seconds: float) -> None:
        offset_file = self.instance / "clock_offset"
        offset_file.write_text(str(float(offset_file.read_text(encoding="utf-8")) + seconds), encoding="utf-8")

    def last_sms(self, purpose: str, *, account: str | None = None, phone: str | None = None) -> dict[str, str]:
        """Return the newest SMS with ``purpose`` to ``account`` or ``phone`` from the development outbox."""
        lines = (self.instance / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
        messages: list[dict[str, str]] = [json.loads(line) for line in lines if line.strip()]
        found = [message for message in messages if message["purpose"] == purpose
                 and (account is None or message["account"] == account)
                 and (phone is None or message["phone"] == phone)]
        if not found:
            raise RuntimeError(f"no {purpose} SMS for {account or phone} in the outbox")
        return found[-1]

    @contextmanager
    def serving(self, log_path: Path) -> Iterator[None]:
        """Run ``sxpt-server serve`` while the block runs, and stop it by its pid afterwards."""
        with log_path.open("wb") as log:
            process = subprocess.Popen([sys.executable, "-m", "sxpt_server", "serve", "--host", "127.0.0.1",
                                        "--port", str(self.port)], env=self.environment, stdout=log,
                                       stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 20
                while True:
                    if process.poll() is not None:
                        raise RuntimeError("the server stopped:\n" + log_path.read_text(encoding="utf-8"))
                    try:
                        httpx.get(f"{self.base_url}/api/v1/health", timeout=1.0)
                        break
                    except httpx.TransportError:
                        if time.monotonic() > deadline:
                            raise RuntimeError("the server did not start within 20 s") from None
                        time.sleep(0.2)
                yield
            finally:
                process.terminate()
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=10)


class ApiUser:
    """One account logged in through the JSON API, to prepare the data before the screenshots."""

    def __init__(self, server: Server, account: str) -> None:
        self.server = server
        self.account = account
        self.client = httpx.Client(base_url=server.base_url, timeout=60)
        code = server.last_sms("activation", account=account)["code"]
        self.call("POST", "/api/v1/auth/activate", json={"account": account, "code": code, "password": PASSWORD})
        server.move_clock(SMS_INTERVAL_SECONDS)
        self.call("POST", "/api/v1/auth/code", json={"account": account, "password": PASSWORD})
        code = server.last_sms("login", account=account)["code"]
        self.call("POST", "/api/v1/auth/login", json={"account": account, "password": PASSWORD, "code": code})

    def call(self, method: str, url: str, **options: Any) -> Any:
        """Send a request and return its JSON (None for an empty body); raise on an error status."""
        response = self.client.request(method, url, **options)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {url} failed with {response.status_code}: {response.text[:1000]}")
        return response.json() if response.content else None

    def records(self, **filters: str) -> list[dict[str, Any]]:
        """Return every record the account may read with ``filters``, following the pages."""
        found: list[dict[str, Any]] = []
        after = None
        while True:
            query = {"limit": "200", **filters, **({"after": str(after)} if after else {})}
            page = self.call("GET", "/api/v1/records", params=query)
            found.extend(page["records"])
            after = page["next_after"]
            if after is None:
                return found


# --- the example data ------------------------------------------------------------------------------


def department_workbooks() -> dict[str, bytes]:
    """Split ``examples/records.xlsx`` into one workbook per department, header first, values as they are."""
    sheet = openpyxl.load_workbook(EXAMPLES / "records.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header_index = next(index for index, row in enumerate(rows) if row and "学号" in row)
    header = rows[header_index]
    department_column = header.index("院系")
    workbooks = {}
    for department in DEPARTMENTS:
        book = openpyxl.Workbook()
        target = book.active
        assert target is not None
        target.title = "实习数据"
        target.append(list(header))
        for row in rows[header_index + 1:]:
            if row[department_column] == department:
                target.append(list(row))
        content = io.BytesIO()
        book.save(content)
        workbooks[department] = content.getvalue()
    return workbooks


def write_unit_directory(instance: Path) -> None:
    """Write the directory of known units from the example records, so the unit worker finds most of them."""
    sheet = openpyxl.load_workbook(EXAMPLES / "records.xlsx").worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    header_index = next(index for index, row in enumerate(rows) if row and "学号" in row)
    header = rows[header_index]
    code_column = header.index("实习单位统一社会信用代码")
    name_column = header.index("实习单位名称")
    # Planted mistakes give some codes a wrong check character or a second name, so the
    # directory keeps valid codes only, each with its most common name.
    names: dict[str, Counter[str]] = {}
    for row in rows[header_index + 1:]:
        code = str(row[code_column] or "").strip()
        name = str(row[name_column] or "").strip()
        if is_valid(code) and name and "," not in name:
            names.setdefault(code, Counter())[name] += 1
    lines = ["统一社会信用代码,单位名称", *(f"{code},{counts.most_common(1)[0][0]}" for code, counts in sorted(names.items()))]
    (instance / "units.csv").write_text("\n".join(lines) + "\n", encoding="utf-8-sig")


def prepare(server: Server) -> dict[str, Any]:
    """Create the accounts and upload, check and review the example data; return the names and ids to show."""
    school = ApiUser(server, server.last_sms("activation", phone=PHONES["school"])["account"])
    for kind in ("roster", "plan"):
        school.call("POST", f"/api/v1/{kind}", files={"file": (f"{kind}.xlsx", (EXAMPLES / f"{kind}.xlsx").read_bytes())})

    departments: dict[str, ApiUser] = {}
    for department, (phone, contact) in DEPARTMENTS.items():
        school.call("POST", f"/api/v1/schools/{SCHOOL}/departments", json={"name": department})
        created = school.call("POST", "/api/v1/accounts", json={
            "level": "department", "department": department, "phone": phone, "contact_name": contact})
        departments[department] = ApiUser(server, created["name"])

    batches = {}
    for department, content in department_workbooks().items():
        upload = departments[department].call("POST", "/api/v1/batches",
                                              files={"file": (f"{department}-9月实习数据.xlsx", content)})
        batches[department] = upload["batch"]["id"]
    server.run("worker", "--once")

    # The school returns one record of the uploading department and one of another, and
    # approves the rest but a few.
    waiting = school.records(state="待审核")
    returned = []
    for reason, department in zip(RETURN_REASONS, (UPLOADER, "经济管理学院")):
        chosen = next(item for item in waiting if item["department"] == department and item["id"] not in returned)
        school.call("POST", "/api/v1/review", json={"action": "return", "records": [chosen["id"]], "reason": reason})
        returned.append(chosen["id"])
    left = [item["id"] for item in waiting if item["department"] == NOT_REVIEWED][:LEFT_IN_QUEUE]
    approve = [item["id"] for item in waiting if item["id"] not in returned and item["id"] not in left]
    for start in range(0, len(approve), 100):
        school.call("POST", "/api/v1/review", json={"action": "approve", "records": approve[start:start + 100]})

    # The uploading department requests the deletion of one approved record.
    uploader = departments[UPLOADER]
    approved = uploader.records(state="审核通过")
    uploader.call("DELETE", f"/api/v1/records/{approved[0]['id']}")

    # A record whose problem the school may accept as an exception, for the record page.
    acceptable = next(item["id"] for item in school.records(state="校验不通过")
                      if item["issues"] and all(can_accept(issue["code"]) for issue in item["issues"]))

    for user in (school, *departments.values()):
        user.client.close()
    return {"school": school.account, "departments": {name: user.account for name, user in departments.items()},
            "batch": batches[UPLOADER], "returned": returned[0], "acceptable": acceptable,
            "province": server.last_sms("activation", phone=PHONES["province"])["account"]}


# --- the screenshots -------------------------------------------------------------------------------


class Camera:
    """A chromium window on the server that saves pages as PNG files of WIDTH pixels."""

    def __init__(self, browser: Any, server: Server, output: Path) -> None:
        self.server = server
        self.output = output
        self.context = browser.new_context(base_url=server.base_url, locale="zh-CN",
                                           viewport={"width": WIDTH, "height": VIEWPORT_HEIGHT})
        self.context.set_default_timeout(TIMEOUT_MS)
        self.context.route("**/*", self._only_the_server)
        self.page = self.context.new_page()

    def _only_the_server(self, route: Any) -> None:
        if route.request.url.startswith(self.server.base_url + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            route.abort()

    def shoot(self, name: str, *, height: int = MAX_HEIGHT, top: str | None = None) -> None:
        """Save the page as ``name``.png, from the top or from the element ``top``, at most ``height`` pixels tall."""
        start = 0.0
        if top is not None:
            box = self.page.locator(top).first.bounding_box()
            assert box is not None, f"{top} is not on the page"
            start = max(box["y"] - 16, 0.0)
        page_height = self.page.evaluate("document.documentElement.scrollHeight")
        clip = {"x": 0, "y": start, "width": WIDTH, "height": min(page_height - start, height)}
        path = self.output / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True, clip=clip)
        print(f"wrote {path}")

    def log_in(self, account: str, *, shoot_code_page: bool = False) -> None:
        page = self.page
        page.goto("/login")
        page.fill("#account", account)
        page.fill("#password", PASSWORD)
        self.server.move_clock(SMS_INTERVAL_SECONDS)
        with page.expect_navigation():
            page.click("[data-testid=send-code]")
        if shoot_code_page:
            self.shoot("login-code", height=520)
        with page.expect_navigation():
            page.fill("#code", self.server.last_sms("login", account=account)["code"])
            page.click("[data-testid=login]")

    def close(self) -> None:
        self.context.close()


def shoot_pages(browser: Any, server: Server, names: dict[str, Any], output: Path) -> None:
    """Open each main page as its user would and save it."""
    anonymous = Camera(browser, server, output)
    anonymous.page.goto("/login")
    anonymous.page.fill("#account", names["departments"][UPLOADER])
    anonymous.shoot("login", height=520)
    anonymous.page.goto("/activate")
    anonymous.shoot("activate", height=720)
    anonymous.close()

    department = Camera(browser, server, output)
    department.log_in(names["departments"][UPLOADER], shoot_code_page=True)
    department.shoot("home-department")
    department.page.click("[data-testid=nav-upload]")
    department.shoot("upload", height=600)
    department.page.goto(f"/batches/{names['batch']}")
    department.shoot("batch-errors", height=1800)
    department.page.click("[data-testid=nav-records]")
    department.shoot("records", height=1100)
    department.page.goto(f"/records/{names['returned']}")
    department.shoot("record-returned", height=700)
    department.page.click("[data-testid=edit-record]")
    department.shoot("record-edit", height=VIEWPORT_HEIGHT)
    department.close()

    school = Camera(browser, server, output)
    school.log_in(names["school"])
    school.shoot("home-school")
    school.page.click("[data-testid=nav-review]")
    rows = school.page.get_by_test_id("review-row")
    for index in range(2):
        rows.nth(index).locator("input[type=checkbox]").check()
    school.page.fill("[data-testid=review-reason]", RETURN_REASONS[1])
    school.shoot("review")
    school.page.click("[data-testid=tab-deletion]")
    school.shoot("review-deletion", height=720)
    school.page.goto(f"/records/{names['acceptable']}")
    school.shoot("record-exception", height=900, top="[data-testid=record-issues]")
    school.page.click("[data-testid=nav-statistics]")
    school.shoot("statistics")
    school.page.click("[data-testid=nav-accounts]")
    school.shoot("accounts", height=VIEWPORT_HEIGHT)
    school.close()

    province = Camera(browser, server, output)
    province.log_in(names["province"])
    province.page.click("[data-testid=nav-records]")
    province.shoot("province-records", height=900)
    province.page.click("[data-testid=nav-statistics]")
    province.shoot("province-statistics")
    province.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=ROOT / "docs" / "images",
                        help="folder that receives the PNG files (default: docs/images)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="chromium executable (default: /usr/bin/chromium)")
    arguments = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    arguments.output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sxpt-screenshots-") as folder:
        instance = Path(folder) / "instance"
        instance.mkdir()
        (instance / "config.py").write_text(CLOCK_CONFIG, encoding="utf-8")
        write_unit_directory(instance)
        server = Server(instance)
        server.set_clock(SCREENSHOT_TIME)
        server.run("init-db")
        server.run("create-account", "--level", "province", "--province", PROVINCE, "--phone", PHONES["province"],
                   "--contact-name", "吴建华")
        server.run("create-account", "--level", "school", "--province", PROVINCE, "--school", SCHOOL,
                   "--school-name", SCHOOL_NAME, "--uscc", SCHOOL_USCC, "--city", CITY, "--phone", PHONES["school"],
                   "--contact-name", "钱雅琴")
        with server.serving(Path(folder) / "server.log"):
            names = prepare(server)
            # The province account sets its password now; its pages are shot last.
            ApiUser(server, names["province"]).client.close()
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=arguments.chromium, headless=True,
                                                     args=CHROMIUM_ARGS, timeout=TIMEOUT_MS)
                try:
                    shoot_pages(browser, server, names, arguments.output)
                finally:
                    browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
