"""Security properties checked on every route of the app's url_map (routes added later are
covered automatically): CSRF, login, department isolation, escaping, headers, cookies, and the
login and submission rate limits."""
import re
import threading

import pytest
from flask_wtf.csrf import CSRFError

from survey.store import dashboard as board
from survey.web.db import get_db
from survey.web.security import keyed_hash

from .conftest import PASSWORD, Auth, csrf_token_from, full_answers
from .world import HOSTILE, ID_TABLES, STATE_CHANGING, XSS, build_path, make_site, routes

CSRF_MARK = "CSRF-REJECTED"
STATE_ROUTES = [r for r in routes() if r.methods & STATE_CHANGING]
STAFF_ROUTES = [r for r in routes() if r.staff and r.endpoint != "staff.login"]
SCOPED_ROUTES = [r for r in routes() if (r.staff or r.api) and any(
    name.endswith("_id") for name, _ in r.arguments)]
GET_ROUTES = [r for r in routes() if "GET" in r.methods]
# Citizens' forms whose signed ticket is their CSRF token (see survey.web.forms.public).
TICKET_FORMS = ("public.submit", "evaluations.invitation_submit", "evaluations.kiosk_submit")
LOG_TABLES = {"audit_log", "rate_events", "form_views", "_sqlite_migrations", "sqlite_sequence",
              "staff_sessions"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """One app and world for the route-wide tests (each checks it changed nothing), with CSRF
    rejections recognisable (the handler is registered before any request)."""
    def mark(app):
        app.register_error_handler(CSRFError, lambda error: (CSRF_MARK, 400))
    return make_site(tmp_path_factory.mktemp("security"), prepare=mark)


@pytest.fixture
def marked_app(site):
    return site.app


@pytest.fixture
def world(site):
    return site.world


def csrf_of(client) -> str:
    return csrf_token_from(client.get("/staff/login").get_data(as_text=True))


def path_of(app, route, world) -> str:
    unknown = [n for n, _ in route.arguments if n not in world]
    assert not unknown, (f"{route.id}: no test object for {unknown}; add the kind to "
                         "tests/world.py (ID_TABLES / string_values / build_world)")
    return build_path(app, route, world)


def _exempt_from_global_check(app, route) -> bool:
    view = app.view_functions[route.endpoint]
    return f"{view.__module__}.{view.__name__}" in app.extensions["csrf"]._exempt_views


def snapshot(app) -> dict:
    """Every row of every table except logs and counters of views."""
    with app.app_context():
        db = get_db()
        return {t: db.execute(f"SELECT * FROM [{t}] ORDER BY rowid").fetchall()
                for t in db.table_names() if t not in LOG_TABLES}


@pytest.mark.parametrize("route", STATE_ROUTES, ids=lambda r: r.id)
def test_state_changing_requests_need_a_csrf_token(site, marked_app, world, route):
    client = site.client("alice")
    before = snapshot(marked_app)
    for method in sorted(route.methods & STATE_CHANGING):
        response = client.open(path_of(marked_app, route, world), method=method,
                               data={"name": "x", "text": "x"})
        body = response.get_data(as_text=True)
        if route.endpoint in TICKET_FORMS:  # their signed form ticket is their CSRF token
            assert response.status_code == 422 and "页面已过期" in body
        elif route.api:
            assert response.status_code in (400, 401, 403), body[:200]
        elif _exempt_from_global_check(marked_app, route):  # the view's form checks instead
            assert response.status_code == 400, route.id
        else:
            assert (response.status_code, body) == (400, CSRF_MARK), route.id
    assert snapshot(marked_app) == before


def test_a_csrf_token_lets_the_same_request_through(app):
    client = app.test_client()
    Auth(client).login("alice")
    response = client.post("/staff/logout", data={"csrf_token": csrf_of(client)})
    assert response.status_code == 302


@pytest.mark.parametrize("route", STAFF_ROUTES, ids=lambda r: r.id)
def test_staff_pages_need_login(marked_app, world, route):
    client = marked_app.test_client()
    token = csrf_of(client)
    before = snapshot(marked_app)
    for method in sorted(route.methods):
        data = {"csrf_token": token} if method in STATE_CHANGING else None
        response = client.open(path_of(marked_app, route, world), method=method, data=data)
        if route.endpoint == "staff.logout":
            continue  # logging out needs no login
        assert response.status_code == 302, f"{method} {route.rule}: {response.status_code}"
        assert response.headers["Location"].startswith("/staff/login")
    assert snapshot(marked_app) == before


@pytest.mark.parametrize("route", [r for r in routes() if r.api and r.arguments],
                         ids=lambda r: r.id)
def test_api_needs_credentials(marked_app, world, route):
    response = marked_app.test_client().get(path_of(marked_app, route, world))
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize("route", SCOPED_ROUTES, ids=lambda r: r.id)
def test_another_department_gets_404_on_every_object_url(site, marked_app, world, route):
    unknown = [n for n, _ in route.arguments if n.endswith("_id") and n not in ID_TABLES]
    assert not unknown, f"{route.id}: add {unknown} to tests/world.py ID_TABLES"
    path = path_of(marked_app, route, world)
    if "GET" in route.methods:  # control: the object exists and alice may see it
        assert site.client("alice").get(path).status_code != 404, path
    mallory = site.client("mallory")
    token = csrf_of(mallory)
    before = snapshot(marked_app)
    for method in sorted(route.methods):
        data = {"csrf_token": token} if method in STATE_CHANGING else None
        response = mallory.open(path, method=method, data=data)
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
    assert snapshot(marked_app) == before


def _session_cookie(client):
    cookie = client.get_cookie("session")
    return cookie.value if cookie else None


def test_login_starts_a_new_session(app):
    client = app.test_client()
    client.get("/staff/login")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"
    planted = _session_cookie(client)
    assert Auth(client).login("alice").status_code == 302
    assert _session_cookie(client) not in (None, planted)
    with client.session_transaction() as session:
        assert "planted" not in session
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert attacker.get("/staff/").status_code == 302  # the planted cookie is not logged in


def test_passwords_are_hashed_with_scrypt(db):
    hashes = [r[0] for r in db.execute("SELECT password_hash FROM users")]
    assert hashes and all(h.startswith("scrypt:") for h in hashes)
    assert not any(PASSWORD in h for h in hashes)


REFLECTED = {"q": HOSTILE, "ch": HOSTILE, "channel": HOSTILE, "series": HOSTILE,
             "next": HOSTILE, "day_from": HOSTILE, "source": HOSTILE}


def _fetch(client, path, **kwargs):
    """GET, read and close (static files are streamed from open files)."""
    response = client.get(path, **kwargs)
    textual = response.mimetype.startswith(("text/", "image/svg", "application/json"))
    body = response.get_data(as_text=True) if textual else ""
    response.close()
    return response, body


def _pages(site):
    """(path, response, text) of every GET route as alice, with hostile query parameters too."""
    for route in GET_ROUTES:
        path = path_of(site.app, route, site.world)
        for query in ({}, REFLECTED):
            client = site.client("alice") if route.staff or route.api else site.app.test_client()
            yield (path, *_fetch(client, path, query_string=query))


def test_hostile_text_is_escaped_everywhere_it_is_shown(site):
    shown_escaped = 0
    for path, response, body in _pages(site):
        if response.mimetype in ("text/html", "image/svg+xml"):
            assert XSS not in body and "<img src=x onerror" not in body, path
            shown_escaped += "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        elif XSS in body:  # exports and JSON carry the text as data, never as a page
            assert response.headers["X-Content-Type-Options"] == "nosniff", path
    assert shown_escaped >= 5  # the hostile texts really are on the pages


@pytest.mark.parametrize("route", GET_ROUTES, ids=lambda r: r.id)
def test_security_headers_on_every_page(site, marked_app, world, route):
    client = site.client("alice") if route.staff or route.api else marked_app.test_client()
    response, _ = _fetch(client, path_of(marked_app, route, world))
    csp = response.headers.get("Content-Security-Policy", "")
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
    assert "script-src 'self'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer",
                                                   "strict-origin-when-cross-origin")


