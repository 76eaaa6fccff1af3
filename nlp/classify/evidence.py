"""Evidence sentences: the rule matcher's candidates, confirmed or extended by a learned sentence tagger.

The spaCy rules (:mod:`nlp.classify.signals`) find cue phrases with negation
and modality handled. Written reports phrase the same evidence in many more
ways than any cue table lists, and a cue can appear in a sentence that is not
evidence. The tagger scores every (sentence, signal) pair with a linear model
over the sentence's Indonesian stems (unigrams and bigrams, hashed), the
character 3-5-grams of its words (so a typo such as "dibiyai", or a word the
stemmer does not know, still shares evidence with what training saw) and the rule matches in that
sentence, so a rule match is strong but not final, and a
paraphrase the rules miss can still be found when its words are telling.
Context features say where the sentence sits: the rule matches of its
neighbours, the words of the heading it falls under ("Rekomendasi",
"Latar Belakang", "Kendala"), whether it is itself a heading, its
position in the document, and where its years sit among the document's (a
start year two or more years before the latest year the text mentions is
what makes "sejak Mei 2019" evidence of ``berjalan_bertahun``; numbers are
also read by shape, "sejak <bulan> <year>"). Each signal's threshold comes
from out-of-fold predictions on training data, its F1 curve blended with the
pooled curve of all signals (:func:`pooled_thresholds`).

A second pass reads meaning: the sentences the first pass scores near a
threshold (at least CASCADE x it, for some signal) are embedded and scored
again by a tagger that also sees how close each comes to the training
evidence of every signal (:mod:`nlp.classify.neighbours`), so a paraphrase
with none of the telling words can still be found. Without an embedder the
first pass decides alone.
"""

from __future__ import annotations

import itertools
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nlp.classify.neighbours import NeighbourFeatures
from nlp.text import Span, stem_tokens

Embed = Callable[[list[str]], np.ndarray]  # unit e5 passage vectors of texts

HASH_BITS = 15
DIMENSION = 1 << HASH_BITS
RULE_WEIGHT = 3.0  # rule-match features are scaled up so a few words cannot easily overrule them
CONTEXT_WEIGHT = 0.5  # neighbours' rule matches and the heading's words: hints, weaker than the sentence's own
CHAR_WEIGHT = 1.0  # character 3-5-grams of the lower-cased words, as a block as strong as the stems
# The stems again with years, months and other numbers as placeholders, so "sejak Mei 2019" and "sejak Maret
# 2022" share evidence: unigrams, bigrams with a placeholder and trigrams with a year (out of fold, with the
# time-line features below: 0.738 against 0.733 without either; benchmarks/RESULTS.md).
SHAPE_WEIGHT = 0.5
# Where a sentence's years sit in the document's time line: a year two or more before the latest the text
# mentions, only recent years, the earliest year, the year the rules read as the start ("sejak 2019 ...
# berjalan"). A start year is evidence of berjalan_bertahun only relative to the rest of the document, which
# a bag of words cannot see.
YEAR_WEIGHT = 1.0
NEIGHBOUR_WEIGHT = 0.3  # scale of the nearest-evidence features (0.3 and 1.0 compared out of fold: 0.813, 0.807)
# The second pass embeds only sentences the first scores at least CASCADE x its threshold for some signal.
# On the adjudicated gold, 0.2 embeds 32% of sentences against 43% at 0.1, out of fold 0.732 either way
# (benchmarks/RESULTS.md).
CASCADE = 0.2
# How many evidence sentences a signal needs before its thresholds follow its own F1 curve as much as the
# pooled one. Chosen on train by nested halvings (benchmarks/RESULTS.md, session 10): micro F1 0.7187 with
# a threshold per signal, 0.7229 / 0.7251 / 0.7261 at prior 100 / 300 / 1000, 0.7269 with one threshold; the
# sustainability head, reading the decisions, scored 0.889 / 0.886 / 0.882 (per signal / 300 / one).
THRESHOLD_PRIOR = 300.0
# 1: sentence stems and rule matches; 2: plus context (neighbours, heading, position); 3: plus character n-grams;
# 4: plus number shapes and the time line
FEATURES_VERSION = 4
HEADING_MAX_CHARS = 90
_WORD = re.compile(r"\w+")
_YEAR = re.compile(r"(?<!\d)(?:19[89]\d|20[0-4]\d)(?!\d)")
_MONTHS = frozenset(
    "januari februari maret april mei juni juli agustus september oktober november desember "
    "jan feb mar apr jun jul agu agt sep okt nov des".split()
)


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8")) & (DIMENSION - 1)


