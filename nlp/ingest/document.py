"""The records the ingest readers produce: :class:`Document`, :class:`Skipped` and :class:`FieldMap`."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Document:
    """One text read from a source file or from one record of a tabular/JSONL source.

    ``id`` is stable across runs: the record's id field, or for files the path relative
    to the folder that was named as a source (forward slashes). ``source`` says where
    the text came from as given on the command line, with ``#<line>`` or ``#<row>``
    appended for records. ``meta`` holds every other field (JSON-safe values) or, for
    files, facts about the file such as ``{"format": "pdf", "pages": 3}``.
    """

    id: str
    text: str
    title: str | None
    source: str
    # Excluded from hashing so that a Document stays hashable although meta is a dict.
    meta: dict[str, Any] = field(hash=False)
    content_hash: str


@dataclass(frozen=True)
class Skipped:
    """A file or record that was not read, with a one-line reason that says how to fix it."""

    path: str
    reason: str


@dataclass(frozen=True)
class FieldMap:
    """Which fields of a CSV, XLSX or JSONL record hold the id, the text and the title.

    ``text`` may name several fields separated by commas (``"rancang_bangun,tujuan,manfaat"``);
    their non-empty values are joined with blank lines in that order.
    """

    id: str = "id"
    text: str = "text"
    title: str = "title"


def content_hash(title: str | None, text: str) -> str:
    """Return the sha256 hex digest of ``(title or "") + "\\n" + text``."""
    return hashlib.sha256(((title or "") + "\n" + text).encode("utf-8")).hexdigest()


def make_document(doc_id: str, text: str, title: str | None, source: str, meta: dict[str, Any]) -> Document:
    """Build a :class:`Document`, computing its content hash."""
    return Document(
        id=doc_id,
        text=text,
        title=title,
        source=source,
        meta=meta,
        content_hash=content_hash(title, text),
    )


@dataclass(frozen=True)
class Problem:
    """Internal: why a file or record was not read, before it becomes ``Skipped`` or an error.

    ``field_mapping`` marks problems fixed by naming other fields (``--text-field``);
    strict mode raises those as ``FieldMappingError`` and the rest as ``SourceError``.
    """

    path: str
    what: str
    fix: str
    field_mapping: bool = False

    def to_skipped(self) -> Skipped:
        """Return the public one-line form."""
        return Skipped(path=self.path, reason=f"{self.what}; {self.fix}" if self.fix else self.what)
