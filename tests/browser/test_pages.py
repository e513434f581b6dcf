"""The web pages in a real browser: Debian's chromium, driven by Playwright, on a real sxpt-server.

Each test clicks and types as an officer would. A department uploads a workbook with
mistakes, reads the error table, fixes the errors-only workbook and uploads it again.
The school approves one record and returns another, and the department edits the
returned record, which the school then approves. Other tests cover a wrong SMS code, the
idle timeout (with the page's countdown script), the forbidden page, and that Chinese
text is drawn with a CJK font rather than as empty boxes.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import (
    DEPARTMENT,
    KNOWN_UNIT_CODE,
    KNOWN_UNIT_NAME,
    OTHER_DEPARTMENT,
    LiveServer,
    Pages,
    Site,
    browser_missing,
    log_in,
    submit_login,
    wait_for_download,
)

_missing = browser_missing()
if _missing:
    pytest.skip(_missing, allow_module_level=True)

openpyxl = pytest.importorskip("openpyxl")

from tests.server.records_support import record, xlsx_of  # noqa: E402

CHINA = datetime.timezone(datetime.timedelta(hours=8))
RETURN_REASON = "实习岗位填写过于笼统，请写明具体岗位"
STUDENT_NAMES = ("林晓雯", "陈思远", "黄一鸣", "郑可欣", "许诺")
# Chinese strings whose glyphs the font check draws and compares.
GLYPH_SAMPLES = ("审", "核", "退", "回")


def last_month_internship() -> dict[str, str]:
    """Return the date cells of an internship that ended last month, so it is due this month and not late."""
    today = datetime.datetime.now(CHINA).date()
    end = today.replace(day=1) - datetime.timedelta(days=1)
    start = end.replace(day=1)
    first_year = end.year if end.month >= 9 else end.year - 1
    return {"实习开始时间": start.isoformat(), "实习结束时间": end.isoformat(), "实际实习天数": "20",
            "学年": f"{first_year}-{first_year + 1}", "入学年份": str(first_year - 2)}


def department_record(index: int, **changes: str) -> dict[str, str]:
    """Return one record of ``DEPARTMENT`` at a foreign host unit, which needs no unit check."""
    values = {**last_month_internship(), "学号": f"2023{index:04d}", "学生姓名": STUDENT_NAMES[index - 1],
              "实习单位统一社会信用代码": "无", "实习地区及代码": "990000",
              "实习单位名称": f"Nordlicht Werkstatt GmbH {index}", "实习详细地址": "Hafenstraße 12, Bremen"}
    values.update(changes)
    return record(index, department=DEPARTMENT, **values)


def monthly_workbook(path: Path) -> tuple[Path, dict[str, dict[str, str]]]:
    """Write the department's monthly workbook with two mistakes, and return it with the fixes by 学号.

    Row 3 has zero internship days and row 5 a ten-digit mentor phone. Row 4 writes 有
    for 是, which the server corrects itself with a warning. Row 6 names a domestic unit
    that the unit worker finds in the instance's directory of known units.
    """
    records = [
        department_record(1),
        department_record(2, 实际实习天数="0"),
        department_record(3, 是否有实习责任险="有"),
        department_record(4, 企业指导人员电话="1380013800"),
        department_record(5, 实习单位统一社会信用代码=KNOWN_UNIT_CODE, 实习单位名称=KNOWN_UNIT_NAME,
                          实习地区及代码="330100", 实习详细地址="杭州市西湖区紫霞街 80 号"),
    ]
    xlsx_of(records, path)
    fixes = {"20230002": {"实际实习天数": "20"}, "20230004": {"企业指导人员电话": "13800138000"}}
    return path, fixes


def fix_errors_only(source: Path, fixes: dict[str, dict[str, str]], target: Path) -> int:
    """Correct the cells of the errors-only workbook as an officer would in Excel, and count its data rows."""
    book = openpyxl.load_workbook(source)
    sheet = book.worksheets[0]
    header = [cell.value for cell in sheet[1]]
    assert header[-1] == "原行号", header
    student_column = header.index("学号")
    rows = list(sheet.iter_rows(min_row=2))
    for row in rows:
        for field_name, value in fixes[str(row[student_column].value)].items():
            row[header.index(field_name)].value = value
    book.save(target)
    return len(rows)


def upload(page: Any, workbook: Path) -> None:
    """Choose ``workbook`` on the upload page that ``page`` shows, send it, and wait for the batch's report page."""
    assert page.url.endswith("/upload"), page.url
    page.check("[data-testid=kind-records]")
    page.set_input_files("[data-testid=upload-file]", workbook)
    page.click("[data-testid=upload-submit]")
    page.wait_for_url(re.compile(r"/batches/\d+"))


