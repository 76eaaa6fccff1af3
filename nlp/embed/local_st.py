"""``st:<folder or hub name>``: any sentence-transformers model already on this machine.

Nothing is downloaded: a hub name must already be in the local Hugging Face
cache, and loading runs with ``local_files_only``. Prompts named ``query`` and
``passage`` (or ``document``) in the model's config are applied; texts longer
than the model's ``max_seq_length`` are truncated by sentence-transformers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.embed.base import Embedder, Role, check_texts
from nlp.errors import EmbedderError

if TYPE_CHECKING:
    import numpy as np

PREFIX = "st:"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".h5", ".msgpack", ".ckpt")

# (resolved folder, (relative path, size, mtime_ns) of each weight file) -> sha256
_fingerprints: dict[tuple[str, tuple[tuple[str, int, int], ...]], str] = {}


def resolve_local_model(spec: str) -> Path:
    """Find a sentence-transformers model on disk from a folder path or a hub name.

    Raises:
        EmbedderError: neither an existing folder nor a hub name in the local cache.
    """
    if not spec:
        raise EmbedderError(
            "st: needs a folder or model name, e.g. st:/models/my-model or st:intfloat/multilingual-e5-base"
        )
    folder = Path(spec).expanduser()
    if folder.is_dir():
        if not (folder / "modules.json").is_file() and not (folder / "config.json").is_file():
            raise EmbedderError(
                f"{folder}: not a sentence-transformers or transformers model folder (no modules.json or config.json)"
            )
        return folder.resolve()
    if folder.exists():
        raise EmbedderError(f"{folder}: is a file; st: needs a model folder")
    try:
        from huggingface_hub import snapshot_download
        from huggingface_hub.errors import LocalEntryNotFoundError
    except ImportError as exc:  # pragma: no cover - installed with sentence-transformers
        raise EmbedderError(f"st:{spec}: not a folder, and huggingface_hub is not installed to look it up") from exc
    try:
        return Path(snapshot_download(spec, local_files_only=True))
    except (LocalEntryNotFoundError, ValueError, OSError) as exc:
        raise EmbedderError(
            f"st:{spec}: no such folder and not in the local Hugging Face cache; nothing is downloaded at run time. "
            "Copy the model folder to this machine and pass st:/path/to/folder"
        ) from exc


def weights_fingerprint(folder: Path) -> str:
    """sha256 over the weight files of ``folder`` (relative names and contents), cached per process."""
    files = sorted(
        path for path in folder.rglob("*") if path.is_file() and path.name.lower().endswith(_WEIGHT_SUFFIXES)
    )
    if not files:
        raise EmbedderError(f"{folder}: no weight files ({', '.join(_WEIGHT_SUFFIXES)}) to fingerprint")
    stats = tuple((path.relative_to(folder).as_posix(), path.stat().st_size, path.stat().st_mtime_ns) for path in files)
    key = (str(folder), stats)
    cached = _fingerprints.get(key)
    if cached is not None:
        return cached
    digest = hashlib.sha256()
    for path, (relative, size, _) in zip(files, stats, strict=True):
        digest.update(f"{relative}\0{size}\0".encode())
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    value = digest.hexdigest()
    _fingerprints[key] = value
    return value


class SentenceTransformerEmbedder(Embedder):
    """A local sentence-transformers model chosen by ``st:<folder or hub name>``."""

    def __init__(self, spec: str, device: str | None = None) -> None:
        self.name = PREFIX + spec
        self.folder = resolve_local_model(spec)
        from nlp.embed.e5 import pick_device, quiet_transformers

        self.device = pick_device(device)
        from sentence_transformers import SentenceTransformer

        try:
            with quiet_transformers():
                model = SentenceTransformer(str(self.folder), device=self.device, local_files_only=True)
        except (OSError, ValueError, RuntimeError, KeyError) as exc:
            raise EmbedderError(f"{self.name}: sentence-transformers could not load {self.folder} ({exc})") from exc
        model.eval()
        self._model = model
        dimension = _embedding_dimension(model)
        if not dimension:
            raise EmbedderError(f"{self.name}: cannot tell the embedding dimension of {self.folder}")
        self.dimension = int(dimension)
        self.max_tokens = int(model.max_seq_length or 512)
        prompts = dict(getattr(model, "prompts", {}) or {})
        self._prompts: dict[Role, str] = {
            "query": prompts.get("query", ""),
            "passage": prompts.get("passage") or prompts.get("document") or "",
        }
        self._tokenizer = _load_plain_tokenizer(self.folder)

    def fingerprint(self) -> str:
        """sha256 over the model's weight files, computed once per process."""
        return weights_fingerprint(self.folder)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text with the passage prompt and special tokens, without truncation."""
        items = [self._prompts["passage"] + text for text in check_texts(texts)]
        if self._tokenizer is not None:
            return [len(encoding.ids) for encoding in self._tokenizer.encode_batch(items, add_special_tokens=True)]
        tokenizer = self._model.tokenizer
        return [len(ids) for ids in tokenizer(items, add_special_tokens=True, truncation=False)["input_ids"]]

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        import numpy as np

        vectors = self._model.encode(
            texts,
            prompt=self._prompts[role] or None,
            batch_size=max(len(texts), 1),
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _embedding_dimension(model: Any) -> int | None:
    for attribute in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        method = getattr(model, attribute, None)
        if callable(method):
            value = method()
            if value:
                return int(value)
    return None


def _load_plain_tokenizer(folder: Path) -> Any:
    """The folder's ``tokenizer.json`` as a bare ``tokenizers.Tokenizer`` (no truncation), or None."""
    path = folder / "tokenizer.json"
    if not path.is_file():
        return None
    try:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(path))
    except Exception:  # tokenizers raises plain Exception; fall back to the model's tokenizer
        return None
    tokenizer.no_truncation()
    tokenizer.no_padding()
    return tokenizer
