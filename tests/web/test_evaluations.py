"""一事一评 (issue 16, items 3-6): invitations per transaction over the API and the CLI,
window tablets, answers bound to their transaction, 发放 per window, cases to the window's
assignee, and the tokens' isolation."""
import datetime as dt
import json
import re
import threading

import pytest

from survey.core.questionnaire import load_survey_template
from survey.core.transactions import Transaction
from survey.store import accounts, api_tokens, builder
from survey.store import surveys as survey_store
from survey.store import windows as window_store
from survey.store import dashboard as dashboard_store
from survey.store.responses import Submission, record_response
from survey.store.util import iso, utc_now
from survey.web.db import get_db

from ..conftest import Auth, csrf_token_from
from .test_api import schema_errors

def window_questionnaire() -> dict:
    """The template's first question, its headline and the 好差评 rule's conditional 'what
    went wrong' question right after it; no minimum answering time (the tests answer at once)."""
    template = load_survey_template("satisfaction-5")
    first, headline, reasons = (template["questions"][i] for i in (0, 7, 8))
    reasons = {**reasons, "show_if": {**reasons["show_if"], "question": 2}}
    settings = {**template["settings"], "headline_position": 2,
                "screening": {"min_seconds": None}}
    return {**template, "settings": settings, "questions": [first, headline, reasons]}


@pytest.fixture
def window_survey(app):
    return make_window_survey(app)


def make_window_survey(app, department="测试部门", **kwargs) -> dict:
    with app.app_context():
        db = get_db()
        dept = accounts.ensure_department(db, department)
        survey_id = survey_store.create_survey(db, dept, window_questionnaire(), status="open",
                                               title="窗口服务评价", **kwargs)
        survey = survey_store.get_survey(db, survey_id)
        survey["questions"] = survey_store.questionnaire(db, survey_id)
    return survey


def answers(survey: dict, level: int, reasons=()) -> dict:
    data = {}
    for q in survey["questions"]:
        if q["kind"] == "scale":
            data[f"q{q['id']}"] = str(q["options"][level]["id"])
        elif reasons:
            data[f"q{q['id']}"] = [str(o["id"]) for o in q["options"] if o["label"] in reasons]
    return data


def token(app, scopes=("read", "invite"), department="测试部门") -> str:
    with app.app_context():
        db = get_db()
        dept = accounts.department_by_name(db, department)["id"]
        return api_tokens.create_token(db, dept, "窗口排队系统", None, scopes).token


def invite(client, survey, bearer, **body):
    return client.post(f"/api/v1/surveys/{survey['id']}/invitations", json=body,
                       headers={"Authorization": f"Bearer {bearer}"})


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def answer_page(client, path: str, data: dict):
    html = client.get(path).get_data(as_text=True)
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', html).group(1)
    return client.post(path, data={**data, "ticket": ticket})


def count(app, sql, params=()):
    with app.app_context():
        return get_db().execute(sql, params).fetchone()[0]


# --- invitations over the API ---------------------------------------------------------------

def test_an_invite_token_creates_one_invitation_per_reference(app, client, window_survey):
    bearer = token(app)
    spec = client.get("/api/v1/openapi.json").get_json()
    first = invite(client, window_survey, bearer, reference="BJ20261201001", window="窗口 3",
                   staff="A07")
    assert first.status_code == 201
    schema = spec["paths"]["/surveys/{survey_id}/invitations"]["post"]["responses"]["201"]
    assert schema_errors(first.get_json(), schema["content"]["application/json"]["schema"],
                         spec) == []
    again = invite(client, window_survey, bearer, reference="BJ20261201001", window="窗口 5")
    assert again.status_code == 200
    assert again.get_json()["url"] == first.get_json()["url"]
    assert again.get_json()["window"] == "窗口 3"  # the first description stands
    body = first.get_json()
    assert re.fullmatch(r"http://localhost/t/[A-Za-z0-9_-]{24}", body["url"])
    assert not body["answered"] and body["expires_at"] > body["created_at"]
    assert count(app, "SELECT count(*) FROM invitations") == 1


