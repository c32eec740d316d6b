"""The survey builder's pages: create, copy, overview, settings, status, delete, 发放 batches,
and who may see them."""
import datetime as dt
import json
import re
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.store import surveys as survey_store
from survey.store.responses import Submission, record_response
from survey.web.db import get_db
from survey.web.forms.builder import from_utc_iso, to_utc_iso

from ..conftest import csrf_token_from


def answer(app, survey_id: int, level: int = 0, channel: str = "") -> None:
    """Store one response answering every choice question at `level`."""
    with app.app_context():
        db = get_db()
        survey = survey_store.get_survey(db, survey_id)
        questions = survey_store.questionnaire(db, survey_id)
        answers = {q["id"]: [q["options"][min(level, len(q["options"]) - 1)]["id"]]
                   for q in questions if q["options"]}
        record_response(db, survey, questions, Submission(
            answers=answers, nonce=secrets.token_hex(8), channel=channel, duration_seconds=60))


def stored(app, survey_id: int) -> dict | None:
    with app.app_context():
        db = get_db()
        survey = survey_store.get_survey(db, survey_id)
        if survey:
            survey["questions"] = survey_store.questionnaire(db, survey_id)
        return survey


def query(app, sql: str, params=()) -> list:
    with app.app_context():
        return [tuple(r) for r in get_db().execute(sql, params).fetchall()]


def post(client, auth, path: str, data: dict, page: str | None = None):
    """POST with a CSRF token taken from `page` (default: the page itself)."""
    token = auth.csrf(page or path)
    return client.post(path, data={"csrf_token": token, **data})


def settings_form(survey: dict, **changes) -> dict:
    headline = survey["settings"].get("headline_question_id")
    data = {"title": survey["title"], "intro": survey["intro"], "year": "2024",
            "headline": "question", "headline_question_id": str(headline or ""),
            "require_complete": "y", "min_seconds": "10", "dedupe_device": "y",
            "dedupe_policy": "none", "opens_date": "", "opens_time": "", "closes_date": "",
            "closes_time": "", "population": ""}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


SURVEY_PAGES = ["/manage", "/settings", "/questions", "/qr", "/issued", "/delete", "/poster",
                "/qr.svg", "/qr.png", "/poster.png"]
SURVEY_POSTS = ["/settings", "/settings/scale", "/status", "/delete", "/issued", "/questions",
                "/qr", "/qr/remove"]


@pytest.mark.parametrize("suffix", SURVEY_PAGES)
def test_logged_out_visitor_is_sent_to_login(client, make_survey, suffix):
    survey = make_survey()
    response = client.get(f"/staff/surveys/{survey['id']}{suffix}")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("suffix", SURVEY_PAGES)
def test_other_department_gets_404_on_every_page(client, auth, make_survey, suffix):
    survey = make_survey()
    auth.login("mallory")
    response = client.get(f"/staff/surveys/{survey['id']}{suffix}")
    assert response.status_code == 404
    assert survey["title"] not in response.get_data(as_text=True)


@pytest.mark.parametrize("suffix", SURVEY_POSTS + ["/issued/1/delete"])
def test_other_department_gets_404_on_every_action(app, client, auth, make_survey, suffix):
    survey = make_survey()
    auth.login("mallory")
    response = post(client, auth, f"/staff/surveys/{survey['id']}{suffix}",
                    {"action": "close", "confirm_title": survey["title"], "count": "5",
                     "name": "窗口 1", "kind": "text", "text": "x"}, page="/staff/surveys/new")
    assert response.status_code == 404
    assert stored(app, survey["id"])["status"] == "open"


def test_other_department_cannot_copy_a_survey(app, client, auth, make_survey):
    survey = make_survey()
    auth.login("mallory")
    response = post(client, auth, "/staff/surveys/copy",
                    {"source": survey["id"], "title": "偷来的", "year": ""}, "/staff/surveys/new")
    assert response.status_code == 422
    assert query(app, "SELECT count(*) FROM surveys WHERE title = '偷来的'") == [(0,)]


