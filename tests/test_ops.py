"""`survey backup` / `survey restore` and the rate-limit summary (survey.ops)."""
import datetime as dt
import os
import sqlite3
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.store import connect, ops
from survey.store.responses import Submission, record_response
from survey.store.util import iso

from .checks import incomplete_responses
from .conftest import with_reasons


def add_responses(app, survey, count, start=0):
    from survey.web.db import get_db
    with app.app_context():
        db = get_db()
        for i in range(start, start + count):
            answers = {q["id"]: [q["options"][i % len(q["options"])]["id"]]
                       for q in survey["questions"] if q["kind"] in ("scale", "single")}
            record_response(db, survey, survey["questions"], Submission(
                answers=with_reasons(survey["questions"], answers), nonce=f"n{i}",
                duration_seconds=60))


def response_nonces(path) -> set[str]:
    db = connect(path)
    try:
        return {r[0] for r in db.execute("SELECT nonce FROM responses")}
    finally:
        db.conn.close()


def database(app):
    return app.config["DATABASE"]


def test_backup_is_one_checked_self_contained_file(app, runner, make_survey, tmp_path):
    survey = make_survey()
    add_responses(app, survey, 5)
    target = tmp_path / "nested" / "copy.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert "答卷 5 份" in result.output and "完整性检查：ok" in result.output
    assert sorted(p.name for p in target.parent.iterdir()) == ["copy.db"]  # no -wal, no partial
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert response_nonces(target) == {f"n{i}" for i in range(5)}


def test_backup_refuses_to_overwrite_the_database_itself(app, runner):
    result = runner.invoke(args=["backup", database(app)])
    assert result.exit_code != 0 and "不能是数据库本身" in result.output


def test_restore_brings_back_the_backup_and_keeps_the_current_file(app, runner, make_survey,
                                                                   tmp_path):
    survey = make_survey()
    add_responses(app, survey, 3)
    target = tmp_path / "copy.db"
    assert runner.invoke(args=["backup", str(target)]).exit_code == 0
    add_responses(app, survey, 2, start=3)

    refused = runner.invoke(args=["restore", str(target), "--yes"])
    assert refused.exit_code != 0 and "有 2 份答卷不在该备份中" in refused.output
    assert len(response_nonces(database(app))) == 5

    result = runner.invoke(args=["restore", str(target), "--yes", "--force"])
    assert result.exit_code == 0, result.output
    assert response_nonces(database(app)) == {"n0", "n1", "n2"}
    kept = list(tmp_path.joinpath("instance").glob("survey.db.*.bak"))
    assert len(kept) == 1 and len(response_nonces(kept[0])) == 5
    with app.app_context():
        from survey.web.db import get_db
        assert incomplete_responses(get_db(), survey["id"]) == []


def test_restore_asks_for_confirmation(app, runner, tmp_path):
    target = tmp_path / "copy.db"
    runner.invoke(args=["backup", str(target)])
    result = runner.invoke(args=["restore", str(target)], input="n\n")
    assert result.exit_code != 0 and "是否继续" in result.output


def _unknown_migration(path):
    ops.backup(path.parent / "instance" / "survey.db", path)
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                     "VALUES ('survey', 'm999_from_the_future', '2030-01-01')")


def _no_migrations(path):
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE responses (id INTEGER PRIMARY KEY)")


def _corrupt(path):
    ops.backup(path.parent / "instance" / "survey.db", path)
    data = bytearray(path.read_bytes())
    data[4096 * 3: 4096 * 4] = b"\xff" * 4096  # a whole b-tree page overwritten
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("make_bad, message", [
    (lambda p: p.write_text("姓名,电话\n张三,123\n", encoding="utf-8"), "不是 SQLite 数据库文件"),
    (lambda p: None, "文件不存在"),
    (_no_migrations, "不是本系统的数据库"),
    (_unknown_migration, "来自更新的版本"),
    (_corrupt, "无法读取|未通过完整性检查"),
])
def test_restore_refuses_a_file_that_is_not_a_sound_survey_database(
        app, runner, make_survey, tmp_path, make_bad, message):
    survey = make_survey()
    add_responses(app, survey, 2)
    bad = tmp_path / "bad.db"
    make_bad(bad)
    result = runner.invoke(args=["restore", str(bad), "--yes", "--force"])
    assert result.exit_code != 0
    assert any(m in result.output for m in message.split("|")), result.output
    assert len(response_nonces(database(app))) == 2
    assert not list(tmp_path.joinpath("instance").glob("*.bak"))