def _char_grams(sentence: str) -> set[str]:
    """Character 3-, 4- and 5-grams of each lower-cased word with its boundaries ("<jaringan>").

    They let what the stemmer cannot reduce (typos such as "dibiyai" for
    "dibiayai", run-together words, local spellings of loanwords) share what
    training saw.
    """
    grams: set[str] = set()
    for word in _WORD.findall(sentence.lower()):
        padded = f"<{word}>"
        for n in (3, 4, 5):
            grams.update(f"c:{padded[k : k + n]}" for k in range(len(padded) - n + 1))
    return grams


def _shape(stem: str) -> str:
    """A year, a month or another number as a placeholder ("<year>", "<bulan>", "<num>"); other stems as they are."""
    if len(stem) == 4 and stem.isascii() and stem.isdigit() and 1980 <= int(stem) <= 2049:
        return "<year>"
    if stem in _MONTHS:
        return "<bulan>"
    if stem.replace(".", "").replace(",", "").isdigit():
        return "<num>"
    return stem


def _shape_grams(stems: list[str]) -> set[str]:
    """Placeholders, the bigrams that hold one and the trigrams that hold a year: "sejak <bulan> <year>"."""
    shapes = [_shape(s) for s in stems]
    grams = {f"nu:{t}" for t in shapes if t.startswith("<")}
    grams |= {f"nb:{a}_{b}" for a, b in itertools.pairwise(shapes) if a.startswith("<") or b.startswith("<")}
    triples = zip(shapes, shapes[1:], shapes[2:], strict=False)
    grams |= {f"nt:{a}_{b}_{c}" for a, b, c in triples if "<year>" in (a, b, c)}
    return grams


def _add_block(features: dict[int, float], grams: set[str], weight: float) -> None:
    """Add a block of binary features, L2-normalised to ``weight``, onto ``features`` (colliding hashes add up)."""
    if grams:
        each = weight / np.sqrt(len(grams))
        for g in grams:
            key = _hash(g)
            features[key] = features.get(key, 0.0) + each


def sentence_features(sentence: str, rule_signals: set[str]) -> dict[int, float]:
    """Hashed features of one sentence: stem unigrams and bigrams, character n-grams, the stems' number shapes
    (each block binary and L2-normalised) and rule matches."""
    stems = stem_tokens(sentence)
    grams = {f"u:{s}" for s in stems} | {f"b:{a}_{b}" for a, b in itertools.pairwise(stems)}
    features: dict[int, float] = {}
    if grams:
        weight = 1.0 / np.sqrt(len(grams))
        for g in grams:
            features[_hash(g)] = weight
    _add_block(features, _char_grams(sentence), CHAR_WEIGHT)
    _add_block(features, _shape_grams(stems), SHAPE_WEIGHT)
    for signal in rule_signals:
        features[_hash(f"r:{signal}")] = RULE_WEIGHT
    features[_hash("bias:rules")] = 1.0 if rule_signals else 0.0
    return features


def is_heading(text: str, sentence: Span) -> bool:
    """A short line of its own with no closing punctuation: a title, heading or table caption."""
    line_start = sentence.start == 0 or text[sentence.start - 1] == "\n"
    line_end = sentence.end >= len(text) or text[sentence.end] == "\n"
    body = sentence.text.strip()
    return (
        line_start
        and line_end
        and 0 < len(body) <= HEADING_MAX_CHARS
        and body[-1] not in ".!?;,"
        and "|" not in body
        and not body.rstrip().endswith(":")
        and ": " not in body
    )


