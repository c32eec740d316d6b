"""Computed figures and charts kept on disk until the data they were made from changes.

A file is named by its slot (survey, chart, filter) and a digest of the data version, so a
new response yields a new name and the stale file of that slot is removed; nothing is ever
regenerated while the data stays the same.
"""
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.chain import digest as digest  # cache keys; re-exported for callers

MAX_FILES = 2000  # many filter combinations could otherwise fill the disk


def _mtime(path: Path) -> float:
    # Another process may remove a stale file at any moment.
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


@dataclass(frozen=True)
class CacheEntry:
    data: bytes
    etag: str
    modified: float  # POSIX time the file was made: the data's Last-Modified


class FileCache:
    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def _path(self, slot: str, key: str, ext: str) -> Path:
        return self.folder / f"{slot}.{key[:32]}.{ext}"

    def fetch(self, slot: str, key: str, ext: str, make: Callable[[], bytes]) -> CacheEntry:
        """The cached bytes for (slot, key), made (once) by `make` when absent."""
        path = self._path(slot, key, ext)
        try:
            return CacheEntry(path.read_bytes(), key[:32], path.stat().st_mtime)
        except FileNotFoundError:
            pass
        data = make()
        self._write(path, data)
        self._drop_stale(slot, path)
        return CacheEntry(data, key[:32], _mtime(path) or time.time())

    def _write(self, path: Path, data: bytes) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        # Write then rename: a concurrent reader sees the old file or the whole new one.
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def _drop_stale(self, slot: str, keep: Path) -> None:
        for old in self.folder.glob(f"{slot}.*"):
            if old != keep:
                old.unlink(missing_ok=True)
        files = list(self.folder.glob("s*.*"))
        if len(files) > MAX_FILES:
            for old in sorted(files, key=_mtime)[:len(files) - MAX_FILES]:
                old.unlink(missing_ok=True)

    def clear(self) -> None:
        for old in self.folder.glob("*"):
            old.unlink(missing_ok=True)
