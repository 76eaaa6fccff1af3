"""The HTML report of labelling results: one self-contained page an analyst can open offline.

Input is the JSONL that ``inovasi label`` writes, one record per document.
:func:`build_report` streams the records once, keeps aggregates, the rendered
table rows and the top at-risk innovations, and returns a single HTML page:
headline numbers, bar charts drawn here as inline SVG, the at-risk innovations
with their risk evidence, and a table of every document.

The page loads nothing from outside (a Content-Security-Policy forbids it) and
needs no JavaScript to be read: the table is rendered in full, and a small
inline script only adds filtering and sorting. Every piece of document text is
escaped with :func:`html.escape`; the script reads its inputs from escaped
``data-*`` attributes and creates nodes, never HTML strings, so a title such as
``<script>...</script>`` shows as text.
"""

from __future__ import annotations

import codecs
import heapq
import html
import json
import math
import os
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from nlp.errors import SourceError

DEFAULT_TITLE = "Laporan pelabelan inovasi daerah"
DEFAULT_TOP_REGIONS = 10
DEFAULT_MAX_AT_RISK = 200

TRENDS = ("customer_centricity", "sharing_economy", "industry_4_0")
OBJECTIVES = ("pelayanan_publik", "pemberdayaan_masyarakat", "daya_saing_daerah")
FORMS = ("tata_kelola", "pelayanan_publik", "lainnya", "none")
# Display order runs from good to bad so stacked bars read left to right.
SUSTAINABILITY = ("sustained", "unclear", "at_risk")

# Indonesian display names per label family; an id not listed here is shown as is.
LABEL_NAMES: dict[str, dict[str, str]] = {
    "trends": {
        "customer_centricity": "Berpusat pada warga (customer centricity)",
        "sharing_economy": "Ekonomi berbagi (sharing economy)",
        "industry_4_0": "Industri 4.0",
    },
    "objectives": {
        "pelayanan_publik": "Pelayanan publik",
        "pemberdayaan_masyarakat": "Pemberdayaan masyarakat",
        "daya_saing_daerah": "Daya saing daerah",
    },
    "form": {
        "tata_kelola": "Tata kelola pemerintahan",
        "pelayanan_publik": "Pelayanan publik",
        "lainnya": "Inovasi daerah lainnya",
        "none": "Bukan inovasi",
    },
    "sustainability": {
        "sustained": "Berkelanjutan",
        "at_risk": "Berisiko",
        "unclear": "Belum jelas",
    },
}

SIGNAL_NAMES: dict[str, str] = {
    "regulasi": "Regulasi",
    "anggaran": "Anggaran rutin",
    "sop": "SOP / standar pelayanan",
    "kelembagaan": "Kelembagaan",
    "kemitraan": "Kemitraan",
    "integrasi_sistem_nasional": "Terhubung sistem nasional",
    "kebijakan_wajib": "Kebijakan wajib",
    "berjalan_bertahun": "Berjalan bertahun-tahun",
    "lintas_kepala_daerah": "Berlanjut lintas kepala daerah",
    "replikasi": "Direplikasi",
    "minat_replikasi": "Minat replikasi",
    "perluasan": "Perluasan",
    "monev": "Monitoring dan evaluasi",
    "penghargaan": "Penghargaan",
    "hki": "HKI",
    "berhenti": "Berhenti",
    "tidak_dilanjutkan": "Tidak dilanjutkan",
    "uji_coba": "Masih uji coba",
    "tergantung_kepala_daerah": "Bergantung pada kepala daerah",
    "ketergantungan_individu": "Bergantung pada satu orang",
    "tanpa_anggaran": "Tanpa anggaran",
    "tanpa_regulasi": "Tanpa regulasi",
    "tanpa_sop": "Tanpa SOP",
    "sdm_terbatas": "SDM terbatas",
    "sosialisasi_kurang": "Sosialisasi kurang",
    "adopsi_rendah": "Adopsi rendah",
    "kendala_teknis": "Kendala teknis",
    "kendala_pengelolaan": "Kendala pengelolaan",
    "penurunan_kinerja": "Penurunan kinerja",
}

_COLORS: dict[str, dict[str, str]] = {
    # Okabe-Ito hues: distinguishable with the common colour-vision deficiencies.
    "trends": {"customer_centricity": "#0072B2", "sharing_economy": "#E69F00", "industry_4_0": "#CC79A7"},
    "objectives": {"pelayanan_publik": "#009E9A", "pemberdayaan_masyarakat": "#D55E00", "daya_saing_daerah": "#56589E"},
    "form": {"tata_kelola": "#3B6E8F", "pelayanan_publik": "#5FA8D3", "lainnya": "#8C7AA9", "none": "#B8BFC6"},
    "sustainability": {"sustained": "#2E7D32", "unclear": "#A0A7AE", "at_risk": "#C62828"},
}
_SPARE_COLORS = ("#7F8C8D", "#8D6E63", "#607D8B", "#9E9D24", "#AD1457", "#00838F")
_RISK_COLOR = "#C62828"

_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'"
)
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|2\d\d\d)(?!\d)")
_MAX_TEXT = 600
_MAX_RISKS_PER_ITEM = 8
_MAX_MODELS = 20
_NO_YEAR = "t.d."
_NO_REGION = "Tanpa daerah"
_EMPTY_CELL = "—"


# --------------------------------------------------------------------------- reading


def read_label_records(path: Path) -> Iterator[dict]:
    """Stream the records of a labels JSONL file (as written by ``inovasi label``), skipping blank lines.

    A missing file or a folder raises :class:`SourceError` at once; a line that
    is not UTF-8, not JSON or not a JSON object raises it while iterating, with
    the line number.
    """
    path = Path(path)
    if not path.exists():
        raise SourceError(str(path), "no such file", "check the path, or run `inovasi label` to write the labels first")
    if path.is_dir():
        raise SourceError(
            str(path), "is a folder, not a labels file", "pass the JSONL file written by `inovasi label --output`"
        )
    return _iter_label_records(path)


