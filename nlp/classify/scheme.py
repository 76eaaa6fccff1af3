"""The label scheme as data: families, labels and evidence signals, versioned.

The scheme lives in package data as ``nlp/data/scheme-v<N>.json`` (format
``"scheme": "inovasi-labels"``). Every saved artefact that depends on labels
should store :attr:`LabelScheme.version` and :attr:`LabelScheme.checksum`, so a
model trained on one version is never read with another. The cue tables used by
:mod:`nlp.classify.signals` live in the same file (``cues`` per signal and the
shared ``cue_rules``), so tuning the matcher means editing data, not code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from nlp.errors import SourceError, UnknownComponentError

SCHEME_NAME = "inovasi-labels"
FAMILY_KINDS = ("multi", "single", "binary")
POLARITIES = ("positive", "risk")
SIGNAL_CATEGORIES = ("durability", "institutional", "supporting", "risk")
_FILE_PATTERN = re.compile(r"^scheme-v(\d+)\.json$")


@dataclass(frozen=True)
class Label:
    """One value of a label family, with Indonesian and English names and definitions."""

    id: str
    name_id: str
    name_en: str
    definition_id: str
    definition_en: str


@dataclass(frozen=True)
class Family:
    """A group of labels: ``multi`` (any number), ``single`` (exactly one) or ``binary`` (true/false).

    ``default`` is the value a text that is not about an innovation gets: a
    tuple for ``multi``, a label id for ``single``, a bool for ``binary``.
    """

    id: str
    kind: str
    name_id: str
    name_en: str
    definition_id: str
    definition_en: str
    labels: tuple[Label, ...]
    default: tuple[str, ...] | str | bool

    @property
    def label_ids(self) -> tuple[str, ...]:
        """The ids of this family's labels, in scheme order."""
        return tuple(label.id for label in self.labels)


@dataclass(frozen=True)
class SignalDef:
    """An evidence signal for sustainability and the cue patterns that find it.

    ``cues`` are patterns in the cue syntax described in the scheme's
    ``cue_rules.syntax``; ``start_year_cues`` capture a start year that counts
    only when the text runs at least two years past it; ``vetoes`` cancel the
    signal for a whole sentence (region-level evidence, say); ``negated_as``
    names the risk signal a negated cue becomes ("belum ada perbup" is
    ``tanpa_regulasi``); ``overcomable`` risks are dropped when the text says
    they were overcome; ``modal_sensitive`` signals are dropped under future,
    plan, wish or condition markers ("akan dianggarkan", "jika dihentikan").
    """

    id: str
    polarity: str
    category: str
    name_id: str
    name_en: str
    definition_id: str
    definition_en: str
    cues: tuple[str, ...]
    start_year_cues: tuple[str, ...] = ()
    vetoes: tuple[str, ...] = ()
    negated_as: str | None = None
    overcomable: bool = False
    modal_sensitive: bool = True


