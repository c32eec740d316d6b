"""Follow-up cases end to end: opened with the response (and only then), the call-back
consent, retention, permissions, working a case, the list, the CLI."""
import datetime as dt
import json

import pytest

from survey.core.screening import Verdict
from survey.store import cases as case_store
from survey.store import surveys as survey_store
from survey.store.responses import Submission, record_response
from survey.store.util import iso, utc_now
from survey.web.db import get_db

from ..conftest import full_answers, with_reasons
from .test_public import open_form, ticket_of

NOT_SATISFIED, VERY = 3, 4
PHONE = "138 0013 8000"
STORED_PHONE = "13800138000"


def submit(client, survey, level, query="", **extra):
    html = open_form(client, survey, query)
    data = {**full_answers(survey, level, text="等了两个小时"), "ticket": ticket_of(html), **extra}
    return client.post(f"/s/{survey['token']}", data=data)


def rows(app, sql, params=()):
    with app.app_context():
        return [tuple(r) for r in get_db().execute(sql, params).fetchall()]


def set_case_settings(app, survey, **settings):
    with app.app_context():
        db = get_db()
        db.execute("UPDATE surveys SET settings = json_set(settings, '$.cases', json(?)) "
                   "WHERE id = ?", [json.dumps(settings), survey["id"]])
        fresh = survey_store.get_survey(db, survey["id"])
    return {**fresh, "questions": survey["questions"]}


def store_response(app, survey, level, when=None, source="paper", nonce="n1"):
    with app.app_context():
        db = get_db()
        answers = {q["id"]: [q["options"][level]["id"]] for q in survey["questions"]
                   if q["kind"] == "scale"}
        sub = Submission(answers=with_reasons(survey["questions"], answers), nonce=nonce, source=source, channel="窗口 2",
                         received_at=when or utc_now())
        return record_response(db, survey_store.get_survey(db, survey["id"]),
                               survey["questions"], sub)[0]


# --- opening cases ---------------------------------------------------------------------------

@pytest.mark.parametrize("level, opens", [(0, False), (1, False), (2, False),
                                          (NOT_SATISFIED, True), (VERY, True)])
def test_default_setting_opens_a_case_only_for_dissatisfied_answers(app, client, make_survey,
                                                                    level, opens):
    survey = make_survey()
    assert submit(client, survey, level, "?ch=窗口 3").status_code == 303
    found = rows(app, "SELECT channel, status, survey_id FROM cases")
    assert found == ([("窗口 3", "open", survey["id"])] if opens else [])


def test_one_case_per_response_even_on_a_double_submit(app, client, make_survey):
    survey = make_survey()
    data = {**full_answers(survey, VERY), "ticket": ticket_of(open_form(client, survey))}
    for _ in range(3):
        client.post(f"/s/{survey['token']}", data=data)
    assert rows(app, "SELECT count(*), count(DISTINCT response_id) FROM cases") == [(1, 1)]


def test_a_second_case_for_one_response_is_refused_by_the_schema(app, make_survey):
    survey = make_survey()
    response_id = store_response(app, survey, VERY)
    with app.app_context(), pytest.raises(Exception, match="UNIQUE"):
        db = get_db()
        case_store.open_case_if_dissatisfied(
            db, survey_store.get_survey(db, survey["id"]), survey["questions"], response_id,
            [{"question_id": survey["questions"][0]["id"],
              "option_id": survey["questions"][0]["options"][VERY]["id"]}], Verdict(True, ()))


@pytest.mark.parametrize("settings, level, opens", [
    ({"levels": ["非常不满意"]}, NOT_SATISFIED, False),
    ({"levels": ["非常不满意"]}, VERY, True),
    ({"levels": ["基本满意", "不满意", "非常不满意"]}, 2, True),
    ({"enabled": False}, VERY, False),
])
def test_case_creation_follows_the_survey_setting(app, client, make_survey, settings, level,
                                                   opens):
    survey = set_case_settings(app, make_survey(), **settings)
    submit(client, survey, level)
    assert len(rows(app, "SELECT id FROM cases")) == int(opens)


