"""An index folder: opening, locking, generations, info and verification.

Layout (documented for users in the README)::

    INDEX/
      manifest.json          written last; names the current generation's files
      store-<g>.sqlite       documents, metadata, passages with offsets and tokens
      vectors-<g>.faiss      passage vectors under their passage ids
      lexical-<g>/           BM25 arrays (bm25s) and the aligned passage ids
      .lock                  held by the one process writing

A write builds generation g+1 beside generation g and then replaces the
manifest in one rename; until that rename readers and a killed writer see
generation g untouched.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import IndexDamagedError, IndexLockedError, IndexModelMismatchError
from nlp.index.lexical import LexicalIndex
from nlp.index.manifest import MANIFEST, read_manifest, sha256_file
from nlp.index.store import Store
from nlp.index.vectors import VectorIndex, VectorSpec

LOCK_FILE = ".lock"


def generation_files(generation: int) -> dict[str, str]:
    """File names of one generation."""
    return {
        "store": f"store-{generation}.sqlite",
        "vectors": f"vectors-{generation}.faiss",
        "lexical": f"lexical-{generation}",
    }


@contextmanager
def write_lock(folder: Path) -> Iterator[None]:
    """Hold the folder's writer lock (released by the OS even if the process dies)."""
    folder.mkdir(parents=True, exist_ok=True)
    handle = open(folder / LOCK_FILE, "a+")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise IndexLockedError(
                    f"{folder}: another inovasi process is writing this index; wait for it to finish and run again"
                ) from exc
            raise
        yield
    finally:
        handle.close()


def remove_unreferenced(folder: Path, keep_generations: set[int]) -> None:
    """Delete generation files (and temp files) not in the generations to keep."""
    for path in folder.iterdir():
        name = path.name
        if name in (MANIFEST, LOCK_FILE):
            continue
        generation = _generation_of(name)
        if generation is not None and generation in keep_generations:
            continue
        if generation is not None or (name.startswith(".") and ".tmp" in name):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _generation_of(name: str) -> int | None:
    for prefix in ("store-", "vectors-", "lexical-"):
        if name.startswith(prefix):
            digits = name[len(prefix) :].split(".")[0]
            return int(digits) if digits.isdigit() else None
    return None


def checksum_files(folder: Path, files: dict[str, str]) -> dict[str, str]:
    """sha256 of every file of a generation, keyed by path relative to the folder."""
    out: dict[str, str] = {}
    for name in files.values():
        path = folder / name
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                if child.is_file():
                    out[child.relative_to(folder).as_posix()] = sha256_file(child)
        elif path.exists():
            out[name] = sha256_file(path)
    return out


@dataclass(frozen=True)
class IndexInfo:
    """What `inovasi index info` shows."""

    path: str
    format_version: int
    generation: int
    created_at: str
    updated_at: str
    embedder: dict[str, Any]
    documents: int
    passages: int
    vectors: dict[str, Any]
    lexical: dict[str, Any]
    meta_fields: list[str]
    bytes_on_disk: int
    libraries: dict[str, str]