def issue_rows(page: Any) -> list[list[str]]:
    """Return the cells of the issue table: row, column, field, value, severity, message, hint, code."""
    return [[cell.strip() for cell in row.locator("td").all_inner_texts()]
            for row in page.get_by_test_id("issue-row").all()]


def record_ids_by_student(page: Any) -> dict[str, str]:
    """Open the records list and return the record id of each 学号 shown."""
    page.click("[data-testid=nav-records]")
    found = {}
    for row in page.get_by_test_id("record-row").all():
        cells = row.locator("td").all_inner_texts()
        found[cells[1].strip()] = row.get_attribute("data-record-id")
    return found


def state_of(page: Any, record_id: str) -> str:
    """Return the state badge of a record on the records list that ``page`` shows."""
    text: str = page.locator(f"[data-testid=record-row][data-record-id='{record_id}'] [data-testid=state]").inner_text()
    return text.strip()


# --- the reporting month -------------------------------------------------------------------------


def test_upload_fix_and_review_flow(site: Site, pages: Pages, live_server: LiveServer, tmp_path: Path) -> None:
    """Upload with mistakes, errors-only workbook, second upload, unit worker, approve, return, edit, approve."""
    server = live_server
    department = pages.open()
    log_in(department, server, site.departments[DEPARTMENT])
    assert DEPARTMENT in department.get_by_test_id("current-account").inner_text()

    # First upload: the report page lists both mistakes by row, column and field.
    workbook, fixes = monthly_workbook(tmp_path / "机械工程学院-实习数据.xlsx")
    department.click("[data-testid=nav-upload]")
    upload(department, workbook)
    assert "这批数据有 2 个错误" in department.get_by_test_id("batch-has-errors").inner_text()
    assert department.locator("[data-testid=error-count] .number").inner_text() == "2"
    errors = [row for row in issue_rows(department) if row[4] == "错误"]
    assert [row[:4] for row in errors] == [["3", "AC", "实际实习天数", "0"], ["5", "AG", "企业指导人员电话", "1380013800"]]
    assert errors[0][7] == "SXPT-E-DAYS-INVALID"
    assert "不是有效的天数" in errors[0][5]
    assert errors[1][7] == "SXPT-E-PHONE-INVALID"
    normalised = department.get_by_test_id("normalised").inner_text()
    assert "是否有实习责任险" in normalised
    assert "SXPT-W-CHOICE-ALIAS" in normalised

    # The errors-only workbook contains the two faulty rows. The officer fixes them and uploads it as it is.
    errors_only = wait_for_download(department, lambda: department.click("[data-testid=download-errors]"),
                                    tmp_path / "errors-only.xlsx")
    fixed = tmp_path / "机械工程学院-实习数据-改正.xlsx"
    assert fix_errors_only(errors_only, fixes, fixed) == 2
    with department.expect_navigation():
        department.get_by_role("link", name="重新上传", exact=True).click()
    upload(department, fixed)
    assert "没有发现错误" in department.get_by_test_id("batch-clean").inner_text()
    assert department.get_by_test_id("no-issues").is_visible()
    assert department.locator("[data-testid=error-count] .number").inner_text() == "0"

    # Records at foreign units wait for review at once, but the domestic unit waits for the unit worker.
    ids = record_ids_by_student(department)
    assert sorted(ids) == [f"2023{index:04d}" for index in range(1, 6)]
    assert state_of(department, ids["20230001"]) == "待审核"
    assert state_of(department, ids["20230002"]) == "待审核"
    assert state_of(department, ids["20230005"]) == "待校验"
    server.run("worker", "--once")
    department.reload()
    assert state_of(department, ids["20230005"]) == "待审核"

    # The school reviewer approves one record and returns another with a reason.
    school = pages.open()
    log_in(school, server, site.school)
    assert school.locator("[data-testid=awaiting-review] .number").inner_text() == "5"
    school.click("[data-testid=nav-review]")
    assert "共 5 条记录待审核" in school.get_by_test_id("review-total").inner_text()
    school.check(f"[data-testid=pick-{ids['20230001']}]")
    school.click("[data-testid=approve]")
    assert "1 条记录已审核通过" in school.get_by_test_id("notice").inner_text()
    school.check(f"[data-testid=pick-{ids['20230003']}]")
    school.fill("[data-testid=review-reason]", RETURN_REASON)
    school.click("[data-testid=return]")
    assert "1 条记录已退回" in school.get_by_test_id("notice").inner_text()
    assert "共 3 条记录待审核" in school.get_by_test_id("review-total").inner_text()

    # The department finds the returned record from its home page, reads the reason and edits it.
    department.click("[data-testid=nav-home]")
    assert department.locator("[data-testid=returned] .number").inner_text() == "1"
    department.click("[data-testid=returned]")
    returned_rows = department.get_by_test_id("record-row")
    assert returned_rows.count() == 1
    assert returned_rows.first.get_attribute("data-record-id") == ids["20230003"]
    returned_rows.first.locator("a").first.click()
    assert RETURN_REASON in department.get_by_test_id("review-reason").inner_text()
    assert department.get_by_test_id("state").first.inner_text() == "已退回"
    department.click("[data-testid=edit-record]")
    department.fill("[data-testid='cell-实习岗位']", "数控车床操作实习生（跟班学习编程与调试）")
    department.click("[data-testid=save-record]")
    assert "修改已保存" in department.get_by_test_id("notice").inner_text()
    assert department.get_by_test_id("state").first.inner_text() == "待审核"
    assert "数控车床操作实习生" in department.get_by_test_id("record-cells").inner_text()

    # The edited record is back in the school's queue, and the school approves it on the record's page.
    school.click("[data-testid=nav-review]")
    assert school.locator(f"[data-testid=review-row][data-record-id='{ids['20230003']}']").count() == 1
    school.locator(f"[data-testid=review-row][data-record-id='{ids['20230003']}'] a").first.click()
    school.click("[data-testid=approve]")
    assert "已审核通过" in school.get_by_test_id("notice").inner_text()
    assert school.get_by_test_id("state").first.inner_text() == "审核通过"

    department.click("[data-testid=nav-records]")
    assert state_of(department, ids["20230001"]) == "审核通过"
    assert state_of(department, ids["20230003"]) == "审核通过"
    assert state_of(department, ids["20230002"]) == "待审核"


