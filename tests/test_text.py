"""Text processing: normalisation, sentences, passages, stems."""

from __future__ import annotations

import itertools

import pytest

from nlp.text import make_passages, normalise, split_sentences, stem_tokens


def _words(texts):
    return [len(t.split()) for t in texts]


def test_normalise_drops_web_noise_and_keeps_paragraphs():
    raw = (
        "Judul\r\n\r\n\r\nIsi  berita\u00a0ini.\u200b\nBaca juga: Bupati resmikan pasar\n"
        "Editor: Andi\n© 2024 Kabar Daerah"
    )
    assert normalise(raw) == "Judul\n\nIsi berita ini."


def test_normalise_keeps_content_lines_that_mention_noise_words():
    text = "Editor berita daerah itu menjelaskan bahwa layanan berjalan baik sejak 2019 di seluruh kecamatan."
    assert normalise(text) == text


@pytest.mark.parametrize(
    "abbreviation",
    ["mis.", "No.", "Kab.", "Jl.", "Rp.", "Dr.", "Kec.", "H."],
)
def test_no_split_after_common_abbreviations(abbreviation):
    text = f"Bantuan disalurkan ke {abbreviation} Sukamaju 12 oleh petugas. Warga menyambut baik."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        f"Bantuan disalurkan ke {abbreviation} Sukamaju 12 oleh petugas.",
        "Warga menyambut baik.",
    ]


def test_dll_splits_only_when_a_new_sentence_starts():
    text = "Sampah plastik, kertas, dll. dipilah warga. Bank sampah menimbang semuanya, kaleng, dsb. Hasilnya ditabung."
    assert [s.text for s in split_sentences(text)] == [
        "Sampah plastik, kertas, dll. dipilah warga.",
        "Bank sampah menimbang semuanya, kaleng, dsb.",
        "Hasilnya ditabung.",
    ]


def test_sentence_offsets_cut_back_out_of_the_text():
    text = "Nama Inovasi: SIPANDAI\nTahapan: Penerapan\n\nLayanan ini dirancang untuk\nmembantu warga desa. Selesai."
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "Nama Inovasi: SIPANDAI",
        "Tahapan: Penerapan",
        "Layanan ini dirancang untuk\nmembantu warga desa.",
        "Selesai.",
    ]
    for s in sentences:
        assert text[s.start : s.end] == s.text


def test_passages_fit_the_budget_overlap_and_cover_the_text():
    sentences = [f"Kalimat nomor {i} menjelaskan layanan publik daerah dengan rinci." for i in range(40)]
    text = " ".join(sentences)
    passages = make_passages(text, lambda ts: _words(ts), max_tokens=40, overlap_tokens=10)
    assert len(passages) > 5
    assert all(len(p.text.split()) <= 40 for p in passages)
    assert passages[0].start == 0 and passages[-1].end == len(text)
    for a, b in itertools.pairwise(passages):
        assert b.start < a.end, "consecutive passages overlap"
        assert b.start > a.start, "passages move forward"
    for p in passages:
        assert text[p.start : p.end] == p.text


def test_overlong_sentence_is_cut_at_words():
    text = " ".join(["kata"] * 300) + "."
    passages = make_passages(text, lambda ts: _words(ts), max_tokens=50, overlap_tokens=0)
    assert len(passages) >= 6
    assert all(len(p.text.split()) <= 50 for p in passages)


def test_stems_join_inflected_forms_and_keep_numbers():
    assert stem_tokens("pelayanan melayani layanan") == ["layan", "layan", "layan"]
    assert stem_tokens("Sejak 2016 SP4N") == ["sejak", "2016", "sp4n"]


def test_pdf_wrapped_lines_stay_one_sentence_but_short_fields_split():
    text = (
        "Pemungutan retribusi pasar secara non-tunai diatur dalam Peraturan Bupati Wonoasri\n"
        "Nomor 44 Tahun 2021 tentang Tata Cara Pemungutan Retribusi.\n"
        "Nama Inovasi: SI-RETRI\nTahapan: Penerapan"
    )
    assert [s.text for s in split_sentences(text)] == [
        "Pemungutan retribusi pasar secara non-tunai diatur dalam Peraturan Bupati Wonoasri\n"
        "Nomor 44 Tahun 2021 tentang Tata Cara Pemungutan Retribusi.",
        "Nama Inovasi: SI-RETRI",
        "Tahapan: Penerapan",
    ]
