"""Tests for nlp.ingest: every reader, every Skipped reason, strict mode, ids and hashes.

Binary fixtures live in tests/data/ingest/ (made by tests/data/make_fixtures.py, whose
constants the assertions reuse); small text files are written per test into tmp_path.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterable
from pathlib import Path

import pytest

from nlp.errors import FieldMappingError, SourceError
from nlp.ingest import Document, FieldMap, Skipped, content_hash, iter_documents

DATA = Path(__file__).resolve().parent / "data" / "ingest"
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FIELDS = FieldMap()
IGA_FIELDS = FieldMap(title="nama_inovasi", text="rancang_bangun,tujuan,manfaat")


def _load_fixture_module():
    spec = importlib.util.spec_from_file_location("make_fixtures", DATA.parent / "make_fixtures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIX = _load_fixture_module()


def read(
    sources: Iterable[str | Path], fields: FieldMap = DEFAULT_FIELDS, **kwargs
) -> tuple[list[Document], list[Skipped]]:
    """Run iter_documents and split its output."""
    items = list(iter_documents(list(sources), fields, **kwargs))
    docs = [item for item in items if isinstance(item, Document)]
    skipped = [item for item in items if isinstance(item, Skipped)]
    assert len(docs) + len(skipped) == len(items)
    return docs, skipped


def only_doc(path: Path, fields: FieldMap = DEFAULT_FIELDS) -> Document:
    docs, skipped = read([path], fields)
    assert skipped == [] and len(docs) == 1, skipped
    return docs[0]


def only_skip(path: Path, fields: FieldMap = DEFAULT_FIELDS) -> Skipped:
    docs, skipped = read([path], fields)
    assert docs == [] and len(skipped) == 1, docs
    return skipped[0]


def words(text: str) -> list[str]:
    return text.split()


def test_fixtures_are_committed_and_current() -> None:
    built = FIX.build()
    assert sorted(built) == sorted(path.name for path in DATA.iterdir())
    # The generator is deterministic: it must reproduce the committed bytes exactly.
    for name, data in built.items():
        assert (DATA / name).read_bytes() == data, name


# --- plain text and encodings ---------------------------------------------------------


def test_cp1252_text_file_decodes_quotes_rupiah_and_accents() -> None:
    doc = only_doc(DATA / "catatan-cp1252.txt")
    assert "\u201cRp 1.500\u201d per lembar \u2013 jauh lebih murah." in doc.text
    assert "kafé balai kota" in doc.text
    assert "\r" not in doc.text
    assert doc.title == "Catatan Rapat Inovasi"
    assert doc.meta == {"format": "txt", "encoding": "cp1252"}
    assert doc.id == "catatan-cp1252.txt"


SAMPLE = "Laporan Jemput Bola\n\nBiaya \u201cRp 1.500\u201d per berkas di kafé desa.\n"


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [
        ("utf-8", b""),
        ("utf-8", b"\xef\xbb\xbf"),
        ("utf-16", b""),  # Python writes the BOM itself
        ("utf-16-le", b""),  # no BOM: recognised by the NULs in every other byte
        ("cp1252", b""),
    ],
)
def test_text_encodings_give_identical_documents(tmp_path: Path, encoding: str, prefix: bytes) -> None:
    path = tmp_path / "catatan.txt"
    path.write_bytes(prefix + SAMPLE.replace("\n", "\r\n").encode(encoding))
    doc = only_doc(path)
    assert doc.text == SAMPLE
    assert doc.title == "Laporan Jemput Bola"
    assert doc.content_hash == content_hash("Laporan Jemput Bola", SAMPLE)


def test_latin1_bytes_undefined_in_cp1252_fall_back(tmp_path: Path) -> None:
    path = tmp_path / "lama.txt"
    path.write_bytes(b"Data lama \x81 dari sistem \xe9 tua\n")
    doc = only_doc(path)
    assert doc.text == "Data lama \x81 dari sistem é tua\n"
    assert doc.meta["encoding"] == "latin-1"


def test_decomposed_unicode_is_composed(tmp_path: Path) -> None:
    path = tmp_path / "nfd.txt"
    path.write_text("Kafe\u0301 desa\n", encoding="utf-8")
    assert only_doc(path).text == "Kafé desa\n"


def test_long_first_line_is_not_a_title(tmp_path: Path) -> None:
    path = tmp_path / "panjang.txt"
    sentence = "Pemerintah kabupaten memperluas layanan keliling ke semua desa " * 4
    path.write_text(sentence + "\n\nParagraf kedua.\n", encoding="utf-8")
    assert only_doc(path).title is None


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file; remove it or export it again"),
        (b"  \n\r\n\t \n", "no text (only whitespace); remove it or export it again"),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00",
            "binary data (NUL bytes), not text; check the file type or save it as UTF-8 text",
        ),
    ],
)
def test_unreadable_text_files_are_skipped(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "catatan.txt"
    path.write_bytes(content)
    skipped = only_skip(path)
    assert skipped == Skipped(path=path.as_posix(), reason=reason)


# --- Markdown -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "title"),
    [
        ("Pengantar singkat.\n\n# Inovasi Lapor Cepat\n\nIsi laporan.\n", "Inovasi Lapor Cepat"),
        ("## Latar Belakang ##\n\nIsi.\n", "Latar Belakang"),
        ("Inovasi Posyandu Keliling\n=========================\n\nIsi.\n", "Inovasi Posyandu Keliling"),
        ('---\ntitle: "Smart Kampung"\npenulis: Brida\n---\n\n# Bab 1\n', "Smart Kampung"),
        ("---\npenulis: Brida\n---\nCatatan rapat Bappeda\n\nIsi.\n", "Catatan rapat Bappeda"),
        ("Baris pertama tanpa tanda judul\n\nIsi.\n", "Baris pertama tanpa tanda judul"),
    ],
)
def test_markdown_title_rules(tmp_path: Path, content: str, title: str) -> None:
    path = tmp_path / "catatan.md"
    path.write_text(content, encoding="utf-8")
    doc = only_doc(path)
    assert doc.title == title
    assert doc.text == content  # markup is kept; only encoding/newlines are normalised
    assert doc.meta == {"format": "md", "encoding": "utf-8"}


# --- PDF ----------------------------------------------------------------------------


def test_pdf_two_pages_joined_with_blank_line_and_metadata_title() -> None:
    doc = only_doc(DATA / "laporan-dua-halaman.pdf")
    first, second = ("\n".join(lines) for lines in FIX.PDF_PAGES)
    assert words(doc.text) == words(first) + words(second)
    assert "tanpa harus datang ke kantor kecamatan.\n\nHasil penerapan" in doc.text
    assert doc.title == FIX.PDF_TITLE
    assert doc.meta == {"format": "pdf", "pages": 2}


def test_pdf_encrypted_with_password_is_skipped() -> None:
    assert only_skip(DATA / "terkunci.pdf").reason == "encrypted PDF; remove the password first"


def test_pdf_encrypted_with_empty_user_password_is_read() -> None:
    doc = only_doc(DATA / "terbuka-tanpa-sandi.pdf")
    assert "Peraturan Bupati Nomor 12 Tahun 2022" in doc.text
    assert doc.meta["pages"] == 2


def test_pdf_without_text_layer_is_skipped() -> None:
    skipped = only_skip(DATA / "hasil-pindai.pdf")
    assert skipped.reason == "no text layer (scanned PDF?); run OCR first"


def test_truncated_pdf_is_skipped() -> None:
    skipped = only_skip(DATA / "terpotong.pdf")
    assert skipped.reason.startswith("corrupt or truncated PDF (")
    assert skipped.reason.endswith("open and re-save it, or download it again")


def test_pdf_placeholder_metadata_title_falls_back_to_first_line(tmp_path: Path) -> None:
    from reportlab.pdfgen import canvas

    path = tmp_path / "ekspor.pdf"
    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.setTitle("Microsoft Word - laporan_final_v2.docx")
    pdf.drawString(72, 760, "Laporan Pelaksanaan Inovasi Posyandu Keliling")
    pdf.drawString(72, 740, "Kader mendatangi rumah balita.")
    pdf.save()
    assert only_doc(path).title == "Laporan Pelaksanaan Inovasi Posyandu Keliling"


def _report_with_running_lines(path: Path) -> None:
    """Three A4 pages with a running header, a numbered footer and one sentence cut by each page break."""
    from reportlab.pdfgen import canvas

    pages = [
        [
            "Laporan Pelaksanaan Ambulans Desa",
            "Ambulans desa melayani warga sejak 2019.",
            "Setiap desa punya dua sopir dan",
        ],
        ["satu kendaraan siaga.", "Dasar hukum: Perbup Nomor 7 Tahun 2020.", "Armada bertambah menjadi 14 unit"],
        ["pada tahun 2023.", "Di halaman ini ada baris yang sama.", "Di halaman ini ada baris yang sama."],
    ]
    pdf = canvas.Canvas(str(path), invariant=1)
    pdf.setTitle("Laporan Pelaksanaan Ambulans Desa")
    for number, lines in enumerate(pages, 1):
        pdf.drawString(72, 800, "Dinas Kesehatan Kabupaten Lembah Hijau - Laporan Tahun 2024")
        for k, line in enumerate(lines):
            pdf.drawString(72, 740 - 20 * k, line)
        pdf.drawString(280, 40, f"Halaman {number} dari {len(pages)}")
        pdf.showPage()
    pdf.save()


def test_pdf_running_header_footer_dropped_and_sentences_joined_across_pages(tmp_path: Path) -> None:
    from nlp.text import normalise, split_sentences

    path = tmp_path / "laporan-ambulans.pdf"
    _report_with_running_lines(path)
    doc = only_doc(path)
    header = "Dinas Kesehatan Kabupaten Lembah Hijau - Laporan Tahun 2024"
    # The header is kept once, at the top of the first page; no page numbers remain.
    assert doc.text.startswith(header + "\n")
    assert doc.text.count(header) == 1
    assert "Halaman" not in doc.text
    # A body line repeated inside a page is content, not a running line.
    assert doc.text.count("Di halaman ini ada baris yang sama.") == 2
    sentences = [" ".join(s.text.split()) for s in split_sentences(normalise(doc.text))]
    assert "Setiap desa punya dua sopir dan satu kendaraan siaga." in sentences
    assert "Armada bertambah menjadi 14 unit pada tahun 2023." in sentences
    assert doc.meta == {"format": "pdf", "pages": 3}


def test_strip_running_lines_needs_repetition_and_keeps_single_pages() -> None:
    from nlp.ingest.files import join_pages, strip_running_lines

    single = ["Judul\nIsi halaman.\n3"]
    assert strip_running_lines(single) == single
    pages = [
        "Profil Inovasi\nLayanan dibuka pada 2021.\n- 1 -",
        "Catatan lapangan\nWarga datang ke balai desa.\nii",
        "Penutup\nLayanan masih berjalan.\nHal. 3",
        "Tabel 2\nJumlah pengguna per tahun\n2024",
    ]
    # Different first lines stay; bare page numbers of any style go, a year on its own line stays.
    assert strip_running_lines(pages) == [
        "Profil Inovasi\nLayanan dibuka pada 2021.",
        "Catatan lapangan\nWarga datang ke balai desa.",
        "Penutup\nLayanan masih berjalan.",
        "Tabel 2\nJumlah pengguna per tahun\n2024",
    ]
    # Pages are joined with a blank line unless a sentence runs on in lower case.
    assert join_pages(["Satu.", "Dua", "lanjutan.", "", "Tiga"]) == "Satu.\n\nDua\nlanjutan.\n\nTiga"


def test_pdf_words_hyphenated_at_line_ends_are_made_whole(tmp_path: Path) -> None:
    """A typeset column breaks words at line ends; the reader joins them and keeps real hyphenated words."""
    from reportlab.pdfgen import canvas

    from nlp.text import normalise, split_sentences

    lines = [
        "Inovasi ini meningkatkan pe-",
        "layanan kepada masyarakat dan anak-",
        "anak di daerah terpencil sejak 2019-",
        "2024 melalui aplikasi e-",
        "government yang diatur dalam per-",
        "bup tentang ke-",
        "bijakan satu data. SP4N-",
        "LAPOR! tetap terhubung.",
    ]
    path = tmp_path / "artikel-jurnal.pdf"
    pdf = canvas.Canvas(str(path), invariant=1)
    for k, line in enumerate(lines):
        pdf.drawString(72, 760 - 14 * k, line)
    pdf.save()
    sentences = [" ".join(s.text.split()) for s in split_sentences(normalise(only_doc(path).text))]
    assert sentences[0] == (
        "Inovasi ini meningkatkan pelayanan kepada masyarakat dan anak-anak di daerah terpencil sejak 2019-2024 "
        "melalui aplikasi e-government yang diatur dalam perbup tentang kebijakan satu data."
    )
    # A capital after the line break is not a broken word: the hyphen and the break stay as written.
    assert "SP4N-" in sentences[1]


@pytest.mark.parametrize(
    ("text", "joined"),
    [
        ("pem-\nbangunan desa", "pembangunan desa"),
        ("kebija\u00ad\nkan", "kebijakan"),  # a soft hyphen always marks a break
        ("pelaya\u00adnan publik", "pelayanan publik"),  # and one inside a line is invisible: dropped
        ("pela- \n  yanan", "pelayanan"),
        ("masing-\nmasing", "masing-masing"),
        ("sehari-\nhari", "sehari-hari"),
        ("sayur-\nmayur", "sayur-mayur"),
        ("gotong-\nroyong", "gotong-royong"),
        ("Covid-\n19", "Covid-19"),
        ("Bagian A -\nlanjutan", "Bagian A -\nlanjutan"),  # a dash after a space is punctuation
        ("Kecamatan-\nKecamatan", "Kecamatan-\nKecamatan"),
    ],
)
def test_join_hyphenated(text: str, joined: str) -> None:
    from nlp.ingest.files import join_hyphenated

    assert join_hyphenated(text) == joined


# --- DOCX ---------------------------------------------------------------------------


def test_docx_paragraphs_and_table_in_document_order() -> None:
    doc = only_doc(DATA / "proposal-rantang-kasih.docx")
    table = "\n".join(" | ".join(row) for row in FIX.DOCX_TABLE)
    expected = "\n\n".join([FIX.DOCX_TITLE, *FIX.DOCX_PARAGRAPHS, table, FIX.DOCX_CLOSING])
    assert doc.text == expected
    assert doc.title == FIX.DOCX_TITLE  # core title is empty, so the first heading
    assert doc.meta == {"format": "docx", "paragraphs": 4, "tables": 1}


def test_docx_core_title_wins_and_merged_cells_count_once(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.core_properties.title = "Profil Inovasi Lapor Hendi"
    document.add_heading("Bab 1 Pendahuluan", level=1)
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 2))
    merged.text = "Rekap aduan 2023"
    for cell, value in zip(table.rows[1].cells, ["Jan", "Feb", "Mar"], strict=True):
        cell.text = value
    path = tmp_path / "profil.docx"
    document.save(str(path))
    doc = only_doc(path)
    assert doc.title == "Profil Inovasi Lapor Hendi"
    assert doc.text == "Bab 1 Pendahuluan\n\nRekap aduan 2023\nJan | Feb | Mar"


def test_docx_that_is_not_a_zip_is_skipped() -> None:
    skipped = only_skip(DATA / "rusak.docx")
    assert skipped.reason.startswith("not a DOCX file")
    assert skipped.reason.endswith("open it in Word and save it again as .docx")


def test_zip_that_is_not_a_word_document_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "arsip.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("catatan.txt", "bukan dokumen word")
    skipped = only_skip(path)
    assert skipped.reason.startswith("corrupt DOCX or not a Word document (")


# --- XLSX ---------------------------------------------------------------------------


def test_xlsx_every_sheet_row_by_row_with_clean_metadata() -> None:
    docs, skipped = read([DATA / "profil-inovasi.xlsx"], IGA_FIELDS)
    assert [doc.id for doc in docs] == ["iga-001", "iga-002", "7"]
    first, second, third = docs
    assert first.title == "Smart Kampung"  # cell whitespace stripped
    assert first.text == "\n\n".join(
        [
            "Setiap kampung mendapat laman data warga dan layanan surat daring.",
            "Mempercepat layanan administrasi di tingkat kampung.",
            "Warga tidak perlu lagi ke kantor kecamatan.",
        ]
    )
    assert first.source == f"{(DATA / 'profil-inovasi.xlsx').as_posix()}#IGA 2023!2"
    assert first.meta == {
        "daerah": "Kabupaten Tanah Merapi",
        "opd": "Dinas Kominfo",
        "tahun": 2023,  # 2023.0 from the spreadsheet
        "waktu_penerapan": "2021-03-01",
        "sheet": "IGA 2023",
    }
    assert second.meta["tahun"] == 2023  # "2023" string
    assert second.meta["waktu_penerapan"] == "2019-07-15T08:30:00"
    assert second.text.count("\n\n") == 1  # the empty "tujuan" cell is left out
    assert second.source.endswith("#IGA 2023!4")  # row 3 was blank and passed over
    assert third.source.endswith("#IGA 2024!2")
    assert third.meta["sheet"] == "IGA 2024"
    assert isinstance(third.meta["tahun"], int)
    assert skipped == [
        Skipped(
            path=f"{(DATA / 'profil-inovasi.xlsx').as_posix()}#IGA 2023!5",
            reason="empty text in 'rancang_bangun', 'tujuan', 'manfaat'; fill it in or remove the record",
        )
    ]


def test_xlsx_without_id_column_gets_row_ids_and_missing_text_sheet_is_reported(
    tmp_path: Path,
) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Data"
    sheet.append(["Title", "Text", "Tahun"])
    sheet.append(["Sampah Jadi Emas", "Warga menabung sampah di bank sampah.", "2022"])
    notes = workbook.create_sheet("Keterangan")
    notes.append(["Catatan"])
    notes.append(["Diisi oleh operator Bappeda."])
    workbook.create_sheet("Kosong")
    folder = tmp_path / "ekspor"
    folder.mkdir()
    workbook.save(folder / "rekap.xlsx")
    docs, skipped = read([folder])
    assert [doc.id for doc in docs] == ["rekap.xlsx#Data!2"]
    assert docs[0].title == "Sampah Jadi Emas"  # "Title"/"Text" match the defaults case-insensitively
    assert docs[0].meta == {"Tahun": 2022, "sheet": "Data"}
    assert len(skipped) == 1
    assert skipped[0].path == f"{(folder / 'rekap.xlsx').as_posix()}#Keterangan"
    assert "no column 'text'" in skipped[0].reason and "--text-field" in skipped[0].reason


def test_corrupt_xlsx_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "rekap.xlsx"
    path.write_bytes(b"PK\x03\x04 potongan arsip")
    assert only_skip(path).reason.startswith("corrupt XLSX or not an Excel workbook (")


# --- CSV ----------------------------------------------------------------------------


def test_csv_with_bom_and_semicolons() -> None:
    docs, skipped = read([DATA / "rekap-bom.csv"], FieldMap(title="judul", text="teks"))
    assert skipped == []
    assert [doc.id for doc in docs] == ["csv-1", "csv-2"]
    assert docs[0].title == "Lapor Cepat"
    assert docs[0].text == FIX.CSV_ROWS[1][2]  # the ';' inside the quoted text survives
    assert docs[0].meta == {"daerah": "Kota Pare Daya", "tahun": 2023}
    assert docs[1].source == f"{(DATA / 'rekap-bom.csv').as_posix()}#3"


def test_csv_tab_delimited_without_id_column(tmp_path: Path) -> None:
    path = tmp_path / "rekap.csv"
    path.write_text(
        "text\tregion\tkode\n"
        "Layanan KTP keliling, sampai ke dusun terpencil.\tKabupaten Watu Lanur\t0012\n"
        "\t\t\n"
        "Perizinan daring, tanpa tatap muka.\t Kota Pare Daya \t7371\n",
        encoding="utf-8",
    )
    docs, skipped = read([tmp_path])
    assert skipped == []
    assert [doc.id for doc in docs] == ["rekap.csv#2", "rekap.csv#4"]
    assert docs[0].text == "Layanan KTP keliling, sampai ke dusun terpencil."
    assert docs[0].title is None
    assert docs[0].meta == {"region": "Kabupaten Watu Lanur", "kode": "0012"}  # leading zero kept
    assert docs[1].meta == {"region": "Kota Pare Daya", "kode": 7371}


@pytest.mark.parametrize(
    ("content", "path_suffix", "reason_start"),
    [
        ("id,text\n", "", "no data rows below the header"),
        ("id,isi\n1,Teks laporan\n", "", "no column 'text' for the text (available: id, isi)"),
        ("id,text\n1,\n", "#2", "empty text in 'text'"),
        ("id,text\n1,satu,dua,tiga\n", "#2", "row has 4 cells but the header has 2"),
    ],
)
def test_csv_problems(tmp_path: Path, content: str, path_suffix: str, reason_start: str) -> None:
    path = tmp_path / "rekap.csv"
    path.write_text(content, encoding="utf-8")
    skipped = only_skip(path)
    assert skipped.path == path.as_posix() + path_suffix
    assert skipped.reason.startswith(reason_start)


def test_csv_text_from_several_columns(tmp_path: Path) -> None:
    path = tmp_path / "iga.csv"
    path.write_text(
        "id,nama_inovasi,rancang_bangun,tujuan,manfaat\n"
        'iga-9,Lapak UMKM,"Pasar daring untuk UMKM desa.",,"Omzet naik."\n',
        encoding="utf-8",
    )
    doc = only_doc(path, IGA_FIELDS)
    assert doc.text == "Pasar daring untuk UMKM desa.\n\nOmzet naik."
    assert doc.title == "Lapak UMKM"
    assert doc.meta == {}


# --- JSONL --------------------------------------------------------------------------


def test_jsonl_bad_line_is_skipped_and_reading_continues() -> None:
    docs, skipped = read([DATA / "berita.jsonl"])
    assert [doc.id for doc in docs] == ["brt-1", "brt-3"]
    assert docs[0].meta == {
        "region": "Kota Bandar Laksana",
        "year": 2023,
        "tags": ["mpp", "pelayanan"],
    }
    assert docs[1].meta["year"] == 2024  # "2024" string
    assert docs[1].source == f"{(DATA / 'berita.jsonl').as_posix()}#3"
    assert len(skipped) == 1
    assert skipped[0].path == f"{(DATA / 'berita.jsonl').as_posix()}#2"
    assert skipped[0].reason.startswith("not valid JSON (")
    assert skipped[0].reason.endswith("fix or remove the line")


def test_jsonl_record_problems(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    records = [
        {"id": "a", "judul": "Tanpa teks", "isi": "Isi ada di field lain."},
        {"id": "b", "text": "   "},
        ["bukan", "objek"],
        {"id": "c", "text": {"bagian": "objek"}},
        {"text": "Tanpa id: dapat id dari nomor baris.", "year": 2023.0, "skor": float("nan")},
    ]
    lines = [json.dumps(record) for record in records]
    path.write_text("\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n", encoding="utf-8")
    docs, skipped = read([path])
    where = path.as_posix()
    assert [(item.path, item.reason.split(";")[0]) for item in skipped] == [
        (f"{where}#1", "no field 'text' for the text (available: id, judul, isi)"),
        (f"{where}#2", "empty text in 'text'"),
        (f"{where}#4", "a JSON list, not an object"),
        (f"{where}#5", "field 'text' holds a dict, not text"),
    ]
    assert "--text-field" in skipped[0].reason
    assert [doc.id for doc in docs] == ["data.jsonl#6"]
    assert docs[0].meta == {"year": 2023, "skor": None}


def test_explicit_id_field_must_exist(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"kode": "x1", "text": "Teks."}\n', encoding="utf-8")
    skipped = only_skip(path, FieldMap(id="id_inovasi"))
    assert "no field 'id_inovasi' for the id" in skipped.reason
    assert "--id-field" in skipped.reason


def test_jsonl_field_names_match_case_insensitively(tmp_path: Path) -> None:
    path = tmp_path / "data.jsonl"
    path.write_text('{"ID": 12, "Title": " Judul ", "Text": "Isi laporan."}\n', encoding="utf-8")
    doc = only_doc(path)
    assert (doc.id, doc.title, doc.text, doc.meta) == ("12", "Judul", "Isi laporan.", {})


# --- sources, ids, strict mode, duplicates -------------------------------------------


def test_nonexistent_path_raises_before_iteration(tmp_path: Path) -> None:
    missing = tmp_path / "tidak-ada"
    with pytest.raises(SourceError) as info:
        iter_documents([DATA, missing])  # no next(): the check is immediate
    assert str(info.value) == f"{missing}: no such file or folder; check the path"


def test_unsupported_extension_named_directly_is_skipped_but_ignored_in_folders(
    tmp_path: Path,
) -> None:
    (tmp_path / "lama.doc").write_bytes(b"\xd0\xcf\x11\xe0")
    (tmp_path / "foto.jpg").write_bytes(b"\xff\xd8\xff")
    (tmp_path / "catatan.txt").write_text("Catatan\n", encoding="utf-8")
    docs, skipped = read([tmp_path])
    assert [doc.id for doc in docs] == ["catatan.txt"] and skipped == []
    assert only_skip(tmp_path / "lama.doc").reason == (
        "unsupported file type '.doc'; open it in Word and save it as .docx"
    )
    assert only_skip(tmp_path / "foto.jpg").reason.startswith("unsupported file type '.jpg'; convert it to one of")


def test_ids_are_relative_to_the_source_root_in_sorted_order(tmp_path: Path) -> None:
    root = tmp_path / "arsip"
    for rel in ["b/2023/laporan.txt", "a.md", "b/catatan.TXT", "c.txt"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(f"Dokumen {rel}\n", encoding="utf-8")
    for hidden in [".git/config.txt", ".catatan.txt", "~$laporan.txt"]:
        (root / hidden).parent.mkdir(parents=True, exist_ok=True)
        (root / hidden).write_text("tersembunyi\n", encoding="utf-8")
    docs, skipped = read([root])
    assert skipped == []
    assert [doc.id for doc in docs] == ["a.md", "b/2023/laporan.txt", "b/catatan.TXT", "c.txt"]
    assert docs[1].source == f"{root.as_posix()}/b/2023/laporan.txt"
    # The same tree named through another path gives the same ids and hashes.
    again, _ = read([str(tmp_path / "arsip" / ".." / "arsip")])
    assert [(d.id, d.content_hash) for d in again] == [(d.id, d.content_hash) for d in docs]
    # A file named directly is identified by its name.
    assert only_doc(root / "b" / "2023" / "laporan.txt").id == "laporan.txt"


def test_duplicate_ids_second_one_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text('{"id": "inv-1", "text": "Pertama."}\n', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        '{"id": "inv-2", "text": "Kedua."}\n{"id": "inv-1", "text": "Ulang."}\n', encoding="utf-8"
    )
    docs, skipped = read([tmp_path])
    assert [doc.id for doc in docs] == ["inv-1", "inv-2"]
    assert skipped == [
        Skipped(
            path=f"{(tmp_path / 'b.jsonl').as_posix()}#2",
            reason=(
                f"duplicate id 'inv-1' (first seen in {(tmp_path / 'a.jsonl').as_posix()}#1); "
                "give every record its own id, or choose another field with --id-field"
            ),
        )
    ]


def test_same_relative_file_under_two_roots_is_a_duplicate(tmp_path: Path) -> None:
    for folder in ("2023", "2024"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "laporan.txt").write_text(f"Laporan {folder}\n", encoding="utf-8")
    docs, skipped = read([tmp_path / "2023", tmp_path / "2024"])
    assert [doc.id for doc in docs] == ["laporan.txt"]
    assert skipped[0].reason.startswith("duplicate id 'laporan.txt'")
    assert "common parent folder" in skipped[0].reason
    docs, skipped = read([tmp_path])
    assert [doc.id for doc in docs] == ["2023/laporan.txt", "2024/laporan.txt"] and not skipped


def test_strict_mode_raises_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as info:
        list(iter_documents([DATA / "hasil-pindai.pdf"], strict=True))
    assert info.value.reason == "no text layer (scanned PDF?)"
    assert info.value.fix == "run OCR first"
    assert info.value.path == (DATA / "hasil-pindai.pdf").as_posix()
    with pytest.raises(SourceError, match="#2: not valid JSON"):
        list(iter_documents([DATA / "berita.jsonl"], strict=True))
    with pytest.raises(FieldMappingError, match=r"no column 'text'.*--text-field"):
        list(iter_documents([DATA / "rekap-bom.csv"], strict=True))
    (tmp_path / "ok.txt").write_text("Laporan singkat\n", encoding="utf-8")
    assert [d.id for d in iter_documents([tmp_path], strict=True)] == ["ok.txt"]


def test_strict_mode_yields_documents_before_the_first_problem() -> None:
    stream = iter_documents([DATA / "berita.jsonl"], strict=True)
    assert next(stream).id == "brt-1"
    with pytest.raises(SourceError):
        next(stream)


def test_unusable_field_map_raises_at_once() -> None:
    with pytest.raises(FieldMappingError, match="--text-field"):
        iter_documents([DATA], FieldMap(text=" , "))


def test_reading_streams_file_by_file(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Pertama\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("Kedua\n", encoding="utf-8")
    stream = iter_documents([tmp_path])
    assert next(stream).id == "a.txt"
    (tmp_path / "b.txt").unlink()  # b.txt is opened only when the stream reaches it
    skipped = next(stream)
    assert isinstance(skipped, Skipped)
    assert skipped.reason.startswith("cannot read (")


def test_single_path_string_is_accepted() -> None:
    docs, _ = read([DATA / "catatan-cp1252.txt"])
    assert [d.id for d in iter_documents(str(DATA / "catatan-cp1252.txt"))] == [docs[0].id]


def test_whole_fixture_folder_meta_is_json_safe_and_ids_unique() -> None:
    docs, skipped = read([DATA], IGA_FIELDS)
    json.dumps([doc.meta for doc in docs])
    assert len({doc.id for doc in docs}) == len(docs)
    assert all(isinstance(item, Skipped) and "; " in item.reason for item in skipped)


# --- Document -----------------------------------------------------------------------


def test_content_hash_is_sha256_of_title_and_text_and_stable() -> None:
    first = only_doc(DATA / "laporan-dua-halaman.pdf")
    second = only_doc(DATA / "laporan-dua-halaman.pdf")
    expected = hashlib.sha256(((first.title or "") + "\n" + first.text).encode()).hexdigest()
    assert first.content_hash == second.content_hash == expected
    assert content_hash(None, "teks") == hashlib.sha256(b"\nteks").hexdigest()
    assert content_hash("a", "teks") != content_hash("b", "teks")


def test_document_is_frozen_and_hashable() -> None:
    doc = only_doc(DATA / "catatan-cp1252.txt")
    with pytest.raises(dataclasses.FrozenInstanceError):
        doc.text = "lain"  # type: ignore[misc]
    assert doc in {doc}


def test_heavy_readers_are_imported_lazily() -> None:
    code = (
        "import sys, nlp.ingest; "
        "print(','.join(m for m in ('pypdf', 'docx', 'openpyxl', 'reportlab') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


# --- corpora/tools/render_files.py round trip ----------------------------------------


def _load_render_tool():
    spec = importlib.util.spec_from_file_location("render_files", ROOT / "corpora" / "tools" / "render_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


REPORT_SOURCE = """Laporan Inovasi Posyandu Keliling Kabupaten Watu Lanur

