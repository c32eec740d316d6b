"""一事一评 on a phone with JavaScript: the reason question appears in place after 不满意, hides
again (and sends nothing) after 满意, keeps the focus where the citizen is, and is submitted."""

from .conftest import screenshot

DISSATISFIED, VERY_DISSATISFIED, SATISFIED = 3, 4, 1


def _fieldset(page, question):
    return page.locator(f"#question-{question['id']}")


def _disabled(page, question) -> bool:
    return page.evaluate(
        "id => [...document.querySelectorAll(`#question-${id} input, #question-${id} textarea`)]"
        ".every(input => input.matches(':disabled'))", question["id"])


def test_reason_question_shows_and_hides_in_place_and_is_submitted(page, live_server):
    survey = live_server.open_survey()
    questions = survey["questions"]
    headline, reasons, other = questions[7], questions[8], questions[9]
    page.goto(f"{live_server.url}/s/{survey['token']}?via=qr")
    assert _fieldset(page, reasons).is_hidden() and _disabled(page, reasons)
    assert _fieldset(page, other).is_hidden()
    for q in questions[:7]:
        page.locator(f"#question-{q['id']} label.choice").nth(SATISFIED).click()

    headline_choice = _fieldset(page, headline).locator("input").nth(DISSATISFIED)
    headline_choice.check()
    assert _fieldset(page, reasons).is_visible() and not _disabled(page, reasons)
    assert page.evaluate("document.activeElement.id") == headline_choice.get_attribute("id")
    assert "已显示第9题" in page.locator("[role=status]").inner_text()
    assert reasons["id"] in [int(i.split("-")[1]) for i in (
        headline_choice.get_attribute("aria-controls") or "").split()]

    _fieldset(page, headline).locator("input").nth(SATISFIED).check()
    assert _fieldset(page, reasons).is_hidden() and _disabled(page, reasons)

    _fieldset(page, headline).locator("input").nth(VERY_DISSATISFIED).check()
    _fieldset(page, reasons).locator("label.choice").first.click()
    _fieldset(page, reasons).locator("label.choice").last.click()  # 其他
    assert _fieldset(page, other).is_visible()
    _fieldset(page, other).locator("textarea").fill("取号机坏了")
    screenshot(page, "public-form-reason-shown")
    page.click("button.submit")
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    stored = live_server.db_value(
        "SELECT group_concat(coalesce(o.label, a.text), '|') FROM answers a "
        "LEFT JOIN options o ON o.id = a.option_id WHERE a.question_id IN (?, ?)",
        [reasons["id"], other["id"]])
    assert sorted(stored.split("|")) == sorted(["等候时间长", "其他", "取号机坏了"])


def test_a_reason_chosen_then_hidden_is_not_sent(page, live_server):
    survey = live_server.open_survey()
    questions = survey["questions"]
    headline, reasons = questions[7], questions[8]
    page.goto(f"{live_server.url}/s/{survey['token']}")
    for q in questions[:8]:
        page.locator(f"#question-{q['id']} label.choice").nth(DISSATISFIED).click()
    _fieldset(page, reasons).locator("label.choice").first.click()
    _fieldset(page, headline).locator("input").nth(SATISFIED).check()  # changed their mind
    with page.expect_request(lambda request: request.method == "POST") as posted:
        page.click("button.submit")
    assert f"q{reasons['id']}=" not in posted.value.post_data  # disabled: never sent
    assert f"q{headline['id']}=" in posted.value.post_data
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    assert live_server.db_value("SELECT count(*) FROM answers WHERE question_id = ?",
                                [reasons["id"]]) == 0