@pytest.mark.parametrize("who", ["read-only token", "staff session"])
def test_only_an_invite_token_may_create_invitations(app, client, window_survey, who):
    if who == "read-only token":
        response = invite(client, window_survey, token(app, ("read",)), reference="BJ1")
    else:
        Auth(client).login("bob")
        response = client.post(f"/api/v1/surveys/{window_survey['id']}/invitations",
                               json={"reference": "BJ1"})
    assert response.status_code == 403 and "invite" in response.get_json()["error"]
    assert count(app, "SELECT count(*) FROM invitations") == 0


def test_invitations_are_scoped_and_checked(app, client, window_survey):
    theirs = token(app, department="其他部门")
    assert invite(client, window_survey, theirs, reference="BJ1").status_code == 404
    bearer = token(app)
    for body, words in (({}, "办件编号"), ({"reference": "含 空格"}, "字母、数字"),
                        ({"reference": "A" * 65}, "最多 64"),
                        ({"reference": "BJ1", "window": "窗" * 41}, "40"),
                        ({"reference": "BJ1", "staff": 7}, "文字")):
        response = invite(client, window_survey, bearer, **body)
        assert response.status_code == 400 and words in response.get_json()["error"], body
    bad_json = client.post(f"/api/v1/surveys/{window_survey['id']}/invitations", data="[",
                           headers={"Authorization": f"Bearer {bearer}",
                                    "Content-Type": "application/json"})
    assert bad_json.status_code == 400
    assert count(app, "SELECT count(*) FROM invitations") == 0


def test_receipt_qr_codes_fit_a_58mm_printer(app, client, window_survey):
    import io

    import zxingcpp
    from PIL import Image
    bearer = token(app)
    url = invite(client, window_survey, bearer, reference="BJ7", window="窗口 1").get_json()["url"]
    headers = {"Authorization": f"Bearer {bearer}"}
    png = client.get(f"/api/v1/surveys/{window_survey['id']}/invitations/BJ7/qr.png",
                     headers=headers)
    assert png.mimetype == "image/png"
    image = Image.open(io.BytesIO(png.get_data()))
    assert 300 <= image.width <= 384 and image.width == image.height
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [url]
    svg = client.get(f"/api/v1/surveys/{window_survey['id']}/invitations/BJ7/qr.svg",
                     headers=headers).get_data(as_text=True)
    assert 'width="48.0mm"' in svg
    missing = client.get(f"/api/v1/surveys/{window_survey['id']}/invitations/BJ8/qr.png",
                         headers=headers)
    assert missing.status_code == 404


# --- answering an invitation ----------------------------------------------------------------

def test_an_invitation_is_answered_once(app, client, window_survey):
    url = invite(client, window_survey, token(app), reference="BJ1", window="窗口 3",
                 staff="A07").get_json()["url"]
    page = client.get(path_of(url)).get_data(as_text=True)
    assert "办件编号 <strong>BJ1</strong>" in page
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', page).group(1)
    first = client.post(path_of(url), data={**answers(window_survey, 0), "ticket": ticket})
    assert first.status_code == 303
    again = client.get(path_of(url)).get_data(as_text=True)
    assert "该笔业务已评价" in again and 'name="ticket"' not in again
    # the same form posted again (another tab, a new nonce would not help either)
    second = client.post(path_of(url), data={**answers(window_survey, 4), "ticket": ticket})
    assert "已评价" in second.get_data(as_text=True)
    with app.app_context():
        rows = get_db().execute(
            "SELECT r.channel, t.window_name, t.staff_code, t.invitation_id, r.device_hash, "
            "r.ip_hash FROM responses r JOIN response_transactions t ON t.response_id = r.id"
        ).fetchall()
    assert rows == [("窗口 3", "窗口 3", "A07", 1, None, None)]


