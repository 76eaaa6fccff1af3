"""Evidence signals: one hand-written case per signal, the negation/modality/overcome rules, offsets."""

from __future__ import annotations

import subprocess
import sys

import pytest

from nlp.classify.scheme import load_scheme
from nlp.classify.signals import Signal, find_signals
from nlp.text import normalise, split_sentences


def _found(text: str, **kwargs: object) -> set[str]:
    return {s.signal for s in find_signals(normalise(text), **kwargs)}


# One or more sentences of our own per signal; each must yield that signal.
POSITIVE_CASES = [
    ("berjalan_bertahun", "Layanan antar obat ini sudah empat tahun berjalan tanpa jeda."),
    ("berjalan_bertahun", "Program jemput bola kini memasuki tahun kelima pelaksanaannya."),
    ("berjalan_bertahun", "Aplikasi SIMANTAP diluncurkan pada Mei 2018. Pada 2023 aplikasi ini dipakai 40 puskesmas."),
    (
        "lintas_kepala_daerah",
        "Bupati yang dilantik pada 2021 memutuskan melanjutkan layanan ini dan menambah armadanya.",
    ),
    ("lintas_kepala_daerah", "Setelah pergantian wali kota, program ini tetap dilanjutkan dan masuk RPJMD."),
    ("replikasi", "Model layanan ini telah diadopsi oleh Kabupaten Sungai Lebar pada 2022."),
    ("replikasi", "Inovasi tersebut sudah direplikasi di tiga kabupaten tetangga."),
    ("perluasan", "Layanan kemudian diperluas ke seluruh 12 kecamatan."),
    ("perluasan", "Awalnya hanya ada di dua desa, kini sudah berjalan di 31 desa."),
    ("regulasi", "Penyelenggaraan layanan diatur dalam Peraturan Bupati Nomor 7 Tahun 2020."),
    ("regulasi", "Dasar hukumnya adalah Perwali Nomor 3 Tahun 2019 tentang Pelayanan Terpadu."),
    ("anggaran", "Biaya operasional layanan dianggarkan setiap tahun dalam APBD melalui DPA Dinas Sosial."),
    ("anggaran", "Honor kader dibayarkan dari dana desa masing-masing."),
    ("sop", "Petugas bekerja berdasarkan SOP yang ditetapkan Kepala Dinas pada 2021."),
    ("sop", "Dinas telah menerbitkan petunjuk teknis pelaksanaan bagi seluruh puskesmas."),
    ("kelembagaan", "Pengelolaan harian diserahkan kepada UPTD Pengelolaan Air Minum yang dibentuk khusus untuk itu."),
    ("kelembagaan", "Kebun bibit ini dikelola oleh BUMDes Maju Bersama sejak awal."),
    ("kemitraan", "Dinas menandatangani perjanjian kerja sama dengan PT Pos Indonesia untuk pengiriman dokumen."),
    ("kemitraan", "Peralatan dapur disediakan melalui program CSR sebuah bank daerah."),
    ("integrasi_sistem_nasional", "Seluruh aduan yang masuk sudah terhubung dengan SP4N-LAPOR! sejak tahun lalu."),
    ("integrasi_sistem_nasional", "Data pasien dikirim otomatis ke platform SATUSEHAT milik Kementerian Kesehatan."),
    ("kebijakan_wajib", "Seluruh puskesmas diwajibkan menggunakan aplikasi antrean ini mulai Januari."),
    ("kebijakan_wajib", "Peraturan tersebut mewajibkan setiap kelurahan memakai aplikasi yang sama."),
    ("monev", "Dinas melakukan evaluasi setiap triwulan bersama para camat."),
    ("monev", "Survei kepuasan masyarakat dilaksanakan setiap semester di semua loket."),
    ("penghargaan", "Inovasi ini meraih juara II lomba inovasi pelayanan publik tingkat provinsi."),
    ("penghargaan", "Pada 2022 layanan ini masuk Top 45 KIPP."),
    ("hki", "Aplikasi tersebut telah memperoleh surat pencatatan hak cipta dari DJKI."),
    ("minat_replikasi", "Sepanjang tahun lalu lima pemerintah daerah datang untuk studi tiru."),
    ("berhenti", "Sejak Maret 2023 layanan antar jemput itu berhenti beroperasi."),
    ("berhenti", "Aplikasi tidak lagi aktif setelah server dimatikan."),
    ("tidak_dilanjutkan", "Bupati yang baru memutuskan untuk tidak melanjutkan program tersebut."),
    ("uji_coba", "Sampai kini layanan ini masih berstatus uji coba di dua kelurahan."),
    ("uji_coba", "Kegiatan ini masih berupa percontohan di satu desa."),
    ("tergantung_kepala_daerah", "Layanan ini merupakan program unggulan Bupati yang dijanjikan saat kampanye."),
    ("tergantung_kepala_daerah", "Warga menyebutnya program Pak Wali karena selalu dihadiri langsung oleh wali kota."),
    ("ketergantungan_individu", "Server dan basis data hanya dipahami oleh satu orang operator kontrak."),
    ("ketergantungan_individu", "Sejak penggagasnya dimutasi ke kecamatan, tidak ada lagi yang mengurus jadwal."),
    ("tanpa_anggaran", "Honor pendamping belum dibayar sejak Januari."),
    ("tanpa_anggaran", "Anggaran pemeliharaan dipangkas hampir separuh pada tahun ini."),
    ("tanpa_regulasi", "Sampai sekarang belum ada perbup yang mengatur layanan ini."),
    ("tanpa_regulasi", "Kegiatan ini hanya bersandar pada surat edaran kepala dinas."),
    ("tanpa_sop", "Proses verifikasi belum memiliki SOP tertulis."),
    ("sdm_terbatas", "Puskesmas hanya memiliki dua perawat untuk melayani 14 desa."),
    ("sdm_terbatas", "Kendala utama adalah kekurangan tenaga pendamping di lapangan."),
    ("sosialisasi_kurang", "Banyak warga belum tahu bahwa layanan ini ada karena sosialisasi masih minim."),
    ("adopsi_rendah", "Hingga akhir tahun baru 12 persen pedagang yang membayar lewat aplikasi."),
    ("adopsi_rendah", "Pesanan yang masuk lewat aplikasi masih bisa dihitung jari."),
    ("kendala_teknis", "Sinyal internet di desa-desa pesisir sering hilang sehingga unggahan gagal."),
    ("kendala_teknis", "Tiga dari lima sensor rusak tersambar petir dan belum diperbaiki."),
    ("kendala_pengelolaan", "Data penerima tidak pernah diperbarui sejak 2022."),
    ("kendala_pengelolaan", "Lebih dari 500 aduan menumpuk tanpa tanggapan dari perangkat daerah."),
    ("penurunan_kinerja", "Jumlah pengunjung turun drastis dari 400 orang menjadi 60 orang per hari."),
    ("penurunan_kinerja", "Transaksi melalui kios digital terus menurun sejak pertengahan tahun."),
]


