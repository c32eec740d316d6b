"""Editing questions and options, refusing every change that would alter what answers already
collected mean.

What stays allowed once answers exist, and why:
- fixing a question's wording (the UI asks not to change its meaning) and reordering questions:
  stored answers point at question and option ids, not at texts or positions;
- adding a question, always optional: earlier respondents never saw it, so it cannot make their
  answers incomplete;
- editing or deleting an option nobody chose.
Refused: changing a chosen option's label, value or satisfied flag, deleting it, adding options
to an answered question, deleting an answered question, changing its kind, and changing whether
a question is required (valid responses before and after would follow different rules).
Once the survey has answers, every change of wording is kept with its period (wording.py).
"""
from dataclasses import dataclass

from ..core.conditions import check_condition, dependants, order_problem
from ..core.questionnaire import QUESTION_KINDS, scale_options
from ..core.settings import SurveySettings
from . import StoreError, write_transaction
from .builder import COPY_HINT, SurveyLockedError, has_responses
from .surveys import decode_question, insert_question, questionnaire, set_condition
from .util import iso, utc_now
from .wording import recorded

CHOICE_KINDS = ("scale", "single", "multiple")


@dataclass(frozen=True)
class OptionDraft:
    label: str
    value: float | None = None
    satisfied: bool = False


@dataclass(frozen=True)
class QuestionDraft:
    kind: str
    text: str
    required: bool = True
    options: tuple[OptionDraft, ...] = ()  # ignored for 'scale' (the five levels) and 'text'


def get_question(db, survey_id: int, question_id: int) -> dict | None:
    """The question with its options, only if it belongs to the survey."""
    rows = list(db.query("SELECT * FROM questions WHERE id = ? AND survey_id = ?",
                         [question_id, survey_id]))
    if not rows:
        return None
    question = decode_question(rows[0])
    question["options"] = [dict(o) for o in db.query(
        "SELECT * FROM options WHERE question_id = ? ORDER BY position, id", [question_id])]
    return question


def question_answered(db, question_id: int) -> bool:
    return db.execute("SELECT 1 FROM answers WHERE question_id = ? LIMIT 1",
                      [question_id]).fetchone() is not None


def option_answered(db, option_id: int) -> bool:
    return db.execute("SELECT 1 FROM answers WHERE option_id = ? LIMIT 1",
                      [option_id]).fetchone() is not None


def answered_option_ids(db, question: dict) -> set[int]:
    # One indexed probe per option: cheap however many answers the survey has.
    return {o["id"] for o in question["options"] if option_answered(db, o["id"])}


def _touch(db, survey_id: int) -> None:
    db.execute("UPDATE surveys SET updated_at = ? WHERE id = ?", [iso(utc_now()), survey_id])


def _draft_options(survey: dict, draft: QuestionDraft) -> list[dict]:
    if draft.kind == "scale":
        settings = SurveySettings.of(survey)
        return scale_options(settings.satisfied_levels, settings.value_preset)
    if draft.kind == "text":
        return []
    if len(draft.options) < 2:
        raise StoreError("单选题和多选题至少需要两个选项")
    return [{"label": o.label, "value": o.value, "satisfied": o.satisfied} for o in draft.options]


def add_question(db, survey: dict, draft: QuestionDraft) -> int:
    if draft.kind not in QUESTION_KINDS:
        raise StoreError("未知的题型")
    required = draft.required and not has_responses(db, survey["id"])
    question = {"kind": draft.kind, "text": draft.text, "required": required,
                "options": _draft_options(survey, draft)}
    with write_transaction(db):
        position = db.execute("SELECT coalesce(max(position), 0) + 1 FROM questions "
                              "WHERE survey_id = ?", [survey["id"]]).fetchone()[0]
        question_id = insert_question(db, survey["id"], position, question)
        _touch(db, survey["id"])
    return question_id


def _is_headline(survey: dict, question: dict) -> bool:
    return SurveySettings.of(survey).headline_question_id == question["id"]


