"""`survey score`, `survey assess`, `survey assessments` and `survey report`, through click's runner."""
import io
import json
import re
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from survey.cli import cli
from survey.core.assessment.rules import rule_from_json
from survey.core.assessment.values import parse_actual
from survey.store import accounts
from survey.store.assessment_seed import create_seed_assessment
from survey.web.db import get_db

SEED_CSV = resources.files("survey.data").joinpath("seed-2022", "indicators.csv")


def score(runner, rule, weight, actual):
    return runner.invoke(args=["score", "--rule", json.dumps(rule), "--weight", str(weight),
                               "--actual", str(actual)])


@pytest.mark.parametrize("rule, weight, actual, expected", [
    ({"type": "rate_times_weight"}, 15, "96%", "14.40"),
    ({"type": "rate_times_weight"}, 10, "0.9167", "9.17"),
    ({"type": "proportional", "target": 0.9, "direction": ">="}, 15, "98%", "15.00"),
    ({"type": "proportional", "target": 0.9, "direction": ">="}, 15, "0.6", "10.00"),
    ({"type": "deduction_per_point", "allowance": 0.1, "direction": "<=", "per_point": 0.05}, 2, "13.4%", "1.66"),
    ({"type": "bands", "bands": [{"at_least": 0.98, "score": 15}, {"at_least": 0.95, "score": 14},
                                 {"at_least": 0, "score": 0}]}, 15, "96%", "14.00"),
    ({"type": "qualitative", "tier": "achieved", "fraction": 0.9}, 10, "健全", "9.00"),
])
def test_score_prints_two_decimals_and_an_explanation(runner, rule, weight, actual, expected):
    result = score(runner, rule, weight, actual)
    assert result.exit_code == 0, result.output
    assert re.search(rf'"score": {re.escape(expected)},', result.output)
    data = json.loads(result.output)
    assert Decimal(str(data["score"])) == Decimal(expected)
    assert data["explanation"] == rule_from_json(rule).score(weight, parse_actual(actual)).explanation


@pytest.mark.parametrize("rule, weight, actual, message", [
    ('{"type": "proportional", "target": 0}', "10", "0.5", "指标值必须大于 0"),
    ('{"type": "bands", "bands": [{"at_least": 0.9, "score": 5}, {"at_least": 0.95, "score": 6}]}',
     "10", "0.96", "分档须从最严到最宽排列"),
    ('{"type": "qualitative", "tier": "partial", "fraction": 0.9}', "10", "一般", "部分达成"),
    ('{"type": "rate_times_weight"}', "-2", "0.5", "分值不能为负数"),
    ('{"type": "rate_times_weight"}', "2", "很好", "不是数值"),
    ('{"type": "no_such_rule"}', "2", "0.5", "未知的评分规则类型"),
    ('{"type": "rate_times_weight"', "2", "0.5", "不是合法的 JSON"),
])
def test_bad_rule_or_value_exits_non_zero_with_chinese_on_stderr(runner, rule, weight, actual, message):
    result = runner.invoke(args=["score", "--rule", rule, "--weight", weight, "--actual", actual])
    assert result.exit_code != 0
    assert message in result.stderr and result.stdout == ""


@settings(max_examples=40, deadline=None)
@given(st.decimals(min_value=0, max_value=100, places=2), st.decimals(min_value=0, max_value=1, places=4))
def test_rate_times_weight_from_the_command_line_is_money_rounded(weight, rate):
    result = CliRunner().invoke(cli, ["score", "--rule", '{"type": "rate_times_weight"}',
                                       "--weight", str(weight), "--actual", str(rate)])
    expected = (weight * rate).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    assert re.match(rf'\{{"score": {expected},', result.output), result.output


def test_assess_prints_levels_total_grade_and_findings(runner, tmp_path):
    table = tmp_path / "seed.csv"
    table.write_text(SEED_CSV.read_text(encoding="utf-8"), encoding="utf-8")
    result = runner.invoke(args=["assess", str(table), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [level["weight"] for level in data["levels"]] == [10, 30, 25, 35]
    assert data["total"] == sum(level["score"] for level in data["levels"])
    assert data["grade"] == "优"
    assert {"群众满意度", "效益指标"} <= {f["indicator"] for f in data["findings"]}


def test_assess_refuses_a_table_it_cannot_read(runner, tmp_path):
    table = tmp_path / "bad.csv"
    table.write_text("a,b\n1,2\n", encoding="utf-8")
    result = runner.invoke(args=["assess", str(table), "--json"])
    assert result.exit_code != 0 and "无法识别的指标表" in result.stderr


@pytest.fixture
def seed_id(app):
    with app.app_context():
        db = get_db()
        return create_seed_assessment(db, accounts.ensure_department(db, "信阳市平桥区人力资源和社会保障局"))


def test_assessments_json_lists_id_department_year_total_grade(runner, seed_id):
    result = runner.invoke(args=["assessments", "--json"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)
    assert (row["id"], row["department"], row["year"], row["total"], row["grade"]) == (
        seed_id, "信阳市平桥区人力资源和社会保障局", 2022, 96.0, "优")


def test_report_writes_the_xlsx_and_the_text(runner, seed_id, tmp_path):
    target = tmp_path / "annex.xlsx"
    result = runner.invoke(args=["report", str(seed_id), "--xlsx", str(target)])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(io.BytesIO(Path(target).read_bytes()))
    assert book.sheetnames == ["附件1 自评表", "表3-1 得分情况", "表3-2 各项指标得分"]
    assert book["表3-1 得分情况"].cell(5, 6).value == 96
    text = runner.invoke(args=["report", str(seed_id), "--text"])
    assert text.exit_code == 0 and "整体自评得分为 96 分，评价等级为“优”" in text.output


@pytest.mark.parametrize("args, message", [(["report", "999", "--text"], "找不到自评"),
                                           (["report", "1"], "--xlsx")])
def test_report_errors_are_chinese(runner, seed_id, args, message):
    result = runner.invoke(args=args)
    assert result.exit_code != 0 and message in result.output
