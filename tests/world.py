"""Every route of the app, and one department's worth of objects to point them at.

Route-wide tests (security, fuzz) iterate `routes()`, read from the app's own url_map at
collection time, so a route added by anyone later is covered without editing these tests.
`build_world` fills 测试部门 (alice's department) with one object of each kind a URL can name,
with a hostile text in every field a person can type.
"""
import datetime as dt
import functools
import os
import re
import tempfile
from dataclasses import dataclass

from survey import create_app
from survey.core.questionnaire import load_survey_template
from survey.store import accounts
from survey.store import surveys as survey_store
from survey.web.db import get_db

XSS = "<script>alert(1)</script>"
XSS_ATTR = '"><img src=x onerror=alert(1)>'
HOSTILE = f"{XSS}{XSS_ATTR}"
# What a URL argument names -> the table its ids come from.
ID_TABLES = {"survey_id": "surveys", "question_id": "questions", "option_id": "options",
             "batch_id": "issued_batches", "response_id": "responses", "case_id": "cases",
             "override_id": "workday_overrides", "assessment_id": "assessments",
             "indicator_id": "assessment_indicators", "token_id": "api_tokens",
             "kiosk_id": "kiosks",
             "user_id": "users"}
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class Route:
    rule: str
    endpoint: str
    methods: frozenset
    arguments: tuple  # (name, converter class name)

    @property
    def id(self) -> str:
        return f"{'|'.join(sorted(self.methods))} {self.rule}"

    @property
    def staff(self) -> bool:
        return self.rule.startswith("/staff/")

    @property
    def api(self) -> bool:
        return self.rule.startswith("/api/")


def _test_app(instance: str):
    previous = os.environ.get("SURVEY_INSTANCE_PATH")
    os.environ["SURVEY_INSTANCE_PATH"] = instance
    try:
        return create_app({"TESTING": True})
    finally:
        if previous is None:
            os.environ.pop("SURVEY_INSTANCE_PATH")
        else:
            os.environ["SURVEY_INSTANCE_PATH"] = previous


@functools.cache
def routes() -> tuple[Route, ...]:
    """The app's routes, from a throwaway instance (collection time, before any fixture)."""
    with tempfile.TemporaryDirectory() as folder:
        app = _test_app(folder)
    return tuple(sorted(
        (Route(r.rule, r.endpoint, frozenset(r.methods - {"HEAD", "OPTIONS"}),
               tuple((name, type(conv).__name__) for name, conv in r._converters.items()))
         for r in app.url_map.iter_rules()), key=lambda r: r.id))


def build_path(app, route: Route, values: dict) -> str:
    rule = next(r for r in app.url_map.iter_rules()
                if r.rule == route.rule and r.endpoint == route.endpoint)
    return rule.build({name: values[name] for name, _ in route.arguments})[1]


def string_values(token: str) -> dict[str, str]:
    """A valid value for each non-id URL argument (the route's own vocabulary)."""
    from survey.io.charts import FORMATS
    from survey.web.forms.cases import STEP_FORMS
    from survey.web.staff.dashboard import SURVEY_CHARTS
    return {"token": token, "kind": SURVEY_CHARTS[0], "fmt": next(iter(FORMATS)), "ext": "csv",
            "action": next(iter(STEP_FORMS)), "filename": "style.css"}


def _hostile_questionnaire() -> dict:
    questionnaire = load_survey_template("satisfaction-5")
    questionnaire["intro"] = f"说明{HOSTILE}"
    questionnaire["questions"][0]["text"] += HOSTILE
    single = next(q for q in questionnaire["questions"] if q["kind"] == "single")
    single["options"][0]["label"] = f"社会保险{HOSTILE}"
    return questionnaire


