"""A content-addressed cache of passage vectors, so no text is embedded twice.

Keyed by the embedder's weight fingerprint and vector variant (int8 vectors
never answer for float32 ones) and the sha256 of the exact text embedded;
stored as float16 in one SQLite file per fingerprint and variant under the
inovasi cache folder. Losing the cache only costs time: it is rebuilt on
demand, and a damaged file is replaced. ``REVISION`` is part of the file
name: it changes when the same engine starts giving other vectors for the
same text, so vectors of the old way are never mixed with new ones.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlp.embed.convert import cache_root

# r2: each window is padded to a multiple of 8 tokens and run only with windows of that length,
# so its vector no longer depends on which texts were embedded with it.
REVISION = "r2"


def text_key(text: str) -> str:
    """The cache key of a text to embed."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CachedEmbedder:
    """Wraps an embedder; ``embed_passages`` answers from the cache and embeds only what is missing."""

    def __init__(self, embedder: Any, folder: Path | None = None) -> None:
        self.embedder = embedder
        self.name = embedder.name
        self.dimension = embedder.dimension
        self.max_tokens = embedder.max_tokens
        self.variant = str(getattr(embedder, "variant", "") or "")
        self.hits = 0
        self.misses = 0
        folder = folder or cache_root() / "vectors"
        folder.mkdir(parents=True, exist_ok=True)
        stem = f"{embedder.name.replace('/', '_').replace(':', '_')}-{embedder.fingerprint()[:16]}"
        if self.variant:
            stem += f"-{self.variant}"
        path = folder / f"{stem}-{REVISION}.sqlite"
        try:
            self.conn = self._open(path)
        except sqlite3.DatabaseError:
            path.unlink(missing_ok=True)
            self.conn = self._open(path)

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        conn = sqlite3.connect(path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        conn.execute("SELECT COUNT(*) FROM vectors LIMIT 1").fetchone()
        return conn

    def fingerprint(self) -> str:
        """The wrapped embedder's fingerprint."""
        return str(self.embedder.fingerprint())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Token counts from the wrapped embedder."""
        return list(self.embedder.count_tokens(texts))

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Queries are not cached (they are one-offs)."""
        return np.asarray(self.embedder.embed_queries(list(texts)))

    def embed_passages(
        self, texts: Sequence[str], batch_size: int = 32, progress: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """Vectors for passages, embedding only texts the cache does not hold."""
        keys = [text_key(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for i in range(0, len(unique), 500):
            chunk = unique[i : i + 500]
            marks = ",".join("?" * len(chunk))
            for key, blob in self.conn.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk):
                found[key] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        missing = [k for k in unique if k not in found]
        missing_set = set(missing)
        cached = sum(1 for k in keys if k not in missing_set)
        self.hits += cached
        if progress and cached:
            progress(cached)
        if missing:
            first_text = {}
            for key, text in zip(keys, texts, strict=True):
                first_text.setdefault(key, text)
            vectors = self.embedder.embed_passages([first_text[k] for k in missing], batch_size, progress)
            self.misses += len(missing)
            # A fresh vector is answered as stored, so a cold and a warm cache give the same results.
            stored = np.asarray(vectors).astype(np.float16)
            with self.conn:
                self.conn.executemany(
                    "INSERT OR REPLACE INTO vectors(key, vector) VALUES (?, ?)",
                    [(k, v.tobytes()) for k, v in zip(missing, stored, strict=True)],
                )
            for key, vector in zip(missing, stored, strict=True):
                found[key] = vector.astype(np.float32)
        out = np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dimension), dtype=np.float32)
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0)
