"""Many citizens at once through the production server: nothing lost, nothing doubled, no
'database is locked' reaching anyone; and an online backup taken under that load."""
import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from bench import _common
from survey.io.evidence import chain_problems
from survey.store import connect

from ..checks import incomplete_responses

pytestmark = pytest.mark.slow
# One loopback address for every client: lift the per-address limit (tested in test_security).
NO_LIMIT = {"SUBMIT_RATE_LIMIT": 1_000_000}


def stored_nonces(db, survey_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT nonce FROM responses WHERE survey_id = ?",
                                     [survey_id])]


def test_concurrent_submissions_are_all_stored_once(serve, open_survey, database, instance):
    server = serve(workers=8, **NO_LIMIT)
    load = _common.Load(server.url, open_survey["token"], clients=16, per_client=12).start()
    load.join(timeout=120)
    server.stop()
    assert dict(load.statuses) == {303: 16 * 12}, load.statuses
    assert load.errors == []
    db = database()
    nonces = stored_nonces(db, open_survey["id"])
    assert len(nonces) == len(set(nonces)) == len(load.acknowledged)
    assert set(nonces) == load.acknowledged_nonces()
    assert incomplete_responses(db, open_survey["id"]) == []
    assert chain_problems(db, open_survey["id"]) == []
    views = db.execute("SELECT sum(views) FROM form_views").fetchone()[0]
    assert views == 16 * 12
    log = server.log_path.read_text(errors="replace")
    assert "database is locked" not in log and "Traceback" not in log


def test_backup_under_load_restores_a_consistent_copy(serve, open_survey, database, instance,
                                                      tmp_path):
    server = serve(workers=8, **NO_LIMIT)
    load = _common.Load(server.url, open_survey["token"], clients=8).start()
    load.wait_for(40)
    before = load.acknowledged_nonces()
    target = tmp_path / "backups" / "survey-backup.db"
    done = _common.run_survey(instance, "backup", str(target))
    load.wait_for(len(before) + 20)
    load.finish()
    server.stop()
    assert "完整性检查：ok" in done.stdout
    assert _common.integrity(target) == "ok"
    backup_db = connect(target)
    try:
        in_backup = set(stored_nonces(backup_db, open_survey["id"]))
        assert before <= in_backup  # every answer acknowledged before the backup began
        assert incomplete_responses(backup_db, open_survey["id"]) == []  # not a torn copy
    finally:
        backup_db.conn.close()
    live_count = len(stored_nonces(database(), open_survey["id"]))
    assert live_count > len(in_backup)

    refused = _common.run_survey(instance, "restore", str(target), "--yes", check=False)
    assert refused.returncode != 0 and "不在该备份中" in refused.stderr
    restored = _common.run_survey(instance, "restore", str(target), "--yes", "--force")
    assert "完整性检查：ok" in restored.stdout
    db = database()
    assert set(stored_nonces(db, open_survey["id"])) == in_backup
    kept = next(instance.glob("survey.db.*.bak"))
    kept_db = connect(kept)
    try:
        assert len(stored_nonces(kept_db, open_survey["id"])) == live_count
    finally:
        kept_db.conn.close()
    server = serve(workers=2, **NO_LIMIT)
    assert _common.submit_once(server.url, open_survey["token"], random.Random(1))[0] == 303


@pytest.mark.skipif(not Path("/usr/bin/wrk").exists(), reason="wrk is not installed")
def test_submit_benchmark_prints_its_figures_as_a_last_json_line():
    bench = Path(__file__).resolve().parents[2] / "bench" / "run.py"
    done = subprocess.run([sys.executable, str(bench), "submit", "--seconds", "2"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["acknowledged"] > 0 and figures["stored"] >= figures["acknowledged"]
    assert figures["lost"] == figures["server_errors"] == 0
    assert figures["ratio"] == pytest.approx(figures["rps"] / figures["bare_rps"], rel=0.01)
    assert {"p50_ms", "p99_ms", "bare_rps"} <= set(figures)
