"""The index: a SQLite store, FAISS vectors and a BM25 index in one versioned folder.

Names are loaded on first use, so a search never imports the build machinery
(spaCy, the readers) and a build never imports what only search needs.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "BuildReport": "nlp.index.build",
    "Progress": "nlp.index.build",
    "update_index": "nlp.index.build",
    "Index": "nlp.index.folder",
    "IndexInfo": "nlp.index.folder",
    "MODES": "nlp.index.searcher",
    "Filters": "nlp.index.searcher",
    "SearchHit": "nlp.index.searcher",
    "document_vector": "nlp.index.searcher",
    "mean_vector": "nlp.index.searcher",
    "search": "nlp.index.searcher",
    "similar": "nlp.index.searcher",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'nlp.index' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
