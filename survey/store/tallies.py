"""Reading the figures' raw material from the tallies, in SQL, with optional filters.

`survey_tally` feeds the pure `core.figures.compute_figures`. `recount` rebuilds the tallies
from the raw responses with a plain GROUP BY: the reference the tallies are tested against.
"""
from dataclasses import dataclass, replace

from ..core.figures import OptionTally, QuestionTally, SurveyTally
from ..core.settings import SurveySettings
from ..core.conditions import hint
from . import write_transaction

# answer_tallies.option_id of a conditional question's base: the valid responses it applied
# to (option_id 0 counts those that answered it).
APPLICABLE = -1


@dataclass(frozen=True)
class TallyFilter:
    day_from: str | None = None
    day_to: str | None = None
    channel: str | None = None
    source: str | None = None

    def where(self) -> tuple[str, list]:
        clauses, params = [], []
        for column, op, value in (("day", ">=", self.day_from), ("day", "<=", self.day_to),
                                  ("channel", "=", self.channel), ("source", "=", self.source)):
            if value is not None and value != "":
                clauses.append(f"{column} {op} ?")
                params.append(value)
        return "".join(f" AND {c}" for c in clauses), params


def issued_count(db, survey_id: int) -> int | None:
    """发放 of the whole survey: the sum over channels (see issued_by_channel); None when
    nothing was recorded or invited."""
    channels_ = issued_by_channel(db, survey_id)
    return sum(n for _, n in channels_) if channels_ else None


# 一事一评: one invitation is one 发放 of its window, exactly. A window with invitations counts
# those alone; batches recorded for the same channel are left out (they would count its
# transactions twice). Batches for the whole survey (channel NULL) never cover such a window:
# in core.figures.issue_coverage a channel with its own count takes only its own.
_ISSUED_BY_CHANNEL = (
    "SELECT channel, sum(n) FROM ("
    " SELECT channel, count AS n FROM issued_batches WHERE survey_id = :s AND (channel IS NULL"
    "  OR channel NOT IN (SELECT window_name FROM invitations WHERE survey_id = :s))"
    " UNION ALL SELECT window_name, 1 FROM invitations WHERE survey_id = :s) "
    "GROUP BY channel ORDER BY channel IS NOT NULL, channel")
ISSUED_RULE = ("一事一评的每笔办件生成一个评价邀请，计为其窗口发放 1 份；有评价邀请的窗口，发放数以邀请数为准，"
               "为该窗口登记的发放批次不再累加，以免重复计数。")


def issued_by_channel(db, survey_id: int) -> tuple[tuple[str | None, int], ...]:
    """Issued counts per channel (None: batches for the whole survey), channels in order:
    recorded batches and invitations, each transaction counted once."""
    return tuple((r[0], r[1]) for r in db.execute(_ISSUED_BY_CHANNEL, {"s": survey_id}))


def returned_by_channel(db, survey_id: int, flt: TallyFilter = TallyFilter()
                        ) -> tuple[tuple[str, int, int], ...]:
    """(channel, returned, valid) per channel under the filter."""
    where, params = flt.where()
    return tuple(tuple(r) for r in db.execute(
        f"SELECT channel, sum(returned), sum(valid) FROM response_tallies WHERE survey_id = ?"
        f"{where} GROUP BY channel ORDER BY channel", [survey_id, *params]))  # nosec B608 - ? values


def _with_channels(db, tally: SurveyTally, survey_id: int, flt: TallyFilter) -> SurveyTally:
    return replace(tally, issued_channels=issued_by_channel(db, survey_id),
                   channel_counts=returned_by_channel(db, survey_id, flt))


