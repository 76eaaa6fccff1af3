"""Render the plain-text sources in corpora/src/ as the PDF and DOCX files a real archive holds.

Usage: python corpora/tools/render_files.py [--src corpora/src] [--out corpora/sample/files] [--check]

Source format (UTF-8): the first non-empty line is the title; paragraphs are separated
by blank lines, and line breaks inside a paragraph are soft (joined with a space).
Within that:

- a paragraph whose lines all contain " | " with the same number of cells (at least a
  header and one row), optionally under a caption line starting with "Tabel", becomes
  a real table;
- a paragraph whose lines all start with "- ", "* " or "1. " becomes a list;
- a one-line paragraph of at most 80 characters without closing punctuation becomes a
  section heading.

``laporan-*.txt`` becomes ``<stem>.pdf`` (A4, the agency header "Badan Riset dan
Inovasi Daerah" and page numbers on every page, title in the PDF metadata) and
``proposal-*.txt`` becomes ``<stem>.docx`` (title as a Title-style heading and in the
core properties). Other files in the source folder are left alone. Output is
deterministic: reportlab runs with ``invariant=1`` and the DOCX archive gets fixed
timestamps, so rerunning on unchanged sources changes no bytes.

``--check`` reads the outputs back with ``nlp.ingest.iter_documents`` and compares them
word by word with the sources (the PDF header and page numbers left out); it exits 1
when any file differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

AGENCY = "Badan Riset dan Inovasi Daerah"
FIXED_TIME = dt.datetime(2024, 1, 1, 8, 0, 0)
_LIST_ITEM = re.compile(r"^(?:[-*\u2022]|\d{1,2}[.)])\s+")
_PAGE_LINE = re.compile(r"^Halaman \d+$")
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Block:
    """One paragraph of a source: kind is "paragraph", "heading", "list" or "table"."""

    kind: str
    lines: tuple[str, ...]
    caption: str | None = None


@dataclass(frozen=True)
class Source:
    """A parsed source text: its title and its blocks in order."""

    title: str
    blocks: tuple[Block, ...]


def _table_rows(lines: list[str]) -> list[list[str]] | None:
    if len(lines) < 2 or not all(" | " in line for line in lines):
        return None
    rows = [[cell.strip() for cell in line.strip().strip("|").split(" | ")] for line in lines]
    return rows if len({len(row) for row in rows}) == 1 else None


def _block(lines: list[str]) -> Block:
    if _table_rows(lines):
        return Block("table", tuple(lines))
    if lines[0].lower().startswith("tabel") and " | " not in lines[0] and _table_rows(lines[1:]):
        return Block("table", tuple(lines[1:]), caption=lines[0])
    if len(lines) > 1 and all(_LIST_ITEM.match(line) for line in lines):
        return Block("list", tuple(_LIST_ITEM.sub("", line) for line in lines))
    text = " ".join(lines)
    if len(lines) == 1 and len(text) <= 80 and text[-1] not in ".,;:!?\"'\u201d)":
        return Block("heading", (text,))
    return Block("paragraph", (text,))


def parse_source(text: str) -> Source:
    """Split a source text into its title and blocks."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise ValueError("empty source")
    title, body = lines[0].strip(), lines[1:]
    blocks: list[Block] = []
    current: list[str] = []
    for line in [*body, ""]:
        if line.strip():
            current.append(line.strip())
        elif current:
            blocks.append(_block(current))
            current = []
    return Source(title=title, blocks=tuple(blocks))


def table_cells(block: Block) -> list[list[str]]:
    """The cells of a table block, row by row."""
    rows = _table_rows(list(block.lines))
    assert rows is not None
    return rows


def render_pdf(source: Source, target: Path) -> None:
    """Write ``source`` as an A4 report PDF with header, page numbers and title metadata."""
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_JUSTIFY
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    from reportlab.lib.units import cm
    from reportlab.platypus import ListFlowable, ListItem, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    body = ParagraphStyle("Isi", parent=styles["BodyText"], fontSize=11, leading=15, alignment=TA_JUSTIFY)
    cell_style = ParagraphStyle("Sel", parent=styles["BodyText"], fontSize=9, leading=11)
    width, height = A4

    def header(canvas, document) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica-Bold", 9)
        canvas.drawString(2.5 * cm, height - 1.5 * cm, AGENCY)
        canvas.setLineWidth(0.5)
        canvas.line(2.5 * cm, height - 1.7 * cm, width - 2.5 * cm, height - 1.7 * cm)
        canvas.restoreState()

    class Report(SimpleDocTemplate):
        # The page number is drawn after the page body, as word processors do, so that
        # text extraction reads header, body, footer in that order.
        def afterPage(self) -> None:
            self.canv.saveState()
            self.canv.setFont("Helvetica", 9)
            self.canv.drawCentredString(width / 2, 1.3 * cm, f"Halaman {self.page}")
            self.canv.restoreState()

    story: list = [Paragraph(escape(source.title), styles["Title"]), Spacer(1, 0.4 * cm)]
    for block in source.blocks:
        if block.kind == "heading":
            story.append(Paragraph(escape(block.lines[0]), styles["Heading2"]))
        elif block.kind == "list":
            items = [ListItem(Paragraph(escape(line), body), leftIndent=12) for line in block.lines]
            story.append(ListFlowable(items, bulletType="bullet", start="\u2022", leftIndent=12))
        elif block.kind == "table":
            if block.caption:
                story.append(Paragraph(f"<b>{escape(block.caption)}</b>", body))
            data = [[Paragraph(escape(cell), cell_style) for cell in row] for row in table_cells(block)]
            table = Table(data, repeatRows=1, hAlign="LEFT", colWidths=[(width - 5 * cm) / len(data[0])] * len(data[0]))
            table.setStyle(
                TableStyle(
                    [
                        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")),
                        ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ]
                )
            )
            story.append(table)
        else:
            story.append(Paragraph(escape(block.lines[0]), body))
        story.append(Spacer(1, 0.25 * cm))
    buffer = io.BytesIO()
    document = Report(
        buffer,
        pagesize=A4,
        leftMargin=2.5 * cm,
        rightMargin=2.5 * cm,
        topMargin=2.5 * cm,
        bottomMargin=2.2 * cm,
        title=source.title,
        author=AGENCY,
        creator="inovasi-nlp corpora/tools/render_files.py",
        invariant=1,
    )
    document.build(story, onFirstPage=header, onLaterPages=header)
    target.write_bytes(buffer.getvalue())


