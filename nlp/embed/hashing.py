"""``hash-test.v1``: a deterministic hashing embedder for fast tests.

Not a language model: texts that share words get similar vectors, which is
enough to test indexing, search and labelling without loading weights.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from nlp.embed.base import Embedder, Role, check_texts

if TYPE_CHECKING:
    import numpy as np

_WORD = re.compile(r"\w+")


def hash_tokens(text: str) -> list[str]:
    """Lowercased word tokens (``\\w+``) of ``text``."""
    return _WORD.findall(text.lower())


class HashingEmbedder(Embedder):
    """Signed feature hashing of word unigrams and bigrams into 384 dimensions, L2-normalised.

    Each feature is hashed with BLAKE2b; the first 8 bytes pick the dimension
    and the sign. Queries and passages embed alike. A text without words gets
    the vector of a reserved ``<empty>`` feature so every row has unit length.
    """

    name = "hash-test.v1"
    dimension = 384
    max_tokens = 512
    device = "cpu"

    def fingerprint(self) -> str:
        """Constant: the algorithm has no weights."""
        return "hash-test.v1"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word tokens per text plus 2, mimicking a model's start and end tokens."""
        return [len(hash_tokens(text)) + 2 for text in check_texts(texts)]

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        import numpy as np

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            words = hash_tokens(text)
            features = words + [f"{a} {b}" for a, b in itertools.pairwise(words)]
            for feature in features or ["<empty>"]:
                code = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
                out[row, code % self.dimension] += 1.0 if (code >> 63) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:  # every feature cancelled out; fall back to the reserved one
                code = int.from_bytes(hashlib.blake2b(b"<empty>", digest_size=8).digest(), "little")
                out[row, code % self.dimension] = 1.0
                norm = 1.0
            out[row] /= norm
        return out
