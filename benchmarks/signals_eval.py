"""Evidence-signal quality against the gold labels: precision, recall and F1 per signal, train and dev.

Usage::

    python benchmarks/signals_eval.py [--split train|dev|both] [--tagger [--vectors]] [--gold-gate]
                                      [--errors] [--signal ID] [--max-per-signal N] [--no-meta-year]
                                      [--json out.json]

Documents come from ``corpora/sample`` (JSONL records and the rendered PDF/DOCX
files, whose ids are ``files/<name>``) and ``corpora/labelled``; gold labels
from ``corpora/labels/*.labels.jsonl`` (records ``{"id", ..., "signals":
[{"signal", "polarity", "sentence"}]}``). Every text is normalised with
``nlp.text.normalise``; gold sentences, exact substrings of the raw text, are
located again in the normalised text with whitespace made uniform.

Scores are micro-averaged over (document, signal, sentence) triples: a
predicted signal matches a gold one with the same id whose sentence span
overlaps it, one to one. The split is fixed for the whole project: a document
is in dev iff ``int(sha256(id).hexdigest(), 16) % 5 == 0``, else train. Tune
cue patterns by reading train errors only (``--errors`` never prints dev
errors); dev is for reporting.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
_SPACE = re.compile(r"\s+")
NOT_INNOVATIONS: set[str] = set()  # filled by load_corpus from the gold labels


def split_of(doc_id: str) -> str:
    """The project's fixed split: 'dev' for one document in five (by sha256 of the id), else 'train'."""
    return "dev" if int(hashlib.sha256(doc_id.encode("utf-8")).hexdigest(), 16) % 5 == 0 else "train"


@dataclass(frozen=True)
class GoldSignal:
    signal: str
    start: int
    end: int
    sentence: str


def _squeeze(text: str) -> tuple[str, list[int]]:
    """Text with every whitespace run made one space, and each kept character's offset in the original."""
    out: list[str] = []
    offsets: list[int] = []
    previous_space = False
    for i, ch in enumerate(text):
        if ch.isspace():
            if previous_space:
                continue
            out.append(" ")
            previous_space = True
        else:
            out.append(ch)
            previous_space = False
        offsets.append(i)
    return "".join(out), offsets


def locate(sentence: str, squeezed: str, offsets: list[int], normalise: Callable[[str], str]) -> tuple[int, int] | None:
    """Offsets of a gold sentence in the normalised text, ignoring whitespace differences; None if absent."""
    candidates = [sentence, normalise(sentence)]
    for candidate in candidates:
        needle = _SPACE.sub(" ", candidate).strip()
        if not needle:
            continue
        at = squeezed.find(needle)
        if at >= 0:
            return offsets[at], offsets[at + len(needle) - 1] + 1
    # A sentence cut by a page break or a dropped noise line: anchor its first and last words.
    needle = _SPACE.sub(" ", candidates[1]).strip()
    head, tail = needle[:40], needle[-40:]
    at = squeezed.find(head)
    if at >= 0:
        end = squeezed.find(tail, at)
        if 0 <= end - at < len(needle) + 200:
            return offsets[at], offsets[end + len(tail) - 1] + 1
    return None


