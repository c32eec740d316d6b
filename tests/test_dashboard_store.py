"""The dashboard's storage helpers: data version, grouped tallies, the file cache, the
overview's comparison, and the filter's date parsing."""
import datetime as dt
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from survey.core.figures import compute_figures
from survey.core.overview import change_in_points, intervals_overlap, series_groups
from survey.io import file_cache
from survey.io.file_cache import FileCache
from survey.store import dashboard as board
from survey.store.responses import Submission, record_form_view, record_response, set_validity
from survey.store.surveys import questionnaire
from survey.store.tallies import TallyFilter, grouped_tallies, survey_figures, survey_tally
from survey.web.forms.dashboard import parse_day

from .conftest import with_reasons


def _answer(db, survey, level, channel="", source="qr", text=None, duration=60.0) -> int:
    answers = {q["id"]: [q["options"][level]["id"]] for q in survey["questions"]
               if q["kind"] in ("scale", "single")}
    answers.update({q["id"]: text for q in survey["questions"] if q["kind"] == "text" and text})
    rid, _ = record_response(db, survey, survey["questions"], Submission(
        answers=with_reasons(survey["questions"], answers), nonce=secrets.token_hex(8), channel=channel, source=source,
        duration_seconds=duration))
    return rid


@pytest.fixture
def survey(make_survey):
    return make_survey()


# --- data version ---------------------------------------------------------------------------

def test_data_version_moves_with_responses_decisions_and_settings(db, survey):
    first = board.data_version(db, survey)
    assert board.data_version(db, survey) == first
    rid = _answer(db, survey, 0)
    second = board.data_version(db, survey)
    assert second.key() != first.key()
    set_validity(db, rid, False, "核实", None)
    third = board.data_version(db, survey)
    assert third.key() != second.key()
    changed = {**survey, "settings": {**survey["settings"], "satisfied_levels": 3}}
    assert board.data_version(db, changed).key() != third.key()


def test_form_views_change_figures_key_but_not_charts_key(db, survey):
    before = board.data_version(db, survey)
    record_form_view(db, survey["id"], "窗口 1")
    after = board.data_version(db, survey)
    assert after.key("x") != before.key("x")
    assert after.key("x", with_views=False) == before.key("x", with_views=False)