def _iter_label_records(path: Path) -> Iterator[dict]:
    fix = "fix or delete that line; a labels file holds one JSON object per line, as `inovasi label` writes it"
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SourceError(str(path), f"cannot be read ({exc.strerror})", "check the file's permissions") from exc
    with handle:
        # Bytes in, decoded per line, so an encoding error names the exact line.
        for number, raw in enumerate(handle, start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise SourceError(str(path), f"line {number}: not UTF-8 text", "save the file as UTF-8") from exc
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise SourceError(str(path), f"line {number}: not JSON ({exc.msg} at column {exc.colno})", fix) from exc
            if not isinstance(record, dict):
                raise SourceError(str(path), f"line {number}: not a JSON object (found {type(record).__name__})", fix)
            yield record


# --------------------------------------------------------------------------- writing


def write_report(html: str, output: Path) -> None:
    """Write the page to ``output`` atomically: a temporary sibling file, then :func:`os.replace`.

    A reader never sees a half-written page, and a failed write leaves an
    existing report untouched. The parent folder must exist.
    """
    output = Path(output)
    parent = output.parent
    if not parent.is_dir():
        raise SourceError(
            str(output), f"folder {str(parent)!r} does not exist", "create it first or choose another output path"
        )
    if output.is_dir():
        raise SourceError(str(output), "is a folder", "name a file for the report, such as laporan.html")
    data = html.encode("utf-8", errors="replace")
    try:
        mode = output.stat().st_mode & 0o777
    except OSError:
        mode = 0o644
    try:
        handle = tempfile.NamedTemporaryFile(dir=parent, prefix=f".{output.name}.", suffix=".tmp", delete=False)
    except OSError as exc:
        raise SourceError(
            str(output), f"cannot write in {str(parent)!r} ({exc.strerror})", "check permissions"
        ) from exc
    temp = Path(handle.name)
    try:
        with handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        os.replace(temp, output)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise SourceError(
            str(output), f"cannot write the report ({exc.strerror})", "check permissions and free space"
        ) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class _Doc:
    """One record, normalised: every field present and of the expected type."""

    id: str
    title: str
    source: str
    region: str
    year: str
    opd: str
    is_innovation: bool
    innovation_score: float | None
    trends: tuple[str, ...]
    objectives: tuple[str, ...]
    form: str
    sustainability: str
    at_risk_score: float
    risks: tuple[tuple[str, str], ...]


def _text(value: Any, limit: int = _MAX_TEXT) -> str:
    """Any JSON value as one clean line of text (no control characters, valid UTF-8, capped)."""
    if value is None or isinstance(value, bool):
        text = ""
    elif isinstance(value, str):
        text = value
    elif isinstance(value, (int, float)):
        text = str(value)
    else:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = _CONTROL_CHARS.sub(" ", text).strip()
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800" escapes in the JSON
        text = text.encode("utf-8", errors="replace").decode("utf-8")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def _label_ids(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)):
        return ()
    seen: dict[str, None] = {}
    for item in value:
        label = _text(item, 80)
        if label:
            seen.setdefault(label, None)
    return tuple(seen)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _year(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = _text(value, 40)
    match = _YEAR.search(text)
    return match.group(1) if match else text


def _doc_from_record(record: Mapping[str, Any]) -> _Doc:
    meta = record.get("meta")
    if not isinstance(meta, Mapping):
        meta = {}
    form = _text(record.get("pp38_form"), 80) or "none"
    flag = record.get("is_innovation")
    is_innovation = flag if isinstance(flag, bool) else form != "none"
    scores = record.get("sustainability_scores")
    at_risk_score = _number(scores.get("at_risk")) if isinstance(scores, Mapping) else None
    risks: list[tuple[str, str]] = []
    signals = record.get("signals")
    if isinstance(signals, list):
        for signal in signals:
            if isinstance(signal, Mapping) and signal.get("polarity") == "risk":
                risks.append((_text(signal.get("signal"), 80), _text(signal.get("sentence"))))
    return _Doc(
        id=_text(record.get("id"), 200),
        title=_text(record.get("title"), 300),
        source=_text(record.get("source"), 300),
        region=_text(meta.get("region"), 120),
        year=_year(meta.get("year")),
        opd=_text(meta.get("opd"), 200),
        is_innovation=is_innovation,
        innovation_score=_number(record.get("innovation_score")),
        trends=_label_ids(record.get("trends")),
        objectives=_label_ids(record.get("pp38_objectives")),
        form=form,
        sustainability=_text(record.get("sustainability"), 80) or "unclear",
        at_risk_score=at_risk_score if at_risk_score is not None else 0.0,
        risks=tuple(risks),
    )


def label_name(family: str, label_id: str) -> str:
    """The Indonesian display name of a label, or the id itself when the label is not known."""
    return LABEL_NAMES.get(family, {}).get(label_id, label_id)


def signal_name(signal_id: str) -> str:
    """The Indonesian display name of an evidence signal, or a readable form of its id."""
    return SIGNAL_NAMES.get(signal_id) or signal_id.replace("_", " ") or "sinyal"


def _short_name(family: str, label_id: str) -> str:
    return label_name(family, label_id).split(" (")[0]


def _color(family: str, label_id: str, order: Sequence[str]) -> str:
    known = _COLORS.get(family, {})
    if label_id in known:
        return known[label_id]
    extra = [label for label in order if label not in known]
    index = extra.index(label_id) if label_id in extra else 0
    return _SPARE_COLORS[index % len(_SPARE_COLORS)]


# --------------------------------------------------------------------------- aggregation


@dataclass
class _Aggregates:
    """Everything the page needs, gathered in one pass over the records."""

    max_at_risk: int
    documents: int = 0
    innovations: int = 0
    labels: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_year: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    by_region: dict[str, dict[str, Counter]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(Counter)))
    year_counts: Counter = field(default_factory=Counter)
    region_counts: Counter = field(default_factory=Counter)
    region_documents: Counter = field(default_factory=Counter)
    risk_signals: Counter = field(default_factory=Counter)
    sustainability_documents: Counter = field(default_factory=Counter)
    trend_documents: Counter = field(default_factory=Counter)
    models: Counter = field(default_factory=Counter)
    at_risk_total: int = 0
    at_risk_heap: list[tuple[float, int, _Doc]] = field(default_factory=list)
    rows: list[str] = field(default_factory=list)

    def add(self, record: Mapping[str, Any]) -> None:
        doc = _doc_from_record(record)
        self.documents += 1
        self.rows.append(_table_row(doc))
        self.region_documents[doc.region] += 1
        self.sustainability_documents[doc.sustainability] += 1
        for trend in doc.trends:
            self.trend_documents[trend] += 1
        model = _text(record.get("model"), 400)
        # Only a few distinct models are listed; the cap keeps per-record model fields from growing this.
        if model and (model in self.models or len(self.models) < _MAX_MODELS):
            self.models[model] += 1
        if not doc.is_innovation:
            return
        self.innovations += 1
        self.year_counts[doc.year] += 1
        self.region_counts[doc.region] += 1
        families = {
            "trends": doc.trends,
            "objectives": doc.objectives,
            "form": (doc.form,),
            "sustainability": (doc.sustainability,),
        }
        for family, labels in families.items():
            for label in labels:
                self.labels[family][label] += 1
                self.by_year[family][doc.year][label] += 1
                self.by_region[family][doc.region][label] += 1
        for signal in {signal for signal, _ in doc.risks}:
            self.risk_signals[signal] += 1
        if doc.sustainability == "at_risk":
            self.at_risk_total += 1
            # Keep the highest scores; among equal scores the earlier document wins.
            entry = (doc.at_risk_score, -self.documents, doc)
            if len(self.at_risk_heap) < self.max_at_risk:
                heapq.heappush(self.at_risk_heap, entry)
            elif self.max_at_risk > 0:
                heapq.heappushpop(self.at_risk_heap, entry)

    def order(self, family: str, known: Sequence[str]) -> list[str]:
        """Known labels in scheme order, then any other label seen, most frequent first."""
        seen = self.labels[family]
        extra = sorted((label for label in seen if label not in known), key=lambda label: (-seen[label], label))
        return [*known, *extra]


