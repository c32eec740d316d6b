"""Paper questionnaires: a whole file of rows, all or nothing, or one entry at a time.

A file is screened, hash-chained and tallied exactly like answers from a phone, but it is not
written in one long transaction (50,000 rows would hold the write lock for tens of seconds and
stop every citizen's submission meanwhile). Instead:
  1. everything is prepared outside the lock: verdicts, answer rows, tallies, the follow-up
     cases, and each row's canonical hash text but for its id;
  2. a short transaction records the import as 'pending' (and refuses the same file twice);
  3. the responses and their answers go in, in chunks of CHUNK_ROWS, each its own short
     transaction, hash-chained to the survey's head at that moment (citizens' submissions
     chain in between). They are not yet part of anything a reader sees: a response counts,
     is listed and exported only with its screening row, and figures come from the tallies;
  4. one short final transaction makes the whole file visible: screening rows, tallies, cases,
     the import marked 'done', the audit entry.
If anything fails before 4 nothing becomes visible: the staged rows are deleted when they are
still the end of the survey's hash chain, else they stay, invisible, as links of the chain
(deleting them would break the hash of every citizen's response chained after them), and the
import is marked 'failed' so the same file can be imported again.
"""
import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass

from ..core.cases import case_triggers
from ..core.chain import GENESIS
from ..core.labels import china_time
from ..core.screening import Verdict, screen
from ..core.workdays import add_working_days
from . import StoreError, write_transaction
from .cases import _event, case_settings
from .responses import (
    Submission,
    _answer_rows,
    _facts,
    applied_in_rows,
    chain_record,
    next_response_id,
    record_response,
    screening_rules,
    with_applicable_answers,
)
from .tallies import APPLICABLE
from .util import audit, dumps, insert_row, iso, local_day, utc_now
from .workdays import department_calendar

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


CHUNK_ROWS = 2000  # about 0.1 s of the write lock each on a 2-core machine
PENDING_TIMEOUT = dt.timedelta(minutes=10)  # a 'pending' import older than this died midway


def previous_import(db, survey_id: int, sha256: str) -> dict | None:
    rows = list(db.query("SELECT * FROM imports WHERE survey_id = ? AND sha256 = ?",
                         [survey_id, sha256]))
    return rows[0] if rows else None


class ImportInProgressError(StoreError):
    """The same file is being imported right now (another click, another staff member)."""


def _require_started(survey: dict) -> None:
    # A draft's questions may still change; answers entered now could point at removed options.
    if survey["status"] == "draft":
        raise StoreError("问卷尚未开放（草稿），不能录入纸质问卷，请先开放问卷")
    if survey.get("archived_at"):
        raise StoreError("问卷已归档，不能再录入答卷；如需录入，请先恢复问卷")


def _refuse_duplicate(db, survey_id: int, sha256: str) -> None:
    earlier = previous_import(db, survey_id, sha256)
    if earlier and earlier.get("state") == "pending":
        started = dt.datetime.fromisoformat(earlier["imported_at"])
        if utc_now() - started < PENDING_TIMEOUT:
            raise ImportInProgressError("该文件正在导入，请稍候刷新页面查看结果，不要重复上传")
        _mark_failed(db, earlier["id"])  # its process died midway: the file may come again
        earlier = None
    if earlier:
        raise DuplicateImportError(
            f"该文件已于 {china_time(earlier['imported_at'])} 导入过"
            f"（{earlier['rows']} 份，文件名 {earlier['filename']}），不能重复导入")


def import_rows(db, survey: dict, questions: list[dict], rows: list[PaperRow], *,
                sha256: str, filename: str, channel: str = "", user_id: int | None = None
                ) -> ImportResult:
    """Store every row or none (see the module's docstring); the file's SHA-256 is recorded
    so it cannot come in twice. Inside a caller's transaction, all of it goes into that one."""
    _require_started(survey)
    if db.conn.in_transaction:
        return _import_in_one_transaction(db, survey, questions, rows, sha256=sha256,
                                          filename=filename, channel=channel, user_id=user_id)
    now = utc_now()
    staged = _prepare(survey, questions, rows, channel, now)
    with write_transaction(db):
        _refuse_duplicate(db, survey["id"], sha256)
        import_id = insert_row(db, "imports", {
            "survey_id": survey["id"], "sha256": sha256, "filename": filename[:200],
            "rows": len(rows), "user_id": user_id, "imported_at": iso(now), "state": "pending"})
    ids: list[int] = []
    try:
        for start in range(0, len(staged), CHUNK_ROWS):
            ids.extend(_insert_chunk(db, survey["id"], import_id, sha256, (iso(now), channel),
                                     staged[start:start + CHUNK_ROWS]))
        valid = _make_visible(db, survey, questions, import_id, staged, ids, user_id, sha256)
    except BaseException:
        _give_up(db, survey["id"], import_id, ids)
        raise
    first, last = (ids[0], ids[-1]) if ids else (None, None)
    return ImportResult(import_id, len(ids), valid, first, last)


