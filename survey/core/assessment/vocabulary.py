"""The words of an assessment: indicator levels, target comparisons, the figures an indicator
may be linked to, and how a target is read and printed."""
import re

COMPARISONS = {">=": "≥", "<=": "≤", "=": "=", "word": "定性（文字）"}
FIELD_LABELS = {
    "name": "指标名称", "weight": "分值", "target": "指标值", "comparison": "指标值比较方式",
    "description": "指标说明", "rule": "评分规则", "actual": "实际完成值", "score": "填报得分",
    "notes": "未完成原因分析及改进措施", "survey_id": "关联问卷", "figure": "关联数值",
}
LEVEL_NAMES = {1: "一级指标", 2: "二级指标", 3: "三级指标"}
SURVEY_FIGURES = {
    "satisfaction_rate": "满意率（按问卷设定的口径）",
    "satisfaction_rate_question": "总体满意度题满意率",
    "satisfaction_rate_scale_mean": "各量表题平均满意率",
    "satisfaction_index": "满意度指数（0–100，按百分比计）",
    "valid_rate": "问卷有效率",
    "return_rate": "回收率",
    "effective_return_rate": "有效回收率",
}
BUDGET_FIGURES = {"budget_execution_rate": "预算执行率", "budget_adjustment_rate": "预算调整率"}
# Indicators the budget block computes, linked when an assessment is made from a template.
BUDGET_LINKS = {"预算执行率": "budget_execution_rate", "预算调整率": "budget_adjustment_rate"}
_SIGN = re.compile(r"^\s*(≥|≤|>=|<=|=)\s*")
_NUMBER = re.compile(r"^[（(]?\s*-?\d+(\.\d+)?\s*[%％]?\s*[)）]?$")


def split_target(text: str) -> tuple[str, str]:
    """("≥90%" → (">=", "90%")); a number alone is "="; anything else is a word (定性)."""
    text = (text or "").strip()
    match = _SIGN.match(text)
    if match:
        sign = {"≥": ">=", "≤": "<="}.get(match.group(1), match.group(1))
        return sign, text[match.end():].strip()
    return ("=" if _NUMBER.match(text) else "word"), text


def target_text(comparison: str, value: str) -> str:
    """How the target is printed: ≥90%, ≤10%, 100%, 相关."""
    sign = {">=": "≥", "<=": "≤"}.get(comparison, "")
    return f"{sign}{value}" if value else ""
