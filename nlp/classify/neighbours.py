"""Nearest evidence sentences: how close a sentence's meaning comes to the training evidence of each signal.

The linear tagger of :mod:`nlp.classify.evidence` reads words, and written
reports paraphrase: "hanya 15 dari 120 responden yang mencatat lewat
aplikasi" and "pemanfaatan aplikasi oleh pasien sangat rendah" share no cue
word but both say the uptake is low. These features give the tagger, for
every signal, the mean cosine similarity between a sentence's e5 vector and
its ``k`` nearest training sentences that were tagged with that signal, and
how much closer that is than its ``k`` nearest sentences that are evidence of
nothing. The bank is those training sentences' vectors (every evidence
sentence, and a fixed-size, evenly spaced sample of the others, so that the
bank is small and its statistics are the same in training and at label
time). In training, each fold's sentences are compared only with the other
folds' bank, so no sentence finds itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

K_NEAREST = 3
# Sentences that are evidence of nothing kept in the bank; the contrast with them added 0.005 out of fold.
NEGATIVES = 3000
VERSION = 1


@dataclass
class NeighbourFeatures:
    """Per signal: mean similarity to the ``k`` nearest evidence sentences, and its margin over the
    ``k`` nearest sentences that show nothing; standardised."""

    signals: Sequence[str]
    k: int = K_NEAREST
    bank_: np.ndarray | None = field(default=None, repr=False)  # (m, dim) unit vectors of evidence sentences
    labels_: np.ndarray | None = field(default=None, repr=False)  # (m, n_signals) 0/1
    mean_: np.ndarray | None = field(default=None, repr=False)
    scale_: np.ndarray | None = field(default=None, repr=False)

    def _raw(self, vectors: np.ndarray, bank: np.ndarray, labels: np.ndarray) -> np.ndarray:
        n_signals = len(self.signals)
        out = np.zeros((len(vectors), 2 * n_signals), np.float32)
        if not len(vectors) or not len(bank):
            return out
        similarity = vectors.astype(np.float32) @ bank.astype(np.float32).T
        nothing = self._nearest(similarity, labels.sum(axis=1) == 0)
        for j in range(n_signals):
            near = self._nearest(similarity, labels[:, j] == 1)
            if near is not None:
                out[:, j] = near
                out[:, n_signals + j] = near - (nothing if nothing is not None else 0.0)
        return out

    def _nearest(self, similarity: np.ndarray, members: np.ndarray) -> np.ndarray | None:
        """Mean similarity to the ``k`` most similar members of the bank (None without members)."""
        n = int(members.sum())
        if n == 0:
            return None
        k = min(self.k, n)
        return np.partition(similarity[:, members], n - k, axis=1)[:, n - k :].mean(axis=1)

    @staticmethod
    def _bank_rows(Y: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Of ``rows``, every evidence sentence and an evenly spaced sample of NEGATIVES others."""
        evidence = rows[Y[rows].any(axis=1)]
        others = rows[~Y[rows].any(axis=1)]
        if len(others) > NEGATIVES:
            others = others[np.linspace(0, len(others) - 1, NEGATIVES).astype(int)]
        return np.sort(np.concatenate([evidence, others]))

    def fit_out_of_fold(
        self, vectors: np.ndarray, Y: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]]
    ) -> np.ndarray:
        """Features of training sentences, each fold against the others' evidence; keeps the whole bank."""
        raw = np.zeros((len(vectors), 2 * len(self.signals)), np.float32)
        for train, test in folds:
            keep = self._bank_rows(Y, np.sort(train))
            raw[test] = self._raw(vectors[test], vectors[keep], Y[keep])
        keep = self._bank_rows(Y, np.arange(len(Y)))
        self.bank_ = vectors[keep].astype(np.float16)
        self.labels_ = Y[keep].astype(np.int8)
        self.mean_ = raw.mean(axis=0)
        self.scale_ = raw.std(axis=0) + 1e-6
        return (raw - self.mean_) / self.scale_

    def transform(self, vectors: np.ndarray) -> np.ndarray:
        """Standardised features of sentences given their unit e5 vectors."""
        return (self._raw(vectors, self.bank_, self.labels_) - self.mean_) / self.scale_

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Learned state as arrays (the bank in float16)."""
        return {
            "bank": self.bank_.astype(np.float16),
            "bank_labels": self.labels_,
            "mean": self.mean_,
            "scale": self.scale_,
            "k": np.asarray([self.k], np.int32),
            "neighbours_version": np.asarray([VERSION], np.int32),
        }

    @classmethod
    def from_arrays(cls, signals: Sequence[str], arrays: dict[str, np.ndarray]) -> NeighbourFeatures:
        """Rebuild from :meth:`to_arrays` output (refusing a bank of another format version)."""
        version = int(arrays["neighbours_version"][0])
        if version != VERSION:
            from nlp.errors import ClassifierError

            raise ClassifierError(
                f"the tagger's evidence bank has format version {version}, this inovasi-nlp reads version "
                f"{VERSION}; retrain it with 'inovasi train' (or use the shipped classifier)"
            )
        out = cls(list(signals), k=int(arrays["k"][0]))
        out.bank_, out.labels_ = arrays["bank"], arrays["bank_labels"]
        out.mean_, out.scale_ = arrays["mean"], arrays["scale"]
        return out