def test_form_views_opened_at_once_are_each_counted(app, survey):
    """Views arriving while one is being written ride with it (one statement for them all):
    none is dropped or counted twice, whichever thread writes them."""
    import threading

    from survey import store
    path, threads_count, per_thread = app.config["DATABASE"], 8, 40
    start = threading.Barrier(threads_count)

    def open_forms(channel):
        db = store.connect(path)
        start.wait()
        for _ in range(per_thread):
            record_form_view(db, survey["id"], channel)
        db.conn.close()

    threads = [threading.Thread(target=open_forms, args=(f"窗口 {n % 2}",))
               for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db = store.connect(path)
    rows = dict(db.execute("SELECT channel, sum(views) FROM form_views WHERE survey_id = ? "
                           "GROUP BY channel", [survey["id"]]).fetchall())
    assert rows == {"窗口 0": threads_count * per_thread // 2, "窗口 1": threads_count * per_thread // 2}


def test_views_whose_job_never_ran_are_written_by_the_next_job(db, survey, monkeypatch):
    """A batch that fails before its jobs run (a busy or full disk) must not leave the views
    counted in memory with no job to write them."""
    from survey.store import responses
    real = responses.batched_write
    monkeypatch.setattr(responses, "batched_write", lambda *args, **kwargs: None)  # lost job
    record_form_view(db, survey["id"], "")
    record_form_view(db, survey["id"], "")
    monkeypatch.setattr(responses, "batched_write", real)
    record_form_view(db, survey["id"], "")  # the lost job still counts as queued: kept in memory
    assert db.execute("SELECT count(*) FROM form_views").fetchone()[0] == 0
    monkeypatch.setattr(responses, "VIEW_JOB_SECONDS", 0.0)
    record_form_view(db, survey["id"], "")
    assert db.execute("SELECT sum(views) FROM form_views WHERE survey_id = ?",
                      [survey["id"]]).fetchone()[0] == 4

def test_editing_a_question_changes_the_version(db, survey):
    before = board.data_version(db, survey).key()
    db.execute("UPDATE questions SET text = '改过的题目' WHERE id = ?",
               [survey["questions"][0]["id"]])
    assert board.data_version(db, survey).key() != before


# --- grouped tallies ------------------------------------------------------------------------

@pytest.mark.parametrize("by, flt", [("channel", TallyFilter()), ("source", TallyFilter()),
                                     ("channel", TallyFilter(source="web"))])
def test_grouped_tallies_add_up_to_the_survey_tally(db, survey, by, flt):
    for level, channel, source in [(0, "窗口 1", "qr"), (1, "窗口 1", "web"), (3, "", "qr"),
                                   (4, "大厅海报", "web"), (0, "", "paper")]:
        _answer(db, survey, level, channel, source)
    questions = questionnaire(db, survey["id"])
    groups = grouped_tallies(db, survey, questions, flt, by=by)
    whole = survey_tally(db, survey, questions, flt)
    assert sum(t.returned for t in groups.values()) == whole.returned
    assert sum(t.valid for t in groups.values()) == whole.valid
    for index, q in enumerate(whole.questions):
        for o_index, option in enumerate(q.options):
            assert sum(t.questions[index].options[o_index].count
                       for t in groups.values()) == option.count


def test_untagged_channel_is_its_own_group(db, survey):
    _answer(db, survey, 0, channel="")
    _answer(db, survey, 4, channel="窗口 1")
    rows = board.channel_rates(db, survey)
    assert [(r["label"], r["rate"]) for r in rows] == [("窗口 1", 0.0), ("未标注渠道", 1.0)]
    tagged = survey_figures(db, survey, TallyFilter(channel="窗口 1"))
    assert rows[0]["ci"] == tagged["satisfaction_rate_ci95"]


def test_grouping_by_an_unknown_column_is_refused(db, survey):
    with pytest.raises(ValueError):
        grouped_tallies(db, survey, [], by="ip_hash; DROP TABLE responses")


# --- lists ----------------------------------------------------------------------------------

def test_suggestions_search_treats_wildcards_literally(db, survey):
    for text in ["满意_度高", "满意度高", "100%好"]:
        _answer(db, survey, 0, text=text)
    assert [r["text"] for r in board.suggestions(db, survey["id"], search="_").rows] == [
        "满意_度高"]
    assert board.suggestions(db, survey["id"], search="%").total == 1
    assert board.suggestions(db, survey["id"]).total == 3


def test_suggestions_are_listed_newest_submission_first(db, survey):
    """A paper questionnaire entered today but received last week is listed by its time."""
    questions = survey["questions"]
    text_q = next(q for q in questions if q["kind"] == "text" and not q["show_if"])
    answers = {q["id"]: [q["options"][0]["id"]] for q in questions if q["kind"] in ("scale", "single")}
    now = dt.datetime.now(dt.timezone.utc)
    for text, days_ago in [("昨天的意见", 1), ("今天的意见", 0), ("上周的纸质问卷", 7)]:
        record_response(db, survey, questions, Submission(
            answers={**answers, text_q["id"]: text}, nonce=secrets.token_hex(8),
            received_at=now - dt.timedelta(days=days_ago)))
    assert [r["text"] for r in board.suggestions(db, survey["id"]).rows] == [
        "今天的意见", "昨天的意见", "上周的纸质问卷"]


def test_excluded_and_detail_and_log(db, survey):
    fast = _answer(db, survey, 0, duration=1.0)
    _answer(db, survey, 0)
    excluded = board.excluded_responses(db, survey["id"])
    assert [r["id"] for r in excluded.rows] == [fast]
    assert excluded.rows[0]["reasons_text"] == "答题用时过短"
    set_validity(db, fast, True, "现场核实", None)
    assert board.excluded_responses(db, survey["id"]).total == 0
    detail = board.response_detail(db, survey["id"], fast)
    assert detail["reasons_text"] == "人工判定为有效：现场核实"
    assert detail["answers"][0]["given"] == ["非常满意"]
    log = board.validity_log(db, survey["id"], fast)
    assert [(v["valid"], v["reason"]) for v in log] == [(1, "现场核实")]
    assert board.response_detail(db, survey["id"] + 1, fast) is None


@pytest.mark.parametrize("total, page, expected", [(0, 1, (1, 1)), (45, 3, (3, 3)),
                                                   (45, 9, (3, 3)), (40, -2, (1, 2))])
def test_pages_clamp(db, survey, total, page, expected):
    for i in range(total):
        _answer(db, survey, 0, text=f"建议{i}")
    found = board.suggestions(db, survey["id"], page=page)
    assert (found.page, found.pages) == expected


# --- file cache -----------------------------------------------------------------------------

def test_file_cache_makes_once_per_key_and_drops_stale(tmp_path):
    cache, made = FileCache(tmp_path), []

    def make(value):
        return lambda: made.append(value) or value
    assert cache.fetch("s1-a", "k1" * 20, "svg", make(b"one")).data == b"one"
    assert cache.fetch("s1-a", "k1" * 20, "svg", make(b"again")).data == b"one"
    assert cache.fetch("s1-a", "k2" * 20, "svg", make(b"two")).data == b"two"
    assert made == [b"one", b"two"]
    assert [p.name.split(".")[0] for p in tmp_path.iterdir()] == ["s1-a"]


def test_file_cache_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setattr(file_cache, "MAX_FILES", 3)
    cache = FileCache(tmp_path)
    for i in range(6):
        cache.fetch(f"s{i}-x", f"{i:040d}", "json", lambda: b"{}")
    assert len(list(tmp_path.glob("s*"))) == 3


# --- overview -------------------------------------------------------------------------------

def _row(year, rate, ci, series="群众满意度调查", created="2026-01-01"):
    return {"survey": {"year": year, "series": series, "created_at": created, "title": "t"},
            "label": f"{year} 年", "rate": rate, "ci": ci, "n": 100}


def test_series_groups_order_by_year_and_compare_with_the_year_before():
    rows = [_row(2024, 0.9, [0.85, 0.94]), _row(2022, 0.8, [0.7, 0.87]),
            _row(2023, 0.95, [0.9, 0.98]), _row(2023, 0.5, None, series=""),
            _row(2020, 0.7, None, series="只有一年")]
    [group] = series_groups(rows)
    assert [m["survey"]["year"] for m in group["members"]] == [2022, 2023, 2024]
    assert [m["change"] for m in group["members"]] == [None, "+15.0", "-5.0"]
    assert [m["overlap"] for m in group["members"]] == [None, False, True]


rates = st.floats(min_value=0, max_value=1, allow_nan=False).map(lambda x: round(x, 6))


@given(rates, rates)
def test_change_in_points_has_the_sign_of_the_difference(a, b):
    change = change_in_points(a, b)
    assert change[0] in "+-"
    if abs(a - b) >= 0.0005:
        assert (change[0] == "+") == (a > b)
    assert change_in_points(a, a) == "+0.0"


@given(rates, rates, rates, rates)
def test_interval_overlap_is_symmetric(a, b, c, d):
    first, second = sorted([a, b]), sorted([c, d])
    assert intervals_overlap(first, second) == intervals_overlap(second, first)


# --- filter dates ---------------------------------------------------------------------------

@given(st.dates(min_value=dt.date(1000, 1, 1)))
def test_parse_day_accepts_padded_and_unpadded_dates(day):
    assert parse_day(day.isoformat()) == day.isoformat()
    assert parse_day(f"{day.year}-{day.month}-{day.day}") == day.isoformat()


@given(st.text(max_size=20))
def test_parse_day_gives_an_iso_date_or_a_chinese_error(text):
    try:
        parsed = parse_day(text)
    except ValueError as error:
        assert "日期格式" in str(error)
    else:
        assert dt.date.fromisoformat(parsed).isoformat() == parsed


def test_channel_rates_use_the_headline_basis(db, survey):
    for level in (0, 0, 3):
        _answer(db, survey, level, channel="窗口 1")
    questions = questionnaire(db, survey["id"])
    tally = grouped_tallies(db, survey, questions)["窗口 1"]
    assert board.channel_rates(db, survey)[0]["rate"] == compute_figures(tally)[
        "satisfaction_rate"] == survey_figures(db, survey)["satisfaction_rate"]


@pytest.mark.parametrize("flt", [TallyFilter(), TallyFilter(channel="窗口 1"),
                                 TallyFilter(source="web"), TallyFilter(day_from="2999-01-01")])
def test_dashboard_figures_equal_survey_figures(db, survey, flt):
    for level, channel, source in [(0, "窗口 1", "qr"), (2, "", "web"), (4, "窗口 2", "qr"),
                                   (1, "窗口 1", "web")]:
        _answer(db, survey, level, channel, source)
    _answer(db, survey, 0, "窗口 1", duration=1.0)
    record_form_view(db, survey["id"], "窗口 1")
    db.table("issued_batches").insert({"survey_id": survey["id"], "count": 50,
                                       "recorded_at": "2026-01-01T00:00:00+00:00"})
    assert board.dashboard_figures(db, survey, flt)["figures"] == survey_figures(db, survey, flt)
