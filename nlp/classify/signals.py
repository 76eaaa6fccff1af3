"""Find sustainability evidence signals in Indonesian innovation reports, sentence by sentence.

:func:`find_signals` runs spaCy rule matchers over lower-cased and Sastrawi-stemmed
tokens. Every cue pattern and marker list comes from the label scheme's JSON
(``cues`` per signal and ``cue_rules``), compiled once per scheme; the code here
only applies the rules of the domain guide (sections 4.4 and 5):

- negation: a negated positive cue becomes the signal's ``negated_as`` risk or
  nothing ("belum ada perbup" is ``tanpa_regulasi``); a negated risk cue is
  dropped ("tidak pernah berhenti");
- modality: plans, wishes and conditions give no positive signal ("akan
  dianggarkan", "rencananya akan direplikasi"); waiting for a regulation is
  ``tanpa_regulasi``;
- risks the text says were overcome are dropped ("sempat terhenti ... kini
  berjalan lagi"), as are problems given as background before the innovation
  ("untuk mengatasi ...") and risks that are only possible or feared ("rawan
  dicuri", "apabila server rusak"; not for ``dependence_risks``);
- sections: what follows a plan heading ("Rekomendasi", "Rencana Tindak
  Lanjut") or a recommending colon sentence is a proposal unless it reports
  what was done ("telah", "sejak"); risks under "Latar Belakang" are the
  situation before the innovation; a subjectless list item opening with a
  meN- verb ("Menganggarkan honor ...;") is a directive;
- region-level evidence (the region's IGA award, "setiap OPD wajib memiliki satu
  inovasi") is vetoed for ``penghargaan`` and ``kebijakan_wajib``;
- a start year ("sejak 2016") counts as ``berjalan_bertahun`` only when the
  latest year the text mentions (plans left out) or ``reference_year`` is at
  least ``min_running_years`` later.

Headings (numbered title-case titles, contents lines and running footers
included), keyword lines and questions give no evidence; single line breaks
(PDF wrapping) are read as spaces; and a sentence that
nlp.text cut after the "!" of "SP4N-LAPOR!" is joined again. Each signal is
reported at most once per sentence, with the sentence's offsets in the
(normalised) text. The cue syntax is documented in the scheme itself
(``cue_rules.syntax``); ``benchmarks/signals_eval.py`` scores the cues against
the gold labels.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nlp.classify.scheme import LabelScheme, SignalDef, load_scheme
from nlp.errors import SourceError
from nlp.text import Span, sentence_pipeline, split_sentences, stem_tokens

__all__ = ["Signal", "find_signals"]

# Marker groups compiled from cue_rules: (matcher key, cue_rules field).
_MARKER_FIELDS = (
    ("NEG", "negators"),
    ("NEGX", "negation_exceptions"),
    ("POSTNEG", "post_negators"),
    ("BRK", "clause_breaks"),
    ("MOD", "modal_markers"),
    ("MODPOST", "modal_post_markers"),
    ("MODSCOPE", "modal_scope_markers"),
    ("PEND", "pending_markers"),
    ("OVER", "overcome_markers"),
    ("TEMP", "temporary_markers"),
    ("BACK", "background_markers"),
    ("PLAN", "plan_year_markers"),
    ("CITE", "citation_year_markers"),
    ("SKIP", "skip_sentence_markers"),
    ("PLANSEC", "plan_section_headings"),
    ("BACKSEC", "background_section_headings"),
    ("REAL", "realis_markers"),
    ("RMOD", "risk_modal_markers"),
)
# Section kinds a heading can open: what follows a "Rekomendasi" or "Rencana
# Tindak Lanjut" heading is a proposal, what follows "Latar Belakang" is the
# situation before the innovation.
_SECTION_KINDS = {"PLANSEC": "plan", "BACKSEC": "background"}
_COORDINATORS = frozenset(
    {
        "dan",
        "serta",
        "maupun",
        "atau",
        "ataupun",
        "/",
        "&",
        "apalagi",
        "berupa",
        "setingkat",
        "seperti",
        "yaitu",
        "yakni",
    }
)
# Words that the negation scan looks through ("tanpa A maupun B") and the modality scan too ("akan A dan B").
_NEGATION_TRANSPARENT = frozenset({"maupun", "atau", "ataupun", "apalagi", "berupa", "setingkat"})
_MODAL_TRANSPARENT = frozenset({"dan", "serta", "maupun", "atau", "ataupun", "yang", "untuk", "guna"})
_STRONG_BREAKS = frozenset({";", "namun", "tetapi", "tapi", "sedangkan", "sementara", "padahal", "melainkan", "."})
_MIN_WORDS = 4
# Title-case headings: a number or label opens them, and only these words stay lower-case.
_MAX_TITLE_WORDS = 14
_NUMBERED_TITLE = re.compile(
    r"^(?:(?:[0-9]+(?:\.[0-9]+)*\.?|[IVXLC]+\.|[A-Za-z][.)])\s|(?:bab|bagian|temuan|tabel|gambar|lampiran)\s+[0-9IVX]+\b)",
    re.IGNORECASE,
)
_TITLE_FUNCTION_WORDS = frozenset(
    "dan di ke dari yang untuk dalam pada atau serta dengan tentang terhadap sebagai oleh bagi melalui per".split()
)
# Directive list items: a bare meN- verb after an optional list label ("a.", "1)", "(2)").
_LIST_LABEL = re.compile(r"^\(?(?:[0-9]{1,2}|[a-zA-Z]|[ivx]{1,4})[.)]?$")
_ACTIVE_VERB = re.compile(r"^me(?:m|n|ng|ny)?[a-z]{3,}$")
_NOT_DIRECTIVE = frozenset(
    "mereka menurut meski meskipun melalui menjelang mengingat mengenai merupakan memang menuju mendatang "
    "menjadi memiliki mempunyai melihat mencapai meliputi mencakup menunjukkan memperlihatkan".split()
)
# A short "label: value" row with a date or number is a form field, not a heading ("Waktu Penerapan: Januari 2018").
_FORM_ROW = re.compile(r"^[^:]{2,40}:\s*\S.*[0-9]")
# A running header or footer: "Brida Kabupaten X | Laporan Monev 2024 Hal. 12".
_PAGE_FURNITURE = re.compile(r"\|.*\b(?:hal|halaman|page)\.?\s*[0-9ivx]*\s*$", re.IGNORECASE)
_TOC_LINE = re.compile(r"(?:\.\s?){4,}\s*[0-9ivx]+\s*$|…{2,}\s*[0-9ivx]+\s*$")
_YEAR = re.compile(r"^(?:19[5-9][0-9]|20[0-4][0-9])$")
_YEAR_IN_TOKEN = re.compile(r"(?<![0-9])(19[5-9][0-9]|20[0-4][0-9])(?![0-9])")
_MAX_EXPANSIONS = 512
# A single line break inside running text is only the wrapping of a PDF or DOCX
# line ("keluarga\npelajar berkurang"); it becomes a plain space before matching
# so that cue sequences and gaps see through it. A break before a list item
# ("- ", "2. ", "b) ") or a blank line stays: there it separates clauses.
_LINE_WRAP = re.compile(r"(?<=\S)\n(?=\S)(?![-•*▪●◦–]\s|\(?[0-9a-zA-Z]{1,2}[.)]\s)")


@dataclass(frozen=True)
class Signal:
    """One piece of evidence: a signal id, its polarity and the sentence that shows it.

    ``start``/``end`` are the sentence's character offsets in the text given to
    :func:`find_signals`, so ``text[start:end] == sentence``.
    """

    signal: str
    polarity: str
    sentence: str
    start: int
    end: int


def find_signals(
    text: str,
    sentences: Sequence[Span] | None = None,
    *,
    reference_year: int | None = None,
    max_per_signal: int | None = None,
    scheme: LabelScheme | None = None,
) -> list[Signal]:
    """Evidence signals in ``text`` (already normalised with :func:`nlp.text.normalise`), in reading order.

    Args:
        text: the document text.
        sentences: its sentences from :func:`nlp.text.split_sentences`, when the
            caller already has them; split here otherwise.
        reference_year: the document's year from metadata, if known; a start
            year counts as running two years when this or the latest year the
            text mentions is far enough past it.
        max_per_signal: keep at most this many sentences per signal, the
            clearest first (the cue listed earliest in the scheme, then the
            earliest sentence); None keeps every sentence.
        scheme: the label scheme whose cues to use (default: the newest shipped).
    """
    if max_per_signal is not None and max_per_signal < 1:
        raise ValueError(f"max_per_signal must be at least 1 or None, got {max_per_signal}")
    if not text.strip():
        return []
    compiled = _compiled(scheme if scheme is not None else load_scheme())
    if sentences is None:
        sentences = split_sentences(text)
    return compiled.run(text, list(sentences), reference_year, max_per_signal)


@functools.lru_cache(maxsize=4)
def _compiled(scheme: LabelScheme) -> _SignalMatcher:
    return _SignalMatcher(scheme)


@dataclass(frozen=True)
class _Anchor:
    """Hashes of the stems or lower-case forms that can fill one required position of a cue."""

    lemmas: frozenset[int]
    lowers: frozenset[int]


@dataclass(frozen=True)
class _Rule:
    """One compiled cue: its key, a spaCy Matcher holding its patterns, and its anchors.

    A sentence is handed to the Matcher only when every anchor finds one of its
    words there, which skips almost all cues for almost all sentences.
    """

    key: str
    matcher: Any
    anchors: tuple[_Anchor, ...]

    def may_match(self, lemmas: set[int], lowers: set[int]) -> bool:
        return all(
            not anchor.lemmas.isdisjoint(lemmas) or not anchor.lowers.isdisjoint(lowers) for anchor in self.anchors
        )


@dataclass(frozen=True)
class _Match:
    """One cue match: the cue's key and its token span in the document."""

    key: str
    start: int
    end: int


