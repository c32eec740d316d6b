"""SIGKILL in the middle of a load: every acknowledged answer survives, the file is sound."""
import random
import signal

import pytest

from bench import _common

from ..checks import incomplete_responses

pytestmark = pytest.mark.slow


def test_sigkill_under_load_loses_no_acknowledged_response(serve, open_survey, database,
                                                           instance):
    server = serve(workers=8, SUBMIT_RATE_LIMIT=1_000_000)
    load = _common.Load(server.url, open_survey["token"], clients=12).start()
    load.wait_for(60)
    server.stop(signal.SIGKILL)
    load.finish()
    acknowledged = load.acknowledged_nonces()
    assert len(acknowledged) >= 60
    assert server.proc.returncode == -signal.SIGKILL

    restarted = serve(workers=8, SUBMIT_RATE_LIMIT=1_000_000)  # opening the database recovers its WAL
    assert _common.integrity(_common.database_path(instance)) == "ok"
    db = database()
    stored = {r[0] for r in db.execute("SELECT nonce FROM responses WHERE survey_id = ?",
                                       [open_survey["id"]])}
    assert acknowledged <= stored
    assert len(stored) - len(acknowledged) <= load.clients  # at most the ones in flight
    assert incomplete_responses(db, open_survey["id"]) == []
    status, _ = _common.submit_once(restarted.url, open_survey["token"], random.Random(2))
    assert status == 303
