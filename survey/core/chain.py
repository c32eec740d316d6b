"""Hash chain over responses: each response's hash covers its content and the previous hash,
so removing or altering any stored response breaks every hash after it."""
import hashlib
import json

GENESIS = "0" * 64


def canonical(record: dict) -> str:
    return json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def digest(*parts) -> str:
    """A stable SHA-256 of any JSON-able parts (cache keys, version stamps)."""
    text = json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def response_hash(prev_hash: str, record: dict) -> str:
    return hashlib.sha256((prev_hash + canonical(record)).encode("utf-8")).hexdigest()


def verify_chain(links: list[tuple[dict, str, str]]) -> list[str]:
    """links: (record, prev_hash, hash) in id order. Returns Chinese problem descriptions."""
    problems = []
    expected_prev = GENESIS
    for record, prev_hash, stored_hash in links:
        label = f"第 {record.get('id', '?')} 号答卷"
        if prev_hash != expected_prev:
            problems.append(f"{label}的前序哈希不符：其前的答卷被删除或改动")
        if response_hash(prev_hash, record) != stored_hash:
            problems.append(f"{label}的内容与其哈希不符：该答卷被改动")
        expected_prev = stored_hash
    return problems
