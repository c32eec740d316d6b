"""Follow-up cases for dissatisfied answers (差评): which answers open one, how a case moves
from opening to closing, and the figures 回访率, 整改率, 按期办结率 and average time to close.

Pure: plain data in, plain data out, Chinese domain errors.
"""
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from .errors import DomainError
from .workdays import MAX_WORKING_DAYS

DEFAULT_LEVELS = ("不满意", "非常不满意")
DEFAULT_DUE_WORKING_DAYS = 5

STATUSES = {"open": "待处理", "in_progress": "处理中", "appeal_pending": "申诉待确认",
            "closed": "已办结", "dismissed": "申诉成立（不计入）"}
ACTIVE_STATUSES = ("open", "in_progress", "appeal_pending")
FINAL_STATUSES = ("closed", "dismissed")

# The steps a case is worked through; each is one entry in the case history.
WORK_ACTIONS = {"assign": "指派承办人", "callback": "记录回访", "cause": "记录原因核实",
                "rectify": "记录整改措施", "reply": "记录答复"}
ACTIONS = {**WORK_ACTIONS, "close": "办结", "appeal": "申诉（误评或恶意评价）",
           "confirm_appeal": "确认申诉", "reject_appeal": "驳回申诉"}
EVENT_NAMES = {**ACTIONS, "open": "自动立案", "contact_purged": "回访电话到期删除",
               "due_changed": "到期日重新计算"}
ADMIN_ACTIONS = frozenset({"confirm_appeal", "reject_appeal"})
APPEAL_KINDS = {"mistaken": "误评", "malicious": "恶意评价"}


class CaseSettingsError(DomainError):
    """A survey's follow-up settings are of the wrong shape."""


class CaseTransitionError(DomainError):
    """This step is not allowed in the case's current state."""


