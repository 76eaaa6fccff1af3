"""Readers for whole-file documents: plain text, Markdown, PDF and DOCX.

Each reader takes the path to open, the id (path relative to the source root) and
the path as shown to the user, and yields exactly one ``Document`` or ``Problem``.

Title rules, in order (the first that gives a non-empty title wins):

- ``.txt``: the first non-empty line, when it is at most 150 characters long
  (a longer first line is a paragraph, not a title).
- ``.md``: ``title:`` in YAML front matter; the first heading (``# ...`` or a
  line underlined with ``===``/``---``); then the ``.txt`` rule.
- ``.pdf``: the document-information title unless it is a placeholder left by
  the producing program ("Untitled", "Microsoft Word - x.docx", a file name);
  then the ``.txt`` rule on the extracted text.
- ``.docx``: the core-properties title (same placeholder filter); the first
  paragraph styled Title or Heading N; then the ``.txt`` rule.

The text is the whole extracted text, title line included; only newlines and
Unicode composition are normalised here. A PDF's running headers, footers and
page numbers are dropped (the header is kept once, at the top of the first
page), a sentence cut by a page break is joined again, and a word hyphenated at
a line end is made whole (:func:`strip_running_lines`, :func:`join_pages`,
:func:`join_hyphenated`).
"""

from __future__ import annotations

import logging
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from nlp.ingest.document import Document, Problem, make_document
from nlp.ingest.encoding import NotTextError, decode_bytes, normalise_text

MAX_TITLE_CHARS = 150
# Running headers and footers sit in the first and last lines of a PDF page.
RUNNING_ZONE_LINES = 2
# A zone line repeated on at least this share of the pages (and on two or more) is running text.
RUNNING_SHARE = 0.5
RUNNING_MAX_CHARS = 120

_PLACEHOLDER_TITLE = re.compile(
    r"^(untitled|tanpa judul|judul|title|document\s*\d*|dokumen\s*\d*|"
    r"microsoft (word|powerpoint|excel) - .*|.*\.(docx?|pdf|odt|rtf|txt))$",
    re.IGNORECASE,
)
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(=+|-+)\s*$")

_PAGE_NUMBER_LINE = re.compile(
    r"^(?:(?:halaman|hal\.?|page)\s*)?[-–—]?\s*(?:\d{1,3}|(?=[ivx])x{0,3}(?:ix|iv|v?i{0,3}))\s*[-–—]?"
    r"(?:\s*(?:dari|/|of)\s*\d{1,3})?$",
    re.IGNORECASE,
)
_EDGE_NUMBERS = re.compile(
    r"^(?:(?:halaman|hal\.?|page)\s*)?\d{1,3}\s*[|\u00b7\u2022:\-\u2013\u2014]*\s*"
    r"|\s*[|\u00b7\u2022:,\-\u2013\u2014]*\s*(?:(?:halaman|hal\.?|page)\s*)?\d{1,3}(?:\s*(?:dari|/|of)\s*\d{1,3})?$"
)
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "”", ")")
# A word broken at a line end: "pe-" + newline + "layanan" (join_hyphenated decides whether the hyphen stays).
_LINE_END_HYPHEN = re.compile(r"([^\W_]+)([-\u00ad\u2010])[ \t]*\n[ \t]*([^\W_]+)")

Item = Document | Problem


def first_line_title(text: str) -> str | None:
    """Return the first non-empty line of ``text`` when it is short enough to be a title."""
    for line in text.split("\n"):
        line = line.strip()
        if line:
            return line if len(line) <= MAX_TITLE_CHARS else None
    return None


def _clean_metadata_title(value: Any) -> str | None:
    if value is None:
        return None
    title = " ".join(str(value).split())
    if not title or _PLACEHOLDER_TITLE.match(title):
        return None
    return title


def _markdown_title(text: str) -> str | None:
    lines = text.split("\n")
    start = 0
    if lines and lines[0].strip() == "---":
        for end in range(1, min(len(lines), 100)):
            if lines[end].strip() in ("---", "..."):
                for line in lines[1:end]:
                    key, sep, value = line.partition(":")
                    if sep and key.strip().lower() == "title":
                        title = value.strip().strip("\"'").strip()
                        if title:
                            return title
                start = end + 1
                break
    previous = ""
    for line in lines[start:]:
        heading = _ATX_HEADING.match(line)
        if heading and heading.group(1).strip():
            return heading.group(1).strip()
        if previous.strip() and _SETEXT_UNDERLINE.match(line):
            return previous.strip()
        previous = line
    return first_line_title("\n".join(lines[start:]))


def _read_decoded(path: Path, shown: str) -> tuple[str, str] | Problem:
    data = path.read_bytes()
    if not data:
        return Problem(shown, "empty file", "remove it or export it again")
    try:
        text, encoding = decode_bytes(data)
    except NotTextError as exc:
        return Problem(shown, exc.what, exc.fix)
    if not text.strip():
        return Problem(shown, "no text (only whitespace)", "remove it or export it again")
    return text, encoding


