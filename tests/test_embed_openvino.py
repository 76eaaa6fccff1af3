"""The int8 OpenVINO engine of e5-small (the CPU bulk default): agreement, windowing, its cache folder.

Uses the real model: the session exports it once into ``$INOVASI_CACHE``
(about 20 s; shared with every test that builds an index or labels).
Measured agreement with the float32 torch engine: min cosine 0.9996 over 160
sample passages; the tests assert 0.995 everywhere and a mean of 0.999
(the ONNX Runtime engine's bounds are 0.99 and 0.997).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from nlp.embed import Embedder, convert, load_embedder
from nlp.embed import openvino as openvino_engine
from nlp.embed.e5 import padded_length
from nlp.errors import EmbedderError

REPO = Path(__file__).resolve().parents[1]

TEXTS = [
    "Dinas kependudukan membuka gerai layanan akta kelahiran di balai desa setiap Kamis, "
    "sehingga warga dusun terpencil tidak perlu lagi menempuh tiga jam perjalanan ke kota.",
    "Aplikasi pelaporan jalan rusak menerima foto dari warga; petugas UPT jalan menandai laporan "
    "yang sudah ditangani dan warga bisa melihat statusnya.",
    "Retribusi pasar kini dibayar dengan kode QR.",
    "Inovasi",
    "Layanan 🚑 ambulans desa 24 jam, ½ harga, ＡＢＣ ﬁ résumé.",
]
ODD = ["", "   ", "\x00", "\ud800 sendiri", "harga <s>lama</s> <pad>", "a" * 3000]
LONG = " ".join([" ".join(TEXTS[:3])] * 7)  # more than one 510-token window


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


@pytest.fixture(scope="session")
def openvino_folder(e5_cache: Path) -> Path:
    return openvino_engine.ensure_openvino(e5_cache)


@pytest.fixture(scope="session")
def e5_openvino(e5_cache: Path, openvino_folder: Path) -> Embedder:
    return load_embedder("e5-small", engine="openvino", cache_dir=e5_cache)


def copy_models(folder: Path, root: Path) -> Path:
    """Hard-linked copies of the converted and OpenVINO folders in ``root``'s cache; returns the OpenVINO copy."""
    converted = convert.converted_model_dir(folder.parent.parent)
    shutil.copytree(converted, convert.converted_model_dir(root), copy_function=os.link)
    target = openvino_engine.openvino_model_dir(root)
    shutil.copytree(folder, target, copy_function=os.link)
    return target


def rewrite_manifest(folder: Path, edit) -> None:
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.unlink()  # break the hard link to the session's file first
    path.write_text(json.dumps(manifest), encoding="utf-8")


def test_vectors_agree_with_torch(e5_openvino: Embedder, e5_torch: Embedder):
    texts = [*TEXTS, *ODD, LONG]
    passages = cosines(e5_openvino.embed_passages(texts, batch_size=4), e5_torch.embed_passages(texts))
    short = [*TEXTS, *ODD[:-1]]
    queries = cosines(e5_openvino.embed_queries(short), e5_torch.embed_queries(short))
    assert passages.min() > 0.995 and queries.min() > 0.995, (passages, queries)
    assert passages.mean() > 0.999 and queries.mean() > 0.999


def test_odd_texts_give_unit_vectors(e5_openvino: Embedder):
    vectors = e5_openvino.embed_passages(ODD)
    assert vectors.shape == (len(ODD), 384) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], vectors[2], atol=1e-6)  # NUL is dropped: "\x00" is the empty text


def test_long_text_is_embedded_in_windows(e5_openvino: Embedder):
    ids = e5_openvino._token_tokenizer.encode("passage: " + LONG, add_special_tokens=False).ids
    width = convert.WINDOW_CONTENT_TOKENS
    assert width < len(ids) < 2 * width
    windows = [ids[:width], ids[width:]]
    means = np.vstack([e5_openvino._window_means([w], padded_length(len(w))) for w in windows])
    expected = (len(windows[0]) * means[0] + len(windows[1]) * means[1]).astype(np.float32)
    expected /= np.linalg.norm(expected)
    assert float(e5_openvino.embed_passages([LONG])[0] @ expected) > 0.9999


