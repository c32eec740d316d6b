"""Conditional questions (一事一评) as citizens, staff and the figures meet them: the satisfaction
template's "您不满意的原因" asked only after 不满意 / 非常不满意."""
import re
import secrets

import pytest
from werkzeug.datastructures import MultiDict

from survey.store import surveys as survey_store
from survey.store.builder import copy_survey, delete_survey
from survey.store.responses import Submission, record_response, set_validity
from survey.store.tallies import recount, survey_figures, survey_tally
from survey.web.db import get_db
from survey.web.forms.public import answers_from, plain_answers, response_form_class

from ..conftest import full_answers
from .test_builder import post, query, stored
from .test_public import open_form, ticket_of

HINT = "（仅当第8题选择“不满意”或“非常不满意”时回答）"


def reasons_of(survey):
    return next(q for q in survey["questions"] if q["text"] == "您不满意的原因是？（可多选）")


def other_of(survey):
    return next(q for q in survey["questions"] if q["text"] == "请说明其他原因")


def submit(client, survey, data):
    data = MultiDict(data)
    data["ticket"] = ticket_of(open_form(client, survey))
    return client.post(f"/s/{survey['token']}", data=data)


def reasons_screened(app):
    """Screening reasons of each stored response (a test submits too fast to be valid)."""
    return [r[0] for r in query(app, "SELECT reasons FROM screening ORDER BY response_id")]


def stored_answers(app, survey_id):
    return query(app, "SELECT a.question_id, a.option_id, a.text FROM answers a JOIN responses r "
                      "ON r.id = a.response_id WHERE r.survey_id = ? ORDER BY a.id", [survey_id])


def fieldset(html, question):
    start = html.index(f'id="question-{question["id"]}"')
    return html[start:html.index("</fieldset>", start)]


def test_form_without_javascript_shows_the_condition_in_words(client, make_survey):
    survey = make_survey()
    html = open_form(client, survey)
    part = fieldset(html, reasons_of(survey))
    assert HINT in part
    assert 'data-show-if="q' in part and 'aria-describedby="condition-' in part
    assert " required" not in part  # the browser must not insist on a question not asked
    assert "（仅当第9题选择“其他”时回答）" in fieldset(html, other_of(survey))


def test_satisfied_answer_does_not_need_a_reason_and_a_given_one_is_ignored(
        app, client, make_survey):
    survey = make_survey()
    reasons, other = reasons_of(survey), other_of(survey)
    data = {**full_answers(survey, 0), f"q{reasons['id']}": str(reasons["options"][5]["id"]),
            f"q{other['id']}": "不该存下的话"}
    response = submit(client, survey, data)
    assert response.status_code == 303
    asked = {row[0] for row in stored_answers(app, survey["id"])}
    assert reasons["id"] not in asked and other["id"] not in asked
    assert "incomplete" not in reasons_screened(app)[0]


