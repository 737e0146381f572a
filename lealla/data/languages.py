"""Language codes: one canonical code per language, with ISO 639-3 aliases."""

from __future__ import annotations

import difflib
from collections.abc import Callable

# Canonical code -> (ISO 639-3 code as used by the LASER Tatoeba release, English name).
# Canonical codes are ISO 639-1 where one exists, else ISO 639-3. The set covers
# LaBSE's 109 languages and the 112 languages of the Tatoeba test set.
# fmt: off
LANGUAGES: dict[str, tuple[str, str]] = {
    "af": ("afr", "Afrikaans"), "am": ("amh", "Amharic"), "ang": ("ang", "Old English"),
    "ar": ("ara", "Arabic"), "arq": ("arq", "Algerian Arabic"),
    "arz": ("arz", "Egyptian Arabic"), "as": ("asm", "Assamese"), "ast": ("ast", "Asturian"),
    "awa": ("awa", "Awadhi"), "az": ("aze", "Azerbaijani"), "be": ("bel", "Belarusian"),
    "ber": ("ber", "Berber"), "bg": ("bul", "Bulgarian"), "bn": ("ben", "Bengali"),
    "bo": ("bod", "Tibetan"), "br": ("bre", "Breton"), "bs": ("bos", "Bosnian"),
    "ca": ("cat", "Catalan"), "cbk": ("cbk", "Chavacano"), "ceb": ("ceb", "Cebuano"),
    "ch": ("cha", "Chamorro"), "co": ("cos", "Corsican"), "cs": ("ces", "Czech"),
    "csb": ("csb", "Kashubian"), "cy": ("cym", "Welsh"), "da": ("dan", "Danish"),
    "de": ("deu", "German"), "dsb": ("dsb", "Lower Sorbian"), "dtp": ("dtp", "Kadazan Dusun"),
    "el": ("ell", "Greek"), "en": ("eng", "English"), "eo": ("epo", "Esperanto"),
    "es": ("spa", "Spanish"), "et": ("est", "Estonian"), "eu": ("eus", "Basque"),
    "fa": ("pes", "Persian"), "fi": ("fin", "Finnish"), "fo": ("fao", "Faroese"),
    "fr": ("fra", "French"), "fy": ("fry", "Western Frisian"), "ga": ("gle", "Irish"),
    "gd": ("gla", "Scottish Gaelic"), "gl": ("glg", "Galician"), "gsw": ("gsw", "Swiss German"),
    "gu": ("guj", "Gujarati"), "ha": ("hau", "Hausa"), "haw": ("haw", "Hawaiian"),
    "he": ("heb", "Hebrew"), "hi": ("hin", "Hindi"), "hmn": ("hmn", "Hmong"),
    "hr": ("hrv", "Croatian"), "hsb": ("hsb", "Upper Sorbian"), "ht": ("hat", "Haitian Creole"),
    "hu": ("hun", "Hungarian"), "hy": ("hye", "Armenian"), "ia": ("ina", "Interlingua"),
    "id": ("ind", "Indonesian"), "ie": ("ile", "Interlingue"), "ig": ("ibo", "Igbo"),
    "io": ("ido", "Ido"), "is": ("isl", "Icelandic"), "it": ("ita", "Italian"),
    "ja": ("jpn", "Japanese"), "jv": ("jav", "Javanese"), "ka": ("kat", "Georgian"),
    "kab": ("kab", "Kabyle"), "kk": ("kaz", "Kazakh"), "km": ("khm", "Khmer"),
    "kn": ("kan", "Kannada"), "ko": ("kor", "Korean"), "ku": ("kur", "Kurdish"),
    "kw": ("cor", "Cornish"), "ky": ("kir", "Kyrgyz"), "kzj": ("kzj", "Coastal Kadazan"),
    "la": ("lat", "Latin"), "lb": ("ltz", "Luxembourgish"), "lfn": ("lfn", "Lingua Franca Nova"),
    "lo": ("lao", "Lao"), "lt": ("lit", "Lithuanian"), "lv": ("lvs", "Latvian"),
    "max": ("max", "North Moluccan Malay"), "mg": ("mlg", "Malagasy"),
    "mhr": ("mhr", "Eastern Mari"), "mi": ("mri", "Maori"), "mk": ("mkd", "Macedonian"),
    "ml": ("mal", "Malayalam"), "mn": ("mon", "Mongolian"), "mr": ("mar", "Marathi"),
    "ms": ("zsm", "Malay"), "mt": ("mlt", "Maltese"), "my": ("mya", "Burmese"),
    "nb": ("nob", "Norwegian Bokmal"), "nds": ("nds", "Low German"), "ne": ("nep", "Nepali"),
    "nl": ("nld", "Dutch"), "nn": ("nno", "Norwegian Nynorsk"), "no": ("nor", "Norwegian"),
    "nov": ("nov", "Novial"), "ny": ("nya", "Chichewa"), "oc": ("oci", "Occitan"),
    "or": ("ori", "Odia"), "orv": ("orv", "Old Russian"), "pa": ("pan", "Punjabi"),
    "pam": ("pam", "Kapampangan"), "pl": ("pol", "Polish"), "pms": ("pms", "Piedmontese"),
    "pt": ("por", "Portuguese"), "ro": ("ron", "Romanian"), "ru": ("rus", "Russian"),
    "rw": ("kin", "Kinyarwanda"), "sd": ("snd", "Sindhi"), "si": ("sin", "Sinhala"),
    "sk": ("slk", "Slovak"), "sl": ("slv", "Slovenian"), "sm": ("smo", "Samoan"),
    "sn": ("sna", "Shona"), "so": ("som", "Somali"), "sq": ("sqi", "Albanian"),
    "sr": ("srp", "Serbian"), "st": ("sot", "Southern Sotho"), "su": ("sun", "Sundanese"),
    "sv": ("swe", "Swedish"), "sw": ("swh", "Swahili"), "swg": ("swg", "Swabian"),
    "ta": ("tam", "Tamil"), "te": ("tel", "Telugu"), "tg": ("tgk", "Tajik"),
    "th": ("tha", "Thai"), "tk": ("tuk", "Turkmen"), "tl": ("tgl", "Tagalog"),
    "tr": ("tur", "Turkish"), "tt": ("tat", "Tatar"), "tzl": ("tzl", "Talossan"),
    "ug": ("uig", "Uyghur"), "uk": ("ukr", "Ukrainian"), "ur": ("urd", "Urdu"),
    "uz": ("uzb", "Uzbek"), "vi": ("vie", "Vietnamese"), "war": ("war", "Waray"),
    "wo": ("wol", "Wolof"), "wuu": ("wuu", "Wu Chinese"), "xh": ("xho", "Xhosa"),
    "yi": ("yid", "Yiddish"), "yo": ("yor", "Yoruba"), "yue": ("yue", "Cantonese"),
    "zh": ("cmn", "Chinese"), "zu": ("zul", "Zulu"),
}
# fmt: on