@pytest.mark.parametrize(("signal", "text"), POSITIVE_CASES)
def test_each_signal_is_found(signal: str, text: str) -> None:
    assert signal in _found(text)


def test_every_scheme_signal_has_a_case() -> None:
    assert {signal for signal, _ in POSITIVE_CASES} == set(load_scheme().signal_ids)


@pytest.mark.parametrize(
    ("text", "expected", "absent"),
    [
        # negation turns a positive cue into its risk, or drops it
        ("Program ini belum ada perbup yang mengaturnya.", {"tanpa_regulasi"}, {"regulasi"}),
        ("Tidak ada pos anggaran khusus untuk kegiatan ini.", {"tanpa_anggaran"}, {"anggaran"}),
        ("Kegiatan ini dijalankan tanpa SOP maupun petunjuk teknis.", {"tanpa_sop"}, {"sop"}),
        ("Belum ada perbup, apalagi perda, yang menjadi dasar layanan ini.", {"tanpa_regulasi"}, {"regulasi"}),
        # a negated risk is no risk
        ("Bank sampah ini beroperasi sejak 2017 dan tidak pernah berhenti.", set(), {"berhenti"}),
        ("Selama pandemi pun layanan berjalan tanpa henti.", set(), {"berhenti"}),
        ("Kini warga tidak perlu lagi datang ke kantor dinas.", set(), {"berhenti"}),
        ("Layanan ini tidak lagi aktif sejak Juni.", {"berhenti"}, set()),
        # "tidak hanya" is not a negation
        (
            "Bupati yang baru tidak hanya melanjutkan program ini tetapi juga menambah anggarannya.",
            {"lintas_kepala_daerah"},
            {"tidak_dilanjutkan"},
        ),
    ],
)
def test_negation(text: str, expected: set[str], absent: set[str]) -> None:
    found = _found(text)
    assert expected <= found
    assert not (absent & found)


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Tahun depan biaya operasionalnya akan dianggarkan dalam APBD.", "anggaran"),
        ("Rencananya inovasi ini akan direplikasi oleh kabupaten tetangga.", "replikasi"),
        ("Layanan ini diharapkan dapat diperluas ke seluruh kecamatan.", "perluasan"),
        ("Kepala dinas bilang mau dibikinkan perbupnya tahun ini.", "regulasi"),
        ("Tim merekomendasikan: (1) layanan diperluas ke desa lain; (2) SOP disusun.", "perluasan"),
        ("Jika dianggarkan setiap tahun, layanan ini bisa bertahan.", "anggaran"),
        ("Apakah sudah ada SK atau perbup?", "regulasi"),
    ],
)
def test_plans_wishes_and_questions_give_no_positive_signal(text: str, absent: str) -> None:
    assert absent not in _found(text)