def test_dissatisfied_answer_without_reason_is_refused_keeping_the_rest(app, client, make_survey):
    survey = make_survey()
    reasons = reasons_of(survey)
    data = {k: v for k, v in full_answers(survey, 3, text="窗口太少").items()
            if k != f"q{reasons['id']}"}
    response = submit(client, survey, data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "请至少选择一项" in fieldset(html, reasons)
    assert "请检查以下 1 处" in html and "第9题：您不满意的原因是？" in html
    headline = survey["questions"][7]
    assert f'value="{headline["options"][3]["id"]}" checked' in fieldset(html, headline)
    assert "窗口太少" in html
    assert query(app, "SELECT count(*) FROM responses") == [(0,)]


def test_dissatisfied_answer_with_reasons_and_other_text_is_stored(app, client, make_survey):
    survey = make_survey()
    reasons, other = reasons_of(survey), other_of(survey)
    chosen = [str(reasons["options"][0]["id"]), str(reasons["options"][5]["id"])]
    data = MultiDict({**full_answers(survey, 4), f"q{other['id']}": "停车难"})
    data.setlist(f"q{reasons['id']}", chosen)
    response = submit(client, survey, data)
    assert response.status_code == 303
    rows = stored_answers(app, survey["id"])
    assert [str(o) for q, o, _ in rows if q == reasons["id"]] == chosen
    assert ("停车难",) == tuple(t for q, _, t in rows if q == other["id"])
    assert "incomplete" not in reasons_screened(app)[0]


@pytest.mark.parametrize("level, give_reason", [(0, True), (3, False), (3, True), (4, True)])
def test_fast_path_agrees_with_the_form_on_conditional_questions(
        app, make_survey, level, give_reason):
    survey = make_survey()
    reasons = reasons_of(survey)
    data = full_answers(survey, level)
    data.pop(f"q{reasons['id']}", None)
    if give_reason:
        data[f"q{reasons['id']}"] = str(reasons["options"][1]["id"])
    formdata = MultiDict(data)
    with app.test_request_context(method="POST", data=data):
        form = response_form_class(survey["questions"])(formdata=formdata, meta={"csrf": False})
        validated = form.validate()
        fast = plain_answers(survey["questions"], formdata)
    assert validated == (level == 0 or give_reason)
    if fast is not None:
        assert validated and fast == answers_from(form, survey["questions"])
    assert (reasons["id"] in (fast or {})) == (level >= 3 and give_reason)


def _answer_levels(app, survey, levels):
    """Valid responses at these levels, each with the first reason when it is asked."""
    for level in levels:
        answers = {int(k[1:]): [int(v)] for k, v in full_answers(survey, level).items()}
        with app.app_context():
            db = get_db()
            record_response(db, survey, survey_store.questionnaire(db, survey["id"]), Submission(
                answers=answers, nonce=secrets.token_hex(8), duration_seconds=60))


def test_reason_figures_count_only_those_it_applied_to(app, client, auth, make_survey):
    survey = make_survey()
    _answer_levels(app, survey, [0, 0, 1, 3, 4, 0])
    reasons = reasons_of(survey)
    with app.app_context():
        db = get_db()
        figures = survey_figures(db, survey)
        question = next(q for q in figures["questions"] if q["question_id"] == reasons["id"])
        assert figures["valid"] == 6
        assert (question["applicable"], question["answered"], question["skipped"]) == (2, 2, 0)
        assert question["options"][0]["count"] == 2 and question["options"][0]["share"] == 1.0
        assert question["condition"] == HINT
        before = survey_tally(db, survey, survey_store.questionnaire(db, survey["id"]))
        recount(db, survey["id"])
        assert survey_tally(db, survey, survey_store.questionnaire(db, survey["id"])) == before
        dissatisfied = query(app, "SELECT DISTINCT response_id FROM answers WHERE question_id = ?",
                             [reasons["id"]])[0][0]
        set_validity(db, dissatisfied, False, "重复提交", None)
        question = next(q for q in survey_figures(db, survey)["questions"]
                        if q["question_id"] == reasons["id"])
        assert (question["applicable"], question["answered"]) == (1, 1)
    unconditional = next(q for q in figures["questions"] if q["position"] == 1)
    assert unconditional["applicable"] is None and unconditional["skipped"] == 0
    auth.login("bob")
    page = client.get(f"/staff/surveys/{survey['id']}/").get_data(as_text=True)
    assert "适用人数 1" in page and HINT in page


def test_copy_keeps_conditions_on_its_own_questions(app, make_survey):
    survey = make_survey()
    with app.app_context():
        db = get_db()
        copy_id = copy_survey(db, survey_store.get_survey(db, survey["id"]), title="副本",
                              year=2026, user_id=None)
    copy = stored(app, copy_id)
    reasons, source_reasons = reasons_of(copy), reasons_of(survey)
    headline = copy["questions"][7]
    assert reasons["show_if"] == {"question_id": headline["id"], "option_ids": [
        headline["options"][3]["id"], headline["options"][4]["id"]]}
    assert reasons["id"] != source_reasons["id"]
    assert other_of(copy)["show_if"]["option_ids"] == [reasons["options"][5]["id"]]


def condition_path(survey, question):
    return f"/staff/surveys/{survey['id']}/questions/{question['id']}/condition"


def question_page(survey, question):
    return f"/staff/surveys/{survey['id']}/questions/{question['id']}"


def revision(app, survey_id):
    return query(app, "SELECT revision FROM form_revisions WHERE survey_id = ?", [survey_id])[0][0]


def test_staff_set_a_condition_and_the_citizen_form_changes(app, client, auth, make_survey):
    survey = make_survey(status="draft")
    auth.login("bob")
    business = next(q for q in survey["questions"] if q["text"].startswith("您本次办理"))
    first = survey["questions"][0]
    before = revision(app, survey["id"])
    response = post(client, auth, condition_path(survey, business), {
        "c-gate": str(first["id"]), "c-option_ids": [str(first["options"][4]["id"])]},
        question_page(survey, business))
    assert response.status_code == 303
    assert stored(app, survey["id"])["questions"][10]["show_if"] == {
        "question_id": first["id"], "option_ids": [first["options"][4]["id"]]}
    assert revision(app, survey["id"]) != before  # the cached citizen form is redrawn
    listing = client.get(f"/staff/surveys/{survey['id']}/questions").get_data(as_text=True)
    assert "（仅当第1题选择“非常不满意”时回答）" in listing
    response = post(client, auth, condition_path(survey, business), {"c-gate": "always"},
                    question_page(survey, business))
    assert response.status_code == 303
    assert stored(app, survey["id"])["questions"][10]["show_if"] is None


@pytest.mark.parametrize("choice, message", [
    ("later", "只能依据排在本题之前的题目"),
    ("no options", "请至少勾选所依据题目的一个选项"),
    ("other question's option", "只能勾选第 1 题的选项"),
])
def test_a_wrong_condition_is_refused_in_chinese(app, client, auth, make_survey, choice, message):
    survey = make_survey(status="draft")
    auth.login("bob")
    target, first, second = survey["questions"][4], survey["questions"][0], survey["questions"][1]
    data = {"later": {"c-gate": str(survey["questions"][7]["id"]),
                      "c-option_ids": [str(survey["questions"][7]["options"][0]["id"])]},
            "no options": {"c-gate": str(first["id"])},
            "other question's option": {"c-gate": str(first["id"]),
                                        "c-option_ids": [str(second["options"][0]["id"])]}}[choice]
    response = post(client, auth, condition_path(survey, target), data,
                    question_page(survey, target))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    if choice == "other question's option":
        assert re.search(rf'value="{first["id"]}" checked', html)  # what was chosen is kept
    assert stored(app, survey["id"])["questions"][4]["show_if"] is None


def test_gate_question_cannot_be_deleted_nor_its_conditions_changed_after_answers(
        app, client, auth, make_survey):
    survey = make_survey()
    auth.login("bob")
    headline, reasons = survey["questions"][7], reasons_of(survey)
    # (the headline is protected on its own account; the reasons question is a gate too)
    response = post(client, auth, question_page(survey, reasons) + "/delete", {},
                    question_page(survey, reasons))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "第 10 题的显示条件依据本题" in page
    assert reasons_of(stored(app, survey["id"]))
    _answer_levels(app, survey, [0])
    response = post(client, auth, condition_path(survey, reasons), {"c-gate": "always"},
                    question_page(survey, reasons))
    assert response.status_code == 422
    assert "问卷已有答卷，不能再更改显示条件" in response.get_data(as_text=True)
    assert reasons_of(stored(app, survey["id"]))["show_if"]["question_id"] == headline["id"]


def test_a_survey_with_conditions_is_deleted_whole(app, make_survey):
    survey = make_survey()
    with app.app_context():
        db = get_db()
        delete_survey(db, survey_store.get_survey(db, survey["id"]), None)
    assert query(app, "SELECT count(*) FROM questions") == [(0,)]


def test_an_invitation_answer_counts_in_its_staff_members_base(app, client):
    """一事一评 with the template's reason question: the per-staff figures carry its base."""
    from survey.core.figures import compute_figures
    from survey.core.questionnaire import load_survey_template
    from survey.store import accounts
    from survey.store.tallies import staff_tallies

    from .test_evaluations import answer_page, invite, path_of, token
    questionnaire = load_survey_template("satisfaction-5")
    questionnaire["settings"]["screening"] = {"min_seconds": None}
    with app.app_context():
        db = get_db()
        survey_id = survey_store.create_survey(db, accounts.department_by_name(db, "测试部门")["id"],
                                               questionnaire, status="open")
        survey = {**survey_store.get_survey(db, survey_id),
                  "questions": survey_store.questionnaire(db, survey_id)}
    bearer = token(app)
    for reference, level in (("BJ1", 4), ("BJ2", 0)):
        url = invite(client, survey, bearer, reference=reference, staff="A07").get_json()["url"]
        assert answer_page(client, path_of(url), full_answers(survey, level)).status_code == 303
    with app.app_context():
        db = get_db()
        tally = staff_tallies(db, survey, survey_store.questionnaire(db, survey_id))["A07"]
    reasons = next(q for q in compute_figures(tally)["questions"]
                   if q["question_id"] == reasons_of(survey)["id"])
    assert (reasons["applicable"], reasons["answered"]) == (1, 1)


def test_exports_say_the_base_and_mark_answers_not_asked(app, make_survey):
    from survey.io.exports import export_tables
    survey = make_survey()
    _answer_levels(app, survey, [0, 4])
    reasons = reasons_of(survey)
    with app.app_context():
        db = get_db()
        questions = survey_store.questionnaire(db, survey["id"])
        raw = export_tables(db, survey, questions, "csv")[0]
        rows = list(raw.rows)
        summary = export_tables(db, survey, questions, "summary-csv")[1]
        summary_rows = list(summary.rows)
    column = raw.header.index(f"9. {reasons['text']}")
    assert [row[column] for row in rows] == ["（不适用）", "等候时间长"]
    base = [row for row in summary_rows if row[0] == 9 and str(row[3]).startswith("（适用人数）")]
    assert base == [[9, reasons["text"], "多选题", f"（适用人数）{HINT}", None, "", 1, None]]


def test_paper_entry_asks_for_the_reason_only_after_a_dissatisfied_headline(
        app, client, auth, make_survey):
    from .test_io import _entry
    survey = make_survey()
    auth.login("bob")
    page = client.get(f"/staff/surveys/{survey['id']}/entry").get_data(as_text=True)
    assert HINT in page
    response, _ = _entry(client, auth, survey, {"scale": "4", "single": "1"})
    assert response.status_code == 422
    assert "必答题未作答" in response.get_data(as_text=True)
    saved, _ = _entry(client, auth, survey, {"scale": "4", "single": "1", "multiple": "1"})
    assert saved.status_code == 303
    satisfied, _ = _entry(client, auth, survey, {"scale": "1", "single": "1", "multiple": "2"})
    assert satisfied.status_code == 303  # a reason typed though not asked: left out
    rows = query(app, "SELECT a.response_id, o.label FROM answers a JOIN options o ON "
                      "o.id = a.option_id WHERE a.question_id = ?", [reasons_of(survey)["id"]])
    assert [label for _, label in rows] == ["等候时间长"]
    assert query(app, "SELECT valid FROM screening ORDER BY response_id") == [(1,), (1,)]


def test_moving_a_question_above_the_one_it_rests_on_is_refused_in_words(
        app, client, auth, make_survey):
    survey = make_survey(status="draft")
    auth.login("bob")
    reasons = reasons_of(survey)
    response = post(client, auth, question_page(survey, reasons) + "/move", {"direction": "up"},
                    f"/staff/surveys/{survey['id']}/questions")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "不能这样移动：第 8 题的显示条件只能依据排在它之前的题目" in page
    assert [q["id"] for q in stored(app, survey["id"])["questions"]] == [
        q["id"] for q in survey["questions"]]
