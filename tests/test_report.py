"""The HTML report: reading label files, aggregates, escaping, atomic writes, and the page in a real browser."""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from nlp.errors import SourceError
from nlp.report import build_report, read_label_records, write_report

# --------------------------------------------------------------------------- data

# Each payload, if it ever became markup or script, would mark the page (title or a data-pwned attribute).
XSS_TITLE = "<script>document.title='PWNED'</script>"
XSS_REGION = "\"><img src=x onerror=\"document.body.setAttribute('data-pwned','region')\">"
XSS_OPD = "</script><script>document.body.setAttribute('data-pwned','opd')</script>"
XSS_SENTENCE = "<img src=x onerror=alert(1)> Honor operator <b>belum dibayar</b>."
XSS_SIGNAL = "<svg onload=\"document.body.setAttribute('data-pwned','signal')\">"
XSS_ID = "xss-'\"><i>id</i>"
XSS_TREND = '"><script>document.body.setAttribute("data-pwned","trend")</script>'
XSS_PAYLOADS = (XSS_TITLE, XSS_REGION, XSS_OPD, XSS_SENTENCE, XSS_SIGNAL, XSS_ID, XSS_TREND)


def make_record(doc_id: str, **fields: Any) -> dict[str, Any]:
    """A label record as `inovasi label` writes it, with neutral defaults."""
    record: dict[str, Any] = {
        "id": doc_id,
        "source": f"arsip/{doc_id}.jsonl",
        "title": f"Inovasi {doc_id}",
        "meta": {"region": "Kabupaten Sukamaju", "year": 2023, "opd": "Dinas Kesehatan"},
        "is_innovation": True,
        "innovation_score": 0.9,
        "trends": ["customer_centricity"],
        "trend_scores": {"customer_centricity": 0.8, "sharing_economy": 0.1, "industry_4_0": 0.2},
        "pp38_objectives": ["pelayanan_publik"],
        "pp38_objective_scores": {"pelayanan_publik": 0.9},
        "pp38_form": "pelayanan_publik",
        "pp38_form_scores": {"pelayanan_publik": 0.8},
        "sustainability": "unclear",
        "sustainability_scores": {"sustained": 0.3, "at_risk": 0.2, "unclear": 0.5},
        "signals": [],
        "model": {"name": "uji-label.v1"},
    }
    record.update(fields)
    return record


def risk(signal: str, sentence: str) -> dict[str, Any]:
    return {"signal": signal, "polarity": "risk", "sentence": sentence, "start": 0, "end": len(sentence)}


@pytest.fixture()
def records() -> list[dict[str, Any]]:
    """Six documents: five innovations (one at risk twice over) and one news item that is not an innovation."""
    return [
        make_record(
            "jemput-001",
            title="Jemput Bola Adminduk Keliling Desa",
            meta={"region": "Kabupaten Sukamaju", "year": 2022, "opd": "Disdukcapil"},
            trends=["customer_centricity", "industry_4_0"],
            sustainability="sustained",
            sustainability_scores={"sustained": 0.8, "at_risk": 0.05, "unclear": 0.15},
            signals=[
                {
                    "signal": "regulasi",
                    "polarity": "positive",
                    "sentence": "Layanan ditetapkan dengan Perbup Nomor 12 Tahun 2019.",
                    "start": 0,
                    "end": 10,
                }
            ],
        ),
        make_record(
            "kader-002",
            title="Posyandu Kader Mandiri",
            meta={"region": "Kota Rantau", "year": 2023, "opd": "Dinas Kesehatan"},
            trends=["sharing_economy"],
            pp38_objectives=["pemberdayaan_masyarakat"],
            pp38_form="lainnya",
            sustainability="at_risk",
            sustainability_scores={"sustained": 0.05, "at_risk": 0.91, "unclear": 0.04},
            signals=[risk("tanpa_anggaran", "Honor kader belum dibayar sejak Januari.")],
        ),
        make_record(
            "pasar-003",
            title="Aplikasi Pasar Daring",
            meta={"region": "Kota Rantau", "year": "2023-08-01", "opd": "Dinas Perdagangan"},
            trends=["industry_4_0"],
            pp38_objectives=["daya_saing_daerah"],
            pp38_form="tata_kelola",
            sustainability="at_risk",
            sustainability_scores={"sustained": 0.1, "at_risk": 0.55, "unclear": 0.35},
            signals=[risk("uji_coba", "Aplikasi masih uji coba di dua kecamatan.")],
        ),
        make_record("antre-004", title="Antrean Puskesmas Tanpa Tatap Muka", meta={"region": "Kabupaten Sukamaju"}),
        make_record(
            "berita-005",
            title="Upacara Penyerahan Penghargaan Inovasi",
            is_innovation=False,
            innovation_score=0.08,
            trends=[],
            pp38_objectives=[],
            pp38_form="none",
        ),
        make_record("tanpa-meta-006", title=None, meta=None, innovation_score=None, model=None),
    ]


