import ast
import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.assessment import tree as assessment
from survey.core.assessment.rules import rule_from_json
from survey.core.assessment.tree import (
    DEFAULT_BANDS,
    TEMPLATES,
    AssessmentError,
    Indicator,
    evaluate,
    grade_bands_from_json,
    grade_for,
    indicator_from_dict,
    indicator_to_dict,
    load_template,
)

D = Decimal
RATE = {"type": "rate_times_weight"}


def leaf(name, weight, actual=None, rule=RATE, score=None, **extra) -> Indicator:
    return Indicator(key=name, name=name, level=3, weight=D(weight), actual=actual, rule=rule,
                     score=None if score is None else D(score), **extra)


def parent(name, weight, children, level=1, reported=None) -> Indicator:
    return Indicator(key=name, name=name, level=level, weight=D(weight), children=children,
                     reported_total=None if reported is None else D(reported))


def codes(result, name=None) -> list[str]:
    return [f.code for f in result.findings if name is None or f.indicator == name]


def message(result, name, code) -> str:
    return next(f.message for f in result.findings if f.indicator == name and f.code == code)


def full_tree(**leaf_options) -> list[Indicator]:
    """Level-1 weights 10/30/25/35, each with one indicator scored 100%."""
    return [parent(f"一级{i}", w, [leaf(f"指标{i}", w, "100%", **leaf_options)])
            for i, w in enumerate((10, 30, 25, 35), start=1)]


# --- grades -----------------------------------------------------------------------------

@pytest.mark.parametrize("total, grade", [
    ("100", "优"), ("90", "优"), ("89.99", "良"), ("80", "良"), ("79.99", "中"), ("60", "中"),
    ("59.99", "差"), ("0", "差"), ("-1", "差"),
])
def test_national_grade_bands(total, grade):
    assert grade_for(D(total)) == grade


def test_grade_bands_are_data():
    bands = grade_bands_from_json([{"grade": "好", "at_least": 85}, {"grade": "一般", "at_least": 0}])
    assert grade_for(D(85), bands) == "好"
    assert grade_for(D("84.99"), bands) == "一般"
    assert grade_bands_from_json(DEFAULT_BANDS.to_json()) == DEFAULT_BANDS


@pytest.mark.parametrize("data, fragment", [
    ([], "至少"), ("优", "列表"), ([{"grade": "优"}], "缺少"),
    ([{"grade": "优", "at_least": 60}, {"grade": "良", "at_least": 80}], "从高到低"),
    ([{"grade": "优", "at_least": 60}, {"grade": "良", "at_least": 60}], "不能重复"),
    ([{"grade": "优", "at_least": 90}], "应为 0"),
    ([{"grade": "优", "at_least": "九十"}, {"grade": "差", "at_least": 0}], "数值"),
])
def test_bad_grade_bands(data, fragment):
    with pytest.raises(AssessmentError) as error:
        grade_bands_from_json(data)
    assert fragment in str(error.value)


# --- evaluation -------------------------------------------------------------------------

def test_scores_come_from_rules_and_add_up():
    roots = [parent("预算执行情况", 10, [leaf("预算执行率", 10, "96%")]),
             parent("其他", 90, [leaf("甲", 40, "50%"), leaf("乙", 50, score="45", rule=None)])]
    result = evaluate(roots)
    assert [level.score for level in result.levels] == [D("9.60"), D("65.00")]
    assert result.total == D("74.60")
    assert result.grade == "中"
    by_name = {item.indicator.name: item for item in result.indicators}
    assert by_name["预算执行率"].explanation == "10 × 96.00% = 9.60"
    assert by_name["乙"].score == D(45) and "填报得分" in by_name["乙"].explanation


def test_a_clean_tree_has_no_findings():
    result = evaluate(full_tree())
    assert result.findings == []
    assert result.total == D(100) and result.grade == "优"


def test_entered_score_that_disagrees_with_its_rule():
    roots = full_tree()
    roots[3].children = [leaf("群众满意度", 35, "96%", score="14")]
    result = evaluate(roots)
    assert message(result, "群众满意度", "score_mismatch") == "得分 14 与评分规则计算结果 33.60 不一致"
    # the entered score counts; the rule's differing result is reported, never silently applied
    assert result.levels[3].score == D(14)
    assert "按评分规则应为 33.60" in next(
        r.explanation for r in result.indicators if r.indicator.name == "群众满意度")


def test_score_above_weight_and_negative_score():
    roots = full_tree()
    roots[0].children = [leaf("甲", 10, score="12", rule=None)]
    roots[1].children = [leaf("乙", 30, score="-1", rule=None)]
    result = evaluate(roots)
    assert "score_above_weight" in codes(result, "甲")
    assert "score_negative" in codes(result, "乙")