# Alias data (ISO 639-2/B and /T codes, retired codes such as "iw", the individual
# languages CLDR folds into their macrolanguage such as "cmn") comes from `langcodes`.
# Our table keeps the LASER Tatoeba codes, and wins where the two differ: "kzj" stays
# a language of its own (Tatoeba scores it apart from "dtp"), "tgl"/"fil" -> "tl".
# Our own rule for tags (full key, else the primary subtag) stays too: the tf.data
# lookup in `pipeline` applies the same rule and table in the graph, where langcodes
# cannot run, and the two must agree.
_EXTRA_ALIASES = {
    "fil": "tl",
    # Chinese as file names spell it ("news.zh-hant.txt"), matched whole.
    "zh-cn": "zh",
    "zh-hans": "zh",
    "zh-tw": "zh",
    "zh-hant": "zh",
}


def _build_aliases() -> dict[str, str]:
    from langcodes import data_dicts

    aliases = {code: code for code in LANGUAGES}
    for code, (iso3_code, _) in LANGUAGES.items():
        aliases.setdefault(iso3_code, code)
    for alias, code in _EXTRA_ALIASES.items():
        aliases.setdefault(alias, code)
    for table in (data_dicts.LANGUAGE_REPLACEMENTS, data_dicts.NORMALIZED_MACROLANGUAGES):
        for alias, replacement in table.items():
            code = replacement.lower().split("-", 1)[0]  # "sh" -> "sr-Latn": Serbian
            if code in aliases and "-" not in alias:
                aliases.setdefault(alias.lower(), aliases[code])
    return aliases