# --------------------------------------------------------------------------- formatting


def _fmt_int(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _fmt_share(part: int, whole: int) -> str:
    if whole <= 0:
        return _EMPTY_CELL
    return f"{100 * part / whole:.1f}".replace(".", ",") + "%"


def _fmt_score(value: float | None) -> str:
    return _EMPTY_CELL if value is None else f"{value:.2f}".replace(".", ",")


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class _Series:
    key: str
    name: str
    color: str


def _legend(series: Sequence[_Series]) -> str:
    keys = "".join(
        f'<span class="key"><span class="swatch" style="background:{s.color}"></span>{_esc(s.name)}</span>'
        for s in series
    )
    return f'<div class="legend">{keys}</div>'


def _figure(caption: str, body: str, *, legend: str = "", chart_id: str = "") -> str:
    ident = f' id="{_esc(chart_id)}"' if chart_id else ""
    return f'<figure class="chart"{ident}><figcaption>{_esc(caption)}</figcaption>{legend}{body}</figure>'


def _empty_chart() -> str:
    return '<p class="empty">Belum ada data.</p>'


def _nice_ticks(vmax: float) -> list[int]:
    """Whole-number ticks from 0 in steps of 1, 2 or 5 times a power of ten, covering ``vmax`` in about five steps."""
    raw = vmax / 5
    step = 1
    if raw > 1:
        magnitude = 10 ** math.floor(math.log10(raw))
        step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    ticks = [0]
    while ticks[-1] < vmax or len(ticks) < 2:
        ticks.append(ticks[-1] + step)
    return ticks


def _hbar_chart(
    categories: Sequence[str],
    series: Sequence[_Series],
    values: Sequence[Sequence[int]],
    *,
    bases: Sequence[int] | None = None,
    stacked: bool = False,
    category_colors: Sequence[str] | None = None,
    scale_max: int | None = None,
    width: int = 560,
    family: str = "",
) -> str:
    """Horizontal bars, one row per category: a single series, grouped series or stacked series.

    ``bases`` gives each category's denominator for the percentages (not shown
    for stacked bars, whose total is the base); ``category_colors`` colours a
    single series bar by bar, so a label keeps its colour across the page.
    Bars longer than ``scale_max`` are cut to the full width and marked with a
    break, so one large group ("Lainnya") does not flatten all the others.
    """
    if not categories or not any(any(row) for row in values):
        return _empty_chart()
    grouped = len(series) > 1 and not stacked
    labels = [_truncate(category, 42) for category in categories]
    label_w = min(280, max(90, int(6.6 * max(len(label) for label in labels)) + 14))
    show_share = bases is not None and not grouped and not stacked
    value_w = 84 if show_share else 46
    plot_w = width - label_w - value_w
    bar_h, bar_gap = (10, 2) if grouped else (18, 0)
    row_h = len(series) * (bar_h + bar_gap) + 10 if grouped else bar_h + 10
    height = len(categories) * row_h + 6
    totals = [sum(row) for row in values]
    vmax = max(totals) if stacked else max(max(row) for row in values)
    scale = min(vmax, scale_max) if scale_max else vmax
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" class="hbar" data-family="{_esc(family)}" '
        f'aria-label="{_esc("Diagram batang: " + ", ".join(categories))}">'
    ]

    def cut_mark(x: float, y: float) -> str:
        return (
            f'<path d="M{x - 4:.1f},{y + bar_h + 1:.1f}L{x:.1f},{y - 1:.1f}M{x + 1:.1f},{y + bar_h + 1:.1f}'
            f'L{x + 5:.1f},{y - 1:.1f}" class="cut"/>'
        )

    for index, category in enumerate(categories):
        top = 3 + index * row_h
        middle = top + (row_h - 10) / 2
        parts.append(
            f'<text x="{label_w - 8}" y="{middle + 4:.1f}" text-anchor="end" class="cat">'
            f"<title>{_esc(category)}</title>{_esc(labels[index])}</text>"
        )
        base = bases[index] if bases is not None else 0
        # A stacked bar over the scale is squeezed as a whole, so its segments keep their proportions.
        unit = plot_w / max(scale, totals[index]) if stacked else plot_w / scale
        x = float(label_w)
        for position, item in enumerate(series):
            value = values[index][position]
            length = min(plot_w, unit * value)
            if value and length < 1.5:
                length = 1.5
            y = top + position * (bar_h + bar_gap) if grouped else top
            share = f" ({_fmt_share(value, base)})" if base else ""
            name = f"{category} · {item.name}" if len(series) > 1 else category
            color = category_colors[index] if category_colors is not None else item.color
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{length:.1f}" height="{bar_h}" rx="2" fill="{color}" '
                f'data-category="{_esc(category)}" data-series="{_esc(item.key)}" data-count="{value}">'
                f"<title>{_esc(f'{name}: {_fmt_int(value)}{share}')}</title></rect>"
            )
            if not stacked and value > scale:
                parts.append(cut_mark(label_w + plot_w * 0.86, y))
            if grouped:
                parts.append(
                    f'<text x="{x + length + 4:.1f}" y="{y + bar_h - 1.5:.1f}" class="val small">'
                    f"{_fmt_int(value)}</text>"
                )
            if stacked:
                x += length
        if stacked and totals[index] > scale:
            parts.append(cut_mark(label_w + plot_w * 0.86, top))
        if not grouped:
            end = x if stacked else label_w + min(plot_w, unit * totals[index])
            share = f" · {_fmt_share(totals[index], base)}" if show_share and base else ""
            parts.append(
                f'<text x="{end + 5:.1f}" y="{middle + 4:.1f}" class="val">{_fmt_int(totals[index])}'
                f'<tspan class="share">{_esc(share)}</tspan></text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _vbar_chart(
    categories: Sequence[str],
    series: Sequence[_Series],
    values: Sequence[Sequence[int]],
    *,
    bases: Sequence[int] | None = None,
    stacked: bool = False,
    width: int = 560,
    height: int = 250,
    family: str = "",
) -> str:
    """Vertical bars over ordered categories (years): grouped series side by side, or stacked."""
    if not categories or not any(any(row) for row in values):
        return _empty_chart()
    left, right, top, bottom = 40, 8, 16, 26
    plot_w = width - left - right
    plot_h = height - top - bottom
    totals = [sum(row) for row in values]
    vmax = max(totals) if stacked else max(max(row) for row in values)
    ticks = _nice_ticks(vmax)
    ymax = ticks[-1]
    slot = plot_w / len(categories)
    inner = slot * 0.78
    bar_w = inner if stacked or len(series) == 1 else inner / len(series)
    parts = [
        f'<svg viewBox="0 0 {width} {height}" role="img" class="vbar" data-family="{_esc(family)}" '
        f'aria-label="{_esc("Diagram batang per tahun: " + ", ".join(categories))}">'
    ]
    for tick in ticks:
        y = top + plot_h - plot_h * tick / ymax
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt_int(tick)}</text>')
    for index, category in enumerate(categories):
        x0 = left + index * slot + (slot - inner) / 2
        base = bases[index] if bases is not None else 0
        stack_y = top + plot_h
        for position, item in enumerate(series):
            value = values[index][position]
            bar_h = plot_h * value / ymax if ymax else 0
            share = f" ({_fmt_share(value, base)})" if base else ""
            name = "tahun tidak diketahui" if category == _NO_YEAR else category
            tooltip = f"{name} · {item.name}: {_fmt_int(value)}{share}"
            if stacked:
                stack_y -= bar_h
                x, y = x0, stack_y
            else:
                x, y = x0 + position * bar_w, top + plot_h - bar_h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(bar_w - 1.5, 1):.1f}" height="{bar_h:.1f}" '
                f'fill="{item.color}" data-category="{_esc(category)}" data-series="{_esc(item.key)}" '
                f'data-count="{value}"><title>{_esc(tooltip)}</title></rect>'
            )
            if not stacked and value and bar_w >= 13:
                parts.append(
                    f'<text x="{x + bar_w / 2 - 0.75:.1f}" y="{y - 3:.1f}" text-anchor="middle" class="val small">'
                    f"{_fmt_int(value)}</text>"
                )
        if stacked and totals[index]:
            parts.append(
                f'<text x="{x0 + inner / 2:.1f}" y="{stack_y - 4:.1f}" text-anchor="middle" class="val small">'
                f"{_fmt_int(totals[index])}</text>"
            )
        parts.append(
            f'<text x="{x0 + inner / 2:.1f}" y="{height - 8}" text-anchor="middle" class="cat">{_esc(category)}</text>'
        )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>')
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- sections