def test_awaited_regulation_is_no_regulation() -> None:
    found = _found("Pengelolaan masih menunggu peraturan bupati yang sedang disusun.")
    assert "tanpa_regulasi" in found
    assert "regulasi" not in found


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Layanan sempat terhenti selama pandemi, tetapi kini sudah berjalan lagi.", "berhenti"),
        ("Aplikasi sempat berhenti pada 2021. Sejak awal 2022 aplikasi kembali beroperasi normal.", "berhenti"),
        ("Mesin pemindai sempat rusak, namun sudah diperbaiki bulan lalu.", "kendala_teknis"),
        ("Honor kader sempat tertunda tiga bulan dan kini sudah dibayar.", "tanpa_anggaran"),
    ],
)
def test_overcome_risks_are_not_tagged(text: str, absent: str) -> None:
    assert absent not in _found(text)


def test_stopped_without_recovery_is_tagged() -> None:
    assert "berhenti" in _found(
        "Aplikasi berhenti pada 2021 dan sampai sekarang belum ada keputusan untuk menghidupkannya."
    )


@pytest.mark.parametrize(
    ("text", "absent"),
    [
        ("Kabupaten Lembah Hijau meraih penghargaan Innovative Government Award 2023.", "penghargaan"),
        ("Inovasi ini turut mengantarkan Pemkab meraih predikat Sangat Inovatif pada IGA.", "penghargaan"),
        ("Melalui Perbup tersebut, setiap OPD wajib memiliki minimal satu inovasi setiap tahun.", "kebijakan_wajib"),
        ("Petugas wajib tiba di lokasi paling lambat 30 menit.", "kebijakan_wajib"),
        ("Fraksi PKS meminta penjelasan soal target pendapatan.", "kemitraan"),
    ],
)
def test_region_level_and_lookalike_evidence_is_vetoed(text: str, absent: str) -> None:
    assert absent not in _found(text)


def test_award_of_the_innovation_itself_counts() -> None:
    assert "penghargaan" in _found(
        "Aplikasi SIGAP meraih penghargaan inovasi pelayanan publik terbaik tingkat provinsi."
    )


@pytest.mark.parametrize(
    ("text", "reference_year", "expected"),
    [
        ("Layanan ini berjalan sejak 2016. Pada 2019 cakupannya diperluas.", None, True),
        ("Layanan ini berjalan sejak 2023.", None, False),
        ("Layanan ini berjalan sejak 2023.", 2025, True),
        ("Layanan ini berjalan sejak 2022. Target RPJMD 2026 adalah seluruh desa terlayani.", None, False),
        ("Layanan ini diatur Peraturan Bupati Nomor 3 Tahun 2016. Pada 2017 aplikasinya diperbarui.", None, False),
        ("Sudah tiga tahun layanan ini berjalan.", None, True),
        ("Hampir satu tahun layanan ini berjalan.", None, False),
    ],
)
def test_running_years_follow_the_time_rule(text: str, reference_year: int | None, expected: bool) -> None:
    assert ("berjalan_bertahun" in _found(text, reference_year=reference_year)) is expected