@pytest.fixture()
def xss_records(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The fixture records plus one whose every text field is an injection attempt."""
    hostile = make_record(
        XSS_ID,
        title=XSS_TITLE,
        source=XSS_OPD,
        meta={"region": XSS_REGION, "year": XSS_TITLE, "opd": XSS_OPD},
        trends=["industry_4_0", XSS_TREND],
        sustainability="at_risk",
        sustainability_scores={"at_risk": 0.99},
        signals=[risk("kendala_teknis", XSS_SENTENCE), risk(XSS_SIGNAL, XSS_TITLE)],
        model={"name": XSS_TITLE},
    )
    return [*records, hostile]


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- page parsing


class _PageParser(HTMLParser):
    """Collects chart bars (by enclosing figure id), headline stats and table rows."""

    def __init__(self) -> None:
        super().__init__()
        self.figure: str | None = None
        self.bars: dict[str, list[dict[str, str]]] = {}
        self.rows: list[dict[str, str]] = []
        self.elements: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.elements.append((tag, values))
        if tag == "figure":
            self.figure = values.get("id")
        elif tag == "rect" and self.figure:
            self.bars.setdefault(self.figure, []).append(values)
        elif tag == "tr" and "data-region" in values:
            self.rows.append(values)

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self.figure = None


def parse_page(page: str) -> _PageParser:
    parser = _PageParser()
    parser.feed(page)
    return parser


def bar_counts(page: str, chart_id: str) -> dict[tuple[str, str], int]:
    """(category, series) -> count for the bars of one chart."""
    bars = parse_page(page).bars.get(chart_id, [])
    return {(bar["data-category"], bar["data-series"]): int(bar["data-count"]) for bar in bars}


def stat(page: str, key: str) -> str:
    match = re.search(rf'data-stat="{key}">.*?<div class="stat-value">([^<]*)</div>', page)
    assert match, f"no headline number {key!r}"
    return match.group(1)


# --------------------------------------------------------------------------- reading


def test_read_label_records_streams_objects_and_skips_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + b'{"id": "a-1"}\n\n   \n{"id": "b-2", "title": "Layanan Keliling"}\n')
    assert [record["id"] for record in read_label_records(path)] == ["a-1", "b-2"]


def test_read_label_records_names_the_bad_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "labels.jsonl", ['{"id": "a-1"}', "", '{"id": "b-2", "title": "Layanan"'])
    with pytest.raises(SourceError) as caught:
        list(read_label_records(path))
    message = str(caught.value)
    assert str(path) in message
    assert "line 3: not JSON" in message
    assert "one JSON object per line" in caught.value.fix


def test_read_label_records_streams_up_to_the_error(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "labels.jsonl", ['{"id": "a-1"}', "bukan json"])
    records = read_label_records(path)
    assert next(records)["id"] == "a-1"
    with pytest.raises(SourceError, match="line 2: not JSON"):
        next(records)


@pytest.mark.parametrize(("line", "found"), [("[1, 2]", "list"), ('"teks"', "str"), ("42", "int")])
def test_read_label_records_rejects_lines_that_are_not_objects(tmp_path: Path, line: str, found: str) -> None:
    path = write_jsonl(tmp_path / "labels.jsonl", ['{"id": "a-1"}', line])
    with pytest.raises(SourceError, match=f"line 2: not a JSON object \\(found {found}\\)"):
        list(read_label_records(path))


def test_read_label_records_rejects_text_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_bytes(b'{"id": "a-1"}\n{"id": "caf\xe9"}\n')
    with pytest.raises(SourceError, match="line 2: not UTF-8"):
        list(read_label_records(path))


def test_read_label_records_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file") as caught:
        read_label_records(tmp_path / "tidak-ada.jsonl")
    assert "inovasi label" in caught.value.fix
    with pytest.raises(SourceError, match="is a folder"):
        read_label_records(tmp_path)


# --------------------------------------------------------------------------- aggregates


def test_headline_numbers(records: list[dict[str, Any]]) -> None:
    page = build_report(records, generated_at="2025-06-01 09:00")
    assert stat(page, "documents") == "6"
    assert stat(page, "innovations") == "5"
    assert stat(page, "at_risk") == "40,0%"  # 2 of 5 innovations
    assert stat(page, "sustained") == "20,0%"  # 1 of 5
    assert "2 dari 5 inovasi" in page
    assert "2025-06-01 09:00" in page


def test_label_charts_count_innovations_only(records: list[dict[str, Any]]) -> None:
    page = build_report(records)
    trends = bar_counts(page, "label-trends")
    assert trends[("Berpusat pada warga (customer centricity)", "trends")] == 3
    assert trends[("Ekonomi berbagi (sharing economy)", "trends")] == 1
    assert trends[("Industri 4.0", "trends")] == 2
    sustainability = bar_counts(page, "label-sustainability")
    assert sustainability[("Berisiko", "sustainability")] == 2
    # The news item's default "unclear" does not count: it is not an innovation.
    assert sustainability[("Belum jelas", "sustainability")] == 2
    form = bar_counts(page, "label-form")
    assert form[("Tata kelola pemerintahan", "form")] == 1
    assert ("Bukan inovasi", "form") not in form
    objectives = bar_counts(page, "label-objectives")
    assert objectives[("Pelayanan publik", "objectives")] == 3


def test_year_charts(records: list[dict[str, Any]]) -> None:
    page = build_report(records)
    trends = bar_counts(page, "year-trends")
    assert trends[("2022", "customer_centricity")] == 1
    assert trends[("2023", "industry_4_0")] == 1  # "2023-08-01" counts as 2023
    assert trends[("t.d.", "customer_centricity")] == 2  # no year in the metadata
    sustainability = bar_counts(page, "year-sustainability")
    assert sustainability[("2023", "at_risk")] == 2


def test_region_charts_group_the_rest_as_lainnya(records: list[dict[str, Any]]) -> None:
    page = build_report(records, top_regions=1)
    trends = bar_counts(page, "region-trends")
    categories = {category for category, _ in trends}
    assert categories == {"Kabupaten Sukamaju", "Lainnya (1 daerah)", "Tanpa daerah"}
    assert trends[("Lainnya (1 daerah)", "sharing_economy")] == 1
    assert trends[("Kabupaten Sukamaju", "customer_centricity")] == 2
    assert bar_counts(page, "region-sustainability")[("Lainnya (1 daerah)", "at_risk")] == 2


def test_at_risk_section_sorted_by_score_and_capped(records: list[dict[str, Any]]) -> None:
    page = build_report(records)
    section = page[page.index('id="berisiko"') : page.index('id="dokumen"')]
    assert section.index("Posyandu Kader Mandiri") < section.index("Aplikasi Pasar Daring")
    assert "Tanpa anggaran" in section
    assert "Honor kader belum dibayar sejak Januari." in section
    assert "Masih uji coba" in section
    assert "Jemput Bola" not in section

    capped = build_report(records, max_at_risk=1)
    section = capped[capped.index('id="berisiko"') : capped.index('id="dokumen"')]
    assert "Posyandu Kader Mandiri" in section
    assert "Aplikasi Pasar Daring" not in section
    assert "Menampilkan 1 dari 2" in section


def test_table_lists_every_document_without_javascript(records: list[dict[str, Any]]) -> None:
    page = build_report(records)
    rows = parse_page(page).rows
    assert len(rows) == len(records)
    assert rows[1]["data-sustainability"] == "at_risk"
    assert rows[1]["data-region"] == "r:Kota Rantau"
    assert rows[0]["data-trends"] == "customer_centricity industry_4_0"
    assert rows[5]["data-region"] == "none"
    # Filters need the script, so they start hidden; the table itself needs nothing.
    assert re.search(r'<div id="doc-controls" class="controls" hidden>', page)
    assert "<noscript>" in page
    assert "(tanpa judul)" in page
    assert "Bukan inovasi" in page


def test_empty_input_gives_a_page() -> None:
    page = build_report([])
    assert stat(page, "documents") == "0"
    assert "Belum ada data." in page
    assert "Tidak ada dokumen." in page


def test_partial_and_odd_records_do_not_break_the_page() -> None:
    odd = [
        {"id": "minimal"},
        {"id": 7, "meta": "bukan objek", "trends": "industry_4_0", "innovation_score": "tinggi"},
        make_record("aneh", trends=["tren_baru"], sustainability="dipantau", title="Judul\x00dengan\ud800 kontrol"),
    ]
    page = build_report(odd)
    assert stat(page, "documents") == "3"
    assert "tren_baru" in page  # an unknown label falls back to its id
    assert "\x00" not in page
    page.encode("utf-8")  # no lone surrogates left


def test_page_loads_nothing_from_outside(records: list[dict[str, Any]]) -> None:
    page = build_report(records)
    assert (
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
        "script-src 'unsafe-inline'; img-src data:" in page
    )
    for tag, attrs in parse_page(page).elements:
        assert "src" not in attrs, tag
        assert not attrs.get("href", "#").startswith(("http", "//")), tag
        assert tag not in ("link", "iframe", "object", "embed", "img")
    assert "url(" not in page
    assert "@import" not in page


# --------------------------------------------------------------------------- escaping


def test_document_text_is_escaped(xss_records: list[dict[str, Any]]) -> None:
    page = build_report(xss_records, title="Laporan <b>uji</b>")
    for payload in XSS_PAYLOADS:
        assert payload not in page, payload
    assert html.escape(XSS_TITLE) in page
    assert html.escape(XSS_SENTENCE) in page
    assert "<title>Laporan &lt;b&gt;uji&lt;/b&gt;</title>" in page
    # The only script and the only markup are ours.
    assert page.count("<script") == 1
    tags = {tag for tag, _ in parse_page(page).elements}
    assert not tags & {"img", "i", "b", "iframe"}
    assert sum(1 for tag, _ in parse_page(page).elements if tag == "svg") >= 12
    hostile_row = parse_page(page).rows[-1]
    assert hostile_row["data-region"] == "r:" + XSS_REGION
    assert hostile_row["data-trends"] == "industry_4_0 " + XSS_TREND


# --------------------------------------------------------------------------- writing


def test_write_report_writes_atomically(tmp_path: Path, records: list[dict[str, Any]]) -> None:
    page = build_report(records)
    output = tmp_path / "laporan.html"
    output.write_text("versi lama", encoding="utf-8")
    write_report(page, output)
    assert output.read_text(encoding="utf-8") == page
    assert [p.name for p in tmp_path.iterdir()] == ["laporan.html"]


def test_write_report_keeps_the_old_file_when_the_write_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "laporan.html"
    output.write_text("versi lama", encoding="utf-8")

    def refuse(src: object, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("nlp.report.os.replace", refuse)
    with pytest.raises(SourceError, match="cannot write the report"):
        write_report("<p>baru</p>", output)
    assert output.read_text(encoding="utf-8") == "versi lama"
    assert [p.name for p in tmp_path.iterdir()] == ["laporan.html"]


def test_write_report_needs_an_existing_folder(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="does not exist") as caught:
        write_report("<p></p>", tmp_path / "belum-ada" / "laporan.html")
    assert "create it first" in caught.value.fix
    with pytest.raises(SourceError, match="is a folder"):
        write_report("<p></p>", tmp_path)


# --------------------------------------------------------------------------- in a real browser


def _find_chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


CHROMIUM = _find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="chromium is not installed (Debian: apt-get install -y chromium); the browser tests need it",
)
# Chromium logs console messages to stderr as "INFO:CONSOLE:<line>]" (older builds: "CONSOLE(<line>)")
# whatever their level, so the level cannot be read back. The page logs nothing by design, so every
# console line counts as a failure: console.error, uncaught exceptions and CSP violations all land here.
_CONSOLE_LINE = re.compile(r"CONSOLE[(:]")
BROWSER_TIMEOUT_S = 60


@dataclass(frozen=True)
class BrowserRun:
    dom: str
    console: list[str]


def run_chromium(page: Path, profile: Path, *options: str) -> BrowserRun:
    """Open ``page`` in headless chromium with ``options`` (e.g. --dump-dom); return the DOM and console lines."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        f"--user-data-dir={profile}",
        "--enable-logging=stderr",
        "--v=0",
        *options,
        page.as_uri(),
    ]
    # Own process group, so a browser stuck on a dialog (an injected alert() that ran) is killed whole.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=BROWSER_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"chromium did not finish in {BROWSER_TIMEOUT_S} s: a script dialog such as alert() blocks it")
    assert process.returncode == 0, stderr[-3000:]
    console = [line for line in stderr.splitlines() if _CONSOLE_LINE.search(line)]
    return BrowserRun(dom=stdout, console=console)