def survey_tally(db, survey: dict, questions: list[dict], flt: TallyFilter = TallyFilter()
                 ) -> SurveyTally:
    where, params = flt.where()
    sid = survey["id"]
    per_day = tuple(tuple(r) for r in db.execute(
        f"SELECT day, sum(returned), sum(valid) FROM response_tallies WHERE survey_id = ?{where} "
        "GROUP BY day ORDER BY day", [sid, *params]))  # nosec B608 - fixed SQL text; values are ? parameters
    counts = {(q, o): c for q, o, c in db.execute(
        f"SELECT question_id, option_id, sum(count) FROM answer_tallies WHERE survey_id = ?{where}"
        " GROUP BY question_id, option_id", [sid, *params])}  # nosec B608 - fixed SQL text; values are ? parameters
    return _with_channels(db, _tally(survey, questions, per_day, counts,
                                     issued=issued_count(db, sid), views=_form_views(db, sid, flt),
                                     population=SurveySettings.of(survey).population), sid, flt)


def _form_views(db, survey_id: int, flt: TallyFilter) -> int:
    # Form views are counted per channel only (a view has no source yet).
    view_where, view_params = replace(flt, source=None).where()
    return db.execute(
        f"SELECT coalesce(sum(views), 0) FROM form_views WHERE survey_id = ?{view_where}",  # nosec B608 - ? values
        [survey_id, *view_params]).fetchone()[0]


def _tally(survey: dict, questions: list[dict], per_day, counts: dict, *, issued=None,
           views: int = 0, population=None) -> SurveyTally:
    settings = SurveySettings.of(survey)
    return SurveyTally(
        survey_id=survey["id"], title=survey["title"],
        returned=sum(d[1] for d in per_day), valid=sum(d[2] for d in per_day),
        questions=tuple(_question_tally(q, counts, questions) for q in questions),
        issued=issued, form_views=views, per_day=tuple(per_day), population=population,
        headline=settings.headline,
        headline_question_id=settings.headline_question_id,
        satisfied_levels=settings.satisfied_levels,
        value_preset=settings.value_preset,
    )


def _question_tally(q: dict, counts: dict, questions: list[dict]) -> QuestionTally:
    conditional = bool(q.get("show_if"))
    return QuestionTally(
        question_id=q["id"], position=q["position"], text=q["text"], kind=q["kind"],
        required=bool(q["required"]), answered=counts.get((q["id"], 0), 0),
        applicable=counts.get((q["id"], APPLICABLE), 0) if conditional else None,
        condition=hint(q, questions) if conditional else "",
        options=tuple(
            OptionTally(option_id=o["id"], label=o["label"], value=o["value"],
                        satisfied=bool(o["satisfied"]), count=counts.get((q["id"], o["id"]), 0))
            for o in q["options"]),
    )


def channels(db, survey_id: int) -> list[str]:
    return [r[0] for r in db.execute(
        "SELECT DISTINCT channel FROM response_tallies WHERE survey_id = ? ORDER BY channel",
        [survey_id])]


def recount(db, survey_id: int) -> None:
    """Rebuild a survey's tallies from its responses with a plain GROUP BY."""
    with write_transaction(db):
        for table in ("response_tallies", "answer_tallies"):
            db.execute(f"DELETE FROM {table} WHERE survey_id = ?", [survey_id])  # nosec B608 - fixed tuple
        db.execute(
            "INSERT INTO response_tallies (survey_id, day, source, channel, returned, valid) "
            "SELECT r.survey_id, r.day, r.source, r.channel, count(*), sum(s.valid) "
            "FROM responses r JOIN screening s ON s.response_id = r.id WHERE r.survey_id = ? "
            "GROUP BY r.day, r.source, r.channel", [survey_id])
        # option_id 0: valid responses that answered the question at all.
        for option_expr, counted, extra, group in (
                ("0", "DISTINCT a.response_id", "", ""),
                ("a.option_id", "*", " AND a.option_id IS NOT NULL", ", a.option_id")):
            db.execute(
                "INSERT INTO answer_tallies (survey_id, day, source, channel, question_id,"
                " option_id, count) "  # nosec B608 - fixed SQL text; values are ? parameters
                f"SELECT r.survey_id, r.day, r.source, r.channel, a.question_id, {option_expr},"
                f" count({counted}) FROM answers a JOIN responses r ON r.id = a.response_id "
                "JOIN screening s ON s.response_id = r.id "
                f"WHERE r.survey_id = ? AND s.valid = 1{extra} "
                f"GROUP BY r.day, r.source, r.channel, a.question_id{group}", [survey_id])
        _recount_applicable(db, survey_id)


