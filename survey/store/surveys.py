"""Surveys, their questions and options."""
import json
import secrets
import threading
from collections import OrderedDict

from ..core.labels import SURVEY_STATUSES
from . import StoreError
from .util import audit, dumps, iso, utc_now

STATUSES = SURVEY_STATUSES
DEDUPE_POLICIES = {"none": "不限制（重复答卷由有效性筛查标记）", "device_cookie": "每台设备限答一次"}


def new_token() -> str:
    """128 random bits: a survey link cannot be guessed or enumerated. It starts with a letter
    or digit, so a token typed on the command line is never read as an option ("-x...")."""
    while True:
        token = secrets.token_urlsafe(16)
        if token[0].isalnum():
            return token


def create_survey(db, department_id: int, questionnaire: dict, *, title: str | None = None,
                  status: str = "draft", year: int | None = None, series: str | None = None,
                  dedupe_policy: str = "none") -> int:
    """Insert a survey with its questions and options in one transaction."""
    now = iso(utc_now())
    settings = dict(questionnaire.get("settings", {}))
    headline_position = settings.pop("headline_position", None)
    with db.atomic():
        survey_id = db.table("surveys").insert({
            "department_id": department_id, "title": (title or questionnaire["title"]).strip(),
            "intro": questionnaire.get("intro", ""), "status": status, "token": new_token(),
            "dedupe_policy": dedupe_policy, "settings": dumps(settings), "year": year,
            "series": series, "created_at": now, "updated_at": now,
        }).last_pk
        inserted = []
        for position, question in enumerate(questionnaire["questions"], start=1):
            question_id = _insert_question(db, survey_id, position, question)
            inserted.append(question_id)
            if position == headline_position:
                settings["headline_question_id"] = question_id
        _insert_conditions(db, questionnaire["questions"], inserted)
        db.execute("UPDATE surveys SET settings = ? WHERE id = ?", [dumps(settings), survey_id])
        audit(db, "survey.create", department_id=department_id, subject=survey_id)
    return survey_id


def _insert_question(db, survey_id: int, position: int, question: dict) -> int:
    question_id = db.table("questions").insert({
        "survey_id": survey_id, "position": position, "kind": question["kind"],
        "text": question["text"], "required": int(bool(question.get("required", True))),
    }).last_pk
    db.table("options").insert_all(
        {"question_id": question_id, "position": i, "label": o["label"], "value": o.get("value"),
         "satisfied": int(bool(o.get("satisfied")))}
        for i, o in enumerate(question.get("options", []), start=1)
    )
    return question_id


def _insert_conditions(db, questions: list[dict], ids: list[int]) -> None:
    """A definition names a condition's gate and options by number (show_if: {"question":
    1-based question number, "options": [1-based option numbers]}): stored by id."""
    for question, question_id in zip(questions, ids, strict=True):
        show_if = question.get("show_if")
        if not show_if:
            continue
        gate_id = ids[show_if["question"] - 1]
        option_ids = [r[0] for r in db.execute(
            "SELECT id FROM options WHERE question_id = ? ORDER BY position, id", [gate_id])]
        set_condition(db, question_id, {
            "question_id": gate_id, "option_ids": [option_ids[n - 1] for n in show_if["options"]]})


def set_condition(db, question_id: int, show_if: dict | None) -> None:
    """Store a question's condition ({"question_id", "option_ids"}) or remove it (None)."""
    db.execute("UPDATE questions SET show_if_question_id = ?, show_if_option_ids = ? WHERE id = ?",
               [show_if and show_if["question_id"],
                show_if and json.dumps(show_if["option_ids"]), question_id])


def decode_question(row) -> dict:
    """A question row with its condition as `show_if` (see core.conditions)."""
    question = dict(row)
    gate_id = question.get("show_if_question_id")
    question["show_if"] = {"question_id": gate_id, "option_ids": json.loads(
        question["show_if_option_ids"] or "[]")} if gate_id else None
    return question


def _decode(row: dict) -> dict:
    row = dict(row)
    row["settings"] = json.loads(row["settings"] or "{}")
    return row


def get_survey(db, survey_id: int, department_id: int | None = None) -> dict | None:
    """The survey, or None; scoped to a department when one is given."""
    sql = ("SELECT surveys.*, departments.name AS department_name FROM surveys "
           "JOIN departments ON departments.id = surveys.department_id WHERE surveys.id = ?")
    params = [survey_id]
    if department_id is not None:
        sql += " AND surveys.department_id = ?"
        params.append(department_id)
    rows = list(db.query(sql, params))
    return _decode(rows[0]) if rows else None