class CasePermissionError(DomainError):
    """This step needs a department administrator."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _levels(value) -> tuple[str, ...]:
    if not isinstance(value, (list, tuple)) or not value or not all(
            isinstance(v, str) and v.strip() for v in value):
        raise CaseSettingsError("立案等级至少选择一项（如“不满意”“非常不满意”）")
    return tuple(dict.fromkeys(v.strip() for v in value))


def _question_ids(value) -> tuple[int, ...] | None:
    if value is None:
        return None
    if not isinstance(value, (list, tuple)) or not value or not all(_is_int(v) for v in value):
        raise CaseSettingsError("立案题目应为题目编号列表，或不限（全部量表题）")
    return tuple(sorted(set(value)))


@dataclass(frozen=True)
class CaseSettings:
    """surveys.settings["cases"]; a survey without it gets these defaults."""
    enabled: bool = True
    levels: tuple[str, ...] = DEFAULT_LEVELS
    question_ids: tuple[int, ...] | None = None  # None: every scale question
    due_working_days: int = DEFAULT_DUE_WORKING_DAYS
    callback: bool = True  # offer citizens the optional call-back block

    @classmethod
    def from_dict(cls, data: dict | None) -> "CaseSettings":
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise CaseSettingsError("回访整改设置格式错误")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise CaseSettingsError(f"未知的回访整改设置：{'、'.join(map(str, unknown))}")
        merged = {**_defaults(cls), **data}
        for name in ("enabled", "callback"):
            if not isinstance(merged[name], bool):
                raise CaseSettingsError(f"设置“{name}”只能是开启或关闭")
        days = merged["due_working_days"]
        if not _is_int(days) or not 1 <= days <= MAX_WORKING_DAYS:
            raise CaseSettingsError(f"办理时限必须是 1 到 {MAX_WORKING_DAYS} 之间的整数（工作日）")
        return cls(enabled=merged["enabled"], levels=_levels(merged["levels"]),
                   question_ids=_question_ids(merged["question_ids"]),
                   due_working_days=days, callback=merged["callback"])

    @classmethod
    def effective(cls, data) -> "CaseSettings":  # read on every submission: see _defaults
        """The settings cases are opened under: malformed stored settings fall back to the
        defaults, so a complaint is followed up rather than lost, and the citizen's form never
        breaks (the settings page shows the problem)."""
        try:
            return cls.from_dict(data)
        except CaseSettingsError:
            return cls()

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "levels": list(self.levels),
                "question_ids": None if self.question_ids is None else list(self.question_ids),
                "due_working_days": self.due_working_days, "callback": self.callback}

    def describe(self) -> str:
        if not self.enabled:
            return "本问卷未开启差评自动立案。"
        scope = "任一量表题" if self.question_ids is None else f"指定的 {len(self.question_ids)} 道量表题"
        return (f"{scope}选择“{'”或“'.join(self.levels)}”时自动立案，"
                f"须在 {self.due_working_days} 个工作日内核实、整改并答复。")


@dataclass(frozen=True)
class Trigger:
    """One answer that opened the case."""
    question_id: int
    question_text: str
    label: str


def case_triggers(settings: CaseSettings, questions: list[dict], answers) -> tuple[Trigger, ...]:
    """The answers that open a case under `settings` (empty: no case). `answers` are rows with
    question_id and option_id, as stored."""
    if not settings.enabled:
        return ()
    chosen = {(a["question_id"], a["option_id"]) for a in answers if a.get("option_id")}
    found = []
    for q in questions:
        if q["kind"] != "scale":
            continue
        if settings.question_ids is not None and q["id"] not in settings.question_ids:
            continue
        found.extend(Trigger(q["id"], q["text"], o["label"]) for o in q["options"]
                     if (q["id"], o["id"]) in chosen and o["label"] in settings.levels)
    return tuple(found)


@dataclass(frozen=True)
class CaseProgress:
    """What a state transition needs to know about a case."""
    status: str
    has_cause: bool = False
    has_rectification: bool = False
    has_reply: bool = False
    has_callback: bool = False
    callback_requested: bool = False  # the citizen consented to a call back

    def missing_for_close(self) -> list[str]:
        steps = (("原因核实", self.has_cause), ("整改措施", self.has_rectification),
                 ("答复", self.has_reply),
                 ("回访", self.has_callback or not self.callback_requested))
        return [name for name, done in steps if not done]


def _require_active(status: str) -> None:
    if status in FINAL_STATUSES:
        raise CaseTransitionError(f"案件{STATUSES[status]}，不能再办理")
    if status == "appeal_pending":
        raise CaseTransitionError("申诉待部门管理员确认，确认或驳回前不能办理其他事项")


def next_status(progress: CaseProgress, action: str, role: str) -> str:
    """The status after `action` by a user of `role`, or a Chinese error saying why not."""
    if action not in ACTIONS:
        raise CaseTransitionError("未知的办理事项")
    if action in ADMIN_ACTIONS:
        if role != "admin":
            raise CasePermissionError("只有部门管理员可以确认或驳回申诉")
        if progress.status != "appeal_pending":
            raise CaseTransitionError("该案件没有待确认的申诉")
        return "dismissed" if action == "confirm_appeal" else "in_progress"
    _require_active(progress.status)
    if action == "appeal":
        return "appeal_pending"
    if action == "close":
        missing = progress.missing_for_close()
        if missing:
            raise CaseTransitionError(f"办结前请先记录：{'、'.join(missing)}")
        return "closed"
    return "in_progress"


# --- figures -------------------------------------------------------------------------------

FIGURE_DEFINITIONS = {
    "callback_rate": "回访率 = 已回访案件数 ÷ 群众同意回访（留有电话）的案件数；申诉成立的案件不计入。"
                     "未留电话的匿名差评无法回访，不计入分母。",
    "rectification_rate": "整改率 = 已记录整改措施的案件数 ÷ 差评案件数（不含申诉成立的案件）。",
    "on_time_rate": "按期办结率 = 在到期日（含）前办结的案件数 ÷（已办结案件数 + 已逾期仍未办结的案件数）。"
                    "到期日按工作日计算，不含立案当天，扣除法定节假日，调休上班日计入。",
    "mean_days_to_close": "平均办结用时 = 已办结案件从立案到办结的自然日数平均值，保留一位小数。",
}


@dataclass(frozen=True)
class CaseCounts:
    """Counts for one group of cases (a month, a channel, or all); summed by `+`."""
    opened: int = 0
    dismissed: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue_active: int = 0
    callback_requested: int = 0
    called_back: int = 0
    rectified: int = 0
    close_days_total: float = 0.0

    def __add__(self, other: "CaseCounts") -> "CaseCounts":
        return CaseCounts(**{k: v + getattr(other, k) for k, v in asdict(self).items()})

    @property
    def followed_up(self) -> int:
        """Cases that must be followed up: all except confirmed 申诉."""
        return self.opened - self.dismissed


def _ratio(num, den) -> Fraction | None:
    """The exact fraction: rounded once, where it is shown (core.labels.percent)."""
    if not den:
        return None
    return Fraction(int(num), int(den))


def _mean_days(total: float, closed: int) -> float | None:
    if not closed:
        return None
    return float((Decimal(str(total)) / closed).quantize(Decimal("0.1"), ROUND_HALF_UP))


def case_rates(counts: CaseCounts) -> dict:
    """The counts with the four figures; a figure is None when its denominator is zero. The
    three rates are exact fractions (a JSON writer sends them as core.exact.to_pair)."""
    return {
        **asdict(counts), "followed_up": counts.followed_up,
        "callback_rate": _ratio(counts.called_back, counts.callback_requested),
        "rectification_rate": _ratio(counts.rectified, counts.followed_up),
        "on_time_rate": _ratio(counts.closed_on_time, counts.closed + counts.overdue_active),
        "mean_days_to_close": _mean_days(counts.close_days_total, counts.closed),
    }


def summarise_cases(groups) -> dict:
    """`groups`: (month 'YYYY-MM', channel, CaseCounts) rows, one per month and channel.
    Returns the figures overall, per month and per channel, with their definitions."""
    groups = list(groups)
    total, months, channels = CaseCounts(), {}, {}
    for month, channel, counts in groups:
        total += counts
        months[month] = months.get(month, CaseCounts()) + counts
        channels[channel] = channels.get(channel, CaseCounts()) + counts
    return {
        "total": case_rates(total),
        "by_month": [{"month": m, **case_rates(c)} for m, c in sorted(months.items())],
        "by_channel": [{"channel": ch, **case_rates(c)} for ch, c in sorted(channels.items())],
        "definitions": dict(FIGURE_DEFINITIONS),
    }


# --- the citizen's call-back consent ------------------------------------------------------------

def callback_consent_text(department: str, retention_days: int) -> str:
    """The consent the citizen ticks (PIPL: purpose, scope, who sees it, how long, how to refuse);
    stored word for word with the number as the record of consent."""
    return (f"我同意{department}为回访本次评价收集我的电话号码。该号码仅用于本次评价的核实、整改回访，"
            f"与问卷答案分开保存，仅承办人员和部门管理员可见，不向第三方提供，最长保存 "
            f"{retention_days} 天，到期自动删除。不留电话不影响提交问卷。")


def available_actions(status: str, role: str) -> list[str]:
    """The steps to offer on a case page (next_status still checks each one)."""
    if status == "appeal_pending":
        return sorted(ADMIN_ACTIONS) if role == "admin" else []
    if status in FINAL_STATUSES:
        return []
    return [*WORK_ACTIONS, "close", "appeal"]


_DEFAULTS: dict = {}


def _defaults(cls) -> dict:
    """asdict(cls()), computed once (asdict deep-copies: a tenth of a case's cost)."""
    found = _DEFAULTS.get(cls)
    if found is None:
        found = _DEFAULTS[cls] = asdict(cls())
    return found
