"""A department's working-day overrides on top of the national calendar, and the due dates
of open cases, counted again whenever either changes."""
import datetime as dt

from ..core.cases import ACTIVE_STATUSES
from ..core.workdays import WorkdayCalendar, WorkdayOverride, add_working_days, national_calendar
from . import StoreError, write_transaction
from .util import audit, case_event, iso, utc_now

_ACTIVE_SQL = "('" + "', '".join(ACTIVE_STATUSES) + "')"

NOTE_MAX = 100


def overrides(db, department_id: int) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT o.*, u.username FROM workday_overrides o LEFT JOIN users u ON u.id = o.user_id "
        "WHERE o.department_id = ? ORDER BY o.day", [department_id])]


def department_calendar(db, department_id: int) -> WorkdayCalendar:
    # conn.execute, not db.query: sqlite-utils wraps a query in a savepoint (three statements
    # instead of one, and a case opens on the citizen's path).
    own = [WorkdayOverride(dt.date.fromisoformat(day), bool(is_workday), note)
           for day, is_workday, note in db.conn.execute(
               "SELECT day, is_workday, note FROM workday_overrides WHERE department_id = ?",
               [department_id])]
    return national_calendar().with_overrides(own)


def set_override(db, department_id: int, day: dt.date, is_workday: bool, note: str,
                 user_id: int | None) -> int:
    """Add or replace the department's decision for `day`; open cases' due dates follow it.
    Returns how many of them moved."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise StoreError(f"说明请控制在 {NOTE_MAX} 字以内")
    with write_transaction(db):
        db.execute(
            "INSERT INTO workday_overrides (department_id, day, is_workday, note, user_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (department_id, day) DO UPDATE SET "
            "is_workday = excluded.is_workday, note = excluded.note, user_id = excluded.user_id, "
            "created_at = excluded.created_at",
            [department_id, day.isoformat(), int(is_workday), note, user_id, iso(utc_now())])
        audit(db, "workday.set", department_id=department_id, user_id=user_id,
              subject=day.isoformat(), detail={"is_workday": is_workday, "note": note})
        kind = "上班" if is_workday else "休息"
        return recompute_due_dates(db, f"本部门将 {day.isoformat()} 安排为{kind}", department_id,
                                   user_id)


def delete_override(db, department_id: int, override_id: int, user_id: int | None
                    ) -> int | None:
    """None when the department has no such override; else how many open cases' due dates moved."""
    if not 0 < override_id <= 2**63 - 1:
        return None
    with write_transaction(db):
        row = db.execute("SELECT day FROM workday_overrides WHERE id = ? AND department_id = ?",
                         [override_id, department_id]).fetchone()
        if row is None:
            return None
        db.execute("DELETE FROM workday_overrides WHERE id = ?", [override_id])
        audit(db, "workday.delete", department_id=department_id, user_id=user_id, subject=row[0])
        return recompute_due_dates(db, f"本部门撤销了 {row[0]} 的工作日安排", department_id,
                                   user_id)


def recompute_due_dates(db, reason: str, department_id: int | None = None,
                        user_id: int | None = None) -> int:
    """Count the due date of every open case (of one department, or all) again under the
    current calendar; each one that moves gets a history entry saying from when, to when and
    why. Closed cases keep theirs: their on-time verdict was given. One transaction (or a
    savepoint of the caller's). Returns how many moved."""
    with write_transaction(db):
        return _recompute(db, reason, department_id, user_id)


def _recompute(db, reason: str, department_id: int | None, user_id: int | None) -> int:
    where, params = f"status IN {_ACTIVE_SQL}", []
    if department_id is not None:
        where, params = where + " AND department_id = ?", [department_id]
    rows = db.execute("SELECT id, department_id, status, opened_day, due_day, due_working_days "
                      f"FROM cases WHERE {where} ORDER BY id",  # nosec B608 - fixed fragments
                      params).fetchall()
    calendars: dict[int, WorkdayCalendar] = {}
    moved = 0
    for case_id, dept, status, opened, due, days in rows:
        if dept not in calendars:
            calendars[dept] = department_calendar(db, dept)
        new_due = add_working_days(calendars[dept], dt.date.fromisoformat(opened), days).isoformat()
        if new_due == due:
            continue
        db.execute("UPDATE cases SET due_day = ?, updated_at = ? WHERE id = ?",
                   [new_due, iso(utc_now()), case_id])
        case_event(db, case_id, "due_changed", status, status, user_id,
                   {"text": f"到期日由 {due} 改为 {new_due}：{reason}", "from": due, "to": new_due})
        moved += 1
    return moved