def test_weights_that_do_not_add_up():
    roots = full_tree()
    roots[1].children.append(leaf("多余", 5, "100%"))
    roots[3].weight = D(40)
    result = evaluate(roots)
    assert message(result, "一级2", "child_weights") == "下级指标分值合计 35 与本级分值 30 不一致"
    assert message(result, "指标体系", "level1_weights") == "一级指标分值合计 105，应为 100"


def test_reported_level_total_checked_against_reported_and_computed_scores():
    seeded = [leaf("甲", 10, "提高", rule={"type": "qualitative", "tier": "achieved", "fraction": 0.8}, score=8),
              leaf("乙", 10, "90%", score=9), leaf("丙", 15, "96%", score=14)]
    roots = full_tree()[:3] + [parent("效益指标", 35, seeded, reported=32)]
    result = evaluate(roots)
    assert message(result, "效益指标", "reported_total_differs") == "报告得分 32 与其下各指标得分合计 31 不一致"
    assert codes(result, "丙") == ["score_mismatch"]


def test_missing_figures_are_findings_not_crashes():
    roots = full_tree()
    roots[0].children = [leaf("无实际值", 10, None)]
    roots[1].children = [leaf("无规则", 30, "100%", rule=None)]
    roots[2].children = [leaf("无从计分", 25, None, rule=None)]
    roots[3].children = [leaf("规则不适用", 35, "合理")]
    result = evaluate(roots)
    assert codes(result, "无实际值") == ["missing_actual"]
    assert codes(result, "无规则") == ["missing_rule"]
    assert "无法计分" in message(result, "无从计分", "missing_rule")
    assert "不是数值" in message(result, "规则不适用", "rule_error")
    assert result.total == D(0)


def test_an_invalid_rule_is_a_finding():
    roots = full_tree()
    roots[0].children = [leaf("坏规则", 10, "100%", rule={"type": "proportional", "target": 0}, score=10)]
    result = evaluate(roots)
    assert "大于 0" in message(result, "坏规则", "rule_error")
    assert result.levels[0].score == D(10)  # falls back to the entered score


@pytest.mark.parametrize("actual, value, differs", [
    ("96%", 0.96, False), ("96%", 0.9583, False), ("96%", 0.98, True), ("98.95%", 0.9895, False),
    ("98.95%", 0.99, True), ("100%", 0.996, False),
])
def test_survey_linked_actual(actual, value, differs):
    roots = full_tree()
    figure = {"survey_id": 1, "figure": "satisfaction_rate", "value": value, "n": 100}
    roots[3].children = [leaf("群众满意度", 35, actual, linked_figure=figure)]
    result = evaluate(roots)
    assert ("linked_figure_differs" in codes(result, "群众满意度")) is differs


def test_linked_figure_supplies_a_missing_actual():
    roots = full_tree()
    figure = {"survey_id": 1, "figure": "satisfaction_rate", "value": 0.96, "n": 100}
    roots[3].children = [leaf("群众满意度", 35, None, linked_figure=figure)]
    result = evaluate(roots)
    assert result.levels[3].score == D("33.60")
    assert codes(result) == []


def test_reported_versions_that_disagree():
    versions = {"actual": {"附件1": "98.95%", "正文": "（98%）"}, "score": {"正文": "0.86", "附件1": "34.3"},
                "target": {"附件1": "≥ 90%"}}
    roots = full_tree()
    roots[3].children = [Indicator("4.1", "群众满意度", 3, D(35), target="≥90%", actual="98%", rule=RATE,
                                   score=D("34.30"), reported_versions=versions)]
    result = evaluate(roots)
    messages = [f.message for f in result.findings if f.indicator == "群众满意度"]
    assert messages == ["实际完成值“98%”与附件1所载“98.95%”不一致", "得分 34.3 与正文所载 0.86 不一致"]


def test_to_dict_is_json_ready_with_two_place_floats():
    roots = full_tree()
    roots[0].children = [leaf("指标1", 10, "96.555%")]
    data = evaluate(roots).to_dict()
    json.dumps(data, ensure_ascii=False)
    assert data["levels"][0] == {"key": "一级1", "name": "一级1", "weight": 10.0, "score": 9.66, "reported": None}
    assert data["total"] == 99.66 and data["grade"] == "优"
    flat = {item["name"]: item for item in data["indicators"]}
    assert flat["指标1"]["rule_description"].startswith("得分 = 分值 × 完成率")
    assert [item["level"] for item in data["indicators"][:2]] == [1, 3]


leaf_rates = st.decimals(min_value=0, max_value="1.2", places=4)


@given(st.lists(st.lists(leaf_rates, min_size=1, max_size=4), min_size=1, max_size=5))
def test_total_is_the_sum_of_leaf_scores(groups):
    roots = [parent(f"一级{i}", 10 * len(rates), [leaf(f"{i}.{j}", 10, rate) for j, rate in enumerate(rates)])
             for i, rates in enumerate(groups)]
    result = evaluate(roots)
    leaves = [item.score for item in result.indicators if not item.indicator.children]
    assert result.total == sum(leaves, D(0)) == sum((level.score for level in result.levels), D(0))
    assert result.grade == grade_for(result.total)