def _recount_applicable(db, survey_id: int) -> None:
    """A conditional question's base: valid responses whose gate answer is one of its options."""
    db.execute(
        "INSERT INTO answer_tallies (survey_id, day, source, channel, question_id, option_id,"
        " count) "
        "SELECT r.survey_id, r.day, r.source, r.channel, q.id, ?, count(DISTINCT r.id) "
        "FROM questions q JOIN answers a ON a.question_id = q.show_if_question_id "
        "AND a.option_id IN (SELECT value FROM json_each(q.show_if_option_ids)) "
        "JOIN responses r ON r.id = a.response_id JOIN screening s ON s.response_id = r.id "
        "WHERE q.survey_id = ? AND s.valid = 1 GROUP BY r.day, r.source, r.channel, q.id",
        [APPLICABLE, survey_id])


def window_tallies(db, survey: dict, questions: list[dict], names: list[str]
                   ) -> dict[str, SurveyTally]:
    """One tally per window: the answers tagged with its name (tablet, invitations, the
    window's QR tag) against its 发放 (see issued_by_channel)."""
    groups = grouped_tallies(db, survey, questions, by="channel")
    issued = {c: n for c, n in issued_by_channel(db, survey["id"]) if c is not None}
    return {name: replace(groups.get(name) or _tally(survey, questions, (), {}),
                          issued=issued.get(name)) for name in names}


# A conditional question's base per staff code (see _recount_applicable).
_STAFF_APPLICABLE = (
    "SELECT t.staff_code, q.id, count(DISTINCT t.response_id) FROM response_transactions t "
    "JOIN screening s ON s.response_id = t.response_id "
    "JOIN questions q ON q.survey_id = t.survey_id AND q.show_if_question_id IS NOT NULL "
    "JOIN answers a ON a.response_id = t.response_id AND a.question_id = q.show_if_question_id "
    "AND a.option_id IN (SELECT value FROM json_each(q.show_if_option_ids)) "
    "WHERE t.survey_id = ? AND t.staff_code != '' AND s.valid = 1 GROUP BY t.staff_code, q.id")


def staff_tallies(db, survey: dict, questions: list[dict]) -> dict[str, SurveyTally]:
    """One tally per staff code of the survey's transaction answers (一事一评), each with the
    invitations that code was given as its 发放. Counted from the responses in SQL: the running
    tallies know channels, not staff."""
    sid = survey["id"]
    days: dict[str, list] = {}
    for code, day, returned, valid in db.execute(
            "SELECT t.staff_code, r.day, count(*), sum(s.valid) FROM response_transactions t "
            "JOIN responses r ON r.id = t.response_id JOIN screening s ON s.response_id = r.id "
            "WHERE t.survey_id = ? AND t.staff_code != '' GROUP BY t.staff_code, r.day "
            "ORDER BY r.day", [sid]):
        days.setdefault(code, []).append((day, returned, valid))
    counts: dict[str, dict] = {}
    for option_expr, counted, extra, group in (
            ("0", "DISTINCT a.response_id", "", ""),
            ("a.option_id", "*", " AND a.option_id IS NOT NULL", ", a.option_id")):
        for code, q, o, c in db.execute(
                f"SELECT t.staff_code, a.question_id, {option_expr}, count({counted}) "  # nosec B608 - literals
                "FROM response_transactions t JOIN answers a ON a.response_id = t.response_id "
                "JOIN screening s ON s.response_id = t.response_id "
                f"WHERE t.survey_id = ? AND t.staff_code != '' AND s.valid = 1{extra} "
                f"GROUP BY t.staff_code, a.question_id{group}", [sid]):
            counts.setdefault(code, {})[(q, o)] = c
    for code, q, c in db.execute(_STAFF_APPLICABLE, [sid]):
        counts.setdefault(code, {})[(q, APPLICABLE)] = c
    issued = dict(db.execute("SELECT staff_code, count(*) FROM invitations WHERE survey_id = ? "
                             "AND staff_code != '' GROUP BY staff_code", [sid]).fetchall())
    return {code: _tally(survey, questions, days.get(code, ()), counts.get(code, {}),
                         issued=issued.get(code))
            for code in sorted(set(days) | set(issued))}


