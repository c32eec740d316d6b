"""The evidence package: it verifies, and any single changed byte makes verification fail and
name what was altered; the hash chain inside proves no response was removed or altered."""
import hashlib
import io
import json
import struct
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey.core.errors import DomainError
from survey.io import evidence
from survey.io.evidence_verify import compare_with_database, verify_package
from survey.store.responses import set_validity

from .io_fixtures import answer, fresh_store, make_survey


@pytest.fixture
def store_db(tmp_path):
    yield from fresh_store(tmp_path)


TAMPER = settings(max_examples=40, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def surveyed(store_db):
    survey, questions = make_survey(store_db)
    ids = [answer(store_db, survey, questions, level=i % 5, channels=(1,), text=f"建议{i}")
           for i in range(6)]
    answer(store_db, survey, questions, duration=1.0)  # excluded: too fast
    set_validity(store_db, ids[2], False, "调查员代填", None)
    return store_db, survey, questions


@pytest.fixture
def package(surveyed) -> bytes:
    db, survey, _ = surveyed
    out = io.BytesIO()
    evidence.build_package(db, survey, out)
    return out.getvalue()


def _members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _repack(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members.items():
            zf.writestr(name, content)
    return out.getvalue()


def _flip(content: bytes, position: int, mask: int = 0x01) -> bytes:
    position %= len(content)
    return content[:position] + bytes([content[position] ^ mask]) + content[position + 1:]


def _problems(data: bytes) -> list[str]:
    report = verify_package(io.BytesIO(data))
    assert not report.ok
    return report.problems


def test_package_holds_every_part_and_verifies(package, surveyed):
    db, survey, _ = surveyed
    members = _members(package)
    for name in ("responses.csv", "summary.xlsx", "summary.csv", "questionnaire.json",
                 "screening.json", "excluded.csv", "validity_decisions.json", "changes.json",
                 "chain.jsonl", "manifest.json", "README.txt"):
        assert name in members
    manifest = json.loads(members["manifest.json"])
    for name, entry in manifest["files"].items():
        assert hashlib.sha256(members[name]).hexdigest() == entry["sha256"]
    assert manifest["database_state"] == evidence.database_state(db, survey["id"])
    report = verify_package(io.BytesIO(package))
    assert report.ok, report.problems
    assert any("哈希链 7 条" in line for line in report.passed)


def test_package_lists_exclusions_and_decisions(package):
    members = _members(package)
    excluded = members["excluded.csv"].decode("utf-8-sig")
    assert "答题用时过短" in excluded and "调查员代填" in excluded
    assert len(excluded.strip().splitlines()) == 1 + 2
    decisions = json.loads(members["validity_decisions.json"])
    assert [d["reason"] for d in decisions] == ["调查员代填"]
    rules = json.loads(members["screening.json"])
    assert rules["excluded"] == 2 and "答题用时少于 10 秒的问卷视为无效" in rules["description"]
    asked = json.loads(members["questionnaire.json"])
    assert [q["kind"] for q in asked["questions"]] == ["scale", "single", "multiple", "text"]


@TAMPER
@given(data=st.data())
def test_any_changed_byte_in_a_file_is_named(package, data):
    members = _members(package)
    name = data.draw(st.sampled_from(sorted(n for n in members if n != "manifest.json")))
    position = data.draw(st.integers(0, len(members[name]) - 1))
    mask = data.draw(st.integers(1, 255))
    members[name] = _flip(members[name], position, mask)
    problems = _problems(_repack(members))
    assert any(name in p and "被改动" in p for p in problems), problems


@TAMPER
@given(position=st.integers(0, 10**6), mask=st.integers(1, 255))
def test_any_changed_byte_in_the_manifest_is_named(package, position, mask):
    members = _members(package)
    members["manifest.json"] = _flip(members["manifest.json"], position, mask)
    problems = _problems(_repack(members))
    assert any("manifest.json" in p for p in problems), problems


def _data_span(package: bytes, name: str) -> tuple[int, int]:
    """Where a member's compressed bytes lie inside the ZIP file itself."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        info = zf.getinfo(name)
    name_len, extra_len = struct.unpack("<HH", package[info.header_offset + 26:
                                                       info.header_offset + 30])
    start = info.header_offset + 30 + name_len + extra_len
    return start, info.compress_size


@pytest.mark.parametrize("name", ["responses.csv", "chain.jsonl", "summary.xlsx",
                                  "excluded.csv", "manifest.json"])
@pytest.mark.parametrize("where", [0.0, 0.5, 0.99])
def test_a_flipped_byte_in_the_zip_itself_is_named(package, name, where):
    start, size = _data_span(package, name)
    damaged = _flip(package, start + int(size * where))
    assert any(name in p for p in _problems(damaged))


def test_missing_and_added_files_are_named(package):
    members = _members(package)
    del members["excluded.csv"]
    members["extra.txt"] = "补充".encode()
    problems = _problems(_repack(members))
    assert "缺少文件：excluded.csv" in problems
    assert any(p.startswith("多出文件：extra.txt") for p in problems)


def test_not_a_zip_is_refused_in_chinese():
    assert _problems(b"not a zip at all") == ["材料包不是有效的 ZIP 文件，或已损坏，无法打开"]


def test_an_altered_response_breaks_the_chain(surveyed):
    db, survey, _ = surveyed
    victim = db.execute("SELECT min(id) + 1 FROM responses").fetchone()[0]
    db.execute("UPDATE responses SET channel = '篡改' WHERE id = ?", [victim])
    out = io.BytesIO()
    evidence.build_package(db, survey, out)
    problems = _problems(out.getvalue())
    assert problems == [f"哈希链：第 {victim} 号答卷的内容与其哈希不符：该答卷被改动"]


def test_a_removed_response_breaks_the_chain(surveyed):
    db, survey, _ = surveyed
    victim = db.execute("SELECT min(id) + 1 FROM responses").fetchone()[0]
    db.execute("DELETE FROM responses WHERE id = ?", [victim])
    out = io.BytesIO()
    evidence.build_package(db, survey, out)
    assert any("前序哈希不符" in p for p in _problems(out.getvalue()))


def test_live_database_check_accepts_growth_and_catches_edits(surveyed, package):
    db, survey, questions = surveyed
    manifest = verify_package(io.BytesIO(package)).manifest
    assert compare_with_database(db, manifest).passed == ["与当前数据库的状态完全一致"]
    answer(db, survey, questions)
    grown = compare_with_database(db, manifest)
    assert grown.ok and "新增 1 份答卷" in grown.passed[0]
    db.execute("UPDATE responses SET nonce = 'x' WHERE id = (SELECT min(id) FROM responses)")
    assert any("内容与其哈希不符" in p for p in compare_with_database(db, manifest).problems)


def test_when_charts_cannot_be_drawn_the_manifest_says_so(surveyed, monkeypatch):
    # The charts module ships with the package (no optional import any more); a chart that
    # cannot be drawn still leaves the package complete, with a note.
    db, survey, _ = surveyed

    def refuse(*args):
        raise DomainError("没有数据")
    monkeypatch.setattr(evidence.charts, "render", refuse)
    manifest = evidence.build_package(db, survey, io.BytesIO())
    assert not any(name.startswith("charts/") for name in manifest["files"])
    assert "图表未能生成：没有数据" in manifest["notes"]


def test_charts_are_included_as_png_when_available(package):
    pytest.importorskip("survey.io.charts")
    pngs = [c for n, c in _members(package).items() if n.startswith("charts/")]
    assert pngs and all(c.startswith(b"\x89PNG") for c in pngs)


def _cli_package(app, runner, make_survey, tmp_path):
    survey = make_survey()
    with app.app_context():
        from survey.store.responses import Submission, record_response
        from survey.web.db import get_db
        first = survey["questions"][0]
        for i in range(3):
            record_response(get_db(), survey, survey["questions"], Submission(
                answers={first["id"]: [first["options"][i]["id"]]}, nonce=f"cli-{i}",
                duration_seconds=30.0))
    path = tmp_path / "材料包.zip"
    built = runner.invoke(args=["evidence", str(survey["id"]), "-o", str(path)])
    assert built.exit_code == 0, built.output
    assert "3 份答卷" in built.output
    return path


def test_cli_verify_passes_an_intact_package(app, runner, make_survey, tmp_path):
    path = _cli_package(app, runner, make_survey, tmp_path)
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 0 and "核验通过" in result.output
    live = runner.invoke(args=["verify", "--against-db", str(path)])
    assert live.exit_code == 0 and "与当前数据库的状态完全一致" in live.output


def test_cli_verify_names_the_altered_file_and_fails(app, runner, make_survey, tmp_path):
    path = _cli_package(app, runner, make_survey, tmp_path)
    members = _members(path.read_bytes())
    members["summary.csv"] = members["summary.csv"].replace(b"3", b"4", 1)
    path.write_bytes(_repack(members))
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 1
    assert "问题：文件 summary.csv 被改动：SHA-256 与清单不符" in result.output
    assert "核验未通过：发现 1 处问题" in result.output


def test_linked_assessments_bring_their_rules_and_score_derivations(surveyed):
    records = pytest.importorskip("survey.store.assessments")
    db, survey, _ = surveyed
    assessment_id = records.create_assessment(db, survey["department_id"], 2024, "2024 年度自评",
                                              template="dept-2022")
    db.execute("UPDATE assessment_indicators SET survey_id = ?, figure = 'satisfaction_rate' "
               "WHERE assessment_id = ? AND name LIKE '%满意度%' AND level = 3",
               [survey["id"], assessment_id])
    out = io.BytesIO()
    manifest = evidence.build_package(db, survey, out)
    scoring = json.loads(_members(out.getvalue())[f"assessments/{assessment_id}.json"])
    linked = [i for i in scoring["indicators"]
              if (i["linked_figure"] or {}).get("source") == "survey"]
    assert linked and all(i["linked_figure"]["survey_id"] == survey["id"] for i in linked)
    assert all(i["how_the_score_follows"] for i in linked)
    assert "含 1 份关联自评的评分规则及每项得分的推导" in manifest["notes"]
    assert verify_package(io.BytesIO(out.getvalue())).ok


def test_without_linked_assessments_the_manifest_says_so(package):
    manifest = json.loads(_members(package)["manifest.json"])
    assert any("不含评分规则" in note for note in manifest["notes"])


def test_changes_json_lists_what_staff_changed_with_before_and_after(surveyed):
    """A title and a screening rule changed after answers came in: the package says when, by
    whom, from what to what, and after how many answers."""
    from survey.core.settings import SurveySettings
    from survey.store import accounts, builder
    from survey.store import surveys as survey_store
    db, survey, _ = surveyed
    user = accounts.create_user(db, "carol", "a-long-pass-phrase-1", survey["department_id"],
                                "staff")
    rules = SurveySettings.of(survey).screening_rules().to_dict()
    builder.update_settings(db, survey, builder.SettingsEdit(
        title="改过的标题", intro=survey["intro"], year=survey["year"],
        headline=survey["settings"].get("headline", "question"),
        headline_question_id=survey["settings"].get("headline_question_id"),
        screening={**rules, "min_seconds": 30}, dedupe_policy=survey["dedupe_policy"],
        opens_at=survey["opens_at"], closes_at=survey["closes_at"],
        population=survey["settings"].get("population")), user)
    out = io.BytesIO()
    evidence.build_package(db, survey_store.get_survey(db, survey["id"]), out)
    members = _members(out.getvalue())
    changes = json.loads(members["changes.json"])
    assert [c["action"] for c in changes] == ["survey.create", "survey.settings"]
    edit = changes[-1]
    assert edit["by_user"] == "carol" and edit["detail"]["responses"] == 7
    assert edit["detail"]["changed"]["title"] == {"before": survey["title"], "after": "改过的标题"}
    screening = edit["detail"]["changed"]["settings.screening"]
    assert screening["before"]["min_seconds"] == rules["min_seconds"] != 30
    assert screening["after"]["min_seconds"] == 30
    assert set(edit["detail"]["changed"]) == {"title", "settings.screening"}
    assert "changes.json" in json.loads(members["manifest.json"])["files"]
    assert verify_package(io.BytesIO(out.getvalue())).ok