def test_two_simultaneous_answers_store_one(app, window_survey):
    """The UNIQUE invitation in the response's own transaction decides, not a check before it."""
    with app.app_context():
        invitation, _ = window_store.invite(get_db(), window_survey["id"],
                                            Transaction("BJ9", "窗口 2"), 7)
    results = []

    def submit(n):
        with app.app_context():
            tag = window_store.AnswerTag(window="窗口 2", invitation_id=invitation["id"])
            scale = [q for q in window_survey["questions"] if q["kind"] == "scale"]
            try:
                record_response(get_db(), window_survey, window_survey["questions"], Submission(
                    answers={q["id"]: [q["options"][0]["id"]] for q in scale},
                    nonce=f"race-{n}", tag=tag))
                results.append("stored")
            except window_store.InvitationAnsweredError:
                results.append("refused")

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["refused"] * 3 + ["stored"]
    assert count(app, "SELECT count(*) FROM responses") == 1
    assert count(app, "SELECT sum(returned) FROM response_tallies") == 1


def test_an_expired_invitation_shows_a_polite_page_and_stores_nothing(app, client,
                                                                     window_survey):
    url = invite(client, window_survey, token(app), reference="BJ2").get_json()["url"]
    page = client.get(path_of(url)).get_data(as_text=True)
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', page).group(1)
    with app.app_context():
        get_db().execute("UPDATE invitations SET expires_at = ?",
                         [iso(utc_now() - dt.timedelta(seconds=1))])
    shown = client.get(path_of(url))
    assert shown.status_code == 200 and "已过有效期" in shown.get_data(as_text=True)
    posted = client.post(path_of(url), data={**answers(window_survey, 0), "ticket": ticket})
    assert "已过有效期" in posted.get_data(as_text=True)
    assert count(app, "SELECT count(*) FROM responses") == 0


def test_invitations_expire_after_the_configured_days(app, client, window_survey):
    app.config["INVITATION_DAYS"] = 2
    body = invite(client, window_survey, token(app), reference="BJ3").get_json()
    gap = dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.fromisoformat(
        body["created_at"])
    assert gap == dt.timedelta(days=2)


def test_a_token_of_one_survey_cannot_store_in_another(app, client, window_survey):
    other = make_window_survey(app)
    bearer = token(app)
    url = invite(client, window_survey, bearer, reference="BJ1").get_json()["url"]
    other_page = client.get(f"/s/{other['token']}").get_data(as_text=True)
    other_ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', other_page).group(1)
    response = client.post(path_of(url), data={**answers(window_survey, 0),
                                               "ticket": other_ticket})
    assert response.status_code == 422 and "页面已过期" in response.get_data(as_text=True)
    assert count(app, "SELECT count(*) FROM responses") == 0


def test_a_tablet_of_one_survey_cannot_store_in_another(app, client, window_survey):
    other = make_window_survey(app)
    kiosk = new_kiosk(app, window_survey)
    other_page = client.get(f"/s/{other['token']}").get_data(as_text=True)
    other_ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', other_page).group(1)
    response = client.post(kiosk, data={**answers(window_survey, 0), "ticket": other_ticket})
    assert response.status_code == 422 and "页面已过期" in response.get_data(as_text=True)
    assert count(app, "SELECT count(*) FROM responses") == 0


def test_invitation_answers_are_not_flagged_by_the_address_limit(app, client, window_survey):
    app.config["SUBMIT_RATE_LIMIT"] = 0  # every plain submission from this address is flagged
    assert answer_page(client, f"/s/{window_survey['token']}",
                       answers(window_survey, 0)).status_code == 303
    bearer = token(app)
    for n in range(3):
        url = invite(client, window_survey, bearer, reference=f"BJ{n}").get_json()["url"]
        assert answer_page(client, path_of(url), answers(window_survey, 0)).status_code == 303
    assert count(app, "SELECT count(*) FROM response_transactions") == 3
    with app.app_context():
        assert dashboard_store.busy_address_flags(get_db(), window_survey["id"])["flagged"] == 1