_FAMILY_CAPTIONS = {
    "trends": "Tren inovasi",
    "objectives": "Tujuan PP 38/2017",
    "form": "Bentuk inovasi PP 38/2017",
    "sustainability": "Keberlanjutan",
}
_FAMILY_KNOWN = {"trends": TRENDS, "objectives": OBJECTIVES, "form": FORMS, "sustainability": SUSTAINABILITY}


def _series_for(agg: _Aggregates, family: str, *, drop_unused: bool = False) -> list[_Series]:
    order = agg.order(family, _FAMILY_KNOWN[family])
    if drop_unused:
        order = [label for label in order if agg.labels[family][label]]
    return [_Series(label, label_name(family, label), _color(family, label, order)) for label in order]


def _section_summary(agg: _Aggregates) -> str:
    sustainability = agg.labels["sustainability"]
    cards = [
        ("documents", "Dokumen", _fmt_int(agg.documents), "dibaca dari berkas label", ""),
        (
            "innovations",
            "Inovasi",
            _fmt_int(agg.innovations),
            f"{_fmt_share(agg.innovations, agg.documents)} dari dokumen",
            "",
        ),
        (
            "at_risk",
            "Berisiko",
            _fmt_share(sustainability["at_risk"], agg.innovations),
            f"{_fmt_int(sustainability['at_risk'])} dari {_fmt_int(agg.innovations)} inovasi",
            " risk",
        ),
        (
            "sustained",
            "Berkelanjutan",
            _fmt_share(sustainability["sustained"], agg.innovations),
            f"{_fmt_int(sustainability['sustained'])} dari {_fmt_int(agg.innovations)} inovasi",
            " ok",
        ),
    ]
    body = "".join(
        f'<div class="stat{extra}" data-stat="{key}"><div class="stat-label">{_esc(label)}</div>'
        f'<div class="stat-value">{_esc(value)}</div><div class="stat-detail">{_esc(detail)}</div></div>'
        for key, label, value, detail, extra in cards
    )
    return f'<section id="ringkasan" aria-label="Ringkasan"><div class="stats">{body}</div></section>'


def _section_overall(agg: _Aggregates) -> str:
    charts = []
    for family in ("trends", "objectives", "form", "sustainability"):
        series = _series_for(agg, family, drop_unused=family == "form")
        counts = agg.labels[family]
        body = _hbar_chart(
            [s.name for s in series],
            [_Series(family, _FAMILY_CAPTIONS[family], "")],
            [[counts[s.key]] for s in series],
            bases=[agg.innovations] * len(series),
            category_colors=[s.color for s in series],
            family=family,
        )
        charts.append(_figure(_FAMILY_CAPTIONS[family], body, chart_id=f"label-{family}"))
    note = (
        f"Dihitung atas {_fmt_int(agg.innovations)} dokumen yang dilabeli sebagai inovasi; "
        "tren dan tujuan boleh lebih dari satu per inovasi, jadi jumlahnya bisa melebihi 100%."
    )
    return (
        f'<section id="label"><h2>Label keseluruhan</h2><p class="note">{_esc(note)}</p>'
        f'<div class="grid">{"".join(charts)}</div></section>'
    )