RULES = [None, RATE, {"type": "proportional", "target": 0.9}, {"type": "proportional", "target": 0},
         {"type": "qualitative", "tier": "partial", "fraction": 0.7}, "rate", {"type": "magic"},
         {"type": "bands", "bands": [{"at_least": 0.9, "score": 50}]}]
junk_actuals = st.one_of(st.none(), st.text(max_size=6), st.sampled_from(["96%", "（100%）", "nan", "-5%"]))
junk_scores = st.one_of(st.none(), st.decimals(min_value=-5, max_value=50, places=2))
junk_figures = st.one_of(st.none(), st.fixed_dictionaries({"value": st.one_of(
    st.floats(allow_nan=True), st.text(max_size=4), st.none())}))


@given(st.lists(st.tuples(junk_actuals, st.sampled_from(RULES), junk_scores, junk_figures),
                min_size=1, max_size=6))
def test_evaluate_reports_bad_input_as_findings_and_never_crashes(rows):
    leaves = [leaf(f"指标{i}", 10, actual, rule=rule, score=score, linked_figure=figure)
              for i, (actual, rule, score, figure) in enumerate(rows)]
    result = evaluate([parent("一级", 10 * len(leaves), leaves)])
    json.dumps(result.to_dict(), ensure_ascii=False)
    assert result.grade in {"优", "良", "中", "差"}


# --- templates and serialization ---------------------------------------------------------

def _leaves(indicator):
    if not indicator.children:
        return [indicator]
    return [item for child in indicator.children for item in _leaves(child)]


@pytest.mark.parametrize("name", TEMPLATES)
def test_templates_load_and_are_consistent(name):
    roots = load_template(name)
    assert sum(root.weight for root in roots) == 100
    result = evaluate(roots)
    assert {finding.code for finding in result.findings} == {"missing_actual"}  # a blank template
    for item in (leaf for root in roots for leaf in _leaves(root)):
        assert item.level == 3 and item.target and item.description
        rule_from_json(item.rule)


@pytest.mark.parametrize("name, weights, leaf_count", [
    ("dept-2022", [10, 30, 25, 35], 33), ("project-national", [10, 50, 30, 10], 12),
])
def test_template_shapes(name, weights, leaf_count):
    roots = load_template(name)
    assert [root.weight for root in roots] == weights
    assert sum(len(_leaves(root)) for root in roots) == leaf_count


def test_unknown_template():
    with pytest.raises(AssessmentError, match="没有名为"):
        load_template("nonexistent")


def test_indicator_round_trips_through_plain_data():
    original = load_template("dept-2022")[3]
    original.children[2].children[0].actual = "96%"
    original.children[2].children[0].score = D(14)
    original.reported_total = D(32)
    data = json.loads(json.dumps(indicator_to_dict(original), ensure_ascii=False))
    assert indicator_from_dict(data) == original


@pytest.mark.parametrize("data, fragment", [
    ({"name": "甲", "weight": 1}, "key"), ({"key": "1", "name": "甲", "weight": "一"}, "分值"),
    (["甲"], "JSON 对象"), ({"key": "1", "name": "甲", "weight": 1, "children": {"a": 1}}, "列表"),
])
def test_bad_indicator_data(data, fragment):
    with pytest.raises(AssessmentError) as error:
        indicator_from_dict(data)
    assert fragment in str(error.value)


def test_core_modules_import_neither_flask_nor_sqlite():
    core = Path(assessment.__file__).parent
    for name in ("tree", "checks", "indicator", "indicator_table", "rules", "bands", "values"):
        tree = ast.parse((core / f"{name}.py").read_text(encoding="utf-8"))
        imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert not {module.split(".")[0] for module in imported} & {"flask", "sqlite_utils", "sqlite3"}


@pytest.mark.parametrize("link, year, found", [
    ({"source": "survey", "survey_title": "群众调查", "survey_year": 2026}, 2022, True),
    ({"source": "survey", "survey_title": "群众调查", "survey_year": 2022}, 2022, False),
    ({"source": "survey", "survey_title": "群众调查", "survey_year": None}, 2022, False),
    ({"source": "budget"}, 2022, False),
    (None, 2022, False),
])
def test_a_survey_of_another_year_is_a_finding_naming_both_years(link, year, found):
    from survey.core.assessment.checks import linked_year
    findings = linked_year("群众满意度", "7", link, year)
    assert bool(findings) == found
    if found:
        (finding,) = findings
        assert finding.code == "linked_year_differs" and finding.key == "7"
        assert finding.message.startswith("关联问卷年度与评价年度不一致")
        assert "2026 年度" in finding.message and "2022 年度" in finding.message