def _submit_dissatisfied(client, survey: dict) -> None:
    """A real submission through the public form: 不满意 everywhere opens a follow-up case."""
    html = client.get(f"/s/{survey['token']}?via=qr&ch={HOSTILE}").get_data(as_text=True)
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', html).group(1)
    data = {"ticket": ticket}
    for q in survey["questions"]:
        if q["kind"] == "scale":
            data[f"q{q['id']}"] = str(q["options"][3]["id"])
        elif q["kind"] == "single":
            data[f"q{q['id']}"] = str(q["options"][0]["id"])
        elif q["kind"] == "multiple":  # 您不满意的原因: 其他, so its text is asked too
            data[f"q{q['id']}"] = str(q["options"][-1]["id"])
        elif q["kind"] == "text":
            data[f"q{q['id']}"] = f"意见{HOSTILE}"
    assert client.post(f"/s/{survey['token']}", data=data).status_code == 303


def _department_objects(db, department_id: int, survey: dict) -> None:
    from survey.core.assessment.tree import TEMPLATES
    from survey.store import api_tokens, assessments, builder, workdays
    builder.record_issued(db, survey, 100, f"批次{HOSTILE}", None)
    workdays.set_override(db, department_id, dt.date(2026, 10, 10), True, f"调休{HOSTILE}", None)
    assessments.create_assessment(db, department_id, 2025, f"自评{HOSTILE}",
                                  template=next(iter(TEMPLATES)))
    api_tokens.create_token(db, department_id, f"令牌{HOSTILE}", None)


def _transactions(db, survey: dict) -> dict[str, str]:
    """An invitation (window and staff code hostile) and a window tablet of the survey."""
    from survey.core.transactions import Transaction
    from survey.store import windows
    invitation, _ = windows.invite(db, survey["id"], Transaction(
        "BJ-2026-0001", f"窗口{HOSTILE}"[:40], "A07<b>"), 7)
    kiosk = windows.register_kiosk(db, survey, f"窗口{HOSTILE}"[:40], None)
    return {"reference": invitation["reference"], "invitation_token": invitation["token"],
            "kiosk_token": kiosk["token"]}


def _first_ids(db, department_id: int) -> dict[str, int]:
    """The lowest id of each kind; the world is built before any other department's objects,
    so these are alice's."""
    ids = {}
    for name, table in ID_TABLES.items():
        row = db.execute(f"SELECT min(id) FROM [{table}]").fetchone()
        if row and row[0] is not None:
            ids[name] = row[0]
    return ids


@dataclass
class Site:
    """One app with alice (测试部门, admin, owning the world) and mallory (其他部门, admin)."""
    app: object
    world: dict
    clients: dict

    def client(self, username: str):
        """A logged-in client per user, shared; logged in again if a request logged it out."""
        from .conftest import Auth
        client = self.clients.setdefault(username, self.app.test_client())
        with client.session_transaction() as session:
            logged_in = "sid" in session
        if not logged_in:
            assert Auth(client).login(username).status_code == 302, username
        return client


def make_site(folder, prepare=None) -> Site:
    """A site in `folder`; `prepare(app)` runs before the app's first request."""
    from .conftest import PASSWORD
    app = _test_app(str(folder / "instance"))
    if prepare:
        prepare(app)
    with app.app_context():
        db = get_db()
        for name, department in (("alice", "测试部门"), ("mallory", "其他部门")):
            accounts.create_user(db, name, PASSWORD, accounts.ensure_department(db, department),
                                 "admin")
    return Site(app, build_world(app), {})


def build_world(app) -> dict:
    """alice's department with one of everything; URL argument name -> value."""
    with app.app_context():
        db = get_db()
        department_id = accounts.ensure_department(db, "测试部门")
        survey_id = survey_store.create_survey(db, department_id, _hostile_questionnaire(),
                                               title=f"满意度{HOSTILE}", status="open")
        survey = survey_store.get_survey(db, survey_id)
        survey["questions"] = survey_store.questionnaire(db, survey_id)
    _submit_dissatisfied(app.test_client(), survey)
    with app.app_context():
        db = get_db()
        _department_objects(db, department_id, survey)
        transactions = _transactions(db, survey)
        return {**string_values(survey["token"]), **_first_ids(db, department_id),
                **transactions}
