"""The report's paragraphs, in Chinese, generated from an assessment view: 综合评价结论, the
budget paragraph, one paragraph per indicator and the survey sentences. No figure here is
typed by hand: each comes from the same view as the tables, so text and tables agree."""
from decimal import Decimal
from fractions import Fraction

from ..exact import linked_value
from ..labels import percent
from .budget import fmt_money
from .values import fmt_number, quantize

CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
CHINESE_NUMERALS = "一二三四五六七八九十"


def points(value: Decimal | None) -> str:
    """A score as written in a sentence: 14, 14.4, 0.86 (two places, half up, no trailing 0)."""
    return "—" if value is None else fmt_number(quantize(value))


def _circled(i: int) -> str:
    return CIRCLED[i - 1] if i <= len(CIRCLED) else f"({i})"


def conclusion(view) -> str:
    """三、综合评价结论."""
    names = "、".join(level.name for level in view.levels)
    year = view.assessment["year"]
    each = "，".join(f"{level.name}得分 {points(level.score)} 分" for level in view.levels)
    return (f"依据自评指标体系，通过对{names}进行全面综合评价，{year} 年度我单位整体自评得分为 "
            f"{points(view.total)} 分，评价等级为“{view.grade}”。其中，{each}。")


def budget_paragraph(view) -> str:
    budget = view.budget
    if budget.empty:
        return "预算执行情况尚未填写。"
    year = view.assessment["year"]
    text = (f"我单位 {year} 年年初预算资金 {fmt_money(budget.initial)} 万元；全年预算资金总额 "
            f"{fmt_money(budget.full_year)} 万元。全年实际执行数为 {fmt_money(budget.executed)} 万元，"
            f"预算执行率为 {percent(budget.execution_rate, trim=True)}。")
    row = view.budget_row
    if row is not None and row.score is not None:
        text += f"该项分值 {points(_weight(row))} 分，得 {points(row.score)} 分。"
    return text


def _weight(row) -> Decimal:
    return Decimal(row.row["weight"] or 0)


def survey_sentence(row) -> str:
    """群众满意度问卷共发放 100 份，回收问卷 100 份，其中有效问卷 100 份，问卷有效率 100%。…"""
    link = row.link
    counts = []
    if link.get("issued") is not None:
        counts.append(f"共发放 {link['issued']} 份")
    counts.append(f"回收问卷 {link['returned']} 份" if counts else f"共回收问卷 {link['returned']} 份")
    counts.append(f"其中有效问卷 {link['valid']} 份")
    if link.get("valid_rate") is not None:
        valid_rate = (Fraction(link["valid"], link["returned"]) if link.get("returned")
                      else link["valid_rate"])
        counts.append(f"问卷有效率 {percent(valid_rate, trim=True)}")
    text = f"{row.row['name']}问卷{'，'.join(counts)}。"
    if link["value"] is None:
        return text + "暂无有效回答，无法统计。"
    interval = ""
    if link.get("ci95"):
        low, high = link["ci95"]
        interval = f"（95% 置信区间 {percent(low, 1)}–{percent(high, 1)}）"
    return (text + f"据统计{row.row['name']}为 {percent(linked_value(link), trim=True)}{interval}，根据评分规则，"
            f"该指标得 {points(row.score)} 分。")


def indicator_sentence(i: int, row) -> str:
    target = row.row["target"]
    actual = row.row["actual"] or (percent(linked_value(row.link), trim=True) if row.link else "")
    facts = f"，指标值 {_target(row)}" if target else ""
    facts += f"，实际完成值 {actual}" if actual else ""
    text = f"{_circled(i)}{row.row['name']}{facts}，指标 {points(_weight(row))} 分，得 {points(row.score)} 分。"
    if row.link and row.link["source"] == "survey":
        text += survey_sentence(row)
    if row.row["notes"]:
        text += row.row["notes"]
    return text


def _target(row) -> str:
    sign = {">=": "≥", "<=": "≤"}.get(row.row["comparison"], "")
    return f"{sign}{row.row['target']}"


def analysis(view) -> list[str]:
    """四（二）: per level-1 and level-2 heading, one sentence per indicator."""
    lines = []
    for n, level1 in enumerate(view.children(None), start=1):
        numeral = CHINESE_NUMERALS[n - 1] if n <= 10 else str(n)
        lines.append(f"（{numeral}）{level1.row['name']}完成情况分析（分值 {points(_weight(level1))} 分，"
                     f"得 {points(level1.score)} 分）")
        for m, level2 in enumerate(view.children(level1.id), start=1):
            lines.append(f"{m}. {level2.row['name']}")
            leaves = view.children(level2.id) or [level2]
            lines.extend(indicator_sentence(i, leaf) for i, leaf in enumerate(leaves, start=1))
    return lines


def report_text(view) -> str:
    """All the paragraphs, ready to paste into the report."""
    a = view.assessment
    parts = [f"{a['department_name']} {a['year']} 年度部门整体支出绩效自评", "",
             "三、综合评价结论", conclusion(view), "", "四、绩效目标实现情况分析",
             "部门资金情况分析", budget_paragraph(view), "", "项目绩效指标完成情况分析", *analysis(view)]
    return "\n".join(parts) + "\n"
