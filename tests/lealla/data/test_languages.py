import pytest

from lealla.data import languages


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


def test_region_and_script_tags_normalize_the_same_in_python_and_in_the_graph(write):
    # Silently wrong before: zh_CN passed the Python scan but mapped to "" in the tf.data
    # lookup, so its rows were dropped and the sampling weights counted them anyway.
    from lealla.data import corpus, pipeline

    tags = {"zh_CN": "zh", "PT-br": "pt", "deu": "de", "zh-Hant": "zh", "ZH": "zh"}
    for tag, code in tags.items():
        assert languages.normalize_language(tag) == code
    rows = [f"{tag}\ten\tsrc {i}\ttgt {i}\n" for i, tag in enumerate(tags)]
    path = write("mixed.tsv", "".join(rows))
    index = pipeline.scan_corpus(corpus.resolve_sources(path))
    assert index.group_counts == {"de-en": 1, "pt-en": 1, "zh-en": 3}
    config = pipeline.InputConfig(repeat=False, shuffle_buffer=0)
    got = sorted(
        (e["src_lang"].decode(), e["src"].decode())
        for e in pipeline.make_example_dataset(index, config).as_numpy_iterator()
    )
    assert got == sorted((code, f"src {i}") for i, code in enumerate(tags.values()))


def test_file_names_take_exact_tags_only(write):
    from lealla.data import corpus

    assert corpus.resolve_sources(write("news.pt.txt", "x\n"))[0].src_lang == "pt"
    with pytest.raises(ValueError, match="cannot tell the language"):
        corpus.resolve_sources(write("de-en.txt", "x\n"))


@pytest.mark.parametrize(
    "code, expected",
    [("ger", "de"), ("cze", "cs"), ("iw", "he"), ("mo", "ro"), ("sh", "sr"), ("arb", "ar"),
     ("kzj", "kzj"), ("dtp", "dtp"), ("tgl", "tl"), ("fil", "tl")],
)  # fmt: skip
def test_aliases_from_langcodes_keep_the_tatoeba_codes(code, expected):
    # ISO 639-2/B codes, retired codes and macrolanguage members come from langcodes;
    # the Tatoeba codes keep their own language (kzj is scored apart from dtp).
    assert languages.normalize_language(code) == expected
    assert languages.ALIASES[code] == expected  # the table the tf.data lookup uses too


def test_a_valid_language_outside_the_table_is_named():
    with pytest.raises(ValueError, match=r"'tlh' in --languages is Klingon, not one of"):
        languages.normalize_language("tlh", context="--languages")
