"""Storage: schema, pragmas, migrations (an old database is upgraded, never recreated)."""
import json

import pytest

from survey import store
from survey.core.questionnaire import load_survey_template
from survey.store import accounts, schema
from survey.store import surveys as survey_store
from survey.store.responses import DuplicateSubmissionError, Submission, record_response, set_validity
from survey.store.tallies import TallyFilter, recount, survey_figures, survey_tally


@pytest.fixture
def fresh(tmp_path):
    return store.initialise(tmp_path / "s.db")


def _survey(db, template="satisfaction-5"):
    dept = accounts.ensure_department(db, "部门")
    survey_id = survey_store.create_survey(db, dept, load_survey_template(template),
                                           status="open")
    return survey_store.get_survey(db, survey_id), survey_store.questionnaire(db, survey_id)


def test_pragmas_wal_foreign_keys_busy_timeout(fresh):
    assert fresh.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert fresh.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert fresh.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS


def test_initialise_is_idempotent_and_records_every_migration(tmp_path):
    path = tmp_path / "s.db"
    store.initialise(path).conn.close()
    db = store.initialise(path)
    names = store.schema_version(db)
    assert names == [m.name for m in schema.migrations._migrations]
    assert len(names) == len(set(names))


def test_old_database_is_upgraded_and_keeps_its_data(tmp_path):
    path = tmp_path / "old.db"
    old = store.connect(path)
    schema.migrations.apply(old, stop_before="m002_survey_settings_defaults")
    dept = accounts.ensure_department(old, "旧部门")
    old.execute(
        "INSERT INTO surveys (department_id, title, token, settings, created_at, updated_at) "
        "VALUES (?, '旧问卷', 'tok', '{\"population\": 500}', 'x', 'x')", [dept])
    old.conn.close()

    db = store.initialise(path)
    row = db.execute("SELECT title, settings FROM surveys WHERE token = 'tok'").fetchone()
    assert row[0] == "旧问卷"
    settings = json.loads(row[1])
    assert settings["population"] == 500
    assert settings["satisfied_levels"] == 2 and settings["value_preset"] == "linear"
    assert "m002_survey_settings_defaults" in store.schema_version(db)


def test_response_and_answers_are_stored_together_with_tallies(fresh):
    survey, questions = _survey(fresh)
    answers = {q["id"]: [q["options"][0]["id"]] for q in questions if q["kind"] == "scale"}
    response_id, verdict = record_response(fresh, survey, questions, Submission(
        answers=answers, nonce="n1", duration_seconds=60))
    assert verdict.valid
    assert fresh.execute("SELECT count(*) FROM answers WHERE response_id = ?",
                         [response_id]).fetchone()[0] == len(answers)
    tally = survey_tally(fresh, survey, questions)
    assert (tally.returned, tally.valid) == (1, 1)


def test_same_nonce_twice_is_one_response(fresh):
    survey, questions = _survey(fresh)
    sub = Submission(answers={}, nonce="same", duration_seconds=60)
    record_response(fresh, survey, questions, sub)
    with pytest.raises(DuplicateSubmissionError):
        record_response(fresh, survey, questions, sub)
    assert fresh.execute("SELECT count(*) FROM responses").fetchone()[0] == 1


def test_failure_inside_the_transaction_stores_nothing(fresh):
    survey, questions = _survey(fresh)
    answers = {q["id"]: [q["options"][0]["id"]] for q in questions if q["kind"] == "scale"}

    def boom(db, response_id, verdict):
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        record_response(fresh, survey, questions, Submission(answers=answers, nonce="x"),
                        after_insert=boom)
    for table in ("responses", "answers", "screening", "response_tallies", "answer_tallies"):
        assert fresh.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_manual_invalidation_moves_tallies_and_is_logged(fresh):
    survey, questions = _survey(fresh)
    answers = {q["id"]: [q["options"][0]["id"]] for q in questions if q["kind"] == "scale"}
    response_id, _ = record_response(fresh, survey, questions,
                                     Submission(answers=answers, nonce="a", duration_seconds=60))
    set_validity(fresh, response_id, False, "同一人重复填写", user_id=None)
    tally = survey_tally(fresh, survey, questions)
    assert (tally.returned, tally.valid) == (1, 0)
    assert all(q.answered == 0 for q in tally.questions)
    assert fresh.execute("SELECT reason FROM validity_decisions").fetchone()[0] == "同一人重复填写"
    with pytest.raises(store.StoreError):
        set_validity(fresh, response_id, True, "  ", user_id=None)


