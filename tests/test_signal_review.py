"""The second-annotator agreement in corpora/tools/signal_review.py (guide 4.3, round 4)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "corpora" / "tools" / "signal_review.py"
DOC = "mix-020"


def _gold_tags() -> list[dict]:
    from nlp.classify.training import locate_sentence
    from nlp.text import normalise, split_sentences

    record = next(
        json.loads(line)
        for path in sorted((ROOT / "corpora" / "labels").glob("*.labels.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["id"] == DOC
    )
    raw = next(
        json.loads(line)["text"]
        for path in sorted((ROOT / "corpora" / "sample").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip() and json.loads(line)["id"] == DOC
    )
    text = normalise(raw)
    sentences = split_sentences(text)
    tags = []
    for g in record["signals"]:
        start, end = locate_sentence(text, g["sentence"])
        s = next(k for k, sent in enumerate(sentences) if sent.start < end and start < sent.end)
        tags.append({"id": DOC, "s": s, "signal": g["signal"]})
    return tags


def _run(tmp_path: Path, tags: list[dict]) -> tuple[str, list[dict]]:
    second = tmp_path / "second.jsonl"
    second.write_text("".join(json.dumps(t) + "\n" for t in tags), encoding="utf-8")
    out = tmp_path / "review"
    done = subprocess.run(
        [sys.executable, str(TOOL), "export-second", str(out), str(second)], capture_output=True, text=True, check=True
    )
    items = [json.loads(line) for path in sorted(out.glob("*.jsonl")) for line in path.read_text().splitlines()]
    return done.stderr, items


def test_a_second_annotation_equal_to_the_gold_agrees_fully(tmp_path: Path) -> None:
    stderr, items = _run(tmp_path, _gold_tags())
    assert items == []
    assert "ALL" in stderr and "F1 1.000" in stderr.splitlines()[-2]


def test_disagreements_are_listed_both_ways(tmp_path: Path) -> None:
    tags = _gold_tags()
    dropped = tags.pop(0)
    extra = {"id": DOC, "s": 0, "signal": "hki"}  # the headline never states a registered trademark
    _, items = _run(tmp_path, [*tags, extra])
    kinds = sorted((item["kind"], item["signal"]) for item in items)
    assert kinds == sorted([("gold_only", dropped["signal"]), ("second_only", "hki")])
    second_only = next(item for item in items if item["kind"] == "second_only")
    assert second_only["s"] == 0 and second_only["key"].startswith(f"{DOC}#b")


def test_a_document_read_as_empty_turns_all_its_gold_into_disagreements(tmp_path: Path) -> None:
    gold = _gold_tags()
    _, items = _run(tmp_path, [{"id": DOC, "signal": None}])
    assert len(items) == len(gold) and {item["kind"] for item in items} == {"gold_only"}
