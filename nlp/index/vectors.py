"""FAISS vectors with stable passage ids; the structure is chosen by size.

Up to ``EXACT_LIMIT`` passages an exact inner-product index (``flat-ip``)
answers in about a millisecond, so nothing is approximated. Beyond it an
inverted file with 8-bit scalar quantisation (``ivf-sq8``) keeps a million
384-dimensional passages in about 0.4 GB. Both keep the passage ids given by
the store, so documents can be removed and replaced.

The IVF parameters, measured on clustered synthetic 384-d vectors
(``python benchmarks/run.py --only faiss``; numbers in benchmarks/RESULTS.md):

- ``nlist`` = the power of two nearest sqrt(passages) (256 to 8192): 512
  lists at 200k, 1024 at 1M. Training k-means costs about 64 x nlist^2 x d,
  so the old 4 x sqrt(n) (4096 lists at 1M) took 236 s to train on 2 cores;
  1024 lists took 56 s (on busier cores), and a query scans about 30,000
  codes: 26 ms p50 on 2 busy cores, inside the 50 ms budget.
- Training sample: ``TRAIN_PER_LIST`` (64) vectors per list (faiss warns
  below 39). At 200k, 32, 64 and 128 per list gave recall@10 0.9725-0.9765
  at nprobe 32, differences within k-means' run-to-run noise.
- ``nprobe`` = nlist / 32, at least 32: at 200k (512 lists) recall@10 was
  0.955-0.972 at nprobe 8, 0.969-0.975 at 16 and 0.973-0.977 at 32, where
  it stops rising (the 8-bit codes, not the lists, set the ceiling).
- Codes are not residuals (``by_residual`` false): each vector's code does
  not depend on its list, so a retrain (the index grew ``RETRAIN_GROWTH``
  times) moves the decoded vectors into new lists with the old scalar
  quantiser and every code stays bit for bit what it was. Residual codes
  re-encoded after a retrain doubled the quantisation error and cost 1 point
  of recall@10 (0.9815 -> 0.972 at 200k), more at every further retrain;
  non-residual codes cost 0.5 point once (0.9765) and nothing on retrains. Indexes written before
  (residual codes; no ``by_residual`` in the manifest) load and search as
  they are; their first retrain re-encodes them once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nlp.errors import IndexDamagedError

EXACT_LIMIT = 50_000
# Rebuild the inverted lists when the index has grown this much past the
# size it was trained for, so list lengths stay balanced.
RETRAIN_GROWTH = 4.0
# Training vectors per inverted list (faiss warns below 39).
TRAIN_PER_LIST = 64
MIN_NLIST, MAX_NLIST = 256, 8192


@dataclass(frozen=True)
class VectorSpec:
    """Which FAISS structure, with which parameters (recorded in the manifest)."""

    structure: str  # "flat-ip" or "ivf-sq8"
    params: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON form for the manifest."""
        return {"structure": self.structure, "params": dict(self.params)}


