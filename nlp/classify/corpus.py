"""Labelled data: documents joined with gold labels, and the fixed train/dev split."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nlp.errors import SourceError
from nlp.ingest import Document, Skipped, iter_documents

LABEL_SUFFIX = ".labels.jsonl"
DEV_MODULUS = 5  # one document in five is dev


def is_dev(doc_id: str) -> bool:
    """The fixed split: a document is in dev iff sha256(id) mod 5 == 0 (stable as the corpus grows)."""
    return int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest(), 16) % DEV_MODULUS == 0


@dataclass(frozen=True)
class GoldLabels:
    """The gold labels of one document, in the same shape as ``inovasi label`` output."""

    id: str
    is_innovation: bool
    trends: tuple[str, ...]
    pp38_objectives: tuple[str, ...]
    pp38_form: str
    sustainability: str
    signals: tuple[dict[str, str], ...] = field(default_factory=tuple)

    @classmethod
    def from_json(cls, record: dict[str, Any]) -> GoldLabels:
        """Build from a label-file record."""
        return cls(
            id=str(record["id"]),
            is_innovation=bool(record["is_innovation"]),
            trends=tuple(record.get("trends", [])),
            pp38_objectives=tuple(record.get("pp38_objectives", [])),
            pp38_form=str(record.get("pp38_form", "none")),
            sustainability=str(record.get("sustainability", "unclear")),
            signals=tuple(record.get("signals", [])),
        )


@dataclass(frozen=True)
class LabelledDocument:
    """A document with its gold labels."""

    document: Document
    gold: GoldLabels

    @property
    def dev(self) -> bool:
        """True when the document belongs to the dev split."""
        return is_dev(self.document.id)


def read_gold(paths: Sequence[str | Path]) -> dict[str, GoldLabels]:
    """Gold labels from label files (``*.labels.jsonl``) or folders of them."""
    gold: dict[str, GoldLabels] = {}
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(path.rglob(f"*{LABEL_SUFFIX}"))
        elif path.exists():
            files.append(path)
        else:
            raise SourceError(str(path), "no such file or folder", "check the --labels path")
    if not files:
        raise SourceError(", ".join(map(str, paths)), f"no {LABEL_SUFFIX} files found", "point --labels at them")
    for file in files:
        with open(file, encoding="utf-8") as handle:
            for n, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    labels = GoldLabels.from_json(json.loads(line))
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise SourceError(f"{file}:{n}", f"not a label record ({exc})", "fix or remove the line") from exc
                gold[labels.id] = labels
    return gold


def iter_labelled(
    sources: Sequence[str | Path], gold: dict[str, GoldLabels], *, skipped: list[Skipped] | None = None
) -> Iterator[LabelledDocument]:
    """Documents from the sources that have gold labels (label files among the sources are passed over)."""
    for item in iter_documents(list(sources)):
        if isinstance(item, Skipped):
            if item.path.endswith(LABEL_SUFFIX) or LABEL_SUFFIX + "#" in item.path:
                continue
            if skipped is not None:
                skipped.append(item)
            continue
        labels = gold.get(item.id)
        if labels is not None:
            yield LabelledDocument(item, labels)
