"""The index folder: build, update, remove, search, filters, format and tamper checks (hashing embedder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.embed import load_embedder
from nlp.errors import (
    IndexDamagedError,
    IndexFormatError,
    IndexLockedError,
    IndexModelMismatchError,
    IndexNotFoundError,
    QueryError,
)
from nlp.index import Filters, Index, document_vector, search, similar, update_index
from nlp.index.folder import write_lock
from nlp.ingest import iter_documents

HASH = "hash-test.v1"
FROZEN = Path(__file__).parent / "data" / "frozen-index-v1"


def _update(folder: Path, sources: list[Path], **kwargs):
    calls = []

    def factory():
        calls.append(1)
        return load_embedder(HASH)

    report = update_index(folder, iter_documents(sources), embedder_factory=factory, embedder_name=HASH, **kwargs)
    return report, calls


def test_build_counts_and_manifest(hash_index: Path):
    manifest = json.loads((hash_index / "manifest.json").read_text())
    assert manifest["format"] == "inovasi-index" and manifest["format_version"] == 1
    assert manifest["counts"]["documents"] == 11
    assert manifest["embedder"]["name"] == HASH
    assert manifest["vectors"]["structure"] == "flat-ip"
    assert {"region", "year", "opd"} <= set(manifest["meta_fields"])
    for name in manifest["files"].values():
        assert (hash_index / name).exists()
    assert Index.open(hash_index).verify() == []


def test_unchanged_rebuild_embeds_nothing_and_writes_nothing(hash_index: Path, mini_corpus: Path):
    before = (hash_index / "manifest.json").read_text()
    report, calls = _update(hash_index, [mini_corpus])
    assert report.unchanged == 11 and report.added == report.replaced == 0
    assert report.passages_embedded == 0
    assert calls == [], "the model is not even loaded for an unchanged corpus"
    assert not report.published
    assert (hash_index / "manifest.json").read_text() == before


def test_changed_document_is_replaced_and_pruning_removes(hash_index: Path, mini_corpus: Path):
    records = (mini_corpus / "reports.jsonl").read_text(encoding="utf-8").splitlines()
    first = json.loads(records[0])
    first["text"] += " Layanan kini juga tersedia pada hari Sabtu."
    records[0] = json.dumps(first, ensure_ascii=False)
    del records[-1]  # adu-01 disappears from the sources
    (mini_corpus / "reports.jsonl").write_text("\n".join(records) + "\n", encoding="utf-8")
    report, _ = _update(hash_index, [mini_corpus])
    assert (report.replaced, report.unchanged, report.removed) == (1, 9, 0)
    assert report.passages_embedded >= 1
    report, _ = _update(hash_index, [mini_corpus], prune=True)
    assert report.removed == 1 and report.documents == 10
    index = Index.open(hash_index)
    assert index.store.get_document("adu-01") is None
    assert "Sabtu" in index.store.get_document("adm-01").text
    assert index.verify() == []


def test_metadata_change_updates_without_embedding(hash_index: Path, mini_corpus: Path):
    path = mini_corpus / "reports.jsonl"
    path.write_text(path.read_text(encoding="utf-8").replace('"year": 2021', '"year": 2022'), encoding="utf-8")
    report, calls = _update(hash_index, [mini_corpus])
    assert report.metadata_updated == 1 and report.passages_embedded == 0 and calls == []
    assert Index.open(hash_index).store.get_document("adm-01").meta["year"] == 2022


def test_remove_by_id(hash_index: Path):
    report = update_index(hash_index, [], embedder_factory=lambda: None, embedder_name=HASH, remove_ids=["kes-01"])
    assert report.removed == 1
    index = Index.open(hash_index)
    assert index.store.get_document("kes-01") is None
    assert index.verify() == []


def test_lexical_search_finds_the_document_and_highlights(hash_index: Path):
    hits = search(Index.open(hash_index), "bank sampah tabungan", mode="lexical", k=3)
    assert hits[0].id == "lhk-01"
    assert hits[0].highlights, "query terms are marked in the snippet"
    word = hits[0].snippet[hits[0].highlights[0][0] : hits[0].highlights[0][1]].lower()
    assert word in {"bank", "sampah", "tabungan"}


def test_hybrid_search_returns_documents_not_passages(hash_index: Path):
    embedder = load_embedder(HASH)
    hits = search(Index.open(hash_index), "pembayaran pajak bumi dan bangunan QRIS", embedder=embedder, k=5)
    assert hits[0].id == "pjk-01"
    assert len({h.id for h in hits}) == len(hits) == 5
    assert [h.rank for h in hits] == [1, 2, 3, 4, 5]
    doc = Index.open(hash_index).store.get_document(hits[0].id)
    assert doc.text[hits[0].snippet_start : hits[0].snippet_end].replace("\n", " ") == hits[0].snippet


def test_filters_apply_before_ranking(hash_index: Path):
    embedder = load_embedder(HASH)
    index = Index.open(hash_index)
    hits = search(index, "layanan warga", embedder=embedder, k=10, filters=Filters({"region": "kota bukit indah"}))
    assert {h.meta["region"] for h in hits} == {"Kota Bukit Indah"}
    assert len(hits) == 3, "every matching document comes back, not only those in an unfiltered top-k"
    hits = search(index, "layanan warga", embedder=embedder, k=10, filters=Filters(year_from=2022, year_to=2023))
    assert hits and all(2022 <= h.meta["year"] <= 2023 for h in hits)
    assert len(hits) == 4


def test_unknown_filter_field_and_empty_query(hash_index: Path):
    index = Index.open(hash_index)
    with pytest.raises(QueryError, match="unknown field 'kabupaten'.*region"):
        search(index, "sampah", mode="lexical", filters=Filters({"kabupaten": "x"}))
    with pytest.raises(QueryError, match="empty query"):
        search(index, "   ", mode="lexical")


def test_similar_excludes_the_document_itself(hash_index: Path):
    index = Index.open(hash_index)
    hits = similar(index, document_vector(index, "adm-01"), k=3, exclude_ids=["adm-01"])
    assert len(hits) == 3 and "adm-01" not in {h.id for h in hits}


def test_missing_index_and_newer_format(tmp_path: Path, hash_index: Path):
    with pytest.raises(IndexNotFoundError, match="inovasi index build"):
        Index.open(tmp_path / "nowhere")
    manifest = json.loads((hash_index / "manifest.json").read_text())
    manifest["format_version"] = 99
    (hash_index / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexFormatError, match="newer"):
        Index.open(hash_index)


def test_other_model_is_refused(hash_index: Path, mini_corpus: Path):
    with pytest.raises(IndexModelMismatchError, match="hash-test.v1"):
        Index.open(hash_index, embedder_name="e5-small")
    with pytest.raises(IndexModelMismatchError):
        update_index(hash_index, iter_documents([mini_corpus]), embedder_factory=lambda: None, embedder_name="e5-small")


def test_tampered_files_are_named_by_verify(hash_index: Path):
    manifest = json.loads((hash_index / "manifest.json").read_text())
    vectors = hash_index / manifest["files"]["vectors"]
    data = bytearray(vectors.read_bytes())
    data[-10] ^= 0xFF
    vectors.write_bytes(bytes(data))
    problems = Index.open(hash_index).verify()
    assert any(manifest["files"]["vectors"] in p and "checksum" in p for p in problems)


def test_missing_file_is_a_damage_error(hash_index: Path):
    manifest = json.loads((hash_index / "manifest.json").read_text())
    (hash_index / manifest["files"]["vectors"]).unlink()
    with pytest.raises(IndexDamagedError, match="missing"):
        Index.open(hash_index)


def test_second_writer_is_locked_out(hash_index: Path, mini_corpus: Path):
    with write_lock(hash_index), pytest.raises(IndexLockedError, match="another inovasi process"):
        _update(hash_index, [mini_corpus])


def test_failed_build_leaves_previous_generation_intact(hash_index: Path, mini_corpus: Path):
    before = (hash_index / "manifest.json").read_text()
    (mini_corpus / "baru.txt").write_text("Layanan baru\n\nSebuah layanan baru untuk warga desa.", encoding="utf-8")

    def broken_factory():
        raise RuntimeError("killed while embedding")

    with pytest.raises(RuntimeError):
        update_index(hash_index, iter_documents([mini_corpus]), embedder_factory=broken_factory, embedder_name=HASH)
    assert (hash_index / "manifest.json").read_text() == before
    index = Index.open(hash_index)
    assert index.verify() == []
    assert sorted(p.name for p in hash_index.iterdir() if not p.name.startswith(".")) == sorted(
        ["manifest.json", *json.loads(before)["files"].values()]
    )


def test_frozen_index_of_format_v1_still_loads_and_searches():
    """A tiny index written by format v1 is kept in tests/data; this version must keep reading it."""
    index = Index.open(FROZEN)
    assert index.verify() == []
    hits = search(index, "ambulans desa", embedder=load_embedder(HASH), k=2)
    assert hits[0].id == "kes-02"


# --------------------------------------------------------------------------
# Lean search path: BM25 read without bm25s, highlights from stored stems
# --------------------------------------------------------------------------
SEARCH_QUERIES = [
    "bank sampah tabungan",
    "pembayaran pajak bumi dan bangunan QRIS",
    "ambulans desa untuk ibu bersalin",
    "layanan adminduk keliling ke kampung",
    "Jum'at bersih kafé warga",
    "anak-anak sekolah",
]


def test_bm25_scores_read_without_bm25s_equal_bm25s(hash_index: Path):
    import random

    import bm25s
    import numpy as np

    from nlp.index.lexical import SavedScores

    index = Index.open(hash_index)
    lexical = index.lexical
    assert isinstance(lexical.retriever, SavedScores), "a search must not need bm25s (and scipy)"
    reference = bm25s.BM25.load(str(hash_index / index.files["lexical"]), mmap=True, show_progress=False)
    vocab = sorted(token for token in reference.vocab_dict if token)
    rng = random.Random(0)
    for trial in range(300):
        tokens = rng.sample(vocab, rng.randint(1, 8))
        tokens += tokens[:2] if trial % 3 == 0 else ["katayangtidakada"]  # repeated and unknown terms
        ours, theirs = lexical.retriever.get_scores(tokens), reference.get_scores(tokens)
        assert ours.dtype == theirs.dtype and np.array_equal(ours, theirs), tokens


def test_bm25_variant_with_a_non_occurrence_term_is_left_to_bm25s(tmp_path: Path):
    import bm25s
    import numpy as np

    from nlp.index.lexical import LexicalIndex

    retriever = bm25s.BM25(method="bm25+")
    retriever.index([["bank", "sampah"], ["pajak", "daerah"], ["bank", "pajak"]], show_progress=False)
    LexicalIndex(retriever, np.array([7, 8, 9], dtype=np.int64)).save(tmp_path / "lex")
    loaded = LexicalIndex.load(tmp_path / "lex")
    assert isinstance(loaded.retriever, bm25s.BM25)
    assert np.array_equal(loaded.retriever.get_scores(["bank"]), retriever.get_scores(["bank"]))
    _, pids = loaded.search(["bank"], 3)
    assert set(pids[:2].tolist()) == {7, 9}


@pytest.fixture()
def apostrophe_index(tmp_path: Path, mini_corpus: Path) -> Path:
    """The mini corpus plus a document whose words stem to several tokens (apostrophes, accents)."""
    record = {
        "id": "jum-01",
        "title": "Gerakan Jum'at Bersih di Kafé Desa",
        "text": "Setiap Jum'at pagi warga membersihkan saluran air dan halaman kafé desa. "
        "Anak-anak sekolah ikut memilah sampah, lalu sampah plastik ditabung di bank sampah.",
        "region": "Kota Bukit Indah",
        "year": 2023,
    }
    (mini_corpus / "extra.jsonl").write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    folder = tmp_path / "index-apostrophe"
    update_index(
        folder, iter_documents([mini_corpus]), embedder_factory=lambda: load_embedder(HASH), embedder_name=HASH
    )
    return folder


def test_highlights_from_stored_stems_equal_stemming_every_word(
    apostrophe_index: Path, monkeypatch: pytest.MonkeyPatch
):
    from nlp.index.searcher import highlight_spans
    from nlp.index.store import Store
    from nlp.text import stem_tokens

    embedder = load_embedder(HASH)
    index = Index.open(apostrophe_index)

    def run_all() -> list:
        return [
            search(index, query, embedder=embedder, k=5, mode=mode)
            for query in SEARCH_QUERIES
            for mode in ("hybrid", "lexical", "dense")
        ]

    import nlp.index.searcher as searcher

    stemmed_passages = []
    real = searcher.highlight_spans

    def counting(text: str, query_stems: set[str]) -> list:
        stemmed_passages.append(text)
        return real(text, query_stems)

    monkeypatch.setattr(searcher, "highlight_spans", counting)
    fast = run_all()
    monkeypatch.setattr(searcher, "highlight_spans", real)
    # Only the passages with "Jum'at" (a word with two stems) are stemmed again.
    assert stemmed_passages and all("Jum'at" in text for text in stemmed_passages)
    for query, hits in zip([q for q in SEARCH_QUERIES for _ in range(3)], fast, strict=True):
        for hit in hits:  # the definition: every snippet word stemmed on its own
            assert hit.highlights == tuple(highlight_spans(hit.snippet, set(stem_tokens(query)))), (query, hit.id)
    assert sum(len(hit.highlights) for hits in fast for hit in hits) > 20
    assert any(hit.id == "jum-01" and hit.highlights for hits in fast for hit in hits)
    monkeypatch.setattr(Store, "passage_tokens", lambda self, pids: {})  # force stemming every word
    assert run_all() == fast


# --------------------------------------------------------------------------
# Vector structures: chosen by size, retrains keep every code
# --------------------------------------------------------------------------
def test_vector_structure_by_size():
    from nlp.index.vectors import EXACT_LIMIT, choose_spec

    assert choose_spec(EXACT_LIMIT).structure == "flat-ip"
    small, large = choose_spec(EXACT_LIMIT + 1), choose_spec(1_000_000)
    assert small.structure == large.structure == "ivf-sq8"
    assert small.params["nlist"] == 256 and small.params["nprobe"] == 32
    assert large.params["nlist"] == 1024 and large.params["nprobe"] == 32
    assert large.params["by_residual"] is False and large.params["trained_for"] == 1_000_000


def _clustered(n: int, dim: int, seed: int):
    import numpy as np

    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.3 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_ivf_retrain_keeps_every_code_and_old_residual_indexes_still_work(tmp_path: Path):
    import numpy as np

    from nlp.index.vectors import VectorIndex, VectorSpec, training_sample

    dim = 32
    data, ids = _clustered(6000, dim, 0), np.arange(6000, dtype=np.int64) + 100

    def ivf(nlist: int, **extra) -> VectorSpec:
        return VectorSpec("ivf-sq8", {"nlist": nlist, "nprobe": 8, "trained_for": 1500, **extra})

    old = VectorIndex.empty(dim, ivf(16, by_residual=False), training_sample(data[:1500], ivf(16)))
    old.add(ids, data)
    decoded = old.reconstruct(ids)
    grown = ivf(64, by_residual=False)
    kept = VectorIndex.empty(dim, grown, training_sample(decoded, grown), codes_of=old)
    kept.add(ids, decoded)
    assert np.array_equal(kept.reconstruct(ids), decoded), "a retrain must not re-quantise the vectors"
    fresh = VectorIndex.empty(dim, grown, training_sample(decoded, grown))
    fresh.add(ids, decoded)
    assert not np.array_equal(fresh.reconstruct(ids), decoded)  # what keeping the quantiser avoids

    # An index written before by_residual existed (residual codes) loads and searches as it was.
    legacy_spec = VectorSpec("ivf-sq8", {"nlist": 16, "nprobe": 8, "trained_for": 1500})
    legacy = VectorIndex.empty(dim, legacy_spec, training_sample(data, legacy_spec))
    legacy.add(ids, data)
    assert legacy.index.by_residual
    legacy.save(tmp_path / "legacy.faiss")
    loaded = VectorIndex.load(tmp_path / "legacy.faiss", legacy_spec)
    scores, found = loaded.search(data[7], 5)
    assert found[0] == ids[7] and scores[0] > 0.99
    # Its first retrain re-encodes once into non-residual codes (codes_of cannot apply).
    moved = VectorIndex.empty(dim, grown, training_sample(decoded, grown), codes_of=loaded)
    moved.add(ids, loaded.reconstruct(ids))
    assert not moved.index.by_residual and moved.search(data[7], 1)[1][0] == ids[7]


def test_update_that_retrains_the_ivf_index_keeps_unchanged_vectors(
    tmp_path: Path, mini_corpus: Path, monkeypatch: pytest.MonkeyPatch
):
    import numpy as np

    import nlp.index.vectors as vectors

    # Shrink the thresholds so the mini corpus takes the IVF path and its retrain.
    monkeypatch.setattr(vectors, "EXACT_LIMIT", 4)
    monkeypatch.setattr(vectors, "MIN_NLIST", 2)
    monkeypatch.setattr(vectors, "RETRAIN_GROWTH", 1.0)
    folder = tmp_path / "ivf"
    _update(folder, [mini_corpus])
    before = Index.open(folder)
    assert before.manifest["vectors"]["structure"] == "ivf-sq8"
    pids = np.asarray(before.store.all_passage_ids(), dtype=np.int64)
    vectors_before = before.vectors.reconstruct(pids)
    before.close()
    (mini_corpus / "extra.txt").write_text(
        "Posyandu keliling mendatangi dusun terpencil setiap bulan.\n\nKader mencatat berat badan balita.",
        encoding="utf-8",
    )
    report, _ = _update(folder, [mini_corpus])
    assert report.added == 1
    after = Index.open(folder)
    assert after.manifest["vectors"]["params"]["trained_for"] > before.manifest["vectors"]["params"]["trained_for"]
    assert np.array_equal(after.vectors.reconstruct(pids), vectors_before)
    assert after.verify() == []
