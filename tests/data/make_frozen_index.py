"""Regenerate tests/data/frozen-index-v1: a hash-embedder index of tests/data/mini in index format v1.

Run only when deliberately freezing a new format version (then add a new
folder, keep the old one): the point of the frozen index is that later code
keeps reading what earlier code wrote.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from nlp.embed import load_embedder
from nlp.index import update_index
from nlp.ingest import iter_documents

HERE = Path(__file__).parent

if __name__ == "__main__":
    target = HERE / "frozen-index-v1"
    shutil.rmtree(target, ignore_errors=True)
    update_index(
        target,
        iter_documents([HERE / "mini"]),
        embedder_factory=lambda: load_embedder("hash-test.v1"),
        embedder_name="hash-test.v1",
    )
    (target / ".lock").unlink(missing_ok=True)
    print(f"wrote {target}")
