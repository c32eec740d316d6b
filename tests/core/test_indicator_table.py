import csv
import io
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from survey.core.assessment.indicator_table import (
    IndicatorTableError,
    assess_table,
    default_rule,
    parse_target,
    read_indicator_table,
)
from survey.core.assessment.rules import rule_from_json
from survey.core.assessment.tree import evaluate, grade_for

D = Decimal
SEED = (Path(__file__).parent / "fixtures" / "seed-indicators-2022.csv").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def seed_rows():
    return list(csv.DictReader(io.StringIO(SEED)))


@pytest.fixture(scope="module")
def seed_result():
    return evaluate(read_indicator_table(SEED))


def findings_for(result, name):
    return {(f.code, f.message) for f in result.findings if f.indicator == name}


def found(result, name, code, *fragments) -> bool:
    return any(code == c and all(part in m for part in fragments) for c, m in findings_for(result, name))


# --- the seed ---------------------------------------------------------------------------

def test_seed_tree_shape(seed_rows):
    roots = read_indicator_table(SEED)
    assert [root.name for root in roots] == ["预算执行情况", "投入管理指标", "产出指标", "效益指标"]
    assert [root.weight for root in roots] == [D(10), D(30), D(25), D(35)]
    leaves = [leaf for root in roots for level2 in root.children for leaf in level2.children]
    assert len(leaves) == len(seed_rows) == 33
    assert sum(len(root.children) for root in roots) == 9
    assert all(rule_from_json(leaf.rule) for leaf in leaves)


def test_seed_total_is_the_sum_of_its_third_level_scores(seed_rows, seed_result):
    reported = {row["level1"]: D(row["level1_score_reported"]) for row in seed_rows}
    third_level = sum(D(row["score_table_3_2"]) for row in seed_rows)
    assert seed_result.total == third_level
    # the report's own level scores add up to one point more (表3-1's 效益指标 32 vs 31)
    assert sum(reported.values()) == third_level + 1
    assert found(seed_result, "总分", "reported_grand_total_differs", "97", "96")
    assert seed_result.grade == "优" == grade_for(seed_result.total)
    assert {level.name: level.reported for level in seed_result.levels} == reported


def test_seed_level_whose_indicators_do_not_add_up(seed_rows, seed_result):
    entered = defaultdict(Decimal)
    for row in seed_rows:
        entered[row["level1"]] += D(row["score_table_3_2"])
    wrong = {row["level1"] for row in seed_rows if entered[row["level1"]] != D(row["level1_score_reported"])}
    flagged = {f.indicator for f in seed_result.findings if f.code == "reported_total_differs"}
    assert flagged == wrong == {"效益指标"}
    assert found(seed_result, "效益指标", "reported_total_differs", "32", str(entered["效益指标"]))


@pytest.mark.parametrize("name, code, fragments", [
    ("绩效指标合理性", "reported_actual_differs", ("“合理”", "“一般合理”", "附件1")),
    ("结转结余率", "reported_actual_differs", ("“0%”", "“100%”")),
    ("部门绩效评价完成率", "reported_score_differs", ("2", "0.86", "正文")),
    ("群众满意度", "reported_actual_differs", ("98%", "98.95%")),
    ("群众满意度", "reported_actual_differs", ("98%", "96%", "正文")),
    ("群众满意度", "score_mismatch", ("得分 14", "15.00")),
    ("预算执行率", "reported_target_differs", ("≥95%", "100%")),
])
def test_seed_inconsistencies_are_named(seed_result, name, code, fragments):
    assert found(seed_result, name, code, *fragments), findings_for(seed_result, name)


def test_seed_has_no_spurious_findings(seed_result):
    allowed = {"绩效指标合理性", "结转结余率", "部门绩效评价完成率", "群众满意度", "预算执行率", "效益指标",
               "总分",
               # issue 13: scores no written rule explains, and a survey too small to tell
               "提高人民群众生活质量", "长效管理制度"}
    assert {f.indicator for f in seed_result.findings} == allowed
    codes = {f.code for f in seed_result.findings}
    assert not {"child_weights", "level1_weights", "rule_error", "missing_rule"} & codes


def test_seed_deductions_count_whole_points(seed_result):
    # "每浮动1%": the seed's 0.1% budget adjustment costs nothing; pro rata it would cost 0.01.
    by_name = {item.indicator.name: item for item in seed_result.indicators}
    adjustment = by_name["预算调整率"]
    assert adjustment.score == D(2)
    rule = dict(adjustment.indicator.rule, fraction="pro_rata")
    assert rule_from_json(rule).score(2, "0.1%").score == D("1.99")


def test_seed_survey_backed_indicator_keeps_its_sample(seed_result):
    quality = next(i.indicator for i in seed_result.indicators if i.indicator.name == "提高人民群众生活质量")
    assert quality.linked_figure["n"] == 40 and quality.linked_figure["satisfied"] == 38
    assert quality.rule == {"type": "qualitative", "tier": "achieved", "fraction": 0.8,
                            "from_score": True}