def _time_line(sentences: Sequence[Span], rules: Sequence[set[str]]) -> list[list[str]]:
    """Time-line features of each sentence (see YEAR_WEIGHT); empty for a sentence without a year."""
    years = [[int(y) for y in _YEAR.findall(s.text)] for s in sentences]
    mentioned = [y for ys in years for y in ys]
    if not mentioned:
        return [[] for _ in sentences]
    latest, first = max(mentioned), min(mentioned)
    running = [y for ys, rule in zip(years, rules, strict=True) if "berjalan_bertahun" in rule for y in ys]
    start = min(running) if running else None
    out = []
    for ys in years:
        names = []
        if ys:
            names.append("yr:any")
            names.append("yr:old2" if any(latest - y >= 2 for y in ys) else "yr:recent")
            if start in ys:
                names.append("yr:start")
            if first in ys:
                names.append("yr:first")
            if start is not None and latest - start >= 2:
                names.append("yr:docold")
        out.append(names)
    return out


def document_features(text: str, sentences: Sequence[Span], rules: Sequence[set[str]]) -> list[dict[int, float]]:
    """Feature rows of every sentence of one document: its own features plus where it sits."""
    rows = []
    heading_grams: list[int] = []
    n = len(sentences)
    time_line = _time_line(sentences, rules)
    for i, (sentence, rule) in enumerate(zip(sentences, rules, strict=True)):
        row = sentence_features(sentence.text, rule)
        if is_heading(text, sentence):
            row[_hash("ctx:heading")] = 1.0
            heading_grams = [_hash(f"h:{stem}") for stem in stem_tokens(sentence.text)[:8]]
        else:
            for h in heading_grams:
                row[h] = row.get(h, 0.0) + CONTEXT_WEIGHT
        for name, k in (("rp", i - 1), ("rn", i + 1)):
            if 0 <= k < n:
                for signal in rules[k]:
                    key = _hash(f"{name}:{signal}")
                    row[key] = row.get(key, 0.0) + CONTEXT_WEIGHT
        for name in time_line[i]:
            key = _hash(name)
            row[key] = row.get(key, 0.0) + YEAR_WEIGHT
        row[_hash(f"pos:{min(4, 5 * i // max(n, 1))}")] = 1.0
        rows.append(row)
    return rows


def rule_signals_by_sentence(sentences: Sequence[Span], found: Sequence[Any]) -> list[set[str]]:
    """For each sentence, the rule signals whose evidence span overlaps it."""
    out: list[set[str]] = [set() for _ in sentences]
    starts = [s.start for s in sentences]
    for signal in found:
        i = int(np.searchsorted(starts, signal.start, side="right")) - 1
        for j in range(max(i, 0), len(sentences)):
            if sentences[j].start >= signal.end:
                break
            if sentences[j].end > signal.start:
                out[j].add(signal.signal)
    return out


def _matrix(rows: Sequence[dict[int, float]]) -> Any:
    from scipy.sparse import csr_matrix

    indptr, indices, data = [0], [], []
    for row in rows:
        indices += list(row)
        data += list(row.values())
        indptr.append(len(indices))
    return csr_matrix(
        (np.asarray(data, np.float32), np.asarray(indices), np.asarray(indptr)), shape=(len(rows), DIMENSION)
    )


