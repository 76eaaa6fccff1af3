"""Creating and updating an index: only new or changed texts are embedded.

An update runs in two passes so memory stays flat and the slow part has an
exact total for its progress bar:

1. stream the sources; unchanged documents (same content hash) only refresh
   their metadata, changed and new ones are normalised, split into passages
   and stored with their stems in the next generation's store;
2. embed the passages that have no vector yet, in batches, and add them to
   the vector index; then rebuild BM25 from the stored stems and publish the
   generation by replacing the manifest.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from nlp import __version__
from nlp.errors import IndexModelMismatchError, InovasiError
from nlp.index.folder import (
    checksum_files,
    fsync_tree,
    generation_files,
    remove_unreferenced,
    write_lock,
)
from nlp.index.lexical import BM25_PARAMS, LexicalIndex
from nlp.index.manifest import FORMAT_NAME, FORMAT_VERSION, MANIFEST, read_manifest, utc_now, write_json_atomic
from nlp.index.store import Store
from nlp.index.vectors import VectorIndex, VectorSpec, choose_spec, needs_rebuild, training_sample
from nlp.ingest import Document, Skipped
from nlp.text import make_passages, normalise, split_sentences, stem_tokens

PASSAGE_TOKENS = 256
OVERLAP_TOKENS = 48
EMBED_BATCH = 64


class Progress(Protocol):
    """What the builder reports to; the CLI draws it as a progress bar."""

    def start(self, phase: str, total: int | None) -> None: ...

    def advance(self, n: int = 1) -> None: ...

    def finish(self) -> None: ...


class _Silent:
    def start(self, phase: str, total: int | None) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass

    def finish(self) -> None:
        pass


@dataclass(frozen=True)
class BuildReport:
    """What an update did."""

    added: int
    replaced: int
    unchanged: int
    metadata_updated: int
    removed: int
    passages_embedded: int
    documents: int
    passages: int
    structure: str
    skipped: list[Skipped] = field(default_factory=list)
    removed_missing: list[str] = field(default_factory=list)
    seconds: float = 0.0
    published: bool = True


def embed_text_for(title: str | None, passage: str) -> str:
    """The text a passage is embedded as: its document title gives the context it lacks."""
    if title and not passage.startswith(title):
        return f"{title}\n{passage}"
    return passage


def update_index(
    folder: str | Path,
    documents: Iterable[Document | Skipped] = (),
    *,
    embedder_factory: Callable[[], Any],
    embedder_name: str,
    prune: bool = False,
    remove_ids: Sequence[str] = (),
    must_exist: bool = False,
    progress: Progress | None = None,
    on_skip: Callable[[Skipped], None] | None = None,
) -> BuildReport:
    """Create or update the index at ``folder`` from documents, then publish it atomically.

    ``embedder_factory`` is called only if something needs embedding or
    counting, so an unchanged rebuild never loads the model.
    """
    folder = Path(folder)
    progress = progress or _Silent()
    started = time.perf_counter()
    if must_exist:
        read_manifest(folder)
    with write_lock(folder):
        old = read_manifest(folder) if (folder / MANIFEST).exists() else None
        if old is not None and old["embedder"]["name"] != embedder_name:
            raise IndexModelMismatchError(
                f"{folder}: index was built with embedder {old['embedder']['name']!r}, not {embedder_name!r}; "
                f"update it with --model {old['embedder']['name']} or build into a new folder"
            )
        generation = int(old["generation"]) + 1 if old else 1
        remove_unreferenced(folder, {generation - 1} if old else set())
        files = generation_files(generation)
        builder = _Builder(folder, old, files, embedder_factory, progress)
        try:
            report = builder.run(documents, prune=prune, remove_ids=remove_ids, on_skip=on_skip)
        except BaseException:
            builder.abandon()
            remove_unreferenced(folder, {generation - 1} if old else set())
            raise
        if not report.published:
            remove_unreferenced(folder, {generation - 1} if old else set())
        else:
            # Keep the generation just replaced for readers still holding it.
            remove_unreferenced(folder, {generation, generation - 1})
    return BuildReport(**{**report.__dict__, "seconds": time.perf_counter() - started})


class _Builder:
    def __init__(
        self,
        folder: Path,
        old: dict[str, Any] | None,
        files: dict[str, str],
        embedder_factory: Callable[[], Any],
        progress: Progress,
    ) -> None:
        self.folder = folder
        self.old = old
        self.files = files
        self.embedder_factory = embedder_factory
        self.progress = progress
        self._embedder: Any = None
        self.store: Store | None = None

    @property
    def embedder(self) -> Any:
        if self._embedder is None:
            self._embedder = self.embedder_factory()
            if self.old is not None and self._embedder.fingerprint() != self.old["embedder"]["fingerprint"]:
                raise IndexModelMismatchError(
                    f"{self.folder}: index was built with different weights for {self._embedder.name!r} "
                    f"({self.old['embedder']['fingerprint'][:12]} vs {self._embedder.fingerprint()[:12]}); "
                    "rebuild it into a new folder"
                )
            if self.old is not None:
                built = str(self.old["embedder"].get("variant", ""))
                new = str(getattr(self._embedder, "variant", "") or "")
                if built != new:
                    raise IndexModelMismatchError(
                        f"{self.folder}: index vectors were computed as {built or 'float32'!r}, "
                        f"this engine computes {new or 'float32'!r}; update it with the engine that built it "
                        "(inovasi index build picks it from the manifest) or build into a new folder"
                    )
        return self._embedder

    def abandon(self) -> None:
        if self.store is not None:
            try:
                self.store.conn.close()
            except Exception:
                pass
            self.store = None

    def run(
        self,
        documents: Iterable[Document | Skipped],
        *,
        prune: bool,
        remove_ids: Sequence[str],
        on_skip: Callable[[Skipped], None] | None,
    ) -> BuildReport:
        store_path = self.folder / self.files["store"]
        if self.old is not None:
            store = Store.copy_of(self.folder / self.old["files"]["store"], store_path)
        else:
            store = Store.create(store_path)
        self.store = store
        known = store.document_hashes()
        seen: set[str] = set()
        skipped: list[Skipped] = []
        removed_pids: list[int] = []
        added = replaced = unchanged = meta_updated = 0
        next_pid = store.next_passage_id()
        now = utc_now()

        self.progress.start("reading", None)
        for item in documents:
            if isinstance(item, Skipped):
                skipped.append(item)
                if on_skip:
                    on_skip(item)
                continue
            doc = item
            if doc.id in seen:
                skipped.append(Skipped(doc.source, f"duplicate id {doc.id!r}; give each document its own id"))
                if on_skip:
                    on_skip(skipped[-1])
                continue
            seen.add(doc.id)
            previous = known.get(doc.id)
            if previous is not None and previous[1] == doc.content_hash:
                unchanged += 1
                if store.update_document_meta(previous[0], title=doc.title, source=doc.source, meta=doc.meta, now=now):
                    meta_updated += 1
                self.progress.advance()
                continue
            text = normalise(doc.text)
            if not text:
                skipped.append(Skipped(doc.source, "no text left after normalisation; check the file's content"))
                if on_skip:
                    on_skip(skipped[-1])
                continue
            if previous is not None:
                removed_pids += store.delete_documents([previous[0]])
                replaced += 1
            else:
                added += 1
            seq = store.insert_document(
                doc_id=doc.id,
                title=doc.title,
                source=doc.source,
                content_hash=doc.content_hash,
                meta=doc.meta,
                text=text,
                now=now,
            )
            passages = make_passages(
                text,
                self.embedder.count_tokens,
                max_tokens=min(PASSAGE_TOKENS, self.embedder.max_tokens - 16),
                overlap_tokens=OVERLAP_TOKENS,
                sentences=split_sentences(text),
            )
            rows = []
            for ordinal, span in enumerate(passages):
                tokens = stem_tokens(((doc.title + "\n") if ordinal == 0 and doc.title else "") + span.text)
                rows.append((next_pid, seq, ordinal, span.start, span.end, " ".join(tokens)))
                next_pid += 1
            store.insert_passages(rows)
            self.progress.advance()
        self.progress.finish()

        gone = [i for i in known if i not in seen] if prune else []
        missing = [i for i in remove_ids if i not in known]
        gone += [i for i in remove_ids if i in known and i not in gone]
        if gone:
            seqs = [known[i][0] for i in gone]
            removed_pids += store.delete_documents(seqs)
        store.set_next_passage_id(next_pid)
        store.conn.commit()

        to_embed = store.unembedded_passages()
        changed = bool(added or replaced or meta_updated or gone)
        if not changed and self.old is not None:
            store.conn.close()
            self.store = None
            return BuildReport(
                added=0,
                replaced=0,
                unchanged=unchanged,
                metadata_updated=0,
                removed=0,
                passages_embedded=0,
                documents=int(self.old["counts"]["documents"]),
                passages=int(self.old["counts"]["passages"]),
                structure=self.old["vectors"]["structure"],
                skipped=skipped,
                removed_missing=missing,
                published=False,
            )

        vectors = self._vectors(store, removed_pids, to_embed)
        n_docs, n_passages = store.count_documents(), store.count_passages()
        meta_fields = store.meta_fields()
        store.conn.execute("PRAGMA optimize")
        store.close()
        self.store = None

        self.progress.start("lexical", None)
        lexical = LexicalIndex.build(Store(self.folder / self.files["store"], readonly=True).iter_passage_tokens())
        lexical.save(self.folder / self.files["lexical"])
        vectors.save(self.folder / self.files["vectors"])
        self.progress.finish()
        for name in self.files.values():
            fsync_tree(self.folder / name)

        embedder_info = self._embedder_info()
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "generation": int(self.files["store"].split("-")[1].split(".")[0]),
            "created_at": self.old["created_at"] if self.old else utc_now(),
            "updated_at": utc_now(),
            "embedder": embedder_info,
            "passage_tokens": PASSAGE_TOKENS,
            "overlap_tokens": OVERLAP_TOKENS,
            "counts": {"documents": n_docs, "passages": n_passages},
            "vectors": vectors.spec.to_json(),
            "lexical": {"library": "bm25s", "stemmer": "sastrawi", **BM25_PARAMS},
            "meta_fields": meta_fields,
            "files": self.files,
            "checksums": checksum_files(self.folder, self.files),
            "libraries": _library_versions(),
        }
        write_json_atomic(self.folder / MANIFEST, manifest)
        return BuildReport(
            added=added,
            replaced=replaced,
            unchanged=unchanged,
            metadata_updated=meta_updated,
            removed=len(gone),
            passages_embedded=len(to_embed),
            documents=n_docs,
            passages=n_passages,
            structure=vectors.spec.structure,
            skipped=skipped,
            removed_missing=missing,
        )

    def _embedder_info(self) -> dict[str, Any]:
        if self._embedder is None and self.old is not None:
            return dict(self.old["embedder"])
        e = self.embedder
        return {
            "name": e.name,
            "fingerprint": e.fingerprint(),
            "dimension": int(e.dimension),
            "max_tokens": int(e.max_tokens),
            # How the vectors were computed ("" = float32 reference, "onnx-int8.v1"...): updates must match it.
            "variant": str(getattr(e, "variant", "") or ""),
        }

    def _vectors(self, store: Store, removed_pids: list[int], to_embed: list[int]) -> VectorIndex:
        if self.old is not None:
            spec = VectorSpec(**self.old["vectors"])
            vectors = VectorIndex.load(self.folder / self.old["files"]["vectors"], spec)
            vectors.remove(removed_pids)
            dimension = vectors.dimension
        else:
            dimension = int(self.embedder.dimension)
            vectors = VectorIndex.empty(dimension, choose_spec(0))
        total = vectors.size + len(to_embed)
        fresh: list[tuple[np.ndarray, np.ndarray]] = []
        rebuild = needs_rebuild(vectors.spec, total)
        self.progress.start("embedding", len(to_embed))
        for start in range(0, len(to_embed), EMBED_BATCH * 8):
            chunk = to_embed[start : start + EMBED_BATCH * 8]
            rows = store.passage_texts(chunk)
            texts = [embed_text_for(title, text) for _, title, text in rows]
            emb = self.embedder.embed_passages(texts, batch_size=EMBED_BATCH, progress=self.progress.advance)
            ids = np.asarray(chunk, dtype=np.int64)
            if rebuild:
                fresh.append((ids, emb))
            else:
                vectors.add(ids, emb)
            store.mark_embedded(chunk)
        self.progress.finish()
        if rebuild:
            kept_ids = vectors.ids()
            all_ids = np.concatenate([kept_ids] + [ids for ids, _ in fresh])
            all_vecs = np.concatenate([vectors.reconstruct(kept_ids)] + [v for _, v in fresh]).astype(np.float32)
            spec = choose_spec(len(all_ids))
            training = training_sample(all_vecs, spec) if spec.structure != "flat-ip" else None
            # Kept vectors were decoded from the old codes: keep its quantiser so they get the same codes.
            vectors = VectorIndex.empty(dimension, spec, training, codes_of=vectors)
            vectors.add(all_ids, all_vecs)
        return vectors


def _library_versions() -> dict[str, str]:
    import importlib.metadata as md
    import sqlite3

    out = {"inovasi-nlp": __version__, "sqlite": sqlite3.sqlite_version}
    for name in ("faiss-cpu", "bm25s", "numpy", "spacy", "PySastrawi"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


__all__ = ["BuildReport", "InovasiError", "Progress", "embed_text_for", "update_index"]
