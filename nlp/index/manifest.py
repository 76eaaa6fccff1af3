"""The index manifest: what an index folder holds, written last and read first."""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from nlp.errors import IndexDamagedError, IndexFormatError, IndexNotFoundError

FORMAT_NAME = "inovasi-index"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"


def utc_now() -> str:
    """Current UTC time as an ISO-8601 string (seconds)."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write JSON to a temporary sibling, fsync it and rename it into place."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=2, sort_keys=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def read_manifest(folder: Path) -> dict[str, Any]:
    """Read and check an index manifest: it exists, parses, and is a format this version reads."""
    path = folder / MANIFEST
    if not folder.exists():
        raise IndexNotFoundError(
            f"{folder}: no index here; build one with 'inovasi index build SOURCES --index {folder}'"
        )
    if not path.exists():
        raise IndexNotFoundError(
            f"{folder}: not an inovasi index (no {MANIFEST}); build one with "
            f"'inovasi index build SOURCES --index {folder}' or point --index at an index folder"
        )
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexDamagedError(
            f"{path}: manifest is unreadable ({exc}); rebuild the index with 'inovasi index build'"
        ) from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise IndexFormatError(
            f"{path}: not an inovasi index manifest "
            f"(format {manifest.get('format') if isinstance(manifest, dict) else None!r}); "
            "point --index at a folder made by 'inovasi index build'"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise IndexFormatError(
            f"{folder}: index format version {version} is newer than this inovasi-nlp reads "
            f"(up to {FORMAT_VERSION}); upgrade with 'pip install -U inovasi-nlp' or rebuild the index"
        )
    for key in ("files", "embedder", "counts", "checksums"):
        if key not in manifest:
            raise IndexDamagedError(f"{path}: manifest lacks '{key}'; rebuild the index with 'inovasi index build'")
    return manifest
