"""Real headless Chromium (Debian's) driving the real pages, served by waitress on loopback.

Under CI=true a missing Chromium is a failure, not a skip.
"""
import os
import shutil
import socket
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest

from survey import create_app
from survey.core.questionnaire import load_survey_template
from survey.store import accounts
from survey.store import surveys as survey_store
from survey.web.db import get_db

from ..conftest import PASSWORD, copy_instance, instance_template

CHROMIUM = os.environ.get("SURVEY_CHROMIUM", "/usr/bin/chromium")
# Whether an <img> shows a picture, once it has finished loading (or failed, or 15 s passed):
# a click that navigates returns before the new page's images arrive.
_IMAGE_SHOWN = """img => img.complete ? img.naturalWidth > 0 : new Promise(done => {
    img.addEventListener('load', () => done(img.naturalWidth > 0));
    img.addEventListener('error', () => done(false));
    setTimeout(() => done(img.complete && img.naturalWidth > 0), 15000);
})"""
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 900}


def _chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


@contextmanager
def chromium():
    """Headless Chromium under its own Playwright, in the calling thread (Playwright's sync
    objects belong to the thread that made them)."""
    from playwright.sync_api import sync_playwright
    args = ["--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"]
    if os.geteuid() == 0:
        args.append("--no-sandbox")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM if Path(CHROMIUM).exists()
                                    else shutil.which("chromium"), headless=True, args=args)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture(scope="session")
def browser():
    if not _chromium_available():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium not found at {CHROMIUM}: CI must install Debian's chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    with chromium() as launched:
        yield launched


class LiveServer:
    def __init__(self, app, host, port):
        self.app, self.url = app, f"http://{host}:{port}"

    def open_survey(self, questionnaire=None, **create_kwargs) -> dict:
        """An open satisfaction-5 survey of the live department, with its questions."""
        questionnaire = questionnaire or load_survey_template("satisfaction-5")
        with self.app.app_context():
            db = get_db()
            dept = accounts.department_by_name(db, "信阳市平桥区人力资源和社会保障局")["id"]
            survey_id = survey_store.create_survey(db, dept, questionnaire, status="open",
                                                   **create_kwargs)
            survey = survey_store.get_survey(db, survey_id)
            survey["questions"] = survey_store.questionnaire(db, survey_id)
        return survey

    def db_value(self, sql, params=()):
        with self.app.app_context():
            return get_db().execute(sql, params).fetchone()[0]


def _populate(app) -> None:
    with app.app_context():
        db = get_db()
        dept = accounts.ensure_department(db, "信阳市平桥区人力资源和社会保障局")
        accounts.create_user(db, "alice", PASSWORD, dept, "admin")
        other = accounts.ensure_department(db, "其他部门")
        accounts.create_user(db, "mallory", PASSWORD, other, "admin")


@pytest.fixture(scope="session")
def live_template(tmp_path_factory) -> Path:
    """The instance folder every live server starts from, made once per session as `serving`
    made it each time (create_app, then the live department with alice and mallory): a copy
    is the same starting state without two scrypt hashes and the migrations per test."""
    return instance_template(tmp_path_factory, "live-template", {"BASE_URL": None}, _populate)


@contextmanager
def serving(instance: Path, template: Path | None = None):
    """A LiveServer on a fresh instance folder: the app under waitress in a thread of this
    process, the live department with alice (admin) and mallory (admin of another one).
    With `template` (from `live_template`) the folder starts as a copy of it."""
    from waitress.server import create_server
    if template is not None:
        copy_instance(template, instance)
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setenv("SURVEY_INSTANCE_PATH", str(instance))
        app = create_app({"BASE_URL": None})
        if template is None:
            _populate(app)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        server = create_server(app, host="127.0.0.1", port=port, threads=4)
        stopping = threading.Event()

        def serve():
            # waitress's own run() loops until its sockets vanish under select(); a loop that
            # checks a flag lets teardown stop it first and close every socket after, without EBADF
            while not stopping.is_set():
                server.asyncore.loop(timeout=0.05, map=server._map, count=1)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            yield LiveServer(app, "127.0.0.1", port)
        finally:
            # let a request still being answered (a download just read) finish while the loop
            # still runs
            server.task_dispatcher.shutdown(timeout=5)
            stopping.set()
            thread.join(timeout=5)
            server.asyncore.close_all(server._map)


@pytest.fixture
def live_server(tmp_path, live_template):
    with serving(tmp_path / "instance", live_template) as server:
        yield server


def _context(browser, viewport, **kwargs):
    return browser.new_context(viewport=viewport, locale="zh-CN", **kwargs)


@pytest.fixture
def page(browser):
    """A phone-sized page with a WeChat in-app user agent."""
    from ..web.test_public import WECHAT_UA
    context = _context(browser, PHONE, user_agent=WECHAT_UA, is_mobile=True, has_touch=True,
                       device_scale_factor=2)
    yield context.new_page()
    context.close()


@pytest.fixture
def staff_page(browser, live_server):
    """A desktop page logged in as alice (admin of the live server's department)."""
    context = _context(browser, DESKTOP)
    page = context.new_page()
    page.goto(live_server.url + "/staff/login")
    page.fill("input[name=username]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def image_shown(locator) -> bool:
    return locator.evaluate(_IMAGE_SHOWN)
