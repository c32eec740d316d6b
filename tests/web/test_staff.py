"""Staff login and the department's survey list."""
from urllib.parse import urlencode

import pytest

from survey.web.db import get_db

from ..conftest import PASSWORD, csrf_token_from, full_answers
from .test_public import ticket_of


def test_staff_pages_require_login(client):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert "/staff/login" in response.headers["Location"]


def test_login_with_wrong_password_says_so_and_keeps_username(client, auth):
    response = auth.login("alice", "wrong-password")
    html = response.get_data(as_text=True)
    assert "用户名或密码不正确" in html
    assert 'value="alice"' in html


def test_login_without_csrf_token_is_refused(client):
    response = client.post("/staff/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400


def test_login_renews_the_session_and_logout_ends_it(client, auth):
    client.get("/staff/login")
    before = client.get_cookie("session")
    assert auth.login().status_code == 302
    after = client.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)
    assert after.http_only and after.same_site == "Lax"
    token = auth.csrf("/staff/")
    client.post("/staff/logout", data={"csrf_token": token})
    assert client.get("/staff/").status_code == 302


def test_login_redirects_only_to_local_next(client):
    page = client.get("/staff/login").get_data(as_text=True)
    response = client.post("/staff/login?next=//evil.example/x", data={
        "username": "alice", "password": PASSWORD, "csrf_token": csrf_token_from(page)})
    assert response.headers["Location"] == "/staff/"


HOSTILE_NEXT = ["/%09/evil.example/x", "//evil.example", "/\\evil.example", "https://evil.example",
                "/%0A/x", "%2F%2Fevil.example", " //evil.example", "/\t/evil.example",
                "/%5C/evil.example", "/%2F/evil.example", "/%7F/x", "\r\n//evil.example"]


def _login_with_next(client, path):
    page = client.get("/staff/login").get_data(as_text=True)
    return client.post(path, data={
        "username": "alice", "password": PASSWORD, "csrf_token": csrf_token_from(page)})


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_login_never_redirects_off_site_whatever_the_encoding(client, target):
    """Raw in the URL (the browser's percent-encoding decoded once) and encoded as a value."""
    raw = _login_with_next(client, "/staff/login?next=" + target)
    assert raw.status_code == 302 and raw.headers["Location"] == "/staff/"
    client.post("/staff/logout", data={"csrf_token": csrf_token_from(
        client.get("/staff/").get_data(as_text=True))})
    encoded = _login_with_next(client, "/staff/login?" + urlencode({"next": target}))
    assert encoded.status_code == 302 and encoded.headers["Location"] == "/staff/"


def test_login_follows_a_local_next(client):
    response = _login_with_next(client, "/staff/login?next=/staff/surveys")
    assert response.status_code == 302 and response.headers["Location"] == "/staff/surveys"


def test_survey_list_shows_own_department_with_counts_and_link(client, auth, make_survey):
    ours = make_survey(title="本部门问卷")
    make_survey(department="其他部门", title="别人的问卷")
    data = {**full_answers(ours), "ticket": ticket_of(client.get(f"/s/{ours['token']}")
                                                       .get_data(as_text=True))}
    client.post(f"/s/{ours['token']}", data=data)
    auth.login()
    html = client.get("/staff/").get_data(as_text=True)
    assert "本部门问卷" in html and "别人的问卷" not in html
    assert f"/s/{ours['token']}" in html
    assert '<td class="num" data-returned>1</td>' in html


def test_admin_creates_user_and_staff_cannot(client, auth, app):
    auth.login("bob")
    assert client.get("/staff/users").status_code == 403
    client.post("/staff/logout", data={"csrf_token": auth.csrf()})
    auth.login("alice")
    token = auth.csrf("/staff/users")
    response = client.post("/staff/users", data={"username": "erin", "password": "short",
                                                  "role": "staff", "csrf_token": token})
    assert "密码至少 8 位" in response.get_data(as_text=True)
    response = client.post("/staff/users", data={"username": "erin", "password": "long-enough-pw",
                                                  "role": "staff", "csrf_token": token})
    assert response.status_code == 302
    with app.app_context():
        row = get_db().execute("SELECT d.name FROM users u JOIN departments d "
                               "ON d.id = u.department_id WHERE username = 'erin'").fetchone()
    assert row[0] == "测试部门"


@pytest.mark.parametrize("failed_as, locked", [("alice", True), ("nobody", False)])
def test_repeated_failed_logins_are_rate_limited(app, client, auth, failed_as, locked):
    """Failures count per user name, and per address only at a ten times higher limit: another
    name's failures from the same address do not lock alice out (see tests/web/test_accounts)."""
    app.config["LOGIN_RATE_LIMIT"] = 3
    for _ in range(3):
        auth.login(failed_as, "bad-password")
    response = auth.login("alice", PASSWORD)
    assert response.status_code == (429 if locked else 302)
    assert ("登录失败次数过多" in response.get_data(as_text=True)) is locked