def load_corpus() -> tuple[dict[str, str], dict[str, int | None], dict[str, list[GoldSignal]], list[str]]:
    """Normalised texts, metadata years and located gold signals by document id, plus problems found."""
    from nlp.ingest import Document, iter_documents
    from nlp.text import normalise

    texts: dict[str, str] = {}
    years: dict[str, int | None] = {}
    problems: list[str] = []
    sources = [ROOT / "corpora" / "sample", ROOT / "corpora" / "labelled"]
    for item in iter_documents([str(path) for path in sources if path.exists()]):
        if not isinstance(item, Document):
            problems.append(f"skipped {item.path}: {item.reason}")
            continue
        texts[item.id] = normalise(item.text)
        year = item.meta.get("year")
        years[item.id] = year if isinstance(year, int) else None
    gold: dict[str, list[GoldSignal]] = {}
    for path in sorted((ROOT / "corpora" / "labels").glob("*.labels.jsonl")):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            record = json.loads(line)
            doc_id = record["id"]
            if doc_id not in texts:
                problems.append(f"{path.name}:{number}: no document with id {doc_id!r}")
                continue
            squeezed, offsets = _squeeze(texts[doc_id])
            located = []
            for item in record.get("signals", []):
                span = locate(item["sentence"], squeezed, offsets, normalise)
                if span is None:
                    problems.append(f"{doc_id}: gold sentence not found: {item['sentence'][:70]!r}")
                    continue
                located.append(GoldSignal(item["signal"], span[0], span[1], item["sentence"]))
            gold[doc_id] = located
            if not record.get("is_innovation", True):
                NOT_INNOVATIONS.add(doc_id)
    return texts, years, gold, problems


def match(predicted: list[tuple[str, int, int, str]], gold: list[GoldSignal]) -> tuple[list, list, list]:
    """One-to-one matching of predicted and gold signals of one document (same id, overlapping spans)."""
    used: set[int] = set()
    tp, fp = [], []
    for signal, start, end, sentence in predicted:
        hit = None
        for i, g in enumerate(gold):
            if i not in used and g.signal == signal and start < g.end and g.start < end:
                hit = i
                break
        if hit is None:
            fp.append((signal, sentence))
        else:
            used.add(hit)
            tp.append((signal, sentence))
    fn = [(g.signal, g.sentence) for i, g in enumerate(gold) if i not in used]
    return tp, fp, fn