def test_error_pages_have_security_headers_too(client):
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_a_wrong_method_says_which_methods_are_allowed(client, make_survey):
    survey = make_survey()
    page = client.delete(f"/s/{survey['token']}/thanks")
    assert page.status_code == 405
    assert {m.strip() for m in page.headers["Allow"].split(",")} >= {"GET"}
    assert page.mimetype == "text/html" and "不支持该操作方式" in page.get_data(as_text=True)
    api = client.delete(f"/api/v1/surveys/{survey['id']}/summary")
    assert api.status_code == 405 and "GET" in api.headers["Allow"]
    assert api.is_json and api.get_json()["status"] == 405


def _set_cookie(response, name: str) -> str:
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(f"{name}="))


def test_cookies_are_secure_over_https(app, make_survey):
    survey = make_survey()
    client = app.test_client()
    https = "https://localhost"
    form = client.get(f"/s/{survey['token']}", base_url=https)
    page = client.get("/staff/login", base_url=https).get_data(as_text=True)
    login_response = client.post(
        "/staff/login", base_url=https, headers={"Referer": f"{https}/staff/login"},
        data={"username": "alice", "password": PASSWORD, "csrf_token": csrf_token_from(page)})
    for response, name in ((form, "sv_device"), (login_response, "session")):
        cookie = _set_cookie(response, name)
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie
    assert form.headers["Strict-Transport-Security"].startswith("max-age=")


