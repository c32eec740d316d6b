"""The survey builder's storage: settings, copies, deletion, 发放 batches and channel tags.

Question and option edits (and the rules protecting answers already collected) are in
`editor.py`.
"""
import secrets
import sqlite3
from dataclasses import dataclass

from ..core.questionnaire import scale_options
from ..core.settings import SurveySettings
from . import StoreError, write_transaction
from .archive import SurveyHasDataError, has_collected
from .surveys import DEDUPE_POLICIES, create_survey, get_survey, questionnaire
from .util import audit, dumps, iso, utc_now


class SurveyLockedError(StoreError):
    """A change that would alter the meaning of answers already collected."""


COPY_HINT = "如需调整，请在“概况”页把问卷复制为新问卷后再修改。"


@dataclass(frozen=True)
class SettingsEdit:
    """What the settings page edits; times are ISO UTC strings or None."""
    title: str
    intro: str
    year: int | None
    headline: str  # 'question' | 'scale_mean'
    headline_question_id: int | None
    screening: dict  # core.screening.ScreeningRules.to_dict()
    dedupe_policy: str
    opens_at: str | None
    closes_at: str | None
    population: int | None


def has_responses(db, survey_id: int) -> bool:
    return db.execute("SELECT 1 FROM responses WHERE survey_id = ? LIMIT 1",
                      [survey_id]).fetchone() is not None


def response_counts(db, survey_id: int) -> tuple[int, int]:
    """(returned, valid) from the tallies."""
    row = db.execute("SELECT coalesce(sum(returned), 0), coalesce(sum(valid), 0) "
                     "FROM response_tallies WHERE survey_id = ?", [survey_id]).fetchone()
    return row[0], row[1]


def update_settings(db, survey: dict, new: SettingsEdit, user_id: int | None) -> None:
    if new.dedupe_policy not in DEDUPE_POLICIES:
        raise StoreError("未知的重复答卷处理方式")
    settings = SurveySettings.of(survey).changed(
        headline=new.headline, screening=new.screening, headline_question_id=new.headline_question_id,
        population=new.population).to_dict()
    after = {"title": new.title, "intro": new.intro, "year": new.year,
             "dedupe_policy": new.dedupe_policy, "opens_at": new.opens_at,
             "closes_at": new.closes_at,
             **{f"settings.{k}": v for k, v in settings.items()}}
    current = SurveySettings.of(survey)  # screening rules as applied, defaults included
    before = {**survey, **{f"settings.{k}": v for k, v in (
        current.to_dict() | {"screening": current.screening_rules().to_dict()}).items()}}
    with write_transaction(db):
        db.execute(
            "UPDATE surveys SET title = ?, intro = ?, year = ?, dedupe_policy = ?, opens_at = ?, "
            "closes_at = ?, settings = ?, updated_at = ? WHERE id = ?",
            [new.title, new.intro, new.year, new.dedupe_policy, new.opens_at, new.closes_at,
             dumps(settings), iso(utc_now()), survey["id"]])
        # What changed, before and after: a title, an intro or a screening rule changed
        # mid-campaign is what an auditor asks about (evidence package, changes.json).
        audit(db, "survey.settings", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={
                  "changed": {k: {"before": before.get(k), "after": v}
                              for k, v in after.items() if before.get(k) != v},
                  "responses": response_counts(db, survey["id"])[0]})


def apply_scale_scheme(db, survey: dict, satisfied_levels: int, value_preset: str,
                       user_id: int | None) -> None:
    """Re-label every scale question's satisfied flags and values; only before any answer."""
    if has_responses(db, survey["id"]):
        raise SurveyLockedError("问卷已有答卷，不能再统一更改满意口径和分值方案。" + COPY_HINT)
    levels = scale_options(satisfied_levels, value_preset)
    settings = SurveySettings.of(survey).changed(
        satisfied_levels=satisfied_levels, value_preset=value_preset).to_dict()
    with write_transaction(db):
        for q in questionnaire(db, survey["id"]):
            if q["kind"] != "scale":
                continue
            # Options beyond the five standard levels (added by hand) take the lowest level.
            for i, option in enumerate(q["options"]):
                level = levels[min(i, len(levels) - 1)]
                db.execute("UPDATE options SET value = ?, satisfied = ? WHERE id = ?",
                           [level["value"], int(level["satisfied"]), option["id"]])
        db.execute("UPDATE surveys SET settings = ?, updated_at = ? WHERE id = ?",
                   [dumps(settings), iso(utc_now()), survey["id"]])
        audit(db, "survey.scale_scheme", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"satisfied_levels": satisfied_levels,
                                            "value_preset": value_preset})


def _as_questionnaire(db, source: dict) -> dict:
    questions = questionnaire(db, source["id"])
    settings = {k: v for k, v in source["settings"].items() if k != "headline_question_id"}
    headline_id = SurveySettings.of(source).headline_question_id
    for index, q in enumerate(questions, start=1):
        if q["id"] == headline_id:
            settings["headline_position"] = index
    return {"title": source["title"], "intro": source["intro"], "settings": settings,
            "questions": [{"kind": q["kind"], "text": q["text"], "required": bool(q["required"]),
                           "options": [{"label": o["label"], "value": o["value"],
                                        "satisfied": bool(o["satisfied"])} for o in q["options"]],
                           "show_if": _numbered_condition(q, questions)}
                          for q in questions]}


