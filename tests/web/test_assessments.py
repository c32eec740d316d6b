"""The assessment workspace in the browser's place: create, edit, rule editor, budget, links,
findings, finalise and reopen, exports, permissions and CSRF."""
import io
import re

import openpyxl
import pytest

from survey.store import assessment_indicators as tree
from survey.store import assessments as store
from survey.web.db import get_db

from ..assessment_fixtures import answer, row_named

BASE = "/staff/assessments"


@pytest.fixture
def assessment(app, auth):
    """A dept-2022 assessment of 测试部门, created through the form by alice."""
    auth.login("alice")
    response = auth.client.post(f"{BASE}/new", data={
        "year": "2025", "title": "2025 年度部门整体支出绩效自评", "origin": "template:dept-2022",
        "csrf_token": auth.csrf(f"{BASE}/new")})
    assert response.status_code == 302
    assessment_id = int(response.headers["Location"].rsplit("/", 1)[1])
    with app.app_context():
        return store.get_assessment(get_db(), assessment_id)


def row(app, assessment, name, level=3):
    with app.app_context():
        return row_named(get_db(), assessment, name, level)


def page(client, path) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def total_and_grade(html: str) -> tuple[str, str]:
    total = re.search(r'id="as-total" data-total>([\d.]+)<', html).group(1)
    grade = re.search(r'id="as-grade" data-grade>(.)<', html).group(1)
    return total, grade


def post(auth, path, data, page_path=None):
    return auth.client.post(path, data={**data, "csrf_token": auth.csrf(page_path or BASE)})