@dataclass(frozen=True, eq=False)
class LabelScheme:
    """A loaded, validated label scheme. Two schemes are equal when name, version and checksum agree."""

    name: str
    version: int
    families: tuple[Family, ...]
    signals: tuple[SignalDef, ...]
    cue_rules: Mapping[str, Any] = field(repr=False)
    checksum: str = field(repr=False)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LabelScheme):
            return NotImplemented
        return (self.name, self.version, self.checksum) == (other.name, other.version, other.checksum)

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.checksum))

    @property
    def family_ids(self) -> tuple[str, ...]:
        """Family ids in scheme order."""
        return tuple(family.id for family in self.families)

    def family(self, family_id: str) -> Family:
        """The family called ``family_id``; UnknownComponentError lists the valid ones."""
        for family in self.families:
            if family.id == family_id:
                return family
        raise UnknownComponentError(
            f"unknown label family {family_id!r} in scheme v{self.version}; "
            f"valid families: {', '.join(self.family_ids)}"
        )

    def labels(self, family_id: str) -> tuple[Label, ...]:
        """The labels of a family, in scheme order."""
        return self.family(family_id).labels

    def label_ids(self, family_id: str) -> tuple[str, ...]:
        """The label ids of a family, in scheme order."""
        return self.family(family_id).label_ids

    def label(self, family_id: str, label_id: str) -> Label:
        """One label of a family; UnknownComponentError lists the family's labels."""
        for label in self.labels(family_id):
            if label.id == label_id:
                return label
        raise UnknownComponentError(
            f"unknown label {label_id!r} in family {family_id!r}; valid labels: {', '.join(self.label_ids(family_id))}"
        )

    @property
    def signal_ids(self) -> tuple[str, ...]:
        """Signal ids in scheme order (positive signals first)."""
        return tuple(signal.id for signal in self.signals)

    def signal(self, signal_id: str) -> SignalDef:
        """The signal called ``signal_id``; UnknownComponentError lists the valid ones."""
        for signal in self.signals:
            if signal.id == signal_id:
                return signal
        raise UnknownComponentError(
            f"unknown signal {signal_id!r} in scheme v{self.version}; valid signals: {', '.join(self.signal_ids)}"
        )

    @property
    def positive_signals(self) -> tuple[SignalDef, ...]:
        """Signals that support sustainability (durability, institutional, supporting)."""
        return tuple(signal for signal in self.signals if signal.polarity == "positive")

    @property
    def risk_signals(self) -> tuple[SignalDef, ...]:
        """Signals of a threat or decline."""
        return tuple(signal for signal in self.signals if signal.polarity == "risk")

    def signals_in(self, category: str) -> tuple[SignalDef, ...]:
        """Signals of one category: ``durability``, ``institutional``, ``supporting`` or ``risk``."""
        if category not in SIGNAL_CATEGORIES:
            raise UnknownComponentError(
                f"unknown signal category {category!r}; valid categories: {', '.join(SIGNAL_CATEGORIES)}"
            )
        return tuple(signal for signal in self.signals if signal.category == category)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe summary (no cue tables) for manifests and ``--json`` output."""
        return {
            "scheme": self.name,
            "version": self.version,
            "checksum": self.checksum,
            "families": [
                {
                    "id": family.id,
                    "kind": family.kind,
                    "labels": list(family.label_ids),
                }
                for family in self.families
            ],
            "signals": [
                {"id": signal.id, "polarity": signal.polarity, "category": signal.category} for signal in self.signals
            ],
        }


def available_scheme_versions() -> list[int]:
    """Scheme versions shipped as package data, oldest first."""
    folder = resources.files("nlp") / "data"
    versions = []
    for entry in folder.iterdir():
        match = _FILE_PATTERN.match(entry.name)
        if match:
            versions.append(int(match.group(1)))
    return sorted(versions)


def load_scheme(version: int | None = None, *, path: str | Path | None = None) -> LabelScheme:
    """Load the label scheme ``version`` from package data (the newest when None), or a scheme file at ``path``.

    Raises:
        UnknownComponentError: no shipped scheme has that version; the message lists the valid ones.
        SourceError: the scheme file is missing, not JSON, or not a valid scheme.
    """
    if path is not None:
        file = Path(path)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise SourceError(
                file.as_posix(), f"cannot read scheme file ({exc.strerror or exc})", "check the path"
            ) from exc
        scheme = _parse(raw, file.as_posix())
        if version is not None and scheme.version != version:
            raise UnknownComponentError(
                f"{file.as_posix()}: scheme version is {scheme.version}, not {version}; "
                "pass version=None or the right file"
            )
        return scheme
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise UnknownComponentError(
            f"unknown label scheme version {version!r}; "
            f"valid versions: {', '.join(map(str, available_scheme_versions()))}"
        )
    return _load_packaged(version)


@functools.lru_cache(maxsize=8)
def _load_packaged(version: int | None) -> LabelScheme:
    versions = available_scheme_versions()
    if not versions:
        raise SourceError("nlp/data", "no label scheme files (scheme-v<N>.json) found", "reinstall inovasi-nlp")
    if version is None:
        version = versions[-1]
    if isinstance(version, bool) or not isinstance(version, int) or version not in versions:
        raise UnknownComponentError(
            f"unknown label scheme version {version!r}; valid versions: {', '.join(map(str, versions))}"
        )
    name = f"scheme-v{version}.json"
    raw = (resources.files("nlp") / "data" / name).read_bytes()
    scheme = _parse(raw, f"nlp/data/{name}")
    if scheme.version != version:
        raise SourceError(
            f"nlp/data/{name}", f"file says version {scheme.version}, its name says {version}", "reinstall inovasi-nlp"
        )
    return scheme


def _parse(raw: bytes, where: str) -> LabelScheme:
    """Validate a scheme document and build the :class:`LabelScheme`."""
    fix = "fix the scheme file or reinstall inovasi-nlp"
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SourceError(where, f"not valid UTF-8 JSON ({exc})", fix) from exc
    if not isinstance(data, dict) or data.get("scheme") != SCHEME_NAME:
        raise SourceError(where, f'not a label scheme (expected "scheme": "{SCHEME_NAME}")', fix)
    version = data.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise SourceError(where, f"version must be a positive integer, got {version!r}", fix)
    try:
        families = tuple(_family(item) for item in data["families"])
        signals = tuple(_signal(item) for item in data["signals"])
        cue_rules = data.get("cue_rules", {})
    except (KeyError, TypeError, ValueError) as exc:
        raise SourceError(where, f"invalid scheme entry ({exc!r})", fix) from exc
    problems = _check(families, signals, cue_rules)
    if problems:
        raise SourceError(where, "; ".join(problems), fix)
    checksum = hashlib.sha256(raw).hexdigest()
    return LabelScheme(SCHEME_NAME, version, families, signals, _freeze(cue_rules), checksum)


def _texts(item: Mapping[str, Any]) -> dict[str, str]:
    return {key: str(item[key]) for key in ("name_id", "name_en", "definition_id", "definition_en")}


def _family(item: Mapping[str, Any]) -> Family:
    kind = item["kind"]
    labels = tuple(Label(id=str(label["id"]), **_texts(label)) for label in item["labels"])
    default = item["default"]
    if kind == "multi":
        default = tuple(default)
    return Family(id=str(item["id"]), kind=kind, labels=labels, default=default, **_texts(item))


def _signal(item: Mapping[str, Any]) -> SignalDef:
    return SignalDef(
        id=str(item["id"]),
        polarity=item["polarity"],
        category=item["category"],
        cues=tuple(item.get("cues", ())),
        start_year_cues=tuple(item.get("start_year_cues", ())),
        vetoes=tuple(item.get("vetoes", ())),
        negated_as=item.get("negated_as"),
        overcomable=bool(item.get("overcomable", False)),
        modal_sensitive=bool(item.get("modal_sensitive", item["polarity"] == "positive")),
        **_texts(item),
    )


def _check(families: tuple[Family, ...], signals: tuple[SignalDef, ...], cue_rules: Any) -> list[str]:
    """Cross-field checks; returns one message per problem."""
    problems = []
    if not isinstance(cue_rules, dict):
        problems.append("cue_rules must be an object")
    seen: set[str] = set()
    for family in families:
        if family.id in seen:
            problems.append(f"family {family.id!r} appears twice")
        seen.add(family.id)
        if family.kind not in FAMILY_KINDS:
            problems.append(f"family {family.id!r}: kind {family.kind!r} not one of {FAMILY_KINDS}")
        ids = family.label_ids
        if len(set(ids)) != len(ids):
            problems.append(f"family {family.id!r}: duplicate label ids")
        if family.kind == "multi" and not set(family.default) <= set(ids):
            problems.append(f"family {family.id!r}: default {family.default!r} names unknown labels")
        if family.kind == "single" and family.default not in ids:
            problems.append(f"family {family.id!r}: default {family.default!r} is not one of its labels")
        if family.kind == "binary" and not isinstance(family.default, bool):
            problems.append(f"family {family.id!r}: default must be true or false")
    ids = [signal.id for signal in signals]
    if len(set(ids)) != len(ids):
        problems.append("duplicate signal ids")
    by_id = {signal.id: signal for signal in signals}
    for signal in signals:
        if signal.polarity not in POLARITIES:
            problems.append(f"signal {signal.id!r}: polarity {signal.polarity!r} not one of {POLARITIES}")
        if signal.category not in SIGNAL_CATEGORIES:
            problems.append(f"signal {signal.id!r}: category {signal.category!r} not one of {SIGNAL_CATEGORIES}")
        if (signal.polarity == "risk") != (signal.category == "risk"):
            problems.append(f"signal {signal.id!r}: risk polarity and risk category must go together")
        if not signal.cues and not signal.start_year_cues:
            problems.append(f"signal {signal.id!r}: no cues")
        if signal.negated_as is not None and by_id.get(signal.negated_as) is None:
            problems.append(f"signal {signal.id!r}: negated_as names unknown signal {signal.negated_as!r}")
        elif signal.negated_as is not None and by_id[signal.negated_as].polarity != "risk":
            problems.append(f"signal {signal.id!r}: negated_as must name a risk signal")
    return problems


def _freeze(value: Any) -> Any:
    """Read-only view of nested JSON data (mappings become MappingProxyType, lists tuples)."""
    from types import MappingProxyType

    if isinstance(value, dict):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(item) for item in value)
    return value