def test_question_scope_setting(app, client, make_survey):
    survey = make_survey()
    first, second = survey["questions"][0], survey["questions"][1]
    survey = set_case_settings(app, survey, question_ids=[second["id"]])
    data = {**full_answers(survey, 0), "ticket": ticket_of(open_form(client, survey))}
    data[f"q{first['id']}"] = str(first["options"][VERY]["id"])
    client.post(f"/s/{survey['token']}", data=data)
    assert rows(app, "SELECT count(*) FROM cases") == [(0,)]
    data = {**full_answers(survey, 0), "ticket": ticket_of(open_form(client, survey))}
    data[f"q{second['id']}"] = str(second["options"][VERY]["id"])
    client.post(f"/s/{survey['token']}", data=data)
    triggers = json.loads(rows(app, "SELECT triggers FROM cases")[0][0])
    assert [t["question_id"] for t in triggers] == [second["id"]]


def test_case_creation_is_atomic_with_the_response(app, make_survey, monkeypatch):
    survey = make_survey()

    def broken(*args, **kwargs):
        raise RuntimeError("calendar unavailable")
    monkeypatch.setattr(case_store, "department_calendar", broken)
    with pytest.raises(RuntimeError):
        store_response(app, survey, VERY)
    for table in ("responses", "answers", "screening", "response_tallies", "cases"):
        assert rows(app, f"SELECT count(*) FROM {table}") == [(0,)], table
    monkeypatch.undo()
    store_response(app, survey, VERY)
    assert rows(app, "SELECT count(*) FROM cases") == [(1,)]


def test_paper_entries_and_screened_out_responses_open_cases_too(app, client, make_survey):
    survey = make_survey()
    store_response(app, survey, VERY, source="paper")
    html = open_form(client, survey)
    data = {**full_answers(survey, VERY), "ticket": ticket_of(html)}
    client.post(f"/s/{survey['token']}", data=data)  # within seconds: screened out as too fast
    found = rows(app, "SELECT c.source, c.response_valid, s.valid FROM cases c "
                      "JOIN screening s ON s.response_id = c.response_id ORDER BY c.id")
    assert found == [("paper", 1, 1), ("web", 0, 0)]


@pytest.mark.parametrize("received, due", [
    ("2024-03-08T10:00:00+08:00", "2024-03-15"),  # across a weekend
    ("2024-09-30T10:00:00+08:00", "2024-10-12"),  # across 国庆, ending on a worked Saturday
    ("2024-09-27T23:30:00+08:00", "2024-10-10"),  # the worked Sunday 29 Sep counts
])
def test_due_date_in_working_days(app, make_survey, received, due):
    survey = make_survey()
    store_response(app, survey, VERY, when=dt.datetime.fromisoformat(received))
    assert rows(app, "SELECT due_day FROM cases") == [(due,)]


# --- the call-back consent -------------------------------------------------------------------

def test_callback_block_is_shown_with_consent_text(client, make_survey):
    html = open_form(client, make_survey())
    assert 'name="callback_phone"' in html and 'name="callback_consent"' in html
    assert "测试部门" in html and "90 天，到期自动删除" in html and "回访电话除外" in html


def test_callback_block_hidden_when_switched_off(app, client, make_survey):
    survey = set_case_settings(app, make_survey(), callback=False)
    html = open_form(client, survey)
    assert "callback_phone" not in html
    submit(client, survey, VERY, callback_phone=PHONE, callback_consent="y")
    assert rows(app, "SELECT count(*) FROM callback_contacts") == [(0,)]
    assert rows(app, "SELECT count(*) FROM cases") == [(1,)]


def test_without_consent_no_number_is_stored_and_the_form_says_why(app, client, make_survey):
    survey = make_survey()
    response = submit(client, survey, VERY, callback_phone=PHONE)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请勾选下方的同意说明" in html and "回访电话需要修改" in html
    assert PHONE in html  # what was typed is kept
    kept = survey["questions"][0]["options"][VERY]["id"]
    assert f'value="{kept}"' in html and "checked" in html
    assert rows(app, "SELECT count(*) FROM responses") == [(0,)]
    with app.app_context():
        assert STORED_PHONE not in "\n".join(get_db().conn.iterdump())


@pytest.mark.parametrize("extra, message", [
    ({"callback_phone": "12345", "callback_consent": "y"}, "请填写正确的手机号码"),
    ({"callback_phone": "", "callback_consent": "y"}, "请填写电话号码"),
])
def test_bad_phone_input_is_explained(app, client, make_survey, extra, message):
    response = submit(client, make_survey(), VERY, **extra)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert rows(app, "SELECT count(*) FROM responses") == [(0,)]


