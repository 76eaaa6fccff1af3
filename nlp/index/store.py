"""The SQLite document store: documents, their metadata and passages with offsets."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nlp.errors import IndexDamagedError, QueryError

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT,
    source TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    meta TEXT NOT NULL,
    text TEXT NOT NULL,
    added_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS passages (
    pid INTEGER PRIMARY KEY,
    doc_seq INTEGER NOT NULL REFERENCES documents(seq) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    tokens TEXT NOT NULL,
    embedded INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS passages_by_doc ON passages(doc_seq, ord);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


@dataclass(frozen=True)
class StoredDocument:
    """A document as the index holds it (text normalised)."""

    seq: int
    id: str
    title: str | None
    source: str
    content_hash: str
    meta: dict[str, Any]
    text: str


@dataclass(frozen=True)
class StoredPassage:
    """A passage: its vector id, document, position and character offsets."""

    pid: int
    doc_seq: int
    ord: int
    start: int
    end: int


class Store:
    """Thin access layer over one SQLite file; all SQL of the project lives here."""

    def __init__(self, path: Path, *, readonly: bool = False) -> None:
        self.path = path
        if readonly:
            uri = f"file:{path}?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True)
        else:
            self.conn = sqlite3.connect(path)
            self.conn.execute("PRAGMA journal_mode=DELETE")
            self.conn.execute("PRAGMA synchronous=FULL")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.row_factory = sqlite3.Row

    @classmethod
    def create(cls, path: Path) -> Store:
        """A new, empty store."""
        store = cls(path)
        store.conn.executescript(_SCHEMA)
        store.conn.execute(
            "INSERT OR REPLACE INTO info(key, value) VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
        )
        store.conn.commit()
        return store

    @classmethod
    def copy_of(cls, source: Path, target: Path) -> Store:
        """A writable copy of an existing store (SQLite's online backup, consistent even if read meanwhile)."""
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        store = cls(target)
        store.conn.executescript(_SCHEMA)
        return store

    def close(self) -> None:
        """Commit and close."""
        self.conn.commit()
        self.conn.close()

    # documents ---------------------------------------------------------------

    def document_hashes(self) -> dict[str, tuple[int, str]]:
        """id -> (seq, content_hash) of every document."""
        return {row[0]: (row[1], row[2]) for row in self.conn.execute("SELECT id, seq, content_hash FROM documents")}

    def insert_document(
        self,
        *,
        doc_id: str,
        title: str | None,
        source: str,
        content_hash: str,
        meta: dict[str, Any],
        text: str,
        now: str,
    ) -> int:
        """Add a document; returns its seq."""
        cursor = self.conn.execute(
            "INSERT INTO documents(id, title, source, content_hash, meta, text, added_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (doc_id, title, source, content_hash, json.dumps(meta, ensure_ascii=False, default=str), text, now, now),
        )
        return int(cursor.lastrowid)

    def update_document_meta(self, seq: int, *, title: str | None, source: str, meta: dict[str, Any], now: str) -> bool:
        """Refresh title, source and metadata of an unchanged text; True if anything changed."""
        cursor = self.conn.execute(
            "UPDATE documents SET title = ?, source = ?, meta = ?, updated_at = ?"
            " WHERE seq = ? AND (title IS NOT ? OR source IS NOT ? OR meta IS NOT ?)",
            (
                title,
                source,
                json.dumps(meta, ensure_ascii=False, default=str),
                now,
                seq,
                title,
                source,
                json.dumps(meta, ensure_ascii=False, default=str),
            ),
        )
        return cursor.rowcount > 0

    def delete_documents(self, seqs: Sequence[int]) -> list[int]:
        """Delete documents and their passages; returns the removed passage ids."""
        removed: list[int] = []
        for chunk in _chunks(list(seqs), 500):
            marks = ",".join("?" * len(chunk))
            removed += [r[0] for r in self.conn.execute(f"SELECT pid FROM passages WHERE doc_seq IN ({marks})", chunk)]
            self.conn.execute(f"DELETE FROM passages WHERE doc_seq IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM documents WHERE seq IN ({marks})", chunk)
        return removed

    def seqs_for_ids(self, ids: Iterable[str]) -> dict[str, int]:
        """Map the given document ids that exist to their seq."""
        out: dict[str, int] = {}
        for chunk in _chunks(list(ids), 500):
            marks = ",".join("?" * len(chunk))
            out.update(
                (row[0], row[1])
                for row in self.conn.execute(f"SELECT id, seq FROM documents WHERE id IN ({marks})", chunk)
            )
        return out

    def get_document(self, doc_id: str) -> StoredDocument | None:
        """One document by id."""
        row = self.conn.execute("SELECT * FROM documents WHERE id = ?", (doc_id,)).fetchone()
        return _document(row) if row else None

    def documents_by_seq(self, seqs: Sequence[int]) -> dict[int, StoredDocument]:
        """Documents for the given seqs."""
        out: dict[int, StoredDocument] = {}
        for chunk in _chunks(list(seqs), 500):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT * FROM documents WHERE seq IN ({marks})", chunk):
                out[row["seq"]] = _document(row)
        return out

    def iter_documents(self) -> Iterator[StoredDocument]:
        """Every document in insertion order."""
        for row in self.conn.execute("SELECT * FROM documents ORDER BY seq"):
            yield _document(row)

    def count_documents(self) -> int:
        """Number of documents."""
        return int(self.conn.execute("SELECT COUNT(*) FROM documents").fetchone()[0])

    # passages ----------------------------------------------------------------

    def next_passage_id(self) -> int:
        """A passage id never used in this store (ids are never reused, so vectors stay unambiguous)."""
        row = self.conn.execute("SELECT value FROM info WHERE key = 'next_pid'").fetchone()
        top = self.conn.execute("SELECT COALESCE(MAX(pid), -1) + 1 FROM passages").fetchone()[0]
        return max(int(row[0]) if row else 0, int(top))

    def set_next_passage_id(self, value: int) -> None:
        """Remember the passage id high-water mark."""
        self.conn.execute("INSERT OR REPLACE INTO info(key, value) VALUES ('next_pid', ?)", (str(value),))

    def insert_passages(self, rows: Sequence[tuple[int, int, int, int, int, str]]) -> None:
        """Add passages as (pid, doc_seq, ord, start, end, stemmed tokens)."""
        self.conn.executemany(
            'INSERT INTO passages(pid, doc_seq, ord, start, "end", tokens, embedded) VALUES (?, ?, ?, ?, ?, ?, 0)', rows
        )

    def unembedded_passages(self) -> list[int]:
        """Ids of passages that have no vector yet."""
        return [r[0] for r in self.conn.execute("SELECT pid FROM passages WHERE embedded = 0 ORDER BY pid")]

    def mark_embedded(self, pids: Sequence[int]) -> None:
        """Record that these passages now have vectors."""
        for chunk in _chunks(list(pids), 500):
            marks = ",".join("?" * len(chunk))
            self.conn.execute(f"UPDATE passages SET embedded = 1 WHERE pid IN ({marks})", chunk)

    def passage_texts(self, pids: Sequence[int]) -> list[tuple[int, str | None, str]]:
        """(pid, document title, passage text) for the given passages, in the given order."""
        found: dict[int, tuple[int, str | None, str]] = {}
        for chunk in _chunks(list(pids), 500):
            marks = ",".join("?" * len(chunk))
            rows = self.conn.execute(
                f'SELECT p.pid, d.title, substr(d.text, p.start + 1, p."end" - p.start) FROM passages p'
                f" JOIN documents d ON d.seq = p.doc_seq WHERE p.pid IN ({marks})",
                chunk,
            )
            found.update((row[0], (row[0], row[1], row[2])) for row in rows)
        return [found[pid] for pid in pids]

    def passages_by_pid(self, pids: Sequence[int]) -> dict[int, StoredPassage]:
        """Passage records for the given ids."""
        out: dict[int, StoredPassage] = {}
        for chunk in _chunks(list(pids), 500):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(
                f'SELECT pid, doc_seq, ord, start, "end" FROM passages WHERE pid IN ({marks})', chunk
            ):
                out[row[0]] = StoredPassage(*row)
        return out

    def passage_tokens(self, pids: Sequence[int]) -> dict[int, str]:
        """The stored BM25 tokens (space-joined stems) of the given passages."""
        out: dict[int, str] = {}
        for chunk in _chunks(list(pids), 500):
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT pid, tokens FROM passages WHERE pid IN ({marks})", chunk))
        return out

    def passages_of(self, doc_seq: int) -> list[StoredPassage]:
        """The passages of one document in order."""
        rows = self.conn.execute(
            'SELECT pid, doc_seq, ord, start, "end" FROM passages WHERE doc_seq = ? ORDER BY ord', (doc_seq,)
        )
        return [StoredPassage(*row) for row in rows]

    def iter_passage_tokens(self) -> Iterator[tuple[int, list[str]]]:
        """(pid, stemmed tokens) of every passage, ordered by pid."""
        for pid, tokens in self.conn.execute("SELECT pid, tokens FROM passages ORDER BY pid"):
            yield pid, tokens.split()

    def all_passage_ids(self) -> list[int]:
        """Every passage id, ascending."""
        return [r[0] for r in self.conn.execute("SELECT pid FROM passages ORDER BY pid")]

    def count_passages(self) -> int:
        """Number of passages."""
        return int(self.conn.execute("SELECT COUNT(*) FROM passages").fetchone()[0])

    # filters -----------------------------------------------------------------

    def meta_fields(self) -> list[str]:
        """Every metadata field name present in the store."""
        rows = self.conn.execute("SELECT DISTINCT j.key FROM documents, json_each(documents.meta) AS j ORDER BY j.key")
        return [r[0] for r in rows]

    def filtered_passage_ids(
        self, where: dict[str, str], year_from: int | None, year_to: int | None, year_field: str = "year"
    ) -> list[int]:
        """Passage ids of documents matching every filter (values compared case-insensitively)."""
        clauses, params = [], []
        for field, value in where.items():
            if field in ("id", "title", "source"):
                clauses.append(f"lower(d.{field}) = lower(?)")
            else:
                clauses.append("lower(CAST(json_extract(d.meta, ?) AS TEXT)) = lower(?)")
                params.append(_json_path(field))
            params.append(value)
        for bound, op in ((year_from, ">="), (year_to, "<=")):
            if bound is not None:
                clauses.append(f"CAST(json_extract(d.meta, ?) AS INTEGER) {op} ?")
                params += [_json_path(year_field), bound]
        sql = "SELECT p.pid FROM passages p JOIN documents d ON d.seq = p.doc_seq"
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        return [r[0] for r in self.conn.execute(sql + " ORDER BY p.pid", params)]

    def integrity_problems(self) -> list[str]:
        """SQLite's own integrity check plus orphan passages."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        orphans = self.conn.execute(
            "SELECT COUNT(*) FROM passages p LEFT JOIN documents d ON d.seq = p.doc_seq WHERE d.seq IS NULL"
        ).fetchone()[0]
        if orphans:
            problems.append(f"{orphans} passages belong to no document")
        missing = self.conn.execute("SELECT COUNT(*) FROM passages WHERE embedded = 0").fetchone()[0]
        if missing:
            problems.append(f"{missing} passages were never embedded")
        return problems


def _json_path(field: str) -> str:
    if not field.replace("_", "").replace("-", "").isalnum():
        raise QueryError(f"filter field {field!r}: use letters, digits, '_' or '-' only")
    return f'$."{field}"'


def _document(row: sqlite3.Row) -> StoredDocument:
    try:
        meta = json.loads(row["meta"])
    except json.JSONDecodeError as exc:
        raise IndexDamagedError(f"document {row['id']!r}: metadata is not JSON; rebuild the index") from exc
    return StoredDocument(
        seq=row["seq"],
        id=row["id"],
        title=row["title"],
        source=row["source"],
        content_hash=row["content_hash"],
        meta=meta,
        text=row["text"],
    )


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