ALIASES: dict[str, str] = _build_aliases()


def normalize_language(code: str, *, context: str = "language code") -> str:
    """Returns the canonical code for a language code or alias.

    Args:
      code: an ISO 639-1 or 639-3 code in any case, e.g. "de", "deu", "DE", "zh-TW".
      context: what the code came from (a flag, a file name); named in the error.

    Returns:
      The canonical code (ISO 639-1 where one exists), e.g. "de".

    Raises:
      ValueError: the code names no language known to the toolkit.
    """
    key = language_key(code)
    if key in ALIASES:
        return ALIASES[key]
    if primary_subtag(key) in ALIASES:
        return ALIASES[primary_subtag(key)]
    known = _other_language(key)
    if known:
        raise ValueError(
            f"Language code {code!r} in {context} is {known}, not one of the toolkit's "
            f"languages (LaBSE's and Tatoeba's, listed in lealla.data.languages.LANGUAGES)"
        )
    close = difflib.get_close_matches(key, list(ALIASES), n=3)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ValueError(
        f"Unknown language code {code!r} in {context}: expected an ISO 639-1 or 639-3 "
        f"code such as 'de' or 'deu'.{hint}"
    )


def _other_language(key: str) -> str | None:
    """The English name of a valid BCP-47 language outside our table, e.g. "tlh" ->
    "Klingon", or None."""
    import langcodes

    try:
        tag = langcodes.Language.get(key)
    except (ValueError, LookupError):
        return None
    if not tag.language or tag.language == "und" or not tag.is_valid():
        return None
    try:
        name = tag.language_name()
    except (ImportError, LookupError):  # names need the language_data package
        return None
    return None if name.lower().startswith("unknown") else name


def language_key(code: str) -> str:
    """The lookup key of a tag: "zh_CN" -> "zh-cn", " PT-br " -> "pt-br".

    `pipeline` does the same in the TF graph (lower case, "_" -> "-", then the full tag
    or else its primary subtag), so the Python scan and the tf.data lookup agree.
    """
    return code.strip().lower().replace("_", "-")


def primary_subtag(key: str) -> str:
    """The language subtag of a BCP-47 key: "pt-br" -> "pt", "zh-hant-tw" -> "zh"."""
    return key.split("-", 1)[0]


def is_language(code: str, *, exact: bool = False) -> bool:
    """True when `code` names a known language (any alias, any case, region/script tags).

    exact: only whole aliases ("zh-hant" yes, "pt-br" no), for file names, where
    "de-en" is a language pair, not German of a region.
    """
    key = language_key(code)
    return key in ALIASES or (not exact and primary_subtag(key) in ALIASES)


def iso3(code: str) -> str:
    """The ISO 639-3 code the Tatoeba release uses for a language, e.g. "de" -> "deu"."""
    return LANGUAGES[normalize_language(code)][0]


def language_name(code: str) -> str:
    """The English name of a language, e.g. "ja" -> "Japanese"."""
    return LANGUAGES[normalize_language(code)][1]


def select_available(
    available: list[str], requested: list[str] | None, missing: Callable[[str, str], str]
) -> list[str]:
    """The codes of `available` that match `requested` ("de" or "deu" alike), or all of them.

    Args:
      available: codes as a data folder names them (e.g. "deu", "de"; codes that are
        no known language are matched literally).
      requested: e.g. the values of --languages, in the order wanted; None/empty: all.
      missing: (requested code, its canonical code) -> the error message when that
        language is not available.

    Raises:
      ValueError: a requested code is no known language (with close matches).
      FileNotFoundError: a requested language is not available (names those found).
    """
    if not requested:
        return list(available)
    by_language = {normalize_language(c) if is_language(c) else c: c for c in available}
    chosen = []
    for code in requested:
        lang = normalize_language(code, context="--languages")
        if lang not in by_language:
            raise FileNotFoundError(missing(code, lang))
        chosen.append(by_language[lang])
    return chosen
