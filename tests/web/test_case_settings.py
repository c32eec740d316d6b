"""A survey's follow-up settings page and the department's working-day overrides."""
import datetime as dt
import json

import pytest

from survey.core.workdays import national_calendar
from survey.store import surveys as survey_store
from survey.web.db import get_db

from .test_cases import NOT_SATISFIED, VERY, rows, store_response, submit


def settings_of(app, survey_id):
    with app.app_context():
        return survey_store.get_survey(get_db(), survey_id)["settings"]


def post_settings(client, auth, survey, **data):
    path = f"/staff/cases/settings/{survey['id']}"
    return client.post(path, data={"csrf_token": auth.csrf(path), **data})


def test_settings_page_shows_the_defaults(client, auth, make_survey):
    survey = make_survey()
    auth.login("bob")
    html = client.get(f"/staff/cases/settings/{survey['id']}").get_data(as_text=True)
    assert "“不满意”或“非常不满意”时自动立案" in html and "5 个工作日" in html
    assert "只有部门管理员可以修改" in html


def test_admin_saves_settings_and_new_responses_follow_them(app, client, auth, make_survey):
    survey = make_survey()
    survey["settings"]["headline"] = settings_of(app, survey["id"])["headline"]
    auth.login("alice")
    second = survey["questions"][1]["id"]
    response = post_settings(client, auth, survey, enabled="y", levels=["非常不满意"],
                             question_ids=[second], due_working_days="15")
    assert response.status_code == 303
    saved = settings_of(app, survey["id"])
    assert saved["cases"] == {"enabled": True, "levels": ["非常不满意"], "question_ids": [second],
                              "due_working_days": 15, "callback": False}
    assert saved["headline"] == survey["settings"]["headline"]  # other keys untouched
    submit(client, survey, NOT_SATISFIED)
    submit(client, survey, VERY)
    assert rows(app, "SELECT due_working_days FROM cases") == [(15,)]