def test_offsets_cut_the_sentence_back_out_of_the_text() -> None:
    text = normalise(
        "Inovasi SAPA DESA diluncurkan pada 2019.\n\nBiaya operasionalnya dianggarkan setiap tahun dalam APBD. "
        "Namun sejak Mei 2024 honor operator belum dibayar, dan sinyal internet di desa sering hilang."
    )
    signals = find_signals(text, reference_year=2024)
    assert signals
    for signal in signals:
        assert isinstance(signal, Signal)
        assert text[signal.start : signal.end] == signal.sentence
    assert {"anggaran", "tanpa_anggaran", "kendala_teknis", "berjalan_bertahun"} <= {s.signal for s in signals}
    assert [s.start for s in signals] == sorted(s.start for s in signals)


def test_max_per_signal_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_per_signal"):
        find_signals("Layanan ini dianggarkan setiap tahun.", max_per_signal=0)


def test_several_signals_per_sentence_but_each_once() -> None:
    text = "Sejak 2018 layanan ini dianggarkan setiap tahun dalam APBD dan dibiayai APBD setiap tahun oleh dinas."
    signals = find_signals(text, reference_year=2024)
    names = [s.signal for s in signals]
    assert "anggaran" in names and "berjalan_bertahun" in names
    assert len(names) == len(set(names))


def test_given_sentences_are_used() -> None:
    text = "Layanan ini dianggarkan setiap tahun dalam APBD. Honor petugas belum dibayar."
    sentences = split_sentences(text)
    assert [s.signal for s in find_signals(text, sentences)] == [s.signal for s in find_signals(text)]


def test_max_per_signal_keeps_the_clearest_sentence() -> None:
    text = (
        "Honor kader dibayar dari dana desa. "
        "Biaya operasional dianggarkan setiap tahun dalam APBD melalui DPA Dinas Kesehatan."
    )
    assert [s.signal for s in find_signals(text)].count("anggaran") == 2
    kept = [s for s in find_signals(text, max_per_signal=1) if s.signal == "anggaran"]
    assert len(kept) == 1
    assert "setiap tahun" in kept[0].sentence


@pytest.mark.parametrize("text", ["", "   \n ", "PEMANTAUAN DAN EVALUASI", "Kata kunci: SOP, Perbup, anggaran rutin"])
def test_empty_headings_and_keywords_give_nothing(text: str) -> None:
    assert find_signals(text) == []


def test_exclamation_inside_a_name_does_not_cut_the_sentence() -> None:
    text = "Aduan terhubung ke SP4N-LAPOR! sehingga tercatat secara nasional."
    (signal,) = [s for s in find_signals(text) if s.signal == "integrasi_sistem_nasional"]
    assert signal.sentence == text


def test_signal_polarity_comes_from_the_scheme() -> None:
    scheme = load_scheme()
    for signal in find_signals("Honor petugas belum dibayar. Layanan diatur dalam Perbup Nomor 2 Tahun 2020."):
        assert signal.polarity == scheme.signal(signal.signal).polarity


def test_importing_signals_does_not_import_spacy() -> None:
    code = "import sys, nlp.classify.signals, nlp.classify.scheme; print('spacy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "text",
    [
        "4.2.1 Dasar Hukum Penyelenggaraan Layanan Antar Obat",
        "Temuan 2: Anggaran Operasional Layanan Dipangkas",
        "3.1 Dukungan Anggaran dan Regulasi ........ 14",
    ],
)
def test_numbered_title_case_headings_and_contents_lines_give_nothing(text: str) -> None:
    assert _found(text) == set()


def test_a_wrapped_line_does_not_hide_a_cue() -> None:
    text = "Biaya operasional layanan\ndianggarkan setiap tahun dalam APBD melalui DPA Dinas Sosial."
    assert "anggaran" in _found(text)


