"""What the dashboard reads besides the figures: a cheap data version (the cache key), the
rates per channel, the suggestions, the excluded responses, one response with its decisions.

Everything is read in SQL with LIMIT; nothing loads a survey's responses into Python.
"""
import functools
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core import figure_text
from ..core import figures as figures_module
from ..core.chain import digest
from ..core.figures import compute_figures
from ..core.labels import channel_name, china_time, source_name
from ..core.screening import REASON_TEXT
from . import tallies
from .surveys import questionnaire
from .tallies import TallyFilter, survey_and_groups

# Bump to drop every cached figure and chart at once.
CACHE_GENERATION = 1
SQLITE_MAX_INT = 2**63 - 1


@dataclass(frozen=True)
class DataVersion:
    """Everything the figures depend on, each part cheap to read."""
    responses: tuple  # (last response id, number of validity decisions)
    survey: str  # digest of the survey row's settings and its questionnaire
    issued: tuple  # (batches, total issued)
    views: int  # form views: figures show them, charts do not

    def key(self, *parts, with_views: bool = True) -> str:
        views = self.views if with_views else None
        return digest(CACHE_GENERATION, code_version(), self.responses, self.survey,
                      self.issued, views, parts)


@functools.cache
def code_version() -> str:
    """A digest of the code that computes the figures: an upgrade that changes how a figure
    is computed must not keep serving figures cached by the old code."""
    modules = (figures_module, figure_text, tallies, sys.modules[__name__])
    return digest(*(Path(m.__file__).read_bytes().hex() for m in modules))[:16]


def data_version(db, survey: dict) -> DataVersion:
    sid = survey["id"]
    last = db.execute("SELECT max(id) FROM responses WHERE survey_id = ?", [sid]).fetchone()[0]
    decisions = db.execute(
        "SELECT count(*) FROM validity_decisions v JOIN responses r ON r.id = v.response_id "
        "WHERE r.survey_id = ?", [sid]).fetchone()[0]
    issued = tuple(db.execute(
        "SELECT count(*), coalesce(sum(count), 0), (SELECT count(*) FROM invitations "
        "WHERE survey_id = :s) FROM issued_batches WHERE survey_id = :s", {"s": sid}).fetchone())
    views = db.execute("SELECT coalesce(sum(views), 0) FROM form_views WHERE survey_id = ?",
                       [sid]).fetchone()[0]
    shape = [tuple(r) for r in db.execute(
        "SELECT q.id, q.position, q.kind, q.text, q.required, q.show_if_question_id,"
        " q.show_if_option_ids, o.id, o.position, o.label, o.value,"
        " o.satisfied FROM questions q LEFT JOIN options o ON o.question_id = q.id "
        "WHERE q.survey_id = ? ORDER BY q.id, o.id", [sid])]
    row = (survey["updated_at"], survey["title"], survey["settings"], shape)
    return DataVersion((last, decisions), digest(row), issued, views)


def filter_parts(flt: TallyFilter) -> tuple:
    return (flt.day_from, flt.day_to, flt.channel, flt.source)


def _channel_row(channel: str, figures: dict) -> dict:
    return {"channel": channel, "label": channel_name(channel),
            "returned": figures["returned"], "valid": figures["valid"],
            "rate": figures["satisfaction_rate"], "ci": figures["satisfaction_rate_ci95"],
            "exact": figures["exact"]["satisfaction_rate"],
            "n": figures["n"]}


def dashboard_figures(db, survey: dict, flt: TallyFilter = TallyFilter()) -> dict:
    """The figures under the filter (equal to store.tallies.survey_figures) and the headline
    rate per channel, untagged last: what the page and its charts show."""
    questions = questionnaire(db, survey["id"])
    whole, groups = survey_and_groups(db, survey, questions, flt, by="channel")
    channels = sorted(groups, key=lambda c: (c == "", c))
    return {"figures": compute_figures(whole),
            "channels": [_channel_row(c, compute_figures(groups[c])) for c in channels]}


def channel_rates(db, survey: dict, flt: TallyFilter = TallyFilter()) -> list[dict]:
    return dashboard_figures(db, survey, flt)["channels"]


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


def _page_of(db, count_sql: str, rows_sql: str, params: list, page: int,
             per_page: int) -> Page:
    total = db.execute(count_sql, params).fetchone()[0]
    page = min(max(1, page), max(1, math.ceil(total / per_page)))
    rows = [dict(r) for r in db.query(f"{rows_sql} LIMIT ? OFFSET ?",
                                      [*params, per_page, (page - 1) * per_page])]
    return Page(rows, total, page, per_page)


