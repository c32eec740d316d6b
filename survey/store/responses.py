"""Storing responses: once, whole, in one transaction, with their tallies and hash link."""
import datetime as dt
import json
import threading
import time
from collections import Counter
from dataclasses import dataclass, field, replace

from ..core.chain import GENESIS, response_hash
from ..core.conditions import applicable_answers, applied_conditionals, missing_required
from ..core.screening import ResponseFacts, ScreeningRules, Verdict, screen
from ..core.settings import SurveySettings
from . import StoreError, batched_write, write_transaction
from . import cases as case_store
from . import windows as window_store
from .surveys import decode_question
from .tallies import APPLICABLE
from .util import iso, local_day, utc_now


class DuplicateSubmissionError(StoreError):
    """The same form (nonce) was submitted again; the first submission stands."""

    def __init__(self, response_id: int):
        super().__init__("该问卷已提交，无需重复提交")
        self.response_id = response_id


class AlreadyAnsweredError(StoreError):
    """This device already answered a survey that allows one answer per device."""


@dataclass
class Submission:
    # question_id -> list of option ids (scale/single/multiple) or a text string
    answers: dict
    nonce: str
    source: str = "qr"
    channel: str = ""
    duration_seconds: float | None = None
    device_hash: str | None = None
    ip_hash: str | None = None
    received_at: dt.datetime = field(default_factory=utc_now)
    # An answer for a transaction (invitation) or from a window's tablet: bound to it, and
    # never refused as a repeat of its device (a tablet answers for everyone at the window).
    tag: window_store.AnswerTag | None = None
    # Answers from one address in ADDRESS_WINDOW beyond which a response is flagged (None: none)
    address_limit: int | None = None


ADDRESS_WINDOW = dt.timedelta(minutes=10)


def screening_rules(survey: dict) -> ScreeningRules:
    return SurveySettings.of(survey).screening_rules()


def _facts(db, survey: dict, questions: list[dict], sub: Submission,
           values: dict | None = None, device_seen: bool | None = None) -> ResponseFacts:
    missing = missing_required(questions, sub.answers)
    seen = device_seen if device_seen is not None else bool(sub.device_hash) and db.execute(
        "SELECT 1 FROM responses WHERE survey_id = ? AND device_hash = ? LIMIT 1",
        [survey["id"], sub.device_hash]).fetchone() is not None
    if values is None:
        values = {o["id"]: o["value"] for q in questions for o in q["options"]}
    scale_values = tuple(
        values[sub.answers[q["id"]][0]] for q in questions
        if q["kind"] == "scale" and sub.answers.get(q["id"]))
    return ResponseFacts(missing_required=missing, duration_seconds=sub.duration_seconds,
                         device_seen_before=seen, scale_values=scale_values)


def _answer_rows(questions: list[dict], sub: Submission) -> list[dict]:
    rows = []
    for q in questions:
        given = sub.answers.get(q["id"])
        if not given:
            continue
        if q["kind"] == "text":
            rows.append({"question_id": q["id"], "option_id": None, "text": given})
        else:
            rows.extend({"question_id": q["id"], "option_id": o, "text": None} for o in given)
    return rows


def record_response(db, survey: dict, questions: list[dict], sub: Submission,
                    after_insert=None) -> tuple[int, Verdict]:
    """Store one response. `after_insert(db, response_id, verdict)` runs inside the same
    transaction (follow-up cases use it), so either everything is stored or nothing.
    Concurrent submissions of one process share a commit (`store.batched_write`); each is
    still whole or absent, with its screening and tallies in the same transaction.
    Answers to conditional questions that did not apply are ignored (core.conditions)."""
    sub = with_applicable_answers(questions, sub)
    applied = applied_conditionals(questions, sub.answers)
    answers = _answer_rows(questions, sub)
    rules = screening_rules(survey)
    values = {o["id"]: o["value"] for q in questions for o in q["options"]}

    def write(db):
        existing, seen, prev_hash, next_id = db.conn.execute(
            _BEFORE_INSERT, [survey["id"], sub.nonce, survey["id"], sub.device_hash or None,
                             survey["id"]]).fetchone()
        if existing:
            raise DuplicateSubmissionError(existing)
        facts = _facts(db, survey, questions, sub, values, device_seen=bool(seen))
        if sub.address_limit is not None and sub.ip_hash:
            # Counted inside the write transaction: concurrent answers are counted in turn.
            since = iso(sub.received_at - ADDRESS_WINDOW)
            busy = submissions_since(db, survey["id"], sub.ip_hash, since) >= sub.address_limit
            facts = replace(facts, busy_address=busy)
        if survey["dedupe_policy"] == "device_cookie" and facts.device_seen_before \
                and sub.tag is None:
            raise AlreadyAnsweredError("您已在本设备上提交过本问卷，感谢参与")
        verdict = screen(facts, rules)
        response_id = _insert(db, survey["id"], sub, answers, prev_hash or GENESIS, next_id)
        if sub.tag is not None:
            window_store.bind_answer(db, response_id, survey["id"], sub.tag)
        db.conn.execute("INSERT INTO screening (response_id, valid, reasons) VALUES (?, ?, ?)",
                        [response_id, int(verdict.valid), json.dumps(list(verdict.reasons))])
        _count(db, survey["id"], local_day(sub.received_at), sub.source, sub.channel,
               answers, returned=1, valid=int(verdict.valid), applied=applied)
        case_store.open_case_if_dissatisfied(db, survey, questions, response_id, answers, verdict,
                                             _case_facts(sub))
        if after_insert:
            after_insert(db, response_id, verdict)
        return response_id, verdict

    return batched_write(db, write)


