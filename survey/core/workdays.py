"""The Chinese working-day calendar: weekends, public holidays and adjusted working days (调休上班).

The national arrangement is data (survey/data/workdays-cn.json, one entry per year, updated each
year when the State Council publishes the next year's holidays); a department may add its own
overrides on top. Due dates are counted in working days from the day after a case opens.
"""
import datetime as dt
import functools
import json
import os
from dataclasses import dataclass, field, replace
from importlib import resources

from .errors import DomainError

DATA_FILE = "workdays-cn.json"
WEEKDAY_NAMES = "一二三四五六日"
# chinese_calendar names its holidays in English; the data file keeps the Chinese names.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦", "Spring Festival": "春节", "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节", "Dragon Boat Festival": "端午节", "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节", "Anti-Fascist 70th Day": "抗战胜利纪念日",
}
MAX_WORKING_DAYS = 60


class WorkdayDataError(DomainError):
    """The calendar data file or an override is malformed."""


@dataclass(frozen=True)
class WorkdayOverride:
    """A department's own decision for one day: working (True) or off (False)."""
    day: dt.date
    is_workday: bool
    note: str = ""


@dataclass(frozen=True)
class WorkdayCalendar:
    holidays: dict = field(default_factory=dict)  # date -> name: days off (weekends included)
    workdays: dict = field(default_factory=dict)  # date -> name: weekend days worked (调休上班)
    years: frozenset = frozenset()  # years whose arrangement is in the data

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        return day.weekday() < 5 and day not in self.holidays

    def covers(self, day: dt.date) -> bool:
        return day.year in self.years

    def describe(self, day: dt.date) -> str:
        """How the calendar reads a day, in words (for the due date's explanation)."""
        if day in self.workdays:
            return f"{self.workdays[day]}（调休上班）"
        if day in self.holidays:
            return f"{self.holidays[day]}（放假）"
        return "工作日" if day.weekday() < 5 else "周末"

    def with_overrides(self, overrides) -> "WorkdayCalendar":
        if not overrides:  # most departments: no copy of every year's days for each new case
            return self
        holidays, workdays = dict(self.holidays), dict(self.workdays)
        for o in overrides:
            holidays.pop(o.day, None)
            workdays.pop(o.day, None)
            target = workdays if o.is_workday else holidays
            target[o.day] = o.note or ("本部门安排上班" if o.is_workday else "本部门安排休息")
        return replace(self, holidays=holidays, workdays=workdays)


def add_working_days(calendar: WorkdayCalendar, start: dt.date, count: int) -> dt.date:
    """The `count`-th working day after `start` (the day itself never counts: a complaint
    received on a Friday afternoon, or on a holiday, is due `count` full working days later)."""
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= MAX_WORKING_DAYS:
        raise WorkdayDataError(f"办理时限必须是 1 到 {MAX_WORKING_DAYS} 之间的整数（工作日）")
    day, left = start, count
    while left:
        day += dt.timedelta(days=1)
        left -= calendar.is_workday(day)
    return day


def working_days_between(calendar: WorkdayCalendar, start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 when end <= start)."""
    days = (end - start).days
    return sum(calendar.is_workday(start + dt.timedelta(days=i)) for i in range(1, days + 1))


def _parse_day(text, year: str) -> dt.date:
    try:
        day = dt.date.fromisoformat(text)
    except (TypeError, ValueError):
        raise WorkdayDataError(f"{year} 年的日期格式错误：{text}（应为 YYYY-MM-DD）") from None
    if str(day.year) != year:
        raise WorkdayDataError(f"日期 {text} 不属于 {year} 年")
    return day


def _parse_days(entries, year: str, kind: str) -> dict:
    if not isinstance(entries, dict):
        raise WorkdayDataError(f"{year} 年的“{kind}”应为“日期: 名称”的对照表")
    days = {}
    for text, name in entries.items():
        if not isinstance(name, str) or not name.strip():
            raise WorkdayDataError(f"{year} 年 {text} 缺少节日名称")
        days[_parse_day(text, year)] = name.strip()
    return days


def calendar_from_data(data: dict) -> WorkdayCalendar:
    """Validate and read the data file's content (see survey/data/workdays-cn.json)."""
    years = data.get("years") if isinstance(data, dict) else None
    if not isinstance(years, dict):
        raise WorkdayDataError("节假日数据缺少 years 对照表")
    holidays, workdays = {}, {}
    for year, entry in years.items():
        if not (isinstance(year, str) and year.isdigit() and len(year) == 4):
            raise WorkdayDataError(f"年份格式错误：{year}")
        if not isinstance(entry, dict):
            raise WorkdayDataError(f"{year} 年的数据格式错误")
        off = _parse_days(entry.get("holidays", {}), year, "holidays")
        on = _parse_days(entry.get("workdays", {}), year, "workdays")
        both = sorted(set(off) & set(on))
        if both:
            raise WorkdayDataError(f"{both[0].isoformat()} 同时被列为放假和上班")
        holidays.update(off)
        workdays.update(on)
    return WorkdayCalendar(holidays=holidays, workdays=workdays,
                           years=frozenset(int(y) for y in years))


