"""The summary of a survey with 1,000,000 responses of 10 questions: from the tallies, against a
plain GROUP BY over the same raw rows, in the same run.

    python bench/summary_bench.py                    # 1,000,000 responses
    python bench/summary_bench.py --responses 100000 # a quicker run

* tallies: store.tallies.survey_figures — every figure (counts, rates, Wilson intervals, per
  question and option) read from the tallies kept by record_response;
* GROUP BY: store.tallies.recount — the tallies rebuilt from responses, answers and screening
  with plain GROUP BY queries — then the same survey_figures, inside a transaction that is
  rolled back. Both paths must give identical figures (checked).

The data is the dashboard benchmark's (bench/dashboard_bench.py builds it in bulk). Prints both
median times and the ratio (GROUP BY / tallies); the last line is one JSON object.
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard_bench import build, timed  # noqa: E402

from survey import create_app  # noqa: E402
from survey.store.tallies import recount, survey_figures  # noqa: E402
from survey.web.db import get_db  # noqa: E402


def by_group_by(db, survey: dict) -> dict:
    db.conn.execute("BEGIN")
    try:
        recount(db, survey["id"])
        return survey_figures(db, survey)
    finally:
        db.conn.execute("ROLLBACK")


def measure(app, survey: dict, repeat: int) -> dict:
    with app.app_context():
        db = get_db()
        tallies_ms, from_tallies = timed(lambda: survey_figures(db, survey), repeat)
        group_by_ms, from_rows = timed(lambda: by_group_by(db, survey), max(1, repeat // 3))
    assert from_tallies == from_rows, "the tallies disagree with a recount"
    return {"tallies_ms": round(tallies_ms, 2), "group_by_ms": round(group_by_ms, 1),
            "ratio": round(group_by_ms / tallies_ms, 1), "returned": from_tallies["returned"]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="survey-summary-bench-"))
    try:
        os.environ["SURVEY_INSTANCE_PATH"] = str(folder)
        app = create_app()
        start = time.perf_counter()
        survey = build(app, args.responses, args.seed)["survey"]
        build_seconds = time.perf_counter() - start
        figures = measure(app, survey, args.repeat)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    assert figures["returned"] == args.responses
    print(f"{args.responses:,} responses × 10 questions (built in {build_seconds:.0f} s)")
    print(f"summary from the tallies: {figures['tallies_ms']} ms; plain GROUP BY over the raw "
          f"rows: {figures['group_by_ms']} ms; ratio {figures['ratio']}×")
    print(json.dumps({"benchmark": "summary", "responses": args.responses, "questions": 10,
                      "build_seconds": round(build_seconds, 1), "repeat": args.repeat,
                      **figures, "loadavg": round(os.getloadavg()[0], 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