def test_sentences_under_a_recommendation_heading_are_proposals() -> None:
    text = (
        "Layanan berjalan di empat kecamatan.\n\n5.2 Rekomendasi\n\n"
        "Dinas Sosial menganggarkan honor petugas dalam APBD setiap tahun.\n"
        "Layanan diperluas ke seluruh kecamatan."
    )
    found = _found(text)
    assert "anggaran" not in found and "perluasan" not in found
    # what was done is still reported under such a heading
    done = "Rencana Tindak Lanjut\n\nSejak 2022 honor petugas telah dianggarkan dalam APBD setiap tahun."
    assert "anggaran" in _found(done)


def test_a_colon_sentence_that_recommends_opens_a_list_of_proposals() -> None:
    text = "Tim evaluasi merekomendasikan langkah berikut:\n- Honor kader dibayarkan dari dana desa masing-masing."
    assert "anggaran" not in _found(text)


def test_problems_under_a_background_heading_are_not_risks_of_the_innovation() -> None:
    text = (
        "A. Latar Belakang\n\nSinyal internet di desa pesisir sering terputus dan petugas kekurangan tenaga.\n\n"
        "B. Hasil\n\nSinyal internet di desa pesisir sering terputus sehingga aplikasi tidak dapat diakses."
    )
    found = [s for s in find_signals(text) if s.signal == "kendala_teknis"]
    assert [s.sentence.startswith("Sinyal internet di desa pesisir sering terputus sehingga") for s in found] == [True]


@pytest.mark.parametrize(
    "text",
    [
        "Sejak aplikasi dipakai, jumlah pengaduan terkait antrean turun dari 120 menjadi 15 per bulan.",
        "Angka keterlambatan penyaluran bantuan turun drastis pada 2023.",
        "Petugas tinggal bersama keluarga nelayan selama pendataan berlangsung.",
        "Pada musim kemarau air sungai surut sehingga perahu tidak bisa berlayar.",
    ],
)
def test_a_fall_that_is_an_improvement_or_another_sense_is_no_decline(text: str) -> None:
    assert "penurunan_kinerja" not in _found(text)


def test_a_real_decline_in_use_is_still_found() -> None:
    assert "penurunan_kinerja" in _found("Jumlah pengguna aktif turun dari 800 orang menjadi 120 orang pada 2023.")


@pytest.mark.parametrize(
    "text",
    [
        "Sensor di muara sungai rawan dicuri karena dipasang di tempat terbuka.",
        "Risiko terbesar adalah gangguan jaringan seluler pada jam sibuk.",
        "Apabila server rusak, petugas mencatat antrean secara manual.",
    ],
)
def test_a_possible_or_feared_problem_is_not_a_current_risk(text: str) -> None:
    assert "kendala_teknis" not in _found(text)


def test_dependence_on_the_head_of_region_holds_under_a_condition() -> None:
    text = "Warga ragu layanan ini akan bertahan bila bupati tidak lagi menjabat setelah pilkada."
    assert "tergantung_kepala_daerah" in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Kepala Bidang Pendidikan Tinggi dan Kemitraan mengatakan pendaftaran dibuka bulan depan.",
        "Perjanjian kerja sama dengan PT Sinar Laut berakhir pada Juni 2022 dan tidak diperpanjang.",
        "Dinas Perhubungan bekerja sama dengan Dinas Pendidikan untuk menetapkan rute antar sekolah.",
        "Penilaian mencakup aspek regulasi, anggaran, SDM, kelembagaan dan kemitraan.",
    ],
)
def test_titles_ended_contracts_and_coordination_between_offices_are_not_partnerships(text: str) -> None:
    assert "kemitraan" not in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "UPTD Pengelola Pasar yang dibentuk pada 2018 kini mengelola aplikasi retribusi.",
        "Aset dipinjamkan lewat perjanjian pinjam pakai antara pemkab dan koperasi nelayan selama lima tahun.",
        "Sejak 2019 layanan diperluas ke empat kecamatan lain.",
    ],
)
def test_a_unit_formed_a_contract_term_or_an_expansion_year_is_not_running_for_years(text: str) -> None:
    assert "berjalan_bertahun" not in _found(text, reference_year=2024)