@pytest.fixture()
def xss_page(tmp_path: Path, xss_records: list[dict[str, Any]]) -> Path:
    path = tmp_path / "laporan.html"
    write_report(build_report(xss_records, generated_at="2025-06-01 09:00"), path)
    return path


def _inject(page: Path, script: str, *, before: str = "") -> Path:
    """A copy of ``page`` with ``before`` added ahead of the report's own script and ``script`` after it."""
    text = page.read_text(encoding="utf-8")
    assert text.count("<script>") == 1
    text = text.replace("<script>", f"{before}<script>").replace("</body>", f"{script}</body>")
    copy = page.with_name("uji-" + page.name)
    copy.write_text(text, encoding="utf-8")
    return copy


@needs_chromium
def test_page_runs_cleanly_in_chromium(tmp_path: Path, xss_page: Path) -> None:
    run = run_chromium(xss_page, tmp_path / "profile", "--dump-dom")
    assert run.console == []
    assert re.search(r'<body[^>]*data-ready="1"', run.dom), "the table script did not finish"
    assert run.dom.count("<svg") >= 12
    assert len(re.findall(r"<rect ", run.dom)) > 50
    # No payload ran: no marker attribute, the title is ours, no element was created from text.
    assert "data-pwned=" not in run.dom
    assert "<title>Laporan pelabelan inovasi daerah</title>" in run.dom
    assert "<img" not in run.dom
    assert html.escape(XSS_TITLE, quote=False) in run.dom
    # The script turned the column headers into sort buttons and showed the filters.
    assert run.dom.count('<button type="button" class="sort"') == 9
    assert '<div id="doc-controls" class="controls">' in run.dom
    assert "Menampilkan 7 dari 7 dokumen" in run.dom


