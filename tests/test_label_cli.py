"""`inovasi labels | train | label | evaluate | report` through the CLI (hashing embedder for speed)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlp.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "corpora" / "sample"
LABELS = ROOT / "corpora" / "labels"


def run(*args: object):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def hash_classifier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A classifier trained on the sample corpus with the hashing embedder (fast, not for quality)."""
    folder = tmp_path_factory.mktemp("clf") / "hash-classifier"
    result = run("train", SAMPLE, "--labels", LABELS, "--output", folder, "--model", "hash-test.v1", "-q")
    assert result.exit_code == 0, result.output
    assert "trained on" in result.output
    return folder


@pytest.fixture()
def archive(tmp_path: Path) -> Path:
    """Forty sample records plus one broken file."""
    folder = tmp_path / "arsip"
    folder.mkdir()
    lines = (SAMPLE / "part-a.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    (folder / "laporan.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "rusak.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    return folder


def test_labels_lists_the_scheme():
    result = run("labels")
    assert result.exit_code == 0
    for word in ("customer_centricity", "pp38_form", "tata_kelola", "tanpa_regulasi", "berjalan_bertahun"):
        assert word in result.output
    scheme = json.loads(run("labels", "--json").output)
    assert scheme["version"] == 1


def test_label_jsonl_has_the_documented_fields(hash_classifier: Path, archive: Path, tmp_path: Path):
    out = tmp_path / "labels.jsonl"
    result = run("label", archive, "--classifier", hash_classifier, "--model", "hash-test.v1", "-o", out, "-q")
    assert result.exit_code == 0, result.output
    assert "rusak.pdf" in result.output and "1 skipped" in result.output
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 40
    keys = {
        "id",
        "source",
        "is_innovation",
        "innovation_score",
        "trends",
        "trend_scores",
        "pp38_objectives",
        "pp38_objective_scores",
        "pp38_form",
        "pp38_form_scores",
        "sustainability",
        "sustainability_scores",
        "signals",
        "model",
    }
    for r in records:
        assert keys <= set(r)
        if not r["is_innovation"]:
            assert r["trends"] == [] and r["pp38_objectives"] == [] and r["pp38_form"] == "none"
            assert r["sustainability"] == "unclear" and r["signals"] == []
        else:
            assert r["pp38_objectives"] and r["pp38_form"] in ("tata_kelola", "pelayanan_publik", "lainnya")
        for s in r["signals"]:
            assert {"signal", "polarity", "sentence", "start", "end"} <= set(s)


def test_signal_offsets_point_into_the_document(hash_classifier: Path, archive: Path, tmp_path: Path):
    from nlp.text import normalise

    out = tmp_path / "labels.jsonl"
    run("label", archive, "--classifier", hash_classifier, "--model", "hash-test.v1", "-o", out, "-q")
    texts = {
        json.loads(x)["id"]: normalise(json.loads(x)["text"])
        for x in (archive / "laporan.jsonl").read_text(encoding="utf-8").splitlines()
    }
    checked = 0
    for line in out.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        for s in r["signals"]:
            assert texts[r["id"]][s["start"] : s["end"]] == s["sentence"]
            checked += 1
    assert checked > 0


def test_label_csv_and_table(hash_classifier: Path, archive: Path, tmp_path: Path):
    out = tmp_path / "labels.csv"
    assert (
        run(
            "label",
            archive,
            "--classifier",
            hash_classifier,
            "--model",
            "hash-test.v1",
            "-o",
            out,
            "--format",
            "csv",
            "-q",
        ).exit_code
        == 0
    )
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert len(rows) == 40 and {"id", "trends", "pp38_form", "sustainability", "signals"} <= set(rows[0])
    table = run(
        "label",
        archive / "laporan.jsonl",
        "--classifier",
        hash_classifier,
        "--model",
        "hash-test.v1",
        "--format",
        "table",
    )
    assert table.exit_code == 0 and "brt-001" in table.output


def test_resume_after_a_kill_writes_every_document_once(hash_classifier: Path, tmp_path: Path):
    folder = tmp_path / "besar"
    folder.mkdir()
    lines = []
    for part in ("a", "b", "c", "d"):
        lines += (SAMPLE / f"part-{part}.jsonl").read_text(encoding="utf-8").splitlines()
    (folder / "semua.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "labels.jsonl"
    command = [
        sys.executable,
        "-m",
        "nlp",
        "label",
        str(folder),
        "--classifier",
        str(hash_classifier),
        "--model",
        "hash-test.v1",
        "-o",
        str(out),
        "-q",
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    deadline = time.time() + 120
    while time.time() < deadline and (not out.exists() or out.stat().st_size < 20_000):
        time.sleep(0.2)
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = out.read_text(encoding="utf-8").count("\n")
    assert 0 < partial < len(lines), "the kill landed mid-run"
    with open(out, "a", encoding="utf-8") as handle:
        handle.write('{"id": "half a li')  # what a kill in the middle of a write leaves
    result = subprocess.run([*command, "--resume"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    ids = [json.loads(line)["id"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(ids) == len(set(ids)) == len(lines)


def test_label_refuses_to_overwrite_and_resume_needs_output(hash_classifier: Path, archive: Path, tmp_path: Path):
    out = tmp_path / "labels.jsonl"
    out.write_text("", encoding="utf-8")
    result = CliRunner().invoke(
        main, ["label", str(archive), "--classifier", str(hash_classifier), "--model", "hash-test.v1", "-o", str(out)]
    )
    assert result.exit_code == 2 and "--resume" in result.output
    result = CliRunner().invoke(main, ["label", str(archive), "--resume"])
    assert result.exit_code == 2 and "--output" in result.output


def test_label_with_index_reuses_vectors(hash_classifier: Path, archive: Path, tmp_path: Path):
    index = tmp_path / "idx"
    assert run("index", "build", archive, "--index", index, "--model", "hash-test.v1", "-q").exit_code == 0
    result = run(
        "label",
        archive,
        "--index",
        index,
        "--classifier",
        hash_classifier,
        "--model",
        "hash-test.v1",
        "-o",
        tmp_path / "l.jsonl",
        "-q",
    )
    assert result.exit_code == 0
    # the index's passage vectors are reused; only the tagger's second pass embeds (sentences, counted apart)
    assert "0 passages embedded" in result.output and "evidence sentences embedded" in result.output


def test_evaluate_reports_every_family(hash_classifier: Path):
    result = run("evaluate", SAMPLE, "--labels", LABELS, "--classifier", hash_classifier, "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output)
    for family in ("is_innovation", "trends", "pp38_objectives", "pp38_form", "sustainability"):
        assert 0 <= metrics[family]["macro_f1"] <= 1
    assert "confusion" in metrics["sustainability"]
    assert 0 <= metrics["signals"]["f1"] <= 1 and "ece" in metrics["calibration"]
    assert 0 <= metrics["signals"]["by_document"]["f1"] <= 1
    table = run("evaluate", SAMPLE, "--labels", LABELS, "--classifier", hash_classifier, "-q")
    assert "macro-F1" in table.output and "confusion" in table.output and "per document" in table.output


def test_train_gives_the_same_classifier_whatever_the_order_of_the_sources(hash_classifier: Path, tmp_path: Path):
    # folds, shuffles and the neighbour bank used to follow the order documents were read in;
    # here the same documents, under the same ids, are read in the reverse order
    backwards = tmp_path / "sample"
    shutil.copytree(SAMPLE / "files", backwards / "files")
    parts = sorted(SAMPLE.glob("part-*.jsonl"))
    for source, target in zip(parts, reversed(parts), strict=True):
        lines = source.read_text(encoding="utf-8").splitlines()
        (backwards / target.name).write_text("\n".join(reversed(lines)) + "\n", encoding="utf-8")
    folder = tmp_path / "backwards"
    result = run("train", backwards, "--labels", LABELS, "-o", folder, "--model", "hash-test.v1", "-q")
    assert result.exit_code == 0, result.output
    manifests = [json.loads((f / "manifest.json").read_text(encoding="utf-8")) for f in (hash_classifier, folder)]
    assert manifests[0]["training"]["train_documents"] == manifests[1]["training"]["train_documents"] > 0
    arrays = sorted(p.name for p in hash_classifier.glob("*.npz"))
    assert arrays and arrays == sorted(p.name for p in folder.glob("*.npz"))
    for name in arrays:
        assert (folder / name).read_bytes() == (hash_classifier / name).read_bytes(), name


def test_report_is_written(hash_classifier: Path, archive: Path, tmp_path: Path):
    labels = tmp_path / "labels.jsonl"
    run("label", archive, "--classifier", hash_classifier, "--model", "hash-test.v1", "-o", labels, "-q")
    html = tmp_path / "laporan.html"
    result = run("report", labels, "--output", html)
    assert result.exit_code == 0 and html.exists()
    assert "<svg" in html.read_text(encoding="utf-8")


def test_classifier_for_another_model_is_refused(hash_classifier: Path, archive: Path):
    result = CliRunner().invoke(
        main, ["label", str(archive), "--classifier", str(hash_classifier), "--model", "e5-small"]
    )
    assert result.exit_code == 1 and "hash-test.v1" in result.output and "Traceback" not in result.output
