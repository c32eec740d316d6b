"""Page-tour helpers for the accessibility tests: one department with one of everything a staff
member or a citizen can open, axe-core (bundled by the PyPI package axe-playwright-python), tap
target and sideways-scroll measurements."""
import re

from survey.core.questionnaire import load_survey_template
from survey.core.transactions import Transaction
from survey.store import accounts, archive, builder
from survey.store import windows as window_store
from survey.store import surveys as survey_store
from survey.web.db import get_db

from ..conftest import PASSWORD
from .test_assessment_browser import DEPARTMENT, _full_marks_assessment

BAD_IMPACTS = ("serious", "critical")
TAP_MIN = 44  # px: GB/T 37668 / WCAG 2.5.5 target size for a finger
SUGGESTIONS = ["希望增加自助服务终端", "窗口工作人员态度很好，办理很快", "停车位太少，建议增加",
               "排队时间较长，取号机有时故障", "材料清单能否提前在网上公布"]

# Every element a finger aims at. A link inside a sentence is exempt (WCAG 2.5.5 "inline").
TAP_TARGETS_JS = """
(min) => {
  const out = [];
  const seen = new Set();
  const sel = 'a[href], button, select, summary, input:not([type=hidden]), textarea, [role=button]';
  for (const el of document.querySelectorAll(sel)) {
    let target = el;
    if (el.matches('input[type=checkbox], input[type=radio]')) {
      target = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`)) || el;
    }
    if (seen.has(target)) continue;
    seen.add(target);
    const style = getComputedStyle(target);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const r = target.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (el.closest('.visually-hidden, [hidden], noscript')) continue;
    if (target.tagName === 'A') {
      const block = target.parentElement;
      const own = (target.textContent || '').trim();
      const around = (block.textContent || '').trim();
      if (getComputedStyle(target).display === 'inline' && ['P', 'LI', 'DD', 'SPAN', 'SMALL'].includes(block.tagName)
          && around.length > own.length + 4) continue;
    }
    if (r.height < min || r.width < min) {
      out.push(`${target.tagName.toLowerCase()}${target.className ? '.' + String(target.className).split(' ')[0] : ''}`
               + ` "${(target.textContent || target.value || target.name || '').trim().slice(0, 20)}"`
               + ` ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
  }
  return out;
}
"""


def axe_problems(page) -> tuple[list[str], list[str]]:
    """axe-core violations on the page, one line each: the serious and critical ones, and the
    minor and moderate ones."""
    from axe_playwright_python.sync_playwright import Axe
    results = Axe().run(page)
    bad, lesser = [], []
    for v in results.response["violations"]:
        where = "; ".join(str(n["target"][0]) for n in v["nodes"][:4])
        line = f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes): {where}"
        (bad if v["impact"] in BAD_IMPACTS else lesser).append(line)
    return bad, lesser


def small_tap_targets(page) -> list[str]:
    return page.evaluate(TAP_TARGETS_JS, TAP_MIN)


def sideways_scroll(page, width: int) -> int:
    """How far the page itself scrolls sideways past a `width` px screen (0 when it fits).

    A mobile viewport zooms out to show a too-wide page (innerWidth grows past the screen),
    so the page's width is compared with the screen's too."""
    return page.evaluate("w => Math.max(document.scrollingElement.scrollWidth, window.innerWidth) - w",
                         width)


def login(page, live_server, username: str) -> None:
    page.goto(live_server.url + "/staff/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")


def _submit(client, survey: dict, level: int, text: str | None, channel: str,
            business: int = 0, phone: str | None = None) -> None:
    html = client.get(f"/s/{survey['token']}?via=qr&ch={channel}").get_data(as_text=True)
    data = {"ticket": re.search(r'name="ticket"[^>]*value="([^"]+)"', html).group(1)}
    for q in survey["questions"]:
        if q["kind"] == "scale":
            data[f"q{q['id']}"] = str(q["options"][level]["id"])
        elif q["kind"] == "single":
            data[f"q{q['id']}"] = str(q["options"][business % len(q["options"])]["id"])
        elif q["kind"] == "multiple":
            data[f"q{q['id']}"] = str(q["options"][0]["id"])
        elif q["kind"] == "text" and text:
            data[f"q{q['id']}"] = text
    if phone:
        data.update(callback_phone=phone, callback_consent="y")
    response = client.post(f"/s/{survey['token']}", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]