@pytest.mark.parametrize("data, message", [
    ({"enabled": "y", "levels": ["不满意"], "all_questions": "y", "due_working_days": "0"},
     "1 到 60 之间"),
    ({"enabled": "y", "all_questions": "y", "due_working_days": "5"}, "请至少选择一个立案等级"),
    ({"enabled": "y", "levels": ["不满意"], "due_working_days": "5"}, "请至少选择一道题目"),
    ({"enabled": "y", "levels": ["很差"], "all_questions": "y", "due_working_days": "5"},
     "所选项目无效"),
    ({"enabled": "y", "levels": ["不满意"], "question_ids": ["abc"], "due_working_days": "5"},
     "所选项目无效"),
])
def test_bad_settings_are_explained_and_not_saved(app, client, auth, make_survey, data, message):
    survey = make_survey()
    auth.login("alice")
    response = post_settings(client, auth, survey, **data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert "cases" not in settings_of(app, survey["id"])


def test_staff_cannot_change_settings(app, client, auth, make_survey):
    survey = make_survey()
    auth.login("bob")
    response = post_settings(client, auth, survey, levels=["非常不满意"], all_questions="y",
                             due_working_days="5")
    assert response.status_code == 403
    assert "cases" not in settings_of(app, survey["id"])


def test_other_department_survey_settings_are_404(client, auth, make_survey):
    survey = make_survey()
    auth.login("mallory")
    assert client.get(f"/staff/cases/settings/{survey['id']}").status_code == 404


def test_workday_page_lists_the_national_arrangement(client, auth):
    auth.login("bob")
    html = client.get("/staff/cases/workdays").get_data(as_text=True)
    year = max(national_calendar().years)
    assert f"{min(national_calendar().years)}–{year} 年" in html
    assert "调休上班" in html or "尚未录入" in html


def test_department_override_moves_open_cases_due_dates_and_logs_it(app, client, auth,
                                                                      make_survey):
    survey = make_survey()
    when = dt.datetime.fromisoformat("2024-09-30T10:00:00+08:00")
    store_response(app, survey, VERY, when=when, nonce="before")
    store_response(app, survey, VERY, when=when, nonce="closed")
    with app.app_context():  # a closed case keeps its due date: its on-time verdict was given
        get_db().execute("UPDATE cases SET status = 'closed' WHERE id = 2")
    auth.login("alice")
    token = auth.csrf("/staff/cases/workdays")
    response = client.post("/staff/cases/workdays", data={
        "csrf_token": token, "day": "2024-10-12", "is_workday": "0", "note": "本局调休安排不同"})
    assert response.status_code == 303
    assert "1 件未办结案件的到期日已重新计算" in client.get("/staff/cases/workdays").get_data(
        as_text=True)
    store_response(app, survey, VERY, when=when, nonce="after")
    assert rows(app, "SELECT due_day FROM cases ORDER BY id") == [
        ("2024-10-14",), ("2024-10-12",), ("2024-10-14",)]
    history = client.get("/staff/cases/1").get_data(as_text=True)
    assert "到期日重新计算" in history
    assert "到期日由 2024-10-12 改为 2024-10-14：本部门将 2024-10-12 安排为休息" in history
    override_id = rows(app, "SELECT id FROM workday_overrides")[0][0]
    client.post(f"/staff/cases/workdays/{override_id}/delete",
                data={"csrf_token": auth.csrf("/staff/cases")})
    assert rows(app, "SELECT due_day FROM cases ORDER BY id") == [
        ("2024-10-12",), ("2024-10-12",), ("2024-10-12",)]
    events = rows(app, "SELECT case_id, user_id IS NOT NULL FROM case_events "
                       "WHERE action = 'due_changed' ORDER BY id")
    assert events == [(1, 1), (1, 1), (3, 1)]


def test_cli_refresh_recomputes_open_cases_due_dates(app, runner, make_survey, tmp_path,
                                                     monkeypatch):
    from importlib import resources

    from survey.cli import cases as cli_cases
    survey = make_survey()
    store_response(app, survey, VERY, when=dt.datetime.fromisoformat("2024-09-30T10:00:00+08:00"))
    with app.app_context():  # counted under an older calendar that lacked 国庆节
        get_db().execute("UPDATE cases SET due_day = '2024-10-08'")
    path = tmp_path / "workdays-cn.json"
    packaged = resources.files("survey.data").joinpath("workdays-cn.json")
    path.write_text(packaged.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setattr(cli_cases, "_data_path", lambda: path)
    result = runner.invoke(args=["workdays", "2024", "--refresh"])
    national_calendar.cache_clear()
    assert result.exit_code == 0, result.output
    assert "1 件的到期日随之改变" in result.output
    assert rows(app, "SELECT due_day FROM cases") == [("2024-10-12",)]
    (detail,), = rows(app, "SELECT detail FROM case_events WHERE action = 'due_changed'")
    assert json.loads(detail)["text"].startswith("到期日由 2024-10-08 改为 2024-10-12：国家节假日数据更新")


def test_other_departments_are_not_affected_by_an_override(app, client, auth, make_survey):
    auth.login("mallory")
    token = auth.csrf("/staff/cases/workdays")
    client.post("/staff/cases/workdays", data={"csrf_token": token, "day": "2024-10-12",
                                               "is_workday": "0"})
    store_response(app, make_survey(), VERY,
                   when=dt.datetime.fromisoformat("2024-09-30T10:00:00+08:00"))
    assert rows(app, "SELECT due_day FROM cases") == [("2024-10-12",)]


def test_staff_cannot_add_or_delete_overrides(app, client, auth):
    auth.login("alice")
    client.post("/staff/cases/workdays", data={"csrf_token": auth.csrf("/staff/cases/workdays"),
                                               "day": "2024-10-12", "is_workday": "0"})
    override_id = rows(app, "SELECT id FROM workday_overrides")[0][0]
    auth.login("bob")
    token = auth.csrf("/staff/cases")
    assert client.post("/staff/cases/workdays", data={
        "csrf_token": token, "day": "2024-10-13", "is_workday": "1"}).status_code == 403
    assert client.post(f"/staff/cases/workdays/{override_id}/delete",
                       data={"csrf_token": token}).status_code == 403
    auth.login("mallory")
    token = auth.csrf("/staff/cases")
    assert client.post(f"/staff/cases/workdays/{override_id}/delete",
                       data={"csrf_token": token}).status_code == 404
    assert rows(app, "SELECT count(*) FROM workday_overrides") == [(1,)]
    auth.login("alice")
    assert client.post(f"/staff/cases/workdays/{override_id}/delete",
                       data={"csrf_token": auth.csrf("/staff/cases")}).status_code == 303
    assert rows(app, "SELECT count(*) FROM workday_overrides") == [(0,)]


@pytest.mark.parametrize("day, message", [("", "请选择日期"), ("2024-13-40", "日期")])
def test_bad_override_input(app, client, auth, day, message):
    auth.login("alice")
    response = client.post("/staff/cases/workdays", data={
        "csrf_token": auth.csrf("/staff/cases/workdays"), "day": day, "is_workday": "0"})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True).split("<h2>本部门另行安排</h2>")[1]
    assert rows(app, "SELECT count(*) FROM workday_overrides") == [(0,)]


def test_malformed_stored_settings_keep_the_form_working_and_are_shown(app, client, auth,
                                                                        make_survey):
    from .test_cases import set_case_settings
    survey = set_case_settings(app, make_survey(), levels=[], due_working_days="five")
    assert submit(client, survey, NOT_SATISFIED).status_code == 303
    assert rows(app, "SELECT due_working_days FROM cases") == [(5,)]  # the defaults apply
    auth.login("alice")
    html = client.get(f"/staff/cases/settings/{survey['id']}").get_data(as_text=True)
    assert "已保存的设置有误" in html and "目前按默认设置立案" in html


def test_cli_shows_a_years_arrangement(runner):
    result = runner.invoke(args=["workdays", "2024"])
    assert result.exit_code == 0
    assert "放假  国庆节  2024-10-01 至 2024-10-07" in result.output
    assert "调休上班  国庆节调休上班  2024-10-12" in result.output


def test_cli_says_when_a_year_is_missing(runner):
    result = runner.invoke(args=["workdays", str(max(national_calendar().years) + 1)])
    assert result.exit_code != 0 and "尚未录入" in result.output


def test_cli_refresh_keeps_years_entered_by_hand(runner, tmp_path, monkeypatch):
    from survey.cli import cases as cli_cases
    data = {"description": "x", "source": "x", "years": {
        "2099": {"holidays": {"2099-10-01": "国庆节"}, "workdays": {}},
        "2024": {"holidays": {}, "workdays": {}}}}
    path = tmp_path / "workdays-cn.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setattr(cli_cases, "_data_path", lambda: path)
    result = runner.invoke(args=["workdays", "2024", "--refresh"])
    national_calendar.cache_clear()  # the packaged file is read again by later tests
    assert result.exit_code == 0, result.output
    refreshed = json.loads(path.read_text(encoding="utf-8"))["years"]
    assert refreshed["2099"] == data["years"]["2099"]
    assert refreshed["2024"]["holidays"]["2024-10-01"] == "国庆节"
