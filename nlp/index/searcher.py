"""Searching an index: dense, lexical and hybrid rankings of documents.

Passages are retrieved, each document scores by its best passage, and in
hybrid mode the two document rankings are fused by weighted reciprocal rank.
Filters select the allowed passages first, so a filtered search ranks only
documents that match and still returns k of them when k exist.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlp.errors import QueryError
from nlp.index.folder import Index
from nlp.index.store import StoredDocument, StoredPassage
from nlp.text import stem_tokens, tokenize_words

MODES = ("hybrid", "dense", "lexical")
# Weighted reciprocal-rank fusion, chosen on ../shared/dev-retrieval.jsonl
# (benchmarks/retrieval.py --sweep; numbers in benchmarks/RESULTS.md). Plain
# RRF (k=60, equal weights) scored MRR@10 0.759; every setting with the dense
# ranking weighted 1.5-3x and k between 5 and 30 scored 0.81-0.85, so we take
# the middle of that plateau rather than its single best point.
RRF_K = 10
DENSE_WEIGHT = 2.0
LEXICAL_WEIGHT = 1.0
SNIPPET_CHARS = 360
_WORD_RE = re.compile(r"\w+(?:[-']\w+)*")
_BUILTIN_FIELDS = ("id", "title", "source")


@dataclass(frozen=True)
class SearchHit:
    """One document in a result list, with the passage that matched best."""

    rank: int
    id: str
    score: float
    title: str | None
    snippet: str
    snippet_start: int
    snippet_end: int
    source: str
    meta: dict[str, Any]
    highlights: tuple[tuple[int, int], ...] = ()
    dense_rank: int | None = None
    lexical_rank: int | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object printed by ``--format json``."""
        return {
            "rank": self.rank,
            "id": self.id,
            "score": round(self.score, 6),
            "title": self.title,
            "snippet": self.snippet,
            "snippet_start": self.snippet_start,
            "snippet_end": self.snippet_end,
            "source": self.source,
            "region": self.meta.get("region"),
            "year": self.meta.get("year"),
            "meta": self.meta,
            "dense_rank": self.dense_rank,
            "lexical_rank": self.lexical_rank,
        }


@dataclass(frozen=True)
class Filters:
    """Metadata filters applied before ranking."""

    where: dict[str, str] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None

    @property
    def active(self) -> bool:
        """True when any filter is set."""
        return bool(self.where) or self.year_from is not None or self.year_to is not None


@dataclass
class _Ranked:
    """A document's best passage and score in one ranking."""

    score: float
    pid: int


def allowed_passages(index: Index, filters: Filters) -> np.ndarray | None:
    """Passage ids allowed by the filters (None when there are no filters)."""
    if not filters.active:
        return None
    known = set(index.manifest.get("meta_fields", [])) | set(_BUILTIN_FIELDS)
    for name in filters.where:
        if name not in known:
            raise QueryError(
                f"--where {name}=...: unknown field {name!r}; fields in this index: {', '.join(sorted(known))}"
            )
    if (filters.year_from is not None or filters.year_to is not None) and "year" not in known:
        raise QueryError("--year-from/--year-to: documents in this index have no 'year' field; drop the year filter")
    return np.asarray(
        index.store.filtered_passage_ids(filters.where, filters.year_from, filters.year_to), dtype=np.int64
    )


def search(
    index: Index,
    query: str,
    *,
    embedder: Any = None,
    k: int = 10,
    mode: str = "hybrid",
    filters: Filters | None = None,
    exclude_ids: Sequence[str] = (),
) -> list[SearchHit]:
    """Rank documents for a query; ``embedder`` is needed for dense and hybrid modes."""
    if not query or not query.strip():
        raise QueryError('empty query; give some words to search for, e.g. inovasi search "layanan adminduk keliling"')
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}")
    if k < 1:
        raise QueryError(f"-k {k}: ask for at least one result")
    filters = filters or Filters()
    allowed = allowed_passages(index, filters)
    dense: dict[int, _Ranked] = {}
    lexical: dict[int, _Ranked] = {}
    want = k + len(exclude_ids)
    if mode in ("dense", "hybrid"):
        if embedder is None:
            raise QueryError(f"mode {mode!r} needs the embedding model; use --mode lexical to search without it")
        index.check_embedder(embedder)
        vector = embedder.embed_queries([query])[0]
        dense = _dense_documents(index, vector, want, allowed)
    if mode in ("lexical", "hybrid"):
        lexical = _lexical_documents(index, stem_tokens(query), want, allowed)
    return _hits(index, dense, lexical, mode, k, query, exclude_ids)


