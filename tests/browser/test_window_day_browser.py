"""一事一评, a whole day at 窗口 3 (issue 16): the queue system creates an invitation for each
finished transaction over the API, the window's tablet evaluates the ones just finished, a
receipt's QR code is scanned and answered on a phone, a second answer is refused, a bad review
gives its reason, and the day's figures and the case land where they should."""
import csv
import io
import json
import re
import urllib.request

import zxingcpp
from PIL import Image

from survey.store import accounts
from survey.web.db import get_db

from ..conftest import PASSWORD, SurveyCliRunner
from ..web.test_evaluations import window_questionnaire
from .conftest import _context, screenshot

TABLET = {"width": 800, "height": 1280}
VERY_SATISFIED, SATISFIED, VERY_DISSATISFIED = 0, 1, 4


def _api(live_server, bearer: str, path: str, body: dict | None = None):
    request = urllib.request.Request(
        live_server.url + path, data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {bearer}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        data = response.read()
        return response.status, (json.loads(data) if body is not None else data)


def _invite_token(staff_page, live_server) -> str:
    """An administrator creates the queue system's token, ticking the invite scope."""
    staff_page.goto(f"{live_server.url}/staff/api-tokens")
    staff_page.fill("input[name=name]", "排队叫号系统")
    staff_page.check("input[name=invite]")
    staff_page.click("form.card button[type=submit]")
    return staff_page.inner_text("code.io-secret").strip()


def _set_up_window(staff_page, live_server, survey) -> str:
    """The tablet of 窗口 3 and its 差评 assignee, wang (a staff member, not an admin)."""
    staff_page.goto(f"{live_server.url}/staff/surveys/{survey['id']}/windows")
    staff_page.fill("#kiosks input[name=window]", "窗口 3")
    staff_page.click("#kiosks button[type=submit]")
    staff_page.wait_for_selector(".flash")
    staff_page.fill("#windows input[name=window]", "窗口 3")
    staff_page.select_option("#windows select[name=assignee]", label="wang")
    staff_page.click("#windows button[type=submit]")
    staff_page.wait_for_selector(".flash")
    assert "wang" in staff_page.inner_text('#windows tr[data-window="窗口 3"]')
    return re.search(r"(/k/[A-Za-z0-9_-]+)", staff_page.inner_text("#kiosks")).group(1)


def _rate(page, survey, level: int, reasons=()) -> None:
    for q in survey["questions"]:
        if q["kind"] == "scale":
            page.locator(f"#question-{q['id']} label.choice").nth(level).click()
        else:
            for reason in reasons:
                page.locator(f"#question-{q['id']} label.choice", has_text=reason).click()
    page.click("button.submit")


def _tablet_evaluates(tablet, live_server, kiosk, survey, reference, level) -> None:
    tablet.goto(live_server.url + kiosk)
    if reference:
        assert f"办件编号 {reference}" in tablet.inner_text(".evaluation")
    else:
        assert tablet.locator(".evaluation").count() == 0
    _rate(tablet, survey, level)
    tablet.wait_for_url(f"**{kiosk}/thanks")
    # the thank-you page returns to a fresh form by itself (a meta refresh, no script needed)
    tablet.wait_for_url(live_server.url + kiosk, timeout=5000)
    tablet.wait_for_selector("button.submit")


def test_a_day_at_one_window(browser, page, staff_page, live_server):
    live_server.app.config.update(KIOSK_THANKS_SECONDS=1, KIOSK_IDLE_SECONDS=2)
    survey = live_server.open_survey(window_questionnaire(), title="窗口服务一事一评")
    with live_server.app.app_context():
        db = get_db()
        department = accounts.department_by_name(db, "信阳市平桥区人力资源和社会保障局")["id"]
        wang = accounts.create_user(db, "wang", PASSWORD, department, "staff")
    bearer = _invite_token(staff_page, live_server)
    kiosk = _set_up_window(staff_page, live_server, survey)
    invitations = f"/api/v1/surveys/{survey['id']}/invitations"

    tablet_context = _context(browser, TABLET, has_touch=True)
    tablet = tablet_context.new_page()
    # 09:05 a walk-in with no transaction number yet
    _tablet_evaluates(tablet, live_server, kiosk, survey, None, SATISFIED)
    # 09:20 and 09:40 two transactions, evaluated on the tablet right after
    for reference, level in (("PQ2026120101", VERY_SATISFIED), ("PQ2026120102", SATISFIED)):
        status, made = _api(live_server, bearer, invitations,
                            {"reference": reference, "window": "窗口 3", "staff": "A07"})
        assert status == 201 and made["window"] == "窗口 3"
        _tablet_evaluates(tablet, live_server, kiosk, survey, reference, level)
    screenshot(tablet, "window-day-tablet")
    # the tablet clears a half-filled form left behind (its idle timer runs while the receipt
    # below is answered; the form is checked for being cleared after that)
    tablet.locator("label.choice").first.click()
    assert tablet.locator("input:checked").count() == 1

    # 10:15 the citizen leaves with a receipt; its QR code opens the same transaction's form
    status, made = _api(live_server, bearer, invitations,
                        {"reference": "PQ2026120103", "window": "窗口 3", "staff": "B11"})
    assert status == 201
    again_status, again = _api(live_server, bearer, invitations,
                               {"reference": "PQ2026120103", "window": "窗口 3"})
    assert (again_status, again["url"]) == (200, made["url"])
    _, png = _api(live_server, bearer, made["qr"]["png"])
    receipt = Image.open(io.BytesIO(png))
    assert receipt.width <= 384
    (code,) = zxingcpp.read_barcodes(receipt)
    assert code.text == made["url"]
    page.goto(code.text)
    assert "办件编号 PQ2026120103" in page.inner_text(".evaluation")
    _rate(page, survey, VERY_DISSATISFIED, reasons=["等候时间长"])
    page.wait_for_url(f"**/s/{survey['token']}/thanks")
    page.goto(code.text)
    assert "该笔业务已评价" in page.inner_text("main")
    assert page.locator("button.submit").count() == 0
    screenshot(page, "window-day-receipt-already-answered")
    tablet.wait_for_selector("input:checked", state="detached", timeout=6000)
    assert tablet.url == live_server.url + kiosk
    tablet_context.close()
    # 11:00 one more transaction whose citizen never evaluates
    _api(live_server, bearer, invitations,
         {"reference": "PQ2026120104", "window": "窗口 3", "staff": "B11"})

    result = SurveyCliRunner(live_server.app).invoke(args=["summary", str(survey["id"]),
                                                          "--json"])
    figures = json.loads(result.stdout)
    (window,) = figures["by_window"]
    assert (window["issued"], window["returned"], window["valid"]) == (4, 4, 4)
    assert window["exact"]["satisfaction_rate"] == [3, 4]
    assert len(window["satisfaction_rate_ci95"]) == 2
    staff = {s["staff"]: (s["issued"], s["returned"], s["exact"]["satisfaction_rate"])
             for s in figures["by_staff"]}
    assert staff == {"A07": (2, 2, [1, 1]), "B11": (2, 1, [0, 1])}

    staff_page.goto(f"{live_server.url}/staff/surveys/{survey['id']}/")
    row = staff_page.locator('#windows tr[data-window="窗口 3"]').inner_text()
    assert re.findall(r"\S+", row) == ["窗口", "3", "4", "4", "4", "100.00%", "75.00%",
                                       *re.findall(r"\S+", row)[7:]]
    assert staff_page.locator('#windows [data-small-sample="窗口 3"]').count() == 1
    screenshot(staff_page, "window-day-dashboard")

    case_id = live_server.db_value("SELECT id FROM cases WHERE survey_id = ?", [survey["id"]])
    assert live_server.db_value("SELECT assignee_id FROM cases WHERE id = ?", [case_id]) == wang
    staff_page.goto(f"{live_server.url}/staff/cases/{case_id}")
    text = staff_page.inner_text("main")
    assert "wang" in text and "等候时间长" in text and "窗口 3" in text
    screenshot(staff_page, "window-day-case")

    # the raw export, through waitress, names each answer's 办件 and staff code
    export = staff_page.request.get(
        f"{live_server.url}/staff/surveys/{survey['id']}/export?format=csv")
    assert export.status == 200 and export.headers["content-type"].startswith("text/csv")
    header, *rows = list(csv.reader(io.StringIO(export.body().decode("utf-8-sig"))))
    assert header[3:6] == ["渠道", "办件编号", "工号"]
    assert [row[3:6] for row in rows] == [["窗口 3", "", ""],
                                          ["窗口 3", "PQ2026120101", "A07"],
                                          ["窗口 3", "PQ2026120102", "A07"],
                                          ["窗口 3", "PQ2026120103", "B11"]]