def test_action_without_csrf_token_is_refused(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    response = client.post(f"/staff/surveys/{survey['id']}/status", data={"action": "close"})
    assert response.status_code == 400
    assert stored(app, survey["id"])["status"] == "open"


def test_survey_list_links_to_survey_page_and_new_button(client, auth, make_survey):
    survey = make_survey()
    auth.login()
    html = client.get("/staff/").get_data(as_text=True)
    assert f'href="/staff/surveys/{survey["id"]}/manage"' in html
    assert 'href="/staff/surveys/new"' in html and "新建问卷" in html


@pytest.mark.parametrize("levels,preset,satisfied,values", [
    (2, "linear", [1, 1, 0, 0, 0], [100, 80, 60, 40, 20]),
    (3, "haocha", [1, 1, 1, 0, 0], [100, 80, 60, 30, 0]),
])
def test_new_survey_from_template_uses_chosen_levels_and_values(
        app, client, auth, levels, preset, satisfied, values):
    auth.login()
    response = post(client, auth, "/staff/surveys/new", {
        "template": "satisfaction-5", "title": "", "year": "2024",
        "satisfied_levels": str(levels), "value_preset": preset}, "/staff/surveys/new")
    assert response.status_code == 303
    survey_id = int(response.headers["Location"].split("/")[-2])
    survey = stored(app, survey_id)
    assert survey["title"] == "2024 年群众满意度调查问卷"
    assert (survey["status"], survey["year"]) == ("draft", 2024)
    assert survey["settings"]["satisfied_levels"] == levels
    scale = [q for q in survey["questions"] if q["kind"] == "scale"]
    assert len(scale) == 8
    assert [o["satisfied"] for o in scale[0]["options"]] == satisfied
    assert [o["value"] for o in scale[-1]["options"]] == values
    assert survey["settings"]["headline_question_id"] == scale[-1]["id"]


def test_new_blank_survey_has_one_question(app, client, auth):
    auth.login()
    response = post(client, auth, "/staff/surveys/new", {
        "template": "blank", "title": "窗口服务评价", "year": "", "satisfied_levels": "2",
        "value_preset": "linear"}, "/staff/surveys/new")
    survey = stored(app, int(response.headers["Location"].split("/")[-2]))
    assert survey["title"] == "窗口服务评价"
    assert [q["kind"] for q in survey["questions"]] == ["scale"]


@pytest.mark.parametrize("field,value,message", [
    ("year", "明年", "请输入四位数年份"),
    ("year", "1999", "年度应在 2000 到 2100 之间"),
    ("template", "nosuch", "不是有效的选择"),
    ("satisfied_levels", "4", "不是有效的选择"),
    ("satisfied_levels", "两级", "选择无效"),
    ("title", "长" * 101, "标题最多 100 字"),
])
def test_new_survey_bad_input_is_refused_with_message_and_kept(
        app, client, auth, field, value, message):
    auth.login()
    data = {"template": "satisfaction-5", "title": "我的问卷", "year": "2024",
            "satisfied_levels": "2", "value_preset": "linear", field: value}
    response = post(client, auth, "/staff/surveys/new", data, "/staff/surveys/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if field != "title":
        assert 'value="我的问卷"' in html
    assert query(app, "SELECT count(*) FROM surveys") == [(0,)]


def test_copy_keeps_questions_settings_and_series_with_new_token(app, client, auth, make_survey):
    source = make_survey(year=2023)
    answer(app, source["id"])
    auth.login()
    response = post(client, auth, "/staff/surveys/copy", {
        "source": source["id"], "title": "2024 年满意度调查", "year": "2024"},
        f"/staff/surveys/{source['id']}/manage")
    assert response.status_code == 303
    copy = stored(app, int(response.headers["Location"].split("/")[-2]))
    source = stored(app, source["id"])
    assert (copy["title"], copy["year"], copy["status"]) == ("2024 年满意度调查", 2024, "draft")
    assert copy["token"] != source["token"]
    assert copy["series"] and copy["series"] == source["series"]

    def shape(survey):
        return [(q["kind"], q["text"], q["required"],
                 [(o["label"], o["value"], o["satisfied"]) for o in q["options"]])
                for q in survey["questions"]]
    assert shape(copy) == shape(source)
    headline = [q["position"] for q in copy["questions"]
                if q["id"] == copy["settings"]["headline_question_id"]]
    assert headline == [8]
    assert {k: v for k, v in copy["settings"].items() if k != "headline_question_id"} == {
        k: v for k, v in source["settings"].items() if k != "headline_question_id"}
    assert query(app, "SELECT count(*) FROM responses WHERE survey_id = ?", [copy["id"]]) == [(0,)]


def test_copy_points_the_follow_up_setting_at_its_own_questions(app, client, auth, make_survey):
    source = make_survey(year=2023)
    chosen = [source["questions"][0]["id"], source["questions"][7]["id"]]
    with app.app_context():
        db = get_db()
        settings = {**source["settings"], "cases": {"enabled": True, "question_ids": chosen}}
        db.execute("UPDATE surveys SET settings = ? WHERE id = ?",
                   [json.dumps(settings), source["id"]])
    auth.login()
    response = post(client, auth, "/staff/surveys/copy", {
        "source": source["id"], "title": "2024 年满意度调查", "year": "2024"},
        f"/staff/surveys/{source['id']}/manage")
    copy = stored(app, int(response.headers["Location"].split("/")[-2]))
    positions = {q["id"]: q["position"] for q in copy["questions"]}
    assert [positions[i] for i in copy["settings"]["cases"]["question_ids"]] == [1, 8]


def test_copy_page_needs_a_title(app, client, auth, make_survey):
    source = make_survey()
    auth.login()
    response = post(client, auth, "/staff/surveys/copy",
                    {"source": source["id"], "title": " ", "year": "2030"}, "/staff/surveys/new")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "请填写问卷标题" in html and 'value="2030"' in html


def test_overview_shows_counts_rules_and_next_year_copy(app, client, auth, make_survey):
    survey = make_survey(year=2023, title="2023 年群众满意度调查")
    answer(app, survey["id"])
    answer(app, survey["id"], level=4)
    auth.login()
    html = client.get(f"/staff/surveys/{survey['id']}/manage").get_data(as_text=True)
    assert "2023 年群众满意度调查" in html
    assert 'value="2024 年群众满意度调查"' in html and 'value="2024"' in html
    assert "答题用时少于 10 秒的问卷视为无效" in html
    assert f"/s/{survey['token']}" in html
    assert '<span class="value">2</span>' in html  # returned


def test_settings_save_converts_local_times_and_screening(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    path = f"/staff/surveys/{survey['id']}/settings"
    response = post(client, auth, path, settings_form(
        survey, title="新标题", opens_date="2024-03-01", opens_time="08:30",
        closes_date="2024-12-31", closes_time="", min_seconds="7.5", dedupe_device=None,
        straightlining="y", population="5000", headline="scale_mean",
        dedupe_policy="device_cookie"))
    assert response.status_code == 303
    saved = stored(app, survey["id"])
    assert saved["title"] == "新标题"
    assert saved["opens_at"].startswith("2024-03-01T00:30:00")
    assert saved["closes_at"].startswith("2024-12-31T15:59:59")
    assert saved["dedupe_policy"] == "device_cookie"
    assert saved["settings"]["screening"] == {
        "require_complete": True, "min_seconds": 7.5, "dedupe_device": False,
        "straightlining": True, "straightlining_min_questions": 8}
    assert (saved["settings"]["headline"], saved["settings"]["population"]) == ("scale_mean", 5000)
    assert saved["settings"]["satisfied_levels"] == 2  # untouched keys survive
    page = client.get(path).get_data(as_text=True)
    assert 'value="08:30"' in page and 'value="7.5"' in page



def test_saving_settings_unchanged_records_no_change_and_a_change_records_itself(
        app, client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"])
    auth.login()
    path = f"/staff/surveys/{survey['id']}/settings"
    year = str(survey["year"] or "")
    assert post(client, auth, path, settings_form(survey, year=year)).status_code == 303
    assert post(client, auth, path, settings_form(survey, year=year, title="新标题")
                ).status_code == 303
    with app.app_context():
        details = [json.loads(r[0]) for r in get_db().execute(
            "SELECT detail FROM audit_log WHERE action = 'survey.settings' ORDER BY id")]
    assert details == [{"changed": {}, "responses": 1}, {
        "changed": {"title": {"before": survey["title"], "after": "新标题"}}, "responses": 1}]

@pytest.mark.parametrize("changes,message", [
    ({"closes_date": "2024-01-01", "opens_date": "2024-02-01"}, "截止时间应晚于开始时间"),
    ({"min_seconds": "十秒"}, "请输入数字（秒）"),
    ({"min_seconds": "NaN"}, "请输入有效的数字"),
    ({"min_seconds": "-1"}, "请输入 0 到 3600 之间的秒数"),
    ({"population": "1"}, "总体人数不能少于已收到的有效问卷数（2 份）"),
    ({"population": "很多"}, "请输入整数"),
    ({"opens_date": "2024-13-01"}, "日期格式应为"),
    ({"title": ""}, "请填写问卷标题"),
    ({"headline_question_id": "999999"}, "请选择一道满意度量表题"),
])
def test_settings_bad_input_keeps_typed_values_and_stores_nothing(
        app, client, auth, make_survey, changes, message):
    survey = make_survey()
    answer(app, survey["id"])
    answer(app, survey["id"])
    auth.login()
    data = settings_form(survey, intro="请如实填写", **changes)
    response = post(client, auth, f"/staff/surveys/{survey['id']}/settings", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert "请如实填写" in html
    typed = [v for k, v in changes.items() if v and k != "headline_question_id"]
    assert all(f'value="{value}"' in html for value in typed)
    assert stored(app, survey["id"])["intro"] == survey["intro"]


def test_scale_scheme_applies_before_answers_and_is_refused_after(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    path = f"/staff/surveys/{survey['id']}/settings/scale"
    response = post(client, auth, path, {"satisfied_levels": "3", "value_preset": "haocha"},
                    f"/staff/surveys/{survey['id']}/settings")
    assert response.status_code == 303
    scale = stored(app, survey["id"])["questions"][0]
    assert [o["satisfied"] for o in scale["options"]] == [1, 1, 1, 0, 0]
    assert [o["value"] for o in scale["options"]] == [100, 80, 60, 30, 0]
    answer(app, survey["id"])
    response = post(client, auth, path, {"satisfied_levels": "2", "value_preset": "linear"},
                    f"/staff/surveys/{survey['id']}/settings")
    assert response.status_code == 422
    assert "已有答卷，不能再统一更改满意口径" in response.get_data(as_text=True)
    assert stored(app, survey["id"])["settings"]["satisfied_levels"] == 3


@pytest.mark.parametrize("start,action,end", [
    ("draft", "open", "open"), ("open", "close", "closed"), ("closed", "reopen", "open"),
    ("draft", "close", "draft"), ("open", "open", "open"), ("closed", "nonsense", "closed"),
])
def test_status_transitions(app, client, auth, make_survey, start, action, end):
    survey = make_survey(status=start)
    auth.login()
    path = f"/staff/surveys/{survey['id']}"
    response = post(client, auth, path + "/status", {"action": action}, path + "/manage")
    assert response.status_code == 303
    assert stored(app, survey["id"])["status"] == end
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    if start == end:
        assert "当前状态不能执行该操作" in html
    logged = query(app, "SELECT count(*) FROM audit_log WHERE action = ?", [f"survey.{end}"])
    assert logged == [(1 if start != end else 0,)]


def test_opening_outside_the_dates_warns(app, client, auth, make_survey):
    survey = make_survey(status="draft")
    with app.app_context():
        get_db().execute("UPDATE surveys SET closes_at = '2000-01-01T00:00:00+00:00' WHERE id = ?",
                         [survey["id"]])
    auth.login()
    path = f"/staff/surveys/{survey['id']}"
    response = post(client, auth, path + "/status", {"action": "open"}, path + "/manage")
    assert "当前不在设置的收集时间内" in client.get(response.headers["Location"]).get_data(
        as_text=True)


def test_survey_without_questions_cannot_open(app, client, auth, make_survey):
    survey = make_survey(status="draft", template="blank")
    with app.app_context():
        get_db().execute("DELETE FROM questions WHERE survey_id = ?", [survey["id"]])
    auth.login()
    path = f"/staff/surveys/{survey['id']}"
    response = post(client, auth, path + "/status", {"action": "open"}, path + "/manage")
    assert "还没有题目" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored(app, survey["id"])["status"] == "draft"


def test_delete_without_responses_needs_only_a_confirm(app, client, auth, make_survey):
    survey = make_survey(status="draft")
    auth.login()
    path = f"/staff/surveys/{survey['id']}/delete"
    assert "请输入问卷标题" not in client.get(path).get_data(as_text=True)
    response = post(client, auth, path, {})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/")
    assert stored(app, survey["id"]) is None


def test_issued_batches_are_listed_with_total(app, client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"])
    auth.login()
    path = f"/staff/surveys/{survey['id']}/issued"
    for count, note in ((60, "3 月窗口"), (40, "")):
        assert post(client, auth, path, {"count": str(count), "note": note}).status_code == 303
    html = client.get(path).get_data(as_text=True)
    assert "3 月窗口" in html
    assert "data-issued-total>100<" in html
    assert "回收率 <span data-return-rate>1.00%</span>" in html
    assert query(app, "SELECT sum(count) FROM issued_batches WHERE survey_id = ?",
                 [survey["id"]]) == [(100,)]


def test_issued_total_counts_only_channels_with_an_issued_count(app, client, auth, make_survey):
    from survey.store import builder as builder_store
    survey = make_survey()
    for channel in ("窗口 1", "窗口 1", "", "", ""):  # three answers through the open QR code
        answer(app, survey["id"], channel=channel)
    with app.app_context():
        builder_store.record_issued(get_db(), survey_store.get_survey(get_db(), survey["id"]),
                                    10, "", None, channel="窗口 1")
    auth.login()
    html = client.get(f"/staff/surveys/{survey['id']}/issued").get_data(as_text=True)
    # 2 answers of the 10 handed out at 窗口 1: 20%, never all 5 answers over 10 (50%)
    assert "已回收 5 份，其中已登记发放的渠道回收 2 份，回收率 <span data-return-rate>20.00%</span>" in html
    basis = re.search(r"data-return-rate-basis>([^<]*)<", html).group(1)
    assert "仅计已登记发放的渠道：窗口 1" in basis and "不计入回收率" in basis


@pytest.mark.parametrize("count,message", [
    ("", "请填写发放份数"), ("0", "发放份数须为 1 到 1000000 之间的整数"),
    ("十", "请输入整数"), ("2.5", "请输入整数"),
])
def test_issued_bad_count_is_refused_and_note_kept(app, client, auth, make_survey, count,
                                                   message):
    survey = make_survey()
    auth.login()
    response = post(client, auth, f"/staff/surveys/{survey['id']}/issued",
                    {"count": count, "note": "社区发放"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and 'value="社区发放"' in html
    assert query(app, "SELECT count(*) FROM issued_batches") == [(0,)]


def test_issued_batch_deleted_only_from_its_own_survey(app, client, auth, make_survey):
    first, second = make_survey(), make_survey()
    auth.login()
    post(client, auth, f"/staff/surveys/{first['id']}/issued", {"count": "5", "note": ""})
    (batch_id,), = query(app, "SELECT id FROM issued_batches")
    path = f"/staff/surveys/{second['id']}/issued/{batch_id}/delete"
    response = post(client, auth, path, {}, f"/staff/surveys/{second['id']}/issued")
    assert "该发放记录不存在" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert query(app, "SELECT count(*) FROM issued_batches") == [(1,)]
    path = f"/staff/surveys/{first['id']}/issued/{batch_id}/delete"
    post(client, auth, path, {}, f"/staff/surveys/{first['id']}/issued")
    assert query(app, "SELECT count(*) FROM issued_batches") == [(0,)]
    assert query(app, "SELECT count(*) FROM audit_log WHERE action = 'issued.delete'") == [(1,)]


def test_tabs_link_every_builder_page(client, auth, make_survey):
    survey = make_survey()
    auth.login()
    html = client.get(f"/staff/surveys/{survey['id']}/manage").get_data(as_text=True)
    for suffix in ("/manage", "/questions", "/settings", "/qr", "/issued"):
        assert f'href="/staff/surveys/{survey["id"]}{suffix}"' in html
    assert 'aria-current="page">概况<' in html
    assert csrf_token_from(html)


@given(st.dates(dt.date(2000, 1, 1), dt.date(2100, 12, 31)), st.times())
def test_local_times_round_trip_to_the_minute(day, time):
    time = time.replace(second=0, microsecond=0)
    assert from_utc_iso(to_utc_iso(day, time, end_of_day=False)) == (day, time)


def test_delete_refused_when_another_record_still_refers_to_the_survey(app, client, auth,
                                                                      make_survey):
    survey = make_survey(status="draft")
    with app.app_context():
        db = get_db()
        db.execute("CREATE TABLE holds (survey_id INTEGER REFERENCES surveys(id))")
        db.execute("INSERT INTO holds VALUES (?)", [survey["id"]])
    auth.login()
    response = post(client, auth, f"/staff/surveys/{survey['id']}/delete", {})
    assert response.status_code == 422
    assert "已被其他记录" in response.get_data(as_text=True)
    assert stored(app, survey["id"]) is not None
    assert query(app, "SELECT count(*) FROM audit_log WHERE action = 'survey.delete'") == [(0,)]


def test_settings_page_survives_unreadable_stored_rules(app, client, auth, make_survey):
    survey = make_survey()
    with app.app_context():
        get_db().execute("UPDATE surveys SET settings = json_set(settings, '$.screening',"
                         " json('{\"nosuch\": 1}')) WHERE id = ?", [survey["id"]])
    auth.login()
    for suffix in ("/settings", "/manage"):
        assert client.get(f"/staff/surveys/{survey['id']}{suffix}").status_code == 200
