"""Fitting a classifier on labelled documents and measuring it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nlp.classify.corpus import GoldLabels
from nlp.classify.features import AnalysedDocument, LexicalFeatures, pooled_features
from nlp.classify.heads import MultiLabelHead, SoftmaxHead, expected_calibration_error
from nlp.classify.model import FORMS, SUSTAINABILITY, Classifier, LabelResult, document_year, signals_from_tags
from nlp.classify.scheme import LabelScheme
from nlp.classify.sustainability import signal_features
from nlp.index.manifest import utc_now
from nlp.text import normalise

TRENDS = ("customer_centricity", "sharing_economy", "industry_4_0")
OBJECTIVES = ("pelayanan_publik", "pemberdayaan_masyarakat", "daya_saing_daerah")


def fit_classifier(
    docs: Sequence[AnalysedDocument],
    gold: Sequence[GoldLabels],
    scheme: LabelScheme,
    embedder: dict[str, Any],
    embed: Any = None,
) -> Classifier:
    """Fit every head on the given (training) documents; ``embed`` (texts -> unit passage vectors) adds the
    evidence tagger's second pass."""
    from nlp.classify.evidence import fit_tagger
    from nlp.classify.signals import find_signals

    # Folds, the neighbour bank's sample and the heads' shuffles follow row order: fit in id order,
    # so the same documents give the same classifier whatever order the sources were given in.
    order = sorted(range(len(docs)), key=lambda k: docs[k].document.id)
    docs = [docs[k] for k in order]
    gold = [gold[k] for k in order]
    found = [find_signals(d.text, d.sentences, reference_year=document_year(d)) for d in docs]
    spans = [gold_spans(d, g) for d, g in zip(docs, gold, strict=True)]
    # The tagger learns from innovations only: the is_innovation gate removes every signal of the
    # others, and their rule matches (all negatives) would teach it that a cue means little.
    keep = [k for k, g in enumerate(gold) if g.is_innovation]
    tagger, oof_kept = fit_tagger(
        [docs[k].text for k in keep],
        [docs[k].sentences for k in keep],
        [found[k] for k in keep],
        [spans[k] for k in keep],
        scheme.signal_ids,
        embed=embed,
    )
    oof: list[list[tuple[int, str]]] = [[] for _ in docs]
    for k, tags in zip(keep, oof_kept, strict=True):
        oof[k] = tags
    evidence = [signals_from_tags(d, tags, scheme) for d, tags in zip(docs, oof, strict=True)]
    lexical = LexicalFeatures().fit(list(docs))
    X = np.hstack([np.stack([pooled_features(d.vectors) for d in docs]), lexical.transform(list(docs))])
    innovation = np.asarray([g.is_innovation for g in gold])
    inn_head = MultiLabelHead(["is_innovation"], threshold_objective="macro").fit(
        X, innovation.reshape(-1, 1).astype(int)
    )
    Xi = X[innovation]
    gi = [g for g in gold if g.is_innovation]
    trend_head = MultiLabelHead(list(TRENDS)).fit(Xi, _multi_hot(gi, "trends", TRENDS))
    objective_head = MultiLabelHead(list(OBJECTIVES)).fit(Xi, _multi_hot(gi, "pp38_objectives", OBJECTIVES))
    form_head = SoftmaxHead(list(FORMS)).fit(Xi, [g.pp38_form for g in gi])
    S = np.stack([signal_features(e, scheme) for e, g in zip(evidence, gold, strict=True) if g.is_innovation])
    # Sustainability reads the evidence and what the text means, not its vocabulary (TF-IDF only added noise).
    sustainability_head = SoftmaxHead(list(SUSTAINABILITY)).fit(
        np.hstack([S, Xi[:, : 2 * docs[0].vectors.shape[1]]]), [g.sustainability for g in gi]
    )
    return Classifier(
        scheme=scheme,
        embedder=embedder,
        innovation=inn_head,
        trends=trend_head,
        objectives=objective_head,
        form=form_head,
        sustainability=sustainability_head,
        tagger=tagger,
        lexical=lexical,
        training={"trained_at": utc_now(), "documents": len(docs), "innovations": int(innovation.sum())},
    )


def _multi_hot(gold: Sequence[GoldLabels], attribute: str, labels: Sequence[str]) -> np.ndarray:
    return np.asarray([[1 if label in getattr(g, attribute) else 0 for label in labels] for g in gold])


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}


def _multi_label_metrics(pred: list[set[str]], true: list[set[str]], labels: Sequence[str]) -> dict[str, Any]:
    per = {}
    for label in labels:
        tp = sum(1 for p, t in zip(pred, true, strict=True) if label in p and label in t)
        fp = sum(1 for p, t in zip(pred, true, strict=True) if label in p and label not in t)
        fn = sum(1 for p, t in zip(pred, true, strict=True) if label not in p and label in t)
        per[label] = _prf(tp, fp, fn)
    return {"labels": per, "macro_f1": round(float(np.mean([v["f1"] for v in per.values()])), 4)}


def _single_label_metrics(pred: list[str], true: list[str], labels: Sequence[str]) -> dict[str, Any]:
    per = {}
    for label in labels:
        tp = sum(1 for p, t in zip(pred, true, strict=True) if p == label and t == label)
        fp = sum(1 for p, t in zip(pred, true, strict=True) if p == label and t != label)
        fn = sum(1 for p, t in zip(pred, true, strict=True) if p != label and t == label)
        per[label] = _prf(tp, fp, fn)
    confusion = {
        t: {p: sum(1 for a, b in zip(pred, true, strict=True) if a == p and b == t) for p in labels} for t in labels
    }
    accuracy = sum(1 for p, t in zip(pred, true, strict=True) if p == t) / max(len(true), 1)
    return {
        "labels": per,
        "macro_f1": round(float(np.mean([v["f1"] for v in per.values()])), 4),
        "accuracy": round(accuracy, 4),
        "confusion": confusion,
    }


