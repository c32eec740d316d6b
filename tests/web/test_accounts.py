"""Staff accounts and sessions: own password, an admin's reset and disable, server-side sessions
that end for good, and the login limiter (atomic, per account and per address, even timing)."""
import datetime as dt
import statistics
import threading
import time

import pytest

from survey.store import staff_sessions
from survey.store.util import iso, utc_now
from survey.web.db import get_db
from tests.conftest import PASSWORD, Auth, csrf_token_from

NEW_PASSWORD = "a-brand-new-passphrase"


def logged_in(app, username):
    client = app.test_client()
    assert Auth(client).login(username).status_code == 302
    return client


def is_logged_in(client) -> bool:
    return client.get("/staff/").status_code == 200


def session_cookie(client) -> str:
    return client.get_cookie("session").value


def post_form(client, path, data):
    token = csrf_token_from(client.get(path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})


def user_id(app, username) -> int:
    with app.app_context():
        return get_db().execute("SELECT id FROM users WHERE username = ?", [username]).fetchone()[0]


# --- sessions -----------------------------------------------------------------------------

def test_a_cookie_saved_before_logout_no_longer_works(app):
    client = logged_in(app, "bob")
    saved = session_cookie(client)
    token = csrf_token_from(client.get("/staff/").get_data(as_text=True))
    assert client.post("/staff/logout", data={"csrf_token": token}).status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", saved)
    response = replay.get("/staff/")
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_the_cookie_carries_a_random_id_and_the_database_only_its_hash(app, client):
    Auth(client).login("bob")
    with client.session_transaction() as session:
        session_id = session["sid"]
        assert "user_id" not in session
    with app.app_context():
        stored = [r[0] for r in get_db().execute("SELECT id_hash FROM staff_sessions")]
    assert len(session_id) >= 40 and session_id not in stored and len(stored) == 1


@pytest.mark.parametrize("column, age, alive", [
    ("created_at", dt.timedelta(hours=11, minutes=58), True),
    ("created_at", dt.timedelta(hours=12, minutes=1), False),  # activity does not extend it
    ("last_seen", dt.timedelta(minutes=119), True),
    ("last_seen", dt.timedelta(minutes=121), False),
])
def test_sessions_end_after_twelve_hours_or_two_idle_hours(app, column, age, alive):
    client = logged_in(app, "bob")
    with app.app_context():
        get_db().execute(f"UPDATE staff_sessions SET {column} = ?", [iso(utc_now() - age)])
    assert is_logged_in(client) is alive


def test_activity_moves_last_seen_at_most_once_a_minute(app):
    client = logged_in(app, "bob")
    with app.app_context():
        db = get_db()
        db.execute("UPDATE staff_sessions SET last_seen = ?", [iso(utc_now() - dt.timedelta(minutes=5))])
        client.get("/staff/")
        first = db.execute("SELECT last_seen FROM staff_sessions").fetchone()[0]
        client.get("/staff/")
        assert db.execute("SELECT last_seen FROM staff_sessions").fetchone()[0] == first
    assert utc_now() - dt.datetime.fromisoformat(first) < staff_sessions.TOUCH_EVERY


# --- a user's own password ----------------------------------------------------------------