def _year_order(years: Iterable[str]) -> list[str]:
    def key(year: str) -> tuple[int, int, str]:
        if year == "":
            return (2, 0, "")
        return (0, int(year), "") if year.isdigit() else (1, 0, year)

    return sorted(years, key=key)


def _section_years(agg: _Aggregates) -> str:
    years = _year_order(agg.year_counts)
    shown = [year or _NO_YEAR for year in years]
    bases = [agg.year_counts[year] for year in years]
    charts = []
    for family, stacked in (("trends", False), ("objectives", False), ("sustainability", True), ("form", True)):
        series = _series_for(agg, family, drop_unused=True)
        values = [[agg.by_year[family][year][s.key] for s in series] for year in years]
        body = _vbar_chart(shown, series, values, bases=bases, stacked=stacked, family=family)
        caption = f"{_FAMILY_CAPTIONS[family]} per tahun" + (" (bertumpuk)" if stacked else "")
        charts.append(_figure(caption, body, legend=_legend(series), chart_id=f"year-{family}"))
    note = "Jumlah inovasi per tahun pada metadata dokumen."
    if "" in agg.year_counts:
        note += f" {_NO_YEAR} = tahun tidak diketahui."
    return (
        f'<section id="tahun"><h2>Per tahun</h2><p class="note">{_esc(note)}</p>'
        f'<div class="grid">{"".join(charts)}</div></section>'
    )


def _region_groups(agg: _Aggregates, top: int) -> tuple[list[str], list[list[str]]]:
    """Display names and member regions: the ``top`` regions by innovation count, "Lainnya", "Tanpa daerah"."""
    named = sorted((r for r in agg.region_counts if r), key=lambda r: (-agg.region_counts[r], r.casefold()))
    names: list[str] = []
    groups: list[list[str]] = []
    for region in named[:top]:
        names.append(region)
        groups.append([region])
    rest = named[top:]
    if rest:
        names.append(f"Lainnya ({_fmt_int(len(rest))} daerah)")
        groups.append(rest)
    if "" in agg.region_counts:
        names.append(_NO_REGION)
        groups.append([""])
    return names, groups


def _section_regions(agg: _Aggregates, top: int) -> str:
    names, groups = _region_groups(agg, top)
    bases = [sum(agg.region_counts[r] for r in group) for group in groups]
    # "Lainnya" may hold hundreds of regions; scale the bars to the largest single region instead.
    single = [index for index, group in enumerate(groups) if len(group) == 1]
    charts = []
    cut = False
    for family, stacked in (("trends", False), ("objectives", False), ("sustainability", True), ("form", True)):
        series = _series_for(agg, family, drop_unused=True)
        values = [[sum(agg.by_region[family][r][s.key] for r in group) for s in series] for group in groups]
        peaks = [sum(row) if stacked else max(row, default=0) for row in values]
        scale = max((peaks[index] for index in single), default=0)
        scale_max = scale if scale and max(peaks) > 1.25 * scale else None
        cut = cut or scale_max is not None
        body = _hbar_chart(names, series, values, bases=bases, stacked=stacked, scale_max=scale_max, family=family)
        caption = f"{_FAMILY_CAPTIONS[family]} per daerah" + (" (bertumpuk)" if stacked else "")
        charts.append(_figure(caption, body, legend=_legend(series), chart_id=f"region-{family}"))
    note = (
        f"{_fmt_int(min(top, len([r for r in agg.region_counts if r])))} daerah dengan inovasi terbanyak; "
        "daerah lain digabung sebagai “Lainnya”. Urut menurut jumlah inovasi."
    )
    if cut:
        note += " Batang bertanda potong (//) lebih panjang dari yang tergambar; angkanya tetap benar."
    return (
        f'<section id="daerah"><h2>Per daerah</h2><p class="note">{_esc(note)}</p>'
        f'<div class="grid">{"".join(charts)}</div></section>'
    )


def _meta_line(doc: _Doc) -> str:
    parts = [f'<span class="doc-id">{_esc(doc.id or "(tanpa id)")}</span>']
    for value in (doc.region, doc.year, doc.opd):
        if value:
            parts.append(_esc(value))
    if doc.source:
        parts.append(f"sumber: {_esc(doc.source)}")
    return " · ".join(parts)


def _section_at_risk(agg: _Aggregates) -> str:
    entries = sorted(agg.at_risk_heap, key=lambda entry: (-entry[0], -entry[1]))
    signals = sorted(agg.risk_signals, key=lambda s: (-agg.risk_signals[s], s))[:12]
    chart = _hbar_chart(
        [signal_name(s) for s in signals],
        [_Series("risk", "Sinyal risiko", _RISK_COLOR)],
        [[agg.risk_signals[s]] for s in signals],
        bases=[agg.innovations] * len(signals),
        width=440,
        family="risk_signals",
    )
    items = []
    for score, _, doc in entries:
        if doc.risks:
            evidence = "".join(
                f'<li><span class="sig">{_esc(signal_name(signal))}</span> <q>{_esc(sentence)}</q></li>'
                for signal, sentence in doc.risks[:_MAX_RISKS_PER_ITEM]
            )
            more = len(doc.risks) - _MAX_RISKS_PER_ITEM
            if more > 0:
                evidence += f'<li class="more">dan {_fmt_int(more)} kalimat lain</li>'
            evidence = f'<ul class="evidence">{evidence}</ul>'
        else:
            evidence = '<p class="muted">Tidak ada kalimat bukti risiko.</p>'
        items.append(
            f'<article class="risk-item" data-id="{_esc(doc.id)}">'
            f'<div class="risk-head"><span class="risk-score" title="Skor berisiko">{_fmt_score(score)}</span>'
            f"<h3>{_esc(doc.title or doc.id or '(tanpa judul)')}</h3></div>"
            f'<p class="meta">{_meta_line(doc)}</p>{evidence}</article>'
        )
    if agg.at_risk_total > len(entries):
        cap = (
            f'<p class="note cap">Menampilkan {_fmt_int(len(entries))} dari {_fmt_int(agg.at_risk_total)} '
            "inovasi berisiko dengan skor tertinggi; semuanya ada di tabel di bawah "
            "(saring Keberlanjutan: Berisiko).</p>"
        )
    else:
        cap = ""
    listing = '<p class="empty">Tidak ada inovasi berisiko.</p>'
    if items:
        listing = f'<div class="risk-list">{"".join(items)}</div>'
    note = (
        f"{_fmt_int(agg.at_risk_total)} inovasi berlabel Berisiko, diurutkan menurut skor berisiko "
        "(tertinggi dulu), dengan kalimat yang menjadi bukti risikonya."
    )
    return (
        f'<section id="berisiko"><h2>Inovasi berisiko</h2><p class="note">{_esc(note)}</p>'
        f'<div class="grid risk-grid">'
        f"{_figure('Sinyal risiko yang paling sering (jumlah inovasi)', chart, chart_id='risk-signals')}"
        f"<div>{cap}{listing}</div></div></section>"
    )