def similar(
    index: Index,
    vector: np.ndarray,
    *,
    k: int = 10,
    filters: Filters | None = None,
    exclude_ids: Sequence[str] = (),
) -> list[SearchHit]:
    """Documents whose passages are closest to a document vector (dense ranking)."""
    allowed = allowed_passages(index, filters or Filters())
    dense = _dense_documents(index, vector, k + len(exclude_ids), allowed)
    return _hits(index, dense, {}, "dense", k, "", exclude_ids)


def document_vector(index: Index, doc_id: str) -> np.ndarray:
    """The mean of a stored document's passage vectors, normalised."""
    doc = index.store.get_document(doc_id)
    if doc is None:
        raise QueryError(
            f"document {doc_id!r} is not in {index.folder}; list ids with 'inovasi search ... --format json'"
        )
    pids = [p.pid for p in index.store.passages_of(doc.seq)]
    return mean_vector(index.vectors.reconstruct(pids))


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    """Normalised mean of row vectors."""
    mean = np.asarray(vectors, dtype=np.float32).mean(axis=0)
    norm = float(np.linalg.norm(mean))
    return mean / norm if norm > 0 else mean


def _dense_documents(index: Index, vector: np.ndarray, k_docs: int, allowed: np.ndarray | None) -> dict[int, _Ranked]:
    total = index.vectors.size if allowed is None else len(allowed)
    pool = max(50, 8 * k_docs)
    while True:
        scores, pids = index.vectors.search(vector, min(pool, max(total, 1)), allowed)
        docs = _best_per_document(index, scores, pids)
        if len(docs) >= k_docs or pool >= total:
            return docs
        pool *= 4


def _lexical_documents(index: Index, tokens: list[str], k_docs: int, allowed: np.ndarray | None) -> dict[int, _Ranked]:
    lex = index.lexical
    mask = lex.allowed_mask(allowed) if allowed is not None else None
    pool = max(50, 8 * k_docs)
    while True:
        scores, pids = lex.search(tokens, min(pool, max(lex.size, 1)), mask)
        docs = _best_per_document(index, scores, pids)
        if len(docs) >= k_docs or pool >= lex.size or len(pids) < pool:
            return docs
        pool *= 4


def _best_per_document(index: Index, scores: np.ndarray, pids: np.ndarray) -> dict[int, _Ranked]:
    passages = index.store.passages_by_pid([int(p) for p in pids])
    best: dict[int, _Ranked] = {}
    for score, pid in zip(scores.tolist(), pids.tolist(), strict=True):
        passage = passages.get(pid)
        if passage is None:
            continue
        current = best.get(passage.doc_seq)
        if current is None or score > current.score:
            best[passage.doc_seq] = _Ranked(score, pid)
    return best


def _ranks(ranking: dict[int, _Ranked]) -> dict[int, int]:
    ordered = sorted(ranking, key=lambda seq: (-ranking[seq].score, seq))
    return {seq: i + 1 for i, seq in enumerate(ordered)}


def fuse(dense_ranks: dict[int, int], lexical_ranks: dict[int, int]) -> dict[int, float]:
    """Weighted reciprocal-rank fusion of two document rankings (1-based ranks)."""
    fused: dict[int, float] = {}
    for ranks, weight in ((dense_ranks, DENSE_WEIGHT), (lexical_ranks, LEXICAL_WEIGHT)):
        for seq, rank in ranks.items():
            fused[seq] = fused.get(seq, 0.0) + weight / (RRF_K + rank)
    return fused


