"""Does the sentence tagger gain from e5 sentence vectors? Tagger signal F1 with and without them.

Usage::

    python benchmarks/signals_embed_eval.py [--weights 0 2 4] [--C 4] [--cache DIR]

The shipped tagger (:mod:`nlp.classify.evidence`) scores each sentence from
its hashed stems, its rule matches and its context. This experiment appends
the sentence's e5-small vector (``passage:`` prompt, the default engine),
scaled by a weight ``W``, to the same sparse rows and fits the same per-signal
logistic regressions, exactly as ``signals_eval.py --tagger --gold-gate``
does: out-of-fold on train innovations (the number to choose ``W`` by), fitted
on train and scored on dev. ``W = 0`` reproduces the shipped tagger.

Sentence vectors are cached in ``benchmarks/out/sentence-vectors.npy`` (keyed
by a hash of the sentences), so a second run only refits. Embedding every
sentence costs what the seconds printed say; label time would grow by that
much per sentence, which is the price to weigh against the F1 gained.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

import signals_eval as se  # noqa: E402


def sentence_vectors(sentences: list[str], out_dir: Path, cache: Path | None) -> tuple[np.ndarray, float | None]:
    """e5 passage vectors of ``sentences`` (cached by content); seconds spent embedding, None when cached."""
    key = hashlib.sha256("\x1e".join(sentences).encode("utf-8")).hexdigest()[:16]
    path = out_dir / f"sentence-vectors-{key}.npy"
    if path.exists():
        return np.load(path), None
    from nlp.embed import load_embedder

    embedder = load_embedder("e5-small", cache_dir=cache)
    started = time.perf_counter()
    vectors = embedder.embed_passages(sentences)
    seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(path, vectors)
    return vectors, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", type=float, nargs="+", default=[0.0, 2.0, 4.0], help="scales of the vector")
    parser.add_argument("--C", type=float, default=4.0, help="inverse regularisation, as the shipped tagger")
    parser.add_argument("--cache", type=Path, default=None, help="model cache (default: INOVASI_CACHE)")
    args = parser.parse_args()

    from scipy.sparse import csr_matrix, hstack
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    from nlp.classify import evidence
    from nlp.classify.scheme import load_scheme
    from nlp.classify.signals import find_signals
    from nlp.text import split_sentences

    texts, years, gold, problems = se.load_corpus()
    for problem in problems:
        print("note:", problem, file=sys.stderr)
    signal_ids = load_scheme().signal_ids
    position = {s: i for i, s in enumerate(signal_ids)}
    ids = sorted(gold)
    train = [i for i in ids if se.split_of(i) == "train" and i not in se.NOT_INNOVATIONS]
    dev = [i for i in ids if se.split_of(i) == "dev"]
    sentences = {i: split_sentences(texts[i]) for i in train + dev}
    found = {i: find_signals(texts[i], sentences[i], reference_year=years.get(i)) for i in train + dev}

    flat = [" ".join(s.text.split()) for i in train + dev for s in sentences[i]]
    vectors, embed_s = sentence_vectors(flat, HERE / "out", args.cache)
    if embed_s is None:
        print(f"{len(flat)} sentences, vectors from the cache")
    else:
        print(f"{len(flat)} sentences embedded in {embed_s:.1f} s ({len(flat) / embed_s:.0f} sentences/s)")

    def rows_of(docs: list[str], first: int) -> tuple[object, np.ndarray, np.ndarray, np.ndarray]:
        rows, labels, groups, where = [], [], [], []
        k = first
        for g, doc in enumerate(docs):
            sents = sentences[doc]
            rules = evidence.rule_signals_by_sentence(sents, found[doc])
            rows.extend(evidence.document_features(texts[doc], sents, rules))
            for sentence in sents:
                y = np.zeros(len(signal_ids), np.int8)
                for item in gold[doc]:
                    if item.signal in position and item.start < sentence.end and sentence.start < item.end:
                        y[position[item.signal]] = 1
                labels.append(y)
                groups.append(g)
                where.append(k)
                k += 1
        return evidence._matrix(rows), np.asarray(labels), np.asarray(groups), np.asarray(where)

    x_train, y_train, g_train, v_train = rows_of(train, 0)
    x_dev, _, _, v_dev = rows_of(dev, len(v_train))
    folds = list(GroupKFold(n_splits=5).split(x_train, groups=g_train))

    def score(docs: list[str], probs: np.ndarray, thresholds: np.ndarray) -> tuple[int, int, int]:
        tp = fp = fn = 0
        k = 0
        for doc in docs:
            sents = sentences[doc]
            block = probs[k : k + len(sents)] >= thresholds
            k += len(sents)
            if doc in se.NOT_INNOVATIONS:
                block[:] = False  # the perfect is_innovation gate of --gold-gate
            predicted = [(signal_ids[j], sents[i].start, sents[i].end, "") for i, j in np.argwhere(block)]
            t, p, n = se.match(predicted, gold[doc])
            tp, fp, fn = tp + len(t), fp + len(p), fn + len(n)
        return tp, fp, fn

    def line(tp: int, fp: int, fn: int) -> str:
        m = se.prf(tp, fp, fn)
        return f"P {m['precision']:.3f} R {m['recall']:.3f} F1 {m['f1']:.3f}"

    print(f"{'W':>5}  {'train, out of fold':32s}  {'dev':32s}  fit s")
    for weight in args.weights:
        if weight:
            xt = hstack([x_train, csr_matrix(weight * vectors[v_train])]).tocsr()
            xd = hstack([x_dev, csr_matrix(weight * vectors[v_dev])]).tocsr()
        else:
            xt, xd = x_train, x_dev
        started = time.perf_counter()
        oof = np.zeros(y_train.shape, np.float32)
        dev_probs = np.zeros((xd.shape[0], len(signal_ids)), np.float32)
        thresholds = np.full(len(signal_ids), 2.0, np.float32)  # signals too rare to fit never fire
        for j in range(len(signal_ids)):
            y = y_train[:, j]
            if y.sum() < 3:
                continue

            def model() -> LogisticRegression:
                return LogisticRegression(
                    C=args.C, class_weight="balanced", max_iter=2000, solver="liblinear", random_state=0
                )

            for fit_rows, test_rows in folds:
                oof[test_rows, j] = model().fit(xt[fit_rows], y[fit_rows]).predict_proba(xt[test_rows])[:, 1]
            thresholds[j] = evidence._best_threshold(y, oof[:, j])
            dev_probs[:, j] = model().fit(xt, y).predict_proba(xd)[:, 1]
        seconds = time.perf_counter() - started
        print(
            f"{weight:5.1f}  {line(*score(train, oof, thresholds)):32s}  "
            f"{line(*score(dev, dev_probs, thresholds)):32s}  {seconds:.0f}",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