@pytest.mark.parametrize("name, code, fragments", [
    # 38 of 40 = 95% scored 8 of 10: the rule was read back from the score, so it explains nothing
    ("提高人民群众生活质量", "rule_inferred_from_score", ("填报得分 8", "80%", "40 人", "38 人", "95.00%")),
    # and 40 answers cannot tell 83.5% from 98.6%; ±5% needs about 385
    ("提高人民群众生活质量", "linked_sample_too_small", ("40 份", "83.5%", "98.6%", "385")),
    # 9 of 10 on a qualitative indicator, with no reason for the missing point
    ("长效管理制度", "rule_inferred_from_score", ("填报得分 9", "90%")),
])
def test_seed_scores_no_written_rule_explains_are_named(seed_result, name, code, fragments):
    assert found(seed_result, name, code, *fragments), findings_for(seed_result, name)


def test_seed_still_scores_96_with_the_new_findings(seed_result):
    assert seed_result.total == D(96) and seed_result.grade == "优"
    assert not {f.indicator for f in seed_result.findings if f.code == "rule_inferred_from_score"} & {
        "年度履职目标相关性", "工作任务科学性"}  # full marks read back as 达成预期: the stated rule's top


def test_assess_table_is_what_the_cli_prints(seed_result):
    data = assess_table(SEED)
    assert set(data) == {"levels", "total", "grade", "findings"}
    assert json.loads(json.dumps(data, ensure_ascii=False)) == data
    assert data["total"] == float(seed_result.total)
    assert len(data["findings"]) == len(seed_result.findings)


# --- default rules and targets ----------------------------------------------------------

@pytest.mark.parametrize("target, expected", [
    ("≥90%", (">=", D("0.9"))), ("≤10%", ("<=", D("0.1"))), ("100%", (">=", D(1))),
    (">= 95 %", (">=", D("0.95"))), ("<=20%", ("<=", D("0.2"))), ("合理", None), ("", None),
])
def test_parse_target(target, expected):
    assert parse_target(target) == expected


@pytest.mark.parametrize("kind, target, score, expected", [
    ("rate_times_weight", "100%", None, {"type": "rate_times_weight"}),
    ("quantitative_min", "100%", None, {"type": "proportional", "target": 1, "direction": ">="}),
    ("quantitative_max", "≤10%", None, {"type": "proportional", "target": 0.1, "direction": "<="}),
    ("quantitative_min", "合理", None, None),
    ("survey_satisfaction", "", None, {"type": "proportional", "target": 0.9, "direction": ">="}),
    ("qualitative", "健全", "7", {"type": "qualitative", "tier": "partial", "fraction": 0.7,
                                         "from_score": True}),
    ("qualitative", "健全", "12", None),
    ("qualitative", "健全", None, None),
    ("deduction_per_point", "≤5%", None,
     {"type": "deduction_per_point", "allowance": 0.05, "per_point": 0.05, "direction": "<=", "fraction": "pro_rata"}),
])
def test_default_rules(kind, target, score, expected):
    rule = default_rule(kind, "某指标", target, D(10), None if score is None else D(score))
    assert rule == expected
    if rule is not None:
        rule_from_json(rule)


# --- the simple form --------------------------------------------------------------------

SIMPLE = """level1,level2,indicator,weight,target,actual,score,rule
预算执行情况,预算执行情况,预算执行率,10,100%,96%,,"{""type"": ""rate_times_weight""}"
产出指标,数量指标,培训人次完成率,50,≥100%,90%,45,
效益指标,社会效益,制度健全,30,健全,健全,27,
满意度,服务对象满意度,满意度,10,≥90%,85%,,
"""


def test_simple_form():
    roots = read_indicator_table(SIMPLE)
    assert [root.weight for root in roots] == [D(10), D(50), D(30), D(10)]
    assert [root.key for root in roots] == ["1", "2", "3", "4"]
    result = evaluate(roots)
    assert [level.score for level in result.levels] == [D("9.60"), D("45.00"), D("27.00"), D("9.44")]
    # 27 of 30 on a qualitative indicator with no rule given: read back from the score, named
    assert [(f.indicator, f.code) for f in result.findings] == [("制度健全", "rule_inferred_from_score")]


@pytest.mark.parametrize("text, fragment", [
    ("a,b\n1,2\n", "缺少列 level1、level2、indicator、weight"),
    ("level1,level2,indicator,weight\n", "没有任何指标行"),
    ("level1,level2,indicator,weight\n甲,乙,丙,十\n", "第 2 行"),
    ("level1,level2,indicator,weight\n甲,,丙,1\n", "不能为空"),
    ("level1,level2,indicator,weight,rule\n甲,乙,丙,1,{bad\n", "不是合法的 JSON"),
    ('level1,level2,indicator,weight,rule\n甲,乙,丙,1,"{""type"": ""magic""}"\n', "未知的评分规则类型"),
])
def test_bad_tables(text, fragment):
    with pytest.raises(IndicatorTableError) as error:
        read_indicator_table(text)
    assert fragment in str(error.value)


def test_seed_level1_weight_must_agree_across_rows():
    lines = SEED.splitlines()
    lines[3] = lines[3].replace("投入管理指标,30,30", "投入管理指标,31,30")
    with pytest.raises(IndicatorTableError, match="第 4 行"):
        read_indicator_table("\n".join(lines))
