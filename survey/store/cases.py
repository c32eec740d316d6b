"""Follow-up cases: opened with the response, worked step by step, every step in case_events.

Invalid (screened-out) responses open cases too: screening decides what counts towards the
satisfaction rate, not whether a complaint deserves an answer; a department could otherwise
hide 差评 behind a screening rule. The case shows the screening result, and a mistaken or
malicious review is removed through 申诉, which an administrator confirms.
"""
import datetime as dt
from dataclasses import dataclass

from ..core.cases import CaseProgress, CaseSettings, case_triggers, next_status
from ..core.settings import SurveySettings
from ..core.workdays import add_working_days
from . import StoreError, write_transaction
from .case_reports import case_figures, get_case  # noqa: F401  (case_figures: for exports)
from .util import audit, case_event, dumps, insert_row, iso, local_day, utc_now
from .workdays import department_calendar

TEXT_MAX = 2000
# Which column each work step fills in, and the timestamp it sets.
STEP_COLUMNS = {"callback": "callback_note", "cause": "cause", "rectify": "rectification",
                "reply": "reply"}


def case_settings(survey: dict) -> CaseSettings:
    return SurveySettings.of(survey).case_settings()


def open_case_if_dissatisfied(db, survey: dict, questions: list[dict], response_id: int,
                              answers_rows: list[dict], verdict,
                              response: dict | None = None) -> int | None:
    """Open the response's case when its answers call for one (inside record_response's
    transaction, so a response is never stored without the case it should have).
    `response`: its received_at, day, channel and source when the caller has them."""
    settings = case_settings(survey)
    triggers = case_triggers(settings, questions, answers_rows)
    if not triggers:
        return None
    if response is None:
        response = dict(zip(("received_at", "day", "channel", "source"), db.conn.execute(
            "SELECT received_at, day, channel, source FROM responses WHERE id = ?",
            [response_id]).fetchone(), strict=True))
    received_at, day, channel, source = (response["received_at"], response["day"],
                                         response["channel"], response["source"])
    calendar = department_calendar(db, survey["department_id"])
    due = add_working_days(calendar, dt.date.fromisoformat(day), settings.due_working_days)
    assignee_id = _window_assignee(db, survey, channel)
    case_id = insert_row(db, "cases", {
        "survey_id": survey["id"], "response_id": response_id,
        "department_id": survey["department_id"], "channel": channel, "source": source,
        "status": "open", "response_valid": int(verdict.valid),
        "triggers": dumps([t.__dict__ for t in triggers]), "opened_at": received_at,
        "opened_day": day, "due_day": due.isoformat(),
        "due_working_days": settings.due_working_days, "updated_at": iso(utc_now()),
        "assignee_id": assignee_id,
    })
    detail = {"triggers": [f"{t.label}：{t.question_text}" for t in triggers]}
    if assignee_id is not None:
        detail["assignee"] = _assignee(db, survey["department_id"], assignee_id)
    _event(db, case_id, "open", None, "open", None, detail)
    return case_id


def _window_assignee(db, survey: dict, channel: str) -> int | None:
    """The account staff set for the answer's window (its channel tag), while it is still an
    active account of the department (else the case opens unassigned, as any other)."""
    if not channel:
        return None
    row = db.execute(
        "SELECT w.assignee_id FROM survey_windows w JOIN users u ON u.id = w.assignee_id "
        "WHERE w.survey_id = ? AND w.name = ? AND u.active = 1 AND u.department_id = ?",
        [survey["id"], channel, survey["department_id"]]).fetchone()
    return row[0] if row else None


_event = case_event


# --- call-back contacts (PIPL: consent, kept apart, deleted on expiry) ---------------------

def attach_contact(db, response_id: int, phone: str, consent_text: str,
                   retention_days: int) -> bool:
    """Keep a consented call-back number with the response's case. No case (a satisfied
    answer): nothing to call back about, so nothing is stored."""
    row = db.execute("SELECT id FROM cases WHERE response_id = ?", [response_id]).fetchone()
    if row is None:
        return False
    now = utc_now()
    db.table("callback_contacts").insert({
        "case_id": row[0], "phone": phone, "consent_text": consent_text,
        "consented_at": iso(now), "expires_at": iso(now + dt.timedelta(days=retention_days))})
    db.execute("UPDATE cases SET callback_requested = 1 WHERE id = ?", [row[0]])
    return True


def contact(db, case_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM callback_contacts WHERE case_id = ? AND expires_at > ?",
                         [case_id, iso(utc_now())]))
    return rows[0] if rows else None