def _refuse_if_gate(db, survey: dict, question: dict, what: str) -> None:
    numbers = dependants(questionnaire(db, survey["id"]), question["id"])
    if numbers:
        names = "、".join(f"第 {n} 题" for n in numbers)
        raise StoreError(f"{names}的显示条件依据本题，{what}；请先修改或取消该条件。")


def _check_question_change(db, survey: dict, question: dict, kind: str, required: bool) -> None:
    if kind != question["kind"]:
        _refuse_if_gate(db, survey, question, "不能更改题型")
        if question_answered(db, question["id"]):
            raise SurveyLockedError("该题已有答卷作答，不能更改题型。" + COPY_HINT)
        if _is_headline(survey, question):
            raise SurveyLockedError("该题是总体满意度题，只能是满意度量表题；请先在“设置”中更换总体满意度题。")
    if bool(required) != bool(question["required"]) and has_responses(db, survey["id"]):
        raise SurveyLockedError("问卷已有答卷，不能再更改题目是否必答，否则前后答卷的有效标准不一致。"
                                + COPY_HINT)


def update_question(db, survey: dict, question: dict, *, text: str, kind: str,
                    required: bool, user_id: int | None = None) -> None:
    if kind not in QUESTION_KINDS:
        raise StoreError("未知的题型")
    _check_question_change(db, survey, question, kind, required)
    with write_transaction(db), recorded(db, survey, question["id"], user_id):
        db.execute("UPDATE questions SET text = ?, kind = ?, required = ? WHERE id = ?",
                   [text, kind, int(bool(required)), question["id"]])
        if kind != question["kind"]:
            _reshape_options(db, survey, question, kind)
        _touch(db, survey["id"])


def _reshape_options(db, survey: dict, question: dict, kind: str) -> None:
    """A new kind brings its own options: the five levels for a scale, none for text, two
    placeholders for a choice question that had none; otherwise the options stay."""
    if kind in ("scale", "text"):
        db.execute("DELETE FROM options WHERE question_id = ?", [question["id"]])
    if kind == "scale":
        options = _draft_options(survey, QuestionDraft("scale", ""))
    elif kind != "text" and not question["options"]:
        options = [{"label": f"选项 {i}", "value": None, "satisfied": False} for i in (1, 2)]
    else:
        return
    db.table("options").insert_all(
        {"question_id": question["id"], "position": i, "label": o["label"], "value": o["value"],
         "satisfied": int(o["satisfied"])} for i, o in enumerate(options, start=1))


def delete_question(db, survey: dict, question: dict) -> None:
    if question_answered(db, question["id"]):
        raise SurveyLockedError("该题已有答卷作答，删除会丢失这些回答，不能删除。" + COPY_HINT)
    if _is_headline(survey, question):
        raise SurveyLockedError("该题是总体满意度题，请先在“设置”中更换总体满意度题后再删除。")
    _refuse_if_gate(db, survey, question, "不能删除")
    with write_transaction(db):
        db.execute("DELETE FROM questions WHERE id = ?", [question["id"]])
        _renumber(db, survey["id"])
        _touch(db, survey["id"])


def _renumber(db, survey_id: int) -> None:
    ids = [r[0] for r in db.execute(
        "SELECT id FROM questions WHERE survey_id = ? ORDER BY position, id", [survey_id])]
    db.conn.executemany("UPDATE questions SET position = ? WHERE id = ?",
                        [(position, qid) for position, qid in enumerate(ids, start=1)])


def move_question(db, survey_id: int, question_id: int, step: int) -> None:
    """Swap with the neighbour above (step -1) or below (+1); at either end nothing moves."""
    with write_transaction(db):
        _renumber(db, survey_id)
        ids = [r[0] for r in db.execute(
            "SELECT id FROM questions WHERE survey_id = ? ORDER BY position", [survey_id])]
        if question_id not in ids:
            raise StoreError("题目不存在")
        i = ids.index(question_id)
        j = i + (1 if step > 0 else -1)
        if 0 <= j < len(ids):
            ids[i], ids[j] = ids[j], ids[i]
            by_id = {q["id"]: q for q in questionnaire(db, survey_id)}
            problem = order_problem([by_id[qid] for qid in ids])
            if problem:
                raise StoreError(f"不能这样移动：{problem}；请先修改该条件。")
            db.conn.executemany("UPDATE questions SET position = ? WHERE id = ?",
                                [(p, qid) for p, qid in enumerate(ids, start=1)])
            _touch(db, survey_id)


