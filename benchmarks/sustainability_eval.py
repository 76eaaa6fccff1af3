"""Which evidence the sustainability head should read, chosen on the train split only.

Usage::

    python benchmarks/sustainability_eval.py [--repeats 3] [--dev] [--parts]

The sustainability head reads each innovation's signals (presence, counts per
category, the ``domain.md`` 4.4 rule's outcome) and its pooled passage vectors.
Two sources of signals are compared, each as ``fit_classifier`` gives them to
the head (the tagger's out-of-fold decisions on the train innovations):

- ``first``: the tagger's first pass (words, rules, context);
- ``final``: the signals ``label`` reports, after the second pass over e5
  sentence vectors.

Each is scored by 5-fold cross-validation of the shipped head (``SoftmaxHead``,
which chooses its own C and temperature inside each training fold), repeated
with ``--repeats`` shuffles; macro-F1 over sustained / at_risk / unclear.
``--parts`` also holds out each corpus part (the id prefix, one writing
batch) in turn, as ``parts_holdout.py`` does for the other heads.
``--dev`` also prints the dev innovations under a perfect is_innovation gate
(the head fitted on all train innovations, signals from a train-fitted
tagger), for reporting only. Vectors come from the cache under
``INOVASI_CACHE``; fitting the tagger twice takes about ten minutes.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

OUTCOMES = ["sustained", "at_risk", "unclear"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3, help="shuffles of the 5-fold cross-validation")
    parser.add_argument("--dev", action="store_true", help="also score the dev innovations (reporting only)")
    parser.add_argument("--parts", action="store_true", help="also hold out each corpus part in turn")
    args = parser.parse_args()

    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    from nlp.classify.corpus import iter_labelled, read_gold
    from nlp.classify.evidence import fit_tagger
    from nlp.classify.features import analyse_documents, pooled_features
    from nlp.classify.heads import SoftmaxHead
    from nlp.classify.model import document_year, signals_from_tags
    from nlp.classify.scheme import load_scheme
    from nlp.classify.signals import find_signals
    from nlp.classify.sustainability import signal_features
    from nlp.classify.training import gold_spans
    from nlp.embed import load_embedder
    from nlp.embed.cache import CachedEmbedder

    started = time.time()
    scheme = load_scheme()
    gold = read_gold(sorted((ROOT / "corpora" / "labels").glob("*.labels.jsonl")))
    labelled = [
        ld
        for ld in iter_labelled([ROOT / "corpora" / "sample", ROOT / "corpora" / "labelled"], gold)
        if ld.gold.is_innovation
    ]
    embedder = CachedEmbedder(load_embedder("e5-small"))
    analysed = list(analyse_documents([ld.document for ld in labelled], embedder))
    train = [k for k, ld in enumerate(labelled) if not ld.dev]
    dev = [k for k, ld in enumerate(labelled) if ld.dev]

    found = {
        k: find_signals(analysed[k].text, analysed[k].sentences, reference_year=document_year(analysed[k]))
        for k in train + dev
    }
    spans = [gold_spans(analysed[k], labelled[k].gold) for k in train]
    pooled = {k: pooled_features(analysed[k].vectors) for k in train + dev}
    y = np.asarray([labelled[k].gold.sustainability for k in train])
    y_dev = [labelled[k].gold.sustainability for k in dev]

    for name, embed in (("first", None), ("final", embedder.embed_passages)):
        tagger, oof = fit_tagger(
            [analysed[k].text for k in train],
            [analysed[k].sentences for k in train],
            [found[k] for k in train],
            spans,
            scheme.signal_ids,
            embed=embed,
        )
        X = np.stack(
            [
                np.concatenate([signal_features(signals_from_tags(analysed[k], tags, scheme), scheme), pooled[k]])
                for k, tags in zip(train, oof, strict=True)
            ]
        )
        scores = []
        for seed in range(args.repeats):
            predicted = np.empty(len(y), dtype=object)
            for a, b in StratifiedKFold(5, shuffle=True, random_state=seed).split(X, y):
                head = SoftmaxHead(OUTCOMES).fit(X[a], list(y[a]))
                predicted[b] = [OUTCOMES[i] for i in head.predict_proba(X[b]).argmax(axis=1)]
            scores.append(f1_score(y, list(predicted), average="macro"))
        line = (
            f"{name:5s}  train, 5-fold CV x {args.repeats}: macro-F1 {np.mean(scores):.3f} "
            f"({', '.join(f'{s:.3f}' for s in scores)})"
        )
        if args.parts:
            from parts_holdout import part_of

            parts = np.asarray([part_of(labelled[k].document.id) for k in train])
            predicted = np.empty(len(y), dtype=object)
            for part in sorted(set(parts)):
                held = parts == part
                head = SoftmaxHead(OUTCOMES).fit(X[~held], list(y[~held]))
                predicted[held] = [OUTCOMES[i] for i in head.predict_proba(X[held]).argmax(axis=1)]
            line += f" | leave one part out: {f1_score(y, list(predicted), average='macro'):.3f}"
        if args.dev:
            head = SoftmaxHead(OUTCOMES).fit(X, list(y))
            tags = tagger.tag_many([(analysed[k].text, analysed[k].sentences, found[k]) for k in dev], embed)
            X_dev = np.stack(
                [
                    np.concatenate(
                        [
                            signal_features(signals_from_tags(analysed[k], t, scheme), scheme),
                            pooled[k],
                        ]
                    )
                    for k, t in zip(dev, tags, strict=True)
                ]
            )
            predicted_dev = [OUTCOMES[i] for i in head.predict_proba(X_dev).argmax(axis=1)]
            dev_f1 = f1_score(y_dev, predicted_dev, average="macro")
            line += f" | dev innovations ({len(dev)}, perfect gate): {dev_f1:.3f}"
        print(line, flush=True)
    print(f"{len(train)} train and {len(dev)} dev innovations, {time.time() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
