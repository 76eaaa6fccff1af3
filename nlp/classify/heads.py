"""Calibrated linear heads over document features, saved as plain arrays.

Each head follows scikit-learn's contract (``fit`` returns self, learned
state ends in ``_``, ``predict_proba`` before ``fit`` raises
``NotFittedError``), but prediction is plain numpy so labelling never imports
scikit-learn, and a saved head is arrays and JSON, never a pickle.

Calibration and thresholds come from out-of-fold predictions on the training
data only: a logistic regression is fitted per fold, Platt scaling (binary) or
a temperature (multi-class) is fitted to the held-out scores, and per-label
thresholds maximise F1 on those same calibrated out-of-fold probabilities.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

FOLDS = 5
C_GRID = (0.25, 1.0, 4.0, 16.0)


class NotFittedError(ValueError):
    """A head was used before ``fit``."""


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -40, 40)))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _folds(y_strat: np.ndarray, n_splits: int, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedKFold

    counts = np.bincount(y_strat)
    n_splits = max(2, min(n_splits, int(counts[counts > 0].min()) if len(counts) else 2))
    return list(StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed).split(y_strat, y_strat))


def _f1(pred: np.ndarray, y: np.ndarray) -> float:
    tp = float(np.sum(pred & (y == 1)))
    fp = float(np.sum(pred & (y == 0)))
    fn = float(np.sum(~pred & (y == 1)))
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def _best_f1_threshold(y: np.ndarray, p: np.ndarray, objective: str = "f1") -> float:
    """The threshold maximising F1 of the positive class, or ("macro") the mean F1 of both classes."""
    best_t, best_f = 0.5, -1.0
    for t in np.arange(0.15, 0.86, 0.025):
        pred = p >= t
        f = _f1(pred, y)
        if objective == "macro":
            f = (f + _f1(~pred, 1 - y)) / 2
        # prefer thresholds near 0.5 on ties: calibrated probabilities should mean what they say
        if f > best_f + 1e-9 or (abs(f - best_f) <= 1e-9 and abs(t - 0.5) < abs(best_t - 0.5)):
            best_t, best_f = float(t), f
    return round(best_t, 3)


@dataclass
class MultiLabelHead:
    """Independent calibrated binary logistic regressions, one per label, with per-label thresholds."""

    labels: Sequence[str]
    C: float | None = None  # None: chosen by cross-validated log-loss from C_GRID
    threshold_objective: str = "f1"  # "macro" weighs both classes, for gates where negatives matter
    coef_: np.ndarray | None = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)
    platt_: np.ndarray | None = field(default=None, repr=False)  # (n_labels, 2): a, b
    thresholds_: np.ndarray | None = field(default=None, repr=False)
    C_: list[float] = field(default_factory=list)

    def fit(self, X: np.ndarray, Y: np.ndarray) -> MultiLabelHead:
        """Fit on features X (n, d) and a 0/1 matrix Y (n, n_labels)."""
        from sklearn.linear_model import LogisticRegression

        n_labels = len(self.labels)
        coef = np.zeros((n_labels, X.shape[1]), np.float32)
        intercept = np.zeros(n_labels, np.float32)
        platt = np.zeros((n_labels, 2), np.float32)
        thresholds = np.zeros(n_labels, np.float32)
        self.C_ = []
        for j in range(n_labels):
            y = Y[:, j].astype(int)
            folds = _folds(y, FOLDS)
            best = None
            for c in [self.C] if self.C else C_GRID:
                oof = np.zeros(len(y))
                for train, test in folds:
                    model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
                    model.fit(X[train], y[train])
                    oof[test] = model.decision_function(X[test])
                a, b = _fit_platt(oof, y)
                probs = _sigmoid(a * oof + b)
                loss = -np.mean(y * np.log(probs + 1e-9) + (1 - y) * np.log(1 - probs + 1e-9))
                if best is None or loss < best[0]:
                    best = (loss, c, a, b, probs)
            _, c, a, b, probs = best
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000).fit(X, y)
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
            platt[j] = (a, b)
            thresholds[j] = _best_f1_threshold(y, probs, self.threshold_objective)
            self.C_.append(float(c))
        self.coef_, self.intercept_, self.platt_, self.thresholds_ = coef, intercept, platt, thresholds
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities (n, n_labels), columns in ``labels`` order."""
        if self.coef_ is None:
            raise NotFittedError("this head is not fitted; call fit() or load a trained classifier")
        scores = X @ self.coef_.T + self.intercept_
        return _sigmoid(self.platt_[:, 0] * scores + self.platt_[:, 1])

    def predict(self, X: np.ndarray) -> np.ndarray:
        """0/1 decisions with the per-label thresholds."""
        return (self.predict_proba(X) >= self.thresholds_).astype(int)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The learned state as named arrays."""
        return {"coef": self.coef_, "intercept": self.intercept_, "platt": self.platt_, "thresholds": self.thresholds_}

    @classmethod
    def from_arrays(cls, labels: Sequence[str], arrays: dict[str, np.ndarray]) -> MultiLabelHead:
        """Rebuild a fitted head from :meth:`to_arrays` output."""
        head = cls(labels=list(labels))
        head.coef_, head.intercept_ = arrays["coef"], arrays["intercept"]
        head.platt_, head.thresholds_ = arrays["platt"], arrays["thresholds"]
        return head


@dataclass
class SoftmaxHead:
    """Multinomial logistic regression with temperature scaling for single-label families."""

    labels: Sequence[str]
    C: float | None = None
    coef_: np.ndarray | None = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)
    temperature_: float = 1.0
    C_: float = 0.0

    def fit(self, X: np.ndarray, y: Sequence[str]) -> SoftmaxHead:
        """Fit on features X and label ids y (every id must be in ``labels``)."""
        from sklearn.linear_model import LogisticRegression

        index = {label: i for i, label in enumerate(self.labels)}
        yi = np.asarray([index[v] for v in y])
        folds = _folds(yi, FOLDS)
        best = None
        for c in [self.C] if self.C else C_GRID:
            logits = np.zeros((len(yi), len(self.labels)))
            for train, test in folds:
                model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000)
                model.fit(X[train], yi[train])
                logits[np.ix_(test, model.classes_)] = (
                    model.decision_function(X[test])
                    if len(model.classes_) > 2
                    else np.stack([-model.decision_function(X[test]), model.decision_function(X[test])], 1) / 2
                )
            t = _fit_temperature(logits, yi)
            probs = _softmax(logits / t)
            loss = -np.mean(np.log(probs[np.arange(len(yi)), yi] + 1e-9))
            if best is None or loss < best[0]:
                best = (loss, c, t)
        _, c, t = best
        model = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(X, yi)
        coef = np.zeros((len(self.labels), X.shape[1]), np.float32)
        intercept = np.full(len(self.labels), -1e4, np.float32)
        if len(model.classes_) > 2:
            coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
        else:
            coef[model.classes_[1]], intercept[model.classes_[1]] = model.coef_[0] / 2, model.intercept_[0] / 2
            coef[model.classes_[0]], intercept[model.classes_[0]] = -model.coef_[0] / 2, -model.intercept_[0] / 2
        self.coef_, self.intercept_, self.temperature_, self.C_ = coef, intercept, float(t), float(c)
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (n, n_labels)."""
        if self.coef_ is None:
            raise NotFittedError("this head is not fitted; call fit() or load a trained classifier")
        return _softmax((X @ self.coef_.T + self.intercept_) / self.temperature_)

    def predict(self, X: np.ndarray) -> list[str]:
        """The most probable label per row."""
        return [self.labels[i] for i in self.predict_proba(X).argmax(axis=1)]

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The learned state as named arrays."""
        return {
            "coef": self.coef_,
            "intercept": self.intercept_,
            "temperature": np.asarray([self.temperature_], np.float32),
        }

    @classmethod
    def from_arrays(cls, labels: Sequence[str], arrays: dict[str, np.ndarray]) -> SoftmaxHead:
        """Rebuild a fitted head from :meth:`to_arrays` output."""
        head = cls(labels=list(labels))
        head.coef_, head.intercept_ = arrays["coef"], arrays["intercept"]
        head.temperature_ = float(arrays["temperature"][0])
        return head


def _fit_platt(scores: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Platt scaling: a 1-D logistic regression of the labels on the raw scores."""
    from sklearn.linear_model import LogisticRegression

    if len(np.unique(y)) < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, max_iter=1000).fit(scores.reshape(-1, 1), y)
    return float(model.coef_[0, 0]), float(model.intercept_[0])


def _fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The temperature minimising held-out log-loss (grid search is enough for one scalar)."""
    best_t, best_loss = 1.0, np.inf
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 60)):
        p = _softmax(logits / t)
        loss = -np.mean(np.log(p[np.arange(len(y)), y] + 1e-9))
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def expected_calibration_error(probs: np.ndarray, correct: np.ndarray, bins: int = 10) -> float:
    """ECE: the gap between confidence and accuracy, averaged over equal-width confidence bins."""
    probs, correct = np.asarray(probs, float), np.asarray(correct, float)
    if not len(probs):
        return 0.0
    edges = np.linspace(0, 1, bins + 1)
    total = 0.0
    for lo, hi in itertools.pairwise(edges):
        mask = (probs > lo) & (probs <= hi) if lo > 0 else (probs >= lo) & (probs <= hi)
        if mask.any():
            total += mask.sum() / len(probs) * abs(probs[mask].mean() - correct[mask].mean())
    return float(total)


__all__: list[Any] = ["MultiLabelHead", "NotFittedError", "SoftmaxHead", "expected_calibration_error"]
