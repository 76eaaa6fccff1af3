"""The embedder contract shared by every embedding model in inovasi.

An :class:`Embedder` turns texts into L2-normalised float32 vectors. Indexes
store its registry ``name`` and :meth:`Embedder.fingerprint` and refuse to be
queried by a different model. Subclasses implement :meth:`Embedder._encode`
for one batch; this class validates input, sorts texts by length so batches
carry little padding, reports progress and restores input order.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import numpy as np

Role = Literal["passage", "query"]
ProgressCallback = Callable[[int], None]


class Embedder(abc.ABC):
    """An embedding model: texts in, L2-normalised float32 vectors out.

    Attributes:
        name: registry name stored in indexes (``"e5-small"``, ``"st:<path>"``, ``"hash-test.v1"``).
        dimension: length of every vector.
        max_tokens: longest input the model reads in one pass, counting the
            prompt and special tokens (512 for e5-small). Longer passages are
            still embedded (e5-small averages 510-token windows; other models
            truncate), but chunkers should keep passages within this limit.
        device: where the model runs (``"cpu"``, ``"cuda"``...).
        variant: ``""`` when the vectors are the weights' reference (float32)
            computation; an engine whose vectors differ measurably (int8 ONNX:
            ``"onnx-int8.v1"``) names itself here, so vector caches and index
            manifests never mix the two silently. Same weights, same
            :meth:`fingerprint`: its vectors are still searchable by queries
            from the reference engines.
    """

    name: str
    dimension: int
    max_tokens: int
    device: str = "cpu"
    variant: str = ""

    @abc.abstractmethod
    def fingerprint(self) -> str:
        """Content hash identifying the weights; equal fingerprints give interchangeable vectors."""

    @abc.abstractmethod
    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as a passage, counting the prompt and special tokens, without truncation."""

    @abc.abstractmethod
    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        """Embed one batch; return float32 ``(len(texts), dimension)`` L2-normalised rows."""

    def embed_passages(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
    ) -> np.ndarray:
        """Embed documents or passages: float32 ``(len(texts), dimension)``, L2-normalised, input order.

        Texts are grouped by length into batches of ``batch_size`` to cut
        padding; ``progress(n)`` is called after each batch with the number of
        texts it held.
        """
        return self._embed(texts, "passage", batch_size, progress)

    def embed_queries(
        self,
        texts: Sequence[str],
        batch_size: int = 32,
        progress: ProgressCallback | None = None,
    ) -> np.ndarray:
        """Embed search queries: float32 ``(len(texts), dimension)``, L2-normalised, input order."""
        return self._embed(texts, "query", batch_size, progress)

    def _embed(
        self,
        texts: Sequence[str],
        role: Role,
        batch_size: int,
        progress: ProgressCallback | None,
    ) -> np.ndarray:
        import numpy as np

        items = check_texts(texts)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        out = np.empty((len(items), self.dimension), dtype=np.float32)
        # Longest first: the slowest batches come first, so progress only speeds up.
        order = sorted(range(len(items)), key=lambda i: len(items[i]), reverse=True)
        for start in range(0, len(order), batch_size):
            index = order[start : start + batch_size]
            vectors = self._encode([items[i] for i in index], role)
            if vectors.shape != (len(index), self.dimension):
                raise RuntimeError(f"{self.name}: batch of {len(index)} gave vectors of shape {vectors.shape}")
            out[index] = vectors
            if progress is not None:
                progress(len(index))
        return out

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dimension={self.dimension}, device={self.device!r})"


def check_texts(texts: Sequence[str]) -> list[str]:
    """Return ``texts`` as a list after checking it is a sequence of strings (not one string)."""
    if isinstance(texts, (str, bytes)):
        raise TypeError("expected a sequence of texts, got a single string; wrap it in a list: [text]")
    items = list(texts)
    for position, text in enumerate(items):
        if not isinstance(text, str):
            raise TypeError(f"text {position} is {type(text).__name__}, expected str")
    return items
