"""CPU per submission, in process (Flask test client, no network, no server threads).

    python bench/cpu_bench.py                  # 300 submissions after a warm-up
    python bench/cpu_bench.py --rounds 1000
    python bench/cpu_bench.py --profile out.pstats   # also write a cProfile of the path

A fresh instance (temporary folder) with the 10-question satisfaction survey, open. Each round
is what `run.py submit` sends a server: GET /s/<token>?via=qr (the form with its ticket, counted
as a form view), then POST /s/<token> with answers to every question and that ticket (303).
Against it, the bare endpoint GET / (same app, same middleware, no database). Timings are CPU
time of this process (time.process_time: waiting on fsync is not counted, the work is), best
median of --repeat interleaved passes, so a neighbour's load on the same cores barely moves
them. Also counted: SQL statements per submission (sqlite3 trace callback).

Figures in the JSON line: `get_ms`, `post_ms`, `submission_ms` (GET + POST), `bare_ms`,
`get_ratio`, `post_ratio`, `submission_ratio` (each / bare_ms), `statements_per_submission`,
`rounds`, and the wall time of a submission `submission_wall_ms` (includes fsync).
"""
import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TICKET = re.compile(r'name="ticket"[^>]*value="([^"]+)"')
CHOICE = re.compile(r'<input[^>]*name="(q\d+)"[^>]*type="(radio|checkbox)"[^>]*value="(\d+)"')


def make_app(instance: Path):
    os.environ["SURVEY_INSTANCE_PATH"] = str(instance)
    from survey import create_app
    from survey.core.questionnaire import load_survey_template
    from survey.store import accounts
    from survey.store import surveys as survey_store
    from survey.web.db import get_db
    app = create_app({"SUBMIT_RATE_LIMIT": 1_000_000_000})
    with app.app_context():
        db = get_db()
        department = accounts.ensure_department(db, "基准测试部门")
        survey_id = survey_store.create_survey(db, department, load_survey_template(
            "satisfaction-5"), title="CPU 基准问卷", status="open")
        token = survey_store.get_survey(db, survey_id)["token"]
    return app, token


def answers(html: str, rng: random.Random) -> dict:
    options: dict[str, list[str]] = {}
    for name, _kind, value in CHOICE.findall(html):
        options.setdefault(name, []).append(value)
    return {name: rng.choice(values) for name, values in options.items()}


class Counter:
    def __init__(self):
        self.n = 0

    def __call__(self, _sql):
        self.n += 1


STATEMENTS = Counter()


def trace_statements() -> None:
    """Count every statement of every connection opened from now on (a cheap callback)."""
    import sqlite3
    original_connect = sqlite3.connect

    def traced_connect(*args, **kwargs):
        conn = original_connect(*args, **kwargs)
        conn.set_trace_callback(STATEMENTS)
        return conn

    sqlite3.connect = traced_connect


def run(app, token: str, rounds: int, repeat: int) -> dict:
    client = app.test_client()
    rng = random.Random(1)
    def one_submission(record):
        t0, w0 = time.process_time(), time.perf_counter()
        page = client.get(f"/s/{token}?via=qr")
        t1 = time.process_time()
        html = page.get_data(as_text=True)
        body = {**answers(html, rng), "ticket": TICKET.search(html).group(1)}
        t2 = time.process_time()
        done = client.post(f"/s/{token}", data=urllib.parse.urlencode(body),
                           content_type="application/x-www-form-urlencoded")
        t3, w3 = time.process_time(), time.perf_counter()
        assert page.status_code == 200 and done.status_code == 303, (page.status_code,
                                                                      done.status_code)
        record["get"].append(t1 - t0)
        record["post"].append(t3 - t2)
        record["wall"].append(w3 - w0)

    def one_bare(record):
        t0 = time.process_time()
        assert client.get("/").status_code == 200
        record["bare"].append(time.process_time() - t0)

    for _ in range(20):  # warm-up: templates compiled, caches filled
        one_submission({"get": [], "post": [], "wall": []})
        one_bare({"bare": []})
    passes = []
    for _ in range(repeat):
        record = {"get": [], "post": [], "wall": [], "bare": []}
        for _ in range(rounds // repeat):
            one_bare(record)
            one_submission(record)
            one_bare(record)
        passes.append({k: statistics.median(v) * 1000 for k, v in record.items()})
    best = {k: min(p[k] for p in passes) for k in passes[0]}
    before = STATEMENTS.n
    one_submission({"get": [], "post": [], "wall": []})
    per_submission = STATEMENTS.n - before
    submission = best["get"] + best["post"]
    return {
        "get_ms": round(best["get"], 3), "post_ms": round(best["post"], 3),
        "submission_ms": round(submission, 3), "bare_ms": round(best["bare"], 3),
        "get_ratio": round(best["get"] / best["bare"], 2),
        "post_ratio": round(best["post"] / best["bare"], 2),
        "submission_ratio": round(submission / best["bare"], 2),
        "submission_wall_ms": round(best["wall"], 3),
        "statements_per_submission": per_submission, "rounds": rounds, "repeat": repeat,
        "loadavg": round(os.getloadavg()[0], 2),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", help="write a cProfile of --rounds submissions here")
    args = parser.parse_args(argv)
    trace_statements()
    with tempfile.TemporaryDirectory(prefix="survey-cpu-") as tmp:
        app, token = make_app(Path(tmp) / "instance")
        figures = run(app, token, args.rounds, args.repeat)
        if args.profile:
            import cProfile
            profiler = cProfile.Profile()
            profiler.enable()
            run(app, token, args.rounds, 1)
            profiler.disable()
            profiler.dump_stats(args.profile)
    print(f"per submission: GET {figures['get_ms']} ms + POST {figures['post_ms']} ms of CPU "
          f"= {figures['submission_ms']} ms ({figures['submission_ratio']}× a bare request, "
          f"{figures['bare_ms']} ms); {figures['statements_per_submission']} SQL statements; "
          f"wall {figures['submission_wall_ms']} ms")
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