def survey_by_token(db, token: str) -> dict | None:
    rows = list(db.query("SELECT id FROM surveys WHERE token = ?", [token]))
    return get_survey(db, rows[0]["id"]) if rows else None


_PUBLIC_SURVEY = (
    "SELECT surveys.*, departments.name AS department_name, form_revisions.revision AS "
    "form_revision FROM surveys JOIN departments ON departments.id = surveys.department_id "
    "LEFT JOIN form_revisions ON form_revisions.survey_id = surveys.id WHERE surveys.token = ?")


def public_survey(db, token: str) -> dict | None:
    """survey_by_token in one statement, with the survey's `form_revision` (the key of its
    cached questionnaire): the citizen's path reads it on every request."""
    cursor = db.conn.execute(_PUBLIC_SURVEY, [token])
    row = cursor.fetchone()
    if row is None:
        return None
    return _decode(dict(zip([c[0] for c in cursor.description], row, strict=True)))


_CACHE_SIZE = 256
_cache: OrderedDict = OrderedDict()
_cache_lock = threading.Lock()


def cached(db, survey: dict, name: str, build):
    """`build()` once per (database, survey, form revision, name): the questionnaire and what
    is made from it (form classes, HTML). Shared by threads: treat the value as read-only."""
    key = (getattr(db, "survey_path", None) or id(db), survey["id"], survey.get("form_revision"),
           name)
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found
    value = build()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def public_questionnaire(db, survey: dict) -> list[dict]:
    """questionnaire(), cached under the survey's form revision (see public_survey)."""
    if "form_revision" not in survey:
        return questionnaire(db, survey["id"])
    return cached(db, survey, "questionnaire", lambda: questionnaire(db, survey["id"]))


def resolve(db, ref: str) -> dict | None:
    """A survey by numeric id or public token (the CLI accepts both)."""
    ref = str(ref).strip()
    if ref.isdigit():
        found = get_survey(db, int(ref))
        if found:
            return found
    return survey_by_token(db, ref)


def questionnaire(db, survey_id: int) -> list[dict]:
    """Questions in order, each with its options in order."""
    questions = [decode_question(q) for q in db.query(
        "SELECT * FROM questions WHERE survey_id = ? ORDER BY position, id", [survey_id])]
    by_id = {q["id"]: q for q in questions}
    for q in questions:
        q["options"] = []
    for option in db.query(
            "SELECT options.* FROM options JOIN questions ON questions.id = options.question_id "
            "WHERE questions.survey_id = ? ORDER BY options.position, options.id", [survey_id]):
        by_id[option["question_id"]]["options"].append(dict(option))
    return questions


_ARCHIVED = {False: " AND archived_at IS NULL", True: " AND archived_at IS NOT NULL", None: ""}


def department_surveys(db, department_id: int, archived: bool | None = False) -> list[dict]:
    """The department's surveys, newest first: the active ones (archived=False), the archived
    ones (True) or all (None: pages that show what archived surveys still hold, e.g. cases)."""
    return [_decode(r) for r in db.query(
        "SELECT surveys.*, "  # nosec B608 - only the fixed _ARCHIVED fragments
        " (SELECT coalesce(sum(returned), 0) FROM response_tallies t WHERE t.survey_id = surveys.id)"
        "   AS returned, "
        " (SELECT coalesce(sum(valid), 0) FROM response_tallies t WHERE t.survey_id = surveys.id)"
        "   AS valid "
        "FROM surveys WHERE department_id = ?" + _ARCHIVED[archived] +
        " ORDER BY created_at DESC, id DESC", [department_id])]


def set_status(db, survey_id: int, status: str, user_id: int | None = None) -> None:
    if status not in STATUSES:
        raise StoreError("未知的问卷状态")
    with db.atomic():
        db.execute("UPDATE surveys SET status = ?, updated_at = ? WHERE id = ?",
                   [status, iso(utc_now()), survey_id])
        audit(db, f"survey.{status}", user_id=user_id, subject=survey_id)


def is_accepting(survey: dict, now_iso: str | None = None) -> bool:
    if survey["status"] != "open" or survey.get("archived_at"):
        return False
    now_iso = now_iso or iso(utc_now())
    if survey.get("opens_at") and now_iso < survey["opens_at"]:
        return False
    return not (survey.get("closes_at") and now_iso > survey["closes_at"])


def insert_question(db, survey_id: int, position: int, question: dict) -> int:
    """One question with its options, at `position` (the builder adds them one at a time)."""
    return _insert_question(db, survey_id, position, question)