def test_unknown_tokens_are_one_plain_404(client, window_survey):
    bodies = {client.get(path).get_data(as_text=True) for path in (
        "/t/AAAAAAAAAAAAAAAAAAAAAAAA", "/t/x", "/k/AAAAAAAAAAAAAAAAAAAAAAAA", "/k/" + "y" * 65)}
    assert len(bodies) == 1
    assert client.get("/t/AAAAAAAAAAAAAAAAAAAAAAAA").status_code == 404


# --- window tablets -------------------------------------------------------------------------

def new_kiosk(app, survey, window="窗口 3") -> str:
    with app.app_context():
        return "/k/" + window_store.register_kiosk(get_db(), survey, window, None)["token"]


def test_a_tablet_answers_for_its_window_again_and_again(app, client, window_survey):
    kiosk = new_kiosk(app, window_survey)
    app.config["SUBMIT_RATE_LIMIT"] = 1
    with app.app_context():
        get_db().execute("UPDATE surveys SET dedupe_policy = 'device_cookie'")
    page = client.get(kiosk).get_data(as_text=True)
    assert 'class="large"' in page and "kiosk.js" in page and "窗口 3" in page
    assert 'data-idle-seconds="90"' in page and "大字版" not in page
    for level, reasons in ((0, ()), (1, ()), (3, ("等候时间长",))):
        response = answer_page(client, kiosk, answers(window_survey, level, reasons))
        assert response.status_code == 303 and response.headers["Location"] == f"{kiosk}/thanks"
    thanks = client.get(f"{kiosk}/thanks").get_data(as_text=True)
    assert f'<meta http-equiv="refresh" content="5;url={kiosk}">' in thanks
    assert count(app, "SELECT count(*) FROM responses WHERE channel = '窗口 3'") == 3
    assert count(app, "SELECT count(*) FROM response_transactions WHERE kiosk_id = 1 "
                      "AND invitation_id IS NULL") == 3


def test_a_tablet_shows_the_transaction_its_window_just_finished(app, client, window_survey):
    kiosk = new_kiosk(app, window_survey, "窗口 3")
    bearer = token(app)
    invite(client, window_survey, bearer, reference="BJ-OTHER", window="窗口 4")
    invite(client, window_survey, bearer, reference="BJ-OLD", window="窗口 3")
    with app.app_context():
        get_db().execute("UPDATE invitations SET created_at = ? WHERE reference = 'BJ-OLD'",
                         [iso(utc_now() - dt.timedelta(minutes=6))])
    assert "办件编号" not in client.get(kiosk).get_data(as_text=True)
    invite(client, window_survey, bearer, reference="BJ-NOW", window="窗口 3", staff="A07")
    assert "办件编号 <strong>BJ-NOW</strong>" in client.get(kiosk).get_data(as_text=True)
    assert answer_page(client, kiosk, answers(window_survey, 0)).status_code == 303
    with app.app_context():
        bound = get_db().execute(
            "SELECT i.reference, t.staff_code, t.kiosk_id FROM response_transactions t "
            "JOIN invitations i ON i.id = t.invitation_id").fetchall()
    assert bound == [("BJ-NOW", "A07", 1)]
    assert "办件编号" not in client.get(kiosk).get_data(as_text=True)  # answered: next citizen


def test_a_revoked_tablet_is_not_found(app, client, window_survey):
    kiosk = new_kiosk(app, window_survey)
    page = client.get(kiosk).get_data(as_text=True)
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', page).group(1)
    with app.app_context():
        db = get_db()
        window_store.revoke_kiosk(db, survey_store.get_survey(db, window_survey["id"]), 1, None)
    assert client.get(kiosk).status_code == 404
    assert client.post(kiosk, data={**answers(window_survey, 0), "ticket": ticket}
                       ).status_code == 404
    assert count(app, "SELECT count(*) FROM responses") == 0