def test_batch_partners_do_not_change_a_vector(e5_openvino: Embedder):
    texts = [TEXTS[0], TEXTS[3], LONG, TEXTS[2], TEXTS[1]]
    calls: list[int] = []
    batched = e5_openvino.embed_passages(texts, batch_size=2, progress=calls.append)
    together = e5_openvino.embed_passages(texts[::-1])[::-1]
    alone = np.vstack([e5_openvino.embed_passages([text]) for text in texts])
    # Activations are quantised per token and a window is only run with windows of its own padded
    # length, so a vector is the same bit for bit whatever was embedded with it (a cold vector
    # cache and a warm one must train the same classifier).
    assert np.array_equal(batched, alone) and np.array_equal(together, alone)
    assert calls == [2, 2, 1]


def test_identity_and_variant(e5_openvino: Embedder, e5_torch: Embedder):
    assert e5_openvino.name == "e5-small" and e5_openvino.engine == "openvino"
    assert e5_openvino.fingerprint() == e5_torch.fingerprint() == convert.SOURCE_SHA256
    assert e5_openvino.variant == openvino_engine.VARIANT == "openvino-int8.v1"
    assert e5_openvino.count_tokens([LONG, ""]) == e5_torch.count_tokens([LONG, ""])


def test_folder_has_manifest_and_checksums(openvino_folder: Path):
    assert openvino_engine.check_openvino_folder(openvino_folder) is None
    manifest = json.loads((openvino_folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == openvino_engine.FORMAT_NAME
    assert manifest["variant"] == openvino_engine.VARIANT and manifest["source"]["sha256"] == convert.SOURCE_SHA256
    assert sorted(manifest["files"]) == ["model.bin", "model.xml", "tokenizer.json"]
    for name, info in manifest["files"].items():
        assert convert.file_sha256(openvino_folder / name) == info["sha256"]
    # No float32 intermediates or temporary folders stay in the cache.
    names = sorted(p.name for p in openvino_folder.iterdir())
    assert names == ["manifest.json", "model.bin", "model.xml", "tokenizer.json"]
    assert not list(openvino_folder.parent.glob(f".{openvino_engine.FOLDER_NAME}.tmp-*"))


def test_damaged_weights_are_detected_and_rebuilt(
    openvino_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    target = copy_models(openvino_folder, tmp_path)
    weights = target / "model.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2 : len(data) // 2 + 4] = b"\x00\x01\x02\x03"
    weights.unlink()
    weights.write_bytes(bytes(data))
    assert "sha256" in (openvino_engine.check_openvino_folder(target) or "")
    writes: list[Path] = []

    def fake_write(converted: Path, dest: Path) -> None:  # the session already ran a real export
        writes.append(dest)
        shutil.copytree(openvino_folder, dest)

    monkeypatch.setattr(openvino_engine, "write_openvino_folder", fake_write)
    assert openvino_engine.ensure_openvino(tmp_path) == target
    assert len(writes) == 1 and writes[0].name.startswith(".")
    assert openvino_engine.check_openvino_folder(target) is None


def test_unloadable_model_is_a_clear_error(openvino_folder: Path, tmp_path: Path):
    target = copy_models(openvino_folder, tmp_path)
    model = target / "model.xml"
    model.unlink()
    model.write_text("<net>not an OpenVINO graph</net>", encoding="utf-8")

    def edit(manifest: dict) -> None:
        manifest["files"]["model.xml"] = {"bytes": model.stat().st_size, "sha256": convert.file_sha256(model)}

    rewrite_manifest(target, edit)
    with pytest.raises(EmbedderError, match=r"model\.xml.*could not load.*delete"):
        load_embedder("e5-small", engine="openvino", cache_dir=tmp_path)


def test_folder_from_a_newer_version_is_not_overwritten(openvino_folder: Path, tmp_path: Path):
    target = copy_models(openvino_folder, tmp_path)
    rewrite_manifest(target, lambda m: m.update(format_version=openvino_engine.FORMAT_VERSION + 1))
    with pytest.raises(EmbedderError, match="newer inovasi-nlp"):
        openvino_engine.ensure_openvino(tmp_path)


def test_engine_is_cpu_and_e5_only():
    with pytest.raises(EmbedderError, match="CPU only"):
        load_embedder("e5-small", engine="openvino", device="cuda")
    with pytest.raises(EmbedderError, match="only for e5-small"):
        load_embedder("hash-test.v1", engine="openvino")


def test_default_bulk_engine_never_imports_torch(openvino_folder: Path, e5_cache: Path):
    code = (
        "import sys\n"
        "from nlp.embed import load_embedder\n"
        "e = load_embedder('e5-small')\n"
        "assert e.engine == 'openvino', e\n"
        "v = e.embed_passages(['layanan perizinan daring', ''])\n"
        "assert v.shape == (2, 384)\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'nncf') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "INOVASI_CACHE": str(e5_cache)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)
