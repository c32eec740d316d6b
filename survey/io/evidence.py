"""The evidence package (佐证材料): one ZIP per survey for the auditors.

It holds the raw responses, the summary, the charts, the questionnaire as asked, the screening
rules with every excluded response, the manual validity decisions and the hash-chain records,
with a manifest giving the SHA-256 of every file and a digest of the database state. The
package is read back and checked by `verify_package` (see evidence_verify.py) without the
database; `compare_with_database` checks it against a live one.
"""
import datetime as dt
import hashlib
import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass

from ..core import labels
from ..core.chain import GENESIS, canonical, verify_chain
from ..core.errors import DomainError
from ..core.screening import REASON_TEXT
from ..store import evidence as rows
from ..store.responses import chain_record, screening_rules
from ..store.surveys import questionnaire
from ..store.tallies import survey_figures
from ..store.util import iso, utc_now
from ..store.wording import wording_history
from . import charts, exports
from .evidence_scoring import assessment_files
from .summary_export import summary_tables

FORMAT = "survey-evidence/1"
MANIFEST = "manifest.json"
CHAIN_FILE = "chain.jsonl"
RESPONSES_FILE = "responses.csv"
EXCLUDED_FILE = "excluded.csv"
DECISIONS_FILE = "validity_decisions.json"
CHANGES_FILE = "changes.json"
DESCRIPTIONS = {
    "README.txt": "说明：各文件的内容与核验方法",
    RESPONSES_FILE: "原始答卷：每行一份答卷，含提交时间、来源、渠道、有效性、各题答案及分值",
    "summary.xlsx": "统计汇总（Excel）：各项指标及计算口径、各题各选项人数及占比、每日回收",
    "summary.csv": "统计汇总（CSV）：内容同 summary.xlsx",
    "questionnaire.json": "问卷原貌：问卷设置、题目、选项及分值（含题目和选项编号）；每题的 wordings "
                          "列出收到答卷后用过的每种措辞（题目和选项文字）、使用起止时间（UTC）及其间提交并作答本题的答卷份数",
    "screening.json": "有效性筛选规则及被排除答卷的数量",
    EXCLUDED_FILE: "被排除的每份答卷及其排除原因",
    DECISIONS_FILE: "人工有效性判定记录（只追加，不修改）",
    CHANGES_FILE: "本问卷的操作记录（时间为 UTC）：创建、设置修改（含修改前后）、题目措辞修改、开放与结束、"
                  "发放登记、纸质问卷录入与导入、窗口负责人、归档与恢复，含操作人",
    CHAIN_FILE: "哈希链：每份答卷的记录、前序哈希和本条哈希，可离线重新计算",
}