@needs_chromium
def test_browser_check_catches_errors(tmp_path: Path, xss_page: Path) -> None:
    broken = _inject(
        xss_page,
        '<script>fungsiTidakAda();</script><script>console.error("galat uji")</script>'
        '<svg><image href="https://example.invalid/x.png"/></svg>',
    )
    run = run_chromium(broken, tmp_path / "profile", "--dump-dom")
    joined = "\n".join(run.console)
    assert "Uncaught ReferenceError: fungsiTidakAda is not defined" in joined
    assert "galat uji" in joined
    assert "Content Security Policy" in joined


@needs_chromium
def test_filters_and_sorting_work_in_chromium(tmp_path: Path, xss_page: Path) -> None:
    probe = """<script>
(function () {
  function visible() {
    return Array.prototype.filter.call(document.querySelectorAll("#doc-table tbody tr"),
      function (row) { return !row.hidden; }).map(function (row) { return row.cells[0].textContent; });
  }
  function mark(name, value) { document.body.setAttribute("data-probe-" + name, value); }
  var s = document.getElementById("filter-sustainability");
  s.value = "at_risk"; s.dispatchEvent(new Event("change"));
  mark("risk", visible().join(","));
  var region = document.getElementById("filter-region");
  region.value = Array.prototype.filter.call(region.options, function (o) {
    return o.value.indexOf('r:">') === 0; })[0].value;
  region.dispatchEvent(new Event("change"));
  mark("region", visible().length);
  document.getElementById("filter-reset").click();
  var trend = document.getElementById("filter-trend");
  trend.value = "industry_4_0"; trend.dispatchEvent(new Event("change"));
  mark("trend", visible().join(","));
  trend.value = ""; trend.dispatchEvent(new Event("change"));
  var buttons = document.querySelectorAll("#doc-table thead button.sort");
  buttons[8].click();
  mark("score", visible().slice(0, 2).join(","));
  buttons[1].click();
  mark("title", visible().join(","));
  var box = document.getElementById("filter-text");
  box.value = "posyandu KADER"; box.dispatchEvent(new Event("input"));
  setTimeout(function () { mark("text", visible().join(",")); }, 50);
})();
</script>"""
    # Before the report's script runs, the page is what a reader without JavaScript sees.
    before = """<script>
document.body.setAttribute("data-probe-controls",
  getComputedStyle(document.getElementById("doc-controls")).display);
</script>"""
    page = _inject(xss_page, probe, before=before)
    run = run_chromium(page, tmp_path / "profile", "--virtual-time-budget=3000", "--dump-dom")
    assert run.console == []

    def probe_value(name: str) -> str:
        match = re.search(rf'data-probe-{name}="([^"]*)"', run.dom)
        assert match, f"probe {name} did not run"
        return html.unescape(match.group(1))

    assert probe_value("controls") == "none"
    assert '<div id="doc-controls" class="controls">' in run.dom  # shown once the script ran
    assert probe_value("risk") == f"kader-002,pasar-003,{XSS_ID}"
    assert probe_value("region") == "1"
    assert probe_value("trend") == f"jemput-001,pasar-003,{XSS_ID}"
    assert probe_value("score") == "jemput-001,kader-002"  # first click on a number sorts high to low
    # A to Z by title ("<script>..." sorts before letters); the untitled document stays last.
    assert probe_value("title").split(",") == [
        XSS_ID,
        "antre-004",
        "pasar-003",
        "jemput-001",
        "kader-002",
        "berita-005",
        "tanpa-meta-006",
    ]
    assert probe_value("text") == "kader-002"