# --- errors and protection -------------------------------------------------------------------------


def test_wrong_sms_code_shows_message(site: Site, pages: Pages, live_server: LiveServer) -> None:
    """A wrong SMS code keeps the user on the code page with the Chinese message, and the right code then logs in."""
    page = pages.open()
    account = site.departments[OTHER_DEPARTMENT]
    page.goto("/login")
    submit_login(page, live_server, account, code="000000")
    sent = live_server.last_sms(purpose="login", account=account)["code"]
    if sent == "000000":
        # The one code in a million that matches: the user is simply logged in.
        page.wait_for_url(lambda url: "/login" not in url)
        return

    error = page.get_by_test_id("error")
    assert error.inner_text() == "验证码错误，还可以再试 4 次。"
    assert "/login/code" in page.url
    assert page.get_by_test_id("pending-account").inner_text() == account

    page.fill("#code", sent)
    page.click("[data-testid=login]")
    page.wait_for_url(lambda url: "/login" not in url)
    assert account in page.get_by_test_id("current-account").inner_text()


def open_filtered_records(page: Any) -> str:
    """Filter the records list by state as an officer would, and return the page's URL."""
    page.click("[data-testid=nav-records]")
    page.select_option("#filter-state", "待审核")
    with page.expect_navigation():
        page.click("[data-testid=filter-apply]")
    assert "/records?state=" in page.url
    return str(page.url)


def test_idle_warning_and_stay(site: Site, pages: Pages, live_server: LiveServer) -> None:
    """Five minutes before the idle timeout the page warns, and "继续使用" gives the session another 30 minutes."""
    server = live_server
    page = pages.open()
    # The page's countdown runs on the browser's clock, which the test moves together with the server's.
    page.clock.install()
    log_in(page, server, site.departments[OTHER_DEPARTMENT])
    open_filtered_records(page)
    warning = page.get_by_test_id("idle-warning")
    assert warning.is_hidden()

    server.move_clock(26 * 60)
    page.clock.fast_forward("26:00")
    warning.wait_for(state="visible")
    assert "将在以下时间后自动退出登录" in warning.inner_text()
    assert page.get_by_test_id("idle-remaining").inner_text().startswith(("4:", "3:"))

    page.click("[data-testid=idle-stay]")
    warning.wait_for(state="hidden")
    assert page.get_by_test_id("idle-remaining").inner_text().startswith(("30:", "29:"))
    # Without "继续使用" the session would end now, 31 minutes after the last page, but it lives on.
    server.move_clock(5 * 60)
    page.click("[data-testid=nav-home]")
    assert page.url == f"{server.base_url}/"


def test_idle_timeout_by_countdown_returns_to_page(site: Site, pages: Pages, live_server: LiveServer) -> None:
    """After 30 idle minutes the open page goes to the login page by itself, and login returns to it."""
    server = live_server
    page = pages.open()
    page.clock.install()
    log_in(page, server, site.departments[OTHER_DEPARTMENT])
    filtered = open_filtered_records(page)

    server.move_clock(31 * 60)
    page.clock.fast_forward("31:00")
    page.wait_for_url("**/login?**reason=expired**")
    assert "超过 30 分钟未操作" in page.get_by_test_id("notice").inner_text()
    submit_login(page, server, site.departments[OTHER_DEPARTMENT])
    assert page.url == filtered
    assert page.locator("#filter-state").input_value() == "待审核"


