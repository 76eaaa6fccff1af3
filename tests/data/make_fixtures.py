"""Generate the binary and odd-encoding fixtures of tests/test_ingest.py into tests/data/ingest/.

Run from the repository root: ``.venv/bin/python tests/data/make_fixtures.py``.
The outputs are committed; rerun only to change them. Output is byte-for-byte
deterministic: reportlab runs with ``invariant=1``, ZIP-based files (DOCX, XLSX)
get fixed timestamps, and the encrypted PDFs a fixed file ID.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import zipfile
from pathlib import Path

OUT = Path(__file__).resolve().parent / "ingest"
FIXED_TIME = dt.datetime(2024, 1, 15, 9, 0, 0)

PDF_TITLE = "Laporan Inovasi SIPANDAI Kabupaten Tanah Merapi"
PDF_PAGES = [
    [
        "Laporan Inovasi SIPANDAI",
        "Sistem Informasi Pelayanan Administrasi Desa Terintegrasi",
        "Dinas Pemberdayaan Masyarakat dan Desa Kabupaten Tanah Merapi",
        "Sejak tahun 2021 warga desa dapat mengurus surat keterangan",
        "tanpa harus datang ke kantor kecamatan.",
    ],
    [
        "Hasil penerapan",
        "Waktu layanan turun dari tiga hari menjadi dua jam.",
        "Inovasi ini diatur dengan Peraturan Bupati Nomor 12 Tahun 2022",
        "dan dianggarkan dalam APBD setiap tahun.",
    ],
]

DOCX_TITLE = "Proposal Inovasi Rantang Kasih"
DOCX_PARAGRAPHS = [
    "Rantang Kasih adalah layanan antar makanan bergizi bagi lansia yang tinggal sendiri.",
    "Kader posyandu lansia memasak bersama di dapur umum kelurahan setiap pagi.",
]
DOCX_TABLE = [
    ["Tahun", "Penerima manfaat", "Sumber dana"],
    ["2022", "120 lansia", "APBD"],
    ["2023", "310 lansia", "APBD dan CSR"],
]
DOCX_CLOSING = "Rencana tahun depan: memperluas layanan ke seluruh kecamatan."

CP1252_TEXT = (
    "Catatan Rapat Inovasi\r\n"
    "\r\n"
    "Biaya cetak kartu hanya \u201cRp 1.500\u201d per lembar \u2013 jauh lebih murah.\r\n"
    "Rapat diadakan di kafé balai kota bersama tim Bappeda.\r\n"
)

CSV_ROWS = [
    ["id", "judul", "teks", "daerah", "tahun"],
    [
        "csv-1",
        "Lapor Cepat",
        "Warga melapor jalan rusak lewat aplikasi; petugas datang dalam 24 jam.",
        " Kota Pare Daya ",
        "2023",
    ],
    [
        "csv-2",
        "Bank Sampah Digital",
        "Nasabah menabung sampah, saldo dicatat di ponsel, lalu ditukar sembako.",
        "Kabupaten Rantau Kuning",
        "2022",
    ],
]

JSONL_LINES = [
    json.dumps(
        {
            "id": "brt-1",
            "title": "Mal Pelayanan Publik Dibuka",
            "text": "Pemkot membuka Mal Pelayanan Publik dengan 40 jenis layanan di satu gedung.",
            "region": "Kota Bandar Laksana",
            "year": 2023,
            "tags": ["mpp", "pelayanan"],
        },
        ensure_ascii=False,
    ),
    '{"id": "brt-2", "title": "Baris rusak", "text": "kutipan tidak ditutup}',
    json.dumps(
        {
            "id": "brt-3",
            "title": "Posyandu Keliling",
            "text": "Kader posyandu mendatangi rumah balita yang tidak hadir pada hari layanan.",
            "region": "Kabupaten Watu Lanur",
            "year": "2024",
        },
        ensure_ascii=False,
    ),
]


def freeze_zip(data: bytes) -> bytes:
    """Rewrite a ZIP archive with fixed member timestamps so equal content gives equal bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                # openpyxl stamps the save time into the document properties.
                data = re.sub(
                    rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                    rb"\g<1>" + FIXED_TIME.isoformat().encode() + rb"Z\g<2>",
                    data,
                )
            target.writestr(fixed, data)
    return out.getvalue()


def make_pdf() -> bytes:
    """A two-page A4 PDF with a text layer and a title in its metadata."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(PDF_TITLE)
    pdf.setAuthor("Brida Kabupaten Tanah Merapi")
    for lines in PDF_PAGES:
        y = 780
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 20
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def make_scanned_pdf() -> bytes:
    """A one-page PDF with only shapes, as a scan would have: no text layer."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setFillGray(0.85)
    pdf.rect(72, 400, 450, 350, fill=1, stroke=0)
    pdf.setFillGray(0.3)
    for row in range(12):
        pdf.rect(90, 720 - row * 25, 300 + (row % 3) * 40, 8, fill=1, stroke=0)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def _encrypt_pdf(plain: bytes, user_password: str) -> bytes:
    """Encrypt with RC4-128 (needs no extra package) and a fixed file ID.

    pypdf draws the second half of the file ID from :func:`secrets.token_bytes`; it is
    pinned here so that reruns give the same bytes (the ID also seeds the RC4 key).
    """
    from unittest import mock

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(plain)))
    with mock.patch("secrets.token_bytes", lambda size: b"\x42" * size):
        writer.encrypt(user_password=user_password, owner_password="pemilik", algorithm="RC4-128")
        buffer = io.BytesIO()
        writer.write(buffer)
    return buffer.getvalue()