def survey_figures(db, survey: dict, flt: TallyFilter = TallyFilter()) -> dict:
    """All figures of a survey (see core.figures), computed from the tallies."""
    from ..core.figures import compute_figures
    from .surveys import questionnaire
    return compute_figures(survey_tally(db, survey, questionnaire(db, survey["id"]), flt))


GROUP_COLUMNS = ("channel", "source")


def grouped_tallies(db, survey: dict, questions: list[dict], flt: TallyFilter = TallyFilter(),
                    by: str = "channel") -> dict[str, SurveyTally]:
    """One tally per channel (or source) under the filter, from two grouped queries.

    Unlike a TallyFilter, the grouping keeps the untagged channel '' apart. Issued counts and
    the population belong to the whole survey, so the groups carry neither."""
    if by not in GROUP_COLUMNS:
        raise ValueError(f"cannot group tallies by {by!r}")
    where, params = flt.where()
    sid = survey["id"]
    days: dict[str, list] = {}
    for key, day, returned, valid in db.execute(
            f"SELECT {by}, day, sum(returned), sum(valid) FROM response_tallies "  # nosec B608 - by checked
            f"WHERE survey_id = ?{where} GROUP BY {by}, day ORDER BY day", [sid, *params]):
        days.setdefault(key, []).append((day, returned, valid))
    counts: dict[str, dict] = {}
    for key, q, o, c in db.execute(
            f"SELECT {by}, question_id, option_id, sum(count) FROM answer_tallies "  # nosec B608 - by checked
            f"WHERE survey_id = ?{where} GROUP BY {by}, question_id, option_id", [sid, *params]):
        counts.setdefault(key, {})[(q, o)] = c
    return {key: _tally(survey, questions, per_day, counts.get(key, {}))
            for key, per_day in days.items()}


def survey_and_groups(db, survey: dict, questions: list[dict], flt: TallyFilter = TallyFilter(),
                      by: str = "channel") -> tuple[SurveyTally, dict[str, SurveyTally]]:
    """The survey's tally and its tally per channel (or source) from one pair of grouped
    queries: the whole is the sum of its groups, so the dashboard reads the tallies once."""
    groups = grouped_tallies(db, survey, questions, flt, by)
    per_day: dict[str, list] = {}
    counts: dict[tuple, int] = {}
    for tally in groups.values():
        for day, returned, valid in tally.per_day:
            totals = per_day.setdefault(day, [0, 0])
            totals[0] += returned
            totals[1] += valid
        for q in tally.questions:
            counts[(q.question_id, 0)] = counts.get((q.question_id, 0), 0) + q.answered
            if q.applicable is not None:
                key = (q.question_id, APPLICABLE)
                counts[key] = counts.get(key, 0) + q.applicable
            for o in q.options:
                counts[(q.question_id, o.option_id)] = (
                    counts.get((q.question_id, o.option_id), 0) + o.count)
    days = [(day, *per_day[day]) for day in sorted(per_day)]
    whole = _tally(survey, questions, days, counts, issued=issued_count(db, survey["id"]),
                   views=_form_views(db, survey["id"], flt),
                   population=SurveySettings.of(survey).population)
    return _with_channels(db, whole, survey["id"], flt), groups