def test_staff_register_and_revoke_tablets_and_set_the_window_assignee(app, client,
                                                                      window_survey):
    auth = Auth(client)
    auth.login("bob")  # a non-admin of the department
    base = f"/staff/surveys/{window_survey['id']}/windows"
    page = client.get(base).get_data(as_text=True)
    response = client.post(base, data={"window": "", "csrf_token": csrf_token_from(page)})
    assert response.status_code == 422 and "请填写窗口名称" in response.get_data(as_text=True)
    client.post(base, data={"window": "窗口 3", "csrf_token": csrf_token_from(page)})
    page = client.get(base).get_data(as_text=True)
    kiosk = re.search(r"http://localhost(/k/[A-Za-z0-9_-]+)", page).group(1)
    assert client.get(kiosk).status_code == 200
    assert "本页的平板地址、评价链接和回执二维码指向本机地址 localhost，手机和平板无法打开" in page
    with app.app_context():
        bob = accounts.department_users(get_db(), 1)
    bob_id = next(u["id"] for u in bob if u["username"] == "bob")
    client.post(f"{base}/assignee", data={"window": "窗口 3", "assignee": str(bob_id),
                                          "csrf_token": csrf_token_from(page)})
    page = client.get(base).get_data(as_text=True)
    assert re.search(r'data-window="窗口 3"><td>窗口 3</td><td>bob</td>', page)
    mallory_id = count(app, "SELECT id FROM users WHERE username = 'mallory'")
    refused = client.post(f"{base}/assignee", data={"window": "窗口 3", "assignee": mallory_id,
                                                    "csrf_token": csrf_token_from(page)})
    assert refused.status_code == 422
    client.post(f"/staff/surveys/{window_survey['id']}/kiosks/1/revoke",
                data={"csrf_token": csrf_token_from(page)})
    assert client.get(kiosk).status_code == 404


# --- figures and cases ----------------------------------------------------------------------

def test_figures_per_window_and_staff_and_cases_to_the_window_assignee(app, client, runner,
                                                                      window_survey):
    with app.app_context():
        db = get_db()
        bob_id = db.execute("SELECT id FROM users WHERE username = 'bob'").fetchone()[0]
        window_store.set_assignee(db, window_survey, "窗口 3", bob_id, None)
        # a batch recorded for 窗口 3 before it had invitations is not counted again
        builder.record_issued(db, window_survey, 50, "", None, channel="窗口 3")
        builder.record_issued(db, window_survey, 10, "", None, channel="大厅海报")
    bearer = token(app)
    urls = [invite(client, window_survey, bearer, reference=f"BJ{n}", window="窗口 3",
                   staff="A07" if n < 3 else "B11").get_json()["url"] for n in range(5)]
    for url, level in zip(urls[:4], (0, 1, 0, 4), strict=True):
        data = answers(window_survey, level, reasons=["等候时间长"] if level == 4 else ())
        assert answer_page(client, path_of(url), data).status_code == 303
    text = runner.invoke(args=["summary", str(window_survey["id"])]).stdout
    assert "窗口 3：发放 5，回收 4，有效 4，满意率 75.00%" in text
    result = runner.invoke(args=["summary", str(window_survey["id"]), "--json"])
    figures = json.loads(result.stdout)
    assert figures["issued"] == 15  # 5 invitations + the poster's 10; not the window's 50
    (window,) = figures["by_window"]
    assert (window["window"], window["issued"], window["returned"], window["valid"]) == \
        ("窗口 3", 5, 4, 4)
    assert window["exact"]["satisfaction_rate"] == [3, 4]
    assert window["satisfaction_rate_ci95"][0] < 0.75 < window["satisfaction_rate_ci95"][1]
    assert window["small_sample"]  # four answers: the wording warns
    staff = {s["staff"]: s for s in figures["by_staff"]}
    assert (staff["A07"]["issued"], staff["A07"]["returned"]) == (3, 3)
    assert staff["A07"]["satisfaction_rate"] == 1.0
    assert (staff["B11"]["issued"], staff["B11"]["returned"]) == (2, 1)
    assert staff["B11"]["exact"]["satisfaction_rate"] == [0, 1]
    with app.app_context():
        cases = get_db().execute("SELECT channel, assignee_id FROM cases").fetchall()
    assert cases == [("窗口 3", bob_id)]
    Auth(client).login("bob")
    board = client.get(f"/staff/surveys/{window_survey['id']}/").get_data(as_text=True)
    row = re.search(r'<tr data-window="窗口 3">(.*?)</tr>', board, re.S).group(1)
    assert re.findall(r'<td class="num[^"]*">([^<]*)</td>', row)[:5] == \
        ["5", "4", "4", "80.00%", "75.00%"]
    assert 'data-small-sample="窗口 3"' in board and "样本量提示" in board
    issued_page = client.get(f"/staff/surveys/{window_survey['id']}/issued").get_data(
        as_text=True)
    assert "不再累加" in issued_page


