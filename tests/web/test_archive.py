"""Nothing collected is lost by a click: a survey with answers is archived, not deleted; only an
administrator removes an archived survey for good, audited, and never while a finalised
self-evaluation rests on its figures."""
import json
import re

import pytest

from survey.store import StoreError
from survey.store import assessments as assessment_store
from survey.store import builder as builder_store
from survey.store import imports
from survey.web.db import get_db

from ..assessment_fixtures import answer as answer_many
from ..conftest import full_answers
from .test_builder import answer, post, query, stored

ASSESSMENTS = "/staff/assessments"


def counts(app, survey_id: int) -> tuple:
    return query(app, "SELECT (SELECT count(*) FROM responses WHERE survey_id = ?), "
                      "(SELECT count(*) FROM cases WHERE survey_id = ?)", [survey_id, survey_id])[0]


@pytest.fixture
def answered(app, make_survey):
    """An open survey with two answers, one dissatisfied (which opens a follow-up case)."""
    survey = make_survey()
    answer(app, survey["id"], level=0)
    answer(app, survey["id"], level=3)
    assert counts(app, survey["id"]) == (2, 1)
    return survey


def archive(client, auth, survey) -> None:
    path = f"/staff/surveys/{survey['id']}/delete"
    response = post(client, auth, path, {"confirm_title": ""})
    assert response.status_code == 303 and response.headers["Location"].endswith("/staff/")


def test_staff_deleting_an_answered_survey_archives_it_and_keeps_everything(
        app, client, auth, answered):
    auth.login("bob")
    page = client.get(f"/staff/surveys/{answered['id']}/delete").get_data(as_text=True)
    assert "不能删除，只能归档" in page and "请输入问卷标题" not in page
    archive(client, auth, answered)
    assert stored(app, answered["id"])["archived_at"]
    assert counts(app, answered["id"]) == (2, 1)
    link = f'href="/staff/surveys/{answered["id"]}/manage"'
    assert link not in client.get("/staff/").get_data(as_text=True)
    listed = client.get("/staff/surveys/archived").get_data(as_text=True)
    assert link in listed
    (detail,), = query(app, "SELECT detail FROM audit_log WHERE action = 'survey.archive'")
    assert json.loads(detail)["responses"] == 2 and json.loads(detail)["cases"] == 1
    # figures stay readable while archived
    manage = client.get(f"/staff/surveys/{answered['id']}/manage").get_data(as_text=True)
    assert "已归档" in manage and "永久删除" not in manage  # bob is no administrator


def test_staff_restores_an_archived_survey(app, client, auth, answered):
    auth.login("bob")
    archive(client, auth, answered)
    manage = f"/staff/surveys/{answered['id']}/manage"
    response = post(client, auth, f"/staff/surveys/{answered['id']}/restore", {}, manage)
    assert response.status_code == 303
    assert stored(app, answered["id"])["archived_at"] is None
    assert f'href="/staff/surveys/{answered["id"]}/manage"' in client.get("/staff/").get_data(
        as_text=True)
    assert query(app, "SELECT count(*) FROM audit_log WHERE action = 'survey.restore'") == [(1,)]


def test_archived_public_link_stores_nothing_and_says_so_politely(app, client, auth, answered):
    auth.login("bob")
    archive(client, auth, answered)
    client.post("/staff/logout")
    page = client.get(f"/s/{answered['token']}")
    assert page.status_code == 200 and "不再接收新的答卷" in page.get_data(as_text=True)
    response = client.post(f"/s/{answered['token']}", data={"ticket": "x", **full_answers(answered)})
    assert response.status_code == 200 and "不再接收新的答卷" in response.get_data(as_text=True)
    assert counts(app, answered["id"]) == (2, 1)


def test_archived_survey_takes_no_changes_until_restored(app, client, auth, answered):
    auth.login("bob")
    archive(client, auth, answered)
    path = f"/staff/surveys/{answered['id']}"
    response = post(client, auth, path + "/status", {"action": "close"}, path + "/manage")
    assert response.status_code == 303
    assert "请先恢复问卷" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert stored(app, answered["id"])["status"] == "open"
    with app.app_context(), pytest.raises(StoreError, match="已归档"):
        imports._require_started(stored(app, answered["id"]))


def test_no_store_path_deletes_an_answered_survey(app, answered):
    with app.app_context(), pytest.raises(StoreError, match="只能归档"):
        builder_store.delete_survey(get_db(), stored(app, answered["id"]), None)
    assert counts(app, answered["id"]) == (2, 1)