def add_option(db, survey: dict, question: dict, draft: OptionDraft,
               user_id: int | None = None) -> int:
    if question["kind"] not in CHOICE_KINDS:
        raise StoreError("填空题没有选项")
    if question_answered(db, question["id"]):
        raise SurveyLockedError("该题已有答卷作答，新增选项会使前后答卷不可比，不能新增。" + COPY_HINT)
    with write_transaction(db), recorded(db, survey, question["id"], user_id):
        position = db.execute("SELECT coalesce(max(position), 0) + 1 FROM options "
                              "WHERE question_id = ?", [question["id"]]).fetchone()[0]
        option_id = db.table("options").insert({
            "question_id": question["id"], "position": position, "label": draft.label,
            "value": draft.value, "satisfied": int(draft.satisfied)}).last_pk
        _touch(db, survey["id"])
    return option_id


def _same(option: dict, draft: OptionDraft) -> bool:
    return (option["label"] == draft.label and option["value"] == draft.value
            and bool(option["satisfied"]) == draft.satisfied)


def update_option(db, survey: dict, option: dict, draft: OptionDraft,
                  user_id: int | None = None) -> None:
    if _same(option, draft):
        return
    if option_answered(db, option["id"]):
        raise SurveyLockedError(f"选项“{option['label']}”已有答卷选择，修改其文字、分值或是否计为满意"
                                "会改变这些答卷的含义，不能修改。" + COPY_HINT)
    with write_transaction(db), recorded(db, survey, option["question_id"], user_id):
        db.execute("UPDATE options SET label = ?, value = ?, satisfied = ? WHERE id = ?",
                   [draft.label, draft.value, int(draft.satisfied), option["id"]])
        _touch(db, survey["id"])


def delete_option(db, survey: dict, question: dict, option: dict,
                  user_id: int | None = None) -> None:
    if option_answered(db, option["id"]):
        raise SurveyLockedError(f"选项“{option['label']}”已有答卷选择，不能删除。" + COPY_HINT)
    if len(question["options"]) <= 2:
        raise StoreError("选择题至少需要两个选项，不能再删除")
    for number, q in enumerate(questionnaire(db, survey["id"]), start=1):
        if q["show_if"] and option["id"] in q["show_if"]["option_ids"]:
            raise StoreError(f"第 {number} 题的显示条件用到选项“{option['label']}”，不能删除；"
                             "请先修改该条件。")
    with write_transaction(db), recorded(db, survey, question["id"], user_id):
        db.execute("DELETE FROM options WHERE id = ?", [option["id"]])
        _touch(db, survey["id"])


def set_question_condition(db, survey: dict, question: dict, gate_id: int | None,
                           option_ids: list[int]) -> None:
    """Ask the question only when the answer to `gate_id` is one of `option_ids` (None: always).
    ConditionError (core) for a gate that is not an earlier choice question or no option."""
    show_if = None if gate_id is None else check_condition(
        questionnaire(db, survey["id"]), question["id"], gate_id, option_ids)
    if show_if == question["show_if"]:
        return
    if show_if and _is_headline(survey, question):
        raise StoreError("总体满意度题要请每位答卷人回答，不能设置显示条件。")
    if has_responses(db, survey["id"]):
        raise SurveyLockedError("问卷已有答卷，不能再更改显示条件，否则前后答卷的适用人数口径不一致。"
                                + COPY_HINT)
    with write_transaction(db):
        set_condition(db, question["id"], show_if)
        _touch(db, survey["id"])