def choose_spec(n_passages: int) -> VectorSpec:
    """The structure for an index of this many passages (parameters explained in the module docstring)."""
    if n_passages <= EXACT_LIMIT:
        return VectorSpec("flat-ip")
    nlist = int(2 ** round(math.log2(math.sqrt(n_passages))))
    nlist = max(MIN_NLIST, min(nlist, MAX_NLIST))
    return VectorSpec(
        "ivf-sq8",
        {"nlist": nlist, "nprobe": max(32, nlist // 32), "by_residual": False, "trained_for": n_passages},
    )


def training_sample(vectors: np.ndarray, spec: VectorSpec, seed: int = 0) -> np.ndarray:
    """The rows an IVF index of ``spec`` is trained on: ``TRAIN_PER_LIST`` per list, drawn with a fixed seed."""
    size = min(len(vectors), int(spec.params["nlist"]) * TRAIN_PER_LIST)
    rows = np.random.default_rng(seed).choice(len(vectors), size=size, replace=False)
    return np.ascontiguousarray(vectors[np.sort(rows)], dtype=np.float32)


def needs_rebuild(current: VectorSpec, n_passages: int) -> bool:
    """True when the index should move to another structure for its new size."""
    wanted = choose_spec(n_passages)
    if wanted.structure != current.structure:
        return True
    if current.structure == "ivf-sq8":
        trained = int(current.params.get("trained_for", 0)) or 1
        return n_passages > trained * RETRAIN_GROWTH
    return False


class VectorIndex:
    """A FAISS index over L2-normalised vectors, addressed by passage id."""

    def __init__(self, faiss_index: Any, spec: VectorSpec) -> None:
        self.index = faiss_index
        self.spec = spec

    @classmethod
    def empty(
        cls,
        dimension: int,
        spec: VectorSpec,
        training: np.ndarray | None = None,
        *,
        codes_of: VectorIndex | None = None,
    ) -> VectorIndex:
        """A new index of the given structure (IVF needs training vectors).

        ``codes_of``: an IVF index with non-residual codes whose scalar
        quantiser the new one keeps, so vectors decoded from it are encoded
        to the same codes again (a retrain loses nothing).
        """
        import faiss

        if spec.structure == "flat-ip":
            return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), spec)
        if spec.structure == "ivf-sq8":
            if training is None or len(training) < spec.params["nlist"]:
                raise ValueError("an IVF index needs at least nlist training vectors")
            by_residual = bool(spec.params.get("by_residual", True))
            quantizer = faiss.IndexFlatIP(dimension)
            index = faiss.IndexIVFScalarQuantizer(
                quantizer,
                dimension,
                spec.params["nlist"],
                faiss.ScalarQuantizer.QT_8bit,
                faiss.METRIC_INNER_PRODUCT,
                by_residual,
            )
            index.train(np.ascontiguousarray(training, dtype=np.float32))
            old = codes_of.index if codes_of is not None and codes_of.spec.structure == "ivf-sq8" else None
            if old is not None and not by_residual and not old.by_residual and old.sq.d == dimension:
                faiss.copy_array_to_vector(faiss.vector_to_array(old.sq.trained), index.sq.trained)
            index.set_direct_map_type(faiss.DirectMap.Hashtable)
            index.nprobe = spec.params["nprobe"]
            return cls(index, spec)
        raise ValueError(f"unknown vector structure {spec.structure!r}")

    @classmethod
    def load(cls, path: Path, spec: VectorSpec) -> VectorIndex:
        """Read an index file written by :meth:`save`."""
        import faiss

        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise IndexDamagedError(
                f"{path}: vector file is unreadable ({str(exc).splitlines()[0]}); rebuild the index"
            ) from exc
        if spec.structure == "ivf-sq8":
            index.nprobe = int(spec.params.get("nprobe", 32))
        return cls(index, spec)

    def save(self, path: Path) -> None:
        """Write the index to a file."""
        import faiss

        faiss.write_index(self.index, str(path))

    @property
    def size(self) -> int:
        """Number of vectors."""
        return int(self.index.ntotal)

    @property
    def dimension(self) -> int:
        """Vector dimension."""
        return int(self.index.d)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors under the given passage ids."""
        self.index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Remove vectors by passage id; returns how many were removed."""
        import faiss

        arr = np.ascontiguousarray(np.asarray(ids, dtype=np.int64))
        if not len(arr):
            return 0
        return int(self.index.remove_ids(faiss.IDSelectorArray(len(arr), faiss.swig_ptr(arr))))

    def ids(self) -> np.ndarray:
        """Every passage id held, in no particular order."""
        import faiss

        if self.spec.structure == "flat-ip":
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        lists = self.index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i)).copy()
            for i in range(self.index.nlist)
            if lists.list_size(i)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)

    def reconstruct(self, ids: np.ndarray | list[int]) -> np.ndarray:
        """The stored vectors of these passage ids (approximate for quantised structures)."""
        arr = np.asarray(ids, dtype=np.int64)
        if not len(arr):
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self.index.reconstruct_batch(arr), dtype=np.float32)

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, ids) for one query vector, optionally only among ``allowed`` ids.

        A filter that leaves few passages is answered exactly over just those
        vectors, so a filtered search never comes back short. One query runs
        on one thread: OpenMP start-up costs more than it saves here, and on a
        busy laptop it made a 1 ms search take 24 ms (benchmarks/RESULTS.md).
        """
        import faiss

        threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)
        try:
            return self._search(query, k, allowed)
        finally:
            faiss.omp_set_num_threads(threads)

    def _search(self, query: np.ndarray, k: int, allowed: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        import faiss

        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        if allowed is not None:
            if not len(allowed):
                return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
            if len(allowed) <= EXACT_LIMIT or self.spec.structure == "flat-ip":
                if self.spec.structure == "flat-ip":
                    params = faiss.SearchParameters(sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)))
                    scores, ids = self.index.search(q, min(k, len(allowed)), params=params)
                    return _valid(scores[0], ids[0])
                vectors = self.reconstruct(allowed)
                sims = vectors @ q[0]
                top = np.argsort(-sims)[:k]
                return sims[top].astype(np.float32), np.asarray(allowed, dtype=np.int64)[top]
            params = faiss.SearchParametersIVF(
                sel=faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64)), nprobe=self.index.nprobe * 4
            )
            scores, ids = self.index.search(q, k, params=params)
            return _valid(scores[0], ids[0])
        scores, ids = self.index.search(q, min(k, max(self.size, 1)))
        return _valid(scores[0], ids[0])


def _valid(scores: np.ndarray, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    keep = ids >= 0
    return scores[keep], ids[keep]
