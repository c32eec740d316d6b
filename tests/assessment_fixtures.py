"""Shared helpers for the assessment tests: a store database, a department with a survey,
answers recorded through the real response path, 发放 batches."""
import itertools

from survey.core.questionnaire import load_survey_template
from survey.store import accounts, initialise
from survey.store import assessment_indicators as tree
from survey.store import assessments as store
from survey.store import surveys as survey_store
from survey.store.responses import Submission, record_response
from survey.store.util import iso, utc_now

from .conftest import with_reasons

_nonces = itertools.count(1)


def store_db(tmp_path):
    return initialise(tmp_path / "assessments.db")


def make_survey(db, department_id: int, title: str = "群众满意度调查") -> dict:
    survey_id = survey_store.create_survey(db, department_id, load_survey_template("satisfaction-5"),
                                           title=title, status="open")
    survey = survey_store.get_survey(db, survey_id)
    survey["questions"] = survey_store.questionnaire(db, survey_id)
    return survey


def answer(db, survey: dict, level: int, count: int) -> None:
    """`count` complete, valid responses, every scale and single question at `level` (0 = best)."""
    for _ in range(count):
        n = next(_nonces)
        answers = {q["id"]: [q["options"][min(level, len(q["options"]) - 1)]["id"]]
                   for q in survey["questions"] if q["kind"] in ("scale", "single")}
        record_response(db, survey, survey["questions"], Submission(
            answers=with_reasons(survey["questions"], answers), nonce=f"t-{n}",
            duration_seconds=90, device_hash=f"device-{n}"))


def issue(db, survey_id: int, count: int) -> None:
    db.table("issued_batches").insert({"survey_id": survey_id, "count": count, "note": "",
                                       "recorded_at": iso(utc_now())})


def new_assessment(db, department_id: int, template: str = "dept-2022", user_id=None) -> dict:
    assessment_id = store.create_assessment(db, department_id, 2025, "2025 年度自评",
                                            template=template, user_id=user_id)
    return store.get_assessment(db, assessment_id)


def row_named(db, assessment: dict, name: str, level: int = 3) -> dict:
    return next(r for r in tree.rows(db, assessment["id"]) if r["name"] == name and r["level"] == level)


def department(db, name: str = "测试部门") -> int:
    return accounts.ensure_department(db, name)
