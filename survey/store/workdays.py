"""A department's working-day overrides on top of the national calendar."""
import datetime as dt

from ..core.workdays import WorkdayCalendar, WorkdayOverride, national_calendar
from . import StoreError
from .util import audit, iso, utc_now

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
                 user_id: int | None) -> None:
    """Add or replace the department's decision for `day` (later cases only: due dates already
    set are not moved)."""
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise StoreError(f"说明请控制在 {NOTE_MAX} 字以内")
    with db.atomic():
        db.execute(
            "INSERT INTO workday_overrides (department_id, day, is_workday, note, user_id, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (department_id, day) DO UPDATE SET "
            "is_workday = excluded.is_workday, note = excluded.note, user_id = excluded.user_id, "
            "created_at = excluded.created_at",
            [department_id, day.isoformat(), int(is_workday), note, user_id, iso(utc_now())])
        audit(db, "workday.set", department_id=department_id, user_id=user_id,
              subject=day.isoformat(), detail={"is_workday": is_workday, "note": note})


def delete_override(db, department_id: int, override_id: int, user_id: int | None) -> bool:
    if not 0 < override_id <= 2**63 - 1:
        return False
    with db.atomic():
        row = db.execute("SELECT day FROM workday_overrides WHERE id = ? AND department_id = ?",
                         [override_id, department_id]).fetchone()
        if row is None:
            return False
        db.execute("DELETE FROM workday_overrides WHERE id = ?", [override_id])
        audit(db, "workday.delete", department_id=department_id, user_id=user_id, subject=row[0])
    return True
