"""What the dashboard reads besides the figures: a cheap data version (the cache key), the
rates per channel, the suggestions, the excluded responses, one response with its decisions.

Everything is read in SQL with LIMIT; nothing loads a survey's responses into Python.
"""
import datetime as dt
import json
import math
from dataclasses import dataclass

from ..core.figures import compute_figures
from ..core.screening import REASON_TEXT
from .file_cache import digest
from .surveys import questionnaire
from .tallies import TallyFilter, grouped_tallies, survey_figures
from .util import CHINA_TZ

# Bump when the shape of cached figures or the look of the charts changes.
CACHE_GENERATION = 1
UNTAGGED_CHANNEL = "未标注渠道"
SOURCE_NAMES = {"qr": "扫码", "web": "网页链接", "paper": "纸质录入"}


@dataclass(frozen=True)
class DataVersion:
    """Everything the figures depend on, each part cheap to read."""
    responses: tuple  # (last response id, number of validity decisions)
    survey: str  # digest of the survey row's settings and its questionnaire
    issued: tuple  # (batches, total issued)
    views: int  # form views: figures show them, charts do not

    def key(self, *parts, with_views: bool = True) -> str:
        views = self.views if with_views else None
        return digest(CACHE_GENERATION, self.responses, self.survey, self.issued, views, parts)


def data_version(db, survey: dict) -> DataVersion:
    sid = survey["id"]
    last = db.execute("SELECT max(id) FROM responses WHERE survey_id = ?", [sid]).fetchone()[0]
    decisions = db.execute(
        "SELECT count(*) FROM validity_decisions v JOIN responses r ON r.id = v.response_id "
        "WHERE r.survey_id = ?", [sid]).fetchone()[0]
    issued = tuple(db.execute("SELECT count(*), coalesce(sum(count), 0) FROM issued_batches "
                              "WHERE survey_id = ?", [sid]).fetchone())
    views = db.execute("SELECT coalesce(sum(views), 0) FROM form_views WHERE survey_id = ?",
                       [sid]).fetchone()[0]
    shape = [tuple(r) for r in db.execute(
        "SELECT q.id, q.position, q.kind, q.text, q.required, o.id, o.position, o.label, o.value,"
        " o.satisfied FROM questions q LEFT JOIN options o ON o.question_id = q.id "
        "WHERE q.survey_id = ? ORDER BY q.id, o.id", [sid])]
    row = (survey["updated_at"], survey["title"], survey["settings"], shape)
    return DataVersion((last, decisions), digest(row), issued, views)


def filter_parts(flt: TallyFilter) -> tuple:
    return (flt.day_from, flt.day_to, flt.channel, flt.source)


def channel_rates(db, survey: dict, flt: TallyFilter = TallyFilter()) -> list[dict]:
    """The headline satisfaction rate of each channel, untagged responses last."""
    questions = questionnaire(db, survey["id"])
    tallies = grouped_tallies(db, survey, questions, flt, by="channel")
    rows = []
    for channel in sorted(tallies, key=lambda c: (c == "", c)):
        figures = compute_figures(tallies[channel])
        rows.append({"channel": channel, "label": channel or UNTAGGED_CHANNEL,
                     "returned": figures["returned"], "valid": figures["valid"],
                     "rate": figures["satisfaction_rate"],
                     "ci": figures["satisfaction_rate_ci95"], "n": figures["n"]})
    return rows


def dashboard_figures(db, survey: dict, flt: TallyFilter = TallyFilter()) -> dict:
    """The figures under the filter and the rate per channel: what the page and charts show."""
    return {"figures": survey_figures(db, survey, flt),
            "channels": channel_rates(db, survey, flt)}


def local_time(moment: str | None) -> str:
    """A stored UTC timestamp as China time, to the minute."""
    if not moment:
        return "—"
    return dt.datetime.fromisoformat(moment).astimezone(CHINA_TZ).strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Page:
    rows: list
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page_of(db, select: str, rest: str, params: list, page: int, per_page: int) -> Page:
    total = db.execute(f"SELECT count(*) {rest}", params).fetchone()[0]
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    rows = [dict(r) for r in db.query(
        f"SELECT {select} {rest} ORDER BY 1 DESC LIMIT ? OFFSET ?",
        [*params, per_page, (page - 1) * per_page])]
    return Page(rows, total, page, per_page)