def read_txt(path: Path, rel: str, shown: str) -> Iterator[Item]:
    """Read a plain-text file in any of the encodings :mod:`nlp.ingest.encoding` accepts."""
    decoded = _read_decoded(path, shown)
    if isinstance(decoded, Problem):
        yield decoded
        return
    text, encoding = decoded
    meta = {"format": "txt", "encoding": encoding}
    yield make_document(rel, text, first_line_title(text), shown, meta)


def read_markdown(path: Path, rel: str, shown: str) -> Iterator[Item]:
    """Read a Markdown file; the markup is kept in the text."""
    decoded = _read_decoded(path, shown)
    if isinstance(decoded, Problem):
        yield decoded
        return
    text, encoding = decoded
    meta = {"format": "md", "encoding": encoding}
    yield make_document(rel, text, _markdown_title(text), shown, meta)


def _short_error(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return message if len(message) <= 120 else message[:117] + "..."


def _quiet_pypdf_logger() -> None:
    """Keep pypdf's repair warnings off stderr when the application configured no logging.

    Python prints unhandled warnings through its last-resort handler; every problem that
    matters is already reported as a Skipped, so a NullHandler is attached. Records still
    propagate to handlers an application installs on the root logger.
    """
    logger = logging.getLogger("pypdf")
    if not any(isinstance(handler, logging.NullHandler) for handler in logger.handlers):
        logger.addHandler(logging.NullHandler())


def _running_key(line: str) -> str:
    """A zone line compared across pages: lower-cased, spaces collapsed, a page number at either end cut off."""
    return _EDGE_NUMBERS.sub("", " ".join(line.split()).lower())


def strip_running_lines(pages: list[str]) -> list[str]:
    """Drop the running headers, footers and page numbers of a multi-page PDF's page texts.

    A line in the first or last ``RUNNING_ZONE_LINES`` lines of a page is running text
    when the same line (a page number at either end aside: "Laporan Tahun 2024 - 3") sits
    in that zone on at least ``RUNNING_SHARE`` of the pages and does not close a sentence
    (a wrapped line of prose can repeat), or when it is a bare page number ("12",
    "- 3 -", "Halaman 2 dari 9", "iv"; never a four-digit year). Running lines are kept where they first appear
    at the top of the first page, where a report's header or title belongs; every later
    copy is dropped, so the heading context of each page is its own and sentences that
    cross a page break can be joined again (:func:`join_pages`).
    """
    if len(pages) < 2:
        return pages
    split = [page.split("\n") for page in pages]

    def zone(lines: list[str]) -> list[int]:
        filled = [i for i, line in enumerate(lines) if line.strip()]
        return sorted(set(filled[:RUNNING_ZONE_LINES] + filled[-RUNNING_ZONE_LINES:]))

    counts: dict[str, int] = {}
    for lines in split:
        for key in {_running_key(lines[i]) for i in zone(lines)}:
            counts[key] = counts.get(key, 0) + 1
    needed = max(2, int(RUNNING_SHARE * len(pages) + 0.999))
    # A line that closes a sentence is prose (a wrapped line that happens to repeat), never a header.
    running = {
        key
        for key, n in counts.items()
        if n >= needed and 0 < len(key) <= RUNNING_MAX_CHARS and not key.endswith((".", "!", "?"))
    }
    cleaned = []
    for number, lines in enumerate(split):
        drop = set()
        top = zone(lines)[:RUNNING_ZONE_LINES]
        for i in zone(lines):
            line = lines[i].strip()
            page_number = _PAGE_NUMBER_LINE.match(line) is not None
            repeated = _running_key(line) in running and not (number == 0 and i in top)
            if page_number or repeated:
                drop.add(i)
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in drop).strip())
    return cleaned


def join_pages(pages: list[str]) -> str:
    """Join page texts with a blank line, or with a line break when a sentence runs on across the break.

    A page whose text ends without closing punctuation, followed by a page that starts
    in lower case, is one sentence cut by the page break; a single newline lets the
    sentence splitter join it as a wrapped line.
    """
    text = ""
    for page in pages:
        if not page:
            continue
        if text and not text.endswith(_SENTENCE_END) and page[0].islower():
            text += "\n" + page
        else:
            text += ("\n\n" if text else "") + page
    return text


def _keeps_hyphen(left: str, right: str) -> bool:
    """Whether "left-right" is a hyphenated word in its own right rather than one word broken by the layout.

    Kept: numbers and codes ("2019-2024", "Covid-19"), one-letter prefixes ("e-government"), and Indonesian
    reduplication, full ("anak-anak", "anak-anaknya", "sehari-hari") or rhyming ("sayur-mayur", "lauk-pauk",
    "gotong-royong").
    """
    a, b = left.lower(), right.lower()
    if any(c.isdigit() for c in a + b) or len(a) == 1:
        return True
    if b.startswith(a) or a.endswith(b):
        return True
    return len(a) >= 4 and len(b) >= 4 and a[-3:] == b[-3:]