class _SignalMatcher:
    """The scheme's cue tables compiled into spaCy matchers, plus the rules that read their matches."""

    def __init__(self, scheme: LabelScheme) -> None:
        from spacy.matcher import Matcher

        self.scheme = scheme
        rules: Mapping[str, Any] = scheme.cue_rules
        self.rules = rules
        self.overrides: dict[str, str] = dict(rules.get("stem_overrides", {}))
        self.macros: Mapping[str, Any] = rules.get("macros", {})
        self.where = f"nlp/data/scheme-v{scheme.version}.json"

        # Reuse the abbreviation-aware tokenizer of nlp.text (already built for
        # sentence splitting): building another Indonesian tokenizer costs seconds.
        pipeline = sentence_pipeline()
        self.tokenizer = pipeline.tokenizer
        self.vocab = pipeline.vocab
        self._lemma_cache: dict[str, int] = {}

        self._matcher_class = Matcher
        # Markers are short and shared by all signals: one Matcher per group.
        self.markers: list[tuple[str, Any]] = []
        self.plan_markers = Matcher(self.vocab, validate=False)
        self.section_markers: dict[str, Any] = {}
        for key, field_name in _MARKER_FIELDS:
            group = Matcher(self.vocab, validate=False)
            single: dict[str, set[str]] = {"LEMMA": set(), "LOWER": set()}
            for i, cue in enumerate(rules.get(field_name, ())):
                patterns, _ = self._compile(cue, f"cue_rules.{field_name}[{i}]", exact=True)
                longer = []
                for pattern in patterns:
                    test = pattern[0] if len(pattern) == 1 else {}
                    attribute = next(iter(test), None)
                    if (
                        len(test) == 1
                        and attribute in single
                        and "IN" in (test[attribute] if isinstance(test[attribute], dict) else {})
                    ):
                        single[attribute].update(test[attribute]["IN"])  # one-word markers share a test
                    else:
                        longer.append(pattern)
                if longer:
                    group.add(f"{key}:{i}", longer)
            for attribute, values in single.items():
                if values:
                    group.add(f"{key}:{attribute}", [[{attribute: {"IN": sorted(values)}}]])
            if key == "PLAN":
                self.plan_markers = group
            elif key in _SECTION_KINDS:
                self.section_markers[_SECTION_KINDS[key]] = group
            else:
                self.markers.append((key, group))

        self.cues: list[_Rule] = []
        self.negator_cues: set[str] = set()
        negators = {word.lower() for word in rules.get("negators", ()) if " " not in word}
        for signal in scheme.signals:
            groups = (("S", signal.cues), ("Y", signal.start_year_cues), ("V", signal.vetoes))
            for kind, cues in groups:
                for i, cue in enumerate(cues):
                    key = f"{kind}:{signal.id}:{i}"
                    self.cues.append(self._rule(key, cue, f"signal {signal.id} {kind}[{i}]"))
                    if kind == "S" and self._literals(cue) & negators:
                        self.negator_cues.add(key)
        # Index cues by the words of their first anchor, so a sentence only visits cues it may match.
        self.unanchored: list[_Rule] = []
        self.by_lemma: dict[int, list[_Rule]] = defaultdict(list)
        self.by_lower: dict[int, list[_Rule]] = defaultdict(list)
        for rule in self.cues:
            if not rule.anchors:
                self.unanchored.append(rule)
                continue
            for value in rule.anchors[0].lemmas:
                self.by_lemma[value].append(rule)
            for value in rule.anchors[0].lowers:
                self.by_lower[value].append(rule)
        self.rank = {rule.key: i for i, rule in enumerate(self.cues)}
        self.strength: dict[str, int] = {}
        for signal in scheme.signals:
            for i in range(len(signal.cues)):
                self.strength[f"S:{signal.id}:{i}"] = i
            for i in range(len(signal.start_year_cues)):
                self.strength[f"Y:{signal.id}:{i}"] = len(signal.cues) + i
        self.signals: dict[str, SignalDef] = {signal.id: signal for signal in scheme.signals}
        self.order = {signal.id: i for i, signal in enumerate(scheme.signals)}
        self.neg_window = int(rules.get("negation_window", 3))
        self.post_neg_window = int(rules.get("post_negation_window", 5))
        self.modal_window = int(rules.get("modal_window", 5))
        self.modal_post_window = int(rules.get("modal_post_window", 6))
        self.plan_window = int(rules.get("plan_year_window", 4))
        self.min_years = int(rules.get("min_running_years", 2))
        # Risks that say what the innovation depends on (its head of region, one officer): true of the
        # innovation itself, so neither a background heading nor "bila ... tidak lagi menjabat" removes them.
        self.dependence_risks = frozenset(rules.get("dependence_risks", ()))

    # ------------------------------------------------------------ stems

    def stem(self, lower: str) -> str:
        """The matching key of a lower-cased token: stem override, else Sastrawi (also after a trailing -nya)."""
        if lower in self.overrides:
            return self.overrides[lower]
        if len(lower) <= 3 or (not lower.isalpha() and "-" not in lower):
            return lower
        stems = stem_tokens(lower)
        stem = stems[0] if len(stems) == 1 and stems[0] else lower
        if stem == lower and lower.endswith("nya") and len(lower) > 6:
            return self.stem(lower[:-3])
        return stem

    def _lemma(self, lower: str) -> int:
        lemma = self._lemma_cache.get(lower)
        if lemma is None:
            lemma = self.vocab.strings.add(self.stem(lower))
            self._lemma_cache[lower] = lemma
        return lemma

    def tokenize(self, text: str) -> Any:
        doc = self.tokenizer(text)
        for token in doc:
            token.lemma = self._lemma(token.lower_)
        return doc

    # ------------------------------------------------------------ compiling cues

    @staticmethod
    def _literals(cue: str) -> set[str]:
        """The plain words a cue names, lower-cased (to know whether it spells out a negator itself)."""
        found = set()
        for part in cue.split():
            for alternative in part.lstrip("?!").split("|"):
                for atom in alternative.split("+"):
                    if atom and atom[0] not in "@~*":
                        found.add(atom.lstrip("=").lower())
        return found

    def _rule(self, key: str, cue: str, where: str) -> _Rule:
        """Compile one cue into its own spaCy Matcher, with the words a sentence must hold for it to match."""
        patterns, anchors = self._compile(cue, where)
        matcher = self._matcher_class(self.vocab, validate=False)
        matcher.add(key, patterns)
        return _Rule(key, matcher, anchors)

    def _compile(
        self, cue: str, where: str, *, exact: bool = False
    ) -> tuple[list[list[dict[str, Any]]], tuple[_Anchor, ...]]:
        """Expand one cue string into spaCy token patterns, plus the anchors of its required positions.

        With ``exact`` (the marker lists of cue_rules), bare words match the
        lower-cased form: function words must not be stemmed ("sebelum" is
        not "belum", "sedangkan" is not "sedang").
        """
        positions: list[list[list[dict[str, Any]]]] = []
        anchors: list[_Anchor] = []
        for part in cue.split():
            options = self._position(part, cue, where, exact)
            positions.append(options)
            anchor = self._anchor(options)
            if anchor is not None:
                anchors.append(anchor)
        if not positions:
            raise SourceError(self.where, f"{where}: empty cue", "remove it or write a pattern")
        patterns = []
        for combination in itertools.product(*positions):
            pattern = [token for sequence in combination for token in sequence]
            if pattern:
                patterns.append(pattern)
            if len(patterns) > _MAX_EXPANSIONS:
                raise SourceError(self.where, f"{where}: cue {cue!r} expands to too many patterns", "split it")
        if not patterns or all(all(token.get("OP") for token in pattern) for pattern in patterns):
            raise SourceError(self.where, f"{where}: cue {cue!r} can match nothing", "add a required token")
        return patterns, tuple(anchors)

    def _anchor(self, options: list[list[dict[str, Any]]]) -> _Anchor | None:
        """Lemma and lower-case hashes one of which a sentence must contain for this position to match.

        None when the position is optional, a gap, a negation or a regex: it then filters nothing.
        """
        lemmas: set[int] = set()
        lowers: set[int] = set()
        for option in options:
            if not option or option[0].get("OP"):
                return None
            first = option[0]
            if "LEMMA" in first and isinstance(first["LEMMA"], dict) and "IN" in first["LEMMA"]:
                lemmas.update(self.vocab.strings.add(value) for value in first["LEMMA"]["IN"])
            elif "LEMMA" in first and isinstance(first["LEMMA"], str):
                lemmas.add(self.vocab.strings.add(first["LEMMA"]))
            elif "LOWER" in first and isinstance(first["LOWER"], dict) and "IN" in first["LOWER"]:
                lowers.update(self.vocab.strings.add(value) for value in first["LOWER"]["IN"])
            else:
                return None
        return _Anchor(frozenset(lemmas), frozenset(lowers))

    def _position(self, part: str, cue: str, where: str, exact: bool = False) -> list[list[dict[str, Any]]]:
        """One space-separated part of a cue: a list of alternative token sequences."""
        gap = re.fullmatch(r"([~*])(\d+)", part)
        if gap:
            token: dict[str, Any] = {"OP": f"{{0,{gap.group(2)}}}"}
            if gap.group(1) == "~":
                token["IS_PUNCT"] = False
                token["IS_SPACE"] = False
            return [[token]]
        optional = part.startswith("?")
        negative = part.startswith("!")
        body = part[1:] if optional or negative else part
        if not body:
            raise SourceError(self.where, f"{where}: bad token {part!r} in cue {cue!r}", "see cue_rules.syntax")
        if negative:
            stems = [self.stem(word.lower()) for word in body.split("|")]
            return [[{"LEMMA": {"NOT_IN": stems}}]]
        lemmas: list[str] = []
        lowers: list[str] = []
        singles: list[list[dict[str, Any]]] = []
        for alternative in body.split("|"):
            atoms = alternative.split("+")
            if len(atoms) == 1:
                self._collect(atoms[0], lemmas, lowers, singles, cue, where, exact)
            else:
                sequence = []
                for atom in atoms:
                    atom_lemmas: list[str] = []
                    atom_lowers: list[str] = []
                    atom_singles: list[list[dict[str, Any]]] = []
                    self._collect(atom, atom_lemmas, atom_lowers, atom_singles, cue, where, exact)
                    tests = _merge(atom_lemmas, atom_lowers, atom_singles)
                    if len(tests) != 1:
                        raise SourceError(self.where, f"{where}: {atom!r} in {cue!r} is too complex", "simplify it")
                    sequence.append(tests[0][0])
                singles.append(sequence)
        options = _merge(lemmas, lowers, singles)
        if optional:
            if all(len(option) == 1 for option in options) and len(options) == 1:
                return [[dict(options[0][0], OP="?")]]
            options.append([])
        return options

    def _collect(
        self,
        atom: str,
        lemmas: list[str],
        lowers: list[str],
        singles: list[list[dict[str, Any]]],
        cue: str,
        where: str,
        exact: bool = False,
    ) -> None:
        if not atom:
            raise SourceError(self.where, f"{where}: empty alternative in cue {cue!r}", "see cue_rules.syntax")
        if atom.startswith("@"):
            name = atom[1:]
            if name not in self.macros:
                raise SourceError(
                    self.where,
                    f"{where}: unknown macro {atom!r} in cue {cue!r}",
                    f"define it in cue_rules.macros (known: {', '.join(sorted(self.macros))})",
                )
            macro = self.macros[name]
            if isinstance(macro, Mapping) and "regex" in macro:
                singles.append([{"LOWER": {"REGEX": macro["regex"]}}])
            else:
                for word in macro:
                    if " " in word:
                        singles.append([_atom_test(piece, self.stem) for piece in word.split()])
                    elif word.startswith("="):
                        lowers.append(word[1:].lower())
                    else:
                        lemmas.append(self.stem(word.lower()))
        elif atom.startswith("=") or exact:
            lowers.append(atom.lstrip("=").lower())
        else:
            lemmas.append(self.stem(atom.lower()))

    # ------------------------------------------------------------ running

    def run(
        self, text: str, sentences: Sequence[Span], reference_year: int | None, max_per_signal: int | None
    ) -> list[Signal]:
        # Same length, so sentence offsets still hold.
        doc = self.tokenize(_LINE_WRAP.sub(" ", text))
        state = _DocState(doc, self)

        spans = []
        for sentence in sentences:
            span = doc.char_span(sentence.start, sentence.end, alignment_mode="expand")
            spans.append(span)
        best: dict[tuple[int, str], int] = {}
        section: str | None = None
        for index, span in enumerate(spans):
            if span is None:
                continue
            if _is_heading(span):
                section = self._section(span, at_start=True)
                continue
            context = section
            if context is None and _is_directive_item(span, spans[index - 1] if index else None):
                context = "plan"
            if _ends_with_colon(span):
                # "Tim merekomendasikan langkah berikut:" opens a list of proposals too
                section = self._section(span, at_start=False) or section
            matches: dict[str, list[_Match]] = defaultdict(list)
            vetoed: set[str] = set()
            lemmas = {token.lemma for token in span}
            lowers = {token.lower for token in span}
            for rule in self._candidates(lemmas, lowers):
                kind, signal_id, _ = rule.key.split(":")
                if kind == "V" and signal_id in vetoed:
                    continue
                for _, start, end in rule.matcher(span):
                    if kind == "V":
                        vetoed.add(signal_id)
                        break
                    matches[signal_id].append(_Match(rule.key, span.start + start, span.start + end))
            if not matches:
                continue
            state.ensure(span)
            if state.skipped(span):
                continue
            next_span = spans[index + 1] if index + 1 < len(spans) else None
            state.ensure(next_span)
            for signal_id, signal_matches in matches.items():
                if signal_id in vetoed:
                    continue
                for emitted, strength in self._decide(
                    signal_id, signal_matches, span, next_span, state, reference_year, context
                ).items():
                    key = (index, emitted)
                    best[key] = min(strength, best.get(key, strength))
        if max_per_signal is not None:
            by_signal: dict[str, list[tuple[int, int]]] = defaultdict(list)
            for (index, signal_id), strength in best.items():
                by_signal[signal_id].append((strength, index))
            kept = set()
            for signal_id, ranked in by_signal.items():
                for _, index in sorted(ranked)[:max_per_signal]:
                    kept.add((index, signal_id))
            best = {key: value for key, value in best.items() if key in kept}
        out = []
        for index, signal_id in sorted(best, key=lambda key: (key[0], self.order[key[1]])):
            sentence = sentences[index]
            definition = self.signals[signal_id]
            out.append(Signal(signal_id, definition.polarity, sentence.text, sentence.start, sentence.end))
        return out

    def _section(self, span: Any, *, at_start: bool) -> str | None:
        """The kind of section a heading opens ("plan", "background"), or None for any other heading.

        With ``at_start`` the marker must open the heading (after its number:
        "4.2 Rekomendasi", not "Kendala dan Tindak Lanjut"); otherwise anywhere
        in the sentence ("Tim merekomendasikan hal berikut:").
        """
        first = next((token.i for token in span if token.is_alpha), None)
        if first is None:
            return None
        for kind, group in self.section_markers.items():
            for _, start, _ in group(span):
                if not at_start or span.start + start == first:
                    return kind
        return None

    def _candidates(self, lemmas: set[int], lowers: set[int]) -> list[_Rule]:
        """Cues whose every anchor finds a word in the sentence, in scheme order (vetoes included)."""
        seen: dict[str, _Rule] = {rule.key: rule for rule in self.unanchored}
        for value in lemmas:
            for rule in self.by_lemma.get(value, ()):
                seen[rule.key] = rule
        for value in lowers:
            for rule in self.by_lower.get(value, ()):
                seen[rule.key] = rule
        rules = [rule for rule in seen.values() if rule.may_match(lemmas, lowers)]
        rules.sort(key=lambda rule: self.rank[rule.key])
        return rules

    def _decide(
        self,
        signal_id: str,
        matches: Iterable[_Match],
        span: Any,
        next_span: Any,
        state: _DocState,
        reference_year: int | None,
        section: str | None = None,
    ) -> dict[str, int]:
        """What a sentence's matches for one signal id turn into: the id or its negated_as, with a strength rank.

        The rank is the position of the matching cue in the signal's list (cues
        are listed strongest first), so that ``max_per_signal`` keeps the
        clearest evidence. Under a plan heading ``section`` is "plan" and
        nothing is evidence unless the sentence reports what was done ("telah",
        "sejak"); under a background heading it is "background" and no risk is,
        but for risks that describe the innovation itself
        (``cue_rules.dependence_risks``: who it depends on).
        """
        definition = self.signals[signal_id]
        out: dict[str, int] = {}
        if section == "plan" and not state.realis(span):
            return out
        if section == "background" and definition.polarity == "risk" and signal_id not in self.dependence_risks:
            return out

        def emit(emitted: str, match: _Match) -> None:
            strength = self.strength[match.key]
            out[emitted] = min(strength, out.get(emitted, strength))

        lo, hi = span.start, span.end
        if definition.polarity == "positive" and span[-1].text == "?":
            return out  # a question asserts nothing ("SK atau perbup gitu?")
        negated_ends: list[int] = []
        affirmed: list[_Match] = []
        for match in sorted(matches, key=lambda item: item.start):
            if definition.polarity == "positive":
                negated = (
                    state.negated_before(match.start, lo)
                    or state.negated_after(match.end, hi)
                    or state.post_negated_inside(match.start, match.end)
                )
                if not negated and match.key not in self.negator_cues:
                    negated = state.negated_inside(match.start, match.end)
                if not negated and negated_ends:
                    negated = state.coordinated(negated_ends[-1], match.start)
                if negated:
                    negated_ends.append(match.end)
                    if definition.negated_as:
                        emit(definition.negated_as, match)
                    continue
                if definition.modal_sensitive and (
                    state.modal_before(match.start, lo) or state.modal_after(match.end, hi)
                ):
                    if definition.negated_as and state.pending_near(match.start, match.end, lo, hi):
                        emit(definition.negated_as, match)
                    continue
                if match.key.startswith("Y:"):
                    start_year = state.start_year(match.start, match.end)
                    ref = state.reference_year(reference_year)
                    if start_year is None or ref is None or ref - start_year < self.min_years:
                        continue
                affirmed.append(match)
            else:
                negated = state.negated_before(match.start, lo)
                if not negated and match.key not in self.negator_cues:
                    # "... beroperasi sejak 2017 dan tidak pernah berhenti": the head word is negated
                    negated = state.negated_before(match.end - 1, lo)
                if negated:
                    continue
                if definition.modal_sensitive and state.modal_before(match.start, lo):
                    continue
                if signal_id not in self.dependence_risks and (
                    state.potential_before(match.start, lo) or state.potential_before(match.end - 1, lo)
                ):
                    continue
                if state.background_before(match.start, lo):
                    continue
                if definition.overcomable and state.overcome(match.start, span, next_span):
                    continue
                affirmed.append(match)
        for match in affirmed:
            emit(signal_id, match)
        return out


