"""How the document heads carry over to writing they have not seen: leave one corpus part out.

Usage::

    python benchmarks/parts_holdout.py [--features shipped vectors words] [--folds 6]

The labelled corpus was written in parts (the id prefix: ``ekl``, ``jrn``,
``tbl``, ...), each in its own batch and its own mix of styles: news, profile
forms, journal articles, LPPD chapters, monitoring reports, social-media
threads. Random cross-validation puts documents of every part in training,
so it cannot tell whether a head learned what a label means or how one part
happens to phrase it. Here each head of ``fit_classifier`` (is_innovation,
trends, objectives, form) is scored twice on the train split, with the same
code and its own choice of C, calibration and thresholds inside each
training fold:

- ``random``: documents in ``--folds`` random folds;
- ``parts``: every part held out in turn, trained on all the others.

``--features`` picks what the heads read: ``shipped`` (pooled passage
vectors and TF-IDF of stems, as ``inovasi train`` fits them), ``vectors``
(pooled passage vectors only), ``words`` (TF-IDF only). The TF-IDF
vocabulary is fitted on each training fold. Trends, objectives and form are
scored on the innovations (a perfect is_innovation gate): macro-F1 for the
multi-label families and is_innovation, accuracy for form. The dev split is
not read. Vectors come from the cache under ``INOVASI_CACHE``; each feature
set takes one to three minutes on two cores.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def part_of(doc_id: str) -> str:
    """The corpus part a document belongs to: its id prefix (the sample corpus's files are one part)."""
    prefix = doc_id.split("-")[0]
    return "files" if "/" in prefix else prefix


def _macro_f1(pred: np.ndarray, true: np.ndarray) -> float:
    scores = []
    for j in range(true.shape[1]):
        tp = int(np.sum(pred[:, j] & (true[:, j] == 1)))
        fp = int(np.sum(pred[:, j] & (true[:, j] == 0)))
        fn = int(np.sum(~pred[:, j] & (true[:, j] == 1)))
        scores.append(2 * tp / max(1, 2 * tp + fp + fn))
    return float(np.mean(scores))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--features", nargs="+", default=["shipped", "vectors", "words"])
    parser.add_argument("--folds", type=int, default=6, help="random folds to compare with")
    args = parser.parse_args()

    from nlp.classify.corpus import iter_labelled, read_gold
    from nlp.classify.features import LexicalFeatures, analyse_documents, pooled_features
    from nlp.classify.heads import MultiLabelHead, SoftmaxHead
    from nlp.classify.model import FORMS
    from nlp.classify.training import OBJECTIVES, TRENDS, _multi_hot
    from nlp.embed import load_embedder
    from nlp.embed.cache import CachedEmbedder

    started = time.time()
    gold_all = read_gold(sorted((ROOT / "corpora" / "labels").glob("*.labels.jsonl")))
    labelled = [
        ld for ld in iter_labelled([ROOT / "corpora" / "sample", ROOT / "corpora" / "labelled"], gold_all) if not ld.dev
    ]
    docs = list(analyse_documents([ld.document for ld in labelled], CachedEmbedder(load_embedder("e5-small"))))
    gold = [ld.gold for ld in labelled]
    parts = np.asarray([part_of(ld.document.id) for ld in labelled])
    pooled = np.stack([pooled_features(d.vectors) for d in docs])
    innovation = np.asarray([g.is_innovation for g in gold])
    inn_gold = [g for g in gold if g.is_innovation]
    trends_true = _multi_hot(inn_gold, "trends", TRENDS)
    objectives_true = _multi_hot(inn_gold, "pp38_objectives", OBJECTIVES)
    forms_true = np.asarray([g.pp38_form for g in inn_gold])
    print(
        f"{len(docs)} train documents ({int(innovation.sum())} innovations) in {len(set(parts))} parts",
        file=sys.stderr,
    )

    def features(kind: str, fit: np.ndarray, held: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if kind == "vectors":
            return pooled[fit], pooled[held]
        lexical = LexicalFeatures().fit([docs[i] for i in fit])
        words_fit = lexical.transform([docs[i] for i in fit])
        words_held = lexical.transform([docs[i] for i in held])
        if kind == "words":
            return words_fit, words_held
        return np.hstack([pooled[fit], words_fit]), np.hstack([pooled[held], words_held])

    def score(kind: str, splits: list[tuple[np.ndarray, np.ndarray]]) -> dict[str, float]:
        n = len(docs)
        gate = np.zeros(n, bool)
        trends = np.zeros((n, len(TRENDS)), bool)
        objectives = np.zeros((n, len(OBJECTIVES)), bool)
        forms = np.empty(n, dtype=object)
        for fit, held in splits:
            X_fit, X_held = features(kind, fit, held)
            head = MultiLabelHead(["is_innovation"], threshold_objective="macro")
            head.fit(X_fit, innovation[fit].reshape(-1, 1).astype(int))
            gate[held] = head.predict_proba(X_held)[:, 0] >= head.thresholds_[0]
            inn_fit, inn_held = innovation[fit], innovation[held]
            fit_gold = [gold[i] for i in fit[inn_fit]]
            for attribute, labels, out in (("trends", TRENDS, trends), ("pp38_objectives", OBJECTIVES, objectives)):
                head = MultiLabelHead(list(labels)).fit(X_fit[inn_fit], _multi_hot(fit_gold, attribute, labels))
                out[held[inn_held]] = head.predict_proba(X_held[inn_held]) >= head.thresholds_
            form_head = SoftmaxHead(list(FORMS)).fit(X_fit[inn_fit], [g.pp38_form for g in fit_gold])
            forms[held[inn_held]] = [FORMS[k] for k in form_head.predict_proba(X_held[inn_held]).argmax(axis=1)]
        both = np.stack([innovation, ~innovation], axis=1).astype(int)
        return {
            "is_innovation": _macro_f1(np.stack([gate, ~gate], axis=1), both),
            "trends": _macro_f1(trends[innovation], trends_true),
            "objectives": _macro_f1(objectives[innovation], objectives_true),
            "form (accuracy)": float(np.mean(forms[innovation] == forms_true)),
        }

    everything = np.arange(len(docs))
    random_fold = np.random.RandomState(0).permutation(len(docs)) % args.folds
    schemes = {
        f"random {args.folds}-fold": [
            (everything[random_fold != k], everything[random_fold == k]) for k in range(args.folds)
        ],
        "leave one part out": [(everything[parts != p], everything[parts == p]) for p in sorted(set(parts))],
    }
    print("| features | folds | is_innovation | trends | objectives | form (accuracy) |")
    print("|---|---|---|---|---|---|")
    for kind in args.features:
        for name, splits in schemes.items():
            row = score(kind, splits)
            print(f"| {kind} | {name} | " + " | ".join(f"{v:.3f}" for v in row.values()) + " |", flush=True)
    print(f"{time.time() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