def test_recount_reproduces_the_tallies(fresh):
    survey, questions = _survey(fresh)
    for i in range(5):
        answers = {q["id"]: [q["options"][i % 5]["id"]] for q in questions if q["kind"] == "scale"}
        record_response(fresh, survey, questions, Submission(
            answers=answers, nonce=f"n{i}", duration_seconds=3 if i == 0 else 60,
            channel="窗口 1" if i % 2 else ""))
    before = survey_tally(fresh, survey, questions)
    recount(fresh, survey["id"])
    assert survey_tally(fresh, survey, questions) == before
    assert survey_tally(fresh, survey, questions, TallyFilter(channel="窗口 1")).returned == 2


def test_survey_tokens_are_long_and_never_look_like_options():
    tokens = {survey_store.new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert all(len(t) >= 22 and t[0].isalnum() for t in tokens)


def test_database_before_issued_channels_is_upgraded_and_keeps_its_batches(tmp_path):
    path = tmp_path / "old.db"
    old = store.connect(path)
    schema.migrations.apply(old, stop_before="m170_issued_batch_channel")
    survey, _ = _survey(old, "blank")  # a questionnaire that schema could hold
    old.execute("INSERT INTO issued_batches (survey_id, count, note, recorded_at) "
                "VALUES (?, 100, '第一批', 'x')", [survey["id"]])
    old.conn.close()

    db = store.initialise(path)
    rows = [tuple(r) for r in db.execute("SELECT count, note, channel FROM issued_batches")]
    assert rows == [(100, "第一批", None)]  # a batch for the whole survey, as it always was
    assert "m170_issued_batch_channel" in store.schema_version(db)
    figures = survey_figures(db, survey_store.get_survey(db, survey["id"]))
    assert figures["issued"] == 100 and figures["channels"]["whole_survey_issued"] == 100


def _dissatisfied(db, survey, questions, nonce):
    """A response answering 不满意 everywhere: it opens a follow-up case."""
    answers = {q["id"]: [q["options"][3]["id"]] for q in questions if q["kind"] == "scale"}
    response_id, _ = record_response(db, survey, questions, Submission(
        answers=answers, nonce=nonce, duration_seconds=60.0))
    case_id = db.execute("SELECT id FROM cases WHERE response_id = ?", [response_id]).fetchone()[0]
    return response_id, case_id


def _newest_deleted_then_recreated(db, table, make):
    first = make()
    db.execute(f"DELETE FROM [{table}] WHERE id = ?", [first])
    return first, make()


def test_ids_of_deleted_newest_rows_are_never_given_again(fresh):
    survey, questions = _survey(fresh)
    dept = survey["department_id"]
    template = load_survey_template("satisfaction-5")
    old_survey, new_survey = _newest_deleted_then_recreated(
        fresh, "surveys", lambda: survey_store.create_survey(fresh, dept, template))
    nonces = iter(range(100))
    old_response, new_response = _newest_deleted_then_recreated(
        fresh, "responses", lambda: _dissatisfied(fresh, survey, questions, f"n{next(nonces)}")[0])
    old_case = _dissatisfied(fresh, survey, questions, "c1")[1]
    fresh.execute("DELETE FROM cases WHERE id = ?", [old_case])
    new_case = _dissatisfied(fresh, survey, questions, "c2")[1]
    old_user, new_user = _newest_deleted_then_recreated(
        fresh, "users", lambda: accounts.create_user(fresh, f"u{next(nonces)}", "long-password", dept))
    assert new_survey > old_survey and new_response > old_response
    assert new_case > old_case and new_user > old_user


def test_database_before_autoincrement_is_upgraded_and_keeps_rows_links_and_indexes(tmp_path):
    path = tmp_path / "old.db"
    old = store.connect(path)
    schema.migrations.apply(old, stop_before="m181_ids_never_reused")
    # Today's store code reads sqlite_sequence, which an older release's database lacks.
    old.execute("CREATE TABLE sequence_probe (id INTEGER PRIMARY KEY AUTOINCREMENT)")
    survey, questions = _survey(old, "blank")  # a questionnaire that schema could hold
    _dissatisfied(old, survey, questions, "first")
    response_id, case_id = _dissatisfied(old, survey, questions, "second")
    accounts.create_user(old, "carol", "long-password", survey["department_id"])
    before = {t: old.execute(f"SELECT * FROM [{t}] ORDER BY id").fetchall()
              for t in schema.NEVER_REUSED_IDS}
    rebuilt = f"tbl_name IN ({', '.join('?' * len(schema.NEVER_REUSED_IDS))})"
    schema_of_rebuilt = ("SELECT name, tbl_name, sql FROM sqlite_master "
                         f"WHERE type IN ('index', 'trigger') AND {rebuilt}")
    indexes = sorted(old.execute(schema_of_rebuilt, schema.NEVER_REUSED_IDS).fetchall())
    triggers_sql = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    triggers = sorted(old.execute(triggers_sql).fetchall())
    assert indexes and triggers
    old.conn.close()

    db = store.initialise(path)
    assert "m181_ids_never_reused" in store.schema_version(db)
    assert {t: db.execute(f"SELECT * FROM [{t}] ORDER BY id").fetchall() for t in before} == before
    assert sorted(db.execute(schema_of_rebuilt, schema.NEVER_REUSED_IDS).fetchall()) == indexes
    assert sorted(db.execute(triggers_sql).fetchall()) == triggers  # form revisions (m171) too
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert all("AUTOINCREMENT" in db.execute("SELECT sql FROM sqlite_master WHERE name = ?",
                                             [t]).fetchone()[0] for t in schema.NEVER_REUSED_IDS)
    db.execute("DELETE FROM responses WHERE id = ?", [response_id])  # its case goes with it
    third_response, third_case = _dissatisfied(db, survey, questions, "third")
    assert third_response > response_id and third_case > case_id
    # Deleting the survey still cascades to its questions, responses and cases.
    db.execute("DELETE FROM surveys WHERE id = ?", [survey["id"]])
    assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM cases").fetchone()[0] == 0


def test_the_table_rebuild_refuses_to_run_where_dropping_would_cascade(tmp_path):
    db = store.connect(tmp_path / "s.db")  # foreign keys on, unlike store.initialise
    schema.migrations.apply(db, stop_before="m181_ids_never_reused")
    survey, _ = _survey(db, "blank")  # a questionnaire that schema could hold
    with pytest.raises(RuntimeError, match="foreign keys off"):
        schema.migrations.apply(db)
    assert db.execute("SELECT count(*) FROM questions WHERE survey_id = ?",
                      [survey["id"]]).fetchone()[0] > 0
    assert "m181_ids_never_reused" not in store.schema_version(db)


def _add_department(name: str, fail: bool = False):
    def job(db):
        new_id = db.conn.execute("INSERT INTO departments (name, created_at) VALUES (?, '')",
                                 [name]).lastrowid
        if fail:
            raise ValueError(name)
        return new_id
    return job


def test_concurrent_batched_writes_commit_each_job_once_and_fail_alone(tmp_path):
    import threading
    path = tmp_path / "s.db"
    store.initialise(path).conn.close()
    barrier, results, errors = threading.Barrier(8), {}, []

    def citizen(n):
        db = store.connect(path)
        barrier.wait()  # together, so that their jobs share batches
        for i in range(25):
            name = f"{n}-{i}"
            try:
                results[name] = store.batched_write(db, _add_department(name, fail=i % 5 == 4))
            except ValueError as error:
                errors.append(str(error))
        db.conn.close()

    threads = [threading.Thread(target=citizen, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    db = store.connect(path)
    stored = dict(db.execute("SELECT name, id FROM departments").fetchall())
    assert stored == results and len(results) == 8 * 20
    assert sorted(errors) == sorted(f"{n}-{i}" for n in range(8) for i in range(4, 25, 5))


def test_a_server_connection_checkpoints_once_enough_rows_changed(tmp_path):
    path = tmp_path / "s.db"
    store.initialise(path).conn.close()
    db = store.connect(path)
    store.defer_checkpoints(db)
    reader = store.connect(path)  # keeps the WAL from being checkpointed at a close

    def pages_in_database_file():
        return int.from_bytes(path.read_bytes()[28:32], "big")  # the header's page count

    before = pages_in_database_file()
    half = store.CHECKPOINT_CHANGES // 2
    for i in range(half):
        store.batched_write(db, _add_department(f"部门 {i} " + "名" * 40))
        store.checkpoint_if_due(db)
    assert pages_in_database_file() == before  # in the WAL only
    for i in range(half, 2 * half):
        store.batched_write(db, _add_department(f"部门 {i} " + "名" * 40))
        store.checkpoint_if_due(db)
    assert pages_in_database_file() > before
    assert reader.execute("SELECT count(*) FROM departments").fetchone()[0] == 2 * half
