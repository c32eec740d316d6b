"""Response validity screening (有效问卷): explicit, per-survey switchable rules."""
import math
from dataclasses import asdict, dataclass, fields

from .errors import DomainError

REASON_TEXT = {
    "incomplete": "必答题未答完",
    "too_fast": "答题用时过短",
    "duplicate_device": "同一设备重复提交",
    "straightlining": "量表题全部选择同一选项",
    "busy_address": "同一网络短时间内提交过多，待人工复核",
    "manual": "人工判定",
}


class ScreeningRulesError(DomainError):
    """Stored or submitted screening settings of the wrong shape."""


class MissingReasonError(DomainError):
    """A manual validity decision without a stated reason."""


def _is_number(value) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _number_text(value: float) -> str:
    return f"{value:g}"


@dataclass(frozen=True)
class ScreeningRules:
    require_complete: bool = True
    min_seconds: float | None = 10.0
    dedupe_device: bool = True
    straightlining: bool = False
    straightlining_min_questions: int = 8

    def __post_init__(self):
        for name in ("require_complete", "dedupe_device", "straightlining"):
            if not isinstance(getattr(self, name), bool):
                raise ScreeningRulesError(f"筛选规则“{name}”只能是开启或关闭")
        if self.min_seconds is not None and (
                not _is_number(self.min_seconds) or self.min_seconds < 0):
            raise ScreeningRulesError("最短答题用时必须是不小于 0 的秒数，或不设置")
        count = self.straightlining_min_questions
        if not (isinstance(count, int) and not isinstance(count, bool)) or count < 2:
            raise ScreeningRulesError("判定“全选同一项”所需的量表题数必须是不小于 2 的整数")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "ScreeningRules":
        """Missing keys take their defaults (settings saved before a rule existed);
        unknown keys are rejected, since a misspelt rule would otherwise silently do nothing."""
        data = data or {}
        if not isinstance(data, dict):
            raise ScreeningRulesError("筛选规则格式错误")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ScreeningRulesError(f"未知的筛选规则：{'、'.join(map(str, unknown))}")
        return cls(**data)

    def describe(self) -> list[str]:
        """Each active rule as a sentence, for the survey page and the evidence package."""
        lines = []
        if self.require_complete:
            lines.append("必答题未全部作答的问卷视为无效")
        if self.min_seconds is not None and self.min_seconds > 0:
            lines.append(f"答题用时少于 {_number_text(self.min_seconds)} 秒的问卷视为无效")
        if self.dedupe_device:
            lines.append("同一设备重复提交的问卷，仅第一份有效")
        if self.straightlining:
            lines.append(f"量表题不少于 {self.straightlining_min_questions} 道且全部选择同一选项"
                         "的问卷视为无效")
        return lines


@dataclass(frozen=True)
class ResponseFacts:
    missing_required: int
    duration_seconds: float | None
    device_seen_before: bool
    scale_values: tuple[float, ...]  # answers to the scale questions, in question order
    # More answers from the response's (hashed) address in the last minutes than a service
    # hall's shared Wi-Fi sends: stored, but set aside for a person to review.
    busy_address: bool = False


@dataclass(frozen=True)
class Verdict:
    valid: bool
    reasons: tuple[str, ...]
    manual_reason: str | None = None  # the staff member's own words, when decided by hand

    def describe(self) -> str:
        if self.manual_reason is not None:
            outcome = "有效" if self.valid else "无效"
            return f"人工判定为{outcome}，理由：{self.manual_reason}"
        if self.valid:
            return "有效"
        return "无效：" + "；".join(REASON_TEXT.get(code, code) for code in self.reasons)


@dataclass(frozen=True)
class ManualDecision:
    valid: bool
    reason: str


def _too_fast(facts: ResponseFacts, rules: ScreeningRules) -> bool:
    # Unknown duration (paper entries, old clients) is never evidence of speeding.
    return (rules.min_seconds is not None and facts.duration_seconds is not None
            and facts.duration_seconds < rules.min_seconds)


def _straightlined(facts: ResponseFacts, rules: ScreeningRules) -> bool:
    values = facts.scale_values
    return len(values) >= rules.straightlining_min_questions and len(set(values)) == 1


def screen(facts: ResponseFacts, rules: ScreeningRules) -> Verdict:
    """Apply the active rules; every failed rule is reported, in a fixed order."""
    checks = (
        ("incomplete", rules.require_complete and facts.missing_required > 0),
        ("too_fast", _too_fast(facts, rules)),
        ("duplicate_device", rules.dedupe_device and facts.device_seen_before),
        ("straightlining", rules.straightlining and _straightlined(facts, rules)),
        ("busy_address", facts.busy_address),
    )
    reasons = tuple(code for code, failed in checks if failed)
    return Verdict(valid=not reasons, reasons=reasons)


def effective_verdict(auto: Verdict, manual: ManualDecision | None) -> Verdict:
    """A manual decision overrides the automatic one and keeps its stated reason."""
    if manual is None:
        return auto
    reason = (manual.reason or "").strip()
    if not reason:
        raise MissingReasonError("请填写判定理由")
    return Verdict(valid=manual.valid, reasons=("manual",), manual_reason=reason)
