"""A citizen on a phone: open the survey, answer, submit; and the missing-answer path."""
import pytest

from .conftest import screenshot


def _answer_all(page, survey, skip=None):
    for index, q in enumerate(survey["questions"]):
        if index == skip or q["kind"] == "text" or q["show_if"]:
            continue  # (a conditional question is not asked of a satisfied citizen)
        page.locator(f"#question-{q['id']} label.choice").nth(1).click()


def test_citizen_answers_on_a_phone_and_sees_thanks(page, live_server):
    survey = live_server.open_survey()
    page.goto(f"{live_server.url}/s/{survey['token']}?via=qr&ch=窗口 3")
    assert page.locator("h1").inner_text() == survey["title"]
    # readable at phone width: no horizontal scrolling
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    _answer_all(page, survey)
    page.fill("textarea:visible", "希望增加自助服务终端")
    screenshot(page, "public-form-phone")
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    assert "提交成功" in page.locator("h1").inner_text()
    screenshot(page, "public-thanks-phone")
    stored = live_server.db_value(
        "SELECT count(*) FROM responses WHERE survey_id = ? AND channel = '窗口 3' AND source = 'qr'",
        [survey["id"]])
    assert stored == 1


def test_missing_answer_shows_message_and_keeps_the_rest(page, live_server):
    survey = live_server.open_survey()
    page.goto(f"{live_server.url}/s/{survey['token']}")
    _answer_all(page, survey, skip=3)
    page.click("button.submit")
    page.wait_for_selector(".error-summary")
    missing = survey["questions"][3]
    assert "请选择一项" in page.locator(f"#question-{missing['id']} .error").inner_text()
    kept = page.locator(f"#question-{survey['questions'][0]['id']} input:checked")
    assert kept.count() == 1
    screenshot(page, "public-form-missing-answer")
    assert live_server.db_value("SELECT count(*) FROM responses") == 0
    # answering the missing one now submits
    page.locator(f"#question-{missing['id']} label.choice").first.click()
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    assert live_server.db_value("SELECT count(*) FROM responses") == 1


@pytest.mark.parametrize("javascript", [True, False])
def test_error_summary_takes_focus_and_links_to_the_question(browser, live_server, javascript):
    survey = live_server.open_survey()
    context = browser.new_context(java_script_enabled=javascript,
                                  viewport={"width": 390, "height": 740})
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{survey['token']}")
    _answer_all(page, survey, skip=3)
    page.click("button.submit")
    page.wait_for_selector(".error-summary")
    focused = page.evaluate("document.activeElement.id")
    missing = survey["questions"][3]
    links = page.locator(".error-summary a")
    texts = links.all_inner_texts()
    link = page.locator(f".error-summary a[href='#question-{missing['id']}']")
    link.click()
    target = page.evaluate("document.querySelector(':target') && document.querySelector(':target').id")
    in_view = page.locator(f"#question-{missing['id']}").evaluate(
        "e => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.top < innerHeight; }")
    context.close()
    assert focused == "errors"
    assert texts == [f"第4题：{missing['text']}"]
    assert target == f"question-{missing['id']}" and in_view


def test_form_works_with_javascript_disabled_and_no_cookies(browser, live_server):
    survey = live_server.open_survey()
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740})
    context.route("**/*", lambda route: route.continue_(headers={
        k: v for k, v in route.request.headers.items() if k.lower() != "cookie"}))
    page = context.new_page()
    page.goto(f"{live_server.url}/s/{survey['token']}")
    _answer_all(page, survey)
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    context.close()
    assert live_server.db_value("SELECT count(*) FROM responses") == 1