def join_hyphenated(text: str) -> str:
    """Undo line-end hyphenation: "pe-\nlayanan" becomes "pelayanan", "anak-\nanak" becomes "anak-anak".

    Typeset PDFs (journal articles, two-column reports) break long words at line ends; left broken, the
    stemmer and the cue rules see two fragments ("pe", "layanan"). A soft hyphen (U+00AD) always marks a
    break, and one left inside a line (invisible, but it splits the word for the stemmer) is dropped; an
    ordinary hyphen is kept when the two halves form a hyphenated word (:func:`_keeps_hyphen`). A
    continuation in upper case is left as it is ("SP4N-" / "LAPOR!"): it starts a name or a new line.
    """

    def repair(match: re.Match[str]) -> str:
        left, hyphen, right = match.group(1), match.group(2), match.group(3)
        if not (right[0].islower() or right[0].isdigit()):
            return match.group(0)
        if hyphen != "\u00ad" and _keeps_hyphen(left, right):
            return f"{left}-{right}"
        return left + right

    return _LINE_END_HYPHEN.sub(repair, text).replace("\u00ad", "")


def read_pdf(path: Path, rel: str, shown: str) -> Iterator[Item]:
    """Read the text layer of a PDF with pypdf, without running headers, footers and page numbers."""
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError

    _quiet_pypdf_logger()

    if path.stat().st_size == 0:
        yield Problem(shown, "empty file", "remove it or export it again")
        return
    # pypdf reports damaged files with many exception types (PdfReadError, ValueError,
    # KeyError, struct errors...) and may fail late, while extracting a page, so the
    # whole read is one guarded block: any failure means this file cannot be used.
    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError:
                yield Problem(
                    shown,
                    "AES-encrypted PDF and the 'cryptography' package is not installed",
                    "pip install cryptography, or remove the encryption",
                )
                return
            if opened == PasswordType.NOT_DECRYPTED:
                yield Problem(shown, "encrypted PDF", "remove the password first")
                return
        pages = [normalise_text(page.extract_text() or "").strip() for page in reader.pages]
        info_title = reader.metadata.title if reader.metadata else None
    except Exception as exc:
        yield Problem(
            shown,
            f"corrupt or truncated PDF ({_short_error(exc)})",
            "open and re-save it, or download it again",
        )
        return
    text = join_hyphenated(join_pages(strip_running_lines(pages)))
    if not text.strip():
        yield Problem(shown, "no text layer (scanned PDF?)", "run OCR first")
        return
    title = _clean_metadata_title(info_title) or first_line_title(text)
    yield make_document(rel, text, title, shown, {"format": "pdf", "pages": len(pages)})


def _docx_blocks(document: Any) -> Iterator[tuple[str, str | None, bool]]:
    """Yield ``(text, style name, is_table)`` for paragraphs and table rows of the body in document order.

    A table row becomes one line with its cells joined by " | "; horizontally merged
    cells, which python-docx repeats once per grid column, are taken once.
    """
    from docx.table import Table

    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines = []
            for row in block.rows:
                cells = []
                seen: set[int] = set()
                for cell in row.cells:
                    if id(cell._tc) in seen:
                        continue
                    seen.add(id(cell._tc))
                    cells.append(" ".join(cell.text.split()))
                if any(cells):
                    lines.append(" | ".join(cells))
            if lines:
                yield "\n".join(lines), None, True
        else:
            try:
                style = block.style.name if block.style is not None else None
            except (KeyError, ValueError, AttributeError):
                style = None
            yield block.text, style, False


def read_docx(path: Path, rel: str, shown: str) -> Iterator[Item]:
    """Read paragraphs and tables of a Word document body (headers and footers are left out)."""
    import docx

    if path.stat().st_size == 0:
        yield Problem(shown, "empty file", "remove it or export it again")
        return
    if not zipfile.is_zipfile(path):
        yield Problem(
            shown,
            "not a DOCX file (no ZIP package inside; an old .doc or a renamed file?)",
            "open it in Word and save it again as .docx",
        )
        return
    # python-docx raises PackageNotFoundError, BadZipFile, KeyError or lxml errors for
    # files that are not Word documents; all mean the same to the user.
    try:
        document = docx.Document(str(path))
        blocks = [(normalise_text(text).strip(), style, is_table) for text, style, is_table in _docx_blocks(document)]
        core_title = document.core_properties.title
    except Exception as exc:
        yield Problem(
            shown,
            f"corrupt DOCX or not a Word document ({_short_error(exc)})",
            "open it in Word and save it again as .docx",
        )
        return
    blocks = [block for block in blocks if block[0]]
    text = "\n\n".join(block for block, _, _ in blocks)
    if not text:
        yield Problem(shown, "no text in the document body", "check the file or export it again")
        return
    title = _clean_metadata_title(core_title)
    if title is None:
        for block, style, is_table in blocks:
            if not is_table and style and (style == "Title" or style.startswith("Heading")):
                title = " ".join(block.split())
                break
    if title is None:
        title = first_line_title(text)
    tables = sum(1 for _, _, is_table in blocks if is_table)
    meta = {"format": "docx", "paragraphs": len(blocks) - tables, "tables": tables}
    yield make_document(rel, text, title, shown, meta)