@dataclass
class SignalTagger:
    """One linear scorer per signal over sentence features; ``tag`` returns the sentences that pass."""

    signals: Sequence[str]
    C: float = 4.0  # 1.0 and 16.0 were 0.03 and 0.01 signal-F1 away on dev (see benchmarks/RESULTS.md)
    coef_: np.ndarray | None = field(default=None, repr=False)  # (n_signals, DIMENSION [+ dense columns])
    intercept_: np.ndarray | None = field(default=None, repr=False)
    thresholds_: np.ndarray | None = field(default=None, repr=False)
    # The second pass: sentences near a threshold are embedded and rescored with their nearest-evidence features.
    refiner: SignalTagger | None = field(default=None, repr=False)
    neighbours: NeighbourFeatures | None = field(default=None, repr=False)

    def fit(
        self, rows: Sequence[dict[int, float]], Y: np.ndarray, groups: np.ndarray, dense: np.ndarray | None = None
    ) -> np.ndarray:
        """Fit on sentence feature rows (and optional dense columns) and a 0/1 matrix Y (sentences x signals).

        ``groups`` gives each sentence's document, so folds never split a
        document. Returns the out-of-fold probabilities (for downstream heads
        and the second pass).
        """
        from scipy.sparse import csr_matrix, hstack
        from sklearn.linear_model import LogisticRegression

        X = _matrix(rows)
        if dense is not None:
            X = hstack([X, csr_matrix(dense.astype(np.float32))]).tocsr()
        n_signals = len(self.signals)
        coef = np.zeros((n_signals, X.shape[1]), np.float32)
        intercept = np.zeros(n_signals, np.float32)
        thresholds = np.full(n_signals, 0.5, np.float32)
        oof = np.zeros(Y.shape, np.float32)
        folds = document_folds(groups)
        fitted = np.zeros(n_signals, bool)
        for j in range(n_signals):
            y = Y[:, j]
            if y.sum() < 3:
                intercept[j] = -20.0
                continue
            fitted[j] = True
            for train, test in folds:
                if y[train].sum() == 0:
                    continue
                model = LogisticRegression(
                    C=self.C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0
                )
                model.fit(X[train], y[train])
                oof[test, j] = model.predict_proba(X[test])[:, 1]
            model = LogisticRegression(
                C=self.C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0
            ).fit(X, y)
            coef[j], intercept[j] = model.coef_[0], model.intercept_[0]
        if fitted.any():
            thresholds[fitted] = pooled_thresholds(Y[:, fitted], oof[:, fitted])
        self.coef_, self.intercept_, self.thresholds_ = coef, intercept, thresholds
        return oof

    def probabilities(self, rows: Sequence[dict[int, float]], dense: np.ndarray | None = None) -> np.ndarray:
        """Probabilities (sentences x signals); ``dense`` holds the extra columns the tagger was fitted with."""
        scores = np.zeros((len(rows), len(self.signals)), np.float32)
        for i, row in enumerate(rows):
            if row:
                idx = np.fromiter(row.keys(), dtype=np.int64)
                val = np.fromiter(row.values(), dtype=np.float32)
                scores[i] = self.coef_[:, idx] @ val
        if self.coef_.shape[1] > DIMENSION:
            if dense is None:
                raise ValueError("this tagger was fitted with dense features; pass them")
            scores += dense.astype(np.float32) @ self.coef_[:, DIMENSION:].T
        return 1.0 / (1.0 + np.exp(-np.clip(scores + self.intercept_, -40, 40)))

    def tag(
        self, text: str, sentences: Sequence[Span], found: Sequence[Any], embed: Embed | None = None
    ) -> list[tuple[int, str, float]]:
        """(sentence index, signal, probability) for every pair that passes its threshold."""
        return self.tag_many([(text, sentences, found)], embed)[0]

    def tag_many(
        self, documents: Sequence[tuple[str, Sequence[Span], Sequence[Any]]], embed: Embed | None = None
    ) -> list[list[tuple[int, str, float]]]:
        """:meth:`tag` for several documents, embedding their second-pass sentences in one call.

        Without ``embed`` (or without a second pass) the first pass decides alone.
        """
        rows = [
            document_features(text, sentences, rule_signals_by_sentence(sentences, found)) if sentences else []
            for text, sentences, found in documents
        ]
        first = [self.probabilities(r) for r in rows]
        if self.refiner is None or self.neighbours is None or embed is None:
            return [_hits(p, self.thresholds_, self.signals) for p in first]
        near = [np.flatnonzero((p / self.thresholds_).max(axis=1) >= CASCADE) if len(p) else [] for p in first]
        texts = [
            " ".join(sentences[i].text.split())
            for (_, sentences, _), idx in zip(documents, near, strict=True)
            for i in idx
        ]
        vectors = embed(texts) if texts else np.zeros((0, 0), np.float32)
        out, cursor = [], 0
        for r, p, idx in zip(rows, first, near, strict=True):
            second = np.zeros_like(p)
            if len(idx):
                dense = NEIGHBOUR_WEIGHT * self.neighbours.transform(vectors[cursor : cursor + len(idx)])
                second[idx] = self.refiner.probabilities([r[i] for i in idx], dense)
                cursor += len(idx)
            out.append(_hits(second, self.refiner.thresholds_, self.signals))
        return out

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Learned state as arrays (weight matrices in float16: mostly zeros, they compress well); the second
        pass under ``second.`` and its evidence bank under ``neighbours.``."""
        arrays = {
            "coef": self.coef_.astype(np.float16),
            "intercept": self.intercept_,
            "thresholds": self.thresholds_,
            "features_version": np.asarray([FEATURES_VERSION], np.int32),
        }
        if self.refiner is not None and self.neighbours is not None:
            arrays |= {f"second.{k}": v for k, v in self.refiner.to_arrays().items()}
            arrays |= {f"neighbours.{k}": v for k, v in self.neighbours.to_arrays().items()}
        return arrays

    @classmethod
    def from_arrays(cls, signals: Sequence[str], arrays: dict[str, np.ndarray]) -> SignalTagger:
        """Rebuild from :meth:`to_arrays` output."""
        version = int(arrays["features_version"][0]) if "features_version" in arrays else 1
        if version != FEATURES_VERSION:
            from nlp.errors import ClassifierError

            raise ClassifierError(
                f"the sentence tagger was trained on features version {version}, this inovasi-nlp computes "
                f"version {FEATURES_VERSION}; retrain it with 'inovasi train' (or use the shipped classifier)"
            )
        tagger = cls(list(signals))
        tagger.coef_ = arrays["coef"].astype(np.float32)
        tagger.intercept_, tagger.thresholds_ = arrays["intercept"], arrays["thresholds"]
        second = {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("second.")}
        if second:
            tagger.refiner = cls.from_arrays(signals, second)
            tagger.neighbours = NeighbourFeatures.from_arrays(
                signals, {k.split(".", 1)[1]: v for k, v in arrays.items() if k.startswith("neighbours.")}
            )
        return tagger


def fit_tagger(
    texts: Sequence[str],
    sentences: Sequence[Sequence[Span]],
    found: Sequence[Sequence[Any]],
    gold_spans: Sequence[Sequence[tuple[str, int, int]]],
    signal_ids: Sequence[str],
    embed: Embed | None = None,
) -> tuple[SignalTagger, list[list[tuple[int, str]]]]:
    """Fit a tagger on documents' sentences and gold evidence spans (signal, start, end).

    With ``embed`` it also fits the second pass: sentences are embedded,
    given their nearest-evidence features (each fold against the others'
    evidence) and scored again. Returns the tagger and, per document, its
    out-of-fold (sentence index, signal) decisions as :meth:`SignalTagger.tag_many`
    would make them (the second pass on the cascade's sentences, when there is
    one), which the sustainability head trains on instead of optimistic
    in-sample tags: it reads the same evidence at label time that it reports.
    """
    position = {s: i for i, s in enumerate(signal_ids)}
    rows, labels, groups = [], [], []
    for k, (text, sents, cands, spans) in enumerate(zip(texts, sentences, found, gold_spans, strict=True)):
        rules = rule_signals_by_sentence(sents, cands)
        rows.extend(document_features(text, sents, rules))
        for sentence in sents:
            y = np.zeros(len(signal_ids), np.int8)
            for signal, start, end in spans:
                if signal in position and start < sentence.end and sentence.start < end:
                    y[position[signal]] = 1
            labels.append(y)
            groups.append(k)
    Y, group_ids = np.asarray(labels), np.asarray(groups)
    tagger = SignalTagger(list(signal_ids))
    first = tagger.fit(rows, Y, group_ids)
    decisions = first >= tagger.thresholds_
    if embed is not None and rows:
        vectors = embed([" ".join(s.text.split()) for sents in sentences for s in sents])
        tagger.neighbours = NeighbourFeatures(list(signal_ids))
        dense = NEIGHBOUR_WEIGHT * tagger.neighbours.fit_out_of_fold(vectors, Y, document_folds(group_ids))
        tagger.refiner = SignalTagger(list(signal_ids))
        second = tagger.refiner.fit(rows, Y, group_ids, dense=dense)
        near = (first / tagger.thresholds_).max(axis=1) >= CASCADE
        decisions = (second >= tagger.refiner.thresholds_) & near[:, None]
    per_doc: list[list[tuple[int, str]]] = [[] for _ in texts]
    offsets = np.cumsum([0] + [len(s) for s in sentences])
    for k in range(len(texts)):
        block = decisions[offsets[k] : offsets[k + 1]]
        per_doc[k] = [(int(i), tagger.signals[int(j)]) for i, j in np.argwhere(block)]
    return tagger, per_doc


def document_folds(groups: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """The five folds of the tagger's out-of-fold predictions; a document is never split."""
    from sklearn.model_selection import GroupKFold

    return list(GroupKFold(n_splits=5).split(np.zeros(len(groups)), groups=groups))