# --- the command line -----------------------------------------------------------------------

def test_cli_invite_is_idempotent_and_kiosk_prints_its_url(app, runner, window_survey):
    first = runner.invoke(args=["invite", str(window_survey["id"]), "--reference", "BJ1",
                                "--window", "窗口 3", "--staff", "A07", "--json"])
    again = runner.invoke(args=["invite", window_survey["token"], "--reference", "BJ1",
                                "--json"])
    one, two = json.loads(first.stdout), json.loads(again.stdout)
    assert one["created"] and not two["created"] and one["url"] == two["url"]
    assert first.stderr.startswith("注意：此评价链接指向本机地址 127.0.0.1，手机和平板无法打开。")
    assert one["url"].startswith("http://127.0.0.1:8000/t/")
    bad = runner.invoke(args=["invite", str(window_survey["id"]), "--reference", "坏 编号"])
    assert bad.exit_code != 0 and "办件编号" in bad.output
    registered = runner.invoke(args=["kiosk", str(window_survey["id"]), "--window", "窗口 3",
                                     "--json"])
    assert registered.stderr.startswith("注意：此平板地址指向本机地址 127.0.0.1")
    kiosk = json.loads(registered.stdout)
    assert kiosk["window"] == "窗口 3" and "/k/" in kiosk["url"]
    with app.test_client() as client:
        assert client.get(path_of(kiosk["url"])).status_code == 200


# --- the raw export names each answer's 办件 and staff code --------------------------------

def test_raw_exports_name_the_transaction_and_staff_code_of_each_answer(app, client, auth,
                                                                       window_survey):
    import csv
    import io

    import openpyxl
    url = invite(client, window_survey, token(app), reference="BJ9", window="窗口 3",
                 staff="=1+1").get_json()["url"]
    assert answer_page(client, path_of(url), answers(window_survey, 0)).status_code == 303
    assert answer_page(client, f"/s/{window_survey['token']}?via=qr",
                       answers(window_survey, 0)).status_code == 303
    auth.login()
    base = f"/staff/surveys/{window_survey['id']}/export"
    text = client.get(f"{base}?format=csv").get_data().decode("utf-8-sig")
    header, *rows = list(csv.reader(io.StringIO(text)))
    assert header[3:7] == ["渠道", "办件编号", "工号", "答题用时（秒）"]
    assert [row[3:6] for row in rows] == [["窗口 3", "BJ9", "'=1+1"], ["", "", ""]]
    sheet = openpyxl.load_workbook(io.BytesIO(client.get(f"{base}?format=xlsx").get_data()),
                                   read_only=True).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(min_row=1, max_row=3, max_col=6, values_only=True)]
    assert values[0][4:6] == ["办件编号", "工号"] and values[1][4:6] == ["BJ9", "'=1+1"]
    assert values[2][4:6] == [None, None]
