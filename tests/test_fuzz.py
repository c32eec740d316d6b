"""Hostile input (hypothesis): random and malformed form posts, headers, bodies and URLs at
every route of the url_map, logged in and logged out. Never a 500 (the test app propagates
unexpected exceptions, so one shows up here with its traceback), never a stored response that
is not whole."""
import re
import urllib.parse

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.store import accounts
from survey.store import surveys as survey_store
from survey.web.db import get_db
from survey.web.forms.public import new_ticket

from .checks import incomplete_responses
from .conftest import Auth, csrf_token_from
from .world import HOSTILE, build_path, make_site, routes

FUZZ = settings(max_examples=12, deadline=None, derandomize=True, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
ROUTE_FUZZ = settings(FUZZ, max_examples=5)
ALL_KINDS = {"title": "全题型问卷", "questions": [
    {"kind": "scale", "text": "总体满意度", "required": True},
    {"kind": "single", "text": "业务类型", "required": True, "options": ["社保", "就业", "其他"]},
    {"kind": "multiple", "text": "您通过哪些渠道了解", "required": True,
     "options": ["网站", "窗口", "电话"]},
    {"kind": "multiple", "text": "可选多选", "required": False, "options": ["甲", "乙"]},
    {"kind": "text", "text": "必填意见", "required": True},
    {"kind": "text", "text": "选填意见", "required": False},
]}

SPECIAL = ["", " ", "0", "-1", "1.5", "1e9", "NaN", "99999999999999999999999", "null", "[]",
           "{}", "\x00", "\r\n", "../../etc/passwd", "%00", "' OR 1=1 --", HOSTILE]
text_values = st.one_of(st.sampled_from(SPECIAL), st.text(max_size=60), st.integers().map(str),
                        st.integers(1000, 5000).map(lambda n: "满" * n))  # over length limits
header_text = st.text(st.characters(min_codepoint=32, max_codepoint=255, exclude_characters="\x7f"),
                      max_size=80)
headers = st.fixed_dictionaries({}, optional={
    "User-Agent": header_text, "Accept-Language": header_text, "X-Forwarded-For": header_text,
    "Referer": header_text, "Cookie": st.one_of(header_text, header_text.map(
        lambda v: f"sv_device={v}"), header_text.map(lambda v: f"session={v}")),
})


def _questionnaire(kinds: dict) -> dict:
    from survey.core.questionnaire import load_survey_template
    template = load_survey_template("blank")
    template.update(title=kinds["title"], questions=[dict(q) for q in kinds["questions"]])
    for q in template["questions"]:
        if q["kind"] == "scale":
            q["options"] = load_survey_template("satisfaction-5")["questions"][0]["options"]
        else:
            q["options"] = [{"label": label} for label in q.get("options", [])]
    return template


@pytest.fixture
def public_survey(app):
    with app.app_context():
        db = get_db()
        department_id = accounts.ensure_department(db, "测试部门")
        survey_id = survey_store.create_survey(db, department_id, _questionnaire(ALL_KINDS),
                                               status="open")
        survey = survey_store.get_survey(db, survey_id)
        survey["questions"] = survey_store.questionnaire(db, survey_id)
    return survey


def _ticket(app, kind: str, survey_id: int) -> str | None:
    with app.test_request_context("/"):
        valid = new_ticket("qr", "窗口1", survey_id)
    return {"valid": valid, "tampered": valid[:-3] + "abc", "junk": "x.y.z", "none": None}[kind]


@st.composite
def form_posts(draw, survey):
    """Answers that are partly right, partly wrong: other questions' options, junk, lists."""
    option_ids = [str(o["id"]) for q in survey["questions"] for o in q["options"]]
    value = st.one_of(text_values, st.sampled_from(option_ids))
    names = [f"q{q['id']}" for q in survey["questions"]] + ["q0", "q999999", "ticket[]", "x"]
    data = draw(st.dictionaries(st.sampled_from(names), st.one_of(
        value, st.lists(value, max_size=4)), max_size=len(names)))
    return data


@FUZZ
@given(data=st.data())
def test_public_form_posts_never_fail_and_never_store_an_incomplete_response(
        app, public_survey, data):
    client = app.test_client()
    form = data.draw(form_posts(public_survey))
    ticket = _ticket(app, data.draw(st.sampled_from(["valid", "valid", "tampered", "junk", "none"])),
                     public_survey["id"])
    if ticket:
        form["ticket"] = ticket
    response = client.post(f"/s/{public_survey['token']}", data=form,
                           headers=data.draw(headers))
    assert response.status_code in (200, 303, 404, 413, 422, 429)
    with app.app_context():
        assert incomplete_responses(get_db(), public_survey["id"]) == []


def test_a_complete_post_is_stored_so_the_fuzz_can_reach_storage(app, public_survey):
    form = {"ticket": _ticket(app, "valid", public_survey["id"])}
    for q in public_survey["questions"]:
        form[f"q{q['id']}"] = str(q["options"][0]["id"]) if q["options"] else "好"
    assert app.test_client().post(f"/s/{public_survey['token']}", data=form).status_code == 303


@FUZZ
@given(body=st.binary(max_size=3000), content_type=st.sampled_from([
    "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=",
    "multipart/form-data; boundary=zz", "application/json", "text/plain", "", "x/y; charset=gbk"]),
    extra=headers)
def test_malformed_bodies_and_headers_never_fail(app, public_survey, body, content_type, extra):
    response = app.test_client().post(f"/s/{public_survey['token']}", data=body,
                                      content_type=content_type, headers=extra)
    assert response.status_code < 500
    with app.app_context():
        assert incomplete_responses(get_db(), public_survey["id"]) == []


segment = st.one_of(st.sampled_from(["s", "staff", "api", "v1", "surveys", "static", "1", "0",
                                     "-1", "99999999999999999999999", "..", ".", "%00", "%ff",
                                     "thanks", "cases", "assessments", "qr.png", "poster"]),
                    st.text(min_size=1, max_size=20).map(lambda t: urllib.parse.quote(t, safe="")))


@FUZZ
@given(parts=st.lists(segment, min_size=1, max_size=6), query=st.dictionaries(
    text_values, text_values, max_size=3), method=st.sampled_from(
    ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]), logged_in=st.booleans())