def _with_context(row: dict) -> dict:
    row["received_local"] = china_time(row["received_at"])
    row["channel_label"] = channel_name(row["channel"])
    row["source_label"] = source_name(row["source"])
    return row


def suggestions(db, survey_id: int, flt: TallyFilter = TallyFilter(), search: str = "",
                page: int = 1, per_page: int = 20) -> Page:
    """Free-text answers, newest submission first, optionally containing `search`.

    Driven by the answers' question index, newest first, so a page of a million responses
    reads its twenty rows; the responses are joined for counting only under a filter."""
    text_ids = [r[0] for r in db.execute(
        "SELECT id FROM questions WHERE survey_id = ? AND kind = 'text'", [survey_id])]
    if not text_ids:
        return Page([], 0, 1, per_page)
    where, params = flt.where()
    # Only given text is stored for a text question, so the index alone counts them.
    match = "a.question_id IN ({})".format(", ".join("?" * len(text_ids)))
    params = [*text_ids, *params]
    if search.strip():
        match += " AND a.text LIKE ? ESCAPE '\\'"
        params.append(_like(search.strip()))
    joined = "FROM answers a JOIN responses r ON r.id = a.response_id"
    counted = joined if where else "FROM answers a"
    found = _page_of(
        db, f"SELECT count(*) {counted} WHERE {match}{where}",
        "SELECT a.id, a.text, q.position, r.id AS response_id, r.received_at, r.channel, "
        f"r.source, s.valid {joined} JOIN questions q ON q.id = a.question_id "
        f"JOIN screening s ON s.response_id = r.id WHERE {match}{where} "
        "ORDER BY r.received_at DESC, a.id DESC",
        params, page, per_page)
    return Page([_with_context(r) for r in found.rows], found.total, found.page, per_page)


def _reasons_text(row: dict) -> str:
    if row["manual"]:
        return f"人工判定为{'有效' if row['valid'] else '无效'}：{row['manual_reason']}"
    codes = json.loads(row["reasons"] or "[]")
    return "；".join(REASON_TEXT.get(code, code) for code in codes) or "—"


def busy_address_flags(db, survey_id: int) -> dict:
    """Answers set aside because their address sent more than a service hall would, and how
    many of those a person has reviewed since (`set_validity` keeps the automatic reasons)."""
    flagged, reviewed = db.execute(
        "SELECT count(*), coalesce(sum(s.manual), 0) FROM screening s "
        "JOIN responses r ON r.id = s.response_id "
        "WHERE r.survey_id = ? AND s.reasons LIKE '%\"busy_address\"%'", [survey_id]).fetchone()
    return {"flagged": flagged, "reviewed": reviewed}


def excluded_responses(db, survey_id: int, flt: TallyFilter = TallyFilter(), page: int = 1,
                       per_page: int = 20) -> Page:
    """Responses currently counted as invalid, newest first, with their reasons in words."""
    where, params = flt.where()
    rest = ("FROM screening s JOIN responses r ON r.id = s.response_id "
            "WHERE s.valid = 0 AND r.survey_id = ?" + where)
    found = _page_of(db, f"SELECT count(*) {rest}",
                     "SELECT r.id, r.received_at, r.channel, r.source, r.duration_seconds, "
                     f"s.valid, s.reasons, s.manual, s.manual_reason {rest} "
                     "ORDER BY s.response_id DESC", [survey_id, *params], page, per_page)
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
        row["decided_local"] = china_time(row["decided_at"])
        row["username"] = row["username"] or "（已删除的用户）"
    return rows


def response_detail(db, survey_id: int, response_id: int) -> dict | None:
    """One response of this survey with its answers in words and its screening, or None."""
    if not 0 < response_id <= SQLITE_MAX_INT:
        return None
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


def question_tables(figures: dict) -> dict:
    """How the page lays out the per-question counts: scale questions with the same levels
    as the first form one matrix (as in a report's table); any other choice question gets a
    table of its own; text questions are only counted (their words are the suggestions)."""
    questions = figures["questions"]
    scale = [q for q in questions if q["kind"] == "scale"]
    levels = [o["label"] for o in scale[0]["options"]] if scale else []
    matrix = [q for q in scale if [o["label"] for o in q["options"]] == levels]
    return {"levels": levels, "matrix": matrix,
            "others": [q for q in questions if q["kind"] != "text" and q not in matrix],
            "texts": [q for q in questions if q["kind"] == "text"]}
