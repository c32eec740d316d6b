"""A realistic demo: the seed report's department, an open satisfaction survey with about
100 plausible answers, and a staff login."""
import datetime as dt
import random
import secrets

from ..core.conditions import applies
from ..core.questionnaire import load_survey_template
from . import accounts
from . import surveys as survey_store
from .responses import Submission, record_response
from .util import utc_now

DEPARTMENT = "信阳市平桥区人力资源和社会保障局"
SURVEY_TITLE = "2026 年度群众满意度调查"
CHANNELS = ["窗口 1", "窗口 2", "窗口 3", "大厅海报", ""]
# Weights for 非常满意 .. 非常不满意: a well-run hall, mostly satisfied, a few complaints.
LEVEL_WEIGHTS = [62, 30, 5, 2, 1]
SUGGESTIONS = [
    "希望周末也能开放窗口。", "取号机经常排长队，建议增加自助设备。", "工作人员态度很好，点赞！",
    "社保卡补办流程可以再简化一些。", "大厅停车位太少。", "政策解读材料希望多一些图示。",
    "<b>网上办理</b>的入口不好找。",
]


def load_demo(db, responses: int = 100, seed: int = 2026) -> dict:
    """Create (or reuse) the demo department, user and survey; returns what to print."""
    rng = random.Random(seed)  # nosec B311 - demo answers, not a secret
    department_id = accounts.ensure_department(db, DEPARTMENT)
    password = secrets.token_urlsafe(9)
    username = "demo"
    existing = db.execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()
    if existing:
        from werkzeug.security import generate_password_hash
        db.execute("UPDATE users SET password_hash = ? WHERE id = ?",
                   [generate_password_hash(password, method="scrypt"), existing[0]])
    else:
        accounts.create_user(db, username, password, department_id, "admin")
    survey = _demo_survey(db, department_id)
    if survey["_created"]:
        _answer(db, survey, responses, rng)
    # The seed report's 2022 self-evaluation, as reported (idempotent: created once).
    from .assessment_seed import create_seed_assessment
    create_seed_assessment(db, department_id, survey["id"])
    return {"department": DEPARTMENT, "username": username, "password": password,
            "survey_id": survey["id"], "token": survey["token"]}


def _demo_survey(db, department_id: int) -> dict:
    for s in survey_store.department_surveys(db, department_id, archived=None):
        if s["title"] == SURVEY_TITLE:
            return {**s, "_created": False}
    survey_id = survey_store.create_survey(
        db, department_id, load_survey_template("satisfaction-5"), title=SURVEY_TITLE,
        status="open", year=2026, series="群众满意度调查")
    return {**survey_store.get_survey(db, survey_id), "_created": True}


def _conditional_answer(q: dict, rng: random.Random):
    if q["kind"] == "text":
        return "窗口少，排队太久"
    return [o["id"] for o in rng.sample(q["options"], rng.randint(1, 2))]


def _answer(db, survey: dict, count: int, rng: random.Random) -> None:
    questions = survey_store.questionnaire(db, survey["id"])
    now = utc_now()
    # Conditional questions draw from their own generator: the answers to every other
    # question stay what they were before the template had any.
    reasons = random.Random(f"reasons-{survey['id']}")  # nosec B311 - demo data, not a secret
    for i in range(count):
        when = now - dt.timedelta(days=rng.randint(0, 20), minutes=rng.randint(0, 600))
        mood = rng.choices(range(5), LEVEL_WEIGHTS)[0]
        answers = {}
        for q in questions:
            if q["show_if"]:
                if applies(q, answers):
                    answers[q["id"]] = _conditional_answer(q, reasons)
            elif q["kind"] == "scale":
                level = min(4, max(0, mood + rng.choice([0, 0, 0, 1, -1])))
                answers[q["id"]] = [q["options"][level]["id"]]
            elif q["kind"] == "single" and rng.random() < 0.8:
                answers[q["id"]] = [rng.choice(q["options"])["id"]]
            elif q["kind"] == "text" and rng.random() < 0.15:
                answers[q["id"]] = rng.choice(SUGGESTIONS)
        record_response(db, survey, questions, Submission(
            answers=answers, nonce=f"demo-{i}-{secrets.token_hex(4)}",
            source=rng.choice(["qr", "qr", "qr", "web"]), channel=rng.choice(CHANNELS),
            duration_seconds=round(rng.uniform(5, 180), 1),
            device_hash=secrets.token_hex(16), received_at=when))