class _DocState:
    """Marker positions of one document, with the window tests the rules need.

    Markers are sentence-local, so they are found lazily: only for sentences
    that hold a cue match (and the sentence after, for overcome risks). Plan
    markers, which qualify years anywhere, are found once for the document.
    """

    def __init__(self, doc: Any, matcher: _SignalMatcher) -> None:
        self.doc = doc
        self.m = matcher
        self.neg_ends: set[int] = set()
        self.neg_tokens: set[int] = set()
        self.breaks: set[int] = set()
        self.post_neg_starts: set[int] = set()
        self.modal_ends: set[int] = set()
        self.modal_post_starts: set[int] = set()
        self.modal_scope_ends: set[int] = set()
        self.pending: list[tuple[int, int]] = []
        self.overcomes: list[tuple[int, int]] = []
        self.temporary: set[int] = set()
        self.background_ends: set[int] = set()
        self.citation_ends: set[int] = set()
        self.skip_starts: set[int] = set()
        self.realis_tokens: set[int] = set()
        self.risk_modal_ends: set[int] = set()
        self._done: set[int] = set()
        self._plan_ends: set[int] | None = None
        self._reference: tuple[int | None] | None = None

    def reference_year(self, given: int | None) -> int | None:
        """The latest year the text mentions outside plans and targets, or ``given`` when later (computed once)."""
        if self._reference is None:
            latest = given
            for token in self.doc:
                if not any(ch.isdigit() for ch in token.text) or self.plan_before(token.i):
                    continue
                for found in _YEAR_IN_TOKEN.findall(token.text):  # also "2019–2023"
                    year = int(found)
                    latest = year if latest is None else max(latest, year)
            self._reference = (latest,)
        return self._reference[0]

    def ensure(self, span: Any) -> None:
        """Find the markers of one sentence (once)."""
        if span is None or span.start in self._done:
            return
        self._done.add(span.start)
        found: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for key, group in self.m.markers:
            for _, start, end in group(span):
                found[key].append((span.start + start, span.start + end))
        exceptions = found["NEGX"]
        for start, end in found["NEG"]:
            if any(s <= start and end <= e for s, e in exceptions):
                continue
            self.neg_ends.add(end - 1)
            self.neg_tokens.update(range(start, end))
        self.breaks.update(start for start, end in found["BRK"] if end - start == 1)
        self.breaks.update(token.i for token in span if token.is_space and "\n" in token.text)
        self.post_neg_starts.update(start for start, _ in found["POSTNEG"])
        self.modal_ends.update(end - 1 for _, end in found["MOD"])
        self.modal_post_starts.update(start for start, _ in found["MODPOST"])
        self.modal_scope_ends.update(end - 1 for _, end in found["MODSCOPE"])
        self.pending.extend(found["PEND"])
        self.overcomes.extend(found["OVER"])
        self.temporary.update(start for start, _ in found["TEMP"])
        self.background_ends.update(end - 1 for _, end in found["BACK"])
        self.citation_ends.update(end - 1 for _, end in found["CITE"])
        self.skip_starts.update(start for start, _ in found["SKIP"])
        self.realis_tokens.update(start for start, _ in found["REAL"])
        self.risk_modal_ends.update(end - 1 for _, end in found["RMOD"])

    def _scan_back(
        self, start: int, floor: int, window: int, targets: set[int], transparent: frozenset[str] = frozenset()
    ) -> bool:
        """A target token within ``window`` tokens before ``start``, not past a clause break.

        Breaks whose word is in ``transparent`` are looked through, and each one
        widens the window by two tokens.
        """
        i = start - 1
        low = max(floor, start - window)
        while i >= low:
            if i in targets:
                return True
            if i in self.breaks:
                if self.doc[i].lower_ not in transparent:
                    return False
                low = max(floor, low - 2)
            i -= 1
        return False

    def _scan_forward(self, end: int, ceiling: int, window: int, targets: set[int]) -> bool:
        i = end
        high = min(ceiling, end + window)
        while i < high:
            if i in targets:
                return True
            if i in self.breaks:
                return False
            i += 1
        return False

    def negated_before(self, start: int, floor: int) -> bool:
        return self._scan_back(start, floor, self.m.neg_window, self.neg_ends, _NEGATION_TRANSPARENT)

    def negated_inside(self, start: int, end: int) -> bool:
        return any(i in self.neg_tokens for i in range(start, end))

    def negated_after(self, end: int, ceiling: int) -> bool:
        return self._scan_forward(end, ceiling, self.m.post_neg_window, self.post_neg_starts)

    def post_negated_inside(self, start: int, end: int) -> bool:
        """A post-negator inside a gapped cue: "pos anggarannya dicoret dalam APBD 2024" is no budget."""
        return any(start < i < end for i in self.post_neg_starts)

    def modal_before(self, start: int, floor: int) -> bool:
        if any(floor <= i < start for i in self.modal_scope_ends):
            return True  # "Tim merekomendasikan: (1) ... diperluas": the rest of the sentence is a proposal
        return self._scan_back(start, floor, self.m.modal_window, self.modal_ends, _MODAL_TRANSPARENT)

    def potential_before(self, start: int, floor: int) -> bool:
        """A risk that is only possible, feared or proposed against, not current.

        "rawan dicuri", "kalau sinyal hilang", "Risiko lain adalah gangguan
        jaringan", or inside a recommendation ("Tim menyarankan: ... yang rusak").
        """
        if any(floor <= i < start for i in self.modal_scope_ends):
            return True
        return self._scan_back(start, floor, self.m.modal_window, self.risk_modal_ends, _MODAL_TRANSPARENT)

    def modal_after(self, end: int, ceiling: int) -> bool:
        return self._scan_forward(end, ceiling, self.m.modal_post_window, self.modal_post_starts)

    def pending_near(self, start: int, end: int, floor: int, ceiling: int) -> bool:
        low, high = max(floor, start - self.m.modal_window), min(ceiling, end + self.m.modal_post_window)
        return any(low <= s and e <= high for s, e in self.pending)

    def background_before(self, start: int, floor: int) -> bool:
        return any(floor <= i < start for i in self.background_ends)

    def realis(self, span: Any) -> bool:
        """The sentence reports something done or under way ("telah", "sudah", "sejak"), not a proposal."""
        return any(span.start <= i < span.end for i in self.realis_tokens)

    def plan_before(self, index: int) -> bool:
        if self._plan_ends is None:
            self._plan_ends = {end - 1 for _, _, end in self.m.plan_markers(self.doc)}
        return any(index - self.m.plan_window <= i < index for i in self._plan_ends)

    def skipped(self, span: Any) -> bool:
        """The sentence opens with a skip marker ("Kata kunci:", "Daftar Pustaka")."""
        first = next((token.i for token in span if not token.is_space and not token.is_punct), span.start)
        return first in self.skip_starts or span.start in self.skip_starts

    def start_year(self, start: int, end: int) -> int | None:
        """The first year in a match that is not the year of a cited regulation ("Nomor 5 Tahun 2019")."""
        for token in self.doc[start:end]:
            if _YEAR.match(token.text) and token.i - 1 not in self.citation_ends:
                return int(token.text)
        return None

    def coordinated(self, previous_end: int, start: int) -> bool:
        """An earlier negated cue carries over to this one: "belum ada A dan B", "tanpa A, apalagi B".

        True when a coordinator ends the stretch between them (commas aside)
        and no strong break ("namun", ";") lies in it.
        """
        between = [token for token in self.doc[previous_end:start] if not token.is_space]
        if not between or len(between) > 12:
            return not between
        if any(token.lower_ in _STRONG_BREAKS for token in between):
            return False
        tail = [token for token in between[-3:] if token.text != ","]
        return (bool(tail) and tail[-1].lower_ in _COORDINATORS) or (
            len(between) <= 3 and all(token.lower_ in _COORDINATORS or token.is_punct for token in between)
        )

    def _resolved(self, start: int, end: int, after: int) -> bool:
        """An overcome marker in [start, end) at or after ``after``, not itself negated."""
        for s, e in self.overcomes:
            if start <= s and e <= end and s >= after and not self.negated_before(s, start):
                return True
        return False

    def overcome(self, match_start: int, span: Any, next_span: Any) -> bool:
        """The text says this risk was overcome: in the same sentence, or the next one after 'sempat'/'awalnya'."""
        temporary = any(span.start <= i < span.end for i in self.temporary)
        if self._resolved(span.start, span.end, span.start if temporary else match_start):
            return True
        return temporary and next_span is not None and self._resolved(next_span.start, next_span.end, next_span.start)