# Known labels get a colour class (".t0", ".o1") instead of an inline style: the table repeats them on every row.
_CHIP_CLASSES = {
    (family, label): f"{family[0]}{index}"
    for family, known in (("trends", TRENDS), ("objectives", OBJECTIVES))
    for index, label in enumerate(known)
}
_CHIP_CSS = "".join(f".{name}{{--c:{_COLORS[family][label]}}}" for (family, label), name in _CHIP_CLASSES.items())


def _chips(family: str, labels: Sequence[str], order: Sequence[str]) -> str:
    if not labels:
        return f'<span class="muted">{_EMPTY_CELL}</span>'
    chips = []
    for label in labels:
        known = _CHIP_CLASSES.get((family, label))
        look = f'class="chip {known}"' if known else f'class="chip" style="--c:{_color(family, label, order)}"'
        short, full = _short_name(family, label), label_name(family, label)
        tooltip = f' title="{_esc(full)}"' if full != short else ""
        chips.append(f"<span {look}{tooltip}>{_esc(short)}</span>")
    return "".join(chips)


def _table_row(doc: _Doc) -> str:
    """One table row. Cells sort on their first child's text; ``data-sort`` overrides it, empty when missing."""
    region_key = f"r:{doc.region}" if doc.region else "none"
    missing = ' data-sort=""'
    title = _esc(doc.title) if doc.title else '<span class="muted">(tanpa judul)</span>'
    opd = f'<div class="opd">{_esc(doc.opd)}</div>' if doc.opd else ""
    status = _esc(label_name("sustainability", doc.sustainability))
    row_class = "" if doc.is_innovation else ' class="non-innovation"'
    score_sort = missing if doc.innovation_score is None else f' data-sort="{doc.innovation_score:.4f}"'
    return (
        f'<tr{row_class} data-sustainability="{_esc(doc.sustainability)}" '
        f'data-trends="{_esc(" ".join(doc.trends))}" data-region="{_esc(region_key)}">'
        f'<td class="id">{_esc(doc.id)}</td>'
        f"<td{'' if doc.title else missing}>{title}{opd}</td>"
        f"<td{'' if doc.region else missing}>{_esc(doc.region) or _EMPTY_CELL}</td>"
        f'<td class="num"{"" if doc.year.isdigit() else missing}>{_esc(doc.year) or _EMPTY_CELL}</td>'
        f"<td{'' if doc.trends else missing}>{_chips('trends', doc.trends, TRENDS)}</td>"
        f"<td{'' if doc.objectives else missing}>{_chips('objectives', doc.objectives, OBJECTIVES)}</td>"
        f"<td>{_esc(label_name('form', doc.form))}</td>"
        f'<td><span class="status s-{_esc(doc.sustainability)}">{status}</span></td>'
        f'<td class="num"{score_sort}>{_fmt_score(doc.innovation_score)}</td>'
        "</tr>"
    )


def _options(pairs: Iterable[tuple[str, str]]) -> str:
    return "".join(f'<option value="{_esc(value)}">{_esc(text)}</option>' for value, text in pairs)


