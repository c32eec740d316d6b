"""Conditional questions (show_if, 一事一评): a question asked only when an earlier choice
question was answered with one of given options.

A question dict carries its condition as `show_if`: None, or {"question_id": gate id,
"option_ids": [option ids]}. Whether a question applies depends only on answers to earlier
questions, so one pass in questionnaire order settles every question, chains included (a
question whose gate did not apply does not apply either: its gate's answer was dropped).
"""
from .errors import DomainError

GATE_KINDS = ("scale", "single", "multiple")


class ConditionError(DomainError):
    """A condition that names no earlier choice question or none of its options."""


def condition(question: dict) -> tuple[int, frozenset[int]] | None:
    show_if = question.get("show_if")
    if not show_if:
        return None
    return show_if["question_id"], frozenset(show_if["option_ids"])


def applies(question: dict, answers: dict) -> bool:
    """True when the question is asked of someone who gave `answers` (question id -> option
    ids or text); an unconditional question always applies."""
    found = condition(question)
    if found is None:
        return True
    gate_id, option_ids = found
    given = answers.get(gate_id)
    return isinstance(given, list) and not option_ids.isdisjoint(given)


def applicable_answers(questions: list[dict], answers: dict) -> dict:
    """The answers without those to questions that did not apply: they are ignored, never
    stored (the person may have answered before changing an earlier answer)."""
    kept = {}
    for q in questions:
        if q["id"] in answers and applies(q, kept):
            kept[q["id"]] = answers[q["id"]]
    return kept


def applied_conditionals(questions: list[dict], answers: dict) -> list[int]:
    """Ids of the conditional questions that applied: each counts once in its base."""
    return [q["id"] for q in questions if condition(q) is not None and applies(q, answers)]


def missing_required(questions: list[dict], answers: dict) -> int:
    """Required questions that applied and were left unanswered."""
    return sum(1 for q in questions
               if q["required"] and applies(q, answers) and not answers.get(q["id"]))


def gate_problem(position: int, gate_position: int | None, gate_kind: str | None) -> str | None:
    """Why an earlier question cannot be this one's gate, or None when it can."""
    if gate_position is None:
        return "显示条件所依据的题目不存在"
    if gate_position >= position:
        return "显示条件只能依据排在本题之前的题目"
    if gate_kind not in GATE_KINDS:
        return "显示条件只能依据单选题、多选题或满意度量表题"
    return None


def check_condition(questions: list[dict], question_id: int, gate_id: int,
                    option_ids: list[int]) -> dict:
    """A condition for `question_id` as stored, or ConditionError in Chinese."""
    ids = [q["id"] for q in questions]
    gate = next((q for q in questions if q["id"] == gate_id), None)
    problem = gate_problem(ids.index(question_id) + 1,
                           ids.index(gate_id) + 1 if gate else None, gate and gate["kind"])
    if problem:
        raise ConditionError(problem)
    known = [o["id"] for o in gate["options"]]
    if any(i not in known for i in option_ids):
        raise ConditionError(f"只能勾选第 {ids.index(gate_id) + 1} 题的选项")
    if not option_ids:
        raise ConditionError("请至少勾选所依据题目的一个选项")
    return {"question_id": gate_id, "option_ids": [i for i in known if i in option_ids]}


def order_problem(questions: list[dict]) -> str | None:
    """Why this order of questions breaks a condition (a gate at or after its question)."""
    numbers = {q["id"]: i for i, q in enumerate(questions, start=1)}
    for number, q in enumerate(questions, start=1):
        found = condition(q)
        if found and numbers.get(found[0], number) >= number:
            return f"第 {number} 题的显示条件只能依据排在它之前的题目"
    return None


def hint(question: dict, questions: list[dict]) -> str:
    """The plain-words condition a citizen reads without JavaScript:
    （仅当第1题选择“不满意”或“非常不满意”时回答）."""
    found = condition(question)
    if found is None:
        return ""
    gate_id, option_ids = found
    number, gate = next((i, q) for i, q in enumerate(questions, start=1) if q["id"] == gate_id)
    labels = [f"“{o['label']}”" for o in gate["options"] if o["id"] in option_ids]
    return f"（仅当第{number}题选择{'或'.join(labels)}时回答）"


def dependants(questions: list[dict], gate_id: int) -> list[int]:
    """1-based numbers of the questions whose condition rests on `gate_id`."""
    return [i for i, q in enumerate(questions, start=1)
            if (q.get("show_if") or {}).get("question_id") == gate_id]


def hints(questions: list[dict]) -> dict[int, str]:
    """question id -> its condition in words, for the conditional questions only."""
    return {q["id"]: hint(q, questions) for q in questions if condition(q) is not None}