def build_tour(live_server) -> dict:
    """Surveys with answers, a follow-up case, an assessment, a closed survey; a non-admin
    staff member bob. Returns the ids and tokens the tour's URLs need."""
    questionnaire = load_survey_template("satisfaction-5")
    questionnaire["settings"]["screening"] = {"min_seconds": None}
    survey = live_server.open_survey(questionnaire, title="2026 年度群众满意度调查", year=2026,
                                     series="群众满意度调查")
    closed = live_server.open_survey(title="2025 年度窗口服务满意度调查")
    assessment_id, indicator_id = _full_marks_assessment(live_server)
    with live_server.app.app_context():
        db = get_db()
        dept = accounts.department_by_name(db, DEPARTMENT)["id"]
        bob = accounts.create_user(db, "bob", PASSWORD, dept, "staff")
        builder.record_issued(db, survey_store.get_survey(db, survey["id"]), 200, "第一批（服务大厅）", None)
    client = live_server.app.test_client()
    channels = ["窗口 1", "窗口 2", "窗口 3", "自助服务区", ""]
    for i in range(24):
        _submit(client, survey, level=[0, 0, 1, 0, 1, 2, 0, 3][i % 8],
                text=SUGGESTIONS[i % len(SUGGESTIONS)] if i % 3 == 0 else None,
                channel=channels[i % len(channels)], business=i)
    _submit(client, survey, level=4, text="排队两个小时，取号机坏了没人管", channel="窗口 3",
            phone="13800138000")
    with live_server.app.app_context():
        db = get_db()
        survey_store.set_status(db, closed["id"], "closed")
        response_id = db.execute("SELECT max(id) FROM responses").fetchone()[0]
        case_id = db.execute("SELECT id FROM cases").fetchone()[0]
        question_id = survey["questions"][0]["id"]
        # 一事一评: a window tablet and one transaction's invitation
        kiosk = window_store.register_kiosk(db, survey, "窗口 3", None)["token"]
        invitation, _ = window_store.invite(db, survey["id"], Transaction("PQ2026120101", "窗口 3"), 7)
        # an archived survey with answers: only an admin may remove it for good
        archived = live_server.open_survey(title="2024 年度满意度调查")
    _submit(client, archived, level=0, text=None, channel="")
    with live_server.app.app_context():
        db = get_db()
        archive.archive_survey(db, survey_store.get_survey(db, archived["id"]), None)
    return {"survey": survey, "closed": closed, "assessment_id": assessment_id,
            "indicator_id": indicator_id, "response_id": response_id, "case_id": case_id,
            "question_id": question_id, "bob": bob, "kiosk": kiosk,
            "invitation": invitation["token"], "archived": archived["id"]}


def staff_pages(t: dict) -> list[tuple[str, str, str]]:
    """(name, path, user) of every kind of staff page; bob is a non-admin staff member."""
    s, a = t["survey"]["id"], t["assessment_id"]
    return [
        ("staff-surveys", "/staff/", "bob"),
        ("staff-archived", "/staff/surveys/archived", "bob"),
        ("staff-overview", "/staff/overview", "bob"),
        ("staff-survey-new", "/staff/surveys/new", "bob"),
        ("staff-survey-manage", f"/staff/surveys/{s}/manage", "bob"),
        ("staff-survey-settings", f"/staff/surveys/{s}/settings", "bob"),
        ("staff-questions", f"/staff/surveys/{s}/questions", "bob"),
        ("staff-question", f"/staff/surveys/{s}/questions/{t['question_id']}", "bob"),
        ("staff-issued", f"/staff/surveys/{s}/issued", "bob"),
        ("staff-survey-archive", f"/staff/surveys/{s}/delete", "bob"),
        ("staff-qr", f"/staff/surveys/{s}/qr", "bob"),
        ("staff-poster", f"/staff/surveys/{s}/poster", "bob"),
        ("staff-dashboard", f"/staff/surveys/{s}/", "bob"),
        ("staff-excluded", f"/staff/surveys/{s}/excluded", "bob"),
        ("staff-response", f"/staff/surveys/{s}/responses/{t['response_id']}", "bob"),
        ("staff-io", f"/staff/surveys/{s}/data", "bob"),
        ("staff-io-entry", f"/staff/surveys/{s}/entry", "bob"),
        ("staff-cases", "/staff/cases", "bob"),
        ("staff-case", f"/staff/cases/{t['case_id']}", "bob"),
        ("staff-case-settings", f"/staff/cases/settings/{s}", "bob"),
        ("staff-workdays", "/staff/cases/workdays", "bob"),
        ("staff-assessments", "/staff/assessments", "bob"),
        ("staff-assessment-new", "/staff/assessments/new", "bob"),
        ("staff-assessment", f"/staff/assessments/{a}", "bob"),
        ("staff-assessment-indicator", f"/staff/assessments/{a}/indicators/{t['indicator_id']}", "bob"),
        ("staff-assessment-goals", f"/staff/assessments/{a}/goals", "bob"),
        ("staff-assessment-text", f"/staff/assessments/{a}/text", "bob"),
        ("staff-assessment-history", f"/staff/assessments/{a}/history", "bob"),
        ("staff-assessment-finalise", f"/staff/assessments/{a}/finalise", "bob"),
        ("staff-assessment-print", f"/staff/assessments/{a}/print", "bob"),
        ("staff-windows", f"/staff/surveys/{s}/windows", "bob"),
        ("staff-password", "/staff/password", "bob"),
        ("staff-api-tokens", "/staff/api-tokens", "alice"),
        ("staff-users", "/staff/users", "alice"),
        ("staff-user", f"/staff/users/{t['bob']}", "alice"),
        ("staff-survey-remove", f"/staff/surveys/{t['archived']}/remove", "alice"),
    ]

ARTIFACTS_REPORT = "a11y-{kind}.json"

OVERFLOWING_JS = """
(w) => {
  const out = [];
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.right <= w + 1 || r.width === 0) continue;
    let inside = false;
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll' || o === 'hidden') { inside = true; break; }
    }
    if (!inside) out.push(`${el.tagName.toLowerCase()}.${String(el.className).split(' ')[0]}`
                          + ` right=${Math.round(r.right)}`);
  }
  return out.slice(0, 8);
}
"""


def overflowing(page, width: int) -> list[str]:
    """The outermost elements that stick out past a `width` px screen (for failure messages)."""
    return page.evaluate(OVERFLOWING_JS, width)
