"""Dashboard page time for a survey with 1,000,000 responses, against the summary JSON call.

    python bench/dashboard_bench.py                    # 1,000,000 responses of 10 questions
    python bench/dashboard_bench.py --responses 50000  # a quicker run
    python bench/dashboard_bench.py --verify           # also check the tallies by recount

The data is written straight into SQLite in bulk (responses, answers, screening, with the hash
chain), and the tallies are counted in the same pass, as record_response would have left them.
Then, in one process through the Flask test client (server work only, no network):
  * summary: GET /api/v1/surveys/<id>/summary (computes every figure from the tallies);
  * page cold: the first dashboard view (figures and channel rates computed, then cached);
  * page warm: the dashboard with nothing new (served from the cache);
  * page after one new response: a citizen's answer stored through record_response, then the
    dashboard (the data version moved: figures recomputed);
  * chart warm / after new response: the stacked-bar SVG from the cache / redrawn.
Prints a table, the ratios to the summary call, and a final JSON line.
"""
import argparse
import contextlib
import datetime as dt
import json
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from survey import create_app  # noqa: E402
from survey.core.chain import GENESIS, response_hash  # noqa: E402
from survey.core.questionnaire import load_survey_template  # noqa: E402
from survey.store import accounts, tallies  # noqa: E402
from survey.store import surveys as survey_store  # noqa: E402
from survey.store.responses import Submission, chain_record, record_response  # noqa: E402
from survey.store.util import CHINA_TZ, iso  # noqa: E402
from survey.web.db import get_db  # noqa: E402

CHANNELS = ["窗口 1", "窗口 2", "窗口 3", "大厅海报", ""]
SOURCES = ["qr", "qr", "qr", "web", "paper"]
LEVEL_WEIGHTS = [55, 30, 9, 4, 2]
SUGGESTIONS = ["希望周末也能开放窗口。", "取号机经常排长队，建议增加自助设备。", "大厅停车位太少。",
               "工作人员态度很好，点赞！", "社保卡补办流程可以再简化一些。"]
BATCH = 50_000
DAYS = 365


def _questions_by_kind(questions):
    scale = [q for q in questions if q["kind"] == "scale"]
    single = [q for q in questions if q["kind"] == "single"]
    text = [q for q in questions if q["kind"] == "text"]
    return scale, single, text