def _with_context(row: dict) -> dict:
    row["received_local"] = local_time(row["received_at"])
    row["channel_label"] = row["channel"] or UNTAGGED_CHANNEL
    row["source_label"] = SOURCE_NAMES.get(row["source"], row["source"])
    return row


def suggestions(db, survey_id: int, flt: TallyFilter = TallyFilter(), search: str = "",
                page: int = 1, per_page: int = 20) -> Page:
    """Free-text answers, newest first, optionally containing `search`."""
    where, params = flt.where()
    rest = ("FROM answers a JOIN questions q ON q.id = a.question_id "
            "JOIN responses r ON r.id = a.response_id JOIN screening s ON s.response_id = r.id "
            "WHERE q.survey_id = ? AND q.kind = 'text' AND coalesce(a.text, '') != ''" + where)
    params = [survey_id, *params]
    if search.strip():
        rest += " AND a.text LIKE ? ESCAPE '\\'"
        params.append(_like(search.strip()))
    found = _page_of(db, "a.id, a.text, q.position, r.id AS response_id, r.received_at, "
                     "r.channel, r.source, s.valid", rest, params, page, per_page)
    return Page([_with_context(r) for r in found.rows], found.total, found.page, per_page)


def _reasons_text(row: dict) -> str:
    if row["manual"]:
        return f"人工判定为{'有效' if row['valid'] else '无效'}：{row['manual_reason']}"
    codes = json.loads(row["reasons"] or "[]")
    return "；".join(REASON_TEXT.get(code, code) for code in codes) or "—"


def excluded_responses(db, survey_id: int, flt: TallyFilter = TallyFilter(), page: int = 1,
                       per_page: int = 20) -> Page:
    """Responses currently counted as invalid, newest first, with their reasons in words."""
    where, params = flt.where()
    rest = ("FROM screening s JOIN responses r ON r.id = s.response_id "
            "WHERE s.valid = 0 AND r.survey_id = ?" + where)
    found = _page_of(db, "r.id, r.received_at, r.channel, r.source, r.duration_seconds, "
                     "s.valid, s.reasons, s.manual, s.manual_reason", rest,
                     [survey_id, *params], page, per_page)
    rows = [{**_with_context(r), "reasons_text": _reasons_text(r)} for r in found.rows]
    return Page(rows, found.total, found.page, per_page)


def validity_log(db, survey_id: int, response_id: int | None = None,
                 limit: int = 50) -> list[dict]:
    """Staff decisions on validity, newest first, with who made them and when."""
    sql = ("SELECT v.id, v.response_id, v.valid, v.reason, v.decided_at, u.username "
           "FROM validity_decisions v JOIN responses r ON r.id = v.response_id "
           "LEFT JOIN users u ON u.id = v.user_id WHERE r.survey_id = ?")
    params = [survey_id]
    if response_id is not None:
        sql += " AND v.response_id = ?"
        params.append(response_id)
    rows = [dict(r) for r in db.query(sql + " ORDER BY v.id DESC LIMIT ?", [*params, limit])]
    for row in rows:
        row["decided_local"] = local_time(row["decided_at"])
        row["username"] = row["username"] or "（已删除的用户）"
    return rows


def response_detail(db, survey_id: int, response_id: int) -> dict | None:
    """One response of this survey with its answers in words and its screening, or None."""
    rows = [dict(r) for r in db.query(
        "SELECT r.id, r.received_at, r.day, r.channel, r.source, r.duration_seconds, s.valid,"
        " s.reasons, s.manual, s.manual_reason FROM responses r "
        "JOIN screening s ON s.response_id = r.id WHERE r.id = ? AND r.survey_id = ?",
        [response_id, survey_id])]
    if not rows:
        return None
    detail = _with_context(rows[0])
    detail["reasons_text"] = _reasons_text(detail)
    detail["answers"] = _answers_in_words(db, response_id)
    return detail


def _answers_in_words(db, response_id: int) -> list[dict]:
    answers: dict[int, dict] = {}
    for r in db.query(
            "SELECT q.id, q.position, q.text AS question, o.label, a.text FROM answers a "
            "JOIN questions q ON q.id = a.question_id LEFT JOIN options o ON o.id = a.option_id "
            "WHERE a.response_id = ? ORDER BY q.position, o.position", [response_id]):
        entry = answers.setdefault(r["id"], {"position": r["position"],
                                             "question": r["question"], "given": []})
        entry["given"].append(r["label"] if r["label"] is not None else r["text"])
    return list(answers.values())
