"""The rows an evidence package and its verification read: raw responses, the hash chain,
manual validity decisions, and the state (counts, chain head) the figures were taken from."""
import json
from collections.abc import Iterator

# One row per response; answers arrive as one JSON array so the cursor yields whole responses.
RESPONSES_SQL = """
SELECT r.id, r.received_at, r.source, r.channel, r.duration_seconds, s.valid, s.reasons,
       s.manual, s.manual_reason,
       (SELECT json_group_array(json_array(a.question_id, a.option_id, a.text))
          FROM answers a WHERE a.response_id = r.id) AS answers{transaction_columns}
  FROM responses r JOIN screening s ON s.response_id = r.id{transaction_join}
 WHERE r.survey_id = ?{where} ORDER BY r.id
"""
# 一事一评: the 办件 an answer was given for (its invitation's reference) and the staff code.
TRANSACTION_COLUMNS = ", i.reference, t.staff_code"
TRANSACTION_JOIN = (" LEFT JOIN response_transactions t ON t.response_id = r.id"
                    " LEFT JOIN invitations i ON i.id = t.invitation_id")

CHAIN_SQL = """
SELECT r.id, r.survey_id, r.received_at, r.source, r.channel, r.duration_seconds, r.device_hash,
       r.nonce, r.prev_hash, r.hash,
       (SELECT json_group_array(json_object('question_id', a.question_id,
                                            'option_id', a.option_id, 'text', a.text))
          FROM answers a WHERE a.response_id = r.id) AS answers
  FROM responses r WHERE r.survey_id = ? ORDER BY r.id
"""


def response_cursor(db, survey_id: int, *, excluded_only: bool = False,
                    transactions: bool = False):
    """A live cursor over the survey's responses in id order (never fetched whole).
    `transactions`: each row ends with its 办件编号 and 工号 (None when it has none)."""
    sql = RESPONSES_SQL.format(
        where=" AND s.valid = 0" if excluded_only else "",
        transaction_columns=TRANSACTION_COLUMNS if transactions else "",
        transaction_join=TRANSACTION_JOIN if transactions else "")
    return db.conn.execute(sql, [survey_id])


def has_transactions(db, survey_id: int) -> bool:
    """Whether any answer of the survey was given for a 办件 (an invitation or a tablet)."""
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM response_transactions "
                           "WHERE survey_id = ?)", [survey_id]).fetchone()[0])


def response_count(db, survey_id: int) -> int:
    return db.execute("SELECT count(*) FROM responses WHERE survey_id = ?",
                      [survey_id]).fetchone()[0]


def chain_rows(db, survey_id: int) -> Iterator[tuple[dict, list]]:
    """(response row, its answers) per response, streamed in id order."""
    cursor = db.conn.execute(CHAIN_SQL, [survey_id])
    names = [c[0] for c in cursor.description]
    for values in cursor:
        row = dict(zip(names, values, strict=True))
        yield row, json.loads(row["answers"])


def validity_decisions(db, survey_id: int) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT d.id, d.response_id, d.valid, d.reason, d.decided_at, u.username AS decided_by "
        "FROM validity_decisions d JOIN responses r ON r.id = d.response_id "
        "LEFT JOIN users u ON u.id = d.user_id WHERE r.survey_id = ? ORDER BY d.id", [survey_id])]


# Staff actions on a survey (its audit rows have the survey as subject): creation, settings
# (before and after), wording changes, opening and closing, 发放, paper entry and import,
# window assignees, archive and restore.
SURVEY_ACTION_PREFIXES = ("survey.", "question.", "issued.", "entry.", "import.", "window.")


def survey_changes(db, survey_id: int) -> list[dict]:
    """The survey's audit rows, oldest first, each with who did it."""
    where = " OR ".join("a.action LIKE ?" for _ in SURVEY_ACTION_PREFIXES)
    return [{**dict(r), "detail": json.loads(r["detail"] or "{}")} for r in db.query(
        "SELECT a.id, a.action, a.at, u.username AS by_user, a.detail FROM audit_log a "
        f"LEFT JOIN users u ON u.id = a.user_id WHERE a.subject = ? AND ({where}) "  # nosec B608 - placeholders only
        "ORDER BY a.id", [str(survey_id), *(f"{p}%" for p in SURVEY_ACTION_PREFIXES)])]


def counts_and_head(db, survey_id: int) -> tuple[int, int, str | None]:
    """(responses, valid responses, hash of the last response or None)."""
    responses, valid = db.execute(
        "SELECT count(*), coalesce(sum(s.valid), 0) FROM responses r "
        "JOIN screening s ON s.response_id = r.id WHERE r.survey_id = ?", [survey_id]).fetchone()
    head = db.execute("SELECT hash FROM responses WHERE survey_id = ? ORDER BY id DESC LIMIT 1",
                      [survey_id]).fetchone()
    return responses, valid, head[0] if head else None


def responses_up_to(db, survey_id: int, head: str) -> int | None:
    """How many responses precede and include the one whose hash is `head`; None if none has."""
    row = db.execute("SELECT id FROM responses WHERE survey_id = ? AND hash = ?",
                     [survey_id, head]).fetchone()
    if row is None:
        return None
    return db.execute("SELECT count(*) FROM responses WHERE survey_id = ? AND id <= ?",
                      [survey_id, row[0]]).fetchone()[0]


def linked_assessment_ids(db, survey: dict) -> list[int]:
    """The department's assessments with an indicator linked to this survey."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT a.id FROM assessments a JOIN assessment_indicators i "
        "ON i.assessment_id = a.id WHERE i.survey_id = ? AND a.department_id = ? ORDER BY a.id",
        [survey["id"], survey["department_id"]])]


class read_snapshot:
    """One read transaction: every file in a package sees the same database state."""

    def __init__(self, db):
        self.conn = db.conn

    def __enter__(self):
        self.owned = not self.conn.in_transaction
        if self.owned:
            self.conn.execute("BEGIN")

    def __exit__(self, *exc):
        if self.owned and self.conn.in_transaction:
            self.conn.execute("ROLLBACK")
