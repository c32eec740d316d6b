"""The question editor, and the protection of answers already collected."""
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.core.conditions import order_problem
from survey.store import StoreError, editor
from survey.store import surveys as survey_store
from survey.store.builder import SurveyLockedError
from survey.web.db import get_db

from .test_builder import answer, post, query, stored


def qpath(survey, question=None, suffix=""):
    base = f"/staff/surveys/{survey['id']}/questions"
    return base if question is None else f"{base}/{question['id']}{suffix}"


def option_form(option, **changes):
    data = {"label": option["label"], "value": "" if option["value"] is None else
            f"{option['value']:g}", "satisfied": "y" if option["satisfied"] else None, **changes}
    return {f"o{option['id']}-{k}": v for k, v in data.items() if v is not None}


def save_option(client, auth, survey, question, option, **changes):
    return post(client, auth, f"{qpath(survey, question)}/options/{option['id']}",
                option_form(option, **changes), qpath(survey, question))


@pytest.fixture
def editor_client(client, auth):
    auth.login("bob")
    return client


def test_question_pages_are_scoped_to_the_survey(app, client, auth, make_survey):
    mine, other = make_survey(), make_survey()
    auth.login()
    foreign = other["questions"][0]
    assert client.get(qpath(mine, foreign)).status_code == 404
    response = post(client, auth, qpath(mine, foreign, "/delete"), {}, qpath(mine))
    assert response.status_code == 404
    option = foreign["options"][0]
    response = save_option(client, auth, mine, mine["questions"][0], option)
    assert response.status_code == 404


def test_other_department_gets_404_on_question_urls(client, auth, make_survey):
    survey = make_survey()
    question = survey["questions"][0]
    option = question["options"][0]
    auth.login("mallory")
    assert client.get(qpath(survey, question)).status_code == 404
    for suffix in ("/delete", "/move", "/options", f"/options/{option['id']}",
                   f"/options/{option['id']}/delete"):
        response = post(client, auth, qpath(survey, question, suffix), {"direction": "up"},
                        "/staff/surveys/new")
        assert response.status_code == 404, suffix


def test_list_shows_every_question_with_options_and_headline(editor_client, make_survey):
    survey = make_survey()
    html = editor_client.get(qpath(survey)).get_data(as_text=True)
    for q in survey["questions"]:
        assert q["text"] in html
    assert "总体满意度题" in html
    assert "非常满意 · 100 分 · 满意" in html
    assert "题目受到保护" not in html


def test_add_scale_question_gets_the_surveys_five_levels(app, editor_client, auth, make_survey):
    survey = make_survey()
    response = post(editor_client, auth, qpath(survey),
                    {"kind": "scale", "text": "您对停车是否满意？", "required": "y"})
    assert response.status_code == 303
    added = stored(app, survey["id"])["questions"][-1]
    assert (added["text"], added["required"], added["position"]) == ("您对停车是否满意？", 1,
                                                                    len(survey["questions"]) + 1)
    assert [o["label"] for o in added["options"]] == ["非常满意", "满意", "基本满意", "不满意",
                                                      "非常不满意"]
    assert [o["satisfied"] for o in added["options"]] == [1, 1, 0, 0, 0]


def test_add_single_choice_question_with_typed_options(app, editor_client, auth, make_survey):
    survey = make_survey()
    post(editor_client, auth, qpath(survey), {
        "kind": "single", "text": "您从哪里得知？", "options_text": "海报\n\n 短信 \n朋友"})
    added = stored(app, survey["id"])["questions"][-1]
    assert [o["label"] for o in added["options"]] == ["海报", "短信", "朋友"]
    assert added["required"] == 0


