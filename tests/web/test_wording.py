"""A change of wording after answers arrived is audited and kept: the evidence package shows
which wording each response was given. Before the first answer nothing is recorded."""
import io
import json
import zipfile

from survey.store import editor, wording
from survey.web.db import get_db

from .test_builder import answer, post, query, stored
from .test_builder_questions import qpath, save_option


def question_form(question: dict, text: str) -> dict:
    data = {"kind": question["kind"], "text": text}
    return {**data, "required": "y"} if question["required"] else data


def single_choice(survey: dict) -> dict:
    return next(q for q in survey["questions"] if q["kind"] == "single")


def evidence_questionnaire(client, survey: dict) -> dict:
    response = client.get(f"/staff/surveys/{survey['id']}/evidence.zip")
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as zf:
        return json.loads(zf.read("questionnaire.json"))


def test_rewording_an_answered_question_is_audited_and_in_the_evidence(
        app, client, auth, make_survey):
    survey = make_survey()
    question = survey["questions"][0]
    answer(app, survey["id"])
    auth.login("bob")
    path = qpath(survey, question)
    assert "本题已有 <strong>1</strong> 份答卷作答" in client.get(path).get_data(as_text=True)
    new_text = question["text"] + "（含窗口服务）"
    assert post(client, auth, path, question_form(question, new_text)).status_code == 303
    answer(app, survey["id"])
    answer(app, survey["id"])

    (user_id, subject, detail), = query(
        app, "SELECT user_id, subject, detail FROM audit_log WHERE action = 'question.wording'")
    detail = json.loads(detail)
    assert user_id == query(app, "SELECT id FROM users WHERE username = 'bob'")[0][0]
    assert subject == str(survey["id"]) and detail["question_id"] == question["id"]
    assert (detail["before"]["text"], detail["after"]["text"]) == (question["text"], new_text)

    asked = evidence_questionnaire(client, survey)
    (wordings,) = [q["wordings"] for q in asked["questions"] if q["id"] == question["id"]]
    assert [(w["text"], w["answered"]) for w in wordings] == [(question["text"], 1), (new_text, 2)]
    assert wordings[0]["valid_from"] is None and wordings[1]["valid_to"] is None
    assert wordings[0]["valid_to"] == wordings[1]["valid_from"]


def test_relabelling_an_option_of_an_answered_survey_keeps_the_old_label(
        app, client, auth, make_survey):
    survey = make_survey()
    answer(app, survey["id"], level=0)  # the single-choice question's first option only
    question = single_choice(survey)
    unchosen = question["options"][1]
    auth.login("bob")
    response = save_option(client, auth, survey, question, unchosen, label="网上办事大厅")
    assert response.status_code == 303
    (detail,), = query(app, "SELECT detail FROM audit_log WHERE action = 'question.wording'")
    labels = [[o["label"] for o in json.loads(detail)[side]["options"]] for side in ("before", "after")]
    assert labels[0][1] == unchosen["label"] and labels[1][1] == "网上办事大厅"
    asked = evidence_questionnaire(client, survey)
    (wordings,) = [q["wordings"] for q in asked["questions"] if q["id"] == question["id"]]
    assert [w["options"][1]["label"] for w in wordings] == [unchosen["label"], "网上办事大厅"]
    assert [w["answered"] for w in wordings] == [1, 0]


def test_before_any_answer_edits_leave_no_record(app, client, auth, make_survey):
    survey = make_survey(status="draft")
    question = survey["questions"][0]
    auth.login("bob")
    path = qpath(survey, question)
    assert "data-wording-notice" not in client.get(path).get_data(as_text=True)
    assert post(client, auth, path, question_form(question, "改过的题目")).status_code == 303
    assert stored(app, survey["id"])["questions"][0]["text"] == "改过的题目"
    assert query(app, "SELECT count(*) FROM audit_log WHERE action = 'question.wording'") == [(0,)]
    assert query(app, "SELECT count(*) FROM question_versions") == [(0,)]


def test_saving_an_answered_question_unchanged_records_nothing(app, client, auth, make_survey):
    survey = make_survey()
    question = survey["questions"][0]
    answer(app, survey["id"])
    auth.login("bob")
    path = qpath(survey, question)
    assert post(client, auth, path, question_form(question, question["text"])).status_code == 303
    assert query(app, "SELECT count(*) FROM question_versions") == [(0,)]


def test_each_rewording_starts_where_the_last_ended(app, make_survey):
    survey = make_survey()
    question = survey["questions"][0]
    texts = [question["text"], "第二版措辞", "第三版措辞"]
    answer(app, survey["id"])
    for text in texts[1:]:
        with app.app_context():
            db = get_db()
            editor.update_question(db, stored(app, survey["id"]), editor.get_question(
                db, survey["id"], question["id"]), text=text, kind=question["kind"],
                required=bool(question["required"]))
        answer(app, survey["id"])
    with app.app_context():
        db = get_db()
        history = wording.wording_history(db, editor.get_question(db, survey["id"], question["id"]))
    assert [(w["text"], w["answered"]) for w in history] == [(t, 1) for t in texts]
    assert [w["valid_from"] for w in history[1:]] == [w["valid_to"] for w in history[:-1]]