def _section_table(agg: _Aggregates) -> str:
    sustain = [
        (s, f"{label_name('sustainability', s)} ({_fmt_int(agg.sustainability_documents[s])})")
        for s in [*SUSTAINABILITY, *sorted(set(agg.sustainability_documents) - set(SUSTAINABILITY))]
        if agg.sustainability_documents[s]
    ]
    trend_ids = [*TRENDS, *sorted(set(agg.trend_documents) - set(TRENDS))]
    trends = [
        (t, f"{_short_name('trends', t)} ({_fmt_int(agg.trend_documents[t])})")
        for t in trend_ids
        if agg.trend_documents[t]
    ]
    regions = sorted((r for r in agg.region_documents if r), key=str.casefold)
    region_options = [(f"r:{r}", f"{r} ({_fmt_int(agg.region_documents[r])})") for r in regions]
    if agg.region_documents[""]:
        region_options.append(("none", f"{_NO_REGION} ({_fmt_int(agg.region_documents[''])})"))
    controls = (
        '<div id="doc-controls" class="controls" hidden>'
        '<label>Cari <input id="filter-text" type="search" placeholder="judul, id, daerah, label…" '
        'autocomplete="off"></label>'
        f'<label>Keberlanjutan <select id="filter-sustainability"><option value="">Semua</option>{_options(sustain)}'
        "</select></label>"
        f'<label>Tren <select id="filter-trend"><option value="">Semua</option>{_options(trends)}</select></label>'
        f'<label>Daerah <select id="filter-region"><option value="">Semua</option>{_options(region_options)}'
        "</select></label>"
        '<button id="filter-reset" type="button">Atur ulang</button>'
        '<span id="doc-count" class="count" aria-live="polite"></span></div>'
    )
    # Fixed column widths (percent of the table) keep long ids and label chips from pushing columns off-screen.
    headers = [
        ("ID", "text", 10),
        ("Judul", "text", 20),
        ("Daerah", "text", 11),
        ("Tahun", "num", 6),
        ("Tren", "text", 12),
        ("Tujuan PP 38", "text", 13),
        ("Bentuk", "text", 10),
        ("Keberlanjutan", "text", 11),
        ("Skor", "num", 7),
    ]
    columns = "".join(f'<col style="width:{share}%">' for _, _, share in headers)
    head = "".join(f'<th scope="col" data-type="{kind}">{_esc(name)}</th>' for name, kind, _ in headers)
    rows = "".join(agg.rows) or f'<tr><td colspan="{len(headers)}" class="empty">Tidak ada dokumen.</td></tr>'
    note = (
        f"{_fmt_int(agg.documents)} dokumen. Klik judul kolom untuk mengurutkan; "
        "baris abu-abu adalah dokumen yang tidak dilabeli sebagai inovasi."
    )
    return (
        f'<section id="dokumen"><h2>Semua dokumen</h2><p class="note">{_esc(note)}</p>'
        '<noscript><p class="note">JavaScript nonaktif: tabel tampil lengkap tanpa penyaring dan pengurutan.</p>'
        f'</noscript>{controls}<div class="table-wrap"><table id="doc-table"><colgroup>{columns}</colgroup>'
        f"<thead><tr>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _footer(agg: _Aggregates, generated_at: str) -> str:
    models = ""
    if agg.models:
        listed = "".join(
            f"<li><code>{_esc(model)}</code> ({_fmt_int(count)} dokumen)</li>"
            for model, count in agg.models.most_common(5)
        )
        models = f"<p>Model pelabelan:</p><ul>{listed}</ul>"
    return (
        f'<footer class="wrap">{models}<p>Dibuat {_esc(generated_at)}. Halaman ini berdiri sendiri: '
        "tanpa skrip, fon, gaya, atau gambar dari luar, sehingga bisa dibuka tanpa internet.</p></footer>"
    )


# --------------------------------------------------------------------------- page

_STYLE = """
:root{--ink:#1f2933;--muted:#616e7c;--line:#e4e7eb;--bg:#f3f5f8;--card:#fff;--accent:#0b5cad;
--risk:#c62828;--ok:#2e7d32}
*{box-sizing:border-box}
[hidden]{display:none!important}
html{-webkit-text-size-adjust:100%}
body{margin:0;font:14px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Liberation Sans",Arial,sans-serif;
color:var(--ink);background:var(--bg)}
.wrap{max-width:1240px;margin:0 auto;padding:0 24px}
header.top{background:#102a43;color:#fff;padding:26px 0 16px}
header.top h1{margin:0 0 4px;font-size:26px;font-weight:700;letter-spacing:-.01em}
header.top .sub{margin:0 0 14px;color:#bcccdc}
header.top nav a{color:#d9e2ec;margin-right:18px;text-decoration:none;border-bottom:1px solid #486581}
header.top nav a:hover{color:#fff}
main{padding:6px 0 12px}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:20px 24px;margin:18px 0}
section#ringkasan{background:none;border:0;padding:0}
h2{font-size:19px;margin:0 0 2px}
.note{color:var(--muted);font-size:13px;margin:0 0 16px}
.muted{color:var(--muted)}
.empty{color:var(--muted);font-style:italic}
.stats{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:16px}
.stat{background:var(--card);border:1px solid var(--line);border-top:4px solid var(--accent);border-radius:10px;
padding:14px 18px}
.stat.risk{border-top-color:var(--risk)}
.stat.ok{border-top-color:var(--ok)}
.stat-label{font-weight:600;color:var(--muted);text-transform:uppercase;font-size:12px;letter-spacing:.04em}
.stat-value{font-size:34px;font-weight:700;line-height:1.15;font-variant-numeric:tabular-nums}
.stat.risk .stat-value{color:var(--risk)}
.stat.ok .stat-value{color:var(--ok)}
.stat-detail{color:var(--muted);font-size:13px}
.grid{display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:28px 40px}
.risk-grid{grid-template-columns:minmax(0,2fr) minmax(0,3fr)}
figure.chart{margin:0;min-width:0}
figcaption{font-weight:600;margin-bottom:6px}
.legend{display:flex;flex-wrap:wrap;gap:2px 14px;font-size:12px;color:var(--muted);margin-bottom:6px}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
svg{display:block;width:100%;height:auto;overflow:visible}
svg text{font-size:12px;fill:#3e4c59}
svg text.val{fill:#1f2933;font-weight:600;font-variant-numeric:tabular-nums}
svg text.small{font-size:10px}
svg tspan.share{fill:#7b8794;font-weight:400}
svg text.tick{font-size:10px;fill:#7b8794}
svg line.grid{stroke:#e9edf1}
svg line.axis{stroke:#9aa5b1}
svg path.cut{stroke:#fff;stroke-width:2.5;fill:none}
svg rect:hover{opacity:.8}
.risk-list{max-height:760px;overflow:auto;padding-right:6px}
.risk-item{border:1px solid var(--line);border-left:4px solid var(--risk);border-radius:8px;padding:10px 14px;
margin:0 0 10px}
.risk-head{display:flex;gap:10px;align-items:baseline}
.risk-head h3{margin:0;font-size:15px}
.risk-score{flex:none;background:#fdecea;color:var(--risk);font-weight:700;border-radius:6px;padding:1px 7px;
font-size:13px;font-variant-numeric:tabular-nums}
.risk-item .meta{color:var(--muted);font-size:12px;margin:2px 0 6px}
.doc-id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.evidence{margin:0;padding:0;list-style:none}
.evidence li{margin:4px 0;font-size:13px}
.evidence q{color:#323f4b}
.sig{display:inline-block;background:#fdecea;color:#8e1c1c;border-radius:4px;padding:0 6px;font-size:12px;
font-weight:600;margin-right:4px}
.controls{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:end;margin:0 0 12px}
.controls label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:3px}
.controls input,.controls select,.controls button{font:inherit;font-size:13px;padding:5px 8px;border:1px solid #cbd2d9;
border-radius:6px;background:#fff;color:var(--ink)}
.controls input{min-width:260px}
.controls select{max-width:260px}
.controls button{cursor:pointer}
.count{color:var(--muted);font-size:13px;margin-left:auto;align-self:center}
.table-wrap{max-height:78vh;overflow:auto;border:1px solid var(--line);border-radius:8px}
table{border-collapse:collapse;width:100%;min-width:1040px;table-layout:fixed;font-size:13px}
th,td{text-align:left;padding:6px 10px;border-bottom:1px solid var(--line);vertical-align:top}
thead th{position:sticky;top:0;background:#f0f4f8;z-index:1;font-weight:600}
th button.sort{all:unset;cursor:pointer}
th button.sort::after{content:" ↕";color:#9aa5b1}
th[aria-sort=ascending] button.sort::after{content:" ↑";color:var(--ink)}
th[aria-sort=descending] button.sort::after{content:" ↓";color:var(--ink)}
th button.sort:focus-visible{outline:2px solid var(--accent)}
tbody tr:nth-child(even){background:#fafbfc}
tbody tr:hover{background:#eef4fb}
tr.non-innovation td{color:#9aa5b1}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td{overflow-wrap:break-word}
td.id{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.opd{color:var(--muted);font-size:12px}
.chip{display:inline-block;border:1px solid var(--c);color:var(--c);border-radius:8px;padding:0 6px;
margin:1px 3px 1px 0;font-size:12px;line-height:1.35;background:#fff}
tr.non-innovation .chip{opacity:.6}
.status{font-weight:600}
.s-sustained{color:var(--ok)}
.s-at_risk{color:var(--risk)}
.s-unclear{color:var(--muted)}
footer{color:var(--muted);font-size:12px;padding:4px 24px 28px}
footer code{font-size:11px;word-break:break-all}
@media (max-width:900px){.grid,.risk-grid{grid-template-columns:minmax(0,1fr)}.stats{grid-template-columns:1fr 1fr}}
@media print{header.top{background:none;color:var(--ink)}.controls,nav{display:none}
.table-wrap,.risk-list{max-height:none;overflow:visible}section{break-inside:avoid-page}}
"""

# Filtering and sorting for the server-rendered table. It reads only data-* attributes and
# textContent, and moves existing rows: no HTML is built from strings, so no text can become markup.
_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("doc-table");
  var controls = document.getElementById("doc-controls");
  if (!table || !controls) { return; }
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows).filter(function (row) { return row.hasAttribute("data-region"); });
  var texts = null;  // lower-cased row text, built on the first text search (costly for big tables)
  var textBox = document.getElementById("filter-text");
  var sustainability = document.getElementById("filter-sustainability");
  var trend = document.getElementById("filter-trend");
  var region = document.getElementById("filter-region");
  var counter = document.getElementById("doc-count");
  var numbers = new Intl.NumberFormat("id-ID");
  var collator = new Intl.Collator("id", {numeric: true, sensitivity: "base"});

  function apply() {
    var terms = textBox.value.toLowerCase().split(/\\s+/).filter(Boolean);
    var s = sustainability.value, t = trend.value, r = region.value, shown = 0;
    if (terms.length && !texts) {
      texts = rows.map(function (row) { return row.textContent.toLowerCase(); });
    }
    rows.forEach(function (row, i) {
      var ok = (!s || row.getAttribute("data-sustainability") === s) &&
        (!t || (" " + row.getAttribute("data-trends") + " ").indexOf(" " + t + " ") >= 0) &&
        (!r || row.getAttribute("data-region") === r) &&
        terms.every(function (term) { return texts[i].indexOf(term) >= 0; });
      if (row.hidden === ok) { row.hidden = !ok; }
      if (ok) { shown += 1; }
    });
    count(shown);
  }

  function count(shown) {
    counter.textContent = "Menampilkan " + numbers.format(shown) + " dari " + numbers.format(rows.length) + " dokumen";
  }

  var timer = 0;
  textBox.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(apply, rows.length > 3000 ? 200 : 0);
  });
  [sustainability, trend, region].forEach(function (select) { select.addEventListener("change", apply); });
  document.getElementById("filter-reset").addEventListener("click", function () {
    textBox.value = ""; sustainability.value = ""; trend.value = ""; region.value = "";
    apply();
  });

  // A cell sorts on data-sort when it has one, else on its first child's text (a title, not the
  // agency under it; the first label of a list). null marks a missing value: always at the bottom.
  function sortKey(row, column, numeric) {
    var cell = row.cells[column];
    var value = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : "";
    if (!cell.hasAttribute("data-sort") && cell.firstChild) { value = cell.firstChild.textContent; }
    value = value.trim();
    if (!value) { return null; }
    if (numeric) { var number = parseFloat(value); return isNaN(number) ? null : number; }
    return value;
  }

  var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
  function sortBy(column) {
    var th = heads[column];
    var numeric = th.getAttribute("data-type") === "num";
    var current = th.getAttribute("aria-sort");
    var ascending = current ? current !== "ascending" : !numeric;
    var keyed = rows.map(function (row, i) { return {row: row, key: sortKey(row, column, numeric), index: i}; });
    keyed.sort(function (a, b) {
      if (a.key === null || b.key === null) {
        return (a.key === null) - (b.key === null) || a.index - b.index;
      }
      var c = numeric ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : collator.compare(a.key, b.key);
      if (!ascending) { c = -c; }
      return c || a.index - b.index;
    });
    var fragment = document.createDocumentFragment();
    keyed.forEach(function (item) { fragment.appendChild(item.row); });
    body.appendChild(fragment);
    heads.forEach(function (other) { other.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
  }
  heads.forEach(function (th, column) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "sort";
    button.title = "Urutkan";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(column); });
  });

  controls.hidden = false;
  count(rows.length);
  document.body.setAttribute("data-ready", "1");
})();
"""


def build_report(
    records: Iterable[dict],
    *,
    title: str = DEFAULT_TITLE,
    generated_at: str | None = None,
    top_regions: int = DEFAULT_TOP_REGIONS,
    max_at_risk: int = DEFAULT_MAX_AT_RISK,
) -> str:
    """Return one self-contained HTML page summarising labelled documents.

    ``records`` are label records as :func:`read_label_records` yields them;
    they are read once. ``top_regions`` regions get their own bar in the
    regional charts (the rest are grouped as "Lainnya"), and the at-risk list
    shows the ``max_at_risk`` highest-scoring at-risk innovations.
    """
    agg = _Aggregates(max_at_risk=max(0, max_at_risk))
    for record in records:
        agg.add(record)
    if generated_at is None:
        generated_at = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    page_title = _text(title, 200) or DEFAULT_TITLE
    subtitle = f"{_fmt_int(agg.documents)} dokumen, {_fmt_int(agg.innovations)} inovasi · dibuat {generated_at}"
    nav = "".join(
        f'<a href="#{anchor}">{name}</a>'
        for anchor, name in (
            ("label", "Label"),
            ("tahun", "Per tahun"),
            ("daerah", "Per daerah"),
            ("berisiko", "Inovasi berisiko"),
            ("dokumen", "Semua dokumen"),
        )
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="id"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="inovasi-nlp">'
        f"<title>{_esc(page_title)}</title><style>{_STYLE}{_CHIP_CSS}</style></head>\n"
        f'<body><header class="top"><div class="wrap"><h1>{_esc(page_title)}</h1>'
        f'<p class="sub">{_esc(subtitle)}</p><nav>{nav}</nav></div></header>\n'
        f'<main class="wrap">{_section_summary(agg)}\n{_section_overall(agg)}\n{_section_years(agg)}\n'
        f"{_section_regions(agg, max(1, top_regions))}\n{_section_at_risk(agg)}\n{_section_table(agg)}</main>\n"
        f"{_footer(agg, generated_at)}\n<script>{_SCRIPT}</script></body></html>\n"
    )