def test_idle_timeout_on_click_returns_to_page(site: Site, pages: Pages, live_server: LiveServer) -> None:
    """A click after 30 idle minutes leads to the login page, and login opens the page that was clicked."""
    server = live_server
    page = pages.open()
    log_in(page, server, site.departments[DEPARTMENT])
    open_filtered_records(page)

    server.move_clock(31 * 60)
    with page.expect_navigation():
        page.click("[data-testid=nav-upload]")
    assert "/login?" in page.url
    assert "reason=expired" in page.url
    assert "超过 30 分钟未操作" in page.get_by_test_id("notice").inner_text()
    submit_login(page, server, site.departments[DEPARTMENT])
    assert page.url == f"{server.base_url}/upload"
    assert page.get_by_test_id("upload-form").is_visible()


def test_department_review_page_is_forbidden(site: Site, pages: Pages, live_server: LiveServer) -> None:
    """A department has no review menu entry, and opening /review shows the 403 page in Chinese."""
    page = pages.open()
    log_in(page, live_server, site.departments[DEPARTMENT])
    assert page.get_by_test_id("nav-review").count() == 0

    response = page.goto("/review")
    assert response is not None and response.status == 403
    assert page.get_by_test_id("error-title").inner_text() == "没有权限"
    assert "只有本校的校级用户可以审核记录" in page.get_by_test_id("error").inner_text()
    suggestions = page.get_by_test_id("suggestions").inner_text()
    assert "实习记录" in suggestions
    assert "审核" not in suggestions


def test_accounts_page_creates_department_account(site: Site, pages: Pages, live_server: LiveServer) -> None:
    """The school creates a department account on the accounts page by choosing the department by name."""
    page = pages.open()
    log_in(page, live_server, site.school)
    page.click("[data-testid=nav-accounts]")
    page.select_option("#account-level", "department")
    options = page.locator("#account-department option").all_inner_texts()
    assert sorted(option.strip() for option in options) == sorted([DEPARTMENT, OTHER_DEPARTMENT])

    page.select_option("#account-department", OTHER_DEPARTMENT)
    page.fill("#account-phone", "13957010029")
    page.fill("#account-contact", "严老师")
    page.click("[data-testid=account-submit]")
    page.wait_for_url("**/accounts?**notice=created**")
    created = live_server.last_sms(purpose="activation", phone="13957010029")["account"]
    row = page.locator(f"[data-testid=account-row][data-account='{created}']")
    assert OTHER_DEPARTMENT in row.inner_text()


# --- Chinese text ----------------------------------------------------------------------------------


def test_chinese_is_drawn_with_cjk_font(pages: Pages, live_server: LiveServer) -> None:
    """Chinese headings use a CJK font's glyphs, and different characters draw different, non-empty shapes."""
    page = pages.open()
    page.goto("/login")
    heading = page.locator("h1")
    assert heading.inner_text() == "登录"

    # The fonts chromium used to draw the heading, as its DevTools report them.
    devtools = page.context.new_cdp_session(page)
    document = devtools.send("DOM.getDocument")
    node = devtools.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": "main h1"})
    devtools.send("CSS.enable")
    fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node["nodeId"]})["fonts"]
    cjk = [font for font in fonts if "CJK" in font["familyName"]]
    assert cjk, f"the heading was drawn without a CJK font: {fonts}"
    assert sum(font["glyphCount"] for font in cjk) == len("登录")

    # Each sample character, drawn in the page's font, has ink and a shape of its own.
    shapes = page.evaluate(
        """(samples) => {
            const font = getComputedStyle(document.querySelector("main h1")).fontFamily;
            return samples.map((text) => {
                const canvas = document.createElement("canvas");
                canvas.width = 48;
                canvas.height = 48;
                const context = canvas.getContext("2d");
                context.font = "40px " + font;
                context.fillStyle = "#000";
                context.textBaseline = "top";
                context.fillText(text, 4, 4);
                const pixels = context.getImageData(0, 0, 48, 48).data;
                let ink = 0;
                let signature = "";
                for (let index = 3; index < pixels.length; index += 4) {
                    ink += pixels[index] > 128 ? 1 : 0;
                    signature += pixels[index] > 128 ? "1" : "0";
                }
                return {text, ink, signature, width: context.measureText(text).width};
            });
        }""",
        list(GLYPH_SAMPLES),
    )
    for shape in shapes:
        assert shape["ink"] > 100, f"{shape['text']} was drawn with only {shape['ink']} dark pixels"
        assert shape["width"] > 30, f"{shape['text']} is {shape['width']} px wide at 40 px"
    signatures = {shape["signature"] for shape in shapes}
    assert len(signatures) == len(GLYPH_SAMPLES), "different characters were drawn as the same shape (boxes?)"
