"""From documents to what the classifiers read: passages, their vectors, pooled features, signals.

Documents are processed in batches so embedding runs on full batches while
memory stays flat. Vectors come, in order of preference, from an index that
already holds the same text (same id and content hash), from the vector cache,
or from the embedder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from nlp.index.build import OVERLAP_TOKENS, PASSAGE_TOKENS, embed_text_for
from nlp.ingest import Document
from nlp.text import Span, make_passages, normalise, split_sentences

BATCH_DOCUMENTS = 32


@dataclass(frozen=True)
class AnalysedDocument:
    """A document ready for labelling."""

    document: Document
    text: str
    sentences: list[Span]
    passages: list[Span]
    vectors: np.ndarray
    from_index: bool = False


def pooled_features(vectors: np.ndarray) -> np.ndarray:
    """A document's features: the normalised mean and the element-wise max of its passage vectors.

    The max keeps evidence that sits in one passage of a long report from being
    averaged away by the others.
    """
    if len(vectors) == 0:
        return np.zeros(2 * (vectors.shape[1] if vectors.ndim == 2 else 384), dtype=np.float32)
    mean = vectors.mean(axis=0)
    norm = float(np.linalg.norm(mean))
    mean = mean / norm if norm > 0 else mean
    return np.concatenate([mean, vectors.max(axis=0)]).astype(np.float32)


def analyse_documents(
    documents: Iterable[Document],
    embedder: Any,
    *,
    index: Any = None,
    progress: Callable[[int], None] | None = None,
) -> Iterator[AnalysedDocument]:
    """Normalise, split and embed documents in batches; yields them in input order."""
    batch: list[Document] = []
    for doc in documents:
        batch.append(doc)
        if len(batch) >= BATCH_DOCUMENTS:
            yield from _analyse_batch(batch, embedder, index, progress)
            batch = []
    if batch:
        yield from _analyse_batch(batch, embedder, index, progress)


def _analyse_batch(
    batch: list[Document], embedder: Any, index: Any, progress: Callable[[int], None] | None
) -> list[AnalysedDocument]:
    prepared: list[tuple[Document, str, list[Span], list[Span], np.ndarray | None]] = []
    to_embed: list[str] = []
    for doc in batch:
        text = normalise(doc.text)
        sentences = split_sentences(text)
        reused = _from_index(index, doc) if index is not None else None
        if reused is not None:
            passages, vectors = reused
            prepared.append((doc, text, sentences, passages, vectors))
            continue
        passages = make_passages(
            text,
            embedder.count_tokens,
            max_tokens=min(PASSAGE_TOKENS, embedder.max_tokens - 16),
            overlap_tokens=OVERLAP_TOKENS,
            sentences=sentences,
        )
        to_embed += [embed_text_for(doc.title, p.text) for p in passages]
        prepared.append((doc, text, sentences, passages, None))
    embedded = embedder.embed_passages(to_embed) if to_embed else np.zeros((0, embedder.dimension), np.float32)
    out, cursor = [], 0
    for doc, text, sentences, passages, vectors in prepared:
        from_index = vectors is not None
        if vectors is None:
            vectors = embedded[cursor : cursor + len(passages)]
            cursor += len(passages)
        out.append(AnalysedDocument(doc, text, sentences, passages, np.asarray(vectors, np.float32), from_index))
    if progress:
        progress(len(batch))
    return out


def _from_index(index: Any, doc: Document) -> tuple[list[Span], np.ndarray] | None:
    """The passages and vectors an index already holds for this exact text, if any."""
    stored = index.store.get_document(doc.id)
    if stored is None or stored.content_hash != doc.content_hash:
        return None
    passages = index.store.passages_of(stored.seq)
    if not passages:
        return None
    spans = [Span(p.start, p.end, stored.text[p.start : p.end]) for p in passages]
    return spans, index.vectors.reconstruct([p.pid for p in passages])


class LexicalFeatures:
    """TF-IDF over Indonesian stems (unigrams): the words a report uses, next to what its embedding means.

    Sublinear term frequency, smoothed idf and L2 normalisation, as in
    scikit-learn's TfidfVectorizer, computed in numpy so labelling needs no
    scikit-learn; the vocabulary and idf are saved as plain JSON and arrays.
    """

    def __init__(self, vocabulary: dict[str, int] | None = None, idf: np.ndarray | None = None) -> None:
        self.vocabulary = vocabulary or {}
        self.idf = idf if idf is not None else np.zeros(0, np.float32)

    @staticmethod
    def stems(doc: AnalysedDocument) -> list[str]:
        """The stems a document contributes (title and text)."""
        from nlp.text import stem_tokens

        return stem_tokens((doc.document.title or "") + "\n" + doc.text)

    def fit(self, docs: list[AnalysedDocument], min_df: int = 3, max_features: int = 20000) -> LexicalFeatures:
        """Learn the vocabulary and idf from training documents."""
        from collections import Counter

        df: Counter[str] = Counter()
        for doc in docs:
            df.update(set(self.stems(doc)))
        kept = sorted((w for w, c in df.items() if c >= min_df), key=lambda w: (-df[w], w))[:max_features]
        kept.sort()
        self.vocabulary = {w: i for i, w in enumerate(kept)}
        n = len(docs)
        self.idf = np.asarray([np.log((1 + n) / (1 + df[w])) + 1 for w in kept], np.float32)
        return self

    def transform(self, docs: list[AnalysedDocument]) -> np.ndarray:
        """Rows of L2-normalised TF-IDF weights."""
        from collections import Counter

        out = np.zeros((len(docs), len(self.vocabulary)), np.float32)
        for i, doc in enumerate(docs):
            for word, count in Counter(self.stems(doc)).items():
                j = self.vocabulary.get(word)
                if j is not None:
                    out[i, j] = (1 + np.log(count)) * self.idf[j]
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out
