"""Labels and formats, in one place: percentages, numbers and scores, times in China time, and
the names shown for sources, channels and statuses. Pure stdlib.

Every page, export, chart and report formats through these functions, so a figure reads the
same everywhere it appears."""
import datetime as dt
import functools
from decimal import Decimal

from .exact import round_half_up

CHINA_TZ = dt.timezone(dt.timedelta(hours=8), "CST")
EMPTY = "—"

SOURCE_NAMES = {"qr": "扫码", "web": "网页链接", "paper": "纸质问卷"}
UNTAGGED_CHANNEL = "未标注渠道"
# A conditional question that was not asked of this respondent (core.conditions).
NOT_APPLICABLE = "（不适用）"
SURVEY_STATUSES = {"draft": "草稿", "open": "收集中", "closed": "已结束"}
ASSESSMENT_STATUSES = {"draft": "草稿", "final": "已定稿"}


def number(value: Decimal) -> str:
    """A number as written by a person: 15, 14.4, 0.86 (no exponent, no trailing zeros)."""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def percent(rate, places: int | None = 2, *, trim: bool = False) -> str:
    """A rate (float, Decimal, Fraction or [numerator, denominator]) as a percentage, rounded once,
    half up, from its exact value: Fraction(113, 139) -> '81.29%'; 0.95 -> '95.00%'; places=1 -> '95.0%';
    trim=True drops trailing zeros ('96%', '95.83%'); places=None keeps every digit
    ('98.951%'). None -> '—'."""
    if rate is None:
        return EMPTY
    # A fraction (113/139) is rounded once, exactly; x × 100 to p places is x to p + 2.
    value = Decimal(str(rate)) * 100 if places is None else round_half_up(rate, places + 2).scaleb(2)
    return f"{number(value) if trim else value}%"


def china_time(stored: str | None, *, seconds: bool = False, empty: str = EMPTY) -> str:
    """A stored UTC ISO timestamp in China time: '2024-05-06 14:30' (with seconds:
    '2024-05-06 14:30:05'); `empty` when unset."""
    if not stored:
        return empty
    # Stored times are UTC ("...+00:00", store.util.iso): the hour is converted once and the
    # minutes and seconds copied, because exports format a million of them.
    if len(stored) >= 19 and stored.endswith("+00:00") and stored[10] == "T":
        return _china_hour(stored[:13]) + stored[13:19 if seconds else 16]
    shown = "%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M"
    return dt.datetime.fromisoformat(stored).astimezone(CHINA_TZ).strftime(shown)


@functools.lru_cache(maxsize=65536)
def _china_hour(utc_hour: str) -> str:
    """'2025-01-01T17' (UTC) -> '2025-01-02 01' (China time)."""
    moment = dt.datetime.fromisoformat(utc_hour + ":00:00+00:00").astimezone(CHINA_TZ)
    return moment.strftime("%Y-%m-%d %H")


def source_name(source: str) -> str:
    return SOURCE_NAMES.get(source, source)


def channel_name(channel: str | None) -> str:
    return channel or UNTAGGED_CHANNEL
