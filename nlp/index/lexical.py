"""The lexical side: BM25 (bm25s) over Sastrawi-stemmed passage tokens."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import IndexDamagedError

IDS_FILE = "passage_ids.npy"
# Lucene BM25 with the library defaults: a k1/b grid on the dev queries moved
# MRR@10 by at most 0.05 (two queries of 40), too little to trust over defaults.
BM25_PARAMS = {"method": "lucene", "k1": 1.5, "b": 0.75}


class LexicalIndex:
    """BM25 over passages; rows are aligned with an array of passage ids."""

    def __init__(self, retriever: Any, passage_ids: np.ndarray) -> None:
        self.retriever = retriever
        self.passage_ids = passage_ids
        self._row_of: dict[int, int] | None = None

    @classmethod
    def build(cls, passages: Iterable[tuple[int, list[str]]]) -> LexicalIndex:
        """Index (passage id, stemmed tokens) pairs."""
        import bm25s

        ids: list[int] = []
        corpus: list[list[str]] = []
        for pid, tokens in passages:
            ids.append(pid)
            corpus.append(tokens)
        retriever = bm25s.BM25(**BM25_PARAMS)
        if corpus:
            retriever.index(corpus, show_progress=False)
        return cls(retriever, np.asarray(ids, dtype=np.int64))

    def save(self, folder: Path) -> None:
        """Write the BM25 arrays and the id array into a folder."""
        folder.mkdir(parents=True, exist_ok=True)
        if len(self.passage_ids):
            self.retriever.save(str(folder), show_progress=False)
        np.save(folder / IDS_FILE, self.passage_ids, allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> LexicalIndex:
        """Read a folder written by :meth:`save` (arrays memory-mapped)."""
        import bm25s

        try:
            ids = np.load(folder / IDS_FILE, allow_pickle=False)
            retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False) if len(ids) else None
        except (OSError, ValueError, KeyError) as exc:
            raise IndexDamagedError(f"{folder}: lexical index is unreadable ({exc}); rebuild the index") from exc
        return cls(retriever, ids)

    @property
    def size(self) -> int:
        """Number of passages indexed."""
        return len(self.passage_ids)

    def allowed_mask(self, allowed: np.ndarray) -> np.ndarray:
        """A 0/1 weight per row, 1 where the row's passage id is allowed."""
        return np.isin(self.passage_ids, allowed).astype(np.float32)

    def search(self, tokens: list[str], k: int, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, passage ids) with a positive score."""
        if self.retriever is None or not tokens:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        scores = np.asarray(self.retriever.get_scores(tokens), dtype=np.float32)
        if mask is not None:
            scores = scores * mask
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.argsort(-scores[top], kind="stable")]
        top = top[scores[top] > 0]
        return scores[top], self.passage_ids[top]