def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app):
    desk, phone = logged_in(app, "bob"), logged_in(app, "bob")
    saved = session_cookie(desk)
    response = post_form(desk, "/staff/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert is_logged_in(desk) and not is_logged_in(phone)
    replay = app.test_client()
    replay.set_cookie("session", saved)
    assert not is_logged_in(replay)
    assert Auth(app.test_client()).login("bob", PASSWORD).status_code == 200
    assert Auth(app.test_client()).login("bob", NEW_PASSWORD).status_code == 302


@pytest.mark.parametrize("current, new, confirm, message", [
    ("wrong-password", NEW_PASSWORD, NEW_PASSWORD, "当前密码不正确"),
    (PASSWORD, "short", "short", "密码至少 8 位"),
    (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "x", "两次输入的新密码不一致"),
    (PASSWORD, PASSWORD, PASSWORD, "新密码不能与当前密码相同"),
])
def test_a_refused_password_change_says_why_and_changes_nothing(app, current, new, confirm, message):
    client = logged_in(app, "bob")
    response = post_form(client, "/staff/password", {
        "current_password": current, "new_password": new, "confirm": confirm})
    assert response.status_code == 200 and message in response.get_data(as_text=True)
    assert is_logged_in(client)
    assert Auth(app.test_client()).login("bob", PASSWORD).status_code == 302


# --- an administrator's reset, disable and enable -------------------------------------------

def test_an_admin_resets_a_password_and_the_accounts_sessions_end(app):
    bob, alice = logged_in(app, "bob"), logged_in(app, "alice")
    path = f"/staff/users/{user_id(app, 'bob')}"
    response = post_form(alice, path, {"new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert not is_logged_in(bob) and is_logged_in(alice)
    assert Auth(app.test_client()).login("bob", NEW_PASSWORD).status_code == 302


def test_a_disabled_account_cannot_log_in_and_its_sessions_end_until_enabled(app):
    bob, alice = logged_in(app, "bob"), logged_in(app, "alice")
    bob_id = user_id(app, "bob")
    token = csrf_token_from(alice.get(f"/staff/users/{bob_id}").get_data(as_text=True))
    assert alice.post(f"/staff/users/{bob_id}/disable", data={"csrf_token": token}).status_code == 302
    assert not is_logged_in(bob)
    refused = Auth(app.test_client()).login("bob")
    assert refused.status_code == 200 and "用户名或密码不正确" in refused.get_data(as_text=True)
    assert "已停用" in alice.get("/staff/users").get_data(as_text=True)
    assert alice.post(f"/staff/users/{bob_id}/enable", data={"csrf_token": token}).status_code == 302
    assert Auth(app.test_client()).login("bob").status_code == 302


def test_an_admin_cannot_disable_or_reset_themself_here(app):
    alice = logged_in(app, "alice")
    alice_id = user_id(app, "alice")
    token = csrf_token_from(alice.get(f"/staff/users/{alice_id}").get_data(as_text=True))
    response = alice.post(f"/staff/users/{alice_id}/disable", data={"csrf_token": token},
                          follow_redirects=True)
    assert "不能停用或启用自己的账号" in response.get_data(as_text=True)
    alice.post(f"/staff/users/{alice_id}", data={
        "csrf_token": token, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert is_logged_in(alice)
    assert Auth(app.test_client()).login("alice", PASSWORD).status_code == 302


def test_staff_cannot_manage_accounts(app):
    bob = logged_in(app, "bob")
    alice_id = user_id(app, "alice")
    token = csrf_token_from(bob.get("/staff/password").get_data(as_text=True))
    assert bob.get(f"/staff/users/{alice_id}").status_code == 403
    assert bob.post(f"/staff/users/{alice_id}/disable", data={"csrf_token": token}).status_code == 403
    assert Auth(app.test_client()).login("alice").status_code == 302


# --- the login limiter --------------------------------------------------------------------

def failed_login(app, username, address="198.51.100.7"):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Auth(client).login(username, "wrong-password")


def login_from(app, username, address="198.51.100.7", password=PASSWORD):
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return Auth(client).login(username, password)


def test_the_address_limit_is_ten_times_the_account_limit(app):
    assert app.config["LOGIN_ADDRESS_RATE_LIMIT"] == 10 * app.config["LOGIN_RATE_LIMIT"]


def test_an_account_locks_after_its_limit_from_any_addresses(app):
    for i in range(app.config["LOGIN_RATE_LIMIT"]):
        assert failed_login(app, "bob", f"198.51.100.{i + 1}").status_code == 200
    refused = login_from(app, "bob", "203.0.113.9")
    assert refused.status_code == 429 and "登录失败次数过多" in refused.get_data(as_text=True)
    assert login_from(app, "alice", "198.51.100.1").status_code == 302  # others are not locked


def test_a_busy_office_address_still_lets_an_unlocked_account_in(app):
    """Typos by many colleagues behind one address, one account locked: the rest log in."""
    app.config["LOGIN_RATE_LIMIT"] = 3  # fewer scrypt checks; the defaults' ratio is 10
    for i in range(app.config["LOGIN_RATE_LIMIT"]):
        failed_login(app, "bob")
        failed_login(app, f"colleague{i}")
        failed_login(app, f"visitor{i}")
    assert login_from(app, "bob").status_code == 429
    assert login_from(app, "alice").status_code == 302


def test_an_address_locks_after_its_own_higher_limit(app):
    app.config["LOGIN_RATE_LIMIT"], app.config["LOGIN_ADDRESS_RATE_LIMIT"] = 3, 9
    for i in range(app.config["LOGIN_ADDRESS_RATE_LIMIT"]):
        failed_login(app, f"guess{i}")
    assert login_from(app, "alice").status_code == 429
    assert login_from(app, "alice", "203.0.113.9").status_code == 302


def test_parallel_guesses_cannot_all_slip_under_the_limit(app):
    """16 guesses at once on separate connections to one SQLite file, limit 10."""
    limit, guesses = app.config["LOGIN_RATE_LIMIT"], 16
    clients = []
    for i in range(guesses):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"198.51.100.{i + 1}"
        clients.append((client, csrf_token_from(client.get("/staff/login").get_data(as_text=True))))
    start, statuses = threading.Barrier(guesses), []

    def guess(client, token):
        start.wait()
        statuses.append(client.post("/staff/login", data={
            "username": "bob", "password": "wrong-password", "csrf_token": token}).status_code)

    threads = [threading.Thread(target=guess, args=pair) for pair in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * limit + [429] * (guesses - limit)


def test_an_unknown_name_costs_the_same_time_as_a_known_one(app):
    app.config["LOGIN_RATE_LIMIT"] = app.config["LOGIN_ADDRESS_RATE_LIMIT"] = 1000

    def median_seconds(username):
        times = []
        for _ in range(5):
            began = time.perf_counter()
            failed_login(app, username)
            times.append(time.perf_counter() - began)
        return statistics.median(times)

    median_seconds("bob")  # warm-up: the dummy hash is made once
    ratio = median_seconds("nobody-by-this-name") / median_seconds("bob")
    assert 1 / 3 < ratio < 3, ratio  # without the dummy hash: about 0.1


def test_guessing_the_current_password_counts_like_failed_logins(app):
    app.config["LOGIN_RATE_LIMIT"] = 3
    client = logged_in(app, "bob")
    for _ in range(3):
        response = post_form(client, "/staff/password", {
            "current_password": "a-wrong-guess", "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert "当前密码不正确" in response.get_data(as_text=True)
    response = post_form(client, "/staff/password", {
        "current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 429 and "尝试次数过多" in response.get_data(as_text=True)
    assert Auth(app.test_client()).login("bob", PASSWORD).status_code == 429  # the name is locked