def purge_expired_contacts(db, now: dt.datetime | None = None) -> int:
    """Delete every call-back number past its retention date; the case history notes it."""
    cutoff = iso(now or utc_now())
    # Called on page views: take the write lock only when there is something to delete.
    if not db.execute("SELECT 1 FROM callback_contacts WHERE expires_at <= ? LIMIT 1",
                      [cutoff]).fetchone():
        return 0
    with write_transaction(db):
        expired = [r[0] for r in db.execute(
            "SELECT case_id FROM callback_contacts WHERE expires_at <= ?", [cutoff])]
        for case_id in expired:
            status = db.execute("SELECT status FROM cases WHERE id = ?", [case_id]).fetchone()[0]
            _event(db, case_id, "contact_purged", status, status, None, {})
        db.execute("DELETE FROM callback_contacts WHERE expires_at <= ?", [cutoff])
    return len(expired)


# --- working a case -------------------------------------------------------------------------

@dataclass(frozen=True)
class Step:
    """One step a user takes on a case: the action and what they wrote or chose."""
    action: str
    text: str = ""
    assignee_id: int | None = None
    appeal_kind: str | None = None


def progress_of(row: dict) -> CaseProgress:
    return CaseProgress(status=row["status"], has_cause=bool(row["cause"]),
                        has_rectification=bool(row["rectification"]),
                        has_reply=bool(row["reply"]), has_callback=bool(row["called_back_at"]),
                        callback_requested=bool(row["callback_requested"]))


def _assignee(db, department_id: int, user_id) -> str:
    row = db.execute("SELECT username FROM users WHERE id = ? AND department_id = ? AND active = 1",
                     [user_id, department_id]).fetchone()
    if row is None:
        raise StoreError("承办人须是本部门的在岗账号")
    return row[0]


def _changes(db, case: dict, step: Step, status: str, now: dt.datetime) -> tuple[dict, dict]:
    """The case columns this step sets, and what the history records."""
    changes = {"status": status, "updated_at": iso(now)}
    detail = {"text": step.text} if step.text else {}
    if step.action == "assign":
        changes["assignee_id"] = step.assignee_id
        detail["assignee"] = _assignee(db, case["department_id"], step.assignee_id)
    elif step.action in STEP_COLUMNS:
        changes[STEP_COLUMNS[step.action]] = step.text
        if step.action == "callback":
            changes["called_back_at"] = iso(now)
    elif step.action == "appeal":
        changes.update(appeal_kind=step.appeal_kind, appeal_reason=step.text)
        detail["kind"] = step.appeal_kind
    elif step.action == "reject_appeal":
        changes.update(appeal_kind=None, appeal_reason=None)
    if status in ("closed", "dismissed"):
        changes.update(closed_at=iso(now), closed_day=local_day(now))
    return changes, detail


def _check_text(step: Step) -> None:
    needs_text = step.action in STEP_COLUMNS or step.action in ("appeal", "reject_appeal")
    if needs_text and not step.text.strip():
        raise StoreError("请填写办理内容")
    if len(step.text) > TEXT_MAX:
        raise StoreError(f"请控制在 {TEXT_MAX} 字以内")


def take_step(db, case_id: int, user: dict, step: Step) -> str:
    """Apply one step by `user` to a case of their department; returns the new status.
    Raises CaseTransitionError / CasePermissionError / StoreError with Chinese messages."""
    _check_text(step)
    with write_transaction(db):
        case = get_case(db, case_id, user["department_id"])
        if case is None:
            raise StoreError("案件不存在")
        status = next_status(progress_of(case), step.action, user["role"])
        now = utc_now()
        changes, detail = _changes(db, case, step, status, now)
        db.table("cases").update(case_id, changes)
        _event(db, case_id, step.action, case["status"], status, user["id"], detail)
        audit(db, f"case.{step.action}", department_id=user["department_id"],
              user_id=user["id"], subject=case_id)
    return status


def save_case_settings(db, survey: dict, settings: CaseSettings, user_id: int | None) -> None:
    """Replace only settings["cases"] (the builder owns the other keys). Cases already opened
    keep their due dates (their time limit was promised when they opened); the new rule
    applies to responses submitted from now on."""
    with write_transaction(db):
        db.execute("UPDATE surveys SET settings = json_set(settings, '$.cases', json(?)), "
                   "updated_at = ? WHERE id = ?",
                   [dumps(settings.to_dict()), iso(utc_now()), survey["id"]])
        audit(db, "survey.case_settings", department_id=survey["department_id"],
              user_id=user_id, subject=survey["id"], detail=settings.to_dict())