def _hits(
    index: Index,
    dense: dict[int, _Ranked],
    lexical: dict[int, _Ranked],
    mode: str,
    k: int,
    query: str,
    exclude_ids: Sequence[str],
) -> list[SearchHit]:
    dense_ranks, lexical_ranks = _ranks(dense), _ranks(lexical)
    if mode == "hybrid":
        scores = fuse(dense_ranks, lexical_ranks)
    elif mode == "dense":
        scores = {seq: r.score for seq, r in dense.items()}
    else:
        scores = {seq: r.score for seq, r in lexical.items()}
    ordered = sorted(scores, key=lambda seq: (-scores[seq], seq))
    docs = index.store.documents_by_seq(ordered[: k + len(exclude_ids)])
    excluded = set(exclude_ids)
    ordered = [seq for seq in ordered if seq in docs and docs[seq].id not in excluded][:k]
    best_pids = [(dense.get(seq) or lexical[seq]).pid for seq in ordered]
    passages = index.store.passages_by_pid(best_pids)
    query_stems = set(stem_tokens(query)) if query else set()
    wanted = query_stems - _NOT_HIGHLIGHTED
    stored_tokens = index.store.passage_tokens(best_pids) if wanted else {}
    hits = []
    for rank, (seq, pid) in enumerate(zip(ordered, best_pids, strict=True), 1):
        doc = docs[seq]
        passage = passages[pid]
        matches = _passage_matches(doc, passage, stored_tokens.get(pid), wanted)
        start, end = _snippet_bounds(doc, passage.start, passage.end, [s for s, _ in matches])
        snippet = doc.text[start:end].replace("\n", " ")
        hits.append(
            SearchHit(
                rank=rank,
                id=doc.id,
                score=float(scores[seq]),
                title=doc.title,
                snippet=snippet,
                snippet_start=start,
                snippet_end=end,
                source=doc.source,
                meta=doc.meta,
                # The snippet's edges fall on whitespace or the passage's edges, so
                # its words are exactly the passage's words between them.
                highlights=tuple((s - start, e - start) for s, e in matches if s >= start and e <= end),
                dense_rank=dense_ranks.get(seq),
                lexical_rank=lexical_ranks.get(seq),
            )
        )
    return hits


def _passage_matches(
    doc: StoredDocument, passage: StoredPassage, stored_tokens: str | None, wanted: set[str]
) -> list[tuple[int, int]]:
    """Spans (offsets into the document) of the passage's words whose stem is wanted.

    Stemming costs Sastrawi about 0.4 ms a word, most of a cold search's
    snippets, so the stems the index stored for BM25 are reused: they were made
    by :func:`stem_tokens` from the passage (after the title, for the first
    passage), one or more non-blank stems per word. When their count equals the
    number of words, each word has exactly one and they line up; otherwise (a
    word with an apostrophe or a non-Latin letter can stem to several) the
    words are stemmed again, as :func:`highlight_spans` does.
    """
    if not wanted:
        return []
    text = doc.text[passage.start : passage.end]
    found = list(_WORD_RE.finditer(text))
    words = [m.group().lower() for m in found]
    stems: list[str] | None = None
    if stored_tokens is not None and words == tokenize_words(text):
        pieces = stored_tokens.split()
        skip = len(tokenize_words(doc.title + "\n")) if passage.ord == 0 and doc.title else 0
        if len(pieces) == skip + len(words):
            stems = pieces[skip:]
    if stems is None:
        return [(passage.start + s, passage.start + e) for s, e in highlight_spans(text, wanted)]
    return [
        (passage.start + m.start(), passage.start + m.end())
        for m, stem in zip(found, stems, strict=True)
        if stem in wanted
    ]


def _snippet_bounds(doc: StoredDocument, start: int, end: int, matches: list[int]) -> tuple[int, int]:
    """A window of the best passage: where its query-term matches (start offsets) are densest, when it is long."""
    if end - start <= SNIPPET_CHARS:
        return start, end
    lo = start
    if matches:
        # Slide a window over the matches and keep the one holding the most of them.
        best, j = (0, matches[0]), 0
        for i, first in enumerate(matches):
            while j < len(matches) and matches[j] < first + SNIPPET_CHARS * 3 // 4:
                j += 1
            if j - i > best[0]:
                best = (j - i, first)
        lo = max(start, best[1] - SNIPPET_CHARS // 4)
    hi = min(end, lo + SNIPPET_CHARS)
    lo = max(start, hi - SNIPPET_CHARS)
    while lo > start and not doc.text[lo - 1].isspace():
        lo -= 1
    while hi < end and not doc.text[hi].isspace():
        hi += 1
    return lo, hi


# Function words are not worth highlighting even when the query has them.
_NOT_HIGHLIGHTED = frozenset(
    "dan di ke dari yang untuk dengan pada ini itu atau dalam oleh juga akan tidak ada agar bagi serta".split()
)


def highlight_spans(text: str, query_stems: set[str]) -> list[tuple[int, int]]:
    """Character spans of words in ``text`` whose stem is a query stem (function words left out).

    Stems every word; searches use the index's stored stems instead (same spans).
    """
    wanted = query_stems - _NOT_HIGHLIGHTED
    if not wanted:
        return []
    spans = []
    for m in _WORD_RE.finditer(text):
        stems = stem_tokens(m.group())
        if stems and stems[0] in wanted:
            spans.append(m.span())
    return spans


__all__ = [
    "MODES",
    "Filters",
    "SearchHit",
    "document_vector",
    "fuse",
    "mean_vector",
    "search",
    "similar",
    "tokenize_words",
]
