"""The lexical side: BM25 (bm25s) over Sastrawi-stemmed passage tokens.

bm25s builds and saves the index. A search reads bm25s's saved arrays itself
(:class:`SavedScores`): importing bm25s pulls in scipy and costs about 0.3 s,
a third of a cold ``inovasi search``, while scoring a query is a few lines of
numpy over the precomputed score matrix. The scores are bit-identical to
``bm25s.BM25.get_scores`` (same float32 additions in the same order; a test
compares them); folders this reader does not know fall back to bm25s.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import IndexDamagedError

IDS_FILE = "passage_ids.npy"
# bm25s's file names (bm25s.BM25.save/load defaults).
PARAMS_FILE = "params.index.json"
VOCAB_FILE = "vocab.index.json"
SCORE_FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")
# Variants whose scores are the score matrix alone; BM25L and BM25+ add a
# non-occurrence term and are left to bm25s.
_MATRIX_ONLY_METHODS = ("lucene", "robertson", "atire")
# Lucene BM25 with the library defaults: a k1/b grid on the dev queries moved
# MRR@10 by at most 0.05 (two queries of 40), too little to trust over defaults.
BM25_PARAMS = {"method": "lucene", "k1": 1.5, "b": 0.75}


class SavedScores:
    """bm25s's saved score matrix (CSC, one column per vocabulary term), read without bm25s."""

    def __init__(
        self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, num_rows: int
    ) -> None:
        self.vocab = vocab
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self.num_rows = num_rows

    @classmethod
    def load(cls, folder: Path, num_rows: int) -> SavedScores | None:
        """The arrays of a folder bm25s saved (memory-mapped), or None when only bm25s can read it."""
        try:
            params = json.loads((folder / PARAMS_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if (
            not isinstance(params, dict)
            or params.get("method") not in _MATRIX_ONLY_METHODS
            or params.get("dtype", "float32") != "float32"
            or params.get("num_docs") != num_rows
        ):
            return None
        vocab = json.loads((folder / VOCAB_FILE).read_text(encoding="utf-8"))
        data, indices, indptr = (np.load(folder / name, mmap_mode="r", allow_pickle=False) for name in SCORE_FILES)
        if not isinstance(vocab, dict) or len(indptr) < 1 or len(data) != len(indices) or len(data) != indptr[-1]:
            raise ValueError("score arrays do not fit together")
        return cls(vocab, data, indices, indptr, num_rows)

    def get_scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every row for the query tokens, as ``bm25s.BM25.get_scores`` computes it."""
        scores = np.zeros(self.num_rows, dtype=np.float32)
        columns = len(self.indptr) - 1  # bm25s keeps "" in the vocabulary without a column
        for term in (self.vocab[token] for token in tokens if token in self.vocab):
            if term >= columns:
                continue
            start, end = int(self.indptr[term]), int(self.indptr[term + 1])
            # Row indices are unique within a column, so this is bm25s's np.add.at.
            scores[self.indices[start:end]] += self.data[start:end]
        return scores


class LexicalIndex:
    """BM25 over passages; rows are aligned with an array of passage ids.

    ``retriever`` is a ``bm25s.BM25`` after :meth:`build` (or for a folder
    only bm25s reads), a :class:`SavedScores` after :meth:`load`; both score
    with ``get_scores(tokens)``.
    """

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
        """Read a folder written by :meth:`save` (arrays memory-mapped; bm25s only when needed)."""
        try:
            ids = np.load(folder / IDS_FILE, allow_pickle=False)
            retriever: Any = None
            if len(ids):
                retriever = SavedScores.load(folder, len(ids))
                if retriever is None:
                    import bm25s

                    retriever = bm25s.BM25.load(str(folder), mmap=True, show_progress=False)
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
