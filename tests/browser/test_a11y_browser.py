"""Every kind of page, as citizens and staff open it at 390 px (a phone) and 1366 px: axe-core
finds no violation of any impact, nothing a finger aims at is under 44 px on a phone, no
page scrolls sideways on a phone, and a screenshot of each goes to test-artifacts/.

One live server and one world of pages serve both widths; the two widths walk the tour at the
same time, each in its own Chromium (the desktop one in a thread of its own: Playwright's sync
objects belong to their thread), and each width's test judges that width's findings."""
import json
import threading

import pytest

from .a11y import (
    ARTIFACTS_REPORT,
    axe_problems,
    build_tour,
    login,
    overflowing,
    sideways_scroll,
    small_tap_targets,
    staff_pages,
)
from .conftest import ARTIFACTS, DESKTOP, PHONE, chromium, screenshot, serving

pytestmark = pytest.mark.browser
VIEWPORTS = {"phone": PHONE, "desktop": DESKTOP}


def _context(browser, kind: str):
    if kind == "phone":
        return browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True)
    return browser.new_context(viewport=DESKTOP, locale="zh-CN")


def _check(page, name: str, kind: str, findings: dict, *, taps: bool = True) -> None:
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    bad, lesser = axe_problems(page)
    entry = {"axe_serious_or_critical": bad, "axe_minor_or_moderate": lesser}
    if kind == "phone":
        entry["sideways_px"] = sideways_scroll(page, PHONE["width"])
        if entry["sideways_px"] > 0:
            entry["overflowing"] = overflowing(page, PHONE["width"])
        if taps:
            entry["small_targets"] = small_tap_targets(page)
    findings[name] = entry
    screenshot(page, f"{name}-{PHONE['width'] if kind == 'phone' else DESKTOP['width']}")


def _failures(findings: dict) -> list[str]:
    out = []
    for name, entry in findings.items():
        if entry["axe_serious_or_critical"]:
            out.append(f"{name}: axe {entry['axe_serious_or_critical']}")
        if entry["axe_minor_or_moderate"]:  # none left: keep it so
            out.append(f"{name}: axe {entry['axe_minor_or_moderate']}")
        if entry.get("sideways_px", 0) > 0:
            out.append(f"{name}: scrolls sideways by {entry['sideways_px']} px: {entry['overflowing']}")
        if entry.get("small_targets"):
            out.append(f"{name}: small tap targets {entry['small_targets'][:6]}")
    return out


def _report(kind: str, findings: dict) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / ARTIFACTS_REPORT.format(kind=kind)).write_text(
        json.dumps(findings, ensure_ascii=False, indent=1))


def _walk(browser, live_server, tour: dict, kind: str, findings: dict) -> None:
    """The whole tour at one width; `findings` gets each page's entry as it is checked."""
    token, closed = tour["survey"]["token"], tour["closed"]["token"]
    context = _context(browser, kind)
    page = context.new_page()
    try:
        for name, path in [("public-index", "/"), ("public-form", f"/s/{token}?via=qr"),
                           ("public-form-large", f"/s/{token}?via=qr&large=1"),
                           ("public-closed", f"/s/{closed}"), ("staff-login", "/staff/login"),
                           ("public-kiosk", f"/k/{tour['kiosk']}"),
                           ("public-invitation", f"/t/{tour['invitation']}")]:
            page.goto(live_server.url + path)
            _check(page, name, kind, findings, taps=True)
        page.goto(f"{live_server.url}/s/{token}?via=qr")
        page.click("button.submit")
        page.wait_for_selector(".error-summary")
        _check(page, "public-form-errors", kind, findings)
        for q in tour["survey"]["questions"]:
            if q["kind"] == "scale" or q["kind"] == "single":
                page.locator(f"#question-{q['id']} label.choice").nth(0).click()
        page.click("button.submit")
        page.wait_for_url(f"**/s/{token}/thanks*")
        _check(page, "public-thanks", kind, findings)
        user = None
        for name, path, who in staff_pages(tour):
            if who != user:
                context.clear_cookies()
                login(page, live_server, who)
                user = who
            response = page.goto(live_server.url + path)
            assert response.status == 200, (name, response.status)
            _check(page, name, kind, findings)
    finally:
        context.close()
        _report(kind, findings)


@pytest.fixture(scope="module")
def tours(browser, tmp_path_factory, live_template):
    """{kind: (findings, the exception that stopped the walk or None)} for both widths."""
    findings = {kind: {} for kind in VIEWPORTS}
    errors = dict.fromkeys(VIEWPORTS)

    def walk(kind, browser):
        try:
            _walk(browser, live_server, tour, kind, findings[kind])
        except BaseException as error:  # judged by that width's test
            errors[kind] = error

    def walk_desktop():
        try:
            with chromium() as own:
                walk("desktop", own)
        except BaseException as error:
            errors["desktop"] = errors["desktop"] or error

    with serving(tmp_path_factory.mktemp("a11y") / "instance", live_template) as live_server:
        tour = build_tour(live_server)
        desktop = threading.Thread(target=walk_desktop, daemon=True)
        desktop.start()
        walk("phone", browser)
        desktop.join(timeout=600)
        assert not desktop.is_alive(), "the desktop walk did not finish"
    return {kind: (findings[kind], errors[kind]) for kind in VIEWPORTS}


@pytest.mark.parametrize("kind", ["phone", "desktop"])
def test_every_page_is_accessible(tours, kind):
    findings, error = tours[kind]
    if error is not None:
        raise error
    failures = _failures(findings)
    assert not failures, "\n".join(failures)
