"""Archiving, restoring and permanently removing surveys: nothing collected is lost by a click.

A survey with answers is archived (hidden from the lists, closed to new answers, everything
kept) instead of deleted; only an administrator may remove an archived one for good, and not
while a finalised self-evaluation still rests on its figures.
"""
import sqlite3

from . import StoreError, write_transaction
from .util import audit, iso, utc_now


class SurveyHasDataError(StoreError):
    """Deleting would destroy answers or cases; the survey must be archived instead."""


class SurveyInUseError(StoreError):
    """A finalised assessment rests on the survey: its answers are that figure's evidence."""


# What a permanent removal destroys, each counted by one statement (the confirmation page and
# the audit row list the same numbers).
_COUNTS = {
    "responses": "SELECT count(*) FROM responses WHERE survey_id = ?",
    "valid": "SELECT count(*) FROM responses r JOIN screening s ON s.response_id = r.id "
             "WHERE r.survey_id = ? AND s.valid = 1",
    "cases": "SELECT count(*) FROM cases WHERE survey_id = ?",
    "open_cases": "SELECT count(*) FROM cases WHERE survey_id = ? "
                  "AND status NOT IN ('closed', 'dismissed')",
    "callback_contacts": "SELECT count(*) FROM callback_contacts c JOIN cases k "
                         "ON k.id = c.case_id WHERE k.survey_id = ?",
    "imports": "SELECT count(*) FROM imports WHERE survey_id = ?",
    "issued_batches": "SELECT count(*) FROM issued_batches WHERE survey_id = ?",
    "validity_decisions": "SELECT count(*) FROM validity_decisions d JOIN responses r "
                          "ON r.id = d.response_id WHERE r.survey_id = ?",
    "draft_links": "SELECT count(*) FROM assessment_indicators i JOIN assessments a "
                   "ON a.id = i.assessment_id WHERE i.survey_id = ? AND a.status = 'draft'",
}


def collected_counts(db, survey_id: int) -> dict[str, int]:
    return {name: db.execute(sql, [survey_id]).fetchone()[0] for name, sql in _COUNTS.items()}


def has_collected(db, survey_id: int) -> bool:
    """Any response (paper or online) or case: what a deletion must never take by a click."""
    for table in ("responses", "cases"):
        sql = f"SELECT 1 FROM {table} WHERE survey_id = ? LIMIT 1"  # nosec B608 - literal names
        if db.execute(sql, [survey_id]).fetchone():
            return True
    return False


def final_assessments(db, survey_id: int) -> list[dict]:
    """Finalised assessments with an indicator linked to the survey."""
    return [dict(r) for r in db.query(
        "SELECT DISTINCT a.id, a.title, a.year FROM assessments a JOIN assessment_indicators i "
        "ON i.assessment_id = a.id WHERE i.survey_id = ? AND a.status = 'final' ORDER BY a.id",
        [survey_id])]


def archive_survey(db, survey: dict, user_id: int | None) -> None:
    with write_transaction(db):
        db.execute("UPDATE surveys SET archived_at = ?, updated_at = ? WHERE id = ?",
                   [iso(utc_now()), iso(utc_now()), survey["id"]])
        audit(db, "survey.archive", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"title": survey["title"],
                                            **collected_counts(db, survey["id"])})


def restore_survey(db, survey: dict, user_id: int | None) -> None:
    with write_transaction(db):
        db.execute("UPDATE surveys SET archived_at = NULL, updated_at = ? WHERE id = ?",
                   [iso(utc_now()), survey["id"]])
        audit(db, "survey.restore", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"title": survey["title"]})


def remove_survey(db, survey: dict, user_id: int | None) -> dict[str, int]:
    """Delete an archived survey and everything collected for it; the audit row keeps what
    went. The caller checks the user is an administrator."""
    if not survey.get("archived_at"):
        raise StoreError("只能永久删除已归档的问卷，请先归档。")
    with write_transaction(db):
        final = final_assessments(db, survey["id"])
        if final:
            names = "、".join(f"“{a['title']}”" for a in final)
            raise SurveyInUseError(f"已定稿的自评表 {names} 引用了本问卷的数据，答卷是其佐证材料，"
                                   "不能永久删除。")
        counts = collected_counts(db, survey["id"])
        audit(db, "survey.remove", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"title": survey["title"], "year": survey["year"],
                                            "archived_at": survey["archived_at"], **counts})
        try:
            db.execute("DELETE FROM surveys WHERE id = ?", [survey["id"]])
        except sqlite3.IntegrityError as error:
            raise StoreError("该问卷已被其他记录引用，不能删除。") from error
    return counts