def make_encrypted_pdf(plain: bytes) -> bytes:
    """The two-page PDF locked with the user password "rahasia"."""
    return _encrypt_pdf(plain, "rahasia")


def make_owner_only_pdf(plain: bytes) -> bytes:
    """The two-page PDF encrypted with an empty user password (opens without one)."""
    return _encrypt_pdf(plain, "")


def make_docx() -> bytes:
    """A DOCX with a title heading, paragraphs, a table between them and a closing paragraph."""
    import docx

    document = docx.Document()
    document.core_properties.title = ""
    document.core_properties.author = "Tim Inovasi Kelurahan"
    document.core_properties.created = FIXED_TIME
    document.core_properties.modified = FIXED_TIME
    document.core_properties.last_modified_by = "make_fixtures"
    document.core_properties.revision = 1
    document.add_heading(DOCX_TITLE, level=1)
    for paragraph in DOCX_PARAGRAPHS:
        document.add_paragraph(paragraph)
    table = document.add_table(rows=len(DOCX_TABLE), cols=len(DOCX_TABLE[0]))
    for row, values in zip(table.rows, DOCX_TABLE, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph(DOCX_CLOSING)
    buffer = io.BytesIO()
    document.save(buffer)
    return freeze_zip(buffer.getvalue())


def make_xlsx() -> bytes:
    """An IGA-style export: two sheets of innovation profiles with metadata columns."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.properties.created = FIXED_TIME
    workbook.properties.modified = FIXED_TIME
    workbook.properties.creator = "make_fixtures"
    header = [
        "id",
        "nama_inovasi",
        "daerah",
        "opd",
        "tahun",
        "waktu_penerapan",
        "rancang_bangun",
        "tujuan",
        "manfaat",
    ]
    first = workbook.active
    first.title = "IGA 2023"
    first.append(header)
    first.append(
        [
            "iga-001",
            "  Smart Kampung  ",
            "Kabupaten Tanah Merapi",
            "Dinas Kominfo",
            2023.0,
            dt.datetime(2021, 3, 1),
            "Setiap kampung mendapat laman data warga dan layanan surat daring.",
            "Mempercepat layanan administrasi di tingkat kampung.",
            "Warga tidak perlu lagi ke kantor kecamatan.",
        ]
    )
    first.append([None] * len(header))  # a blank row, passed over silently
    first.append(
        [
            "iga-002",
            "Lapor Hendi",
            "Kota Pare Daya",
            "Bagian Organisasi",
            "2023",
            dt.datetime(2019, 7, 15, 8, 30),
            "Kanal pengaduan terpadu yang ditindaklanjuti tiap OPD.",
            None,
            "Aduan warga selesai rata-rata dalam tiga hari.",
        ]
    )
    first.append(["iga-003", "Inovasi tanpa isi", "Kota Pare Daya", None, 2023, None, None, "", "   "])
    second = workbook.create_sheet("IGA 2024")
    second.append(header)
    second.append(
        [
            7,
            "Rantang Kasih",
            "Kota Bandar Laksana",
            "Dinas Sosial",
            2024,
            dt.date(2022, 1, 10),
            "Kader memasak dan mengantar makanan bagi lansia yang tinggal sendiri.",
            "Menjamin gizi lansia.",
            "Lansia terpantau setiap hari.",
        ]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return freeze_zip(buffer.getvalue())


def make_csv() -> bytes:
    """A semicolon-separated CSV in UTF-8 with a byte-order mark, as Excel exports it."""
    lines = [";".join(_csv_cell(cell) for cell in row) for row in CSV_ROWS]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _csv_cell(cell: str) -> str:
    return f'"{cell}"' if ";" in cell or '"' in cell else cell


def build() -> dict[str, bytes]:
    """Return every fixture file name with its bytes."""
    plain_pdf = make_pdf()
    return {
        "laporan-dua-halaman.pdf": plain_pdf,
        "terkunci.pdf": make_encrypted_pdf(plain_pdf),
        "terbuka-tanpa-sandi.pdf": make_owner_only_pdf(plain_pdf),
        "hasil-pindai.pdf": make_scanned_pdf(),
        "terpotong.pdf": plain_pdf[: len(plain_pdf) // 3],
        "proposal-rantang-kasih.docx": make_docx(),
        "rusak.docx": b"Ini bukan dokumen Word, hanya teks biasa.\n",
        "profil-inovasi.xlsx": make_xlsx(),
        "catatan-cp1252.txt": CP1252_TEXT.encode("cp1252"),
        "rekap-bom.csv": make_csv(),
        "berita.jsonl": ("\n".join(JSONL_LINES) + "\n").encode("utf-8"),
    }


def main() -> None:
    """Write the fixtures into tests/data/ingest/."""
    OUT.mkdir(parents=True, exist_ok=True)
    for name, data in build().items():
        (OUT / name).write_bytes(data)


if __name__ == "__main__":
    main()