def test_random_urls_never_fail(app, parts, query, method, logged_in):
    client = app.test_client()
    if logged_in:
        Auth(client).login("alice")
    response = client.open("/" + "/".join(parts), method=method, query_string=query)
    response.close()
    assert response.status_code < 500


# --- every route in the url_map, with hostile arguments, queries and forms -------------------

@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One app and world for all route fuzz tests (the world is costly to build)."""
    return make_site(tmp_path_factory.mktemp("fuzz"))


FIELD_NAMES: dict = {}


def _field_names(client, path: str) -> list[str]:
    """The form fields on the route's page, read once (so the strategy stays the same even
    after a fuzzed request changed the page)."""
    if path not in FIELD_NAMES:
        FIELD_NAMES[path] = _read_field_names(client, path)
    return FIELD_NAMES[path]


def _read_field_names(client, path: str) -> list[str]:
    response = client.get(path)
    html = response.get_data(as_text=True) if response.mimetype == "text/html" else ""
    response.close()
    return sorted(set(re.findall(r'<(?:input|select|textarea)[^>]*name="([^"]+)"', html))
                  - {"csrf_token"})


def _argument(world: dict, name: str, converter: str):
    right = world.get(name, "x")
    if converter == "IntegerConverter":
        return st.one_of(st.just(right), st.integers(0, 2**63 - 1), st.integers(2**63, 2**70))
    return st.one_of(st.just(right), st.text(min_size=1, max_size=30))


@pytest.mark.parametrize("logged_in", [False, True], ids=["logged-out", "alice"])
@pytest.mark.parametrize("route", routes(), ids=lambda r: r.id)
@ROUTE_FUZZ
@given(data=st.data())
def test_every_route_survives_hostile_input(site, route, logged_in, data):
    app, world = site.app, site.world
    client = site.client("alice") if logged_in else app.test_client()
    token = csrf_token_from(client.get("/staff/login").get_data(as_text=True)) if logged_in \
        else None
    values = {name: data.draw(_argument(world, name, conv)) for name, conv in route.arguments}
    try:
        path = build_path(app, route, values)
    except (ValueError, TypeError):
        return  # a value the URL converter itself cannot build: never reaches the app
    names = _field_names(client, build_path(app, route, world)) if "GET" in route.methods \
        and logged_in else []
    method = data.draw(st.sampled_from(sorted(route.methods)))
    form = data.draw(st.dictionaries(st.sampled_from(names + ["x", "id", "survey_id"]),
                                     st.one_of(text_values, st.lists(text_values, max_size=3)),
                                     max_size=8))
    if token and method != "GET":
        form["csrf_token"] = token
    response = client.open(path, method=method, query_string=data.draw(st.dictionaries(
        st.sampled_from(["q", "ch", "via", "next", "page", "day_from", "day_to", "channel",
                         "source", "series", "format"]), text_values, max_size=4)),
        data=form if method != "GET" else None, headers=data.draw(headers))
    response.close()
    assert response.status_code < 500, f"{method} {path}"
