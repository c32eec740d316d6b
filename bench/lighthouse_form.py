"""Lighthouse 12.2.3 (mobile) on the public form, served by `survey serve` on loopback.

    python bench/lighthouse_form.py [--runs N]

Lighthouse is installed into bench/node_modules on first use (`npm i -E lighthouse@12.2.3`,
gitignored) and drives Debian's Chromium (CHROME_PATH=/usr/bin/chromium). Mobile is
Lighthouse's default: a Moto G Power sized screen, 4× CPU slowdown and simulated slow 4G. The
scores of each run and their median are printed; the last line is one JSON object with the
median scores (0–100), the median metrics and the audits that did not pass.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import _common

BENCH_DIR = Path(__file__).resolve().parent
LIGHTHOUSE_VERSION = "12.2.3"
LIGHTHOUSE = BENCH_DIR / "node_modules" / "lighthouse" / "cli" / "index.js"
CHROMIUM = "/usr/bin/chromium"
CHROME_FLAGS = ("--headless --no-sandbox --disable-gpu --disable-background-networking "
                "--disable-component-update")
CATEGORIES = ("performance", "accessibility", "best-practices", "seo")
METRICS = ("first-contentful-paint", "largest-contentful-paint", "total-blocking-time",
           "cumulative-layout-shift", "speed-index")
TARGETS = {"accessibility": 100, "best-practices": 100, "performance": 95}


def ensure_lighthouse() -> None:
    if LIGHTHOUSE.exists():
        return
    subprocess.run(["npm", "i", "-E", "--no-audit", "--no-fund", "--prefix", str(BENCH_DIR),
                    f"lighthouse@{LIGHTHOUSE_VERSION}"], check=True, timeout=900)


def lighthouse(url: str) -> dict:
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    out = subprocess.run(
        ["node", str(LIGHTHOUSE), url, "--output=json", "--output-path=stdout", "--quiet",
         f"--only-categories={','.join(CATEGORIES)}", f"--chrome-flags={CHROME_FLAGS}"],
        env=env, capture_output=True, text=True, check=True, timeout=300).stdout
    return json.loads(out)


def summary(report: dict) -> dict:
    scores = {c: round(report["categories"][c]["score"] * 100) for c in CATEGORIES}
    metrics = {m: report["audits"][m]["numericValue"] for m in METRICS}
    failing = sorted(
        f"{c}:{ref['id']}" for c in CATEGORIES for ref in report["categories"][c]["auditRefs"]
        if ref["weight"] > 0 and (report["audits"][ref["id"]]["score"] is not None)
        and report["audits"][ref["id"]]["score"] < 1)
    return {"scores": scores, "metrics": metrics, "failing": failing,
            "version": report["lighthouseVersion"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    ensure_lighthouse()
    runs = []
    with tempfile.TemporaryDirectory(prefix="survey-lighthouse-") as tmp:
        instance = Path(tmp) / "instance"
        survey = _common.prepare_instance(instance, title="群众满意度调查问卷")
        with _common.Server(instance, workers=2) as server:
            url = f"{server.url}/s/{survey['token']}?via=qr"
            for number in range(args.runs):
                run = summary(lighthouse(url))
                runs.append(run)
                print(f"run {number + 1}: " + ", ".join(f"{c} {s}" for c, s in run["scores"].items())
                      + (f"; not passed: {', '.join(run['failing'])}" if run["failing"] else ""))
    median = {c: statistics.median(r["scores"][c] for r in runs) for c in CATEGORIES}
    metrics = {m: round(statistics.median(r["metrics"][m] for r in runs), 3) for m in METRICS}
    failing = sorted({f for r in runs for f in r["failing"]})
    met = all(median[c] >= t for c, t in TARGETS.items())
    print(f"median of {len(runs)} runs (Lighthouse {runs[0]['version']}, mobile): "
          + ", ".join(f"{c} {s:g}" for c, s in median.items())
          + f"; targets {'met' if met else 'NOT met'}")
    print(json.dumps({"performance": median["performance"], "accessibility": median["accessibility"],
                      "best_practices": median["best-practices"], "seo": median["seo"],
                      "runs": len(runs), "metrics_ms": metrics, "failing": failing,
                      "targets_met": met, "lighthouse": runs[0]["version"],
                      "loadavg": round(os.getloadavg()[0], 2)}))
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