Latar Belakang

Banyak balita di dusun terpencil tidak datang ke posyandu karena jarak dan biaya
perjalanan. Kader kemudian mendatangi rumah balita yang tidak hadir pada hari layanan.

Tabel 1. Cakupan penimbangan
Tahun | Balita ditimbang | Cakupan
2022 | 1.204 | 71%
2023 | 1.655 | 93%

- Surat Keputusan Bupati menetapkan jadwal kunjungan.
- Biaya transport kader dianggarkan dari dana desa.
"""
REPORT_FILLER = (
    "Paragraf {n}: kader mencatat berat dan tinggi badan balita di aplikasi, lalu puskesmas "
    "memeriksa data setiap bulan & menindaklanjuti anak yang berisiko tengkes bersama "
    "pemerintah desa, PKK, dan bidan desa sehingga tidak ada balita yang terlewat."
)
PROPOSAL_SOURCE = """Proposal Inovasi Lapak UMKM Desa

Ringkasan

Pasar daring yang dikelola BUMDes untuk menjual produk UMKM desa ke pembeli di kota.

Tabel 2. Target
Tahun | UMKM bergabung | Omzet (Rp)
2024 | 40 | 150.000.000
2025 | 120 | 600.000.000
"""


def test_render_files_round_trip_word_for_word(tmp_path: Path) -> None:
    tool = _load_render_tool()
    src = tmp_path / "src"
    src.mkdir()
    filler = "\n\n".join(REPORT_FILLER.format(n=n) for n in range(1, 31))
    (src / "laporan-posyandu.txt").write_text(REPORT_SOURCE + "\n" + filler + "\n", encoding="utf-8")
    (src / "proposal-lapak.txt").write_text(PROPOSAL_SOURCE, encoding="utf-8")
    (src / "catatan-lain.txt").write_text("Bukan laporan atau proposal.\n", encoding="utf-8")
    pairs = tool.render_all(src, tmp_path / "files")
    assert sorted(path.name for path in (tmp_path / "files").iterdir()) == [
        "laporan-posyandu.pdf",
        "proposal-lapak.docx",
    ]
    assert tool.check_round_trip(pairs) == []
    docs = {doc.id: doc for doc in read([tmp_path / "files"])[0]}
    report = docs["laporan-posyandu.pdf"]
    assert report.title == "Laporan Inovasi Posyandu Keliling Kabupaten Watu Lanur"
    assert report.meta["pages"] >= 2
    # The agency header runs on every page and is kept once; the page numbers are dropped.
    assert report.text.count(tool.AGENCY) == 1
    assert "Halaman" not in report.text
    proposal = docs["proposal-lapak.docx"]
    assert proposal.title == "Proposal Inovasi Lapak UMKM Desa"
    assert "Tahun | UMKM bergabung | Omzet (Rp)\n2024 | 40 | 150.000.000" in proposal.text
    assert proposal.meta["tables"] == 1
    # Rendering is deterministic.
    again = tool.render_all(src, tmp_path / "again")
    for (_, first), (_, second) in zip(pairs, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), first.name
