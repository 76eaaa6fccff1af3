"""Adjudicate evidence-signal disagreements between the gold labels and the cue rules.

The labelling guide asks for every sentence that shows a signal, but the first
annotation pass often tagged only one sentence per signal. This tool lists the
disagreements for a human (or second annotator) to decide, and applies the
decisions back to ``corpora/labels``:

    python corpora/tools/signal_review.py export OUT_DIR   # one review sheet per label file
    python corpora/tools/signal_review.py export-tagger OUT_DIR DECIDED...  # second round: the tagger's disagreements
    python corpora/tools/signal_review.py export-second OUT_DIR SECOND...  # blind second annotation vs the gold
    python corpora/tools/signal_review.py show DOC_ID       # a document, sentence by sentence
    python corpora/tools/signal_review.py apply DECISIONS.jsonl...   # update corpora/labels

A review item is either ``rule_only`` (the rules found a signal the gold lacks)
or ``gold_only`` (a gold signal the rules missed). A decision is the review
item's JSON line with ``"decision"`` and ``"reason"`` added:

- for ``rule_only``: ``add`` (the sentence shows the signal on its own, per the
  guide), ``add_as:<signal id>`` (it shows another signal) or ``reject``;
- ``extra`` items (key ``<id>#x<n>``) are sentences the reviewer found that
  neither side had, with ``add``;
- for ``gold_only``: ``keep``, ``drop`` (the gold entry breaks the guide) or
  ``relabel:<signal id>``;
- for ``second_only`` (a blind second annotator tagged it, the gold did not):
  ``add`` or ``reject``, like ``rule_only``.

``export-second`` also prints the agreement of the second annotator with the
gold (signal F1 as in section 4.3 of the guide, overall and per signal). The
adjudicator sees each disagreement without being told which side is the gold.

Both kinds are reviewed, so the pass can lower agreement with the rules as
well as raise it. Sentences are written back as exact substrings of the
document text, so ``check_corpus.py`` still holds.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "corpora" / "labels"
SOURCES = [ROOT / "corpora" / "sample", ROOT / "corpora" / "labelled"]
_SPACE = re.compile(r"\s+")
sys.path.insert(0, str(ROOT / "benchmarks"))
from signals_eval import _squeeze  # noqa: E402  (whitespace-insensitive offsets, shared with the scorer)


def locate_raw(sentence: str, raw: str) -> str | None:
    """The exact substring of ``raw`` that equals ``sentence`` up to whitespace, or None."""
    squeezed, offsets = _squeeze(raw)
    needle = _SPACE.sub(" ", sentence).strip()
    if not needle:
        return None
    at = squeezed.find(needle)
    if at < 0:
        return None
    return raw[offsets[at] : offsets[at + len(needle) - 1] + 1]


def load_documents() -> dict[str, tuple[str, int | None, str]]:
    """Raw text, metadata year and title by document id."""
    sys.path.insert(0, str(ROOT))
    from nlp.ingest import Document, iter_documents

    docs: dict[str, tuple[str, int | None, str]] = {}
    for item in iter_documents([str(path) for path in SOURCES if path.exists()]):
        if isinstance(item, Document):
            year = item.meta.get("year")
            docs[item.id] = (item.text, year if isinstance(year, int) else None, item.title or "")
    return docs


def load_labels() -> dict[str, tuple[str, dict]]:
    """Each gold record by document id, with the name of the label file that holds it."""
    labels = {}
    for path in sorted(LABELS.glob("*.labels.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                labels[record["id"]] = (path.name, record)
    return labels


def split_of(doc_id: str) -> str:
    sys.path.insert(0, str(ROOT))
    from nlp.classify.corpus import is_dev

    return "dev" if is_dev(doc_id) else "train"


def gold_only_item(doc_id: str, key: str, signal: str, polarity: str, sentence: str, **extra) -> dict:
    """A review item for a gold signal the other side did not tag (decided with keep / drop / relabel:)."""
    return {
        "key": f"{doc_id}#{key}",
        "kind": "gold_only",
        "id": doc_id,
        "split": split_of(doc_id),
        "signal": signal,
        "polarity": polarity,
        "sentence": sentence,
        **extra,
    }


def export(out_dir: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from nlp.classify.signals import find_signals
    from nlp.classify.training import locate_sentence
    from nlp.text import normalise, split_sentences

    docs = load_documents()
    out_dir.mkdir(parents=True, exist_ok=True)
    totals: dict[str, int] = defaultdict(int)
    for path in sorted(LABELS.glob("*.labels.jsonl")):
        items = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            doc_id = record["id"]
            raw, year, _title = docs[doc_id]
            text = normalise(raw)
            sentences = split_sentences(text)
            found = find_signals(text, sentences, reference_year=year)
            gold = []
            for g in record.get("signals", []):
                span = locate_sentence(text, g["sentence"])
                gold.append((g, span))
            used: set[int] = set()
            counter = 0
            for s in found:
                hit = next(
                    (
                        i
                        for i, (g, span) in enumerate(gold)
                        if i not in used and span and g["signal"] == s.signal and span[0] < s.end and s.start < span[1]
                    ),
                    None,
                )
                if hit is not None:
                    used.add(hit)
                    continue
                sentence = locate_raw(s.sentence, raw)
                if sentence is None:
                    totals["unmappable"] += 1
                    continue
                counter += 1
                items.append(
                    {
                        "key": f"{doc_id}#r{counter}",
                        "kind": "rule_only",
                        "id": doc_id,
                        "split": split_of(doc_id),
                        "signal": s.signal,
                        "polarity": s.polarity,
                        "sentence": sentence,
                        "gold_signals_here": [
                            g["signal"] for g, span in gold if span and span[0] < s.end and s.start < span[1]
                        ],
                    }
                )
            for i, (g, span) in enumerate(gold):
                if i in used:
                    continue
                counter += 1
                rules_here = (
                    sorted({s.signal for s in found if span and s.start < span[1] and span[0] < s.end}) if span else []
                )
                items.append(
                    gold_only_item(
                        doc_id, f"g{counter}", g["signal"], g["polarity"], g["sentence"], rule_signals_here=rules_here
                    )
                )
        for item in items:
            totals[item["kind"]] += 1
        target = out_dir / path.name.replace(".labels.jsonl", ".review.jsonl")
        target.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
        print(f"{target}: {len(items)} items", file=sys.stderr)
    print(dict(totals), file=sys.stderr)
    return 0


def export_tagger(out_dir: Path, decided: list[Path]) -> int:
    """Second round: disagreements between the gold and the learned tagger (rules + sentence model).

    Train documents get out-of-fold predictions and dev documents those of a
    tagger fitted on train, as ``benchmarks/signals_eval.py --tagger`` scores
    them. Items already decided in ``decided`` files (same document, signal
    and sentence) are not asked again.
    """
    from signals_eval import load_corpus, tagger_predictions

    seen = set()
    for path in decided:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                seen.add((row["id"], row["signal"], _SPACE.sub(" ", row["sentence"]).strip()))
    texts, years, gold, _problems = load_corpus()
    predicted = tagger_predictions(texts, years, gold)
    docs = load_documents()
    labels = load_labels()
    by_file: dict[str, list[dict]] = defaultdict(list)
    totals: dict[str, int] = defaultdict(int)
    for doc_id in sorted(gold):
        name, record = labels[doc_id]
        if not record.get("is_innovation", True):
            continue  # the is_innovation gate removes every signal of these
        raw = docs[doc_id][0]
        used: set[int] = set()
        counter = 0
        for signal, start, end, sentence in predicted.get(doc_id, []):
            hit = next(
                (
                    i
                    for i, g in enumerate(gold[doc_id])
                    if i not in used and g.signal == signal and start < g.end and g.start < end
                ),
                None,
            )
            if hit is not None:
                used.add(hit)
                continue
            raw_sentence = locate_raw(sentence, raw)
            if raw_sentence is None or (doc_id, signal, _SPACE.sub(" ", raw_sentence).strip()) in seen:
                totals["skipped"] += 1
                continue
            counter += 1
            polarity = next(s["polarity"] for s in _signal_defs() if s["id"] == signal)
            by_file[name].append(
                {
                    "key": f"{doc_id}#t{counter}",
                    "kind": "rule_only",
                    "id": doc_id,
                    "split": split_of(doc_id),
                    "signal": signal,
                    "polarity": polarity,
                    "sentence": raw_sentence,
                    "gold_signals_here": [g.signal for g in gold[doc_id] if start < g.end and g.start < end],
                }
            )
        for i, g in enumerate(gold[doc_id]):
            if i in used or (doc_id, g.signal, _SPACE.sub(" ", g.sentence).strip()) in seen:
                continue
            counter += 1
            by_file[name].append(
                gold_only_item(
                    doc_id,
                    f"u{counter}",
                    g.signal,
                    next(s["polarity"] for s in _signal_defs() if s["id"] == g.signal),
                    g.sentence,
                    rule_signals_here=sorted(
                        {sig for sig, a, b, _ in predicted.get(doc_id, []) if a < g.end and g.start < b}
                    ),
                )
            )
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, items in sorted(by_file.items()):
        for item in items:
            totals[item["kind"]] += 1
        target = out_dir / name.replace(".labels.jsonl", ".review.jsonl")
        target.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
        print(f"{target}: {len(items)} items", file=sys.stderr)
    print(dict(totals), file=sys.stderr)
    return 0


def export_second(out_dir: Path, second: list[Path]) -> int:
    """A blind second annotation against the gold: agreement, and the disagreements to adjudicate.

    A second annotator's file has one line per tag, ``{"id", "s", "signal"}``,
    where ``s`` numbers the sentences of the normalised text from 0 as
    ``split_sentences`` cuts them (the sheets the annotators were given), and
    ``{"id", "signal": null}`` for a document read that has no signal. Only
    documents named in the file count, so a document annotated as empty still
    turns every gold signal it has into a disagreement.
    """
    sys.path.insert(0, str(ROOT))
    from nlp.classify.training import locate_sentence
    from nlp.text import normalise, split_sentences

    polarity = {s["id"]: s["polarity"] for s in _signal_defs()}
    tags: dict[str, set[tuple[int, str]]] = defaultdict(set)
    for path in second:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if row.get("signal") is None:
                    tags.setdefault(row["id"], set())  # read, nothing tagged
                    continue
                if row["signal"] not in polarity:
                    raise SystemExit(f"{path}:{number}: unknown signal {row['signal']!r}")
                tags[row["id"]].add((int(row["s"]), row["signal"]))
    docs = load_documents()
    labels = load_labels()
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])  # matched, gold only, second only
    by_file: dict[str, list[dict]] = defaultdict(list)
    for doc_id in sorted(tags):
        if doc_id not in labels:
            raise SystemExit(f"second annotation names an unknown document {doc_id!r}")
        name, record = labels[doc_id]
        raw, _year, _title = docs[doc_id]
        text = normalise(raw)
        sentences = split_sentences(text)
        gold = [(g, locate_sentence(text, g["sentence"])) for g in record.get("signals", [])]
        used: set[int] = set()
        counter = 0
        for index, signal in sorted(tags[doc_id]):
            if index >= len(sentences):
                raise SystemExit(f"{doc_id}: sentence {index} does not exist (the text has {len(sentences)})")
            sentence = sentences[index]
            hit = next(
                (
                    i
                    for i, (g, span) in enumerate(gold)
                    if i not in used
                    and span
                    and g["signal"] == signal
                    and span[0] < sentence.end
                    and sentence.start < span[1]
                ),
                None,
            )
            if hit is not None:
                used.add(hit)
                counts[signal][0] += 1
                continue
            counts[signal][2] += 1
            raw_sentence = locate_raw(sentence.text, raw)
            if raw_sentence is None:
                raise SystemExit(f"{doc_id}: sentence {index} cannot be found in the raw text")
            counter += 1
            by_file[name].append(
                {
                    "key": f"{doc_id}#b{counter}",
                    "kind": "second_only",
                    "id": doc_id,
                    "split": split_of(doc_id),
                    "signal": signal,
                    "polarity": polarity[signal],
                    "sentence": raw_sentence,
                    "s": index,
                }
            )
        for i, (g, span) in enumerate(gold):
            if i in used:
                continue
            counts[g["signal"]][1] += 1
            at = next((k for k, s in enumerate(sentences) if span and s.start < span[1] and span[0] < s.end), None)
            counter += 1
            by_file[name].append(gold_only_item(doc_id, f"a{counter}", g["signal"], g["polarity"], g["sentence"], s=at))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, items in sorted(by_file.items()):
        target = out_dir / name.replace(".labels.jsonl", ".review.jsonl")
        target.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
    total = [sum(c[k] for c in counts.values()) for k in range(3)]
    for signal, (m, a, b) in [*sorted(counts.items()), ("ALL", tuple(total))]:
        f1 = 2 * m / max(1, 2 * m + a + b)
        print(f"{signal:28s} matched {m:4d}  gold only {a:4d}  second only {b:4d}  F1 {f1:.3f}", file=sys.stderr)
    print(
        f"{len(tags)} documents; {sum(map(len, by_file.values()))} disagreements written to {out_dir}", file=sys.stderr
    )
    return 0


def _signal_defs() -> list[dict]:
    return json.loads((ROOT / "nlp" / "data" / "scheme-v1.json").read_text(encoding="utf-8"))["signals"]


def show(doc_id: str) -> int:
    sys.path.insert(0, str(ROOT))
    from nlp.text import normalise, split_sentences

    docs = load_documents()
    if doc_id not in docs:
        print(f"no document with id {doc_id!r}", file=sys.stderr)
        return 1
    raw, year, title = docs[doc_id]
    text = normalise(raw)
    print(f"# {doc_id}  year={year}  title={title}")
    for record_path in sorted(LABELS.glob("*.labels.jsonl")):
        for line in record_path.read_text(encoding="utf-8").splitlines():
            if line.strip() and json.loads(line)["id"] == doc_id:
                record = json.loads(line)
                print(
                    f"# gold: innovation={record['is_innovation']} form={record['pp38_form']} "
                    f"sustainability={record['sustainability']}"
                )
                for g in record.get("signals", []):
                    print(f"#   {g['signal']}: {g['sentence'][:160]}")
    for n, sentence in enumerate(split_sentences(text), 1):
        print(f"[{n}] {sentence.text if hasattr(sentence, 'text') else sentence}")
    return 0


def apply(decision_files: list[Path]) -> int:
    sys.path.insert(0, str(ROOT))
    from nlp.classify.scheme import load_scheme

    scheme = load_scheme()
    valid = {s.id: s.polarity for s in scheme.signals}
    docs = load_documents()
    decisions: dict[str, dict] = {}
    for path in decision_files:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.strip():
                row = json.loads(line)
                if "key" not in row or "decision" not in row:
                    raise SystemExit(f"{path}:{number}: needs 'key' and 'decision'")
                if row.get("kind") not in ("rule_only", "gold_only", "extra", "second_only"):
                    raise SystemExit(f"{path}:{number}: a decision is its review item plus 'decision' and 'reason'")
                decisions[row["key"]] = row
    changed = defaultdict(int)
    for path in sorted(LABELS.glob("*.labels.jsonl")):
        records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        touched = False
        for record in records:
            doc_id = record["id"]
            raw = docs[doc_id][0]
            mine = {k: d for k, d in decisions.items() if k.split("#", 1)[0] == doc_id}
            if not mine:
                continue
            signals = list(record.get("signals", []))
            for key, d in sorted(mine.items()):
                item = d
                verdict = d["decision"]
                entry = {"signal": item["signal"], "polarity": item["polarity"], "sentence": item["sentence"]}
                if item["kind"] == "rule_only" and verdict.startswith("add_as:"):
                    new = verdict.split(":", 1)[1]
                    if new not in valid:
                        raise SystemExit(f"decision {key}: unknown signal {new!r}")
                    entry = {**entry, "signal": new, "polarity": valid[new]}
                    verdict = "add"
                if item["kind"] in ("rule_only", "extra", "second_only") and verdict == "add":
                    if item["sentence"] not in raw:
                        raise SystemExit(f"decision {key}: sentence is not in the text of {doc_id}")
                    if entry not in signals:
                        signals.append(entry)
                        changed["added"] += 1
                elif item["kind"] == "gold_only" and verdict == "drop":
                    if entry in signals:
                        signals.remove(entry)
                        changed["dropped"] += 1
                elif item["kind"] == "gold_only" and verdict.startswith("relabel:"):
                    new = verdict.split(":", 1)[1]
                    if new not in valid:
                        raise SystemExit(f"decision {key}: unknown signal {new!r}")
                    if entry in signals:
                        signals[signals.index(entry)] = {**entry, "signal": new, "polarity": valid[new]}
                        changed["relabelled"] += 1
                elif verdict not in ("reject", "keep", "add", "drop") and not verdict.startswith("relabel:"):
                    raise SystemExit(f"decision {key}: unknown decision {verdict!r}")
            signals.sort(key=lambda s: (raw.find(s["sentence"]), s["signal"]))
            if signals != record.get("signals", []):
                record["signals"] = signals
                touched = True
        if touched:
            tmp = path.with_suffix(".tmp")
            tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
            tmp.replace(path)
    print(dict(changed), file=sys.stderr)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export")
    p.add_argument("out_dir", type=Path)
    p = sub.add_parser("export-tagger")
    p.add_argument("out_dir", type=Path)
    p.add_argument("decided", type=Path, nargs="*", help="decision files of earlier rounds: not asked again")
    p = sub.add_parser("export-second")
    p.add_argument("out_dir", type=Path)
    p.add_argument("second", type=Path, nargs="+", help="second-annotator files: {id, s, signal} per line")
    p = sub.add_parser("show")
    p.add_argument("doc_id")
    p = sub.add_parser("apply")
    p.add_argument("decisions", type=Path, nargs="+")
    args = parser.parse_args()
    if args.command == "export":
        return export(args.out_dir)
    if args.command == "export-tagger":
        return export_tagger(args.out_dir, args.decided)
    if args.command == "export-second":
        return export_second(args.out_dir, args.second)
    if args.command == "show":
        return show(args.doc_id)
    return apply(args.decisions)


if __name__ == "__main__":
    raise SystemExit(main())
