"""Staff pages for data in and out: exports, evidence, paper import and entry, API tokens."""
import csv
import io
import re
import zipfile

import openpyxl
import pytest

from survey.io.evidence_verify import verify_package
from survey.io.paper_import import column_header
from survey.store.responses import Submission, record_response
from survey.web.db import get_db

from ..conftest import csrf_token_from


def _answer_all(app, survey, count=3, text="=cmd|' /C calc'!A0"):
    with app.app_context():
        db = get_db()
        for i in range(count):
            answers = {q["id"]: [q["options"][i % 5]["id"]] for q in survey["questions"]
                       if q["kind"] == "scale"}
            answers[survey["questions"][-1]["id"]] = text
            record_response(db, survey, survey["questions"], Submission(
                answers=answers, nonce=f"web-{survey['id']}-{i}", duration_seconds=30.0))


def _counts(app, survey_id) -> tuple[int, int]:
    with app.app_context():
        db = get_db()
        return (db.execute("SELECT count(*) FROM responses WHERE survey_id = ?",
                           [survey_id]).fetchone()[0],
                db.execute("SELECT count(*) FROM imports").fetchone()[0])


def _template_csv(survey, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([column_header(q) for q in survey["questions"]])
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def _paper_row(survey, level="满意"):
    return [level if q["kind"] == "scale" else "" for q in survey["questions"]]


def _upload(client, auth, survey, data: bytes, name="纸质问卷.csv", token=None):
    token = token or auth.csrf(f"/staff/surveys/{survey['id']}/data")
    return client.post(f"/staff/surveys/{survey['id']}/import", data={
        "csrf_token": token, "channel": "窗口 3", "file": (io.BytesIO(data), name)},
        content_type="multipart/form-data")


PAGES = ["data", "export?format=csv", "export?format=xlsx", "export?format=summary-xlsx",
         "evidence.zip", "import-template.xlsx", "import-template.csv", "entry"]


@pytest.mark.parametrize("page", PAGES)
def test_another_department_gets_404_everywhere(client, auth, make_survey, page):
    survey = make_survey()
    auth.login("mallory")
    assert client.get(f"/staff/surveys/{survey['id']}/{page}").status_code == 404


def test_another_department_cannot_import(client, auth, make_survey):
    survey = make_survey()
    auth.login("mallory")
    token = auth.csrf("/staff/api-tokens")
    response = _upload(client, auth, survey, _template_csv(survey, [_paper_row(survey)]),
                       token=token)
    assert response.status_code == 404


@pytest.mark.parametrize("page", PAGES)
def test_pages_need_a_login(client, make_survey, page):
    survey = make_survey()
    response = client.get(f"/staff/surveys/{survey['id']}/{page}")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


@pytest.mark.parametrize("path", ["/staff/surveys/{id}/data", "/staff/surveys/{id}/entry",
                                  "/staff/api-tokens"])
def test_every_post_form_carries_a_csrf_token(client, auth, make_survey, path):
    survey = make_survey()
    _answer_all(client.application, survey)
    auth.login()
    client.post("/staff/api-tokens", data={"name": "财政局",
                                           "csrf_token": auth.csrf("/staff/api-tokens")})
    html = client.get(path.format(id=survey["id"])).get_data(as_text=True)
    forms = re.findall(r"<form[^>]*method=\"post\".*?</form>", html, re.S)
    assert forms
    assert all('name="csrf_token"' in form for form in forms)


@pytest.mark.parametrize("path, data", [
    ("/staff/surveys/{id}/entry", {}),
    ("/staff/api-tokens", {"name": "财政局"}),
    ("/staff/api-tokens/1/revoke", {}),
])
def test_posts_without_csrf_are_refused(client, auth, make_survey, path, data):
    survey = make_survey()
    auth.login()
    assert client.post(path.format(id=survey["id"]), data=data).status_code == 400


def test_import_without_csrf_is_refused_and_imports_nothing(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    response = _upload(client, auth, survey, _template_csv(survey, [_paper_row(survey)]),
                       token="forged")
    assert response.status_code == 400
    assert _counts(app, survey["id"]) == (0, 0)


@pytest.mark.parametrize("encoding, charset", [("utf-8-sig", "utf-8"), ("gb18030", "gb18030")])
def test_csv_export_downloads_in_the_declared_encoding(client, auth, make_survey, encoding,
                                                       charset):
    survey = make_survey()
    _answer_all(client.application, survey)
    auth.login("bob")
    response = client.get(f"/staff/surveys/{survey['id']}/export?format=csv&encoding={encoding}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == f"text/csv; charset={charset}"
    assert "filename*=UTF-8''" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode(encoding))))
    assert len(rows) == 4 and rows[0][0] == "答卷编号"
    assert rows[1][-1] == "'=cmd|' /C calc'!A0"


