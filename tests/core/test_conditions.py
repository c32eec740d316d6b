"""Conditional questions and questionnaire definitions: pure checks, no app."""
import pytest

from survey.core.conditions import (
    ConditionError,
    applicable_answers,
    applied_conditionals,
    check_condition,
    hint,
    missing_required,
    order_problem,
)
from survey.core.definition import definition_problems
from survey.core.questionnaire import from_definition, load_survey_template


def _question(qid, kind="single", options=(), required=True, show_if=None):
    return {"id": qid, "kind": kind, "text": f"题{qid}", "required": required,
            "options": [{"id": o, "label": f"选项{o}"} for o in options], "show_if": show_if}


# 1 headline (options 11 satisfied … 15), 2 reasons if 14/15, 3 其他 text if reason 23 (其他)
QUESTIONS = [
    _question(1, "scale", (11, 12, 13, 14, 15)),
    _question(2, "multiple", (21, 22, 23), show_if={"question_id": 1, "option_ids": [14, 15]}),
    _question(3, "text", required=False, show_if={"question_id": 2, "option_ids": [23]}),
    _question(4, "text", required=False),
]


@pytest.mark.parametrize("answers, kept, missing, applied", [
    ({1: [11], 2: [21], 3: "x", 4: "y"}, {1: [11], 4: "y"}, 0, []),  # satisfied: not asked
    ({1: [14]}, {1: [14]}, 1, [2]),  # dissatisfied, no reason: the reason is missing
    ({1: [15], 2: [21]}, {1: [15], 2: [21]}, 0, [2]),
    ({1: [15], 2: [21, 23], 3: "太远"}, {1: [15], 2: [21, 23], 3: "太远"}, 0, [2, 3]),
    ({1: [12], 2: [23], 3: "x"}, {1: [12]}, 0, []),  # a chain: its gate was not asked either
    ({}, {}, 1, []),  # the headline itself missing
])
def test_what_applies_is_settled_in_order(answers, kept, missing, applied):
    assert applicable_answers(QUESTIONS, answers) == kept
    assert missing_required(QUESTIONS, kept) == missing
    assert applied_conditionals(QUESTIONS, kept) == applied


def test_hint_names_the_gate_by_number_and_the_options_by_label():
    assert hint(QUESTIONS[1], QUESTIONS) == "（仅当第1题选择“选项14”或“选项15”时回答）"
    assert hint(QUESTIONS[3], QUESTIONS) == ""


@pytest.mark.parametrize("question_id, gate_id, option_ids, message", [
    (2, 4, [21], "排在本题之前"),
    (2, 2, [21], "排在本题之前"),
    (4, 3, [], "单选题、多选题或满意度量表题"),
    (4, 99, [1], "不存在"),
    (4, 1, [], "至少勾选"),
    (4, 1, [21], "只能勾选第 1 题的选项"),
])
def test_condition_must_rest_on_an_earlier_choice_question(question_id, gate_id, option_ids,
                                                          message):
    with pytest.raises(ConditionError, match=message):
        check_condition(QUESTIONS, question_id, gate_id, option_ids)


def test_a_good_condition_keeps_the_gates_option_order():
    assert check_condition(QUESTIONS, 4, 1, [15, 14]) == {"question_id": 1, "option_ids": [14, 15]}


def test_order_problem_names_the_question_whose_gate_moved_after_it():
    assert order_problem(QUESTIONS) is None
    assert "第 1 题" in order_problem([QUESTIONS[1], QUESTIONS[0]])


GOOD = {"title": "窗口评价", "headline_position": 1, "questions": [
    {"kind": "scale", "text": "总体满意吗？", "required": True},
    {"kind": "multiple", "text": "不满意的原因？", "required": True,
     "options": ["排队久", "态度差", "其他"],
     "show_if": {"question": 1, "answers": ["不满意", "非常不满意"]}},
    {"kind": "text", "text": "其他原因", "required": False,
     "show_if": {"question": 2, "answers": ["其他"]}},
]}


def _with(position, **changes):
    questions = [dict(q) for q in GOOD["questions"]]
    questions[position - 1].update(changes)
    return {**GOOD, "questions": questions}


@pytest.mark.parametrize("definition, message", [
    ([], "JSON 对象"),
    ({"questions": []}, "题目列表"),
    (_with(1, kind="rating"), "第 1 题：题型"),
    (_with(2, text=" "), "第 2 题：缺少题目文字"),
    (_with(2, options=["只有一个"]), "第 2 题：选项应有 2 到 30 个"),
    (_with(2, options=["甲", "甲"]), "第 2 题：选项有重复"),
    (_with(1, options=["甲", "乙"]), "第 1 题：只有单选题和多选题可以填写选项"),
    (_with(2, required="yes"), "第 2 题：是否必答"),
    (_with(2, colour="red"), "第 2 题：未知的字段 'colour'"),
    (_with(2, show_if={"question": 2, "answers": ["其他"]}), "第 2 题：显示条件只能依据排在本题之前的题目"),
    (_with(2, show_if={"question": 9, "answers": ["其他"]}), "第 2 题：显示条件所依据的题号 9 不存在"),
    (_with(3, show_if={"question": 1, "answers": ["还行"]}), "第 3 题：显示条件中的 “还行” 不是第 1 题的选项"),
    (_with(3, show_if={"question": 1, "answers": []}), "第 3 题：显示条件至少要列出第 1 题的一个选项"),
    (_with(3, show_if={"question": 1}), "第 3 题：显示条件（show_if）应写成"),
    (_with(2, kind="text", options=None), "第 3 题：显示条件只能依据单选题、多选题或满意度量表题"),
    (_with(1, show_if={"question": 1, "answers": ["满意"]}), "总体满意度题"),
    ({**GOOD, "headline": "mean"}, "满意率口径"),
])
def test_every_definition_mistake_is_named_with_its_question(definition, message):
    problems = definition_problems(definition)
    assert any(message in p for p in problems), problems


def test_all_mistakes_are_listed_not_only_the_first():
    bad = _with(2, text="", options=["甲"])
    bad["questions"][2] = {**bad["questions"][2], "show_if": {"question": 1, "answers": ["好"]}}
    problems = definition_problems(bad)
    assert [p.split("：")[0] for p in problems] == ["第 2 题", "第 2 题", "第 3 题"]


def test_good_definition_becomes_a_questionnaire_with_numbered_conditions():
    built = from_definition(GOOD)
    assert [q["show_if"] for q in built["questions"]] == [
        None, {"question": 1, "options": [4, 5]}, {"question": 2, "options": [3]}]
    assert built["settings"]["headline_position"] == 1
    assert built["questions"][0]["options"][3]["label"] == "不满意"


def test_satisfaction_template_asks_why_only_when_dissatisfied():
    template = load_survey_template("satisfaction-5")
    questions = template["questions"]
    headline = template["settings"]["headline_position"]
    reasons = questions[headline]  # right after the headline question
    assert reasons["kind"] == "multiple" and reasons["required"]
    assert reasons["text"] == "您不满意的原因是？（可多选）"
    assert {"等候时间长", "办事流程繁琐", "工作人员态度不好", "一次性告知不清楚", "需要多次跑腿",
            "其他"} <= {o["label"] for o in reasons["options"]}
    levels = [o["label"] for o in questions[headline - 1]["options"]]
    assert reasons["show_if"] == {"question": headline, "options": [
        levels.index("不满意") + 1, levels.index("非常不满意") + 1]}
    other = questions[headline + 1]
    assert other["kind"] == "text" and not other["required"]
    assert other["show_if"] == {"question": headline + 1, "options": [6]}
