"""Readers for one-document-per-record sources: JSON Lines, CSV/TSV and XLSX.

All three stream: JSONL line by line, CSV row by row through :mod:`csv`, and XLSX
through openpyxl's read-only mode, so a 100,000-row export never sits in memory.

Record numbering (used in ``Document.source`` and in ids made up for records without
one): JSONL uses the physical line number; CSV the row number as a spreadsheet would
show it (the header is row 1, so the first record is row 2); XLSX ``<sheet>!<row>``
with the worksheet's own row numbers. Every sheet of a workbook is read; the sheet
name goes to ``meta["sheet"]`` (``meta["_sheet"]`` when a column is already called
"sheet"). Rows whose cells are all empty, and blank JSONL lines, are passed over
silently; rows with other data but no text are reported.

Values kept in ``meta`` are cleaned so they are JSON-safe and comparable across
formats: strings are stripped (empty ones become ``None``); whole floats such as
2023.0 and plain integer strings of up to nine digits such as "2023" become ``int``
(longer digit strings like NIK/NIP numbers and strings with leading zeros like
"0012" stay strings, so no identifier loses digits); NaN becomes ``None``; dates
become ISO strings ("2023-05-01", or "2023-05-01T08:30:00" when a time is set).
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from nlp.errors import FieldMappingError
from nlp.ingest.document import Document, FieldMap, Problem, make_document
from nlp.ingest.encoding import NotTextError, detect_encoding, normalise_text

_PLAIN_INT = re.compile(r"^[+-]?(0|[1-9][0-9]{0,8})$")
_DELIMITERS = (",", ";", "\t")
_DEFAULTS = FieldMap()

Item = Document | Problem


@dataclass(frozen=True)
class FieldPlan:
    """A validated :class:`FieldMap`: the text field list split, defaults remembered."""

    id: str
    text: tuple[str, ...]
    title: str
    id_required: bool
    title_required: bool

    @classmethod
    def from_fields(cls, fields: FieldMap) -> FieldPlan:
        """Check ``fields`` and split its text field list; raise FieldMappingError when unusable."""
        text = tuple(name.strip() for name in fields.text.split(",") if name.strip())
        if not text:
            raise FieldMappingError(
                f"text field {fields.text!r} names no field; pass --text-field NAME "
                "(several fields: --text-field rancang_bangun,tujuan,manfaat)"
            )
        for role, name in (("id", fields.id), ("title", fields.title)):
            if not name.strip():
                raise FieldMappingError(f"{role} field is empty; pass --{role}-field NAME")
        return cls(
            id=fields.id.strip(),
            text=text,
            title=fields.title.strip(),
            # A field the user named explicitly must exist; the defaults may be absent.
            id_required=fields.id != _DEFAULTS.id,
            title_required=fields.title != _DEFAULTS.title,
        )


def clean_value(value: Any) -> Any:
    """Return ``value`` as a JSON-safe scalar (or list/dict) following the module rules."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        return int(value) if value.is_integer() else value
    if isinstance(value, Decimal):
        return clean_value(float(value))
    if isinstance(value, str):
        text = normalise_text(value).strip()
        if not text:
            return None
        if _PLAIN_INT.match(text):
            return int(text)
        return text
    if isinstance(value, dt.datetime):
        if value.tzinfo is None and value.time() == dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Mapping):
        return {str(key): clean_value(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [clean_value(item) for item in value]
    return str(value)


def _as_text(value: Any) -> str | None:
    """Return a field value as text, or None when it cannot be text (a JSON object)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return normalise_text(value).strip()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return "\n\n".join(part for part in (normalise_text(item).strip() for item in value) if part)
    return None


def _as_id(value: Any) -> str | None:
    text = _as_text(value)
    if not text:
        return None
    return " ".join(text.split())


def _resolve(name: str, names: Iterable[str]) -> str | None:
    """Find ``name`` among ``names``: exactly, else the one case-insensitive match."""
    names = list(names)
    if name in names:
        return name
    folded = [candidate for candidate in names if candidate.casefold() == name.casefold()]
    return folded[0] if len(folded) == 1 else None


def _list_names(names: Iterable[str]) -> str:
    listed = list(names)
    shown = ", ".join(listed[:30])
    return shown + (f", ... ({len(listed)} in all)" if len(listed) > 30 else "")


def _missing_field_problem(where: str, kind: str, role: str, name: str, names: Iterable[str]) -> Problem:
    option = {"text": "--text-field", "id": "--id-field", "title": "--title-field"}[role]
    return Problem(
        where,
        f"no {kind} {name!r} for the {role} (available: {_list_names(names) or 'none'})",
        f"pass {option} NAME to choose the right one",
        field_mapping=True,
    )


@dataclass(frozen=True)
class _Columns:
    """The fields of ``plan`` resolved against the names a source actually has."""

    id: str | None
    text: tuple[str, ...]
    title: str | None


def _resolve_columns(plan: FieldPlan, names: list[str], where: str, kind: str) -> _Columns | Problem:
    text = []
    for name in plan.text:
        found = _resolve(name, names)
        if found is None:
            return _missing_field_problem(where, kind, "text", name, names)
        text.append(found)
    id_name = _resolve(plan.id, names)
    if id_name is None and plan.id_required:
        return _missing_field_problem(where, kind, "id", plan.id, names)
    title_name = _resolve(plan.title, names)
    if title_name is None and plan.title_required:
        return _missing_field_problem(where, kind, "title", plan.title, names)
    return _Columns(id=id_name, text=tuple(text), title=title_name)


def _build(
    values: Mapping[str, Any],
    columns: _Columns,
    rel: str,
    shown: str,
    locator: str,
    extra_meta: Mapping[str, Any] | None = None,
) -> Item:
    """Turn one record into a Document, or a Problem when it has no usable text."""
    where = f"{shown}#{locator}"
    parts = []
    for name in columns.text:
        if name not in values:
            continue
        part = _as_text(values[name])
        if part is None:
            return Problem(
                where,
                f"field {name!r} holds a {type(values[name]).__name__}, not text",
                "choose a text field with --text-field",
                field_mapping=True,
            )
        if part:
            parts.append(part)
    if not parts:
        fields = ", ".join(repr(name) for name in columns.text)
        return Problem(where, f"empty text in {fields}", "fill it in or remove the record")
    text = "\n\n".join(parts)
    doc_id = _as_id(values.get(columns.id)) if columns.id else None
    title = _as_id(values.get(columns.title)) if columns.title else None
    used = {columns.id, columns.title, *columns.text}
    meta = {key: clean_value(value) for key, value in values.items() if key not in used}
    for key, value in (extra_meta or {}).items():
        meta["_" + key if key in meta else key] = value
    return make_document(doc_id or f"{rel}#{locator}", text, title, where, meta)


def _open_problem(path: Path, shown: str) -> str | Problem:
    """Return the encoding of a text records file, or the Problem that stops reading it."""
    if path.stat().st_size == 0:
        return Problem(shown, "empty file", "remove it or export it again")
    try:
        return detect_encoding(path)
    except NotTextError as exc:
        return Problem(shown, exc.what, exc.fix)


def read_jsonl(path: Path, rel: str, shown: str, plan: FieldPlan) -> Iterator[Item]:
    """Read a JSON Lines file: one JSON object per line; bad lines are reported and passed over."""
    encoding = _open_problem(path, shown)
    if isinstance(encoding, Problem):
        yield encoding
        return
    records = 0
    with path.open(encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            records += 1
            where = f"{shown}#{number}"
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Problem(
                    where,
                    f"not valid JSON ({exc.msg}: column {exc.colno})",
                    "fix or remove the line",
                )
                continue
            if not isinstance(record, dict):
                yield Problem(
                    where,
                    f"a JSON {type(record).__name__}, not an object",
                    "write one JSON object per line",
                )
                continue
            columns = _resolve_columns(plan, list(record), where, "field")
            if isinstance(columns, Problem):
                yield columns
                continue
            yield _build(record, columns, rel, shown, str(number))
    if records == 0:
        yield Problem(shown, "no records (only blank lines)", "remove it or export it again")


def _pick_delimiter(header_line: str) -> str:
    """Pick the delimiter occurring most often outside quotes in the header line (ties: , ; tab)."""
    counts = dict.fromkeys(_DELIMITERS, 0)
    quoted = False
    for char in header_line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(_DELIMITERS, key=lambda delimiter: counts[delimiter])
    return best if counts[best] else ","


def _header_names(cells: Iterable[Any]) -> list[str]:
    """Clean header cells: strip, name blank columns ``column_N``, suffix repeated names ``_2``."""
    names: list[str] = []
    seen: set[str] = set()
    for index, cell in enumerate(cells, start=1):
        name = " ".join(str(cell).split()) if cell is not None else ""
        if isinstance(cell, float) and cell.is_integer():
            name = str(int(cell))
        name = name or f"column_{index}"
        candidate, suffix = name, 2
        while candidate in seen:
            candidate, suffix = f"{name}_{suffix}", suffix + 1
        seen.add(candidate)
        names.append(candidate)
    return names


def _is_blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _rows_to_items(
    rows: Iterable[tuple[int, Any]],
    plan: FieldPlan,
    rel: str,
    shown: str,
    *,
    sheet: str | None = None,
) -> Iterator[Item]:
    """Shared CSV/XLSX logic: the first non-blank row is the header, each later row a record.

    ``rows`` yields ``(row number, cells)``. With ``sheet`` set (XLSX), locators read
    ``<sheet>!<row>``, the sheet name goes into meta, and a wholly empty sheet is
    passed over silently instead of being reported.
    """
    kind = "column"
    prefix = f"{sheet}!" if sheet is not None else ""
    where = f"{shown}#{sheet}" if sheet is not None else shown
    extra_meta = {"sheet": sheet} if sheet is not None else None
    header: list[str] | None = None
    columns: _Columns | None = None
    records = 0
    for number, row in rows:
        cells = list(row)
        if all(_is_blank(cell) for cell in cells):
            continue
        if columns is None:
            while cells and _is_blank(cells[-1]):
                cells.pop()
            header = _header_names(cells)
            resolved = _resolve_columns(plan, header, where, kind)
            if isinstance(resolved, Problem):
                yield resolved
                return
            columns = resolved
            continue
        assert header is not None
        records += 1
        locator = f"{prefix}{number}"
        if any(not _is_blank(cell) for cell in cells[len(header) :]):
            yield Problem(
                f"{shown}#{locator}",
                f"row has {len(cells)} cells but the header has {len(header)}",
                "check the delimiter and the quoting of this row",
            )
            continue
        values = dict(zip(header, cells, strict=False))  # short rows: missing cells are absent
        yield _build(values, columns, rel, shown, locator, extra_meta)
    if columns is None:
        if sheet is None:
            yield Problem(
                where,
                "no header row (empty table)",
                "add a header row naming the columns",
            )
    elif records == 0:
        yield Problem(where, "no data rows below the header", "check the file or export it again")


# Long free-text cells (IGA "rancang bangun" fields run to many pages) exceed the csv
# module's default 128 KiB field limit; the limit is process-wide, so it is only raised.
_CSV_FIELD_LIMIT = 64 * 1024 * 1024


def read_csv(path: Path, rel: str, shown: str, plan: FieldPlan) -> Iterator[Item]:
    """Read a CSV/TSV file with a header row; the delimiter (, ; or tab) is taken from the header."""
    encoding = _open_problem(path, shown)
    if isinstance(encoding, Problem):
        yield encoding
        return
    if csv.field_size_limit() < _CSV_FIELD_LIMIT:
        csv.field_size_limit(min(_CSV_FIELD_LIMIT, sys.maxsize))
    with path.open(encoding=encoding, newline="") as handle:
        first = handle.readline()
        reader = csv.reader(itertools.chain([first], handle), delimiter=_pick_delimiter(first))
        numbered = enumerate(reader, start=1)
        try:
            yield from _rows_to_items(numbered, plan, rel, shown)
        except csv.Error as exc:
            yield Problem(
                f"{shown}#{reader.line_num}",
                f"cannot parse CSV ({exc}); the rest of the file was not read",
                "fix the quoting on that line",
            )


def read_xlsx(path: Path, rel: str, shown: str, plan: FieldPlan) -> Iterator[Item]:
    """Read every worksheet of an Excel workbook, row by row in read-only mode."""
    import openpyxl

    if path.stat().st_size == 0:
        yield Problem(shown, "empty file", "remove it or export it again")
        return
    # openpyxl signals damaged or foreign files with BadZipFile, InvalidFileException,
    # KeyError or XML errors; for the user they all mean "not a readable workbook".
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        message = " ".join(str(exc).split())[:120] or type(exc).__name__
        yield Problem(
            shown,
            f"corrupt XLSX or not an Excel workbook ({message})",
            "open it in Excel and save it again as .xlsx",
        )
        return
    try:
        for sheet in workbook.worksheets:
            # Some writers record a wrong sheet size; without it openpyxl reads every row.
            sheet.reset_dimensions()
            rows = enumerate(sheet.iter_rows(min_row=1, values_only=True), start=1)
            yield from _rows_to_items(rows, plan, rel, shown, sheet=sheet.title)
    finally:
        workbook.close()