def test_consented_number_is_kept_apart_from_answers_and_chain(app, client, make_survey):
    survey = make_survey()
    assert submit(client, survey, VERY, callback_phone=PHONE,
                  callback_consent="y").status_code == 303
    contact = rows(app, "SELECT c.phone, c.consent_text, k.callback_requested FROM "
                        "callback_contacts c JOIN cases k ON k.id = c.case_id")
    assert contact[0][0] == STORED_PHONE and "90 天" in contact[0][1] and contact[0][2] == 1
    with app.app_context():
        db = get_db()
        for table in ("responses", "answers", "screening", "audit_log", "case_events"):
            dump = json.dumps([list(r) for r in db.execute(f"SELECT * FROM {table}")],
                              ensure_ascii=False)
            assert STORED_PHONE not in dump and PHONE not in dump, table


def test_consented_number_with_a_satisfied_answer_is_not_stored(app, client, make_survey):
    submit(client, make_survey(), 0, callback_phone=PHONE, callback_consent="y")
    assert rows(app, "SELECT count(*) FROM responses") == [(1,)]
    with app.app_context():
        assert STORED_PHONE not in "\n".join(get_db().conn.iterdump())


def _case_with_contact(app, client, survey):
    submit(client, survey, VERY, callback_phone=PHONE, callback_consent="y")
    return rows(app, "SELECT id FROM cases")[0][0]


def test_retention_purge_by_cli(app, client, runner, make_survey):
    case_id = _case_with_contact(app, client, make_survey())
    assert "已删除 0 个" in runner.invoke(args=["purge-contacts"]).output
    with app.app_context():
        get_db().execute("UPDATE callback_contacts SET expires_at = ?",
                         [iso(utc_now() - dt.timedelta(seconds=1))])
    result = runner.invoke(args=["purge-contacts"])
    assert result.exit_code == 0 and "已删除 1 个" in result.output
    assert rows(app, "SELECT count(*) FROM callback_contacts") == [(0,)]
    assert rows(app, "SELECT action FROM case_events WHERE case_id = ? ORDER BY id",
                [case_id])[-1] == ("contact_purged",)
    with app.app_context():
        assert STORED_PHONE not in "\n".join(get_db().conn.iterdump())


def test_retention_period_comes_from_config(app, client, make_survey):
    app.config["CALLBACK_RETENTION_DAYS"] = 30
    _case_with_contact(app, client, make_survey())
    consented, expires = rows(app, "SELECT consented_at, expires_at FROM callback_contacts")[0]
    gap = dt.datetime.fromisoformat(expires) - dt.datetime.fromisoformat(consented)
    assert gap == dt.timedelta(days=30)
    with app.app_context():
        assert case_store.purge_expired_contacts(get_db(), utc_now() + dt.timedelta(days=29)) == 0
        assert case_store.purge_expired_contacts(get_db(), utc_now() + dt.timedelta(days=31)) == 1


def test_expired_number_is_purged_when_a_case_page_is_viewed(app, client, auth, make_survey):
    case_id = _case_with_contact(app, client, make_survey())
    auth.login("alice")
    assert STORED_PHONE in client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    with app.app_context():
        get_db().execute("UPDATE callback_contacts SET expires_at = ?",
                         [iso(utc_now() - dt.timedelta(days=1))])
    html = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert STORED_PHONE not in html and "已按保存期限删除" in html
    assert rows(app, "SELECT count(*) FROM callback_contacts") == [(0,)]


# --- staff: permissions and working a case -----------------------------------------------------

def _open_case(app, client, make_survey, **kwargs):
    survey = make_survey(**kwargs)
    submit(client, survey, VERY, "?ch=窗口 1")
    return rows(app, "SELECT id FROM cases ORDER BY id DESC LIMIT 1")[0][0]


def step(client, auth, case_id, action, **data):
    token = auth.csrf(f"/staff/cases/{case_id}")
    return client.post(f"/staff/cases/{case_id}/{action}", data={"csrf_token": token, **data})


def status_of(app, case_id):
    return rows(app, "SELECT status FROM cases WHERE id = ?", [case_id])[0][0]