def test_xlsx_exports_and_evidence_download(client, auth, make_survey):
    survey = make_survey()
    _answer_all(client.application, survey)
    auth.login("bob")
    base = f"/staff/surveys/{survey['id']}"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}/export?format=xlsx").data))
    assert book.active.max_row == 4 and book.active.freeze_panes == "A2"
    summary = openpyxl.load_workbook(io.BytesIO(
        client.get(f"{base}/export?format=summary-xlsx").data))
    assert "统计指标" in summary.sheetnames
    package = client.get(f"{base}/evidence.zip")
    assert package.headers["Content-Type"] == "application/zip"
    report = verify_package(io.BytesIO(package.data))
    assert report.ok and report.manifest["database_state"]["responses"] == 3


@pytest.mark.parametrize("query", ["format=pdf", "format=csv&encoding=latin-1"])
def test_unknown_export_options_are_a_400(client, auth, make_survey, query):
    survey = make_survey()
    auth.login()
    assert client.get(f"/staff/surveys/{survey['id']}/export?{query}").status_code == 400


def test_a_valid_file_imports_once(app, client, auth, make_survey):
    survey = make_survey()
    auth.login("bob")
    data = _template_csv(survey, [_paper_row(survey), _paper_row(survey, "100")])
    response = _upload(client, auth, survey, data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "已导入 2 份纸质问卷，其中有效 2 份" in page and "纸质问卷.csv" in page
    again = _upload(client, auth, survey, data, name="另一个名字.csv")
    assert again.status_code == 422
    assert "不能重复导入" in again.get_data(as_text=True)
    assert _counts(app, survey["id"]) == (2, 1)


def test_a_bad_file_lists_every_problem_and_imports_nothing(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    rows = [_paper_row(survey, "很好"), _paper_row(survey), [*_paper_row(survey, "")[:-1], "无"]]
    response = _upload(client, auth, survey, _template_csv(survey, rows))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "未导入任何答卷" in html
    assert html.count("“很好”不是该题的选项") == 8  # eight scale questions on row 2
    assert html.count("必答题未作答") == 8  # and none answered on row 4
    assert _counts(app, survey["id"]) == (0, 0)


def test_a_50_megabyte_upload_gets_a_clear_message_not_a_500(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    response = _upload(client, auth, survey, b"x" * (50 * 1024 * 1024))
    response.request.environ["wsgi.input"].close()  # the test client's spooled 50 MB body
    assert response.status_code == 413
    assert "文件过大，上限为 20 MB" in response.get_data(as_text=True)
    assert _counts(app, survey["id"]) == (0, 0)


def test_a_draft_survey_refuses_paper(app, client, auth, make_survey):
    survey = make_survey(status="draft")
    auth.login()
    response = _upload(client, auth, survey, _template_csv(survey, [_paper_row(survey)]))
    assert response.status_code == 422 and "草稿" in response.get_data(as_text=True)
    entry = client.get(f"/staff/surveys/{survey['id']}/entry", follow_redirects=True)
    assert "不能录入纸质问卷" in entry.get_data(as_text=True)


def test_templates_download_with_the_questions(client, auth, make_survey):
    survey = make_survey()
    auth.login("bob")
    base = f"/staff/surveys/{survey['id']}/import-template"
    book = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}.xlsx").data))
    assert [c.value for c in book.active[1]] == [column_header(q) for q in survey["questions"]]
    assert client.get(f"{base}.csv").data.decode("utf-8-sig").startswith("1. ")


def _entry(client, auth, survey, values: dict, **extra):
    path = f"/staff/surveys/{survey['id']}/entry"
    page = client.get(path).get_data(as_text=True)
    nonce = re.search(r'name="entry"[^>]*value="([^"]+)"', page).group(1)
    data = {"csrf_token": csrf_token_from(page), "entry": nonce, **extra}
    data.update({f"q{q['id']}": values.get(q["kind"], "") for q in survey["questions"]})
    return client.post(path, data=data), data


def test_entry_page_is_keyboard_friendly(client, auth, make_survey):
    survey = make_survey()
    auth.login()
    html = client.get(f"/staff/surveys/{survey['id']}/entry").get_data(as_text=True)
    assert html.count("autofocus") == 1 and 'inputmode="numeric"' in html
    assert "保存并录入下一份" in html and "1 非常满意" in html


def test_entry_saves_one_questionnaire_after_another(app, client, auth, make_survey):
    survey = make_survey()
    auth.login()
    response, data = _entry(client, auth, survey, {"scale": "2", "single": "1", "text": "好"})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "号答卷已保存（有效）" in page and "已录入 1 份" in page
    again = client.post(f"/staff/surveys/{survey['id']}/entry", data=data)  # a double submit
    assert "已保存过" in client.get(again.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        rows = list(get_db().query("SELECT r.source, s.valid FROM responses r "
                                   "JOIN screening s ON s.response_id = r.id"))
    assert rows == [{"source": "paper", "valid": 1}]


def test_an_incomplete_entry_needs_confirming_and_is_screened_invalid(app, client, auth,
                                                                      make_survey):
    survey = make_survey()
    auth.login()
    response, _ = _entry(client, auth, survey, {"single": "1"})
    assert response.status_code == 422
    assert "必答题未作答" in response.get_data(as_text=True)
    assert _counts(app, survey["id"]) == (0, 0)
    confirmed, _ = _entry(client, auth, survey, {"single": "1"}, incomplete_ok="y")
    assert confirmed.status_code == 303
    shown = client.get(confirmed.headers["Location"]).get_data(as_text=True)
    assert "已保存（无效：必答题未答完）" in shown
    with app.app_context():
        reasons = get_db().execute("SELECT valid, reasons FROM screening").fetchone()
    assert tuple(reasons) == (0, '["incomplete"]')


@pytest.mark.parametrize("value, message", [("6", "请输入 1–5 之间的数字"), ("一", "请输入 1–5"),
                                            ("1 2", "该题为单选题")])
def test_a_mistyped_entry_keeps_what_was_typed(app, client, auth, make_survey, value, message):
    survey = make_survey()
    auth.login()
    response, _ = _entry(client, auth, survey, {"scale": value})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and f'value="{value}"' in html
    assert _counts(app, survey["id"]) == (0, 0)


def test_tokens_are_shown_once_and_stored_as_a_hash(app, client, auth):
    auth.login()
    response = client.post("/staff/api-tokens", data={
        "name": "财政局绩效系统", "csrf_token": auth.csrf("/staff/api-tokens")})
    token = re.search(r"(sv_[A-Za-z0-9_-]{20,})", response.get_data(as_text=True)).group(1)
    assert token not in client.get("/staff/api-tokens").get_data(as_text=True)
    with app.app_context():
        stored = [tuple(r) for r in get_db().execute("SELECT * FROM api_tokens")]
    assert stored and not any(token in str(value) for value in stored[0])


def test_tokens_are_for_admins_only(client, auth):
    auth.login("bob")
    assert client.get("/staff/api-tokens").status_code == 403


def test_another_department_cannot_revoke_a_token(app, client, auth):
    auth.login()
    client.post("/staff/api-tokens",
                data={"name": "甲", "csrf_token": auth.csrf("/staff/api-tokens")})
    client.post("/staff/logout", data={"csrf_token": auth.csrf("/staff/api-tokens")})
    auth.login("mallory")
    response = client.post("/staff/api-tokens/1/revoke",
                           data={"csrf_token": auth.csrf("/staff/api-tokens")})
    assert response.status_code == 404
    with app.app_context():
        assert get_db().execute("SELECT revoked_at FROM api_tokens").fetchone()[0] is None


def test_evidence_zip_lists_files_in_the_manifest(client, auth, make_survey):
    survey = make_survey()
    _answer_all(client.application, survey, count=1)
    auth.login()
    with zipfile.ZipFile(io.BytesIO(client.get(
            f"/staff/surveys/{survey['id']}/evidence.zip").data)) as zf:
        assert "manifest.json" in zf.namelist() and "chain.jsonl" in zf.namelist()
