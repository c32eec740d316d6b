"""Small helpers shared by the store modules."""
import datetime as dt
import json

from ..core.labels import CHINA_TZ


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).isoformat(timespec="microseconds")


def local_day(moment: dt.datetime) -> str:
    """Days are counted in China Standard Time, as a service hall counts them."""
    return moment.astimezone(CHINA_TZ).date().isoformat()


def dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def audit(db, action: str, *, department_id=None, user_id=None, subject="", detail=None):
    db.table("audit_log").insert({
        "department_id": department_id, "user_id": user_id, "action": action,
        "subject": str(subject), "detail": dumps(detail or {}), "at": iso(utc_now()),
    })


_INSERT_SQL: dict = {}


def insert_row(db, table: str, row: dict) -> int:
    """INSERT one row; its rowid. What `db.table(t).insert(row).last_pk` does, without
    sqlite-utils reading the schema (two queries of sqlite_master) on every call: for the
    citizen's path."""
    key = (table, tuple(row))
    sql = _INSERT_SQL.get(key)
    if sql is None:
        sql = _INSERT_SQL[key] = (
            f"INSERT INTO [{table}] ({', '.join(f'[{c}]' for c in row)}) "  # nosec B608 - own names
            f"VALUES ({', '.join('?' * len(row))})")
    return db.conn.execute(sql, list(row.values())).lastrowid


def case_event(db, case_id, action, status_from, status_to, user_id, detail) -> None:
    """One entry in a case's history (case_events): its steps, and what moved its due date."""
    insert_row(db, "case_events", {
        "case_id": case_id, "action": action, "status_from": status_from,
        "status_to": status_to, "user_id": user_id, "detail": dumps(detail or {}),
        "at": iso(utc_now())})