@needs_chromium
def test_table_is_readable_without_javascript(tmp_path: Path, xss_page: Path) -> None:
    # --blink-settings=scriptEnabled=false also stops --dump-dom from reading the page, so block the
    # page's scripts through its own Content-Security-Policy instead: the DOM is what a reader without
    # JavaScript gets (apart from the <noscript> note, which shows only when scripting is off).
    text = xss_page.read_text(encoding="utf-8")
    assert "script-src 'unsafe-inline'" in text
    no_script = xss_page.with_name("tanpa-js.html")
    no_script.write_text(text.replace("script-src 'unsafe-inline'", "script-src 'none'"), encoding="utf-8")
    run = run_chromium(no_script, tmp_path / "profile", "--dump-dom")
    assert any("Content Security Policy" in line for line in run.console), "the page script was not blocked"
    assert not re.search(r"<body[^>]*data-ready", run.dom)
    assert "data-pwned=" not in run.dom
    for doc_id in ("jemput-001", "kader-002", "berita-005", "tanpa-meta-006"):
        assert f'<td class="id">{doc_id}</td>' in run.dom
    body = run.dom[run.dom.index("<tbody>") : run.dom.index("</tbody>")]
    assert " hidden" not in body  # every row shows
    assert re.search(r'<div id="doc-controls" class="controls" hidden="">', run.dom)
    assert run.dom.count("<svg") >= 12


@needs_chromium
def test_screenshot(tmp_path: Path, xss_page: Path) -> None:
    shot = tmp_path / "laporan.png"
    run = run_chromium(
        xss_page, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,2400", "--hide-scrollbars"
    )
    assert run.console == []
    data = shot.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 20_000  # a blank page compresses to a few kilobytes
