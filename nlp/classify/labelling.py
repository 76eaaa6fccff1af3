"""Labelling archives: stream documents through the classifier, resumably.

Records are written one line per document and flushed after every batch, so
an interrupted run loses at most the batch in flight; ``completed_ids`` reads
back what a previous run finished (dropping a half-written last line) so a
resumed run writes every document exactly once.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from nlp.classify.features import BATCH_DOCUMENTS, analyse_documents
from nlp.classify.model import Classifier, LabelResult
from nlp.errors import SourceError
from nlp.ingest import Document

CSV_COLUMNS = (
    "id",
    "source",
    "title",
    "is_innovation",
    "innovation_score",
    "trends",
    "trend_scores",
    "pp38_objectives",
    "pp38_objective_scores",
    "pp38_form",
    "pp38_form_scores",
    "sustainability",
    "sustainability_scores",
    "signals",
    "meta",
    "model",
)


def label_record(doc: Document, result: LabelResult, model: dict[str, Any]) -> dict[str, Any]:
    """The JSON record of one labelled document (the schema of `inovasi label` JSONL)."""
    return {
        "id": doc.id,
        "source": doc.source,
        "title": doc.title,
        "meta": doc.meta,
        "is_innovation": result.is_innovation,
        "innovation_score": result.innovation_score,
        "trends": result.trends,
        "trend_scores": result.trend_scores,
        "pp38_objectives": result.pp38_objectives,
        "pp38_objective_scores": result.pp38_objective_scores,
        "pp38_form": result.pp38_form,
        "pp38_form_scores": result.pp38_form_scores,
        "sustainability": result.sustainability,
        "sustainability_scores": result.sustainability_scores,
        "signals": [
            {"signal": s.signal, "polarity": s.polarity, "sentence": s.sentence, "start": s.start, "end": s.end}
            for s in result.signals
        ],
        "model": model,
    }


def csv_row(record: dict[str, Any]) -> list[Any]:
    """A record flattened for CSV: lists joined with ';', mappings and signals as JSON."""
    row = []
    for column in CSV_COLUMNS:
        value = record.get(column)
        if isinstance(value, list) and column != "signals":
            value = ";".join(map(str, value))
        elif isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        row.append("" if value is None else value)
    return row


class SentenceEmbedding:
    """The evidence tagger's ``embed``: sentence vectors through a ``CachedEmbedder``, counted on their own.

    ``embedded`` and ``cached`` count sentences, so a caller can tell them from
    the passages the same embedder handled.
    """

    def __init__(self, embedder: Any) -> None:
        self.embedder = embedder
        self.embedded = 0
        self.cached = 0

    def __call__(self, texts: list[str]) -> Any:
        misses, hits = self.embedder.misses, self.embedder.hits
        vectors = self.embedder.embed_passages(texts)
        self.embedded += self.embedder.misses - misses
        self.cached += self.embedder.hits - hits
        return vectors


def label_documents(
    documents: Iterable[Document],
    classifier: Classifier,
    embedder: Any,
    *,
    index: Any = None,
    progress: Callable[[int], None] | None = None,
    embed: Callable[[list[str]], Any] | None = None,
) -> Iterator[list[dict[str, Any]]]:
    """Label documents; yields one list of records per batch (write and flush each before the next).

    ``embed`` gives the evidence tagger sentence vectors (default: ``embedder.embed_passages``).
    """
    model = classifier.describe()
    embed = embed if embed is not None else embedder.embed_passages
    batch: list[Any] = []
    for analysed in analyse_documents(documents, embedder, index=index):
        batch.append(analysed)
        if len(batch) >= BATCH_DOCUMENTS:
            yield _records(batch, classifier, model, embed)
            if progress:
                progress(len(batch))
            batch = []
    if batch:
        yield _records(batch, classifier, model, embed)
        if progress:
            progress(len(batch))


def _records(
    batch: list[Any], classifier: Classifier, model: dict[str, Any], embed: Callable[[list[str]], Any]
) -> list[dict[str, Any]]:
    results = classifier.predict(batch, embed)
    return [label_record(a.document, r, model) for a, r in zip(batch, results, strict=True)]


def completed_ids(path: Path, fmt: str) -> set[str]:
    """Ids already written to an output file; a trailing partial line (a killed run) is cut off first."""
    if not path.exists():
        return set()
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        cut = data.rfind(b"\n") + 1
        with open(path, "r+b") as handle:
            handle.truncate(cut)
            handle.flush()
            os.fsync(handle.fileno())
        data = data[:cut]
    text = data.decode("utf-8", errors="replace")
    ids: set[str] = set()
    if fmt == "jsonl":
        for n, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                ids.add(str(json.loads(line)["id"]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise SourceError(
                    str(path),
                    f"line {n} is not a label record ({exc})",
                    "write to a new --output file or remove the bad line",
                ) from exc
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        if rows and rows[0] and rows[0][0] == "id":
            ids = {row[0] for row in rows[1:] if row}
    else:
        raise SourceError(str(path), f"--resume works with jsonl or csv output, not {fmt}", "use --format jsonl")
    return ids
