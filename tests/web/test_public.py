"""The public form: every branch a citizen can reach."""
import re

import pytest

from survey.web.db import get_db

from ..conftest import full_answers

WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2148A Build/TP1A.220624.014; wv) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5197 "
             "MMWEBSDK/20230805 MMWEBID/1234 MicroMessenger/8.0.42.2460(0x28002A58) WeChat/arm64 "
             "Weixin NetType/4G Language/zh_CN ABI/arm64")


def ticket_of(html: str) -> str:
    match = re.search(r'name="ticket"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="ticket"', html)
    assert match, "form has no ticket"
    return match.group(1)


def open_form(client, survey, query=""):
    response = client.get(f"/s/{survey['token']}{query}", headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def count_responses(app, survey_id):
    with app.app_context():
        return get_db().execute("SELECT count(*) FROM responses WHERE survey_id = ?",
                                [survey_id]).fetchone()[0]


def test_form_shows_every_question_in_chinese(client, make_survey):
    survey = make_survey()
    html = open_form(client, survey)
    assert survey["title"] in html
    for q in survey["questions"]:
        assert q["text"] in html
    assert "提交问卷" in html
    assert "非常满意" in html and "非常不满意" in html


def test_valid_submission_is_stored_once_and_thanked(app, client, make_survey):
    survey = make_survey()
    html = open_form(client, survey, "?via=qr&ch=窗口3")
    data = {**full_answers(survey, 0, text="很好"), "ticket": ticket_of(html)}
    response = client.post(f"/s/{survey['token']}", data=data, headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/s/{survey['token']}/thanks")
    thanks = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "提交成功" in thanks
    with app.app_context():
        row = get_db().execute("SELECT source, channel FROM responses").fetchone()
        texts = [r[0] for r in get_db().execute("SELECT text FROM answers WHERE text IS NOT NULL")]
    assert tuple(row) == ("qr", "窗口3")
    assert texts == ["很好"]


def test_double_submit_of_one_form_stores_one_response(app, client, make_survey):
    survey = make_survey()
    data = {**full_answers(survey), "ticket": ticket_of(open_form(client, survey))}
    for _ in range(3):
        assert client.post(f"/s/{survey['token']}", data=data).status_code == 303
    assert count_responses(app, survey["id"]) == 1


def test_missing_answer_reshows_form_with_message_and_keeps_answers(app, client, make_survey):
    survey = make_survey()
    data = {**full_answers(survey, 1), "ticket": ticket_of(open_form(client, survey))}
    missing = survey["questions"][2]
    del data[f"q{missing['id']}"]
    response = client.post(f"/s/{survey['token']}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请选择一项" in html
    assert "您已填写的内容已保留" in html
    kept = survey["questions"][0]["options"][1]["id"]
    assert re.search(rf'checked[^>]*value="{kept}"|value="{kept}"[^>]*checked', html)
    assert count_responses(app, survey["id"]) == 0


def _messages_of(html: str, question_id: int) -> list[str]:
    fieldset = re.search(rf'<fieldset[^>]*id="question-{question_id}".*?</fieldset>', html, re.S)
    assert fieldset, f"question {question_id} not on the page"
    return re.findall(r'<p class="error"[^>]*>(.*?)</p>', fieldset.group(0), re.S)


def test_each_wrong_question_has_one_short_message_and_a_summary_link(client, make_survey):
    survey = make_survey()
    data = {**full_answers(survey, 1), "ticket": ticket_of(open_form(client, survey))}
    skipped, forged = survey["questions"][2], survey["questions"][4]
    del data[f"q{skipped['id']}"]
    data[f"q{forged['id']}"] = "abc"
    text_q = next(q for q in survey["questions"] if q["kind"] == "text" and not q["show_if"])
    data[f"q{text_q['id']}"] = "长" * 1001
    html = client.post(f"/s/{survey['token']}", data=data).get_data(as_text=True)
    assert _messages_of(html, skipped["id"]) == ["请选择一项。"]
    assert _messages_of(html, forged["id"]) == ["请从列出的选项中选择。"]
    assert _messages_of(html, text_q["id"]) == ["请控制在 1000 字以内。"]
    for q in survey["questions"]:
        if q["id"] not in (skipped["id"], forged["id"], text_q["id"]):
            assert _messages_of(html, q["id"]) == []
    summary = re.search(r'<div class="error-summary"[^>]*>.*?</div>', html, re.S).group(0)
    assert 'tabindex="-1"' in summary and "autofocus" in summary
    assert "提交未成功，请检查以下 3 处：" in summary
    numbers = {q["id"]: n for n, q in enumerate(survey["questions"], 1)}
    links = re.findall(r'<a href="#question-(\d+)">第(\d+)题：([^<]*)</a>', summary)
    assert [(int(i), int(n)) for i, n, _ in links] == sorted(
        (q["id"], numbers[q["id"]]) for q in (skipped, forged, text_q))
    assert "长" * 1001 in html  # what the citizen typed is kept


def test_required_text_question_asks_to_be_filled(app, client, make_survey):
    survey = make_survey()
    text_q = next(q for q in survey["questions"] if q["kind"] == "text" and not q["show_if"])
    with app.app_context():
        get_db().execute("UPDATE questions SET required = 1 WHERE id = ?", [text_q["id"]])
    data = {**full_answers(survey), "ticket": ticket_of(open_form(client, survey))}
    html = client.post(f"/s/{survey['token']}", data=data).get_data(as_text=True)
    assert _messages_of(html, text_q["id"]) == ["请填写此题。"]


@pytest.mark.parametrize("bad", ["999999", "abc", "", "-1"])
def test_invalid_option_is_rejected(app, client, make_survey, bad):
    survey = make_survey()
    data = {**full_answers(survey), "ticket": ticket_of(open_form(client, survey))}
    data[f"q{survey['questions'][0]['id']}"] = bad
    response = client.post(f"/s/{survey['token']}", data=data)
    assert response.status_code == 422
    assert count_responses(app, survey["id"]) == 0


def test_option_of_another_question_is_rejected(app, client, make_survey):
    survey = make_survey()
    data = {**full_answers(survey), "ticket": ticket_of(open_form(client, survey))}
    first, second = survey["questions"][0], survey["questions"][1]
    data[f"q{first['id']}"] = str(second["options"][0]["id"])
    assert client.post(f"/s/{survey['token']}", data=data).status_code == 422
    assert count_responses(app, survey["id"]) == 0


@pytest.mark.parametrize("ticket", [None, "", "forged.ticket.value", "x" * 5000])
def test_missing_or_forged_ticket_is_refused_and_answers_kept(app, client, make_survey, ticket):
    survey = make_survey()
    data = full_answers(survey, 0)
    if ticket is not None:
        data["ticket"] = ticket
    response = client.post(f"/s/{survey['token']}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "页面已过期" in html
    assert count_responses(app, survey["id"]) == 0
    # a fresh ticket in the re-shown form lets the citizen submit at once
    data["ticket"] = ticket_of(html)
    assert client.post(f"/s/{survey['token']}", data=data).status_code == 303


def test_a_ticket_from_another_survey_is_refused_and_answers_kept(app, client, make_survey):
    first, second = make_survey(title="问卷甲"), make_survey(title="问卷乙")
    data = {**full_answers(second, 0, text="跨问卷的意见"), "ticket": ticket_of(open_form(client, first))}
    response = client.post(f"/s/{second['token']}", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "页面已过期" in html and "跨问卷的意见" in html
    assert count_responses(app, second["id"]) == 0 and count_responses(app, first["id"]) == 0
    data["ticket"] = ticket_of(html)  # the re-shown form's ticket is this survey's own
    assert client.post(f"/s/{second['token']}", data=data).status_code == 303
    assert count_responses(app, second["id"]) == 1


def test_a_ticket_signed_before_tickets_named_their_survey_is_refused(app, client, make_survey):
    from survey.web.forms.public import _serializer
    survey = make_survey()
    with app.test_request_context("/"):
        old = _serializer().dumps({"n": "old-nonce", "t": 0.0, "s": "web", "c": ""})
    response = client.post(f"/s/{survey['token']}", data={**full_answers(survey), "ticket": old})
    assert response.status_code == 422 and "页面已过期" in response.get_data(as_text=True)
    assert count_responses(app, survey["id"]) == 0


def test_too_long_text_is_rejected_with_message(app, client, make_survey):
    survey = make_survey()
    data = {**full_answers(survey, text="长" * 1001), "ticket": ticket_of(open_form(client, survey))}
    html = client.post(f"/s/{survey['token']}", data=data).get_data(as_text=True)
    assert "1000 字以内" in html
    assert count_responses(app, survey["id"]) == 0


def test_submission_works_without_cookies(app, make_survey):
    survey = make_survey()
    client = app.test_client(use_cookies=False)
    html = open_form(client, survey)
    data = {**full_answers(survey), "ticket": ticket_of(html)}
    response = client.post(f"/s/{survey['token']}", data=data, headers={"User-Agent": WECHAT_UA})
    assert response.status_code == 303
    assert client.post(f"/s/{survey['token']}", data=data).status_code == 303
    assert count_responses(app, survey["id"]) == 1


def test_one_per_device_policy_refuses_second_form(app, client, make_survey):
    survey = make_survey(dedupe_policy="device_cookie")
    for _ in range(2):
        data = {**full_answers(survey), "ticket": ticket_of(open_form(client, survey))}
        response = client.post(f"/s/{survey['token']}", data=data)
    assert "您已在本设备上提交过本问卷" in response.get_data(as_text=True)
    assert count_responses(app, survey["id"]) == 1


def test_same_device_without_policy_is_stored_but_screened_invalid(app, client, make_survey):
    survey = make_survey()
    for _ in range(2):
        data = {**full_answers(survey), "ticket": ticket_of(open_form(client, survey))}
        assert client.post(f"/s/{survey['token']}", data=data).status_code == 303
    with app.app_context():
        reasons = [r[0] for r in get_db().execute("SELECT reasons FROM screening ORDER BY 1")]
    assert count_responses(app, survey["id"]) == 2
    assert any("duplicate_device" in r for r in reasons)


@pytest.mark.parametrize("status, text", [("draft", "尚未开放"), ("closed", "不在收集时间内")])
def test_closed_or_draft_survey_says_so_and_stores_nothing(app, client, make_survey, status, text):
    survey = make_survey(status=status)
    page = client.get(f"/s/{survey['token']}").get_data(as_text=True)
    assert text in page
    response = client.post(f"/s/{survey['token']}", data=full_answers(survey))
    assert text in response.get_data(as_text=True)
    assert count_responses(app, survey["id"]) == 0


@pytest.mark.parametrize("token", ["nope", "x" * 500, "%00", "..%2F..%2Fetc"])
def test_unknown_token_is_chinese_404(client, token):
    response = client.get(f"/s/{token}")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True)


def test_oversized_request_is_refused_not_crashed(client, make_survey):
    survey = make_survey()
    response = client.post(f"/s/{survey['token']}", data={"x": "a" * 400_000})
    assert response.status_code == 413
    assert "过大" in response.get_data(as_text=True)


def test_page_loads_no_third_party_resource_and_has_no_inline_script(client, make_survey):
    survey = make_survey()
    html = open_form(client, survey)
    assert not re.search(r'(src|href)="(https?:)?//', html)
    # the only script is the site's own file (conditional questions), nothing inline
    assert re.findall(r"<script[^>]*>(.*?)</script>", html, re.S) == [""]
    assert re.findall(r"<script ([^>]*)>", html) == ['src="/static/show_if.js" defer']
    response = client.get(f"/s/{survey['token']}")
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_raw_ip_is_never_stored(app, make_survey):
    survey = make_survey()
    client = app.test_client()
    env = {"REMOTE_ADDR": "203.0.113.77"}
    html = client.get(f"/s/{survey['token']}", environ_base=env).get_data(as_text=True)
    data = {**full_answers(survey), "ticket": ticket_of(html)}
    assert client.post(f"/s/{survey['token']}", data=data, environ_base=env).status_code == 303
    with app.app_context():
        db = get_db()
        dump = "\n".join(db.conn.iterdump())
    assert "203.0.113.77" not in dump
