"""Every page and download a staff member can reach, through `survey serve` as an operator
starts it (`survey init`, `survey demo`, a second account of role "staff"): logged in through the
login form, following every same-site link found in the HTML, no response may be a 5xx."""
import html
import http.cookiejar
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench._common import Server, run_survey

DEPARTMENT = "信阳市平桥区人力资源和社会保障局"
STAFF_PASSWORD = "crawl-staff-password-9"
MAX_URLS = 600
PER_PATH = 4  # query-string variants of one path (filters, pages): a few tell as much as all
HREF = re.compile(r'href="([^"]*)"')
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# Leaving the session, or a link whose only job is to hand out a file already fetched once.
SKIP = re.compile(r"/staff/logout|/static/")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect is a page of its own: queued, not followed blindly


class Visitor:
    """One browser-like session: a cookie jar, no automatic redirects."""

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def fetch(self, path: str, data: dict | None = None) -> tuple[int, dict, bytes]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def log_in(self, username: str, password: str) -> None:
        page = self.fetch("/staff/login")[2].decode()
        status, headers, _ = self.fetch("/staff/login", {
            "username": username, "password": password,
            "csrf_token": CSRF.search(page).group(1)})
        assert status in (302, 303) and "/login" not in headers.get("Location", ""), (username, status)


def _same_site(base: str, page: str, href: str) -> str | None:
    """The path and query of a same-site link, or None for another site, a fragment only..."""
    target = urllib.parse.urljoin(base + page, html.unescape(href).strip())
    parts = urllib.parse.urlsplit(target)
    if f"{parts.scheme}://{parts.netloc}" != base or SKIP.search(parts.path):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(visitor: Visitor, start: str = "/staff/") -> dict:
    """Breadth first from `start`: statuses, 5xx responses, downloads and pages counted."""
    queue, seen, per_path = [start], {start}, Counter()
    result = {"status": Counter(), "errors": [], "pages": 0, "downloads": 0}
    while queue and len(seen) <= MAX_URLS:
        path = queue.pop(0)
        status, headers, body = visitor.fetch(path)
        result["status"][status] += 1
        if status >= 500:
            result["errors"].append((path, status))
        links = []
        if status in (301, 302, 303, 307, 308):
            links = [headers.get("Location", "")]
        elif "text/html" in headers.get("Content-Type", ""):
            result["pages"] += 1
            links = HREF.findall(body.decode("utf-8", "replace"))
        elif status == 200:
            result["downloads"] += 1
        for href in links:
            target = _same_site(visitor.base, path, href)
            if target is None or target in seen:
                continue
            key = target.split("?")[0]
            if "?" in target and per_path[key] >= PER_PATH:
                continue
            per_path[key] += 1
            seen.add(target)
            queue.append(target)
    result["urls"] = len(seen)
    return result


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory):
    instance = tmp_path_factory.mktemp("crawl") / "instance"
    run_survey(instance, "init")
    demo = run_survey(instance, "demo", "--responses", "30").stdout
    admin_password = demo.split("密码 ")[1].split()[0]
    # the second account is made while the server starts (each command is a Python start-up
    # of a second or two; the account is not needed before the first login)
    with ThreadPoolExecutor(max_workers=1) as pool:
        user = pool.submit(run_survey, instance, "create-user", "crawler", "--department",
                           DEPARTMENT, "--role", "staff", "--password-stdin",
                           stdin=STAFF_PASSWORD + "\n")
        with Server(instance, workers=4) as server:
            user.result()
            yield server, {"demo": admin_password, "crawler": STAFF_PASSWORD}


@pytest.mark.parametrize("username", ["crawler", "demo"])
def test_every_reachable_page_and_download_answers_without_a_server_error(demo_server, username):
    server, passwords = demo_server
    visitor = Visitor(server.url)
    visitor.log_in(username, passwords[username])
    started = time.monotonic()
    result = crawl(visitor)
    print(f"\n{username}: {result['urls']} URLs, {result['pages']} pages, "
          f"{result['downloads']} downloads, statuses {dict(result['status'])}, "
          f"{time.monotonic() - started:.1f} s")
    assert not result["errors"], result["errors"]
    # the crawl really went through the staff pages (a lost session would stop at the login)
    assert result["pages"] >= 30 and result["downloads"] >= 5, result
    assert result["status"][200] >= 30