def data_from_package(holidays: dict, workdays: dict) -> dict:
    """The data file's content built from chinese_calendar's `holidays` / `workdays` dicts."""
    years: dict = {}
    for kind, source in (("holidays", holidays), ("workdays", workdays)):
        for day, name in sorted(source.items()):
            entry = years.setdefault(str(day.year), {"holidays": {}, "workdays": {}})
            label = HOLIDAY_NAMES.get(name, name)
            entry[kind][day.isoformat()] = label if kind == "holidays" else f"{label}调休上班"
    return {"years": dict(sorted(years.items()))}


def national_calendar() -> WorkdayCalendar:
    """The packaged national arrangement, read again only when the file changes: a running
    server sees `survey workdays --refresh` (another process) without a restart."""
    try:
        stamp = os.stat(str(resources.files("survey.data").joinpath(DATA_FILE))).st_mtime_ns
    except OSError:
        stamp = None
    return _read_national_calendar(stamp)


@functools.lru_cache(maxsize=1)
def _read_national_calendar(stamp) -> WorkdayCalendar:
    text = resources.files("survey.data").joinpath(DATA_FILE).read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise WorkdayDataError(f"节假日数据文件不是有效的 JSON：{error}") from None
    return calendar_from_data(data)


national_calendar.cache_clear = _read_national_calendar.cache_clear


def describe_day(day: dt.date) -> str:
    return f"{day.isoformat()}（星期{WEEKDAY_NAMES[day.weekday()]}）"


def uncovered_years(calendar: WorkdayCalendar, start: dt.date, end: dt.date) -> list[int]:
    """Years in [start, end] with no holiday arrangement in the data: there the calendar only
    knows weekends, and staff should be told so."""
    return [y for y in range(start.year, end.year + 1) if y not in calendar.years]


@dataclass(frozen=True)
class Period:
    name: str
    first: dt.date
    last: dt.date


def year_arrangement(calendar: WorkdayCalendar, year: int) -> tuple[list[Period], list[Period]]:
    """A year's holidays as runs of consecutive days off, and its adjusted working days."""
    def runs(days: dict) -> list[Period]:
        found: list[Period] = []
        for day in sorted(d for d in days if d.year == year):
            last = found[-1] if found else None
            if last and last.name == days[day] and (day - last.last).days == 1:
                found[-1] = replace(last, last=day)
            else:
                found.append(Period(days[day], day, day))
        return found
    return runs(calendar.holidays), runs(calendar.workdays)


def provisional_due(calendar: WorkdayCalendar, opened: dt.date, due: dt.date) -> str | None:
    """Why a due date is provisional, or None: it was counted through a year the calendar has
    no holiday arrangement for (beyond its last year only weekends are known), so it may move
    when the State Council publishes that year's holidays."""
    missing = [y for y in uncovered_years(calendar, opened, due) if y > max(calendar.years, default=0)]
    if not missing:
        return None
    years = "、".join(f"{y} 年" for y in missing)
    return (f"暂定：{years}的节假日安排尚未录入（日历只到 {max(calendar.years, default=0)} 年），"
            f"只按周末计算；节假日安排更新后到期日可能顺延")
