"""Reading follow-up cases: one case with its answers and history, the department's list,
and the figures (aggregated in SQL, computed in core.cases)."""
import datetime as dt
import json
from dataclasses import dataclass

from ..core.cases import ACTIVE_STATUSES, STATUSES, CaseCounts, summarise_cases
from ..core.workdays import national_calendar, provisional_due
from .util import iso, local_day, utc_now

PAGE_SIZE = 50
MAX_ID = 2**63 - 1  # SQLite's largest integer: a longer id in a URL matches nothing
_ACTIVE_SQL = "('" + "', '".join(ACTIVE_STATUSES) + "')"

CASE_SELECT = (
    "SELECT c.*, s.title AS survey_title, u.username AS assignee, "
    " EXISTS (SELECT 1 FROM callback_contacts cc WHERE cc.case_id = c.id AND cc.expires_at > ?)"
    "   AS has_contact, "  # nosec B608 - fixed SQL text; values are ? parameters
    f" (c.status IN {_ACTIVE_SQL} AND c.due_day < ?) AS overdue "
    "FROM cases c JOIN surveys s ON s.id = c.survey_id LEFT JOIN users u ON u.id = c.assignee_id ")


def today() -> str:
    """Today in China Standard Time: a case is overdue from the day after its due date."""
    return local_day(utc_now())


def _decode(row) -> dict:
    case = dict(row)
    case["triggers"] = json.loads(case["triggers"])
    case["overdue"] = bool(case["overdue"])
    case["has_contact"] = bool(case["has_contact"])
    case["due_provisional"] = due_provisional_reason(case)
    return case


def due_provisional_reason(case: dict) -> str | None:
    """Why the case's due date is provisional (beyond the calendar's last year), else None."""
    if not case.get("due_day") or not case.get("opened_day"):
        return None
    return provisional_due(national_calendar(), dt.date.fromisoformat(case["opened_day"]),
                           dt.date.fromisoformat(case["due_day"]))


def get_case(db, case_id: int, department_id: int) -> dict | None:
    """The case if it belongs to the department, else None (the view turns that into a 404)."""
    if not 0 < case_id <= MAX_ID:
        return None
    rows = list(db.query(CASE_SELECT + "WHERE c.id = ? AND c.department_id = ?",
                         [iso(utc_now()), today(), case_id, department_id]))
    return _decode(rows[0]) if rows else None


def case_events(db, case_id: int) -> list[dict]:
    rows = db.query("SELECT e.*, u.username FROM case_events e LEFT JOIN users u "
                    "ON u.id = e.user_id WHERE e.case_id = ? ORDER BY e.id", [case_id])
    return [{**r, "detail": json.loads(r["detail"])} for r in rows]


def case_answers(db, response_id: int) -> list[dict]:
    """The response's answers in question order: question text and chosen label or text."""
    return [dict(r) for r in db.query(
        "SELECT q.id AS question_id, q.position, q.kind, q.text AS question, o.label, "
        " a.text AS answer_text "
        "FROM answers a JOIN questions q ON q.id = a.question_id "
        "LEFT JOIN options o ON o.id = a.option_id WHERE a.response_id = ? "
        "ORDER BY q.position, q.id, o.position", [response_id])]


def screening_of(db, response_id: int) -> dict:
    row = db.execute("SELECT valid, reasons, manual_reason FROM screening WHERE response_id = ?",
                     [response_id]).fetchone()
    return {"valid": bool(row[0]), "reasons": json.loads(row[1]), "manual_reason": row[2]}


@dataclass(frozen=True)
class CaseFilter:
    """status: 'active' (default), 'overdue', 'all' or one of core.cases.STATUSES."""
    status: str = "active"
    channel: str | None = None
    survey_id: int | None = None

    def where(self, department_id: int, day: str) -> tuple[str, list]:
        clauses, params = ["c.department_id = ?"], [department_id]
        if self.status in ("active", "overdue"):
            clauses.append(f"c.status IN {_ACTIVE_SQL}")
        elif self.status in STATUSES:
            clauses.append("c.status = ?")
            params.append(self.status)
        if self.status == "overdue":
            clauses.append("c.due_day < ?")
            params.append(day)
        if self.channel is not None:
            clauses.append("c.channel = ?")
            params.append(self.channel)
        if self.survey_id is not None:
            clauses.append("c.survey_id = ?")
            params.append(self.survey_id)
        return " WHERE " + " AND ".join(clauses), params


