"""The login limiter under a real `survey serve` with two processes: parallel guesses reach
different processes and connections, and are still counted one after another."""
import re
import threading
import urllib.parse

import pytest

from bench import _common

pytestmark = pytest.mark.slow
PASSWORD = "correct-horse-battery"


def _login_form(url: str) -> tuple[str, str]:
    """(session cookie, CSRF token) of a fresh login page."""
    status, headers, body = _common.get(url + "/staff/login")
    assert status == 200
    cookie = headers["Set-Cookie"].split(";", 1)[0]
    return cookie, re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body).group(1)


def test_sixteen_parallel_guesses_at_a_limit_of_ten_let_ten_through(instance, tmp_path):
    _common.run_survey(instance, "create-user", "bob", "--department", "测试部门",
                       "--password-stdin", stdin=PASSWORD + "\n")  # creates the instance too
    with _common.Server(instance, workers=8, processes=2,
                        log_path=tmp_path / "serve.log") as server:
        forms = [_login_form(server.url) for _ in range(16)]
        start, statuses = threading.Barrier(len(forms)), []

        def guess(cookie, token):
            body = urllib.parse.urlencode({"username": "bob", "password": "wrong-password",
                                           "csrf_token": token})
            start.wait()
            statuses.append(_common.request("POST", server.url + "/staff/login", body=body,
                                            headers={"Cookie": cookie})[0])

        threads = [threading.Thread(target=guess, args=form) for form in forms]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == [200] * 10 + [429] * 6
