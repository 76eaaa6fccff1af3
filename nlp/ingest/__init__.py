"""Read source files and records into :class:`Document` objects.

``iter_documents(["laporan/", "iga-2023.xlsx"])`` streams one ``Document`` per
text file (TXT, Markdown, PDF, DOCX) or per record (JSONL, CSV/TSV, XLSX) and one
``Skipped`` per file or record that cannot be read, with a one-line reason that
says how to fix it. Heavy readers (pypdf, python-docx, openpyxl) are imported
only when a file of their type is read.
"""

from __future__ import annotations

from nlp.ingest.document import Document, FieldMap, Skipped, content_hash
from nlp.ingest.sources import SUPPORTED_SUFFIXES, iter_documents

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Document",
    "FieldMap",
    "Skipped",
    "content_hash",
    "iter_documents",
]
