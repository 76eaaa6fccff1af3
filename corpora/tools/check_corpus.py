"""Check corpus documents and their gold labels against the label scheme of domain.md.

Usage: python corpora/tools/check_corpus.py corpora/sample/part-a.jsonl corpora/labels/part-a.labels.jsonl
Prints problems (one per line) and a summary of label counts; exits 1 if there are problems.
"""

from __future__ import annotations

import collections
import json
import sys
from pathlib import Path

# Label and signal ids come from the package's label scheme, the one source of truth.
_SCHEME = json.loads((Path(__file__).resolve().parents[2] / "nlp" / "data" / "scheme-v1.json").read_text("utf-8"))
_FAMILIES = {f["id"]: {label["id"] for label in f["labels"]} for f in _SCHEME["families"]}
TRENDS = _FAMILIES["trends"]
OBJECTIVES = _FAMILIES["pp38_objectives"]
FORMS = _FAMILIES["pp38_form"]
SUSTAINABILITY = _FAMILIES["sustainability"]
POSITIVE = {s["id"] for s in _SCHEME["signals"] if s["polarity"] == "positive"}
RISK = {s["id"] for s in _SCHEME["signals"] if s["polarity"] == "risk"}
STYLES = {"berita", "profil_iga", "proposal", "laporan", "ringkasan", "web", "opini", "jurnal", "tabel"}
DOC_FIELDS = {"id", "title", "text", "region", "province", "year", "opd", "style"}


def main(doc_path: str, label_path: str) -> int:
    problems: list[str] = []
    docs = {}
    for n, line in enumerate(open(doc_path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{doc_path}:{n}: not JSON ({exc})")
            continue
        missing = DOC_FIELDS - rec.keys()
        if missing:
            problems.append(f"{doc_path}:{n}: missing fields {sorted(missing)}")
        if rec.get("id") in docs:
            problems.append(f"{doc_path}:{n}: duplicate id {rec.get('id')}")
        if rec.get("style") not in STYLES:
            problems.append(f"{doc_path}:{n}: style {rec.get('style')!r} not in {sorted(STYLES)}")
        docs[rec.get("id")] = rec
    counts: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    words = []
    seen = set()
    for n, line in enumerate(open(label_path, encoding="utf-8"), 1):
        if not line.strip():
            continue
        where = f"{label_path}:{n}"
        lab = json.loads(line)
        doc = docs.get(lab.get("id"))
        if doc is None:
            problems.append(f"{where}: id {lab.get('id')!r} has no document")
            continue
        seen.add(lab["id"])
        text = doc.get("text", "")
        words.append(len(text.split()))
        inn = lab.get("is_innovation")
        if not isinstance(inn, bool):
            problems.append(f"{where}: is_innovation must be true/false")
        for key, allowed in (("trends", TRENDS), ("pp38_objectives", OBJECTIVES)):
            vals = lab.get(key)
            if not isinstance(vals, list) or set(vals) - allowed:
                problems.append(f"{where}: {key} {vals!r} not a list of {sorted(allowed)}")
                continue
            counts[key].update(vals)
        if lab.get("pp38_form") not in FORMS:
            problems.append(f"{where}: pp38_form {lab.get('pp38_form')!r}")
        if lab.get("sustainability") not in SUSTAINABILITY:
            problems.append(f"{where}: sustainability {lab.get('sustainability')!r}")
        counts["pp38_form"][lab.get("pp38_form")] += 1
        counts["sustainability"][lab.get("sustainability")] += 1
        counts["is_innovation"][str(inn)] += 1
        if inn is False and (
            lab.get("trends")
            or lab.get("pp38_objectives")
            or lab.get("pp38_form") != "none"
            or lab.get("sustainability") != "unclear"
            or lab.get("signals")
        ):
            problems.append(f"{where}: a non-innovation needs no trends/objectives/signals, form none, unclear")
        if inn is True and (not lab.get("pp38_objectives") or lab.get("pp38_form") == "none"):
            problems.append(f"{where}: an innovation needs at least one objective and a form other than none")
        for sig in lab.get("signals", []):
            name, pol, sent = sig.get("signal"), sig.get("polarity"), sig.get("sentence", "")
            if (
                (pol == "positive" and name not in POSITIVE)
                or (pol == "risk" and name not in RISK)
                or pol not in ("positive", "risk")
            ):
                problems.append(f"{where}: signal {name!r} with polarity {pol!r} is not in the scheme")
            if not sent or sent not in text:
                problems.append(
                    f"{where}: signal {name!r} sentence is not an exact substring of the text: {sent[:60]!r}"
                )
            counts["signals"][name] += 1
    for missing_id in sorted(set(docs) - seen):
        problems.append(f"{label_path}: no labels for document {missing_id!r}")
    for p in problems:
        print(p)
    print(
        f"{len(docs)} documents, words min {min(words, default=0)} median "
        f"{sorted(words)[len(words) // 2] if words else 0} max {max(words, default=0)}"
    )
    for key, c in counts.items():
        print(f"{key}: {dict(sorted(c.items()))}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