@dataclass
class _Staged:
    row: int
    answers: list  # answer rows (question_id, option_id, text), as _answer_rows gives them
    verdict: Verdict
    before_id: str  # the row's canonical hash text is before_id + str(id) + after_id
    after_id: str
    triggers: tuple


_ID_SLOT = -918273645546372819  # a number no response id is: cut out of the canonical text


def _prepare(survey: dict, questions: list[dict], rows: list[PaperRow], channel: str,
             now: dt.datetime) -> list[_Staged]:
    """Everything but the ids and hashes, outside the write lock."""
    from ..core.chain import canonical
    rules, settings = screening_rules(survey), case_settings(survey)
    values = {o["id"]: o["value"] for q in questions for o in q["options"]}
    received_at = iso(now)
    staged, seen = [], {}
    for paper in rows:
        # Rows with the same answers (paper forms repeat a lot) share all but row and id.
        key = tuple(sorted((q, tuple(a) if isinstance(a, list) else a)
                           for q, a in paper.answers.items()))
        found = seen.get(key)
        if found is not None:
            staged.append(_Staged(paper.row, found.answers, found.verdict, found.before_id,
                                  found.after_id, found.triggers))
            continue
        sub = with_applicable_answers(questions, Submission(
            answers=paper.answers, nonce="", source=PAPER_SOURCE, channel=channel,
            received_at=now))
        answers = _answer_rows(questions, sub)
        verdict = screen(_facts(None, survey, questions, sub, values), rules)
        record = chain_record({
            "id": _ID_SLOT, "survey_id": survey["id"], "received_at": received_at,
            "source": PAPER_SOURCE, "channel": channel, "duration_seconds": None,
            "device_hash": None, "nonce": "{nonce}"}, answers)
        before, after = canonical(record).split(f'"id":{_ID_SLOT}', 1)
        item = _Staged(paper.row, answers, verdict, before + '"id":', after,
                       case_triggers(settings, questions, answers))
        if len(seen) < 100_000:
            seen[key] = item
        staged.append(item)
    return staged


def _nonce(sha256: str, import_id: int, row: int) -> str:
    return f"paper-{sha256[:32]}-{import_id}-{row}"


def _insert_chunk(db, survey_id: int, import_id: int, sha256: str, when: tuple[str, str],
                  chunk: list[_Staged]) -> list[int]:
    """One short transaction: responses and answers, chained to the survey's head now."""
    conn = db.conn
    # Every id below comes from this survey's questionnaire or from this transaction, so the
    # foreign-key probes (three per answer) would only double the time the lock is held.
    conn.execute("PRAGMA foreign_keys = OFF")
    try:
        with write_transaction(db):
            head = conn.execute("SELECT hash FROM responses WHERE survey_id = ? "
                                "ORDER BY id DESC LIMIT 1", [survey_id]).fetchone()
            prev = head[0] if head else GENESIS
            next_id = next_response_id(conn)
            received_at, channel = when
            day = local_day(dt.datetime.fromisoformat(received_at))
            responses, answers, ids = [], [], []
            for offset, item in enumerate(chunk):
                response_id = next_id + offset
                nonce = _nonce(sha256, import_id, item.row)
                text = (item.before_id + str(response_id)
                        + item.after_id.replace('"{nonce}"', f'"{nonce}"', 1))
                digest = hashlib.sha256((prev + text).encode("utf-8")).hexdigest()
                responses.append((response_id, survey_id, received_at, day, PAPER_SOURCE,
                                  channel, nonce, prev, digest))
                answers.extend((response_id, a["question_id"], a["option_id"], a["text"])
                               for a in item.answers)
                ids.append(response_id)
                prev = digest
            conn.executemany(
                "INSERT INTO responses (id, survey_id, received_at, day, source, channel, nonce,"
                " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", responses)
            conn.executemany("INSERT INTO answers (response_id, question_id, option_id, text) "
                             "VALUES (?, ?, ?, ?)", answers)
    finally:
        conn.execute("PRAGMA foreign_keys = ON")
    return ids