def _submit(client, survey, address: str) -> int:
    client.environ_base["REMOTE_ADDR"] = address
    html = client.get(f"/s/{survey['token']}").get_data(as_text=True)
    ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', html).group(1)
    return client.post(f"/s/{survey['token']}",
                       data={**full_answers(survey), "ticket": ticket}).status_code


def _flags(app, survey) -> tuple[int, int]:
    """(responses stored, of which flagged for the busy address)."""
    with app.app_context():
        db = get_db()
        stored = db.execute("SELECT count(*) FROM responses WHERE survey_id = ?",
                            [survey["id"]]).fetchone()[0]
        return stored, board.busy_address_flags(db, survey["id"])["flagged"]


def test_a_service_hall_is_never_refused_its_excess_is_flagged_and_staff_see_it(app, make_survey):
    survey, other = make_survey(), make_survey()
    client = app.test_client()
    hall = "203.0.113.10"
    limit = app.config["SUBMIT_RATE_LIMIT"]
    assert limit >= 100  # a busy hall: one person every 6 seconds on one Wi-Fi address
    assert [_submit(client, survey, hall) for _ in range(limit + 5)] == [303] * (limit + 5)
    assert _submit(client, survey, "203.0.113.11") == 303  # another address
    assert _submit(client, other, hall) == 303  # the threshold is per survey
    assert _flags(app, survey) == (limit + 6, 5) and _flags(app, other) == (1, 0)
    with app.app_context():
        db = get_db()
        hashes = {r[0] for r in db.execute("SELECT ip_hash FROM responses")}
        assert hashes == {keyed_hash(hall, "ip"), keyed_hash("203.0.113.11", "ip")}
        assert hall not in str(list(db.execute("SELECT * FROM responses")))
    staff = app.test_client()
    Auth(staff).login("bob")
    page = staff.get(f"/staff/surveys/{survey['id']}/").get_data(as_text=True)
    assert 'data-busy-address="5"' in page and "待复核" in page
    excluded = staff.get(f"/staff/surveys/{survey['id']}/excluded").get_data(as_text=True)
    assert excluded.count("同一网络短时间内提交过多") == 5


def test_concurrent_answers_from_one_address_are_counted_in_turn(app, make_survey):
    """16 answers at once at a threshold of 10: exactly 10 count, 6 are flagged."""
    app.config["SUBMIT_RATE_LIMIT"] = 10
    survey = make_survey()
    posts = []
    for _ in range(16):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = "203.0.113.10"
        html = client.get(f"/s/{survey['token']}").get_data(as_text=True)
        ticket = re.search(r'name="ticket"[^>]*value="([^"]+)"', html).group(1)
        posts.append((client, {**full_answers(survey), "ticket": ticket}))
    start, statuses = threading.Barrier(len(posts)), []

    def post(client, data):
        start.wait()
        statuses.append(client.post(f"/s/{survey['token']}", data=data).status_code)

    threads = [threading.Thread(target=post, args=pair) for pair in posts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [303] * 16
    assert _flags(app, survey) == (16, 6)
