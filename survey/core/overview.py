"""The department overview: every survey with its headline figures, and the same survey
(a `series`) across years side by side. Pure functions over already computed figures."""
from collections.abc import Callable

from .exact import as_fraction, round_half_up
from .labels import china_time


def _dates(survey: dict) -> str:
    opens, closes = survey.get("opens_at"), survey.get("closes_at")
    if not opens and not closes:
        return f"创建于 {china_time(survey['created_at'])[:10]}"
    start = china_time(opens)[:10] if opens else "开放起"
    end = china_time(closes)[:10] if closes else "未设截止"
    return f"{start} 至 {end}"


def _label(survey: dict) -> str:
    return f"{survey['year']} 年" if survey.get("year") else survey["title"]


def overview_rows(surveys: list[dict], figures_of: Callable) -> list[dict]:
    """One row per survey, latest year first; `figures_of(survey)` -> (figures or None,
    problem or None)."""
    rows = []
    for survey in sorted(surveys, key=lambda s: (s.get("year") or 0, s["created_at"]),
                         reverse=True):
        figures, problem = figures_of(survey)
        figures = figures or {}
        rows.append({
            "survey": survey, "problem": problem, "dates": _dates(survey),
            "label": _label(survey), "issued": figures.get("issued"),
            "returned": figures.get("returned", survey.get("returned")),
            "valid": figures.get("valid", survey.get("valid")),
            "rate": figures.get("satisfaction_rate"), "ci": figures.get("satisfaction_rate_ci95"),
            "exact": (figures.get("exact") or {}).get("satisfaction_rate"),
            "n": figures.get("n"), "index": figures.get("satisfaction_index"),
        })
    return rows


def change_in_points(rate: float | None, before: float | None) -> str | None:
    """'+2.3' / '-0.8' percentage points, half up to one decimal; None without both rates."""
    if rate is None or before is None:
        return None
    # From the exact fractions (pairs) where given: one rounding, of the difference.
    points = round_half_up((as_fraction(rate) - as_fraction(before)) * 100, 1)
    return f"{points:+}"


def intervals_overlap(a: list | None, b: list | None) -> bool | None:
    if not a or not b:
        return None
    return a[0] <= b[1] and b[0] <= a[1]


def _order(row: dict) -> tuple:
    survey = row["survey"]
    return (survey.get("year") is None, survey.get("year") or 0, survey["created_at"])


def _compared(members: list[dict]) -> list[dict]:
    out, before = [], None
    for row in members:
        change = (change_in_points(row.get("exact") or row["rate"],
                                   before.get("exact") or before["rate"])
                  if before else None)
        overlap = intervals_overlap(row["ci"], before["ci"]) if before else None
        out.append({**row, "change": change, "overlap": overlap})
        before = row
    return out


def series_groups(rows: list[dict]) -> list[dict]:
    """Surveys sharing a series name, ordered by year, each compared with the one before.
    Only series with at least two surveys: one survey has nothing to compare with."""
    by_series: dict[str, list[dict]] = {}
    for row in rows:
        name = (row["survey"].get("series") or "").strip()
        if name:
            by_series.setdefault(name, []).append(row)
    return [{"series": name, "members": _compared(sorted(members, key=_order))}
            for name, members in sorted(by_series.items()) if len(members) > 1]
