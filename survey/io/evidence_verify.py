"""Checking an evidence package: offline against its own manifest (every file's SHA-256, the
manifest's own digest, the hash chain re-computed, the database-state digest re-derived),
and optionally against a live database (no response removed or altered since)."""
import csv
import hashlib
import io
import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..core.chain import GENESIS, canonical, verify_chain
from ..store import evidence as rows
from .evidence import (
    CHAIN_FILE,
    DECISIONS_FILE,
    EXCLUDED_FILE,
    FORMAT,
    MANIFEST,
    RESPONSES_FILE,
    chain_problems,
    database_state,
    make_state,
    manifest_digest,
    pretty_json,
    sha256_hex,
)

READ_CHUNK = 1 << 20


@dataclass
class VerifyReport:
    problems: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    manifest: dict | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_package(source) -> VerifyReport:
    """Check a package (a path or binary file); every problem names what was altered."""
    report = VerifyReport()
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError):
        report.problems.append("材料包不是有效的 ZIP 文件，或已损坏，无法打开")
        return report
    with zf:
        report.manifest = _read_manifest(zf, report)
        if report.manifest is not None:
            intact = _check_files(zf, report.manifest, report)
            _check_contents(zf, report.manifest, intact, report)
    return report


def _read_member(zf: zipfile.ZipFile, name: str) -> bytes:
    return b"".join(_member_content(zf, name))


def _read_manifest(zf: zipfile.ZipFile, report: VerifyReport) -> dict | None:
    names = zf.namelist()
    for name in sorted({n for n in names if names.count(n) > 1}):
        report.problems.append(f"文件 {name} 在材料包中出现多次（被追加）")
    if MANIFEST not in names:
        report.problems.append(f"缺少清单文件 {MANIFEST}")
        return None
    try:
        raw = _read_member(zf, MANIFEST)
        manifest = json.loads(raw.decode("utf-8"))
    except Exception:  # noqa: BLE001 - CRC, decompression, encoding or JSON errors: all mean 'damaged'
        report.problems.append(f"{MANIFEST} 已损坏，无法读取：清单被改动")
        return None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        report.problems.append(f"{MANIFEST} 的结构不正确：清单被改动")
        return None
    if raw != pretty_json(manifest):
        report.problems.append(f"{MANIFEST} 被改动：格式与生成时不同")
    elif manifest.get("manifest_sha256") != manifest_digest(manifest):
        report.problems.append(f"{MANIFEST} 被改动：清单自身的摘要不符")
    if manifest.get("format") != FORMAT:
        report.problems.append(f"{MANIFEST} 的格式标识不是 {FORMAT}")
    return manifest


def _member_content(zf: zipfile.ZipFile, name: str) -> Iterator[bytes]:
    """A member's content, inflating its raw bytes ourselves: a deflate stream that never
    reaches its end (a flipped 'final block' bit) passes zipfile but not this check."""
    info = zf.getinfo(name)
    if info.compress_type != zipfile.ZIP_DEFLATED:
        with zf.open(name) as member:
            yield member.read()
        return
    crc, inflate = 0, zlib.decompressobj(-zlib.MAX_WBITS)
    for chunk in _raw_chunks(zf, info):
        data = inflate.decompress(chunk)
        crc = zlib.crc32(data, crc)
        yield data
    tail = inflate.flush()
    if not inflate.eof or inflate.unused_data or zlib.crc32(tail, crc) != info.CRC:
        raise zipfile.BadZipFile(name)
    yield tail


def _member_digest(zf: zipfile.ZipFile, name: str) -> str:
    sha = hashlib.sha256()
    for data in _member_content(zf, name):
        sha.update(data)
    return sha.hexdigest()


