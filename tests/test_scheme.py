"""The label scheme as package data: loading, helpers, validation errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nlp.classify.scheme import (
    SIGNAL_CATEGORIES,
    Family,
    LabelScheme,
    available_scheme_versions,
    load_scheme,
)
from nlp.errors import InovasiError, SourceError, UnknownComponentError

DURABILITY = {"berjalan_bertahun", "lintas_kepala_daerah", "replikasi", "perluasan"}
INSTITUTIONAL = {
    "regulasi",
    "anggaran",
    "sop",
    "kelembagaan",
    "kemitraan",
    "integrasi_sistem_nasional",
    "kebijakan_wajib",
}
SUPPORTING = {"monev", "penghargaan", "minat_replikasi", "hki"}
RISKS = {
    "berhenti",
    "tidak_dilanjutkan",
    "uji_coba",
    "tergantung_kepala_daerah",
    "ketergantungan_individu",
    "tanpa_anggaran",
    "tanpa_regulasi",
    "tanpa_sop",
    "sdm_terbatas",
    "sosialisasi_kurang",
    "adopsi_rendah",
    "kendala_teknis",
    "kendala_pengelolaan",
    "penurunan_kinerja",
}


@pytest.fixture(scope="module")
def scheme() -> LabelScheme:
    return load_scheme()


def test_newest_version_is_the_default(scheme: LabelScheme) -> None:
    assert scheme.name == "inovasi-labels"
    assert scheme.version == max(available_scheme_versions()) >= 1
    assert load_scheme(1) == load_scheme(1)
    assert hash(load_scheme(1)) == hash(load_scheme(1))
    assert len(scheme.checksum) == 64


@pytest.mark.parametrize(
    ("family", "kind", "labels", "default"),
    [
        ("trends", "multi", ("customer_centricity", "sharing_economy", "industry_4_0"), ()),
        ("pp38_objectives", "multi", ("pelayanan_publik", "pemberdayaan_masyarakat", "daya_saing_daerah"), ()),
        ("pp38_form", "single", ("tata_kelola", "pelayanan_publik", "lainnya", "none"), "none"),
        ("sustainability", "single", ("sustained", "at_risk", "unclear"), "unclear"),
        ("is_innovation", "binary", ("true", "false"), False),
    ],
)
def test_families_follow_domain_section_4(
    scheme: LabelScheme, family: str, kind: str, labels: tuple[str, ...], default: object
) -> None:
    found = scheme.family(family)
    assert isinstance(found, Family)
    assert found.kind == kind
    assert scheme.label_ids(family) == labels
    assert found.default == default
    for label in scheme.labels(family):
        assert label.name_id and label.name_en and label.definition_id and label.definition_en


@pytest.mark.parametrize(
    ("category", "expected"),
    [("durability", DURABILITY), ("institutional", INSTITUTIONAL), ("supporting", SUPPORTING), ("risk", RISKS)],
)
def test_signals_by_category(scheme: LabelScheme, category: str, expected: set[str]) -> None:
    assert {signal.id for signal in scheme.signals_in(category)} == expected


def test_positive_and_risk_signals(scheme: LabelScheme) -> None:
    assert {s.id for s in scheme.positive_signals} == DURABILITY | INSTITUTIONAL | SUPPORTING
    assert {s.id for s in scheme.risk_signals} == RISKS
    assert scheme.signal_ids[: len(scheme.positive_signals)] == tuple(s.id for s in scheme.positive_signals)


@pytest.mark.parametrize("signal_id", sorted(DURABILITY | INSTITUTIONAL | SUPPORTING | RISKS))
def test_every_signal_is_documented_and_has_cues(scheme: LabelScheme, signal_id: str) -> None:
    signal = scheme.signal(signal_id)
    assert signal.polarity == ("risk" if signal_id in RISKS else "positive")
    assert signal.category in SIGNAL_CATEGORIES
    assert signal.name_id and signal.name_en and signal.definition_id and signal.definition_en
    assert signal.cues or signal.start_year_cues


@pytest.mark.parametrize(
    ("positive", "risk"), [("regulasi", "tanpa_regulasi"), ("anggaran", "tanpa_anggaran"), ("sop", "tanpa_sop")]
)
def test_negated_positive_cues_become_their_risk(scheme: LabelScheme, positive: str, risk: str) -> None:
    assert scheme.signal(positive).negated_as == risk


def test_cue_rules_are_data(scheme: LabelScheme) -> None:
    rules = scheme.cue_rules
    for key in ("syntax", "negators", "modal_markers", "overcome_markers", "stem_overrides", "macros"):
        assert key in rules
    assert "belum" in rules["negators"]
    with pytest.raises(TypeError):
        rules["negators"] = ()  # type: ignore[index]


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda s: s.family("trend"), ["trend", "trends"]),
        (lambda s: s.label("pp38_form", "digital"), ["digital", "tata_kelola"]),
        (lambda s: s.signal("regulation"), ["regulation", "regulasi"]),
        (lambda s: s.signals_in("institusi"), ["institusi", "institutional"]),
    ],
)
def test_unknown_names_list_the_valid_ones(scheme: LabelScheme, call: object, words: list[str]) -> None:
    with pytest.raises(UnknownComponentError) as caught:
        call(scheme)  # type: ignore[operator]
    for word in words:
        assert word in str(caught.value)


@pytest.mark.parametrize("version", [0, 2, 99, True])
def test_unknown_version_is_a_typed_error(version: int) -> None:
    with pytest.raises(UnknownComponentError) as caught:
        load_scheme(version)
    assert "valid versions: 1" in str(caught.value)
    assert isinstance(caught.value, InovasiError)


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "scheme.json"
    path.write_text(json.dumps(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def _packaged() -> dict:
    from importlib import resources

    return json.loads((resources.files("nlp") / "data" / "scheme-v1.json").read_text(encoding="utf-8"))


def test_a_scheme_file_can_be_loaded_by_path(tmp_path: Path) -> None:
    scheme = load_scheme(path=_write(tmp_path, _packaged()))
    assert scheme.version == 1
    assert scheme.signal_ids == load_scheme(1).signal_ids


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: "{not json", "not valid UTF-8 JSON"),
        (lambda d: {**d, "scheme": "other"}, "not a label scheme"),
        (lambda d: {**d, "version": "one"}, "positive integer"),
        (lambda d: {k: v for k, v in d.items() if k != "signals"}, "invalid scheme entry"),
        (lambda d: {**d, "signals": [*d["signals"], d["signals"][0]]}, "duplicate signal ids"),
        (
            lambda d: {**d, "signals": [{**d["signals"][0], "polarity": "neutral"}, *d["signals"][1:]]},
            "polarity",
        ),
        (
            lambda d: {**d, "signals": [{**d["signals"][0], "negated_as": "nope"}, *d["signals"][1:]]},
            "unknown signal 'nope'",
        ),
    ],
)
def test_broken_scheme_files_give_a_source_error(tmp_path: Path, mutate: object, message: str) -> None:
    path = _write(tmp_path, mutate(_packaged()))  # type: ignore[operator]
    with pytest.raises(SourceError) as caught:
        load_scheme(path=path)
    assert message in str(caught.value)
    assert str(path.as_posix()) in str(caught.value)


def test_missing_scheme_file_is_a_source_error(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="cannot read scheme file"):
        load_scheme(path=tmp_path / "missing.json")


def test_wrong_version_for_a_file(tmp_path: Path) -> None:
    with pytest.raises(UnknownComponentError, match="scheme version is 1, not 3"):
        load_scheme(3, path=_write(tmp_path, _packaged()))


def test_to_dict_is_json_safe(scheme: LabelScheme) -> None:
    data = json.loads(json.dumps(scheme.to_dict()))
    assert data["scheme"] == "inovasi-labels" and data["version"] == 1
    assert [f["id"] for f in data["families"]] == list(scheme.family_ids)
    assert len(data["signals"]) == 29


def test_bad_cue_syntax_is_reported_when_compiled(tmp_path: Path) -> None:
    from nlp.classify.signals import find_signals

    data = _packaged()
    data["signals"][0]["cues"] = ["@no_such_macro layanan"]
    scheme = load_scheme(path=_write(tmp_path, data))
    with pytest.raises(SourceError, match="unknown macro '@no_such_macro'"):
        find_signals("Layanan ini berjalan.", scheme=scheme)