@pytest.mark.parametrize(
    "text",
    [
        "Kontrak pemeliharaan sistem dengan penyedia aplikasi berakhir pada Desember 2023.",
        "Rumah produksi menyediakan oven besar dan mesin pengemas vakum bagi pelaku usaha.",
        "Banyak inovasi daerah berhenti begitu kepala daerah penggagasnya tidak lagi menjabat.",
        "Loket pelayanan di kantor kelurahan tutup pukul empat sore.",
    ],
)
def test_contract_ends_machine_names_and_general_claims_are_not_a_stopped_service(text: str) -> None:
    assert "berhenti" not in _found(text)


def test_a_single_officer_managing_the_app_is_not_an_institution() -> None:
    text = "Aplikasi dibuat dan dikelola sendiri oleh seorang staf puskesmas tanpa cadangan."
    assert "kelembagaan" not in _found(text)


def test_directive_list_items_are_proposals_but_reported_actions_are_not() -> None:
    text = "Tim evaluasi menyampaikan beberapa hal:\n- Mengalokasikan honor kader dalam APBD setiap tahun;"
    assert "anggaran" not in _found(text)
    assert "anggaran" in _found("Dinas mengalokasikan honor kader dalam APBD setiap tahun.")


def test_a_budget_line_struck_inside_the_cue_is_no_budget() -> None:
    found = _found("Pos anggarannya dicoret dalam pembahasan APBD 2024.")
    assert "anggaran" not in found


def test_one_officer_holding_the_system_is_dependence_not_short_staffing() -> None:
    found = _found("Server dan basis data hanya dikuasai oleh satu orang operator kontrak di dinas.")
    assert "sdm_terbatas" not in found


def test_revenue_paid_into_the_treasury_is_not_a_budget() -> None:
    text = "Setiap pembayaran retribusi langsung tercatat di rekening kas daerah pada hari yang sama."
    assert "anggaran" not in _found(text)


def test_the_problem_an_innovation_answers_is_background() -> None:
    text = "Program ini hadir untuk mengatasi kekurangan guru kelas di sekolah pedalaman."
    assert "sdm_terbatas" not in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "Penyelenggaraan inovasi berpedoman pada Peraturan Pemerintah Nomor 38 Tahun 2017 tentang Inovasi Daerah.",
        "Keputusan Bupati Nomor 12 Tahun 2023 tentang Tim Inovasi Daerah menjadi dasar kerja tim.",
        "Tarif sewa lapak mengikuti Perda tentang retribusi pemakaian kekayaan daerah.",
    ],
)
def test_region_level_rules_and_tariff_perda_are_not_the_innovation_regulation(text: str) -> None:
    assert "regulasi" not in _found(text)


def test_a_mandate_to_use_is_not_an_expansion() -> None:
    found = _found("Perbup mewajibkan seluruh 19 puskesmas menggunakan aplikasi ini mulai Juni 2024.")
    assert "perluasan" not in found


def test_a_running_footer_is_page_furniture() -> None:
    assert _found("Bapperida Kota Lembah Hijau | Laporan Monev Inovasi Daerah 2024 Hal. 7") == set()


def test_the_regions_own_monitoring_of_innovations_is_not_monev_of_this_one() -> None:
    text = "Monitoring dan evaluasi inovasi daerah tahun 2024 dilaksanakan terhadap 15 inovasi."
    assert "monev" not in _found(text)
    assert "monev" in _found("Dinas melakukan monitoring dan evaluasi layanan ini setiap triwulan.")


def test_an_offline_feature_is_not_a_network_problem() -> None:
    text = "Aplikasi tetap dapat dipakai tanpa sinyal dan mengirim data begitu ponsel terhubung."
    assert "kendala_teknis" not in _found(text)


def test_never_set_by_a_decree_is_no_regulation() -> None:
    found = _found("Layanan ini belum pernah ditetapkan dengan Keputusan Wali Kota.")
    assert "regulasi" not in found


def test_a_short_form_row_with_a_number_is_a_field_not_a_heading() -> None:
    assert "regulasi" in _found("Dasar hukum: Perbup 5/2021")
    assert _found("Tahap 5: Perluasan.") == set()


@pytest.mark.parametrize(
    "text",
    [
        "Pembudidaya kesulitan memperluas kolam karena harga sewa lahan mahal.",
        "Sebagian warung memperluas bangunan untuk menyimpan stok beras.",
    ],
)
def test_enlarging_a_building_or_failing_to_expand_is_no_expansion(text: str) -> None:
    assert "perluasan" not in _found(text)