class EvidenceError(DomainError):
    """A package that cannot be built or read."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pretty_json(value) -> bytes:
    """The one serialisation of JSON files in the package (so a rewrite is detectable)."""
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


def manifest_digest(manifest: dict) -> str:
    return sha256_hex(canonical({k: v for k, v in manifest.items()
                                 if k != "manifest_sha256"}).encode())


# --- the database state ------------------------------------------------------------------------

def state_digest(state: dict) -> str:
    return sha256_hex(canonical({k: v for k, v in state.items() if k != "digest"}).encode())


def make_state(survey_id: int, responses: int, valid: int, chain_head: str,
               decisions: list[dict]) -> dict:
    state = {"survey_id": survey_id, "responses": responses, "valid": valid,
             "chain_head": chain_head, "validity_decisions": len(decisions),
             "validity_log_sha256": sha256_hex(canonical(decisions).encode())}
    state["digest"] = state_digest(state)
    return state


def database_state(db, survey_id: int) -> dict:
    """What the figures were taken from: chain head, counts and the validity log."""
    responses, valid, head = rows.counts_and_head(db, survey_id)
    return make_state(survey_id, responses, valid, head or GENESIS,
                      rows.validity_decisions(db, survey_id))


# --- the chain records ------------------------------------------------------------------------

def chain_links(db, survey_id: int) -> Iterator[tuple[dict, str, str]]:
    """(record the hash covers, prev_hash, hash) per response, streamed in id order."""
    for row, answers in rows.chain_rows(db, survey_id):
        yield chain_record(row, answers), row["prev_hash"], row["hash"]


def chain_problems(db, survey_id: int) -> list[str]:
    return verify_chain(chain_links(db, survey_id))


# --- building ---------------------------------------------------------------------------------

class _Hashing:
    """A write-through file object that hashes and counts what passes."""

    def __init__(self, raw):
        self.raw, self.sha, self.size = raw, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)


@dataclass
class _Package:
    zf: zipfile.ZipFile
    files: dict

    def add(self, name: str, data: bytes, description: str | None = None) -> None:
        self.zf.writestr(name, data)
        self._record(name, sha256_hex(data), len(data), description)

    def add_stream(self, name: str, chunks) -> None:
        info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
        info.compress_type = zipfile.ZIP_DEFLATED
        with self.zf.open(info, "w", force_zip64=True) as member:
            out = _Hashing(member)
            for chunk in chunks:
                out.write(chunk)
        self._record(name, out.sha.hexdigest(), out.size, None)

    def _record(self, name, digest, size, description):
        self.files[name] = {"sha256": digest, "bytes": size,
                            "description": description or DESCRIPTIONS.get(name, "")}


def _chain_lines(links, kept: list) -> Iterator[bytes]:
    for record, prev_hash, stored in links:
        kept[0] = stored
        kept[1] += 1
        yield (canonical({"record": record, "prev_hash": prev_hash, "hash": stored})
               + "\n").encode()


def _questionnaire_json(db, survey: dict, questions: list[dict]) -> dict:
    """The questionnaire as it stands, and per question every wording responses were given
    under (the current one last), so an auditor sees what each citizen was asked."""
    keep = ("id", "title", "intro", "department_name", "status", "opens_at", "closes_at",
            "year", "series", "dedupe_policy", "settings", "created_at", "updated_at", "archived_at")
    return {"survey": {k: survey.get(k) for k in keep}, "questions": [
        {**{k: q[k] for k in ("id", "position", "kind", "text", "required")},
         "options": [{k: o[k] for k in ("id", "position", "label", "value", "satisfied")}
                     for o in q["options"]],
         "wordings": wording_history(db, q)} for q in questions]}


def excluded_table(db, survey_id: int) -> exports.Table:
    def row(r):
        return [r[0], labels.china_time(r[1], seconds=True), labels.source_name(r[2]), r[3],
                exports.validity_text(r[5], r[6], r[7], r[8])]
    cursor = rows.response_cursor(db, survey_id, excluded_only=True)
    header = ["答卷编号", "提交时间（北京时间）", "来源", "渠道", "排除原因"]
    return exports.Table("被排除的答卷", header, (row(r) for r in cursor))


def _chart_files(figures: dict) -> tuple[dict[str, bytes], str]:
    """PNG charts, or none and a note saying why."""
    try:
        return {f"charts/{kind}.png": charts.render(kind, figures, "png")
                for kind in ("levels", "daily")}, "图表为 PNG，按打印分辨率生成"
    except DomainError as error:
        return {}, f"图表未能生成：{error}"


def build_package(db, survey: dict, out, *, now: dt.datetime | None = None) -> dict:
    """Write the package to `out` (a path or binary file); returns the manifest."""
    with rows.read_snapshot(db):
        questions = questionnaire(db, survey["id"])
        figures = survey_figures(db, survey)
        state = database_state(db, survey["id"])
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            package = _Package(zf, {})
            notes = _add_files(db, survey, questions, figures, state, package)
            manifest = _manifest(survey, figures, state, package.files, notes, now)
            zf.writestr(MANIFEST, pretty_json(manifest))
    return manifest


def _add_files(db, survey, questions, figures, state, package: _Package) -> list[str]:
    rules = screening_rules(survey)
    package.add("README.txt", readme_text(survey).encode())
    raw = exports.raw_table(db, survey, questions, values=True)
    package.add_stream(RESPONSES_FILE, exports.csv_chunks([raw]))
    tables = summary_tables(figures)
    summary = io.BytesIO()
    exports.write_xlsx(tables, summary)
    package.add("summary.xlsx", summary.getvalue())
    package.add("summary.csv", b"".join(exports.csv_chunks(summary_tables(figures))))
    charts, charts_note = _chart_files(figures)
    for name, png in charts.items():
        package.add(name, png, "图表（PNG）")
    package.add("questionnaire.json", pretty_json(_questionnaire_json(db, survey, questions)))
    package.add("screening.json", pretty_json({
        "rules": rules.to_dict(), "description": rules.describe(), "reason_text": REASON_TEXT,
        "excluded": state["responses"] - state["valid"], "excluded_file": EXCLUDED_FILE}))
    package.add_stream(EXCLUDED_FILE, exports.csv_chunks([excluded_table(db, survey["id"])]))
    package.add(DECISIONS_FILE, pretty_json(rows.validity_decisions(db, survey["id"])))
    package.add(CHANGES_FILE, pretty_json(rows.survey_changes(db, survey["id"])))
    scoring, scoring_note = assessment_files(db, survey)
    for name, content in scoring.items():
        package.add(name, content, "关联自评：评分规则、实际值来源及每项得分的推导")
    kept = [GENESIS, 0]
    package.add_stream(CHAIN_FILE, _chain_lines(chain_links(db, survey["id"]), kept))
    if kept[0] != state["chain_head"] or kept[1] != state["responses"]:
        raise EvidenceError("生成期间数据发生变化，请重新生成材料包")
    return [charts_note, scoring_note]


def _manifest(survey, figures, state, files, notes, now) -> dict:
    keep = ("issued", "returned", "valid", "invalid", "satisfaction_rate",
            "satisfaction_rate_ci95", "satisfaction_index", "n")
    manifest = {
        "format": FORMAT, "generated_at": iso(now or utc_now()),
        "survey": {"id": survey["id"], "title": survey["title"],
                   "department": survey.get("department_name")},
        "database_state": state, "figures": {k: figures.get(k) for k in keep},
        "files": files, "notes": notes,
    }
    manifest["manifest_sha256"] = manifest_digest(manifest)
    return manifest


def readme_text(survey: dict) -> str:
    listed = "\n".join(f"  {name}：{text}" for name, text in DESCRIPTIONS.items())
    return (f"佐证材料：{survey['title']}（问卷编号 {survey['id']}）\n\n文件：\n{listed}\n"
            "  charts/*.png：图表\n  manifest.json：每个文件的 SHA-256 及数据库状态摘要\n\n"
            "核验：在本系统中运行 `survey verify 材料包.zip`，将逐个核对文件摘要并重新计算哈希链；"
            "任何文件被改动、缺失或多出，都会指明是哪一个文件。\n"
            "答卷只追加、不修改：作废或更正都是新增的记录，每份答卷的哈希都包含前一份的哈希，"
            "删除或改动任何一份都会使其后的哈希全部不符。\n")
