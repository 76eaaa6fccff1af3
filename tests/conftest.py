"""Shared fixtures: small Indonesian data, hash-embedder indexes, the real model's cache."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
MINI = DATA / "mini"


@pytest.fixture(scope="session", autouse=True)
def _model_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Point the model cache at one folder per test session (or INOVASI_TEST_CACHE to reuse one across runs)."""
    cache = os.environ.get("INOVASI_TEST_CACHE") or str(tmp_path_factory.mktemp("inovasi-cache"))
    os.environ["INOVASI_CACHE"] = cache
    os.environ.pop("INOVASI_MODEL", None)
    os.environ.pop("INOVASI_INDEX", None)


@pytest.fixture(scope="session")
def e5_cache(_model_cache: None) -> Path:
    """The session's model cache root (``INOVASI_CACHE``, set by ``_model_cache``)."""
    return Path(os.environ["INOVASI_CACHE"])


@pytest.fixture(scope="session")
def e5_torch(e5_cache: Path):
    """e5-small's float32 torch engine on CPU, loaded once per session: the reference the int8 engines match."""
    from nlp.embed import load_embedder

    return load_embedder("e5-small", engine="torch", device="cpu", cache_dir=e5_cache)


@pytest.fixture()
def mini_corpus(tmp_path: Path) -> Path:
    """A writable copy of the mini corpus (10 JSONL records and one text file)."""
    target = tmp_path / "corpus"
    shutil.copytree(MINI, target)
    return target


@pytest.fixture()
def hash_index(tmp_path: Path, mini_corpus: Path) -> Path:
    """An index of the mini corpus built with the deterministic hashing embedder."""
    from nlp.embed import load_embedder
    from nlp.index import update_index
    from nlp.ingest import iter_documents

    folder = tmp_path / "index"
    update_index(
        folder,
        iter_documents([mini_corpus]),
        embedder_factory=lambda: load_embedder("hash-test.v1"),
        embedder_name="hash-test.v1",
    )
    return folder


@pytest.fixture()
def search_probe() -> str:
    """Python code running ``inovasi search QUERY --index DIR --format json [ARGS]`` (argv 1, 2, 3...).

    It prints the results on stdout and, on stderr, ``HEAVY [...]``: the heavy
    libraries the search imported (none is expected).
    """
    return (
        "import sys, runpy\n"
        "sys.argv = ['inovasi', 'search', sys.argv[1], '--index', sys.argv[2], '--format', 'json', *sys.argv[3:]]\n"
        "try:\n    runpy.run_module('nlp', run_name='__main__')\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers', 'scipy', 'bm25s', 'sklearn', 'spacy')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy, file=sys.stderr)"
    )