def test_case_page_shows_answers_suggestion_channel_and_due_date(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("bob")
    html = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    due = rows(app, "SELECT due_day FROM cases")[0][0]
    for text in ("等了两个小时", "窗口 1", due, "非常不满意", "5 个工作日", "自动立案"):
        assert text in html, text


def test_other_departments_get_404_everywhere(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("mallory")
    assert client.get(f"/staff/cases/{case_id}").status_code == 404
    token = auth.csrf("/staff/cases")
    response = client.post(f"/staff/cases/{case_id}/cause",
                           data={"csrf_token": token, "text": "篡改"})
    assert response.status_code == 404
    assert f"#{case_id}" not in client.get("/staff/cases?status=all").get_data(as_text=True)
    assert rows(app, "SELECT cause FROM cases") == [(None,)]


def test_staff_pages_need_login(client):
    for path in ("/staff/cases", "/staff/cases/1", "/staff/cases/workdays"):
        assert client.get(path).status_code == 302


def test_post_without_csrf_token_is_refused(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("alice")
    response = client.post(f"/staff/cases/{case_id}/cause", data={"text": "原因"})
    assert response.status_code == 400
    assert rows(app, "SELECT cause FROM cases") == [(None,)]


def test_work_a_case_to_closing_with_every_step_in_the_history(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("bob")
    bob = rows(app, "SELECT id FROM users WHERE username = 'bob'")[0][0]
    assert step(client, auth, case_id, "assign", assignee_id=bob).status_code == 303
    for action, text in (("cause", "高峰期窗口不足"), ("rectify", "增开两个窗口"),
                         ("reply", "已增开窗口并致歉")):
        assert step(client, auth, case_id, action, text=text).status_code == 303
    assert step(client, auth, case_id, "close").status_code == 303
    assert status_of(app, case_id) == "closed"
    history = rows(app, "SELECT e.action, u.username, e.status_to FROM case_events e "
                        "LEFT JOIN users u ON u.id = e.user_id WHERE case_id = ? ORDER BY e.id",
                   [case_id])
    assert history == [("open", None, "open"), ("assign", "bob", "in_progress"),
                       ("cause", "bob", "in_progress"), ("rectify", "bob", "in_progress"),
                       ("reply", "bob", "in_progress"), ("close", "bob", "closed")]
    html = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert "增开两个窗口" in html and "已办结" in html and "办理</h2>" not in html


def test_closing_too_early_says_what_is_missing(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("bob")
    step(client, auth, case_id, "cause", text="窗口不足")
    response = step(client, auth, case_id, "close")
    assert response.status_code == 422
    assert "办结前请先记录：整改措施、答复" in response.get_data(as_text=True)
    assert status_of(app, case_id) == "in_progress"


def test_empty_step_is_refused_next_to_the_field(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("bob")
    response = step(client, auth, case_id, "rectify", text="  ")
    assert response.status_code == 422 and "请填写此项" in response.get_data(as_text=True)
    assert rows(app, "SELECT count(*) FROM case_events WHERE case_id = ?", [case_id]) == [(1,)]


@pytest.mark.parametrize("action", ["delete", "reopen"])
def test_unknown_steps_are_404(app, client, auth, make_survey, action):
    case_id = _open_case(app, client, make_survey)
    auth.login("alice")
    assert step(client, auth, case_id, action).status_code == 404


def test_assigning_to_another_departments_user_is_refused(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    mallory = rows(app, "SELECT id FROM users WHERE username = 'mallory'")[0][0]
    auth.login("alice")
    assert step(client, auth, case_id, "assign", assignee_id=mallory).status_code == 422
    assert rows(app, "SELECT assignee_id FROM cases") == [(None,)]


def test_consented_case_needs_a_callback_before_closing(app, client, auth, make_survey):
    case_id = _case_with_contact(app, client, make_survey())
    auth.login("alice")
    for action in ("cause", "rectify", "reply"):
        step(client, auth, case_id, action, text="已处理")
    assert "回访" in step(client, auth, case_id, "close").get_data(as_text=True)
    assert step(client, auth, case_id, "callback", text="电话联系，群众认可").status_code == 303
    assert step(client, auth, case_id, "close").status_code == 303


def test_number_is_visible_only_to_the_assignee_and_admins(app, client, auth, make_survey):
    case_id = _case_with_contact(app, client, make_survey())
    auth.login("bob")
    html = client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    assert STORED_PHONE not in html and "仅承办人和部门管理员可见" in html
    auth.login("alice")
    bob = rows(app, "SELECT id FROM users WHERE username = 'bob'")[0][0]
    step(client, auth, case_id, "assign", assignee_id=bob)
    assert STORED_PHONE in client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    auth.login("bob")
    assert STORED_PHONE in client.get(f"/staff/cases/{case_id}").get_data(as_text=True)
    # every display of the number is logged: alice twice (step form, page), bob once
    assert rows(app, "SELECT count(*) FROM audit_log WHERE action = 'case.contact_view'") == [(3,)]


def test_appeal_needs_an_admin_to_confirm(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("bob")
    assert step(client, auth, case_id, "appeal", appeal_kind="malicious",
                text="同一号码一分钟内提交二十次").status_code == 303
    assert status_of(app, case_id) == "appeal_pending"
    response = step(client, auth, case_id, "confirm_appeal")
    assert response.status_code == 403
    assert "只有部门管理员" in response.get_data(as_text=True)
    assert step(client, auth, case_id, "cause", text="x").status_code == 422
    assert status_of(app, case_id) == "appeal_pending"
    auth.login("alice")
    assert step(client, auth, case_id, "confirm_appeal", text="属实").status_code == 303
    assert status_of(app, case_id) == "dismissed"
    assert step(client, auth, case_id, "reply", text="x").status_code == 422


def test_rejected_appeal_returns_the_case_to_work(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("alice")
    step(client, auth, case_id, "appeal", appeal_kind="mistaken", text="误选")
    assert step(client, auth, case_id, "reject_appeal", text="").status_code == 422
    assert step(client, auth, case_id, "reject_appeal", text="群众确有不满").status_code == 303
    assert rows(app, "SELECT status, appeal_kind FROM cases") == [("in_progress", None)]


# --- the list, figures and CLI -------------------------------------------------------------------

def test_list_puts_overdue_first_and_filters(app, client, auth, make_survey):
    survey = make_survey()
    for channel in ("窗口 1", "窗口 2", "窗口 3"):
        submit(client, survey, VERY, f"?ch={channel}")
    with app.app_context():
        get_db().execute("UPDATE cases SET due_day = '2020-01-06' WHERE channel = '窗口 3'")
    auth.login("bob")
    html = client.get("/staff/cases").get_data(as_text=True)
    table = html[html.index('<table class="data cases">'):]
    assert table.index("窗口 3") < table.index("窗口 1") < table.index("</table>")
    assert "已逾期" in table
    only = client.get("/staff/cases?channel=窗口 2").get_data(as_text=True)
    assert "案件（1 件）" in only
    overdue = client.get("/staff/cases?status=overdue").get_data(as_text=True)
    assert "案件（1 件）" in overdue
    closed = client.get(f"/staff/cases?status=closed&survey={survey['id']}").get_data(as_text=True)
    assert "案件（0 件）" in closed


@pytest.mark.parametrize("query", ["?status=nonsense", "?page=abc", "?survey=x&channel=" + "x" * 500,
                                   "?page=99999", "?page=" + "9" * 30, "?survey=" + "9" * 30,
                                   "?survey=²"])
def test_odd_list_queries_do_not_crash(client, auth, query):
    auth.login("alice")
    assert client.get("/staff/cases" + query).status_code == 200


@pytest.mark.parametrize("method, path", [
    ("GET", "/staff/cases/" + "9" * 30), ("POST", "/staff/cases/" + "9" * 30 + "/cause"),
    ("GET", "/staff/cases/settings/" + "9" * 30),
    ("POST", "/staff/cases/workdays/" + "9" * 30 + "/delete")])
def test_ids_beyond_sqlite_integers_are_404(client, auth, method, path):
    auth.login("alice")
    token = auth.csrf("/staff/cases/workdays")
    assert client.open(path, method=method, data={"csrf_token": token}).status_code == 404


def test_figures_on_the_list_page(app, client, auth, make_survey):
    case_id = _open_case(app, client, make_survey)
    auth.login("alice")
    for action in ("cause", "rectify", "reply"):
        step(client, auth, case_id, action, text="已处理")
    step(client, auth, case_id, "close")
    html = client.get("/staff/cases").get_data(as_text=True)
    assert "回访率" in html and "按期办结率" in html and "100.00%" in html
    with app.app_context():
        figures = case_store.case_figures(get_db(), rows(app, "SELECT survey_id FROM cases")[0][0])
    assert figures["total"]["closed"] == 1 and figures["total"]["on_time_rate"] == 1.0
    assert figures["by_channel"][0]["channel"] == "窗口 1"


def test_cli_lists_cases_as_json(app, client, runner, make_survey):
    survey = make_survey()
    submit(client, survey, VERY)
    submit(client, survey, 0)
    with app.app_context():
        get_db().execute("UPDATE cases SET due_day = '2020-01-06'")
    result = runner.invoke(args=["cases", str(survey["id"]), "--json"])
    assert result.exit_code == 0
    listed = json.loads(result.output)
    response_id = rows(app, "SELECT response_id FROM cases")[0][0]
    assert listed == [{"id": 1, "response_id": response_id, "status": "open",
                       "due_date": "2020-01-06", "overdue": True, "channel": "",
                       "due_date_provisional": False, "due_date_note": None}]
    text = runner.invoke(args=["cases", survey["token"]]).output
    assert "已逾期" in text


def test_cli_unknown_survey_fails_in_chinese(runner):
    result = runner.invoke(args=["cases", "nope", "--json"])
    assert result.exit_code != 0 and "找不到问卷" in result.output


# --- due dates beyond the calendar (issue 13) --------------------------------------------------

def test_due_date_beyond_the_calendar_is_marked_provisional_in_the_list_and_json(
        app, client, auth, runner, make_survey):
    survey = make_survey()
    # 2026-12-31 + 5 working days runs into 2027, for which no holidays are in the data yet
    store_response(app, survey, VERY, when=dt.datetime.fromisoformat("2026-12-31T10:00:00+08:00"))
    auth.login("alice")
    html = client.get("/staff/cases", query_string={"status": "all"}).get_data(as_text=True)
    assert "data-provisional" in html and "2027 年的节假日安排尚未录入" in html
    result = runner.invoke(args=["cases", str(survey["id"]), "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert listed[0]["due_date_provisional"] is True
    assert "只按周末计算" in listed[0]["due_date_note"]


def test_provisional_due_date_on_the_case_page_and_in_the_exports(app, client, auth, make_survey):
    import csv
    import io

    import openpyxl
    survey = make_survey()
    store_response(app, survey, VERY, when=dt.datetime.fromisoformat("2026-12-31T10:00:00+08:00"))
    store_response(app, survey, VERY, nonce="n2",
                   when=dt.datetime.fromisoformat("2024-03-08T10:00:00+08:00"))
    auth.login("bob")  # a staff member, not an administrator
    page = client.get("/staff/cases/1").get_data(as_text=True)
    assert "data-provisional>暂定<" in page and "2027 年的节假日安排尚未录入" in page
    assert "data-provisional" not in client.get("/staff/cases/2").get_data(as_text=True)
    listing = client.get("/staff/cases", query_string={"status": "all"}).get_data(as_text=True)
    assert "/staff/cases/export.csv?status=all" in listing
    response = client.get("/staff/cases/export.csv", query_string={"status": "all"})
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    header, by_id = table[0], {row[0]: row for row in table[1:]}
    column = header.index("到期日暂定")
    assert by_id["1"][column] == "暂定" and "2027 年" in by_id["1"][header.index("到期日说明")]
    assert by_id["2"][column] == "否" and by_id["2"][header.index("到期日说明")] == ""
    book = openpyxl.load_workbook(io.BytesIO(client.get(
        "/staff/cases/export.xlsx", query_string={"status": "all"}).get_data()))
    cells = [[c.value for c in row] for row in book.worksheets[0].iter_rows()]
    assert {(r[0], r[column]) for r in cells[1:]} == {(1, "暂定"), (2, "否")}


def test_case_export_keeps_to_the_department_and_the_filter(app, client, auth, make_survey):
    store_response(app, make_survey(department="其他部门"), VERY)
    store_response(app, make_survey(), VERY, nonce="n2")
    auth.login("bob")
    body = client.get("/staff/cases/export.csv", query_string={"status": "all"}).get_data()
    assert len(body.decode("utf-8-sig").strip().splitlines()) == 2  # header + its own case
    body = client.get("/staff/cases/export.csv", query_string={"status": "closed"}).get_data()
    assert len(body.decode("utf-8-sig").strip().splitlines()) == 1


def test_due_date_inside_the_calendar_is_not_provisional(app, runner, make_survey):
    survey = make_survey()
    store_response(app, survey, VERY, when=dt.datetime.fromisoformat("2024-03-08T10:00:00+08:00"))
    result = runner.invoke(args=["cases", str(survey["id"]), "--json"])
    listed = json.loads(result.output)
    assert listed[0]["due_date_provisional"] is False and listed[0]["due_date_note"] is None