@pytest.mark.parametrize("data,message", [
    ({"kind": "single", "text": "来源？", "options_text": "只有一个"}, "至少需要两个选项"),
    ({"kind": "single", "text": "来源？", "options_text": "甲\n甲"}, "选项有重复"),
    ({"kind": "multiple", "text": "来源？", "options_text": "甲\n" + "乙" * 51},
     "每个选项最多 50 字"),
    ({"kind": "text", "text": "  ", "options_text": ""}, "请填写题目"),
    ({"kind": "essay", "text": "来源？", "options_text": ""}, "不是有效的选择"),
    ({"kind": "text", "text": "长" * 201, "options_text": ""}, "题目最多 200 字"),
])
def test_add_question_bad_input_is_refused_and_kept(app, editor_client, auth, make_survey,
                                                    data, message):
    survey = make_survey()
    response = post(editor_client, auth, qpath(survey), data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if data["options_text"]:
        assert data["options_text"].split("\n")[0] in html
    assert len(stored(app, survey["id"])["questions"]) == len(survey["questions"])


def test_question_added_after_answers_is_optional(app, editor_client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"])
    html = editor_client.get(qpath(survey)).get_data(as_text=True)
    assert "题目受到保护" in html and "新增题目一律为选答" in html
    post(editor_client, auth, qpath(survey), {"kind": "scale", "text": "新题", "required": "y"})
    assert stored(app, survey["id"])["questions"][-1]["required"] == 0


def test_fixing_wording_after_answers_is_allowed(app, editor_client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"])
    question = survey["questions"][0]
    response = post(editor_client, auth, qpath(survey, question),
                    {"kind": "scale", "text": "您对窗口工作人员的服务态度是否满意？（修正）", "required": "y"})
    assert response.status_code == 303
    assert stored(app, survey["id"])["questions"][0]["text"].endswith("（修正）")


@pytest.mark.parametrize("changes,message", [
    ({"kind": "single"}, "该题已有答卷作答，不能更改题型"),
    ({"required": None}, "不能再更改题目是否必答"),
])
def test_kind_or_required_change_after_answers_is_refused(app, editor_client, auth, make_survey,
                                                          changes, message):
    survey = make_survey()
    answer(app, survey["id"])
    question = survey["questions"][0]
    data = {"kind": "scale", "text": "改过的题目", "required": "y", **changes}
    response = post(editor_client, auth, qpath(survey, question),
                    {k: v for k, v in data.items() if v is not None})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and "复制为新问卷" in html
    assert "改过的题目" in html
    assert stored(app, survey["id"])["questions"][0] == question


def test_kind_change_before_answers_reshapes_options(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    question = survey["questions"][0]
    post(editor_client, auth, qpath(survey, question), {"kind": "text", "text": "意见？"})
    assert stored(app, survey["id"])["questions"][0]["options"] == []
    post(editor_client, auth, qpath(survey, question), {"kind": "single", "text": "意见？"})
    labels = [o["label"] for o in stored(app, survey["id"])["questions"][0]["options"]]
    assert labels == ["选项 1", "选项 2"]


def test_headline_question_cannot_stop_being_a_scale(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    headline = next(q for q in survey["questions"]
                    if q["id"] == survey["settings"]["headline_question_id"])
    response = post(editor_client, auth, qpath(survey, headline),
                    {"kind": "single", "text": headline["text"], "required": "y"})
    assert "总体满意度题" in response.get_data(as_text=True)
    response = post(editor_client, auth, qpath(survey, headline, "/delete"), {}, qpath(survey))
    assert "请先在“设置”中更换总体满意度题" in editor_client.get(
        response.headers["Location"]).get_data(as_text=True)
    assert len(stored(app, survey["id"])["questions"]) == len(survey["questions"])


def test_delete_unanswered_question_renumbers(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    response = post(editor_client, auth, qpath(survey, survey["questions"][1], "/delete"), {},
                    qpath(survey))
    assert response.status_code == 303
    questions = stored(app, survey["id"])["questions"]
    assert [q["position"] for q in questions] == list(range(1, len(survey["questions"])))
    assert survey["questions"][1]["id"] not in [q["id"] for q in questions]


def test_delete_answered_question_is_refused(app, editor_client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"])
    question = survey["questions"][0]
    response = post(editor_client, auth, qpath(survey, question, "/delete"), {}, qpath(survey))
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "删除会丢失这些回答，不能删除" in page
    assert len(stored(app, survey["id"])["questions"]) == len(survey["questions"])


def test_text_question_with_answers_cannot_be_deleted(app, make_survey):
    survey = make_survey()
    text_q = next(q for q in survey["questions"] if q["kind"] == "text")
    with app.app_context():
        db = get_db()
        db.execute("INSERT INTO answers (response_id, question_id, text) VALUES (?, ?, ?)",
                   [_any_response(app, survey), text_q["id"], "很好"])
        with pytest.raises(SurveyLockedError):
            editor.delete_question(db, stored(app, survey["id"]), text_q)


def _any_response(app, survey) -> int:
    answer(app, survey["id"])
    return query(app, "SELECT max(id) FROM responses")[0][0]


@pytest.mark.parametrize("index,direction,swapped", [
    (0, "down", True), (1, "up", True), (0, "up", False), (-1, "down", False),
])
def test_move_question(app, editor_client, auth, make_survey, index, direction, swapped):
    survey = make_survey()
    ids = [q["id"] for q in survey["questions"]]
    response = post(editor_client, auth, qpath(survey, survey["questions"][index], "/move"),
                    {"direction": direction}, qpath(survey))
    assert response.status_code == 303
    expected = [ids[1], ids[0], *ids[2:]] if swapped else ids
    assert [q["id"] for q in stored(app, survey["id"])["questions"]] == expected


def test_move_with_bad_direction_is_400(editor_client, auth, make_survey):
    survey = make_survey()
    response = post(editor_client, auth, qpath(survey, survey["questions"][0], "/move"),
                    {"direction": "sideways"}, qpath(survey))
    assert response.status_code == 400


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(moves=st.lists(st.tuples(st.integers(0, 11), st.sampled_from([-1, 1])), max_size=12))
def test_moves_keep_a_permutation_numbered_from_one(app, make_survey, moves):
    """...and never put a conditional question before the question it rests on: such a move
    is refused with its reason."""
    with app.app_context():
        db = get_db()
        survey_id = db.execute("SELECT max(id) FROM surveys").fetchone()[0] or 0
        if not survey_id:
            survey_id = make_survey()["id"]
        before = sorted(r[0] for r in db.execute(
            "SELECT id FROM questions WHERE survey_id = ?", [survey_id]))
        for index, step in moves:
            try:
                editor.move_question(db, survey_id, before[index], step)
            except StoreError as error:
                assert "显示条件只能依据排在它之前的题目" in str(error)
        assert order_problem(survey_store.questionnaire(db, survey_id)) is None
        rows = db.execute("SELECT id, position FROM questions WHERE survey_id = ? "
                          "ORDER BY position", [survey_id]).fetchall()
    assert sorted(r[0] for r in rows) == before
    assert [r[1] for r in rows] == list(range(1, len(before) + 1))


def test_edit_unanswered_option(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    question = survey["questions"][0]
    option = question["options"][2]
    response = save_option(editor_client, auth, survey, question, option, label="一般",
                           value="50", satisfied="y")
    assert response.status_code == 303
    saved = stored(app, survey["id"])["questions"][0]["options"][2]
    assert (saved["label"], saved["value"], saved["satisfied"]) == ("一般", 50.0, 1)


@pytest.mark.parametrize("changes", [
    {"label": "很满意"}, {"value": "90"}, {"satisfied": None}, {"value": ""},
])
def test_answered_option_cannot_change(app, editor_client, auth, make_survey, changes):
    survey = make_survey()
    answer(app, survey["id"], level=0)
    question = survey["questions"][0]
    option = question["options"][0]
    response = save_option(editor_client, auth, survey, question, option, **changes)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "已有答卷选择" in html and "复制为新问卷" in html
    if changes.get("label"):
        assert 'value="很满意"' in html
    assert stored(app, survey["id"])["questions"][0]["options"][0] == option


def test_answered_option_page_shows_lock_and_unanswered_stays_editable(
        app, editor_client, make_survey):
    survey = make_survey()
    answer(app, survey["id"], level=0)
    question = survey["questions"][0]
    html = editor_client.get(qpath(survey, question)).get_data(as_text=True)
    assert html.count("已有人选择 · 锁定") == 1
    assert "不能再新增选项" in html


def test_unanswered_option_of_answered_question_can_change(app, editor_client, auth,
                                                           make_survey):
    survey = make_survey()
    answer(app, survey["id"], level=0)
    question = survey["questions"][0]
    option = question["options"][4]
    response = save_option(editor_client, auth, survey, question, option, label="很不满意")
    assert response.status_code == 303
    assert stored(app, survey["id"])["questions"][0]["options"][4]["label"] == "很不满意"


@pytest.mark.parametrize("value,message", [
    ("九十", "分值须为数字，可留空"), ("Infinity", "请输入有效的数字"),
    ("5000", "分值应在 -1000 到 1000 之间"),
])
def test_option_bad_value_is_refused_and_kept(app, editor_client, auth, make_survey, value,
                                              message):
    survey = make_survey(status="draft")
    question = survey["questions"][0]
    option = question["options"][1]
    response = save_option(editor_client, auth, survey, question, option, value=value,
                           label="满意（改）")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'value="{value}"' in html and 'value="满意（改）"' in html
    assert stored(app, survey["id"])["questions"][0]["options"][1] == option


def test_delete_option_rules(app, editor_client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"], level=0)
    question = survey["questions"][0]
    base = f"{qpath(survey, question)}/options"
    chosen, unchosen = question["options"][0], question["options"][3]
    response = post(editor_client, auth, f"{base}/{chosen['id']}/delete", {},
                    qpath(survey, question))
    page = editor_client.get(response.headers["Location"]).get_data(as_text=True)
    assert "选项“非常满意”已有答卷选择，不能删除" in page
    response = post(editor_client, auth, f"{base}/{unchosen['id']}/delete", {},
                    qpath(survey, question))
    assert "已删除选项“不满意”" in editor_client.get(response.headers["Location"]).get_data(
        as_text=True)
    labels = [o["label"] for o in stored(app, survey["id"])["questions"][0]["options"]]
    assert labels == ["非常满意", "满意", "基本满意", "非常不满意"]


def test_choice_question_keeps_two_options(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    post(editor_client, auth, qpath(survey), {"kind": "single", "text": "是否", "options_text":
                                             "是\n否"})
    question = stored(app, survey["id"])["questions"][-1]
    response = post(editor_client, auth,
                    f"{qpath(survey, question)}/options/{question['options'][0]['id']}/delete",
                    {}, qpath(survey, question))
    assert "至少需要两个选项" in editor_client.get(response.headers["Location"]).get_data(
        as_text=True)
    assert len(stored(app, survey["id"])["questions"][-1]["options"]) == 2


def test_add_option_before_answers_and_refused_after(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    question = next(q for q in survey["questions"] if q["kind"] == "single")
    path = f"{qpath(survey, question)}/options"
    data = {"new-label": "医疗保险", "new-value": "", "new-satisfied": None}
    response = post(editor_client, auth, path, {k: v for k, v in data.items() if v is not None},
                    qpath(survey, question))
    assert response.status_code == 303
    after = next(q for q in stored(app, survey["id"])["questions"] if q["id"] == question["id"])
    assert after["options"][-1]["label"] == "医疗保险"
    answer(app, survey["id"])
    response = post(editor_client, auth, path, {"new-label": "失业保险"}, qpath(survey, question))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "新增选项会使前后答卷不可比" in html and 'value="失业保险"' in html


def test_text_question_has_no_options_to_add(app, editor_client, auth, make_survey):
    survey = make_survey(status="draft")
    question = next(q for q in survey["questions"] if q["kind"] == "text")
    response = post(editor_client, auth, f"{qpath(survey, question)}/options",
                    {"new-label": "甲"}, qpath(survey, question))
    assert response.status_code == 422
    assert "填空题没有选项" in response.get_data(as_text=True)


def _required_box(html: str) -> str:
    import re
    return re.search(r'<input[^>]*name="required"[^>]*>', html).group(0)


def test_new_question_is_not_pre_ticked_required_once_answers_exist(app, editor_client,
                                                                     make_survey):
    survey = make_survey()
    assert "checked" in _required_box(editor_client.get(qpath(survey)).get_data(as_text=True))
    answer(app, survey["id"])
    html = editor_client.get(qpath(survey)).get_data(as_text=True)
    assert "checked" not in _required_box(html)
    assert "新增题目一律为选答" in html
