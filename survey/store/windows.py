"""一事一评 storage: invitations (one per transaction), window tablets (kiosks), windows and
the account each window's 差评 cases go to, and the tag binding an answer to its transaction.

Tokens are random (`secrets.token_urlsafe`), looked up by equality only: a wrong token, a
revoked kiosk and an unknown one all read as "not found". Invitation tokens are kept as they
are: the same reference must give back the same link (the window's system may ask twice)."""
import datetime as dt
import secrets
import sqlite3
from dataclasses import dataclass

from ..core.figures import compute_figures, precision_warning
from ..core.transactions import Transaction
from . import StoreError, tallies, write_transaction
from .surveys import questionnaire
from .util import audit, iso, utc_now

TOKEN_BYTES = 18  # 144 random bits, 24 characters in a URL


class InvitationAnsweredError(StoreError):
    """The transaction was already evaluated: the first answer stands."""

    def __init__(self):
        super().__init__("该笔业务已评价，感谢您的参与。")


class InvitationExpiredError(StoreError):
    """The invitation is past its validity: nothing is stored."""

    def __init__(self):
        super().__init__("该评价链接已过有效期，无法再评价。感谢您的关注。")


@dataclass(frozen=True)
class AnswerTag:
    """What ties a response to a transaction or a window (see record_response)."""
    window: str
    staff_code: str = ""
    invitation_id: int | None = None
    kiosk_id: int | None = None


def _token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


# --- invitations ------------------------------------------------------------------------------

def invite(db, survey_id: int, transaction: Transaction, valid_days: int) -> tuple[dict, bool]:
    """The transaction's invitation, and whether it was created now (False: the reference
    already had one, returned unchanged)."""
    with write_transaction(db):
        found = invitation_by_reference(db, survey_id, transaction.reference)
        if found:
            return found, False
        now = utc_now()
        db.execute(
            "INSERT INTO invitations (survey_id, reference, window_name, staff_code, token,"
            " created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [survey_id, transaction.reference, transaction.window, transaction.staff_code,
             _token(), iso(now), iso(now + dt.timedelta(days=valid_days))])
        if transaction.window:
            ensure_window(db, survey_id, transaction.window)
        return invitation_by_reference(db, survey_id, transaction.reference), True


_INVITATION = (
    "SELECT i.id, i.survey_id, i.reference, i.window_name, i.staff_code, i.token,"
    " i.created_at, i.expires_at, t.response_id, r.received_at AS answered_at,"
    " s.token AS survey_token FROM invitations i JOIN surveys s ON s.id = i.survey_id "
    "LEFT JOIN response_transactions t ON t.invitation_id = i.id "
    "LEFT JOIN responses r ON r.id = t.response_id")


def _one(db, where: str, params: list) -> dict | None:
    rows = list(db.query(f"{_INVITATION} WHERE {where}", params))
    return rows[0] if rows else None


def invitation_by_reference(db, survey_id: int, reference: str) -> dict | None:
    return _one(db, "i.survey_id = ? AND i.reference = ?", [survey_id, reference])


def invitation_by_token(db, token: str) -> dict | None:
    return _one(db, "i.token = ?", [token]) if 0 < len(token) <= 64 else None


def invitation(db, invitation_id: int) -> dict | None:
    return _one(db, "i.id = ?", [invitation_id])


def is_expired(row: dict, now: dt.datetime | None = None) -> bool:
    return row["expires_at"] <= iso(now or utc_now())


def recent_invitations(db, survey_id: int, limit: int = 50) -> list[dict]:
    return list(db.query(f"{_INVITATION} WHERE i.survey_id = ? ORDER BY i.id DESC LIMIT ?",
                         [survey_id, limit]))


def pending_for_window(db, survey_id: int, window: str, minutes: int) -> dict | None:
    """The newest unanswered, unexpired invitation the window's system created in the last
    `minutes`: the transaction the citizen at the window has just finished."""
    now = utc_now()
    return _one(db, "i.survey_id = ? AND i.window_name = ? AND i.created_at >= ? "
                "AND i.expires_at > ? AND t.response_id IS NULL ORDER BY i.id DESC LIMIT 1",
                [survey_id, window, iso(now - dt.timedelta(minutes=minutes)), iso(now)])


def bind_answer(db, response_id: int, survey_id: int, tag: AnswerTag) -> None:
    """Inside record_response's transaction: tie the response to its transaction. The UNIQUE
    invitation_id makes a second answer fail here, whatever the timing, and with it the
    whole response."""
    if tag.invitation_id is not None:
        expires = db.execute("SELECT expires_at FROM invitations WHERE id = ? AND survey_id = ?",
                             [tag.invitation_id, survey_id]).fetchone()
        if expires is None:
            raise StoreError("评价邀请不存在")
        if expires[0] <= iso(utc_now()):
            raise InvitationExpiredError()
    try:
        db.conn.execute(
            "INSERT INTO response_transactions (response_id, survey_id, invitation_id, kiosk_id,"
            " window_name, staff_code) VALUES (?, ?, ?, ?, ?, ?)",
            [response_id, survey_id, tag.invitation_id, tag.kiosk_id, tag.window,
             tag.staff_code])
    except sqlite3.IntegrityError as error:
        raise InvitationAnsweredError() from error


# --- windows and their tablets ----------------------------------------------------------------

def ensure_window(db, survey_id: int, name: str) -> None:
    """A window is also a channel tag: it is listed with the survey's QR channels."""
    now = iso(utc_now())
    db.execute("INSERT OR IGNORE INTO survey_windows (survey_id, name, created_at) "
               "VALUES (?, ?, ?)", [survey_id, name, now])
    db.execute("INSERT OR IGNORE INTO survey_channels (survey_id, name, created_at) "
               "VALUES (?, ?, ?)", [survey_id, name, now])