def with_applicable_answers(questions: list[dict], sub: Submission) -> Submission:
    if not any(q.get("show_if") for q in questions):
        return sub
    return replace(sub, answers=applicable_answers(questions, sub.answers))


def applied_in_rows(conditionals: list[dict], rows: list[dict]) -> list[int]:
    """applied_conditionals for stored answer rows (already without inapplicable answers)."""
    given: dict = {}
    for row in rows:
        if row.get("option_id"):
            given.setdefault(row["question_id"], []).append(row["option_id"])
    return applied_conditionals(conditionals, given)


def conditional_questions(db, survey_id: int) -> list[dict]:
    """The survey's conditional questions, with `show_if` (enough for applied_in_rows)."""
    return [decode_question(r) for r in db.query(
        "SELECT id, show_if_question_id, show_if_option_ids FROM questions "
        "WHERE survey_id = ? AND show_if_question_id IS NOT NULL", [survey_id])]


def chain_record(response: dict, answers: list[dict]) -> dict:
    """What the hash covers: everything that makes up the response."""
    return {
        "id": response["id"], "survey_id": response["survey_id"],
        "received_at": response["received_at"], "source": response["source"],
        "channel": response["channel"], "duration_seconds": response["duration_seconds"],
        "device_hash": response["device_hash"], "nonce": response["nonce"],
        "answers": sorted(([a["question_id"], a["option_id"], a["text"]] for a in answers),
                          key=lambda a: (a[0], a[1] or 0)),
    }


def next_response_id(conn) -> int:
    """The id the next response gets. Responses are inserted with their id (it is part of
    their hash), so this reads AUTOINCREMENT's high-water mark too: the id of a deleted newest
    response is never given again (m181). Call it inside the write transaction."""
    return conn.execute(
        "SELECT max(coalesce((SELECT max(id) FROM responses), 0), coalesce((SELECT seq FROM "
        "sqlite_sequence WHERE name = 'responses'), 0)) + 1").fetchone()[0]


# What a response needs to know before it is written, in one statement (four before): a
# response with its nonce, whether its device answered before, the chain's head, its id.
_BEFORE_INSERT = (
    "SELECT (SELECT id FROM responses WHERE survey_id = ? AND nonce = ?), "
    "EXISTS (SELECT 1 FROM responses WHERE survey_id = ? AND device_hash = ?), "
    "(SELECT hash FROM responses WHERE survey_id = ? ORDER BY id DESC LIMIT 1), "
    # the id: past AUTOINCREMENT's high-water mark too, so a deleted newest id is never reused
    "max(coalesce((SELECT max(id) FROM responses), 0), "
    "    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'responses'), 0)) + 1")


def _case_facts(sub: Submission) -> dict:
    """The response's columns a follow-up case copies, as _insert writes them."""
    return {"received_at": iso(sub.received_at), "day": local_day(sub.received_at),
            "channel": sub.channel, "source": sub.source}


def _insert(db, survey_id: int, sub: Submission, answers: list[dict], prev_hash: str,
            next_id: int) -> int:
    row = {"id": next_id, "survey_id": survey_id, "received_at": iso(sub.received_at),
           "day": local_day(sub.received_at), "source": sub.source, "channel": sub.channel,
           "duration_seconds": sub.duration_seconds, "device_hash": sub.device_hash,
           "ip_hash": sub.ip_hash, "nonce": sub.nonce}
    row["prev_hash"] = prev_hash
    row["hash"] = response_hash(prev_hash, chain_record(row, answers))
    # Plain statements: sqlite-utils' insert() reads the table's schema on every call.
    db.conn.execute(_INSERT_RESPONSE, [row[c] for c in _RESPONSE_COLUMNS])
    _insert_rows(db.conn, "INSERT INTO answers (response_id, question_id, option_id, text)",
                 [(next_id, a["question_id"], a["option_id"], a["text"]) for a in answers])
    return next_id


_ROWS_PER_STATEMENT = 200  # at 7 columns far below SQLite's 32,766 parameters


def _insert_rows(conn, head: str, rows: list[tuple], tail: str = "") -> None:
    """`head VALUES (...), (...) tail`: the rows in one statement (per 200), in their order.
    executemany steps once per row, and each step is a round trip through the GIL, which a
    busy server's other threads make long."""
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        chunk = rows[start:start + _ROWS_PER_STATEMENT]
        row_marks = f"({', '.join('?' * len(chunk[0]))})"
        conn.execute(f"{head} VALUES {', '.join([row_marks] * len(chunk))}{tail}",
                     [value for row in chunk for value in row])


