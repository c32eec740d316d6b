"""Shared fixtures: a fresh instance folder and SQLite file per test, flaskr-style."""
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from hypothesis import HealthCheck, settings

from survey import create_app
from survey.core.conditions import applies
from survey.core.questionnaire import load_survey_template
from survey.store import accounts
from survey.store import surveys as survey_store
from survey.web.db import get_db

PASSWORD = "correct-horse-battery"

# Hypothesis judges properties, not speed: its per-example deadline and its "input generation
# is slow" check are timed assertions, which a neighbour's load (or the other test process of
# `-n auto`) fails at random. Each test's own @settings still sets its number of examples.
settings.register_profile("survey", deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("survey")


def _populate(app) -> None:
    with app.app_context():
        db = get_db()
        dept = accounts.ensure_department(db, "测试部门")
        other = accounts.ensure_department(db, "其他部门")
        accounts.create_user(db, "alice", PASSWORD, dept, "admin")
        accounts.create_user(db, "bob", PASSWORD, dept, "staff")
        accounts.create_user(db, "mallory", PASSWORD, other, "admin")


def copy_instance(template: Path, instance: Path) -> None:
    """A fresh instance folder with `template`'s files (modes kept: 0700, 0600); the template's
    database was checkpointed into its main file, so no -wal or -shm is needed."""
    shutil.copytree(template, instance, ignore=shutil.ignore_patterns("*-wal", "*-shm"))


def checkpoint(database: Path) -> None:
    """Every committed row of `database` into its main file (a template is copied without its
    -wal); refused loudly if a connection still held the log."""
    with closing(sqlite3.connect(database)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    assert busy == 0, f"{database}: a connection is still open, the -wal could not be emptied"


def instance_template(tmp_path_factory, name: str, config: dict, populate) -> Path:
    """An instance folder made once (create_app with `config`, then `populate(app)`), its
    database checkpointed, for tests to start from a copy of (`copy_instance`)."""
    instance = tmp_path_factory.mktemp(name) / "instance"
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(instance))
        app = create_app(config)
        populate(app)
    checkpoint(Path(app.config["DATABASE"]))
    return instance


@pytest.fixture(scope="session")
def app_template(tmp_path_factory) -> Path:
    """The instance folder every `app` starts from, made once per session exactly as `app`
    made it for each test (create_app: secrets, database, migrations; then the two departments
    and alice, bob, mallory): the three scrypt hashes and the migrations are most of an app's
    making, and a copy of the result is the same starting state."""
    return instance_template(tmp_path_factory, "app-template", {"TESTING": True}, _populate)


@pytest.fixture
def app(tmp_path, monkeypatch, app_template):
    instance = tmp_path / "instance"
    copy_instance(app_template, instance)
    monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(instance))
    app = create_app({"TESTING": True})
    yield app


@pytest.fixture
def client(app):
    return app.test_client()


class SurveyCliRunner(FlaskCliRunner):
    """Invokes the `survey` command group (not app.cli) against the test app."""

    def invoke(self, cli=None, args=None, **kwargs):
        from survey.cli import cli as survey_cli
        return super().invoke(cli or survey_cli, args, **kwargs)


@pytest.fixture
def runner(app):
    return SurveyCliRunner(app)


@pytest.fixture
def db(app):
    with app.app_context():
        yield get_db()


def csrf_token_from(html: str, name: str = "csrf_token") -> str:
    match = re.search(rf'name="{name}"[^>]*value="([^"]+)"', html) or re.search(
        rf'value="([^"]+)"[^>]*name="{name}"', html)
    assert match, f"no {name} in page"
    return match.group(1)


class Auth:
    def __init__(self, client):
        self.client = client

    def login(self, username="alice", password=PASSWORD):
        page = self.client.get("/staff/login").get_data(as_text=True)
        return self.client.post("/staff/login", data={
            "username": username, "password": password, "csrf_token": csrf_token_from(page)})

    def csrf(self, path="/staff/"):
        """A valid CSRF token for the logged-in session (from any staff page with a form)."""
        return csrf_token_from(self.client.get(path).get_data(as_text=True))


@pytest.fixture
def auth(client):
    return Auth(client)


@pytest.fixture
def make_survey(app):
    """make_survey(status='open', department='测试部门', **create_kwargs) -> survey dict."""
    def make(status="open", department="测试部门", template="satisfaction-5", **kwargs):
        with app.app_context():
            db = get_db()
            dept = accounts.ensure_department(db, department)
            survey_id = survey_store.create_survey(db, dept, load_survey_template(template),
                                                   status=status, **kwargs)
            survey = survey_store.get_survey(db, survey_id)
            survey["questions"] = survey_store.questionnaire(db, survey_id)
            return survey
    return make


def with_reasons(questions: list[dict], answers: dict) -> dict:
    """`answers` (question id -> option ids) plus the first option of every conditional
    choice question they make applicable: the template's 您不满意的原因 after 不满意."""
    answers = dict(answers)
    for q in questions:
        if q["show_if"] and q["kind"] == "multiple" and applies(q, answers):
            answers[q["id"]] = [q["options"][0]["id"]]
    return answers


def full_answers(survey, level=0, text=None) -> dict:
    """Form data answering every question of a satisfaction-5 survey at one scale level (and,
    when a dissatisfied level asks why, the first reason)."""
    data, given = {}, {}
    for q in survey["questions"]:
        if q["kind"] in ("scale", "single"):
            option = q["options"][min(level, len(q["options"]) - 1)]
        elif q["kind"] == "multiple" and applies(q, given):
            option = q["options"][0]
        else:
            if q["kind"] == "text" and text is not None:
                data[f"q{q['id']}"] = text
            continue
        data[f"q{q['id']}"] = str(option["id"])
        given[q["id"]] = [option["id"]]
    return data
