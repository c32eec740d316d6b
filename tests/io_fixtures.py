"""Shared helpers for the data in/out tests: a store database without the web app, a survey
with every question kind, and answers recorded through the real response path."""
import itertools

from survey.core.questionnaire import scale_options
from survey.store import accounts, initialise
from survey.store import surveys as survey_store
from survey.store.responses import Submission, record_response

_nonces = itertools.count(1)


def mixed_questionnaire() -> dict:
    return {
        "title": "窗口服务满意度（测试）", "intro": "",
        "settings": {"satisfied_levels": 2, "value_preset": "linear", "headline": "question",
                     "headline_position": 1},
        "questions": [
            {"kind": "scale", "text": "总体来说您是否满意？", "required": True,
             "options": scale_options(2, "linear")},
            {"kind": "single", "text": "办理的业务", "required": True,
             "options": [{"label": "社会保险"}, {"label": "就业创业"}, {"label": "其他"}]},
            {"kind": "multiple", "text": "您是如何了解到本服务的？", "required": False,
             "options": [{"label": "网站"}, {"label": "朋友介绍"}, {"label": "海报"}]},
            {"kind": "text", "text": "意见建议", "required": False},
        ],
    }


def make_survey(db, status="open", department="测试部门", questionnaire=None) -> tuple[dict, list]:
    department_id = accounts.ensure_department(db, department)
    survey_id = survey_store.create_survey(db, department_id,
                                           questionnaire or mixed_questionnaire(), status=status)
    return survey_store.get_survey(db, survey_id), survey_store.questionnaire(db, survey_id)


def answer(db, survey, questions, *, level=0, business=0, channels=(), text=None, source="qr",
           channel="", duration=60.0, device=None, skip_required=False) -> int:
    """Record one response; `level` 0..4 on the scale, `channels` indices of the multiple."""
    scale, single, multiple, free = questions
    answers = {} if skip_required else {scale["id"]: [scale["options"][level]["id"]],
                                        single["id"]: [single["options"][business]["id"]]}
    if channels:
        answers[multiple["id"]] = [multiple["options"][i]["id"] for i in channels]
    if text is not None:
        answers[free["id"]] = text
    response_id, _ = record_response(db, survey, questions, Submission(
        answers=answers, nonce=f"test-{next(_nonces)}", source=source, channel=channel,
        duration_seconds=duration, device_hash=device))
    return response_id


def fresh_store(tmp_path):
    """A migrated store database in tmp_path, closed afterwards (used as a fixture body)."""
    db = initialise(tmp_path / "survey.db")
    yield db
    db.conn.close()