class Builder:
    """Generates responses and writes them in batches, counting the tallies as it goes."""

    def __init__(self, db, survey, questions, rng):
        self.db, self.survey, self.rng = db, survey, rng
        self.scale, self.single, self.text = _questions_by_kind(questions)
        self.response_tallies = Counter()
        self.answer_tallies = Counter()
        self.next_id = (db.execute("SELECT coalesce(max(id), 0) + 1 FROM responses")
                        .fetchone()[0])
        self.prev_hash = GENESIS
        self.start = dt.datetime(2025, 1, 1, 1, tzinfo=CHINA_TZ)

    def _answers(self):
        mood = self.rng.choices(range(5), LEVEL_WEIGHTS)[0]
        rows = [(q["id"], q["options"][min(4, max(0, mood + self.rng.choice((0, 0, 0, 1, -1))))]
                 ["id"], None) for q in self.scale]
        for q in self.single:
            rows.append((q["id"], self.rng.choice(q["options"])["id"], None))
        for q in self.text:
            if self.rng.random() < 0.1:
                rows.append((q["id"], None, self.rng.choice(SUGGESTIONS)))
        return rows

    def _response(self, i):
        rid = self.next_id + i
        when = self.start + dt.timedelta(seconds=self.rng.randrange(DAYS * 86400))
        duration = round(self.rng.uniform(4, 240), 1)
        row = {"id": rid, "survey_id": self.survey["id"], "received_at": iso(when),
               "day": when.astimezone(CHINA_TZ).date().isoformat(),
               "source": self.rng.choice(SOURCES), "channel": self.rng.choice(CHANNELS),
               "duration_seconds": duration, "device_hash": None, "nonce": secrets.token_hex(8)}
        answers = self._answers()
        record = chain_record(row, [{"question_id": q, "option_id": o, "text": t}
                                    for q, o, t in answers])
        row["prev_hash"], row["hash"] = self.prev_hash, response_hash(self.prev_hash, record)
        self.prev_hash = row["hash"]
        return row, answers, duration >= 10

    def _count(self, row, answers, valid):
        key = (row["day"], row["source"], row["channel"])
        self.response_tallies[key + ("returned",)] += 1
        self.response_tallies[key + ("valid",)] += valid
        if not valid:
            return
        for question_id in {q for q, _, _ in answers}:
            self.answer_tallies[key + (question_id, 0)] += 1
        for question_id, option_id, _ in answers:
            if option_id:
                self.answer_tallies[key + (question_id, option_id)] += 1

    def write(self, count):
        # Responses arrive in time order, as they would have; ids follow that order.
        for start in range(0, count, BATCH):
            batch = [self._response(i) for i in range(start, min(count, start + BATCH))]
            self._insert(batch)
        self._insert_tallies()

    def _insert(self, batch):
        conn = self.db.conn
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO responses (id, survey_id, received_at, day, source, channel, "
            "duration_seconds, device_hash, nonce, prev_hash, hash) VALUES (:id, :survey_id, "
            ":received_at, :day, :source, :channel, :duration_seconds, :device_hash, :nonce, "
            ":prev_hash, :hash)", [row for row, _, _ in batch])
        conn.executemany("INSERT INTO answers (response_id, question_id, option_id, text) "
                         "VALUES (?, ?, ?, ?)",
                         [(row["id"], *a) for row, answers, _ in batch for a in answers])
        conn.executemany(
            "INSERT INTO screening (response_id, valid, reasons) VALUES (?, ?, ?)",
            [(row["id"], int(valid), "[]" if valid else '["too_fast"]')
             for row, _, valid in batch])
        conn.execute("COMMIT")
        for row, answers, valid in batch:
            self._count(row, answers, int(valid))

    def _insert_tallies(self):
        sid = self.survey["id"]
        keys = {k[:3] for k in self.response_tallies}
        conn = self.db.conn
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO response_tallies (survey_id, day, source, channel, returned, valid) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(sid, *k, self.response_tallies[k + ("returned",)],
              self.response_tallies[k + ("valid",)]) for k in sorted(keys)])
        conn.executemany(
            "INSERT INTO answer_tallies (survey_id, day, source, channel, question_id, "
            "option_id, count) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(sid, *k, c) for k, c in self.answer_tallies.items()])
        conn.execute("COMMIT")


@contextlib.contextmanager
def bulk_load(db):
    """Load without a journal or fsync, and build the indexes once at the end: creating an
    index over ten million sorted rows is far quicker than updating it row by row."""
    indexes = [tuple(r) for r in db.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
        "AND tbl_name IN ('responses', 'answers', 'screening')")]
    for name, _ in indexes:
        db.execute(f"DROP INDEX {name}")
    db.execute("PRAGMA journal_mode = OFF")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -400000")
    yield
    for _, sql in indexes:
        db.execute(sql)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")


def build(app, responses: int, seed: int) -> dict:
    with app.app_context():
        db = get_db()
        dept = accounts.ensure_department(db, "信阳市平桥区人力资源和社会保障局")
        accounts.create_user(db, "bench", secrets.token_urlsafe(12), dept, "admin")
        survey_id = survey_store.create_survey(
            db, dept, load_survey_template("satisfaction-5"), title="基准测试：百万份答卷",
            status="open", year=2025, series="群众满意度调查")
        survey = survey_store.get_survey(db, survey_id)
        questions = survey_store.questionnaire(db, survey_id)
        with bulk_load(db):
            Builder(db, survey, questions, random.Random(seed)).write(responses)
        db.execute("ANALYZE")
        return {"survey": survey, "questions": questions, "user_id": 1}


def verify(app, survey) -> None:
    """The bulk-loaded tallies must equal a recount from the raw rows."""
    with app.app_context():
        db = get_db()
        before = tallies.survey_figures(db, survey)
        tallies.recount(db, survey["id"])
        after = tallies.survey_figures(db, survey)
    assert before == after, "bulk tallies differ from recount"


