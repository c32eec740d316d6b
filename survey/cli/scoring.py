"""`survey score` (try one rule on one value) and `survey assess` (score an indicator table)."""
import json
from pathlib import Path

import click

from ..core.assessment.indicator_table import IndicatorTableError, assess_table
from ..core.assessment.rules import rule_from_json
from ..core.assessment.tree import AssessmentError
from ..core.assessment.values import RuleError, parse_actual
from .base import echo_json, fail


def _rule(text: str) -> dict:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise click.ClickException(f"评分规则不是合法的 JSON（第 {error.colno} 个字符附近）：{text}") from None


@click.command("score")
@click.option("--rule", "rule_text", required=True, metavar="RULE_JSON",
              help='评分规则 JSON，如 \'{"type": "rate_times_weight"}\'')
@click.option("--weight", required=True, help="分值，如 15")
@click.option("--actual", required=True, help="实际完成值：小数（0.95）、百分数（95%）或定性词")
def score_command(rule_text, weight, actual):
    """按评分规则计算一项指标的得分，输出 {"score": 14.40, "explanation": "…"}。"""
    try:
        result = rule_from_json(_rule(rule_text)).score(weight, parse_actual(actual))
    except RuleError as error:
        fail(error)
    # The score keeps its two places in the JSON text (14.40, not 14.4), as on the annex.
    click.echo(f'{{"score": {result.score}, "explanation": {json.dumps(result.explanation, ensure_ascii=False)}}}')


@click.command("assess")
@click.argument("table", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 levels、total、grade、findings")
def assess_command(table, as_json):
    """读取指标表（CSV），按评分规则计算各级得分、总分、等级，并列出不一致之处。"""
    try:
        result = assess_table(table.read_text(encoding="utf-8-sig"))
    except (IndicatorTableError, AssessmentError, RuleError) as error:
        fail(error)
    except UnicodeDecodeError:
        raise click.ClickException("指标表须为 UTF-8 编码的 CSV 文件") from None
    if as_json:
        echo_json(result)
        return
    for level in result["levels"]:
        click.echo(f"{level['name']}：{level['score']:.2f} / {level['weight']:g}")
    click.echo(f"总分 {result['total']:.2f}，评价等级 {result['grade']}；发现 {len(result['findings'])} 处不一致")
    for finding in result["findings"]:
        click.echo(f"  - {finding['indicator']}：{finding['message']}")


COMMANDS = [score_command, assess_command]
