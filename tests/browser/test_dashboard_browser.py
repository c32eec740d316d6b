"""The dashboard in real Chromium: a citizen answers on a phone, the open dashboard updates
its count and its chart by itself; screenshots of the result go to test-artifacts/."""
import time

import pytest
from playwright.sync_api import expect

from survey.core.questionnaire import load_survey_template

from ..conftest import PASSWORD
from .conftest import image_shown, screenshot

pytestmark = pytest.mark.browser
RETURNED = "document.querySelector('[data-figure=returned]').textContent.trim()"


def _open_survey(live_server) -> dict:
    questionnaire = load_survey_template("satisfaction-5")
    # A test answers in a second; the usual 10-second minimum would mark it invalid.
    questionnaire["settings"]["screening"] = {"min_seconds": None}
    return live_server.open_survey(questionnaire, title="2026 年度群众满意度调查", year=2026,
                                   series="群众满意度调查")


def _citizen_answers(page, live_server, survey, level: int, text: str) -> None:
    page.goto(f"{live_server.url}/s/{survey['token']}?via=qr&ch=窗口 3")
    for q in survey["questions"]:
        if q["show_if"]:  # 您不满意的原因: asked (and shown) only after 不满意 / 非常不满意
            if q["kind"] == "multiple" and level >= 3:
                page.locator(f"#question-{q['id']} label.choice").first.click()
        elif q["kind"] != "text":
            page.locator(f"#question-{q['id']} label.choice").nth(level).click()
    page.fill("textarea:visible", text)
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks")


def _chart_loaded(page, kind: str) -> bool:
    return image_shown(page.locator(f"img[data-chart={kind}]"))


def _wait_until(condition, seconds: float = 15) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.2)


def test_dashboard_count_and_chart_update_after_a_phone_answer(page, staff_page, live_server):
    live_server.app.config["DASHBOARD_REFRESH_SECONDS"] = 5
    survey = _open_survey(live_server)
    dashboard = f"{live_server.url}/staff/surveys/{survey['id']}/"
    staff_page.goto(dashboard)
    assert staff_page.evaluate(RETURNED) == "0"
    chart_before = staff_page.locator("img[data-chart=levels]").get_attribute("src")

    _citizen_answers(page, live_server, survey, 1, "希望增加自助服务终端")

    # No reload by the test: the page notices the new data and swaps in fresh figures.
    expect(staff_page.locator("[data-figure=returned]")).to_have_text("1", timeout=30_000)
    _wait_until(lambda: _chart_loaded(staff_page, "levels"))
    assert staff_page.locator("img[data-chart=levels]").get_attribute("src") != chart_before
    assert staff_page.locator("[data-figure=satisfaction_rate]").inner_text() == "100.00%"
    staff_page.reload()
    assert "希望增加自助服务终端" in staff_page.locator("#suggestions").inner_text()
    assert all(_chart_loaded(staff_page, kind) for kind in ("levels", "daily", "channels"))
    screenshot(staff_page, "dashboard-desktop")


def test_dashboard_is_usable_on_a_phone(page, live_server):
    survey = _open_survey(live_server)
    for level in (0, 1, 3):
        page.context.clear_cookies()
        _citizen_answers(page, live_server, survey, level, f"第{level}条意见")
    page.goto(f"{live_server.url}/staff/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/staff/surveys/{survey['id']}/")
    assert page.evaluate(RETURNED) == "3"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _chart_loaded(page, "levels")
    # the headline figure (满意率) is on the first screen, above the filter
    rate = page.locator("[data-figure=satisfaction_rate]").bounding_box()
    assert rate["y"] + rate["height"] <= 844
    assert rate["y"] < page.locator("form.filters").bounding_box()["y"]
    # charts are drawn for the phone: their text is shown at about its own size, not a third
    for kind in ("levels", "daily", "channels"):
        img = page.locator(f"img[data-chart={kind}]")
        assert "size=phone" in img.evaluate("i => i.currentSrc"), kind
        shown, drawn = img.evaluate("i => [i.clientWidth, i.naturalWidth]")
        assert shown / drawn > 0.8, (kind, shown, drawn)
    # an option table keeps its labels on one line (no 社/会/保/险 one character per line)
    cell = page.locator("table.data.compact td").first.bounding_box()
    assert cell["height"] < 60
    screenshot(page, "dashboard-phone")


def test_department_overview_table_scrolls_in_its_box_on_a_phone(page, live_server):
    """Nine columns on a 390 px phone: the page itself never scrolls sideways, the table
    scrolls inside its box, and no cell is squeezed to a character or two a line."""
    with live_server.app.app_context():
        from survey.store import accounts
        from survey.web.db import get_db
        dept = accounts.department_by_name(get_db(), "信阳市平桥区人力资源和社会保障局")["id"]
        accounts.create_user(get_db(), "bob", PASSWORD, dept, "staff")
    survey = _open_survey(live_server)
    live_server.open_survey(title="窗口服务满意度调查（大厅、社保、医保、就业窗口合并统计）")
    _citizen_answers(page, live_server, survey, 0, "很好")
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/staff/login")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{live_server.url}/staff/overview")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    box = page.locator(".table-scroll").first
    assert box.evaluate("b => b.scrollWidth > b.clientWidth")  # it scrolls, inside its box
    screenshot(page, "overview-phone")
    # the title keeps a readable width (it was squeezed to 2 characters, rows 250 px tall)
    for title in page.locator("table.overview td.title").all():
        box = title.bounding_box()
        assert box["width"] >= 150 and box["height"] < 130, box
    # every figure and header on one line
    for cell in page.locator("table.overview th, table.overview td:not(.title)").all():
        assert cell.evaluate("c => c.scrollHeight <= 2 * parseFloat(getComputedStyle(c).lineHeight) "
                             "|| getComputedStyle(c).whiteSpace == 'nowrap'"), cell.inner_text()