def freeze_zip(data: bytes) -> bytes:
    """Rewrite a ZIP archive with fixed member timestamps so equal content gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            target.writestr(fixed, source.read(info.filename))
    return out.getvalue()


def render_docx(source: Source, target: Path) -> None:
    """Write ``source`` as a Word proposal with a Title heading, sections, lists and tables."""
    import docx

    document = docx.Document()
    properties = document.core_properties
    properties.title = source.title
    properties.author = "Tim Inovasi Daerah"
    properties.last_modified_by = "render_files"
    properties.created = FIXED_TIME
    properties.modified = FIXED_TIME
    properties.revision = 1
    document.add_heading(source.title, level=0)
    for block in source.blocks:
        if block.kind == "heading":
            document.add_heading(block.lines[0], level=1)
        elif block.kind == "list":
            for line in block.lines:
                document.add_paragraph(line, style="List Bullet")
        elif block.kind == "table":
            if block.caption:
                document.add_paragraph().add_run(block.caption).bold = True
            rows = table_cells(block)
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for row_cells, values in zip(table.rows, rows, strict=True):
                for cell, value in zip(row_cells.cells, values, strict=True):
                    cell.text = value
            for cell in table.rows[0].cells:
                for run in cell.paragraphs[0].runs:
                    run.bold = True
        else:
            document.add_paragraph(block.lines[0])
    buffer = io.BytesIO()
    document.save(buffer)
    target.write_bytes(freeze_zip(buffer.getvalue()))


RENDERERS = {"laporan-": (".pdf", render_pdf), "proposal-": (".docx", render_docx)}


def render_all(src: Path, out: Path) -> list[tuple[Path, Path]]:
    """Render every ``laporan-*.txt`` and ``proposal-*.txt`` in ``src``; return (source, output) pairs."""
    out.mkdir(parents=True, exist_ok=True)
    done = []
    for path in sorted(src.glob("*.txt")):
        for prefix, (suffix, render) in RENDERERS.items():
            if path.name.startswith(prefix):
                target = out / (path.stem + suffix)
                render(parse_source(path.read_text(encoding="utf-8")), target)
                done.append((path, target))
    return done


def source_words(source: Source) -> list[str]:
    """The words of a parsed source in reading order (title, captions, cells)."""
    parts = [source.title]
    for block in source.blocks:
        if block.caption:
            parts.append(block.caption)
        parts.extend(block.lines)
    return _WORD.findall(" ".join(parts).replace(" | ", " "))


def extracted_words(text: str) -> list[str]:
    """The words of text read back from a rendered file, without the PDF header and page numbers."""
    kept = [line for line in text.split("\n") if line.strip() != AGENCY and not _PAGE_LINE.match(line.strip())]
    return _WORD.findall(" ".join(kept))


def check_round_trip(pairs: list[tuple[Path, Path]]) -> list[str]:
    """Read the outputs with nlp.ingest and return one line per file whose words differ."""
    from nlp.ingest import Document, iter_documents

    problems = []
    for source_path, output in pairs:
        expected = source_words(parse_source(source_path.read_text(encoding="utf-8")))
        items = list(iter_documents([output]))
        if len(items) != 1 or not isinstance(items[0], Document):
            problems.append(f"{output}: not read back ({items})")
            continue
        got = extracted_words(items[0].text)
        if got != expected:
            at = next((i for i, (a, b) in enumerate(zip(expected, got, strict=False)) if a != b), None)
            at = min(len(expected), len(got)) if at is None else at
            problems.append(
                f"{output}: words differ from {source_path.name} at word {at}: "
                f"expected {expected[at : at + 6]}, got {got[at : at + 6]}"
            )
        elif items[0].title != parse_source(source_path.read_text(encoding="utf-8")).title:
            problems.append(f"{output}: title {items[0].title!r} differs from the source")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    root = Path(__file__).resolve().parents[2]
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, default=root / "corpora" / "src")
    parser.add_argument("--out", type=Path, default=root / "corpora" / "sample" / "files")
    parser.add_argument("--check", action="store_true", help="read the outputs back and compare words")
    args = parser.parse_args(argv)
    if not args.src.is_dir():
        print(f"{args.src}: no such folder; write the sources first or pass --src", file=sys.stderr)
        return 1
    pairs = render_all(args.src, args.out)
    print(f"rendered {len(pairs)} files into {args.out}")
    if args.check:
        sys.path.insert(0, str(root))
        problems = check_round_trip(pairs)
        for line in problems:
            print(line, file=sys.stderr)
        print(f"round trip: {len(pairs) - len(problems)} of {len(pairs)} files match word for word")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