def tagger_predictions(
    texts: dict[str, str],
    years: dict[str, int | None],
    gold: dict[str, list[GoldSignal]],
    embed: Callable[[list[str]], object] | None = None,
) -> dict[str, list[tuple[str, int, int, str]]]:
    """The tagger's signals per document: out-of-fold for train documents, from a train-fitted tagger for dev.

    ``embed`` (sentence texts -> unit e5 vectors) adds the second pass, as ``inovasi train`` does.
    """
    from nlp.classify.evidence import fit_tagger
    from nlp.classify.scheme import load_scheme
    from nlp.classify.signals import find_signals
    from nlp.text import split_sentences

    signal_ids = load_scheme().signal_ids
    ids = sorted(gold)
    sentences = {i: split_sentences(texts[i]) for i in ids}
    found = {i: find_signals(texts[i], sentences[i], reference_year=years.get(i)) for i in ids}
    train = [i for i in ids if split_of(i) == "train" and i not in NOT_INNOVATIONS]  # as fit_classifier does
    dev = [i for i in ids if split_of(i) == "dev"]
    tagger, oof = fit_tagger(
        [texts[i] for i in train],
        [sentences[i] for i in train],
        [found[i] for i in train],
        [[(g.signal, g.start, g.end) for g in gold[i]] for i in train],
        signal_ids,
        embed=embed,
    )
    out: dict[str, list[tuple[str, int, int, str]]] = {}
    for i, tags in zip(train, oof, strict=True):
        out[i] = [(sig, sentences[i][k].start, sentences[i][k].end, sentences[i][k].text) for k, sig in tags]
    for i in ids:
        out.setdefault(i, [])  # train non-innovations: the is_innovation gate removes their signals
    for i in dev:
        tags = tagger.tag(texts[i], sentences[i], found[i], embed)
        out[i] = [(sig, sentences[i][k].start, sentences[i][k].end, sentences[i][k].text) for k, sig, _ in tags]
    return out


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "tp": tp, "fp": fp, "fn": fn}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["train", "dev", "both"], default="both")
    parser.add_argument("--errors", action="store_true", help="print train false positives and negatives")
    parser.add_argument("--signal", help="only show errors for this signal id")
    parser.add_argument("--max-per-signal", type=int, default=None, help="cap sentences per signal per document")
    parser.add_argument("--no-meta-year", action="store_true", help="do not pass the record's year as reference_year")
    parser.add_argument("--json", dest="json_out", help="write results as JSON here")
    parser.add_argument(
        "--tagger",
        action="store_true",
        help="score the learned sentence tagger instead of the rules: out-of-fold on train, fitted on train for dev",
    )
    parser.add_argument(
        "--vectors",
        action="store_true",
        help="with --tagger: add the second pass over e5 sentence vectors (cached under INOVASI_CACHE)",
    )
    parser.add_argument(
        "--gold-gate",
        action="store_true",
        help="drop predictions on documents the gold calls non-innovations (a perfect is_innovation gate)",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from nlp.classify.signals import find_signals
    from nlp.text import split_sentences

    texts, years, gold, problems = load_corpus()
    for problem in problems:
        print("note:", problem, file=sys.stderr)
    splits = ["train", "dev"] if args.split == "both" else [args.split]

    find_signals("Layanan ini dianggarkan setiap tahun.")  # compile the matcher outside the timing
    tagged: dict[str, list[tuple[str, int, int, str]]] = {}
    if args.tagger:
        embed = None
        if args.vectors:
            from nlp.embed import load_embedder
            from nlp.embed.cache import CachedEmbedder

            embed = CachedEmbedder(load_embedder("e5-small")).embed_passages
        tagged = tagger_predictions(texts, years, gold, embed)
    counts = {split: defaultdict(Counter) for split in splits}
    errors: list[str] = []
    elapsed = 0.0
    n_docs = 0
    n_chars = 0
    for doc_id in sorted(gold):
        split = split_of(doc_id)
        if split not in splits:
            continue
        text = texts[doc_id]
        started = time.perf_counter()
        sentences = split_sentences(text)
        found = find_signals(
            text,
            sentences,
            reference_year=None if args.no_meta_year else years.get(doc_id),
            max_per_signal=args.max_per_signal,
        )
        elapsed += time.perf_counter() - started
        n_docs += 1
        n_chars += len(text)
        predicted = tagged[doc_id] if args.tagger else [(s.signal, s.start, s.end, s.sentence) for s in found]
        if args.gold_gate and doc_id in NOT_INNOVATIONS:
            predicted = []
        tp, fp, fn = match(predicted, gold[doc_id])
        for kind, items in (("tp", tp), ("fp", fp), ("fn", fn)):
            for signal, sentence in items:
                counts[split][signal][kind] += 1
                if args.errors and split == "train" and kind != "tp" and args.signal in (None, signal):
                    errors.append(f"{kind.upper()} {signal:26s} {doc_id:12s} {' '.join(sentence.split())[:220]}")

    results: dict[str, object] = {
        "documents": n_docs,
        "docs_per_second": round(n_docs / elapsed, 1) if elapsed else None,
    }
    for split in splits:
        per_signal = {signal: prf(c["tp"], c["fp"], c["fn"]) for signal, c in sorted(counts[split].items())}
        total = Counter()
        for c in counts[split].values():
            total.update(c)
        results[split] = {"overall": prf(total["tp"], total["fp"], total["fn"]), "per_signal": per_signal}

    if errors:
        print("\n".join(sorted(errors)))
        print()
    for split in splits:
        block = results[split]
        overall = block["overall"]  # type: ignore[index]
        print(
            f"== {split}: P {overall['precision']:.3f}  R {overall['recall']:.3f}  F1 {overall['f1']:.3f}"
            f"  (tp {overall['tp']}, fp {overall['fp']}, fn {overall['fn']})"
        )
        for signal, row in block["per_signal"].items():  # type: ignore[index]
            print(
                f"   {signal:26s} P {row['precision']:.2f}  R {row['recall']:.2f}  F1 {row['f1']:.2f}"
                f"   tp {row['tp']:3d} fp {row['fp']:3d} fn {row['fn']:3d}"
            )
    print(
        f"speed: {n_docs} documents ({n_chars / 1000:.0f}k characters) in {elapsed:.2f}s = "
        f"{results['docs_per_second']} docs/s (sentence splitting included)"
    )
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
