"""Decode text files whose encoding nobody wrote down.

Archives of regional reports mix UTF-8 (with and without a byte-order mark),
UTF-16 exports from Excel ("Unicode text") and Windows-1252 files from older
Windows machines. The rule, in order:

1. a byte-order mark decides (UTF-8, UTF-16, UTF-32), and the mark is removed;
2. NUL bytes without a mark mean UTF-16 when they sit in every other byte,
   otherwise the file is binary, not text;
3. bytes that are valid UTF-8 are UTF-8;
4. anything else is Windows-1252 (so "\x93Rp 1.500\x94" and "\xe9" come out as
   curly quotes and "é"), or Latin-1 when the bytes are undefined in
   Windows-1252.

A fixed cascade is used rather than statistical detection because Indonesian
text is nearly all ASCII: a detector guesses from a handful of accented bytes
and can pick a different code page for two files of the same export, while
Windows-1252 is what Indonesian Windows machines write.
"""

from __future__ import annotations

import codecs
import unicodedata
from pathlib import Path

_CHUNK = 1 << 20

_BOMS: tuple[tuple[bytes, str], ...] = (
    # UTF-32 first: its little-endian mark starts with the UTF-16 one.
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


class NotTextError(Exception):
    """Raised inside the ingest package when bytes are not text; becomes a ``Skipped``."""

    def __init__(self, what: str, fix: str) -> None:
        self.what = what
        self.fix = fix
        super().__init__(f"{what}; {fix}")


def _bom_encoding(head: bytes) -> str | None:
    for bom, name in _BOMS:
        if head.startswith(bom):
            return name
    return None


def _utf16_without_bom(head: bytes) -> str | None:
    """Return "utf-16-le"/"utf-16-be" when NULs fill every other byte of ``head``, else None."""
    sample = head[: len(head) - len(head) % 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    even_nul = even.count(0) / len(even)
    odd_nul = odd.count(0) / len(odd)
    if odd_nul > 0.4 and even_nul < 0.05:
        return "utf-16-le"
    if even_nul > 0.4 and odd_nul < 0.05:
        return "utf-16-be"
    return None


def _binary_error() -> NotTextError:
    return NotTextError(
        "binary data (NUL bytes), not text",
        "check the file type or save it as UTF-8 text",
    )


def detect_encoding(path: Path) -> str:
    """Return the encoding of the text file at ``path``, reading it in chunks (constant memory).

    Raises :class:`NotTextError` for binary files. The returned name is a Python codec
    name; ``utf-8-sig``/``utf-16``/``utf-32`` strip the byte-order mark when decoding.
    """
    with path.open("rb") as handle:
        head = handle.read(_CHUNK)
        bom = _bom_encoding(head)
        if bom:
            return bom
        if b"\x00" in head:
            utf16 = _utf16_without_bom(head[:4096])
            if utf16:
                return utf16
            raise _binary_error()
        utf8 = codecs.getincrementaldecoder("utf-8")()
        is_utf8 = True
        chunk = head
        while chunk:
            if b"\x00" in chunk:
                raise _binary_error()
            if is_utf8:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    is_utf8 = False
            chunk = handle.read(_CHUNK)
    if is_utf8:
        try:
            utf8.decode(b"", final=True)
            return "utf-8"
        except UnicodeDecodeError:
            pass
    with path.open("rb") as handle:
        while block := handle.read(_CHUNK):
            if not _is_cp1252(block):
                return "latin-1"
    return "cp1252"


def _is_cp1252(data: bytes) -> bool:
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a whole file's bytes; return ``(text, encoding)`` with newlines and Unicode normalised.

    Raises :class:`NotTextError` for binary data.
    """
    encoding = _bom_encoding(data[:4])
    if encoding is None:
        if b"\x00" in data:
            encoding = _utf16_without_bom(data[:4096])
            if encoding is None:
                raise _binary_error()
        else:
            try:
                return normalise_text(data.decode("utf-8")), "utf-8"
            except UnicodeDecodeError:
                encoding = "cp1252" if _is_cp1252(data) else "latin-1"
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise NotTextError(f"not valid {encoding} text ({exc.reason})", "save it as UTF-8 text") from exc
    if "\x00" in text:
        raise _binary_error()
    return normalise_text(text), encoding


def normalise_text(text: str) -> str:
    """Turn CRLF/CR into LF and compose Unicode (NFC), so equal texts get equal hashes."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return text
