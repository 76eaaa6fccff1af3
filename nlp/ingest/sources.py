"""Walk the sources a user names and dispatch each file to its reader.

Folders are walked recursively in sorted order (by name, at every level), so two
runs over the same tree yield documents in the same order. Hidden files and
folders (".git", ".DS_Store") and Office lock files ("~$laporan.docx") are
passed over, as are files whose type no reader handles; a file named directly
is always read, and an unsupported one is reported. Symbolic links to files are
followed, links to folders are not (they can loop).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from nlp.errors import FieldMappingError, SourceError
from nlp.ingest.document import Document, FieldMap, Problem, Skipped
from nlp.ingest.files import read_docx, read_markdown, read_pdf, read_txt
from nlp.ingest.records import FieldPlan, read_csv, read_jsonl, read_xlsx

Item = Document | Problem
_FileReader = Callable[[Path, str, str], Iterator[Item]]
_RecordReader = Callable[[Path, str, str, FieldPlan], Iterator[Item]]

FILE_READERS: dict[str, _FileReader] = {
    ".txt": read_txt,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".pdf": read_pdf,
    ".docx": read_docx,
}
RECORD_READERS: dict[str, _RecordReader] = {
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".csv": read_csv,
    ".tsv": read_csv,
    ".xlsx": read_xlsx,
}
SUPPORTED_SUFFIXES = tuple(sorted({*FILE_READERS, *RECORD_READERS}))
_DEFAULT_FIELDS = FieldMap()

_CONVERT_HINTS = {
    ".doc": "open it in Word and save it as .docx",
    ".rtf": "open it in Word and save it as .docx",
    ".odt": "save it as .docx",
    ".xls": "open it in Excel and save it as .xlsx or CSV",
    ".ods": "save it as .xlsx or CSV",
    ".json": "convert it to JSON Lines (.jsonl, one object per line)",
    ".htm": "save the page text as .txt",
    ".html": "save the page text as .txt",
}


def _is_hidden(name: str) -> bool:
    return name.startswith((".", "~$"))


def _walk(folder: Path) -> Iterator[Path | Problem]:
    """Yield supported files under ``folder`` in sorted order, or a Problem for an unreadable folder."""
    try:
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        yield Problem(
            folder.as_posix(),
            f"cannot list folder ({exc.strerror})",
            "check its permissions",
        )
        return
    for entry in entries:
        if _is_hidden(entry.name):
            continue
        path = Path(entry.path)
        if entry.is_dir(follow_symlinks=False):
            yield from _walk(path)
        elif entry.is_file() and path.suffix.lower() in SUPPORTED_SUFFIXES:
            yield path


def _unsupported(shown: str, suffix: str) -> Problem:
    fix = _CONVERT_HINTS.get(suffix, f"convert it to one of {', '.join(SUPPORTED_SUFFIXES)}")
    what = f"unsupported file type {suffix!r}" if suffix else "file has no extension"
    return Problem(shown, what, fix)


def _read_file(path: Path, rel: str, shown: str, plan: FieldPlan) -> Iterator[Item]:
    suffix = path.suffix.lower()
    try:
        if suffix in FILE_READERS:
            yield from FILE_READERS[suffix](path, rel, shown)
        elif suffix in RECORD_READERS:
            yield from RECORD_READERS[suffix](path, rel, shown, plan)
        else:
            yield _unsupported(shown, suffix)
    except OSError as exc:
        yield Problem(
            shown,
            f"cannot read ({exc.strerror or exc})",
            "check that the file exists and is readable",
        )


def _items(roots: list[tuple[Path, str]], plan: FieldPlan) -> Iterator[Item]:
    for root, given in roots:
        if root.is_dir():
            for found in _walk(root):
                if isinstance(found, Problem):
                    yield found
                    continue
                rel = found.relative_to(root).as_posix()
                shown = (Path(given) / rel).as_posix()
                yield from _read_file(found, rel, shown, plan)
        else:
            yield from _read_file(root, root.name, Path(given).as_posix(), plan)


def _duplicate(document: Document, first: str) -> Problem:
    if "#" in document.source:
        fix = "give every record its own id, or choose another field with --id-field"
    else:
        fix = "file ids are paths relative to the named folder; name their common parent folder once"
    return Problem(document.source, f"duplicate id {document.id!r} (first seen in {first})", fix)


def _generate(roots: list[tuple[Path, str]], plan: FieldPlan, strict: bool) -> Iterator[Document | Skipped]:
    first_seen: dict[str, str] = {}
    for item in _items(roots, plan):
        if isinstance(item, Document):
            if item.id in first_seen:
                item = _duplicate(item, first_seen[item.id])
            else:
                first_seen[item.id] = item.source
                yield item
                continue
        if strict:
            if item.field_mapping:
                skipped = item.to_skipped()
                raise FieldMappingError(f"{skipped.path}: {skipped.reason}")
            raise SourceError(item.path, item.what, item.fix)
        yield item.to_skipped()


def iter_documents(
    sources: Sequence[str | Path],
    fields: FieldMap = _DEFAULT_FIELDS,
    *,
    strict: bool = False,
) -> Iterator[Document | Skipped]:
    """Yield a Document for every readable file or record under ``sources``, and a Skipped for the rest.

    ``sources`` are files and folders; folders are walked recursively in sorted order.
    ``fields`` names the id, text and title fields of CSV, XLSX and JSONL records.
    A source that does not exist raises :class:`SourceError` at once, and an unusable
    ``fields`` raises :class:`FieldMappingError`, both before anything is read. With
    ``strict=True`` the first problem raises instead of yielding a Skipped:
    ``FieldMappingError`` when naming other fields would fix it (``--text-field``),
    ``SourceError`` otherwise. Documents stream: one file, or one record, at a time.
    """
    if isinstance(sources, (str, Path)):
        sources = [sources]
    roots: list[tuple[Path, str]] = []
    for source in sources:
        path = Path(source)
        if not path.exists():
            raise SourceError(str(source), "no such file or folder", "check the path")
        roots.append((path, str(source)))
    plan = FieldPlan.from_fields(fields)
    return _generate(roots, plan, strict)
