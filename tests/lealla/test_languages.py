import pytest

from lealla import languages


@pytest.mark.parametrize(
    "code, expected",
    [("de", "de"), ("DEU", "de"), ("deu", "de"), ("cmn", "zh"), ("zh-TW", "zh"), ("pes", "fa"),
     ("kab", "kab"), ("eng", "en")],
)  # fmt: skip
def test_normalize_language(code, expected):
    assert languages.normalize_language(code) == expected


def test_unknown_language_names_the_code_and_context():
    with pytest.raises(ValueError, match=r"Unknown language code 'dx' in file name x.tsv"):
        languages.normalize_language("dx", context="file name x.tsv")


def test_iso3_and_name():
    assert languages.iso3("ja") == "jpn"
    assert languages.language_name("ko") == "Korean"


def test_tatoeba_codes_all_resolve():
    # The 112 LASER Tatoeba languages, as they appear in file names.
    codes = [
        "afr",
        "amh",
        "ang",
        "ara",
        "arq",
        "arz",
        "ast",
        "awa",
        "aze",
        "bel",
        "ben",
        "ber",
        "bos",
        "bre",
        "bul",
        "cat",
        "cbk",
        "ceb",
        "ces",
        "cha",
        "cmn",
        "cor",
        "csb",
        "cym",
        "dan",
        "deu",
        "dsb",
        "dtp",
        "ell",
        "epo",
        "est",
        "eus",
        "fao",
        "fin",
        "fra",
        "fry",
        "gla",
        "gle",
        "glg",
        "gsw",
        "heb",
        "hin",
        "hrv",
        "hsb",
        "hun",
        "hye",
        "ido",
        "ile",
        "ina",
        "ind",
        "isl",
        "ita",
        "jav",
        "jpn",
        "kab",
        "kat",
        "kaz",
        "khm",
        "kor",
        "kur",
        "kzj",
        "lat",
        "lfn",
        "lit",
        "lvs",
        "mal",
        "mar",
        "max",
        "mhr",
        "mkd",
        "mon",
        "nds",
        "nld",
        "nno",
        "nob",
        "nov",
        "oci",
        "orv",
        "pam",
        "pes",
        "pms",
        "pol",
        "por",
        "ron",
        "rus",
        "slk",
        "slv",
        "spa",
        "sqi",
        "srp",
        "swe",
        "swg",
        "swh",
        "tam",
        "tat",
        "tel",
        "tgl",
        "tha",
        "tuk",
        "tur",
        "tzl",
        "uig",
        "ukr",
        "urd",
        "uzb",
        "vie",
        "war",
        "wuu",
        "xho",
        "yid",
        "yue",
        "zsm",
    ]
    assert len(codes) == 112
    canon = {languages.normalize_language(c) for c in codes}
    assert len(canon) == 112  # no two Tatoeba languages collapse into one