def timed(call, repeat: int, before=None) -> tuple[float, object]:
    """Median milliseconds of `call`; `before` runs first each time, untimed."""
    samples, result = [], None
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        result = call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), result


def get_ok(client, url):
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response


def new_response(app, survey, questions, rng):
    answers = {q["id"]: [q["options"][rng.randrange(2)]["id"]]
               for q in questions if q["kind"] == "scale"}
    with app.app_context():
        record_response(get_db(), survey, questions, Submission(
            answers=answers, nonce=secrets.token_hex(8), channel="窗口 1",
            duration_seconds=42.0))


def measure(app, built, repeat: int) -> dict:
    survey, questions = built["survey"], built["questions"]
    client = app.test_client()
    with client.session_transaction() as session:
        session["user_id"] = built["user_id"]
    page = f"/staff/surveys/{survey['id']}/"
    chart = f"/staff/surveys/{survey['id']}/charts/levels.svg"
    summary = f"/api/v1/surveys/{survey['id']}/summary"
    rng = random.Random(1)
    results = {}
    results["summary_ms"], _ = timed(lambda: get_ok(client, summary), repeat)
    results["page_cold_ms"], _ = timed(lambda: get_ok(client, page), 1)
    results["page_warm_ms"], html = timed(lambda: get_ok(client, page), repeat)
    results["chart_cold_ms"], _ = timed(lambda: get_ok(client, chart), 1)
    results["chart_warm_ms"], _ = timed(lambda: get_ok(client, chart), repeat)

    def answer():
        new_response(app, survey, questions, rng)
    results["page_after_new_response_ms"], _ = timed(lambda: get_ok(client, page), repeat,
                                                     before=answer)
    results["chart_after_new_response_ms"], _ = timed(lambda: get_ok(client, chart), repeat,
                                                      before=answer)
    returned = html.get_data(as_text=True).split('data-figure="returned">')[1].split("<")[0]
    results["returned_on_page"] = int(returned)
    return results


def report(args, build_seconds, results) -> None:
    summary = results["summary_ms"]
    print(f"\n{args.responses:,} responses × 10 questions; data build {build_seconds:.1f} s")
    print(f"{'call':<34}{'median ms':>12}{'× summary':>12}")
    for key in ("summary_ms", "page_cold_ms", "page_warm_ms", "page_after_new_response_ms",
                "chart_cold_ms", "chart_warm_ms", "chart_after_new_response_ms"):
        print(f"{key:<34}{results[key]:>12.1f}{results[key] / summary:>12.2f}")
    line = {"benchmark": "dashboard", "responses": args.responses, "questions": 10,
            "build_seconds": round(build_seconds, 1), "repeat": args.repeat,
            **{k: round(v, 2) if isinstance(v, float) else v for k, v in results.items()},
            "ratio_page_warm_to_summary": round(results["page_warm_ms"] / summary, 3),
            "ratio_page_after_new_to_summary": round(
                results["page_after_new_response_ms"] / summary, 3)}
    print(json.dumps(line, ensure_ascii=False))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description="看板页面在百万份答卷下的响应时间")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--verify", action="store_true", help="recount and compare tallies")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="survey-dashboard-bench-"))
    os.environ["SURVEY_INSTANCE_PATH"] = str(folder)
    app = create_app()
    start, cpu = time.perf_counter(), time.process_time()
    built = build(app, args.responses, args.seed)
    build_seconds = time.perf_counter() - start
    print(f"数据生成：{build_seconds:.1f} 秒（CPU {time.process_time() - cpu:.1f} 秒）",
          file=sys.stderr)
    if args.verify:
        verify(app, built["survey"])
    results = measure(app, built, args.repeat)
    assert results["returned_on_page"] == args.responses, "page shows the wrong count"
    report(args, build_seconds, results)
    if args.keep:
        print(f"实例目录：{folder}", file=sys.stderr)
    else:
        import shutil
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