@settings(max_examples=8, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(before=st.integers(0, 6), after=st.integers(0, 4))
def test_restore_round_trip_gives_back_exactly_the_backup(app, make_survey, tmp_path_factory,
                                                         before, after):
    folder = tmp_path_factory.mktemp("roundtrip")
    survey = make_survey()
    live = database(app)
    existing = response_nonces(live)
    add_responses(app, survey, before, start=len(existing))
    ops.backup(live, folder / "copy.db")
    snapshot = response_nonces(live)
    add_responses(app, survey, after, start=len(snapshot))
    result = ops.restore(live, folder / "copy.db", force=True,
                         now=dt.datetime(2026, 1, 1) + dt.timedelta(seconds=len(snapshot)))
    assert response_nonces(live) == snapshot
    assert result.restored.responses == len(snapshot)
    assert result.restored.integrity == "ok"
    assert len(response_nonces(result.kept_as)) == len(snapshot) + after


def test_blocked_submissions_are_summed_per_china_day(db):
    at = dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.timezone.utc)  # 23:30 in China
    rows = [("submit:7", "a", at, 1), ("submit:7", "a", at + dt.timedelta(hours=1), 1),
            ("submit:7", "b", at + dt.timedelta(hours=1), 1), ("submit:7", "c", at, 0),
            ("submit:8", "a", at, 1)]
    db.table("rate_events").insert_all(
        {"kind": k, "key_hash": h, "at": iso(t), "blocked": b} for k, h, t, b in rows)
    summary = ops.blocked_submissions(db, 7)
    assert (summary["blocked"], summary["addresses"]) == (3, 2)
    assert summary["by_day"] == [{"day": "2026-03-01", "blocked": 1, "addresses": 1},
                                 {"day": "2026-03-02", "blocked": 2, "addresses": 2}]
    assert ops.blocked_submissions(db, 9)["blocked"] == 0


def test_restore_refuses_the_live_database_itself(app, runner):
    result = runner.invoke(args=["restore", database(app), "--yes"])
    assert result.exit_code != 0 and "就是当前数据库" in result.output


def test_restore_into_an_empty_instance_creates_the_database(app, make_survey, tmp_path):
    survey = make_survey()
    add_responses(app, survey, 2)
    ops.backup(database(app), tmp_path / "copy.db")
    fresh = tmp_path / "elsewhere" / "survey.db"
    fresh.parent.mkdir()
    result = ops.restore(fresh, tmp_path / "copy.db")
    assert result.kept_as is None and result.restored.responses == 2
    assert response_nonces(fresh) == {"n0", "n1"}


posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@posix_only
def test_init_leaves_the_instance_private(app, runner, client):
    client.get("/")  # a request connection, so the -wal and -shm files exist
    os.chmod(app.instance_path, 0o755)
    os.chmod(database(app), 0o644)
    result = runner.invoke(args=["init"])
    assert result.exit_code == 0, result.output
    assert _mode(app.instance_path) == 0o700
    assert _mode(database(app)) == 0o600
    for suffix in ("-wal", "-shm"):
        if os.path.exists(database(app) + suffix):
            assert _mode(database(app) + suffix) == 0o600


@posix_only
def test_a_new_instance_starts_private(tmp_path, monkeypatch):
    from survey import create_app
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / "fresh"))
    app = create_app({"TESTING": True})
    assert _mode(app.instance_path) == 0o700
    assert _mode(app.config["DATABASE"]) == 0o600


@posix_only
def test_backup_file_is_private(app, runner, tmp_path):
    target = tmp_path / "private.db"
    result = runner.invoke(args=["backup", str(target)])
    assert result.exit_code == 0, result.output
    assert _mode(target) == 0o600


def test_request_connections_overwrite_deleted_data(app):
    from survey.web.db import get_db
    with app.test_request_context("/"):
        assert get_db().execute("PRAGMA secure_delete").fetchone()[0] == 1


def test_restore_on_a_new_machine_says_to_copy_the_instance_secrets(app, make_survey, tmp_path,
                                                                    monkeypatch):
    import shutil

    from survey import create_app
    from tests.conftest import SurveyCliRunner
    survey = make_survey()
    add_responses(app, survey, 2)
    ops.backup(database(app), tmp_path / "copy.db")

    def new_machine(name):
        monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(tmp_path / name))
        return create_app({"TESTING": True})

    elsewhere = new_machine("new-machine")  # its own, different secrets
    result = SurveyCliRunner(elsewhere).invoke(args=["restore", str(tmp_path / "copy.db"), "--yes",
                                                     "--force"])
    assert result.exit_code == 0, result.output
    assert "config.py" in result.output and "SECRET_KEY、HASH_KEY" in result.output
    shutil.copy(os.path.join(app.instance_path, "config.py"),
                tmp_path / "new-machine" / "config.py")
    copied = new_machine("new-machine")
    result = SurveyCliRunner(copied).invoke(args=["restore", str(tmp_path / "copy.db"), "--yes",
                                                  "--force"])
    assert result.exit_code == 0 and "config.py" not in result.output
    assert response_nonces(copied.config["DATABASE"]) == {"n0", "n1"}