def _merge(lemmas: list[str], lowers: list[str], singles: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Alternatives of one position as token sequences: one LEMMA IN test, one LOWER IN test, then the rest."""
    options: list[list[dict[str, Any]]] = []
    if lemmas:
        options.append([{"LEMMA": {"IN": sorted(set(lemmas))}}])
    if lowers:
        options.append([{"LOWER": {"IN": sorted(set(lowers))}}])
    options.extend(singles)
    return options


def _atom_test(word: str, stem: Any) -> dict[str, Any]:
    """The token test for one plain word of a macro phrase: exact form with '=', stem otherwise."""
    return {"LOWER": word[1:].lower()} if word.startswith("=") else {"LEMMA": stem(word.lower())}


def _ends_with_colon(span: Any) -> bool:
    last = next((token for token in reversed(span) if not token.is_space), None)
    return last is not None and last.text == ":"


def _is_directive_item(span: Any, previous: Any) -> bool:
    """A list item that opens with a bare active verb: a recommendation or a to-do, not a report.

    "Menganggarkan honor petugas dalam APBD 2025;", "- Mengembangkan fitur
    notifikasi." Indonesian reports state what was done with a subject ("Dinas
    menganggarkan ..."); an item with none, in a list (a marker before it, a
    ';' after it, or a colon sentence before it), is what someone should do.
    """
    words = [token for token in span if not token.is_space]
    if not words:
        return False
    first = 0
    while first < len(words) and (words[first].is_punct or _LIST_LABEL.match(words[first].text)):
        first += 1
    if first >= len(words):
        return False
    word = words[first].lower_
    if not _ACTIVE_VERB.match(word) or word in _NOT_DIRECTIVE or word.endswith("nya"):
        return False
    in_list = first > 0 or words[-1].text == ";" or (previous is not None and _ends_with_colon(previous))
    return in_list


def _is_heading(span: Any) -> bool:
    """Headings, list labels and contents lines are not evidence.

    A heading is short ("Tahap 5: Perluasan."), all capitals ("PEMANTAUAN DAN
    EVALUASI"), a table-of-contents line ("3.2 Dasar Hukum ...... 12"), a page
    header or footer ("Brida Kota X | Laporan Monev 2024 Hal. 3"), or a
    numbered or labelled title in title case with no full stop ("3.2.2 Dasar
    Hukum Penyelenggaraan Inovasi", "Temuan 1: Tingkat Keterisian Lapak Menurun
    Tajam"). A short form row with a number ("Waktu Penerapan: Januari
    2018") is a field, not a heading.
    """
    words = [token for token in span if token.is_alpha]
    text = span.text.strip()
    if len(words) < _MIN_WORDS:
        return not _FORM_ROW.search(text)
    if not any(token.text != token.text.upper() for token in words):
        return True
    if _TOC_LINE.search(text) or _PAGE_FURNITURE.search(text):
        return True
    if len(words) > _MAX_TITLE_WORDS or text[-1] in ".;!?," or "|" in text:
        return False
    if not _NUMBERED_TITLE.match(text):
        return False
    return all(token.text[0].isupper() or token.lower_ in _TITLE_FUNCTION_WORDS for token in words)
