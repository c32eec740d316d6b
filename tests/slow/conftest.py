"""A real `survey serve` in a subprocess on a free loopback port, per test."""
import pytest

from bench import _common
from survey.store import connect


@pytest.fixture
def instance(tmp_path):
    return tmp_path / "instance"


@pytest.fixture
def open_survey(instance):
    """`survey init` + `survey new-survey --open`: {id, token}."""
    return _common.prepare_instance(instance)


@pytest.fixture
def serve(instance, open_survey, tmp_path):
    """serve(workers=8, **settings) -> a started Server; stopped after the test. Its stdout and
    stderr go to a log file outside the instance folder."""
    servers = []

    def start(workers=8, **settings):
        log = tmp_path / f"serve-{len(servers)}.log"
        server = _common.Server(instance, workers=workers, settings=settings, log_path=log)
        server.start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def database(instance):
    """open_database() -> a store connection to the instance's database (closed after)."""
    opened = []

    def open_database():
        db = connect(_common.database_path(instance))
        opened.append(db)
        return db

    yield open_database
    for db in opened:
        db.conn.close()