def test_pages_need_a_login(client):
    response = client.get(BASE)
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_new_assessment_form_keeps_what_was_typed_on_error(auth):
    auth.login("bob")
    response = post(auth, f"{BASE}/new", {"year": "1999", "title": "我的自评", "origin": "template:dept-2022"},
                    f"{BASE}/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "年度应在 2000 到 2100 之间" in html and 'value="我的自评"' in html


def test_new_assessment_lists_templates_and_earlier_years(auth, assessment):
    html = page(auth.client, f"{BASE}/new")
    assert "template:dept-2022" in html and f"copy:{assessment['id']}" in html
    listing = page(auth.client, BASE)
    assert assessment["title"] in listing


def test_editing_an_actual_changes_score_total_and_grade(app, auth, assessment):
    before = page(auth.client, f"{BASE}/{assessment['id']}")
    assert total_and_grade(before) == ("0.00", "差")
    target = row(app, assessment, "绩效监控完成率")
    response = post(auth, f"{BASE}/{assessment['id']}/indicators/{target['id']}/actual", {"actual": "50%"})
    assert response.status_code == 302 and response.headers["Location"].endswith(f"#ind-{target['id']}")
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    assert re.search(rf'data-score-for="{target["id"]}">1\.00<', html)
    assert total_and_grade(html) == ("1.00", "差")
    with app.app_context():
        history = store.history(get_db(), assessment["id"])
    assert (history[0]["field"], history[0]["old"], history[0]["new"]) == ("实际完成值", None, "50%")


def test_preview_scores_without_storing(app, auth, assessment):
    target = row(app, assessment, "群众满意度")
    response = post(auth, f"{BASE}/{assessment['id']}/preview",
                    {"indicator_id": target["id"], "actual": "96%"})
    data = response.get_json()
    assert data["scores"][str(target["id"])] == "15.00" and data["total"] == "15.00"
    assert row(app, assessment, "群众满意度")["actual"] is None


def _indicator_form(row_data, **rule):
    data = {"name": row_data["name"], "weight": row_data["weight"], "comparison": row_data["comparison"],
            "target": row_data["target"], "description": "", "actual": "", "score": "", "notes": "",
            "link": "", "figure": "satisfaction_rate", "rule_type": "", **rule}
    return data


@pytest.mark.parametrize("rule, message, kept", [
    ({"rule_type": "proportional", "prop_target": "0%", "prop_direction": ">="},
     "指标值必须大于 0", 'value="0%"'),
    ({"rule_type": "proportional", "prop_target": "90", "prop_direction": ">="},
     "百分数请加 % 号", 'value="90"'),
    ({"rule_type": "qualitative", "qual_tier": "achieved", "qual_fraction": "50%"},
     "“达成预期”档的得分比例应在", 'value="50%"'),
    ({"rule_type": "deduction_per_point", "ded_allowance": "0%", "ded_per_point": "150%",
      "ded_direction": "abs", "ded_fraction": "whole_points"}, "每点扣分比例", 'value="150%"'),
    ({"rule_type": "bands", "bands_key": "at_least", "bands-0-bound": "90%", "bands-0-kind": "score",
      "bands-0-value": "12", "bands-1-bound": "95%", "bands-1-kind": "score", "bands-1-value": "14"},
     "分档须从最严到最宽排列", 'value="95%"'),
    ({"rule_type": "bands", "bands_key": "at_least", "bands-0-bound": "98%", "bands-0-kind": "score",
      "bands-0-value": "二十"}, "得分必须是数值", 'value="二十"'),
])
def test_rule_editor_rejects_bad_parameters_and_keeps_them(app, auth, assessment, rule, message, kept):
    target = row(app, assessment, "群众满意度")
    path = f"{BASE}/{assessment['id']}/indicators/{target['id']}"
    response = post(auth, path, _indicator_form(target, **rule), path)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html and kept in html
    assert row(app, assessment, "群众满意度")["rule"] == target["rule"]


@pytest.mark.parametrize("rule, stored", [
    ({"rule_type": "bands", "bands_key": "at_least", "bands-0-bound": "98%", "bands-0-kind": "score",
      "bands-0-value": "15", "bands-1-bound": "0.95", "bands-1-kind": "fraction", "bands-1-value": "80%"},
     {"type": "bands", "bands": [{"at_least": 0.98, "score": 15}, {"at_least": 0.95, "fraction": 0.8}]}),
    ({"rule_type": "proportional", "prop_target": "10%", "prop_direction": "<=", "prop_over_form": "linear"},
     {"type": "proportional", "target": 0.1, "direction": "<=", "over_form": "linear"}),
    ({"rule_type": "rate_times_weight"}, {"type": "rate_times_weight"}),
    ({"rule_type": ""}, None),
])
def test_rule_editor_saves_the_rule_the_engine_reads(app, auth, assessment, rule, stored):
    target = row(app, assessment, "群众满意度")
    path = f"{BASE}/{assessment['id']}/indicators/{target['id']}"
    response = post(auth, path, _indicator_form(target, **rule), path)
    assert response.status_code == 302
    assert row(app, assessment, "群众满意度")["rule"] == stored
    form_again = page(auth.client, path)
    if stored and stored["type"] == "bands":
        assert 'value="98%"' in form_again and 'value="80%"' in form_again


def _link_satisfaction_to(app, auth, assessment, survey) -> dict:
    """Link 群众满意度 to the survey's satisfaction rate, then answer it: 24 satisfied of 25."""
    target = row(app, assessment, "群众满意度")
    path = f"{BASE}/{assessment['id']}/indicators/{target['id']}"
    data = _indicator_form(target, link=f"survey:{survey['id']}", rule_type="rate_times_weight")
    assert post(auth, path, data, path).status_code == 302
    with app.app_context():
        answer(get_db(), survey, 0, 24)
        answer(get_db(), survey, 4, 1)
    return target


def test_linking_to_a_survey_follows_it_and_finalising_freezes_it(app, auth, assessment, make_survey):
    survey = make_survey()
    target = _link_satisfaction_to(app, auth, assessment, survey)
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    assert "96.00%" in html and "样本 25 份" in html
    assert re.search(rf'data-score-for="{target["id"]}">14\.40<', html)
    finalise = f"{BASE}/{assessment['id']}/finalise"
    assert post(auth, finalise, {"acknowledge": "y"}, finalise).status_code == 302
    with app.app_context():
        answer(get_db(), survey, 4, 25)
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    assert re.search(rf'data-score-for="{target["id"]}">14\.40<', html) and "已定稿" in html


def test_other_department_surveys_cannot_be_linked(app, auth, assessment, make_survey):
    theirs = make_survey(department="其他部门")
    target = row(app, assessment, "群众满意度")
    path = f"{BASE}/{assessment['id']}/indicators/{target['id']}"
    response = post(auth, path, _indicator_form(target, link=f"survey:{theirs['id']}"), path)
    assert response.status_code == 422 and "不是有效的选择" in response.get_data(as_text=True)
    assert row(app, assessment, "群众满意度")["survey_id"] is None


def test_budget_block_rejects_bad_amounts_and_scores_good_ones(app, auth, assessment):
    path = f"{BASE}/{assessment['id']}/budget"
    bad = {"lines-0-source": "财政性资金", "lines-0-initial": "-3", "lines-0-full_year": "100",
           "lines-0-executed": "95"}
    response = post(auth, path, bad)
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "年初数不能为负数" in html and 'value="-3"' in html
    good = {**bad, "lines-0-initial": "100", "lines-1-source": "其他资金", "lines-1-full_year": "100",
            "lines-1-executed": "93.5"}
    assert post(auth, path, good).status_code == 302
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    budget_row = row(app, assessment, "预算执行率")
    assert "94.25%" in html  # (95 + 93.5) / 200
    assert re.search(rf'data-score-for="{budget_row["id"]}">9\.43<', html)  # 10 × 94.25% = 9.425


def test_findings_link_to_their_indicator_and_take_explanations(app, auth, assessment):
    target = row(app, assessment, "群众满意度")
    with app.app_context():
        tree.update_indicator(get_db(), assessment, target["id"], {"actual": "96%", "score": "14"}, None)
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    finding_id = re.search(rf'name="finding" value="({target["id"]}:score_mismatch:1)"', html).group(1)
    assert f'href="#ind-{target["id"]}"' in html and f'id="ind-{target["id"]}"' in html
    response = post(auth, f"{BASE}/{assessment['id']}/explain",
                    {"finding": finding_id, "explanation": "按财政局口径取整"})
    assert response.status_code == 302
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    assert "说明：按财政局口径取整" in html


def test_only_an_admin_reopens_and_it_is_logged(app, auth, assessment):
    auth.client.post("/staff/logout", data={"csrf_token": auth.csrf()})
    auth.login("bob")
    finalise = f"{BASE}/{assessment['id']}/finalise"
    without = post(auth, finalise, {}, finalise)
    assert without.status_code == 422 and "项问题未说明" in without.get_data(as_text=True)
    assert post(auth, finalise, {"acknowledge": "y"}, finalise).status_code == 302
    target = row(app, assessment, "群众满意度")
    locked = post(auth, f"{BASE}/{assessment['id']}/indicators/{target['id']}/actual", {"actual": "1%"})
    assert locked.status_code == 302 and row(app, assessment, "群众满意度")["actual"] is None
    assert auth.client.get(f"{BASE}/{assessment['id']}/reopen").status_code == 403
    auth.client.post("/staff/logout", data={"csrf_token": auth.csrf()})
    auth.login("alice")
    reopen = f"{BASE}/{assessment['id']}/reopen"
    assert post(auth, reopen, {"reason": "财政局要求修改"}, reopen).status_code == 302
    with app.app_context():
        db = get_db()
        current = store.get_assessment(db, assessment["id"])
        actions = [r[0] for r in db.execute("SELECT action FROM audit_log WHERE subject = ?",
                                             [str(assessment["id"])])]
        history = [(h["field"], h["username"]) for h in store.history(db, assessment["id"])]
    assert current["status"] == "draft" and "assessment.reopen" in actions
    assert ("状态", "alice") in history and ("状态", "bob") in history


def test_exports_agree_with_the_workspace(auth, assessment):
    html = page(auth.client, f"{BASE}/{assessment['id']}")
    total, grade = total_and_grade(html)
    response = auth.client.get(f"{BASE}/{assessment['id']}/report.xlsx")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = openpyxl.load_workbook(io.BytesIO(response.data))["表3-1 得分情况"]
    assert (sheet.cell(5, 6).value, sheet.cell(6, 2).value) == (float(total), grade)
    text = page(auth.client, f"{BASE}/{assessment['id']}/text")
    assert f"整体自评得分为 {float(total):g} 分，评价等级为“{grade}”" in text
    assert "附件1：2025 年度部门整体绩效自评表" in page(auth.client, f"{BASE}/{assessment['id']}/print")
    assert "创建" in page(auth.client, f"{BASE}/{assessment['id']}/history")


def test_goals_block_saves(app, auth, assessment):
    path = f"{BASE}/{assessment['id']}/goals"
    data = {"goals-0-name": "目标 1", "goals-0-content": "稳就业", "goals-0-result": "新增就业 100 人"}
    assert post(auth, path, data, path).status_code == 302
    with app.app_context():
        saved = store.get_assessment(get_db(), assessment["id"])["duty_goals"]
    assert saved == {"goals": [{"name": "目标 1", "content": "稳就业", "result": "新增就业 100 人"}], "tasks": []}


def test_structure_edits(app, auth, assessment):
    parent = row(app, assessment, "满意度", level=2)
    response = post(auth, f"{BASE}/{assessment['id']}/indicators/add",
                    {"parent_id": parent["id"], "name": "企业满意度", "weight": "5"})
    assert response.status_code == 302
    added = row(app, assessment, "企业满意度")
    assert post(auth, f"{BASE}/{assessment['id']}/indicators/{added['id']}/move",
                {"direction": "up"}).status_code == 302
    assert row(app, assessment, "企业满意度")["number"] == "4.3.1"
    delete = f"{BASE}/{assessment['id']}/indicators/{added['id']}/delete"
    assert "确认删除" in page(auth.client, delete)
    assert post(auth, delete, {}, delete).status_code == 302
    with pytest.raises(StopIteration):
        row(app, assessment, "企业满意度")


SCOPED_GETS = ["", "/print", "/report.xlsx", "/text", "/history", "/finalise", "/goals",
               "/reopen", "/indicators/{i}", "/indicators/{i}/delete"]
SCOPED_POSTS = ["/settings", "/explain", "/finalise", "/reopen", "/budget", "/goals", "/preview",
                "/indicators/add", "/indicators/{i}", "/indicators/{i}/actual", "/indicators/{i}/move",
                "/indicators/{i}/delete"]


def test_another_department_can_neither_read_nor_change(app, auth, assessment):
    target = row(app, assessment, "群众满意度")
    auth.client.post("/staff/logout", data={"csrf_token": auth.csrf()})
    auth.login("mallory")
    assert assessment["title"] not in page(auth.client, BASE)
    for suffix in SCOPED_GETS:
        path = f"{BASE}/{assessment['id']}{suffix.format(i=target['id'])}"
        assert auth.client.get(path).status_code == 404, path
    token = auth.csrf()
    for suffix in SCOPED_POSTS:
        path = f"{BASE}/{assessment['id']}{suffix.format(i=target['id'])}"
        data = {"csrf_token": token, "actual": "1%", "name": "x", "weight": "1", "reason": "x",
                "indicator_id": target["id"], "finding": "x", "explanation": "x", "acknowledge": "y"}
        assert auth.client.post(path, data=data).status_code == 404, path
    with app.app_context():
        assert store.history(get_db(), assessment["id"])[0]["field"] == "创建"
        assert store.get_assessment(get_db(), assessment["id"])["status"] == "draft"


def test_a_post_without_csrf_token_is_refused(app, auth, assessment):
    target = row(app, assessment, "群众满意度")
    response = auth.client.post(f"{BASE}/{assessment['id']}/indicators/{target['id']}/actual",
                                data={"actual": "99%"})
    assert response.status_code == 400
    assert row(app, assessment, "群众满意度")["actual"] is None


def test_evidence_package_of_an_assessment_verifies_and_names_a_changed_file(
        app, auth, assessment, make_survey):
    import io
    import json
    import zipfile

    from survey.io.evidence_verify import verify_package

    survey = make_survey()
    _link_satisfaction_to(app, auth, assessment, survey)
    response = auth.client.get(f"{BASE}/{assessment['id']}/evidence.zip")
    assert response.mimetype == "application/zip"
    package = io.BytesIO(response.data)
    report = verify_package(package)
    assert report.ok, report.problems
    with zipfile.ZipFile(package) as zf:
        scoring = json.loads(zf.read("assessment.json"))
        figures = json.loads(zf.read(f"surveys/{survey['id']}/figures.json"))
        members = {name: zf.read(name) for name in zf.namelist()}
    linked = next(i for i in scoring["indicators"] if i["name"] == "群众满意度")
    assert linked["score"] == "14.40" and "14.40" in linked["how_the_score_follows"]
    assert figures["satisfaction_rate"] == 0.96 and figures["valid"] == 25
    tampered = io.BytesIO()
    with zipfile.ZipFile(tampered, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content.replace(b"14.40", b"15.00") if name == "assessment.json"
                        else content)
    report = verify_package(tampered)
    assert not report.ok
    assert any("assessment.json" in p for p in report.problems)


def test_cli_writes_the_assessment_evidence_package(app, runner, assessment, tmp_path):
    from survey.io.evidence_verify import verify_package
    out = tmp_path / "a.zip"
    result = runner.invoke(args=["assessment-evidence", str(assessment["id"]), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert verify_package(out).ok
