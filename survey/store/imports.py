"""Paper questionnaires: a whole file of rows in one transaction, or one entry at a time.

Each row goes through `responses.record_response` (nested as a savepoint), so paper answers are
screened, hash-chained and tallied exactly like answers from a phone.
"""
from dataclasses import dataclass

from ..core.labels import china_time
from ..core.screening import Verdict
from . import StoreError, write_transaction
from .responses import Submission, record_response
from .util import audit, iso, utc_now

PAPER_SOURCE = "paper"


class DuplicateImportError(StoreError):
    """The same file (by SHA-256) was already imported into this survey."""


@dataclass(frozen=True)
class PaperRow:
    row: int  # the spreadsheet row number, as staff see it
    answers: dict  # question_id -> list of option ids, or a text string


@dataclass(frozen=True)
class ImportResult:
    import_id: int
    imported: int
    valid: int
    first_response_id: int | None
    last_response_id: int | None


def previous_import(db, survey_id: int, sha256: str) -> dict | None:
    rows = list(db.query("SELECT * FROM imports WHERE survey_id = ? AND sha256 = ?",
                         [survey_id, sha256]))
    return rows[0] if rows else None


def _require_started(survey: dict) -> None:
    # A draft's questions may still change; answers entered now could point at removed options.
    if survey["status"] == "draft":
        raise StoreError("问卷尚未开放（草稿），不能录入纸质问卷，请先开放问卷")


def _refuse_duplicate(db, survey_id: int, sha256: str) -> None:
    earlier = previous_import(db, survey_id, sha256)
    if earlier:
        raise DuplicateImportError(
            f"该文件已于 {china_time(earlier['imported_at'])} 导入过"
            f"（{earlier['rows']} 份，文件名 {earlier['filename']}），不能重复导入")


def import_rows(db, survey: dict, questions: list[dict], rows: list[PaperRow], *,
                sha256: str, filename: str, channel: str = "", user_id: int | None = None
                ) -> ImportResult:
    """Store every row or none; the file's SHA-256 is recorded so it cannot come in twice."""
    _require_started(survey)
    now = utc_now()
    with write_transaction(db):
        _refuse_duplicate(db, survey["id"], sha256)
        import_id = db.table("imports").insert({
            "survey_id": survey["id"], "sha256": sha256, "filename": filename[:200],
            "rows": len(rows), "user_id": user_id, "imported_at": iso(now)}).last_pk
        ids, valid = [], 0
        for paper in rows:
            sub = Submission(answers=paper.answers, nonce=f"paper-{sha256[:40]}-{paper.row}",
                             source=PAPER_SOURCE, channel=channel, received_at=now)
            response_id, verdict = record_response(db, survey, questions, sub)
            ids.append(response_id)
            valid += verdict.valid
        first, last = (ids[0], ids[-1]) if ids else (None, None)
        db.execute("UPDATE imports SET first_response_id = ?, last_response_id = ? WHERE id = ?",
                   [first, last, import_id])
        audit(db, "import.paper", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"import_id": import_id, "rows": len(rows),
                                            "sha256": sha256})
    return ImportResult(import_id, len(ids), valid, first, last)


def record_paper_entry(db, survey: dict, questions: list[dict], answers: dict, *, nonce: str,
                       channel: str = "", user_id: int | None = None) -> tuple[int, Verdict]:
    """One paper questionnaire typed in by staff; incomplete ones are kept and screened."""
    _require_started(survey)
    sub = Submission(answers=answers, nonce=f"entry-{nonce}", source=PAPER_SOURCE,
                     channel=channel)
    with write_transaction(db):
        response_id, verdict = record_response(db, survey, questions, sub)
        audit(db, "entry.paper", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"response_id": response_id})
    return response_id, verdict


def survey_imports(db, survey_id: int) -> list[dict]:
    rows = [dict(r) for r in db.query(
        "SELECT i.*, u.username FROM imports i LEFT JOIN users u ON u.id = i.user_id "
        "WHERE i.survey_id = ? ORDER BY i.id DESC", [survey_id])]
    return [{**r, "imported_local": china_time(r["imported_at"])} for r in rows]


def paper_count(db, survey_id: int) -> int:
    return db.execute("SELECT coalesce(sum(returned), 0) FROM response_tallies "
                      "WHERE survey_id = ? AND source = ?", [survey_id, PAPER_SOURCE]).fetchone()[0]