def test_non_admin_cannot_remove_an_archived_survey(app, client, auth, answered):
    auth.login("bob")
    archive(client, auth, answered)
    path = f"/staff/surveys/{answered['id']}/remove"
    assert client.get(path).status_code == 403
    token = auth.csrf(f"/staff/surveys/{answered['id']}/manage")
    response = client.post(path, data={"csrf_token": token, "confirm_title": answered["title"]})
    assert response.status_code == 403
    assert counts(app, answered["id"]) == (2, 1) and stored(app, answered["id"]) is not None


def test_admin_removes_an_archived_survey_after_typing_its_title_and_it_is_audited(
        app, client, auth, answered):
    auth.login("alice")
    archive(client, auth, answered)
    path = f"/staff/surveys/{answered['id']}/remove"
    page = client.get(path).get_data(as_text=True)
    assert re.search(r"答卷 <strong>2</strong> 份", page) and "回访工单 <strong>1</strong> 件" in page
    wrong = post(client, auth, path, {"confirm_title": "错误的标题"})
    assert wrong.status_code == 422 and "不一致" in wrong.get_data(as_text=True)
    assert stored(app, answered["id"]) is not None
    response = post(client, auth, path, {"confirm_title": answered["title"]})
    assert response.status_code == 303
    assert stored(app, answered["id"]) is None and counts(app, answered["id"]) == (0, 0)
    (user_id, detail), = query(app, "SELECT user_id, detail FROM audit_log "
                                    "WHERE action = 'survey.remove' AND subject = ?",
                               [str(answered["id"])])
    detail = json.loads(detail)
    assert user_id == query(app, "SELECT id FROM users WHERE username = 'alice'")[0][0]
    assert (detail["title"], detail["responses"], detail["cases"]) == (answered["title"], 2, 1)


def test_only_an_archived_survey_can_be_removed(app, client, auth, answered):
    auth.login("alice")
    path = f"/staff/surveys/{answered['id']}/remove"
    response = post(client, auth, path, {"confirm_title": answered["title"]},
                    f"/staff/surveys/{answered['id']}/manage")
    assert response.status_code == 303 and stored(app, answered["id"]) is not None


def _finalised_assessment_linked_to(app, client, auth, survey) -> tuple[dict, dict]:
    """A 2025 assessment whose 群众满意度 follows the survey (24 satisfied of 25), finalised."""
    response = post(client, auth, f"{ASSESSMENTS}/new", {
        "year": "2025", "title": "2025 年度自评", "origin": "template:dept-2022"},
        f"{ASSESSMENTS}/new")
    assessment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        db = get_db()
        answer_many(db, survey, 0, 24)
        answer_many(db, survey, 4, 1)
        (target,) = [dict(r) for r in db.query(
            "SELECT * FROM assessment_indicators WHERE assessment_id = ? AND name = '群众满意度'",
            [assessment_id])]
    path = f"{ASSESSMENTS}/{assessment_id}/indicators/{target['id']}"
    assert post(client, auth, path, {
        "name": target["name"], "weight": target["weight"], "comparison": target["comparison"],
        "target": target["target"], "description": "", "actual": "", "score": "", "notes": "",
        "link": f"survey:{survey['id']}", "figure": "satisfaction_rate",
        "rule_type": "rate_times_weight"}, path).status_code == 302
    finalise = f"{ASSESSMENTS}/{assessment_id}/finalise"
    assert post(client, auth, finalise, {"acknowledge": "y"}, finalise).status_code == 302
    with app.app_context():
        return assessment_store.get_assessment(get_db(), assessment_id), target


def test_finalised_assessment_keeps_its_figures_and_its_evidence(app, client, auth, make_survey):
    """An auditor checks a finalised figure against the answers behind it: archiving keeps
    them (the frozen figures stay as they were) and permanent removal is refused."""
    survey = make_survey()
    auth.login("alice")
    assessment, target = _finalised_assessment_linked_to(app, client, auth, survey)
    view = f"{ASSESSMENTS}/{assessment['id']}"
    before = client.get(view).get_data(as_text=True)
    assert re.search(rf'data-score-for="{target["id"]}">14\.40<', before) and "96.00%" in before
    archive(client, auth, survey)
    after = client.get(view).get_data(as_text=True)
    assert re.search(rf'data-score-for="{target["id"]}">14\.40<', after) and "96.00%" in after
    remove = f"/staff/surveys/{survey['id']}/remove"
    assert "已定稿的自评表" in client.get(remove).get_data(as_text=True)
    response = post(client, auth, remove, {"confirm_title": survey["title"]},
                    f"/staff/surveys/{survey['id']}/manage")
    assert response.status_code == 422 and "不能永久删除" in response.get_data(as_text=True)
    assert counts(app, survey["id"])[0] == 25
    assert query(app, "SELECT survey_id FROM assessment_indicators WHERE id = ?",
                 [target["id"]]) == [(survey["id"],)]
    assert query(app, "SELECT count(*) FROM audit_log WHERE action = 'survey.remove'") == [(0,)]
