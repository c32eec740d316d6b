"""No raw IP address or device identifier is stored anywhere: database, instance folder, server
logs. What is stored is a keyed hash (HMAC under the instance's own key)."""
import hashlib
import random
import re

import pytest

from bench import _common
from survey import create_app
from survey.web.db import get_db
from survey.web.security import keyed_hash

from .conftest import Auth, full_answers

ADDRESS = "203.0.113.77"
DEVICE = "device-cookie-Zq81xT"


def _traces(folder, needles) -> list[str]:
    """Files under `folder` whose bytes contain any needle (as UTF-8 or UTF-16)."""
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n}" for n in needles
                      if n.encode() in data or n.encode("utf-16-le") in data]
    return found


def _database_dump(db) -> str:
    return "\n".join(db.conn.iterdump())


def _visit(app, survey):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = ADDRESS
    client.set_cookie("sv_device", DEVICE)
    html = client.get(f"/s/{survey['token']}?via=qr&ch=窗口1").get_data(as_text=True)
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', html).group(1)
    data = {**full_answers(survey, 3, text="希望多开窗口"), "ticket": ticket}
    assert client.post(f"/s/{survey['token']}", data=data).status_code == 303
    Auth(client).login("alice", "not-the-password")  # a failed login is recorded too


def test_no_raw_address_or_device_id_in_database_or_instance_folder(app, make_survey, tmp_path):
    survey = make_survey()
    _visit(app, survey)
    with app.app_context():
        db = get_db()
        dump = _database_dump(db)
        row = db.execute("SELECT ip_hash, device_hash FROM responses").fetchone()
        events = db.execute("SELECT count(*) FROM rate_events").fetchone()[0]
    assert ADDRESS not in dump and DEVICE not in dump
    assert _traces(tmp_path / "instance", [ADDRESS, DEVICE]) == []
    assert events >= 1
    with app.test_request_context():
        assert row == (keyed_hash(ADDRESS, "ip"), keyed_hash(DEVICE, "device"))
    unkeyed = {hashlib.sha256(v.encode()).hexdigest() for v in (ADDRESS, DEVICE)}
    assert not unkeyed & set(row)


@pytest.mark.slow
def test_no_client_address_in_database_files_or_server_logs(tmp_path, monkeypatch):
    """Through the production server, from a client on its own loopback address."""
    instance = tmp_path / "instance"
    survey = _common.prepare_instance(instance)
    server = _common.Server(instance, workers=4, log_path=tmp_path / "serve.log").start()
    client = "127.0.0.2"
    try:
        statuses = [_common.submit_once(server.url, survey["token"], random.Random(i),
                                        headers={"Cookie": f"sv_device={DEVICE}"},
                                        source=client)[0] for i in range(3)]
        _common.request("GET", f"{server.url}/s/no-such-survey", source=client)
        _common.request("POST", f"{server.url}/staff/login", body="username=x&password=y",
                        source=client)
    finally:
        server.stop()
    assert statuses == [303] * 3
    assert _traces(instance, [client, DEVICE]) == []
    assert _traces(tmp_path, [client, DEVICE]) == []  # logs, WAL and everything else
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(instance))
    with create_app().test_request_context():  # the instance's own key
        expected = keyed_hash(client, "ip")
    assert _common.count_rows(instance, "SELECT count(*) FROM responses WHERE ip_hash = ?",
                              [expected]) == 3
