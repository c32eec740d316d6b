"""Content-Disposition for every download: RFC 6266 with an ASCII fallback name and the real
(often Chinese) name percent-encoded as UTF-8. Waitress answers a bare 500 to any header value
that is not latin-1, so a Chinese filename must never go raw into a header."""
import re
from urllib.parse import quote

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_name(filename: str, fallback: str = "download") -> str:
    """An ASCII stand-in for ``filename``: its ASCII-safe parts, or ``fallback`` plus the
    original extension when nothing readable is left."""
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    ext = _UNSAFE.sub("", ext)
    stem = _UNSAFE.sub("-", stem).strip("-._")
    stem = stem if re.search(r"[A-Za-z]", stem) else _UNSAFE.sub("-", fallback).strip("-._")
    return f"{stem or 'download'}.{ext}" if ext else (stem or "download")


def content_disposition(filename: str, ascii_fallback: str | None = None,
                        inline: bool = False) -> str:
    """``attachment; filename="<ascii>"; filename*=UTF-8''<percent-encoded UTF-8>``."""
    fallback = ascii_fallback if ascii_fallback is not None else ascii_name(filename)
    fallback = _UNSAFE.sub("-", fallback) or "download"
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
