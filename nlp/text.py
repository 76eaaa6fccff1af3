"""Text processing: normalisation, Indonesian sentences, passages and stems.

Offsets are character offsets into the *normalised* document text, which is
what the index stores, so a passage or an evidence sentence can always be cut
back out of the stored text.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

# Abbreviations after which a full stop does not end a sentence. Kept as
# tokenizer special cases so the sentencizer never sees a lone "." there.
ABBREVIATIONS = (
    "mis.",
    "Mis.",
    "dll.",
    "dsb.",
    "dst.",
    "dkk.",
    "dgn.",
    "tsb.",
    "yth.",
    "Yth.",
    "No.",
    "no.",
    "Nomor.",
    "Kab.",
    "Kec.",
    "Kel.",
    "Ds.",
    "Prov.",
    "Kota.",
    "Jl.",
    "Jln.",
    "Rp.",
    "Dr.",
    "dr.",
    "Drs.",
    "Dra.",
    "Ir.",
    "Prof.",
    "H.",
    "Hj.",
    "KH.",
    "St.",
    "Sdr.",
    "Bpk.",
    "Ibu.",
    "S.Sos.",
    "S.Pd.",
    "S.H.",
    "S.E.",
    "S.T.",
    "S.Kom.",
    "S.Kep.",
    "M.Si.",
    "M.M.",
    "M.Pd.",
    "M.Kes.",
    "M.T.",
    "M.A.P.",
    "A.Md.",
    "Tbk.",
    "Hlm.",
    "hlm.",
    "Tel.",
    "Telp.",
    "telp.",
    "Pasal.",
    "Ayat.",
    "Tgl.",
    "tgl.",
    "Ttd.",
    "a.n.",
    "u.p.",
    "s.d.",
    "Sept.",
    "Okt.",
    "Nov.",
    "Des.",
    "Jan.",
    "Feb.",
    "Agt.",
)
# These may also close a sentence ("... sampah plastik, kertas, dll. Warga ...").
SENTENCE_FINAL_ABBREVIATIONS = frozenset({"dll.", "dsb.", "dst.", "dkk."})
# A line at least this long that breaks without closing punctuation is a wrapped
# line of running text (PDF text layers), not a heading or a form field.
WRAPPED_LINE_CHARS = 50
# A line that starts with a short field label ("tahapan: Uji Coba", "Catatan berkas: ...") or is a
# table row ("2022 | 31 | seluruh OPD") is a record of its own, never the wrapped tail of a sentence.
_FIELD_LINE = re.compile(r"[^\W\d][\w/()\- ]{0,30}:(?:\s|$)")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u202f\u205f\u3000]+")
_MANY_NEWLINES = re.compile(r"\n{3,}")
# Lines that are web furniture rather than content: bylines of shares, "read
# also" links, pagination, copyright and cookie notices.
_NOISE_LINE = re.compile(
    r"""^\s*(?:
        baca\s+(?:juga|selengkapnya)\b.*
      | (?:bagikan|share|tweet|ikuti\s+kami|follow\s+us|subscribe|berlangganan)\b.{0,60}
      | (?:editor|penulis|reporter|pewarta|fotografer|sumber\s+foto)\s*:.{0,80}
      | halaman\s+\d+\s*(?:/|dari)\s*\d+
      | (?:©|\(c\)|copyright).{0,120}
      | (?:berita\s+(?:terkini|terpopuler|populer|terkait)|rekomendasi\s+untuk\s+anda|artikel\s+terkait)\s*
      | (?:kami\s+menggunakan\s+cookie|situs\s+ini\s+menggunakan\s+cookie).{0,200}
      | (?:advertisement|iklan|scroll\s+(?:to|untuk)\s+\w+(?:\s+\w+)?)\s*
      | (?:facebook|twitter|whatsapp|telegram|linkedin|line|email)(?:\s*[|·•]\s*\w+)*\s*
    )\s*$""",
    re.IGNORECASE | re.VERBOSE,
)
_WORD = re.compile(r"\w+(?:[-']\w+)*", re.UNICODE)


def normalise(text: str) -> str:
    """Normalise unicode, whitespace and common web noise, keeping paragraph breaks."""
    text = unicodedata.normalize("NFC", text).translate(_ZERO_WIDTH)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) != "Cc")
    lines = []
    for line in text.split("\n"):
        line = _SPACES.sub(" ", line).strip()
        if line and _NOISE_LINE.match(line):
            continue
        lines.append(line)
    return _MANY_NEWLINES.sub("\n\n", "\n".join(lines)).strip()


@dataclass(frozen=True)
class Span:
    """A stretch of a document: [start, end) character offsets and its text."""

    start: int
    end: int
    text: str


def sentence_pipeline() -> Any:
    """The shared blank Indonesian spaCy pipeline: tokenizer with abbreviation special cases and sentence rules.

    Built once per process; rule matchers reuse its tokenizer and vocabulary
    instead of building another (which costs seconds).
    """
    return _sentence_pipeline()


@functools.lru_cache(maxsize=1)
def _sentence_pipeline() -> Any:
    """A blank Indonesian spaCy pipeline with abbreviation-aware sentence splitting."""
    import spacy
    from spacy.language import Language
    from spacy.symbols import ORTH

    if not Language.has_factory("inovasi_sentence_fixes"):

        @Language.component("inovasi_sentence_fixes")
        def _fix_boundaries(doc: Any) -> Any:
            for i, token in enumerate(doc[:-1]):
                nxt = doc[i + 1]
                if token.text in SENTENCE_FINAL_ABBREVIATIONS:
                    nxt.is_sent_start = nxt.is_title or nxt.is_space
                elif token.text in ("!", "?") and (nxt.text[:1].islower() or nxt.text in (",", ";")):
                    # "SP4N-LAPOR!, sehingga ...": a name or a clause goes on (the sentencizer
                    # would start the sentence at the first word after the punctuation)
                    k = i + 1
                    while k < len(doc) and doc[k].is_punct:
                        doc[k].is_sent_start = False
                        k += 1
                    if k < len(doc) and not doc[k].is_space:
                        doc[k].is_sent_start = False
                elif token.is_space and "\n" in token.text:
                    nxt.is_sent_start = not _is_wrapped_line(doc, i)
                elif nxt.is_space and "\n" in nxt.text and i + 2 < len(doc):
                    doc[i + 2].is_sent_start = not _is_wrapped_line(doc, i + 1)
            return doc

    pipeline = spacy.blank("id")
    for abbreviation in ABBREVIATIONS:
        pipeline.tokenizer.add_special_case(abbreviation, [{ORTH: abbreviation}])
    pipeline.add_pipe("sentencizer")
    pipeline.add_pipe("inovasi_sentence_fixes")
    pipeline.max_length = 5_000_000
    return pipeline


def _is_wrapped_line(doc: Any, space_index: int) -> bool:
    """True when a single newline only wraps a sentence (as PDF text layers do).

    A line break continues the sentence when the line before it does not end
    a sentence and is long (a wrapped line, not a heading or a form field),
    or when the next line starts in lower case after a lower-case word.
    """
    space = doc[space_index]
    if space.text.count("\n") > 1 or space_index == 0 or space_index + 1 >= len(doc):
        return False
    before, after = doc[space_index - 1], doc[space_index + 1]
    if after.text[:1] in "-•*" or before.text[-1:] in ".!?:;":
        return False
    text = doc.text
    line_start = text.rfind("\n", 0, space.idx) + 1
    next_end = text.find("\n", space.idx + len(space.text))
    next_line = text[space.idx + len(space.text) : None if next_end < 0 else next_end]
    if " | " in text[line_start : space.idx] or " | " in next_line or _FIELD_LINE.match(next_line):
        return False
    if space.idx - line_start >= WRAPPED_LINE_CHARS:
        return True
    continues = before.text[-1:].islower() or before.text in {",", "dan", "atau", "yang"}
    return continues and (after.text[:1].islower() or after.text[:1].isdigit())


def split_sentences(text: str) -> list[Span]:
    """Split normalised text into sentences with offsets; never splits after Kab., Rp., mis. and the like."""
    if not text.strip():
        return []
    doc = _sentence_pipeline()(text)
    sentences = []
    for sent in doc.sents:
        start, end = sent.start_char, sent.end_char
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            sentences.append(Span(start, end, text[start:end]))
    return sentences


def make_passages(
    text: str,
    count_tokens: Callable[[Sequence[str]], list[int]],
    *,
    max_tokens: int = 256,
    overlap_tokens: int = 48,
    sentences: Sequence[Span] | None = None,
) -> list[Span]:
    """Group sentences into passages of at most ``max_tokens`` tokens, overlapping by whole sentences.

    ``count_tokens`` counts the model's tokens for each text (without special
    tokens mattering much: the budget keeps a margin). A sentence longer than
    the budget is cut at word boundaries.
    """
    sentences = list(sentences if sentences is not None else split_sentences(text))
    if not sentences:
        return []
    pieces: list[Span] = []
    sizes: list[int] = []
    for sentence, size in zip(sentences, count_tokens([s.text for s in sentences]), strict=True):
        if size <= max_tokens:
            pieces.append(sentence)
            sizes.append(size)
        else:
            for piece in _cut_long_sentence(text, sentence, size, max_tokens):
                pieces.append(piece)
                sizes.append(max(1, round(size * len(piece.text) / len(sentence.text))))
    passages: list[Span] = []
    first = 0
    while first < len(pieces):
        last, total = first, sizes[first]
        while last + 1 < len(pieces) and total + sizes[last + 1] <= max_tokens:
            last += 1
            total += sizes[last]
        start, end = pieces[first].start, pieces[last].end
        passages.append(Span(start, end, text[start:end]))
        if last + 1 >= len(pieces):
            break
        # Step back over trailing sentences worth at most overlap_tokens so the
        # next passage starts with context, but always move forward.
        nxt, carried = last + 1, 0
        while nxt - 1 > first and carried + sizes[nxt - 1] <= overlap_tokens:
            nxt -= 1
            carried += sizes[nxt]
        first = nxt
    return passages


def _cut_long_sentence(text: str, sentence: Span, size: int, max_tokens: int) -> list[Span]:
    """Cut an over-long sentence into word-aligned pieces of about max_tokens tokens."""
    words = [m.span() for m in re.finditer(r"\S+", sentence.text)]
    per_piece = max(1, int(len(words) * max_tokens / size * 0.9))
    pieces = []
    for i in range(0, len(words), per_piece):
        chunk = words[i : i + per_piece]
        start, end = sentence.start + chunk[0][0], sentence.start + chunk[-1][1]
        pieces.append(Span(start, end, text[start:end]))
    return pieces


def tokenize_words(text: str) -> list[str]:
    """Lower-cased word tokens (keeps reduplications such as anak-anak)."""
    return _WORD.findall(text.lower())


@functools.lru_cache(maxsize=1)
def _stemmer() -> Callable[[str], str]:
    from Sastrawi.Stemmer.StemmerFactory import StemmerFactory

    stem = StemmerFactory().create_stemmer().stem
    return functools.lru_cache(maxsize=200_000)(stem)


def stem_tokens(text: str) -> list[str]:
    """Indonesian stems for the lexical index (Sastrawi), one per word token.

    Tokens with digits and short acronyms are kept as they are: stemming
    "2016" or "SP4N" only loses information.
    """
    stem = _stemmer()
    out = []
    for token in tokenize_words(text):
        if len(token) <= 3 or any(ch.isdigit() for ch in token) or "_" in token:
            out.append(token)
        else:
            out.append(stem(token) or token)
    return out