def gold_spans(doc: AnalysedDocument, gold: GoldLabels) -> list[tuple[str, int, int]]:
    """(signal, start, end) of each gold evidence sentence found in the document's normalised text."""
    located = [(s["signal"], locate_sentence(doc.text, s["sentence"])) for s in gold.signals]
    return [(signal, span[0], span[1]) for signal, span in located if span is not None]


def locate_sentence(text: str, sentence: str) -> tuple[int, int] | None:
    """Where a gold evidence sentence (copied from the raw text) sits in the normalised text."""
    wanted = normalise(sentence)
    at = text.find(wanted)
    if at >= 0:
        return at, at + len(wanted)
    collapsed = " ".join(wanted.split())
    flat = " ".join(text.split())
    at = flat.find(collapsed)
    if at < 0:
        return None
    # map the position back through the whitespace collapse
    count, i = 0, 0
    while i < len(text) and count < at:
        if not (text[i].isspace() and i + 1 < len(text) and text[i + 1].isspace()):
            count += 1
        i += 1
    return i, min(len(text), i + len(collapsed))


def signal_metrics(
    docs: Sequence[AnalysedDocument], results: Sequence[LabelResult], gold: Sequence[GoldLabels]
) -> dict[str, Any]:
    """Micro precision/recall/F1 of signals: same signal id and overlapping sentence span, one to one.

    ``by_document`` scores (document, signal) pairs instead, the question an analyst filtering on a
    signal asks: a reported signal is right when at least one of its sentences overlaps a gold
    sentence of that signal, and a gold signal is found when one of them does. A restatement the
    tagger skips, or one it adds, costs nothing there; a signal backed only by wrong sentences
    still counts as wrong.
    """
    tp = fp = fn = 0
    doc_tp = doc_fp = doc_fn = 0
    per: dict[str, list[int]] = {}
    for doc, result, g in zip(docs, results, gold, strict=True):
        gold_spans = []
        for s in g.signals:
            span = locate_sentence(doc.text, s["sentence"])
            if span is not None:
                gold_spans.append((s["signal"], span))
        matched_gold = set()
        backed: set[str] = set()
        for s in result.signals:
            hit = next(
                (
                    k
                    for k, (sig, (a, b)) in enumerate(gold_spans)
                    if k not in matched_gold and sig == s.signal and a < s.end and s.start < b
                ),
                None,
            )
            if any(sig == s.signal and a < s.end and s.start < b for sig, (a, b) in gold_spans):
                backed.add(s.signal)
            counts = per.setdefault(s.signal, [0, 0, 0])
            if hit is None:
                fp += 1
                counts[1] += 1
            else:
                matched_gold.add(hit)
                tp += 1
                counts[0] += 1
        for k, (sig, _) in enumerate(gold_spans):
            if k not in matched_gold:
                fn += 1
                per.setdefault(sig, [0, 0, 0])[2] += 1
        reported = {s.signal for s in result.signals}
        doc_tp += len(backed)
        doc_fp += len(reported - backed)
        doc_fn += len({sig for sig, _ in gold_spans} - backed)
    return {
        **_prf(tp, fp, fn),
        "signals": {k: _prf(*v) for k, v in sorted(per.items())},
        "by_document": _prf(doc_tp, doc_fp, doc_fn),
    }


def evaluate_results(
    docs: Sequence[AnalysedDocument], results: Sequence[LabelResult], gold: Sequence[GoldLabels]
) -> dict[str, Any]:
    """Every metric `inovasi evaluate` reports, from predictions and gold labels."""
    inn = _single_label_metrics(
        [str(r.is_innovation) for r in results], [str(g.is_innovation) for g in gold], ("True", "False")
    )
    trends = _multi_label_metrics([set(r.trends) for r in results], [set(g.trends) for g in gold], TRENDS)
    objectives = _multi_label_metrics(
        [set(r.pp38_objectives) for r in results], [set(g.pp38_objectives) for g in gold], OBJECTIVES
    )
    form = _single_label_metrics([r.pp38_form for r in results], [g.pp38_form for g in gold], (*FORMS, "none"))
    sustainability = _single_label_metrics(
        [r.sustainability for r in results], [g.sustainability for g in gold], SUSTAINABILITY
    )
    # calibration: every binary probability against its outcome, and the top class of single-label heads
    probs, correct = [], []
    for r, g in zip(results, gold, strict=True):
        probs.append(r.innovation_score)
        correct.append(g.is_innovation)
        if g.is_innovation:
            for label, p in r.trend_scores.items():
                probs.append(p)
                correct.append(label in g.trends)
            for label, p in r.pp38_objective_scores.items():
                probs.append(p)
                correct.append(label in g.pp38_objectives)
    return {
        "documents": len(gold),
        "is_innovation": inn,
        "trends": trends,
        "pp38_objectives": objectives,
        "pp38_form": form,
        "sustainability": sustainability,
        "signals": signal_metrics(docs, results, gold),
        "calibration": {
            "ece": round(expected_calibration_error(np.asarray(probs), np.asarray(correct)), 4),
            "probabilities": len(probs),
        },
    }
