"""The classifier bundle: one head per label family, saved as a versioned folder of arrays and JSON.

A classifier folder::

    manifest.json        format, scheme and embedder it expects, heads, dev metrics, checksums
    <head>.npz           each head's arrays (loaded with allow_pickle=False: data, never code)

Loading one a colleague sent never runs code, and a folder made for another
scheme version or embedder is refused with a message.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from nlp import __version__
from nlp.classify.features import AnalysedDocument, pooled_features
from nlp.classify.heads import MultiLabelHead, SoftmaxHead
from nlp.classify.scheme import LabelScheme, load_scheme
from nlp.classify.sustainability import signal_features
from nlp.errors import ClassifierError
from nlp.index.manifest import sha256_file, utc_now, write_json_atomic

FORMAT_NAME = "inovasi-classifier"
FORMAT_VERSION = 1
FORMS = ("tata_kelola", "pelayanan_publik", "lainnya")
SUSTAINABILITY = ("sustained", "at_risk", "unclear")
HEAD_FILES = ("innovation", "trends", "objectives", "form", "sustainability")


def signals_from_tags(doc: AnalysedDocument, tags: Sequence[tuple[Any, ...]], scheme: LabelScheme) -> list[Any]:
    """Signal records for (sentence index, signal, ...) tags, in reading order, one per sentence and signal."""
    from nlp.classify.signals import Signal

    out = []
    for index, signal, *_ in sorted(tags, key=lambda t: (t[0], t[1])):
        sentence = doc.sentences[index]
        out.append(Signal(signal, scheme.signal(signal).polarity, sentence.text, sentence.start, sentence.end))
    return out


@dataclass(frozen=True)
class LabelResult:
    """The labels of one document, as ``inovasi label`` writes them."""

    is_innovation: bool
    innovation_score: float
    trends: list[str]
    trend_scores: dict[str, float]
    pp38_objectives: list[str]
    pp38_objective_scores: dict[str, float]
    pp38_form: str
    pp38_form_scores: dict[str, float]
    sustainability: str
    sustainability_scores: dict[str, float]
    signals: list[Any] = field(default_factory=list)


@dataclass
class Classifier:
    """Heads for is_innovation, trends, objectives, form and sustainability over one embedder's features."""

    scheme: LabelScheme
    embedder: dict[str, Any]
    innovation: MultiLabelHead
    trends: MultiLabelHead
    objectives: MultiLabelHead
    form: SoftmaxHead
    sustainability: SoftmaxHead
    tagger: Any = None  # evidence.SignalTagger; None: report the rule matches as they are
    lexical: Any = None  # features.LexicalFeatures; None: embeddings only
    metrics: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    # prediction ----------------------------------------------------------------

    def predict(self, docs: Sequence[AnalysedDocument], embed: Any = None) -> list[LabelResult]:
        """Labels for analysed documents (signals are found here, from each document's sentences).

        ``embed`` (texts -> unit e5 passage vectors, e.g. an embedder's
        ``embed_passages``) lets the tagger's second pass read the meaning of
        the innovations' sentences near a threshold; without it the first pass
        decides alone.
        """
        from nlp.classify.signals import find_signals

        if not docs:
            return []
        X = self.features(docs)
        p_inn = self.innovation.predict_proba(X)[:, 0]
        found = [find_signals(d.text, d.sentences, reference_year=document_year(d)) for d in docs]
        signals = self.evidence(docs, found, embed, refine=p_inn >= self.innovation.thresholds_[0])
        # Sustainability reads the evidence it reports, as in training (see fit_tagger).
        S = np.stack([signal_features(s, self.scheme) for s in signals])
        p_trend = self.trends.predict_proba(X)
        p_obj = self.objectives.predict_proba(X)
        p_form = self.form.predict_proba(X)
        n_embedding = self.sustainability.coef_.shape[1] - S.shape[1]
        p_sus = self.sustainability.predict_proba(np.hstack([S, X[:, :n_embedding]]))
        out = []
        for i in range(len(docs)):
            innovative = bool(p_inn[i] >= self.innovation.thresholds_[0])
            trend_scores = _scores(self.trends.labels, p_trend[i])
            objective_scores = _scores(self.objectives.labels, p_obj[i])
            form_scores = {label: round(float(p_inn[i] * p), 4) for label, p in zip(FORMS, p_form[i], strict=True)}
            form_scores["none"] = round(float(1 - p_inn[i]), 4)
            sustainability_scores = _scores(SUSTAINABILITY, p_sus[i])
            if innovative:
                trends = [
                    t
                    for t, p, th in zip(self.trends.labels, p_trend[i], self.trends.thresholds_, strict=True)
                    if p >= th
                ]
                objectives = [
                    o
                    for o, p, th in zip(self.objectives.labels, p_obj[i], self.objectives.thresholds_, strict=True)
                    if p >= th
                ]
                if not objectives:  # every innovation serves at least one objective (domain.md 5)
                    objectives = [self.objectives.labels[int(np.argmax(p_obj[i]))]]
                form = FORMS[int(np.argmax(p_form[i]))]
                sustainability = SUSTAINABILITY[int(np.argmax(p_sus[i]))]
                found = signals[i]
            else:
                trends, objectives, form, sustainability, found = [], [], "none", "unclear", []
            out.append(
                LabelResult(
                    is_innovation=innovative,
                    innovation_score=round(float(p_inn[i]), 4),
                    trends=trends,
                    trend_scores=trend_scores,
                    pp38_objectives=objectives,
                    pp38_objective_scores=objective_scores,
                    pp38_form=form,
                    pp38_form_scores=form_scores,
                    sustainability=sustainability,
                    sustainability_scores=sustainability_scores,
                    signals=found,
                )
            )
        return out

    def features(self, docs: Sequence[AnalysedDocument]) -> np.ndarray:
        """Document features: pooled passage vectors, then TF-IDF of stems when the classifier has them."""
        X = np.stack([pooled_features(d.vectors) for d in docs])
        if self.lexical is not None:
            X = np.hstack([X, self.lexical.transform(list(docs))])
        return X

    def evidence(
        self, docs: Sequence[AnalysedDocument], found: Sequence[Sequence[Any]], embed: Any, refine: np.ndarray
    ) -> list[list[Any]]:
        """The evidence to report: rule matches confirmed or extended by the tagger, when there is one.

        Only the documents marked in ``refine`` (the innovations: the others report no signals) get
        the tagger's second pass, which embeds sentences.
        """
        if self.tagger is None:
            return [list(f) for f in found]
        out: list[list[Any]] = [[] for _ in docs]
        for mark, use in ((True, embed), (False, None)):
            picked = [k for k in range(len(docs)) if bool(refine[k]) == mark]
            items = [(docs[k].text, docs[k].sentences, found[k]) for k in picked]
            for k, tags in zip(picked, self.tagger.tag_many(items, use) if items else [], strict=True):
                out[k] = signals_from_tags(docs[k], tags, self.scheme)
        return out

    def describe(self) -> dict[str, Any]:
        """What the ``model`` field of every label record says about this classifier."""
        return {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "scheme_version": self.scheme.version,
            "embedder": self.embedder["name"],
            "trained_at": self.training.get("trained_at"),
        }

    # persistence ---------------------------------------------------------------

    def save(self, folder: str | Path) -> None:
        """Write the classifier folder atomically (temporary sibling, then rename; manifest inside last)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.tmp-", dir=folder.parent))
        try:
            heads = {
                "innovation": self.innovation,
                "trends": self.trends,
                "objectives": self.objectives,
                "form": self.form,
                "sustainability": self.sustainability,
            }
            described = {}
            for name, head in heads.items():
                np.savez(tmp / f"{name}.npz", **{k: np.asarray(v) for k, v in head.to_arrays().items()})
                described[name] = {
                    "kind": "multi-label" if isinstance(head, MultiLabelHead) else "softmax",
                    "labels": list(head.labels),
                    "C": head.C_,
                    "file": f"{name}.npz",
                }
            if self.lexical is not None:
                np.savez(tmp / "lexical.npz", idf=self.lexical.idf)
                (tmp / "vocabulary.json").write_text(
                    json.dumps(self.lexical.vocabulary, ensure_ascii=False, sort_keys=True), encoding="utf-8"
                )
                described["lexical"] = {
                    "kind": "tfidf-stems",
                    "labels": [],
                    "C": None,
                    "file": "lexical.npz",
                    "vocabulary": "vocabulary.json",
                }
            if self.tagger is not None:
                np.savez_compressed(tmp / "signals.npz", **self.tagger.to_arrays())
                described["signals"] = {
                    "kind": "sentence-tagger",
                    "labels": list(self.tagger.signals),
                    "C": self.tagger.C,
                    "file": "signals.npz",
                }
            manifest = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "created_at": utc_now(),
                "scheme": {"name": self.scheme.name, "version": self.scheme.version},
                "embedder": self.embedder,
                "features": {
                    "documents": "mean+max of passage vectors, TF-IDF of stems",
                    "sustainability": "signal presence, category counts, domain.md 4.4 rule, document",
                },
                "heads": described,
                "metrics": self.metrics,
                "training": self.training,
                "libraries": {"inovasi-nlp": __version__, "numpy": np.__version__},
                "checksums": {
                    **{info["file"]: sha256_file(tmp / info["file"]) for info in described.values()},
                    **({"vocabulary.json": sha256_file(tmp / "vocabulary.json")} if self.lexical is not None else {}),
                },
            }
            write_json_atomic(tmp / "manifest.json", manifest)
            if folder.exists():
                old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
                os.replace(folder, old)
                os.replace(tmp, folder)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, folder)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, folder: str | Path | None = None) -> Classifier:
        """Load a classifier folder; None loads the default trained classifier shipped with the package."""
        if folder is None:
            with resources.as_file(resources.files("nlp") / "data" / "classifier") as packaged:
                return cls._load(Path(packaged))
        return cls._load(Path(folder))

    @classmethod
    def _load(cls, folder: Path) -> Classifier:
        path = folder / "manifest.json"
        if not path.exists():
            raise ClassifierError(
                f"{folder}: not a classifier folder (no manifest.json); train one with "
                "'inovasi train ... --output DIR' or leave out --classifier to use the shipped one"
            )
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise ClassifierError(f"{path}: unreadable ({exc}); retrain with 'inovasi train'") from exc
        if manifest.get("format") != FORMAT_NAME:
            raise ClassifierError(f"{folder}: not an inovasi classifier (format {manifest.get('format')!r})")
        if int(manifest.get("format_version", 0)) > FORMAT_VERSION:
            raise ClassifierError(
                f"{folder}: classifier format {manifest['format_version']} is newer than this inovasi-nlp reads "
                f"({FORMAT_VERSION}); upgrade with 'pip install -U inovasi-nlp'"
            )
        scheme = load_scheme(int(manifest["scheme"]["version"]))
        heads: dict[str, Any] = {}
        for name in HEAD_FILES:
            info = manifest["heads"][name]
            file = folder / info["file"]
            if not file.exists() or sha256_file(file) != manifest["checksums"].get(info["file"]):
                raise ClassifierError(f"{file}: missing or altered (checksum differs); retrain or restore the folder")
            with np.load(file, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            head_cls = MultiLabelHead if info["kind"] == "multi-label" else SoftmaxHead
            heads[name] = head_cls.from_arrays(info["labels"], arrays)
        tagger = None
        if "signals" in manifest["heads"]:
            from nlp.classify.evidence import SignalTagger

            info = manifest["heads"]["signals"]
            file = folder / info["file"]
            if not file.exists() or sha256_file(file) != manifest["checksums"].get(info["file"]):
                raise ClassifierError(f"{file}: missing or altered (checksum differs); retrain or restore the folder")
            with np.load(file, allow_pickle=False) as data:
                tagger = SignalTagger.from_arrays(info["labels"], {k: data[k] for k in data.files})
        lexical = None
        if "lexical" in manifest["heads"]:
            from nlp.classify.features import LexicalFeatures

            for name in ("lexical.npz", "vocabulary.json"):
                if not (folder / name).exists() or sha256_file(folder / name) != manifest["checksums"].get(name):
                    raise ClassifierError(f"{folder / name}: missing or altered (checksum differs); retrain or restore")
            with np.load(folder / "lexical.npz", allow_pickle=False) as data:
                idf = data["idf"]
            vocabulary = json.loads((folder / "vocabulary.json").read_text(encoding="utf-8"))
            lexical = LexicalFeatures(vocabulary, idf)
        return cls(
            scheme=scheme,
            embedder=manifest["embedder"],
            metrics=manifest.get("metrics", {}),
            training=manifest.get("training", {}),
            tagger=tagger,
            lexical=lexical,
            **heads,
        )

    def check_embedder(self, embedder: Any) -> None:
        """Refuse features from an embedder other than the one the heads were trained on."""
        if embedder.name != self.embedder["name"] or embedder.fingerprint() != self.embedder["fingerprint"]:
            raise ClassifierError(
                f"classifier was trained on {self.embedder['name']!r} vectors, not {embedder.name!r}; "
                f"label with --model {self.embedder['name']} or train a classifier for that model"
            )


def _scores(labels: Sequence[str], probs: np.ndarray) -> dict[str, float]:
    return {label: round(float(p), 4) for label, p in zip(labels, probs, strict=True)}


def document_year(doc: AnalysedDocument) -> int | None:
    """The record's ``year`` as an integer (the reference year of the time rule), or None."""
    year = doc.document.meta.get("year") if isinstance(doc.document.meta, dict) else None
    try:
        return int(year) if year is not None else None
    except (TypeError, ValueError):
        return None