def _numbered_condition(question: dict, questions: list[dict]) -> dict | None:
    """A condition by question and option number (create_survey's form): the copy's
    questions and options have new ids."""
    show_if = question["show_if"]
    if not show_if:
        return None
    number, gate = next((i, q) for i, q in enumerate(questions, start=1)
                        if q["id"] == show_if["question_id"])
    return {"question": number, "options": [
        i for i, o in enumerate(gate["options"], start=1) if o["id"] in show_if["option_ids"]]}


def _remap_case_questions(db, source: dict, copy_id: int) -> None:
    """The follow-up setting names questions by id; the copy's questions have new ids."""
    cases = SurveySettings.of(source).cases
    if not isinstance(cases, dict) or not isinstance(cases.get("question_ids"), list):
        return
    old_ids = [q["id"] for q in questionnaire(db, source["id"])]
    new_ids = dict(zip(old_ids, (q["id"] for q in questionnaire(db, copy_id)), strict=True))
    copy = get_survey(db, copy_id)
    settings = SurveySettings.of(copy).changed(cases={
        **cases, "question_ids": [new_ids[i] for i in cases["question_ids"] if i in new_ids]}).to_dict()
    db.execute("UPDATE surveys SET settings = ? WHERE id = ?", [dumps(settings), copy_id])


def copy_survey(db, source: dict, *, title: str, year: int | None,
                user_id: int | None) -> int:
    """A draft copy with a new link; it shares the source's series so years can be compared."""
    with write_transaction(db):
        series = source["series"]
        if not series:
            series = secrets.token_hex(6)
            db.execute("UPDATE surveys SET series = ? WHERE id = ?", [series, source["id"]])
        survey_id = create_survey(db, source["department_id"], _as_questionnaire(db, source),
                                  title=title, year=year, series=series,
                                  dedupe_policy=source["dedupe_policy"])
        _remap_case_questions(db, source, survey_id)
        audit(db, "survey.copy", department_id=source["department_id"], user_id=user_id,
              subject=survey_id, detail={"source": source["id"]})
    return survey_id


def delete_survey(db, survey: dict, user_id: int | None) -> None:
    """Delete a survey nothing was collected for; one with answers is archived instead (see
    archive.py), so no path deletes answers, cases or call-back numbers by a click."""
    try:
        with write_transaction(db):
            if has_collected(db, survey["id"]):
                raise SurveyHasDataError("问卷已有答卷，不能删除，只能归档。")
            audit(db, "survey.delete", department_id=survey["department_id"], user_id=user_id,
                  subject=survey["id"], detail={"title": survey["title"], "year": survey["year"]})
            db.execute("DELETE FROM surveys WHERE id = ?", [survey["id"]])
    except sqlite3.IntegrityError as error:
        raise StoreError("该问卷已被其他记录（如自评表或回访工单）引用，不能删除。") from error


def record_issued(db, survey: dict, count: int, note: str, user_id: int | None,
                  channel: str | None = None) -> int:
    """A batch handed out; `channel` names the channel it went through ('' for answers with
    no channel tag), None for the whole survey (the 回收率 then covers every channel without
    a batch of its own)."""
    if count < 1:
        raise StoreError("发放份数须为正整数")
    with write_transaction(db):
        batch_id = db.table("issued_batches").insert({
            "survey_id": survey["id"], "count": count, "note": note, "user_id": user_id,
            "recorded_at": iso(utc_now()), "channel": channel}).last_pk
        audit(db, "issued.record", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"batch": batch_id, "count": count, "channel": channel})
    return batch_id


def issued_batches(db, survey_id: int) -> list[dict]:
    return [dict(r) for r in db.query(
        "SELECT b.*, u.username FROM issued_batches b LEFT JOIN users u ON u.id = b.user_id "
        "WHERE b.survey_id = ? ORDER BY b.recorded_at, b.id", [survey_id])]


def delete_issued(db, survey: dict, batch_id: int, user_id: int | None) -> None:
    with write_transaction(db):
        row = db.execute("SELECT count FROM issued_batches WHERE id = ? AND survey_id = ?",
                         [batch_id, survey["id"]]).fetchone()
        if row is None:
            raise StoreError("该发放记录不存在")
        db.execute("DELETE FROM issued_batches WHERE id = ?", [batch_id])
        audit(db, "issued.delete", department_id=survey["department_id"], user_id=user_id,
              subject=survey["id"], detail={"batch": batch_id, "count": row[0]})


def saved_channel_names(db, survey_id: int) -> list[str]:
    """The tags staff set up, oldest first."""
    return [r[0] for r in db.execute(
        "SELECT name FROM survey_channels WHERE survey_id = ? ORDER BY created_at, name",
        [survey_id])]


def channel_names(db, survey_id: int) -> list[str]:
    """Tags staff set up, then any other tag responses arrived with; '' (no tag) excluded."""
    seen = [r[0] for r in db.execute(
        "SELECT DISTINCT channel FROM response_tallies WHERE survey_id = ? AND channel != '' "
        "ORDER BY channel", [survey_id])]
    return list(dict.fromkeys(saved_channel_names(db, survey_id) + seen))


def add_channel(db, survey_id: int, name: str) -> None:
    db.execute("INSERT OR IGNORE INTO survey_channels (survey_id, name, created_at) "
               "VALUES (?, ?, ?)", [survey_id, name, iso(utc_now())])


def remove_channel(db, survey_id: int, name: str) -> None:
    db.execute("DELETE FROM survey_channels WHERE survey_id = ? AND name = ?", [survey_id, name])