def _raw_chunks(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> Iterator[bytes]:
    fp = zf.fp
    fp.seek(info.header_offset)
    header = fp.read(30)
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(info.filename)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    if fp.read(name_length) != info.orig_filename.encode(encoding):
        raise zipfile.BadZipFile(info.filename)
    fp.seek(extra_length, 1)
    left = info.compress_size
    while left:
        chunk = fp.read(min(READ_CHUNK, left))
        if not chunk:
            raise zipfile.BadZipFile(info.filename)
        left -= len(chunk)
        yield chunk


def _check_files(zf: zipfile.ZipFile, manifest: dict, report: VerifyReport) -> set[str]:
    names = set(zf.namelist())
    intact = set()
    for name, entry in sorted(manifest["files"].items()):
        if name not in names:
            report.problems.append(f"缺少文件：{name}")
            continue
        try:
            digest = _member_digest(zf, name)
        except Exception:  # noqa: BLE001 - a flipped byte in compressed data fails the CRC or zlib
            report.problems.append(f"文件 {name} 已损坏，无法读取：文件被改动")
            continue
        if not isinstance(entry, dict) or digest != entry.get("sha256"):
            report.problems.append(f"文件 {name} 被改动：SHA-256 与清单不符")
        else:
            intact.add(name)
    for name in sorted(names - set(manifest["files"]) - {MANIFEST}):
        report.problems.append(f"多出文件：{name}（清单中没有）")
    if len(intact) == len(manifest["files"]):
        report.passed.append(f"{len(intact)} 个文件的 SHA-256 与清单一致")
    return intact


def _chain_entries(zf: zipfile.ZipFile, problems: list[str]) -> Iterator[tuple]:
    with zf.open(CHAIN_FILE) as member:
        for number, line in enumerate(member, start=1):
            try:
                entry = json.loads(line.decode("utf-8"))
                yield entry["record"], entry["prev_hash"], entry["hash"]
            except (ValueError, KeyError, TypeError):
                problems.append(f"{CHAIN_FILE} 第 {number} 行无法解析")


def _csv_records(zf: zipfile.ZipFile, name: str) -> int:
    with zf.open(name) as member:
        return sum(1 for _ in csv.reader(io.TextIOWrapper(member, encoding="utf-8-sig",
                                                          newline=""))) - 1


def _check_contents(zf, manifest: dict, intact: set[str], report: VerifyReport) -> None:
    state = manifest.get("database_state") or {}
    if CHAIN_FILE not in intact:
        return
    problems, seen = [], {"head": GENESIS, "count": 0}

    def counted(entries):
        for record, prev_hash, stored in entries:
            seen["head"], seen["count"] = stored, seen["count"] + 1
            yield record, prev_hash, stored

    problems += [f"哈希链：{p}" for p in verify_chain(counted(_chain_entries(zf, problems)))]
    if (seen["head"], seen["count"]) != (state.get("chain_head"), state.get("responses")):
        problems.append(f"哈希链的末端或记录数（{seen['count']}）与清单中的数据库状态不符")
    if RESPONSES_FILE in intact and _csv_records(zf, RESPONSES_FILE) != seen["count"]:
        problems.append(f"{RESPONSES_FILE} 的答卷数与哈希链记录数（{seen['count']}）不一致")
    if EXCLUDED_FILE in intact and DECISIONS_FILE in intact:
        try:
            excluded = _csv_records(zf, EXCLUDED_FILE)
            decisions = json.loads(_read_member(zf, DECISIONS_FILE))
            derived = make_state(state.get("survey_id"), seen["count"],
                                 seen["count"] - excluded, seen["head"], decisions)
        except ValueError:  # undecodable text: only possible in a package rebuilt by hand
            derived = {"digest": None}
        if derived["digest"] != state.get("digest"):
            problems.append("数据库状态摘要与材料包内容（答卷数、有效数、判定记录）不符")
    report.problems += problems
    if not problems:
        report.passed.append(f"哈希链 {seen['count']} 条记录逐条重算一致，数据库状态摘要一致")


def compare_with_database(db, manifest: dict) -> VerifyReport:
    """Is the package's database state still contained, unaltered, in the live database?"""
    report = VerifyReport(manifest=manifest)
    packaged = manifest.get("database_state") or {}
    survey_id = packaged.get("survey_id")
    current = database_state(db, survey_id)
    report.problems += [f"当前数据库的哈希链：{p}" for p in chain_problems(db, survey_id)]
    if current["digest"] == packaged.get("digest"):
        report.passed.append("与当前数据库的状态完全一致")
        return report
    head, count = packaged.get("chain_head"), packaged.get("responses", 0)
    if not _chain_prefix(db, survey_id, head, count):
        report.problems.append("当前数据库中找不到材料包的哈希链末端："
                               "材料包生成后有答卷被删除或改动")
    elif current["responses"] > count:
        report.passed.append(f"材料包生成后新增 {current['responses'] - count} 份答卷，"
                             "此前的答卷未被改动")
    _compare_decisions(db, survey_id, packaged, report)
    return report


def _chain_prefix(db, survey_id: int, head: str, count: int) -> bool:
    if head == GENESIS:
        return count == 0
    return rows.responses_up_to(db, survey_id, head) == count


def _compare_decisions(db, survey_id: int, packaged: dict, report: VerifyReport) -> None:
    decisions = rows.validity_decisions(db, survey_id)
    earlier = decisions[:packaged.get("validity_decisions", 0)]
    if sha256_hex(canonical(earlier).encode()) != packaged.get("validity_log_sha256"):
        report.problems.append("人工有效性判定记录与材料包生成时不符：记录被删除或改动")
    elif len(decisions) > len(earlier):
        report.passed.append(f"材料包生成后新增 {len(decisions) - len(earlier)} 条人工有效性判定")