_RESPONSE_COLUMNS = ("id", "survey_id", "received_at", "day", "source", "channel",
                     "duration_seconds", "device_hash", "ip_hash", "nonce", "prev_hash", "hash")
_INSERT_RESPONSE = (
    f"INSERT INTO responses ({', '.join(_RESPONSE_COLUMNS)}) "  # nosec B608 - constant columns
    f"VALUES ({', '.join('?' * len(_RESPONSE_COLUMNS))})")


def _count(db, survey_id, day, source, channel, answers, *, returned: int, valid: int,
           applied=()) -> None:
    """Adjust the tallies; `valid` is +1/-1/0 and answer tallies only count valid responses.
    `applied`: the conditional questions this response was asked (their base, APPLICABLE)."""
    db.execute(
        "INSERT INTO response_tallies (survey_id, day, source, channel, returned, valid) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
        "returned = returned + excluded.returned, valid = valid + excluded.valid",
        [survey_id, day, source, channel, returned, valid])
    if not valid:
        return
    keys = {(a["question_id"], 0) for a in answers}
    keys |= {(a["question_id"], a["option_id"]) for a in answers if a["option_id"]}
    keys |= {(question_id, APPLICABLE) for question_id in applied}
    _insert_rows(
        db.conn, "INSERT INTO answer_tallies "
        "(survey_id, day, source, channel, question_id, option_id, count)",
        [(survey_id, day, source, channel, q, o, valid) for q, o in sorted(keys)],
        " ON CONFLICT DO UPDATE SET count = count + excluded.count")


def set_validity(db, response_id: int, valid: bool, reason: str, user_id: int | None) -> None:
    """A staff decision on validity: logged, never overwriting the response itself."""
    reason = (reason or "").strip()
    if not reason:
        raise StoreError("请填写判定理由")
    with write_transaction(db):
        row = db.execute(
            "SELECT r.survey_id, r.day, r.source, r.channel, s.valid FROM responses r "
            "JOIN screening s ON s.response_id = r.id WHERE r.id = ?", [response_id]).fetchone()
        if row is None:
            raise StoreError("答卷不存在")
        survey_id, day, source, channel, was_valid = row
        db.table("validity_decisions").insert({
            "response_id": response_id, "valid": int(valid), "reason": reason,
            "user_id": user_id, "decided_at": iso(utc_now())})
        db.execute("UPDATE screening SET valid = ?, manual = 1, manual_reason = ? "
                   "WHERE response_id = ?", [int(valid), reason, response_id])
        delta = int(valid) - int(was_valid)
        if delta:
            answers = [dict(a) for a in db.query(
                "SELECT question_id, option_id FROM answers WHERE response_id = ?",
                [response_id])]
            applied = applied_in_rows(conditional_questions(db, survey_id), answers)
            _count(db, survey_id, day, source, channel, answers, returned=0, valid=delta,
                   applied=applied)


# Views counted but not yet written, per database file: (survey_id, day, channel) -> count,
# and when the job that will write them was queued. While that job is queued, later views are
# added to it instead of queueing their own, so under load a batch carries one statement for
# all of them (not one per citizen). A job not run within VIEW_JOB_SECONDS (its batch failed
# before it ran: a busy or full disk) no longer counts as queued: the next view queues another.
_PENDING_VIEWS: dict[str, tuple[Counter, float]] = {}
_VIEWS_LOCK = threading.Lock()
VIEW_JOB_SECONDS = 30.0


def record_form_view(db, survey_id: int, channel: str) -> None:
    """One more view of the form. Committed with the submissions of the moment when there are
    any; a batch of views alone commits without waiting for the disk (synchronous=NORMAL in
    WAL: durable at the next full commit), so opening the form never waits on an fsync."""
    key = (survey_id, local_day(utc_now()), channel)
    path = getattr(db, "survey_path", None)
    now = time.monotonic()
    with _VIEWS_LOCK:
        pending, queued_at = _PENDING_VIEWS.get(path, (Counter(), None))
        pending[key] += 1
        if queued_at is not None and now - queued_at < VIEW_JOB_SECONDS:
            return  # the queued job will write this one too
        _PENDING_VIEWS[path] = (pending, now)
    batched_write(db, lambda db: _write_views(db, path), durable=False)


def _write_views(db, path) -> None:
    with _VIEWS_LOCK:
        pending, _ = _PENDING_VIEWS.pop(path, (Counter(), None))
    db.conn.executemany(
        "INSERT INTO form_views (survey_id, day, channel, views) VALUES (?, ?, ?, ?) "
        "ON CONFLICT DO UPDATE SET views = views + excluded.views",
        [(*key, count) for key, count in pending.items()])


def submissions_since(db, survey_id: int, ip_hash: str, since: str) -> int:
    """Responses to the survey from one (hashed) address after `since`."""
    return db.execute("SELECT count(*) FROM responses WHERE ip_hash = ? AND received_at > ? "
                      "AND survey_id = ?", [ip_hash, since, survey_id]).fetchone()[0]