class Index:
    """A read-only view of an index folder; vectors and BM25 load on first use."""

    def __init__(self, folder: Path, manifest: dict[str, Any]) -> None:
        self.folder = folder
        self.manifest = manifest
        self.files: dict[str, str] = manifest["files"]
        self._store: Store | None = None
        self._vectors: VectorIndex | None = None
        self._lexical: LexicalIndex | None = None

    @classmethod
    def open(cls, folder: str | Path, *, embedder_name: str | None = None) -> Index:
        """Open an index, checking its manifest (and the embedder, when one is named)."""
        folder = Path(folder)
        manifest = read_manifest(folder)
        index = cls(folder, manifest)
        if embedder_name is not None and embedder_name != index.embedder_name:
            raise IndexModelMismatchError(
                f"{folder}: index was built with embedder {index.embedder_name!r}, not {embedder_name!r}; "
                f"search it with --model {index.embedder_name} "
                f"or rebuild it into a new folder with --model {embedder_name}"
            )
        for key, name in index.files.items():
            if not (folder / name).exists():
                raise IndexDamagedError(
                    f"{folder / name}: {key} file named by the manifest is missing; "
                    "restore the folder from a backup or rebuild with 'inovasi index build'"
                )
        return index

    @property
    def embedder_name(self) -> str:
        """Registry name of the embedder the index was built with."""
        return str(self.manifest["embedder"]["name"])

    @property
    def embedder_fingerprint(self) -> str:
        """Content hash of the embedder's weights."""
        return str(self.manifest["embedder"]["fingerprint"])

    @property
    def store(self) -> Store:
        """The SQLite store (read-only)."""
        if self._store is None:
            self._store = Store(self.folder / self.files["store"], readonly=True)
        return self._store

    @property
    def vectors(self) -> VectorIndex:
        """The FAISS vectors."""
        if self._vectors is None:
            spec = VectorSpec(**self.manifest["vectors"])
            self._vectors = VectorIndex.load(self.folder / self.files["vectors"], spec)
        return self._vectors

    @property
    def lexical(self) -> LexicalIndex:
        """The BM25 index."""
        if self._lexical is None:
            self._lexical = LexicalIndex.load(self.folder / self.files["lexical"])
        return self._lexical

    def close(self) -> None:
        """Release the store connection."""
        if self._store is not None:
            self._store.conn.close()
            self._store = None

    def check_embedder(self, embedder: Any) -> None:
        """Refuse an embedder other than the one the index was built with."""
        if embedder.name != self.embedder_name or embedder.fingerprint() != self.embedder_fingerprint:
            raise IndexModelMismatchError(
                f"{self.folder}: index was built with {self.embedder_name!r} "
                f"(weights {self.embedder_fingerprint[:12]}), not {embedder.name!r} "
                f"(weights {embedder.fingerprint()[:12]}); use --model {self.embedder_name} "
                "or rebuild the index into a new folder"
            )

    def info(self) -> IndexInfo:
        """A summary from the manifest and the files on disk; loads no vectors."""
        m = self.manifest
        size = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        return IndexInfo(
            path=str(self.folder),
            format_version=int(m["format_version"]),
            generation=int(m.get("generation", 0)),
            created_at=str(m.get("created_at", "")),
            updated_at=str(m.get("updated_at", "")),
            embedder=dict(m["embedder"]),
            documents=int(m["counts"]["documents"]),
            passages=int(m["counts"]["passages"]),
            vectors=dict(m["vectors"]),
            lexical=dict(m.get("lexical", {})),
            meta_fields=list(m.get("meta_fields", [])),
            bytes_on_disk=size,
            libraries=dict(m.get("libraries", {})),
        )

    def verify(self) -> list[str]:
        """Every problem found: checksums, counts, and agreement of store, vectors and BM25."""
        problems: list[str] = []
        expected: dict[str, str] = self.manifest["checksums"]
        actual = checksum_files(self.folder, self.files)
        for name, digest in sorted(expected.items()):
            if name not in actual:
                problems.append(f"{name}: missing")
            elif actual[name] != digest:
                problems.append(f"{name}: checksum differs from the manifest (file altered or damaged)")
        for name in sorted(set(actual) - set(expected)):
            problems.append(f"{name}: not listed in the manifest")
        if problems:
            return problems
        try:
            store_problems = self.store.integrity_problems()
            problems += [f"{self.files['store']}: {p}" for p in store_problems]
            n_docs, n_passages = self.store.count_documents(), self.store.count_passages()
            counts = self.manifest["counts"]
            if n_docs != counts["documents"]:
                problems.append(f"store holds {n_docs} documents, manifest says {counts['documents']}")
            if n_passages != counts["passages"]:
                problems.append(f"store holds {n_passages} passages, manifest says {counts['passages']}")
            pids = np.asarray(self.store.all_passage_ids(), dtype=np.int64)
            vector_ids = np.sort(self.vectors.ids())
            if self.vectors.dimension != int(self.manifest["embedder"]["dimension"]):
                problems.append(
                    f"vectors have dimension {self.vectors.dimension}, "
                    f"manifest says {self.manifest['embedder']['dimension']}"
                )
            if len(vector_ids) != len(pids) or not np.array_equal(vector_ids, pids):
                problems.append(
                    f"vectors ({len(vector_ids)}) and store passages ({len(pids)}) disagree: "
                    f"{len(np.setdiff1d(pids, vector_ids))} passages lack a vector, "
                    f"{len(np.setdiff1d(vector_ids, pids))} vectors lack a passage"
                )
            lexical_ids = np.sort(self.lexical.passage_ids)
            if not np.array_equal(lexical_ids, pids):
                problems.append(f"BM25 index ({len(lexical_ids)}) and store passages ({len(pids)}) disagree")
        except IndexDamagedError as exc:
            problems.append(str(exc))
        except Exception as exc:  # a damaged file may fail in any library; report, don't crash
            problems.append(f"could not read the index: {type(exc).__name__}: {exc}")
        return problems


def disk_free_ok(folder: Path, needed: int) -> bool:
    """True when the folder's file system has room for ``needed`` more bytes."""
    try:
        return shutil.disk_usage(folder).free > needed
    except OSError:
        return True


def fsync_tree(path: Path) -> None:
    """fsync a file or every file in a folder, so a rename after it publishes complete data."""
    paths = [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