def list_cases(db, department_id: int, flt: CaseFilter = CaseFilter(), page: int = 1
               ) -> tuple[list[dict], int]:
    """One page of the department's cases, overdue first, then by due date; and the total."""
    day = today()
    where, params = flt.where(department_id, day)
    total = db.execute(f"SELECT count(*) FROM cases c{where}", params).fetchone()[0]  # nosec B608 - ? values
    rows = db.query(
        CASE_SELECT + where.replace(" WHERE ", "WHERE ", 1)
        + " ORDER BY overdue DESC, c.status IN " + _ACTIVE_SQL + " DESC, c.due_day, c.id"
        " LIMIT ? OFFSET ?", [iso(utc_now()), day, *params, PAGE_SIZE, (page - 1) * PAGE_SIZE])
    return [_decode(r) for r in rows], total


def filtered_cases(db, department_id: int, flt: CaseFilter = CaseFilter()) -> list[dict]:
    """Every case the list page's filter selects, in the list's order (for the export)."""
    day = today()
    where, params = flt.where(department_id, day)
    return [_decode(r) for r in db.query(
        CASE_SELECT + where.replace(" WHERE ", "WHERE ", 1)
        + " ORDER BY overdue DESC, c.status IN " + _ACTIVE_SQL + " DESC, c.due_day, c.id",
        [iso(utc_now()), day, *params])]


def survey_cases(db, survey_id: int) -> list[dict]:
    """Every case of a survey, oldest first (for the CLI and exports)."""
    return [_decode(r) for r in db.query(CASE_SELECT + "WHERE c.survey_id = ? ORDER BY c.id",
                                         [iso(utc_now()), today(), survey_id])]


def department_channels(db, department_id: int) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT DISTINCT channel FROM cases WHERE department_id = ? ORDER BY channel",
        [department_id])]


_COUNTS_SQL = f"""
SELECT substr(opened_day, 1, 7), channel, count(*),
  total(status = 'dismissed'), total(status = 'closed'),
  total(status = 'closed' AND closed_day <= due_day),
  total(status IN {_ACTIVE_SQL} AND due_day < :today),
  total(callback_requested AND status != 'dismissed'),
  total(callback_requested AND status != 'dismissed' AND called_back_at IS NOT NULL),
  total(status != 'dismissed' AND coalesce(rectification, '') != ''),
  total(CASE WHEN status = 'closed' THEN julianday(closed_at) - julianday(opened_at) END)
FROM cases c WHERE {{where}} GROUP BY 1, 2
"""  # nosec B608 - fixed SQL text; values are ? parameters


def _figures(db, where: str, params: dict) -> dict:
    rows = db.execute(_COUNTS_SQL.format(where=where), {"today": today(), **params})
    groups = [(month, channel, CaseCounts(
        opened, *(int(x) for x in counts[:-1]), close_days_total=counts[-1]))
        for month, channel, opened, *counts in rows]
    return summarise_cases(groups)


def case_figures(db, survey_id: int) -> dict:
    """回访率, 整改率, 按期办结率 and average time to close for one survey: overall, per month
    (of opening) and per channel, with their definitions (for exports and the evidence
    package)."""
    return {"survey_id": survey_id,
            **_figures(db, "c.survey_id = :survey_id", {"survey_id": survey_id})}


def department_case_figures(db, department_id: int, survey_id: int | None = None) -> dict:
    where, params = "c.department_id = :department_id", {"department_id": department_id}
    if survey_id is not None:
        where += " AND c.survey_id = :survey_id"
        params["survey_id"] = survey_id
    return _figures(db, where, params)