def window_names(db, survey_id: int) -> list[str]:
    """Every window the survey knows: set up by staff, named by an invitation or a tablet."""
    return [r[0] for r in db.execute(
        "SELECT name FROM survey_windows WHERE survey_id = ? UNION "
        "SELECT window_name FROM invitations WHERE survey_id = ? AND window_name != '' UNION "
        "SELECT window_name FROM kiosks WHERE survey_id = ? ORDER BY 1",
        [survey_id, survey_id, survey_id])]


def windows(db, survey_id: int) -> list[dict]:
    return list(db.query(
        "SELECT w.name, w.assignee_id, u.username AS assignee FROM survey_windows w "
        "LEFT JOIN users u ON u.id = w.assignee_id WHERE w.survey_id = ? ORDER BY w.name",
        [survey_id]))


def set_assignee(db, survey: dict, window: str, assignee_id: int | None,
                 user_id: int | None) -> None:
    """The account a window's 差评 cases are assigned to when they open (None: nobody)."""
    with write_transaction(db):
        if assignee_id is not None and db.execute(
                "SELECT 1 FROM users WHERE id = ? AND department_id = ? AND active = 1",
                [assignee_id, survey["department_id"]]).fetchone() is None:
            raise StoreError("承办人须是本部门的在岗账号")
        ensure_window(db, survey["id"], window)
        db.execute("UPDATE survey_windows SET assignee_id = ? WHERE survey_id = ? AND name = ?",
                   [assignee_id, survey["id"], window])
        audit(db, "window.assignee", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"window": window, "assignee_id": assignee_id})


def register_kiosk(db, survey: dict, window: str, user_id: int | None) -> dict:
    with write_transaction(db):
        ensure_window(db, survey["id"], window)
        kiosk_id = db.execute(
            "INSERT INTO kiosks (survey_id, window_name, token, created_by, created_at) "
            "VALUES (?, ?, ?, ?, ?)",
            [survey["id"], window, _token(), user_id, iso(utc_now())]).lastrowid
        audit(db, "kiosk.register", department_id=survey["department_id"], user_id=user_id,
              subject=kiosk_id, detail={"window": window})
    return kiosk(db, kiosk_id)


def kiosk(db, kiosk_id: int) -> dict | None:
    rows = list(db.query("SELECT * FROM kiosks WHERE id = ?", [kiosk_id]))
    return rows[0] if rows else None


def kiosk_by_token(db, token: str) -> dict | None:
    """An active kiosk; a revoked one is not found."""
    if not 0 < len(token) <= 64:
        return None
    rows = list(db.query("SELECT k.*, s.token AS survey_token FROM kiosks k JOIN surveys s "
                         "ON s.id = k.survey_id WHERE k.token = ? AND k.revoked_at IS NULL",
                         [token]))
    return rows[0] if rows else None


def survey_kiosks(db, survey_id: int) -> list[dict]:
    return list(db.query(
        "SELECT k.*, u.username AS created_by_name FROM kiosks k "
        "LEFT JOIN users u ON u.id = k.created_by WHERE k.survey_id = ? "
        "ORDER BY k.revoked_at IS NOT NULL, k.window_name, k.id", [survey_id]))


def revoke_kiosk(db, survey: dict, kiosk_id: int, user_id: int | None) -> bool:
    """Revoke a tablet of the survey; False when the survey has no such tablet."""
    with write_transaction(db):
        row = db.execute("SELECT revoked_at FROM kiosks WHERE id = ? AND survey_id = ?",
                         [kiosk_id, survey["id"]]).fetchone()
        if row is None:
            return False
        if row[0] is None:
            db.execute("UPDATE kiosks SET revoked_at = ?, revoked_by = ? WHERE id = ?",
                       [iso(utc_now()), user_id, kiosk_id])
            audit(db, "kiosk.revoke", department_id=survey["department_id"], user_id=user_id,
                  subject=kiosk_id)
    return True


# --- figures per window and per staff member --------------------------------------------------

def _item(key: str, name: str, figures: dict) -> dict:
    return {key: name, "issued": figures["issued"], "returned": figures["returned"],
            "valid": figures["valid"], "return_rate": figures["return_rate"],
            "satisfaction_rate": figures["satisfaction_rate"],
            "satisfaction_rate_ci95": figures["satisfaction_rate_ci95"], "n": figures["n"],
            "exact": {k: figures["exact"][k] for k in ("satisfaction_rate", "return_rate")},
            "shown": {k: figures["shown"][k] for k in ("satisfaction_rate", "return_rate")},
            "small_sample": precision_warning(figures)}


def window_figures(db, survey: dict) -> list[dict]:
    """发放/回收/有效 and the satisfaction rate with its 95% interval per window, each from
    core.figures like the survey's own."""
    names = window_names(db, survey["id"])
    if not names:  # most surveys: the dashboard pays one small query
        return []
    questions = questionnaire(db, survey["id"])
    by_window = tallies.window_tallies(db, survey, questions, names)
    return [_item("window", n, compute_figures(t)) for n, t in by_window.items()]


def staff_figures(db, survey: dict) -> list[dict]:
    """The same per staff code given with the transactions (一事一评)."""
    by_staff = tallies.staff_tallies(db, survey, questionnaire(db, survey["id"]))
    return [_item("staff", c, compute_figures(t)) for c, t in by_staff.items()]


def transaction_figures(db, survey: dict) -> dict:
    return {"by_window": window_figures(db, survey), "by_staff": staff_figures(db, survey)}