def _hits(probs: np.ndarray, thresholds: np.ndarray, signals: Sequence[str]) -> list[tuple[int, str, float]]:
    return [(int(i), signals[int(j)], float(probs[i, j])) for i, j in np.argwhere(probs >= thresholds)]


_GRID = np.arange(0.2, 0.96, 0.025)  # the thresholds a signal may get


def pooled_thresholds(Y: np.ndarray, P: np.ndarray, prior: float = THRESHOLD_PRIOR) -> np.ndarray:
    """Per-signal thresholds from out-of-fold probabilities, each signal's F1 curve pooled with all signals'.

    A signal's own F1 curve rests on a few dozen evidence sentences, and its
    best point moves with the folds. So each threshold maximises
    ``w * F1_signal(t) + (1 - w) * F1_all(t)``, where ``F1_all`` is the micro
    F1 of every signal at ``t`` and ``w = positives / (positives + prior)``:
    a rare signal follows the common curve, and a well-attested one its own.
    """
    counts = np.stack([_curve(Y[:, j], P[:, j]) for j in range(Y.shape[1])])  # signals x grid x (tp, fp, fn)
    pooled = _f1(counts.sum(axis=0))
    out = np.empty(Y.shape[1], np.float32)
    for j in range(Y.shape[1]):
        w = Y[:, j].sum() / (Y[:, j].sum() + prior)
        out[j] = round(float(_GRID[int(np.argmax(w * _f1(counts[j]) + (1 - w) * pooled))]), 3)
    return out


def _curve(y: np.ndarray, p: np.ndarray) -> np.ndarray:
    """(tp, fp, fn) of one signal at every threshold of the grid."""
    pred = p[None, :] >= _GRID[:, None]
    gold = (y == 1)[None, :]
    return np.stack([(pred & gold).sum(1), (pred & ~gold).sum(1), (~pred & gold).sum(1)], axis=1).astype(float)


def _f1(counts: np.ndarray) -> np.ndarray:
    tp, fp, fn = counts[..., 0], counts[..., 1], counts[..., 2]
    return 2 * tp / np.maximum(1.0, 2 * tp + fp + fn)


def _best_threshold(y: np.ndarray, p: np.ndarray) -> float:
    """The grid threshold with the best F1 for one signal alone (the lowest, on a tie)."""
    return round(float(_GRID[int(np.argmax(_f1(_curve(y, p))))]), 3)
