"""Compression and the icon through the real waitress server of the browser tests: text is
sent compressed, already-compressed downloads are not, ETags still answer 304, streamed
exports still stream; /favicon.ico is no 404 and the public form loads without a console error."""
import gzip
import urllib.request

import pytest

from .a11y import login
from .conftest import PHONE

pytestmark = pytest.mark.browser


def _get(url: str, headers: dict | None = None, cookie: str = ""):
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip", **(headers or {}),
                                                   **({"Cookie": cookie} if cookie else {})})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def _staff_cookie(browser, live_server) -> str:
    context = browser.new_context()
    page = context.new_page()
    login(page, live_server, "alice")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in context.cookies())
    context.close()
    return cookie


def test_text_is_compressed_and_downloads_are_not(browser, live_server):
    survey = live_server.open_survey()
    status, headers, body = _get(f"{live_server.url}/s/{survey['token']}?via=qr")
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert "提交问卷" in gzip.decompress(body).decode()
    assert "Accept-Encoding" in headers["Vary"]
    status, headers, body = _get(f"{live_server.url}/static/style.css")
    assert status == 200 and headers.get("Content-Encoding") in ("gzip", "deflate", "br")
    status, headers, _ = _get(f"{live_server.url}/favicon.ico")
    assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")

    cookie = _staff_cookie(browser, live_server)
    base = f"{live_server.url}/staff/surveys/{survey['id']}"
    status, headers, body = _get(f"{base}/charts/levels.svg", cookie=cookie)
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(body).startswith(b"<?xml")
    etag = headers["ETag"]
    status, _, _ = _get(f"{base}/charts/levels.svg", {"If-None-Match": etag}, cookie)
    assert status == 304
    for path in ("/charts/levels.png", "/qr.png", "/export?format=xlsx", "/evidence.zip"):
        status, headers, body = _get(base + path, cookie=cookie)
        assert status == 200, (path, status)
        assert "Content-Encoding" not in headers, path
        assert body[:2] in (b"\x89P", b"PK"), path
    status, headers, body = _get(f"{base}/export?format=csv", cookie=cookie)
    assert status == 200 and "Content-Encoding" not in headers and body


def test_public_form_has_an_icon_and_no_console_error(browser, live_server):
    survey = live_server.open_survey()
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    errors, missing = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: missing.append(r.url) if r.status >= 400 else None)
    page.goto(f"{live_server.url}/s/{survey['token']}?via=qr", wait_until="networkidle")
    icon = page.evaluate("fetch('/favicon.ico').then(r => r.status)")
    context.close()
    assert icon == 200
    assert not errors and not missing, (errors, missing)
