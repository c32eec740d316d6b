"""The tallies kept at write time equal a straightforward recomputation from the raw rows."""
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey import store
from survey.core.questionnaire import load_survey_template
from survey.store import accounts
from survey.store import surveys as survey_store
from survey.store.responses import Submission, record_response, set_validity
from survey.store.tallies import TallyFilter, recount, survey_tally

response_plan = st.fixed_dictionaries({
    "levels": st.lists(st.one_of(st.none(), st.integers(0, 4)), min_size=8, max_size=8),
    "business": st.one_of(st.none(), st.integers(0, 4)),
    "duration": st.one_of(st.none(), st.floats(0, 300)),
    "channel": st.sampled_from(["", "窗口 1", "大厅海报"]),
    "device": st.sampled_from([None, "d1", "d2", "d3"]),
    "invalidate": st.booleans(),
})


def _expected(db, survey_id, channel=None):
    """Plain Python over the raw rows: what the tallies must say."""
    rows = db.execute(
        "SELECT r.id, r.channel, s.valid FROM responses r JOIN screening s ON s.response_id = r.id"
        " WHERE r.survey_id = ?", [survey_id]).fetchall()
    rows = [r for r in rows if channel is None or r[1] == channel]
    valid_ids = {r[0] for r in rows if r[2]}
    counts, answered = Counter(), Counter()
    for response_id, question_id, option_id in db.execute(
            "SELECT response_id, question_id, option_id FROM answers").fetchall():
        if response_id in valid_ids:
            counts[(question_id, option_id)] += 1
            answered[(question_id, response_id)] = 1
    per_question = Counter(q for q, _ in answered)
    return len(rows), len(valid_ids), counts, per_question


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans=st.lists(response_plan, max_size=12))
def test_tallies_equal_recomputation_from_raw_rows(tmp_path_factory, plans):
    db = store.initialise(tmp_path_factory.mktemp("t") / "t.db")
    dept = accounts.ensure_department(db, "部门")
    survey_id = survey_store.create_survey(db, dept, load_survey_template("satisfaction-5"),
                                           status="open")
    survey = survey_store.get_survey(db, survey_id)
    questions = survey_store.questionnaire(db, survey_id)
    scale = [q for q in questions if q["kind"] == "scale"]
    business = next(q for q in questions if q["kind"] == "single")
    for i, plan in enumerate(plans):
        answers = {q["id"]: [q["options"][lvl]["id"]]
                   for q, lvl in zip(scale, plan["levels"], strict=True) if lvl is not None}
        if plan["business"] is not None:
            answers[business["id"]] = [business["options"][plan["business"]]["id"]]
        response_id, _ = record_response(db, survey, questions, Submission(
            answers=answers, nonce=f"n{i}", channel=plan["channel"],
            duration_seconds=plan["duration"], device_hash=plan["device"]))
        if plan["invalidate"]:
            set_validity(db, response_id, False, "人工判定无效", None)

    for channel in (None, "窗口 1"):
        tally = survey_tally(db, survey, questions, TallyFilter(channel=channel))
        returned, valid, counts, answered = _expected(db, survey_id, channel)
        assert (tally.returned, tally.valid) == (returned, valid)
        if channel is None:
            for q in tally.questions:
                assert q.answered == answered[q.question_id]
                for o in q.options:
                    assert o.count == counts[(q.question_id, o.option_id)]
    before = survey_tally(db, survey, questions)
    recount(db, survey_id)
    assert survey_tally(db, survey, questions) == before
    db.conn.close()
