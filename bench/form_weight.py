"""The public form's weight: bytes transferred for its first load in headless Chromium.

    python bench/form_weight.py [--budget BYTES]

A fresh browser profile (nothing cached) at a phone viewport opens /s/<token>?via=qr, as a
citizen scanning the QR code does, through `survey serve` on loopback. Every request is counted:
response headers and body as they crossed the wire (Playwright's request.sizes()), and the
decoded body. The last line is one JSON object; `ratio` is total bytes / budget (default 14,600
bytes: what a server may send in its first TCP round trip, ten segments — a page within it shows
on a slow 3G phone after a single round trip).
"""
import argparse
import json
import sys
import tempfile
from pathlib import Path

import _common

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
FIRST_ROUND_TRIP = 14_600


def _used_css_bytes(cdp) -> int:
    """Bytes of the stylesheet's rules that the page actually applies (Chromium rule usage)."""
    usage = cdp.send("CSS.stopRuleUsageTracking")["ruleUsage"]
    return sum(u["endOffset"] - u["startOffset"] for u in usage if u["used"])


def weigh(url: str) -> tuple[list[dict], int]:
    """Every request of the page's first load, and the CSS bytes it used."""
    from playwright.sync_api import sync_playwright
    resources = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 390, "height": 844},
                                       is_mobile=True).new_page()
            finished = []
            page.on("requestfinished", lambda request: finished.append(request))
            cdp = page.context.new_cdp_session(page)
            for command in ("DOM.enable", "CSS.enable", "CSS.startRuleUsageTracking"):
                cdp.send(command)
            page.goto(url, wait_until="networkidle")
            css_used = _used_css_bytes(cdp)
            for request in finished:
                response = request.response()
                sizes = request.sizes()
                resources.append({
                    "url": request.url, "status": response.status if response else None,
                    "type": request.resource_type,
                    "body_bytes": len(response.body()) if response else 0,
                    "transferred": sizes["responseHeadersSize"] + sizes["responseBodySize"],
                })
        finally:
            browser.close()
    return resources, css_used


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=int, default=FIRST_ROUND_TRIP)
    parser.add_argument("--no-compress", action="store_true",
                        help="serve without compression (the figure before flask-compress)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="survey-weight-") as tmp:
        instance = Path(tmp) / "instance"
        survey = _common.prepare_instance(instance, title="群众满意度调查问卷",
                                          config="COMPRESS_REGISTER = False" if args.no_compress else "")
        with _common.Server(instance, workers=2) as server:
            resources, css_used = weigh(f"{server.url}/s/{survey['token']}?via=qr")
    for r in sorted(resources, key=lambda r: r["type"] != "document"):
        print(f"{r['type']:>10} {r['status']} {r['transferred']:>7} B on the wire, "
              f"{r['body_bytes']:>7} B body  {r['url'].split('?')[0]}")
    total = sum(r["transferred"] for r in resources)
    figures = {"requests": len(resources), "transferred_bytes": total,
               "body_bytes": sum(r["body_bytes"] for r in resources),
               "html_bytes": sum(r["body_bytes"] for r in resources if r["type"] == "document"),
               "css_bytes": sum(r["body_bytes"] for r in resources if r["type"] == "stylesheet"),
               "css_used_bytes": css_used,
               "budget_bytes": args.budget, "ratio": round(total / args.budget, 3),
               "compressed": not args.no_compress}
    print(f"first load: {figures['requests']} requests, {total} bytes transferred "
          f"({figures['ratio']:.0%} of the {args.budget}-byte budget); the page applies "
          f"{css_used} of the stylesheet's {figures['css_bytes']} bytes")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
