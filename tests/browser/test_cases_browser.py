"""A citizen on a phone leaves a 差评 with a call-back number; staff work the case to closing."""

from .conftest import screenshot

VERY_DISSATISFIED = 4


def _citizen_complains(page, live_server, survey):
    page.goto(f"{live_server.url}/s/{survey['token']}?via=qr&ch=窗口 3")
    for q in survey["questions"]:
        if q["kind"] == "scale":
            page.locator(f"#question-{q['id']} label.choice").nth(VERY_DISSATISFIED).click()
        elif q["kind"] == "multiple":  # 您不满意的原因: shown once the headline is answered
            page.locator(f"#question-{q['id']} label.choice").first.click()
    page.fill("textarea:visible", "排队两个小时，取号机坏了没人管")
    page.fill("input[name=callback_phone]", "13800138000")
    page.check("input[name=callback_consent]")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.locator("#callback").scroll_into_view_if_needed()
    screenshot(page, "cases-citizen-callback-phone")
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    screenshot(page, "cases-citizen-thanks-phone")


def _record(staff_page, action, text):
    form = staff_page.locator(f"#step-{action}")
    form.locator("textarea").fill(text)
    form.locator("button[type=submit]").click()
    staff_page.wait_for_selector(".flash")


def test_citizen_complaint_is_followed_up_and_closed(page, staff_page, live_server):
    survey = live_server.open_survey()
    _citizen_complains(page, live_server, survey)
    case_id = live_server.db_value("SELECT id FROM cases WHERE survey_id = ?", [survey["id"]])
    assert live_server.db_value("SELECT phone FROM callback_contacts WHERE case_id = ?",
                                [case_id]) == "13800138000"

    staff_page.goto(f"{live_server.url}/staff/cases")
    row = staff_page.locator("table.cases tbody tr").first
    assert "窗口 3" in row.inner_text() and "待处理" in row.inner_text()
    screenshot(staff_page, "cases-staff-list")
    row.locator("a").first.click()
    staff_page.wait_for_url(f"**/staff/cases/{case_id}")
    assert "排队两个小时" in staff_page.inner_text("main")
    assert "13800138000" in staff_page.inner_text(".phone")
    staff_page.locator("#step-assign button[type=submit]").click()
    staff_page.wait_for_selector(".flash")
    _record(staff_page, "callback", "已电话联系群众，说明情况并致歉")
    _record(staff_page, "cause", "取号机故障未及时报修")
    _record(staff_page, "rectify", "当天修复取号机，建立每日巡检制度")
    _record(staff_page, "reply", "已答复群众：取号机已修复，感谢监督")
    staff_page.locator("#step-close button[type=submit]").click()
    staff_page.wait_for_selector(".flash")
    assert "已办结" in staff_page.inner_text("h1")
    screenshot(staff_page, "cases-staff-closed")
    assert live_server.db_value("SELECT status FROM cases WHERE id = ?", [case_id]) == "closed"
    assert live_server.db_value("SELECT count(*) FROM case_events WHERE case_id = ?",
                                [case_id]) == 7

    staff_page.goto(f"{live_server.url}/staff/cases?status=all")
    figures = staff_page.locator("table.case-figures tr.total").inner_text()
    assert figures.count("100.00%") == 3  # 回访率, 整改率, 按期办结率
    screenshot(staff_page, "cases-staff-figures")
