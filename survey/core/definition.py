"""A questionnaire's definition as plain data (the built-in templates, a `--from` file):
checked whole, every mistake listed with its question number, then turned into the
questionnaire `store.surveys.create_survey` inserts.

The shape: {"title", "intro", "headline_position", "questions": [{"kind", "text", "required",
"options": [labels], "show_if": {"question": <1-based number of an earlier question>,
"answers": [option labels]}}]}. Scale questions take the five levels of the survey's scheme.
"""
from .conditions import GATE_KINDS, gate_problem
from .errors import DomainError
from .figures import HEADLINE_BASES, SCALE_LABELS

QUESTION_KIND_NAMES = ("scale", "single", "multiple", "text")
QUESTION_MAX = 200  # a question's wording
OPTION_MAX = 50  # an option's label
OPTIONS_MAX = 30  # options of one choice question
QUESTIONS_MAX = 100
_QUESTION_KEYS = {"kind", "text", "required", "options", "show_if"}


class DefinitionError(DomainError):
    """A definition with mistakes; `problems` lists each one in Chinese."""

    def __init__(self, problems: list[str]):
        super().__init__("问卷定义有误：\n" + "\n".join(problems))
        self.problems = problems


def option_labels(question: dict) -> list[str]:
    return list(SCALE_LABELS) if question.get("kind") == "scale" else question.get("options") or []


def _text_problems(where: str, q: dict) -> list[str]:
    text = q.get("text")
    if not isinstance(text, str) or not text.strip():
        return [f"{where}：缺少题目文字（text）"]
    if len(text.strip()) > QUESTION_MAX:
        return [f"{where}：题目文字最多 {QUESTION_MAX} 字"]
    return []


def _option_problems(where: str, q: dict) -> list[str]:
    options = q.get("options")
    if q.get("kind") not in ("single", "multiple"):
        return [f"{where}：只有单选题和多选题可以填写选项（options）；量表题的五个等级自动生成"] \
            if options else []
    if not isinstance(options, list) or not all(isinstance(o, str) and o.strip() for o in options):
        return [f"{where}：选项（options）应为一组非空文字"]
    labels = [o.strip() for o in options]
    problems = []
    if not 2 <= len(labels) <= OPTIONS_MAX:
        problems.append(f"{where}：选项应有 2 到 {OPTIONS_MAX} 个")
    if any(len(label) > OPTION_MAX for label in labels):
        problems.append(f"{where}：每个选项最多 {OPTION_MAX} 字")
    if len(set(labels)) != len(labels):
        problems.append(f"{where}：选项有重复")
    return problems


def _condition_problems(where: str, position: int, show_if, questions: list) -> list[str]:
    if not isinstance(show_if, dict) or set(show_if) != {"question", "answers"}:
        return [f"{where}：显示条件（show_if）应写成 {{\"question\": 题号, \"answers\": [选项]}}"]
    number, answers = show_if["question"], show_if["answers"]
    if type(number) is not int or not 1 <= number <= len(questions):
        return [f"{where}：显示条件所依据的题号 {number!r} 不存在"]
    gate = questions[number - 1]
    gate_kind = gate.get("kind") if isinstance(gate, dict) else None
    problem = gate_problem(position, number, gate_kind if gate_kind in GATE_KINDS else None)
    if problem:
        return [f"{where}：{problem}（第 {number} 题）"]
    if not isinstance(answers, list) or not answers:
        return [f"{where}：显示条件至少要列出第 {number} 题的一个选项"]
    known = [o.strip() for o in option_labels(gate) if isinstance(o, str)]
    unknown = [a for a in answers if not isinstance(a, str) or a.strip() not in known]
    if unknown:
        names = "、".join(f"“{a}”" for a in map(str, unknown))
        return [f"{where}：显示条件中的 {names} 不是第 {number} 题的选项"]
    return []


def _question_problems(position: int, q, questions: list) -> list[str]:
    where = f"第 {position} 题"
    if not isinstance(q, dict):
        return [f"{where}：应是一个对象（含 kind、text 等）"]
    problems = [f"{where}：未知的字段 {k!r}" for k in sorted(set(q) - _QUESTION_KEYS)]
    if q.get("kind") not in QUESTION_KIND_NAMES:
        return problems + [f"{where}：题型（kind）应为 scale、single、multiple 或 text 之一"]
    problems += _text_problems(where, q)
    if not isinstance(q.get("required", True), bool):
        problems.append(f"{where}：是否必答（required）应为 true 或 false")
    problems += _option_problems(where, q)
    if q.get("show_if") is not None:
        problems += _condition_problems(where, position, q["show_if"], questions)
    return problems


def _headline_problems(raw: dict) -> list[str]:
    position = raw.get("headline_position")
    if position is None:
        return []
    questions = raw["questions"]
    if type(position) is not int or not 1 <= position <= len(questions) or \
            not isinstance(questions[position - 1], dict) or \
            questions[position - 1].get("kind") != "scale":
        return ["总体满意度题（headline_position）应是一道满意度量表题的题号"]
    if questions[position - 1].get("show_if") is not None:
        return [f"第 {position} 题：总体满意度题要请每位答卷人回答，不能设置显示条件"]
    return []


def definition_problems(raw) -> list[str]:
    """Every mistake of a definition, in order; empty when it is usable."""
    if not isinstance(raw, dict):
        return ["问卷定义应是一个 JSON 对象"]
    questions = raw.get("questions")
    if not isinstance(questions, list) or not questions:
        return ["问卷定义缺少题目列表（questions），或列表为空"]
    problems = [f"{key} 应为文字" for key in ("title", "intro")
                if key in raw and not isinstance(raw[key], str)]
    if raw.get("headline", "question") not in HEADLINE_BASES:
        problems.append(f"满意率口径（headline）应为 {'、'.join(HEADLINE_BASES)} 之一")
    if len(questions) > QUESTIONS_MAX:
        problems.append(f"题目最多 {QUESTIONS_MAX} 道")
    for position, q in enumerate(questions, start=1):
        problems += _question_problems(position, q, questions)
    return problems + _headline_problems(raw)


def _built_condition(show_if: dict | None, questions: list) -> dict | None:
    if show_if is None:
        return None
    labels = [label.strip() for label in option_labels(questions[show_if["question"] - 1])]
    wanted = {a.strip() for a in show_if["answers"]}
    return {"question": show_if["question"],
            "options": [i for i, label in enumerate(labels, start=1) if label in wanted]}


def build_questions(raw: dict, scale_options: list[dict]) -> list[dict]:
    """The checked definition's questions as create_survey takes them: options as dicts,
    conditions as {"question": number, "options": [1-based option numbers]}."""
    questions = raw["questions"]
    built = []
    for q in questions:
        options = [dict(o) for o in scale_options] if q["kind"] == "scale" else [
            {"label": label.strip(), "value": None, "satisfied": False}
            for label in q.get("options") or []]
        built.append({"kind": q["kind"], "text": q["text"].strip(),
                      "required": q.get("required", True), "options": options,
                      "show_if": _built_condition(q.get("show_if"), questions)})
    return built