def _make_visible(db, survey: dict, questions: list[dict], import_id: int,
                  staged: list[_Staged], ids: list[int], user_id, sha256: str) -> int:
    """The one short transaction that makes the whole file part of the survey."""
    survey_id = survey["id"]
    first = db.execute("SELECT day, source, channel, received_at FROM responses WHERE id = ?",
                       [ids[0]]).fetchone() if ids else None
    day, source, channel, opened_at = first if first else ("", PAPER_SOURCE, "", "")
    valid = sum(item.verdict.valid for item in staged)
    answer_counts: Counter = Counter()
    conditionals = [q for q in questions if q.get("show_if")]
    for item in staged:
        if item.verdict.valid:
            keys = {(a["question_id"], 0) for a in item.answers}
            keys |= {(a["question_id"], a["option_id"]) for a in item.answers if a["option_id"]}
            keys |= {(q, APPLICABLE) for q in applied_in_rows(conditionals, item.answers)}
            answer_counts.update(keys)
    settings = case_settings(survey)
    with_cases = [(response_id, item) for response_id, item in zip(ids, staged, strict=True)
                  if item.triggers]
    due = None
    if with_cases:
        calendar = department_calendar(db, survey["department_id"])
        due = add_working_days(calendar, dt.date.fromisoformat(day), settings.due_working_days)
    with write_transaction(db):
        conn = db.conn
        conn.executemany("INSERT INTO screening (response_id, valid, reasons) VALUES (?, ?, ?)",
                         [(response_id, int(item.verdict.valid), dumps_list(item.verdict.reasons))
                          for response_id, item in zip(ids, staged, strict=True)])
        if ids:
            conn.execute(
                "INSERT INTO response_tallies (survey_id, day, source, channel, returned, valid) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
                "returned = returned + excluded.returned, valid = valid + excluded.valid",
                [survey_id, day, source, channel, len(ids), valid])
        conn.executemany(
            "INSERT INTO answer_tallies (survey_id, day, source, channel, question_id, option_id,"
            " count) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET "
            "count = count + excluded.count",
            [(survey_id, day, source, channel, q, o, n) for (q, o), n in sorted(answer_counts.items())])
        for response_id, item in with_cases:
            case_id = insert_row(db, "cases", {
                "survey_id": survey_id, "response_id": response_id,
                "department_id": survey["department_id"], "channel": channel, "source": source,
                "status": "open", "response_valid": int(item.verdict.valid),
                "triggers": dumps([t.__dict__ for t in item.triggers]), "opened_at": opened_at,
                "opened_day": day, "due_day": due.isoformat(),
                "due_working_days": settings.due_working_days, "updated_at": iso(utc_now())})
            _event(db, case_id, "open", None, "open", None,
                   {"triggers": [f"{t.label}：{t.question_text}" for t in item.triggers]})
        first_id, last_id = (ids[0], ids[-1]) if ids else (None, None)
        db.execute("UPDATE imports SET state = 'done', first_response_id = ?, "
                   "last_response_id = ? WHERE id = ?", [first_id, last_id, import_id])
        audit(db, "import.paper", department_id=survey["department_id"], user_id=user_id,
              subject=survey_id, detail={"import_id": import_id, "rows": len(ids),
                                         "sha256": sha256})
    return valid


def dumps_list(reasons) -> str:
    """screening.reasons as record_response writes it."""
    import json
    return json.dumps(list(reasons))


def _give_up(db, survey_id: int, import_id: int, ids: list[int]) -> None:
    """Nothing of a failed import becomes visible (see the module's docstring)."""
    try:
        with write_transaction(db):
            tail = db.execute("SELECT max(id) FROM responses WHERE survey_id = ?",
                              [survey_id]).fetchone()[0]
            if not ids or tail == ids[-1]:
                # Still the end of the chain: no citizen's response links to them.
                db.conn.executemany("DELETE FROM answers WHERE response_id = ?",
                                    [(i,) for i in ids])
                db.conn.executemany("DELETE FROM responses WHERE id = ?", [(i,) for i in ids])
                db.execute("DELETE FROM imports WHERE id = ?", [import_id])
            else:
                _mark_failed(db, import_id)
    except Exception:  # noqa: BLE001 - the original error is the one to report
        pass  # nosec B110 - cleanup after a failure that is re-raised


def _mark_failed(db, import_id: int) -> None:
    db.execute("UPDATE imports SET state = 'failed', sha256 = sha256 || ':failed:' || id "
               "WHERE id = ?", [import_id])


def _import_in_one_transaction(db, survey: dict, questions: list[dict], rows: list[PaperRow], *,
                               sha256: str, filename: str, channel: str = "",
                               user_id: int | None = None) -> ImportResult:
    """The whole file inside the caller's transaction, one record_response per row."""
    now = utc_now()
    with write_transaction(db):
        _refuse_duplicate(db, survey["id"], sha256)
        import_id = db.table("imports").insert({
            "survey_id": survey["id"], "sha256": sha256, "filename": filename[:200],
            "rows": len(rows), "user_id": user_id, "imported_at": iso(now)}).last_pk
        ids, valid = [], 0
        for paper in rows:
            sub = Submission(answers=paper.answers, nonce=_nonce(sha256, import_id, paper.row),
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
