import os

import pytest

from lealla.data import corpus
from lealla.data.corpus import Example
from lealla.files import textio


def test_tsv_languages_from_file_name(write):
    path = write("news.de-en.tsv", "Hallo\tHello\nWelt\tWorld\n")
    (source,) = corpus.resolve_sources(path)
    assert (source.kind, source.src_lang, source.tgt_lang) == ("tsv", "de", "en")
    assert list(corpus.read_examples([source])) == [
        Example("Hallo", "Hello", "de", "en"),
        Example("Welt", "World", "de", "en"),
    ]


def test_tsv_language_columns_with_aliases(write):
    path = write("mixed.tsv", "deu\teng\tHallo\tHello\nfr\ten\tBonjour\tHello\n")
    (source,) = corpus.resolve_sources(path)
    assert source.has_language_columns
    scan = corpus.scan_source(source)
    assert scan.group_counts == {"de-en": 1, "fr-en": 1}


def test_tsv_unknown_language_column(write):
    path = write("mixed.tsv", "de\ten\tHallo\tHello\nde\tqq\tHallo\tHello\n")
    with pytest.raises(textio.CorpusError, match=r"mixed.tsv:2: Unknown language code 'qq'"):
        corpus.scan_source(corpus.source_from_path(path))


def test_tsv_without_languages_is_refused(write):
    path = write("pairs.tsv", "Hallo\tHello\n")
    with pytest.raises(ValueError, match="cannot tell the languages of .*pairs.tsv"):
        corpus.resolve_sources(path)


def test_unknown_language_in_file_name(write):
    path = write("xx-en.tsv", "a\tb\n")
    with pytest.raises(ValueError, match="Unknown language code 'xx' in file name"):
        corpus.resolve_sources(path)


def test_aligned_files_by_either_name_or_prefix(write):
    deu = write("tatoeba.deu-eng.deu", "Hallo\nWelt\n")
    write("tatoeba.deu-eng.eng", "Hello\nWorld\n")
    by_file = corpus.resolve_sources(deu)
    by_prefix = corpus.resolve_sources(deu[: -len(".deu")])
    assert by_file == by_prefix
    (source,) = by_file
    assert (source.kind, source.src_lang, source.tgt_lang) == ("aligned", "de", "en")
    assert [e.tgt for e in corpus.read_examples(by_file)] == ["Hello", "World"]


def test_glob_matching_both_sides_gives_one_source(write, tmp_path):
    write("c.de-en.de", "Hallo\n")
    write("c.de-en.en", "Hello\n")
    assert len(corpus.resolve_sources(str(tmp_path / "c.de-en.*"))) == 1


def test_aligned_line_count_mismatch(write):
    src = write("c.de-en.de", "a\nb\nc\n")
    write("c.de-en.en", "a\nb\n")
    with pytest.raises(textio.CorpusError, match=r"line count mismatch .*: 3 lines vs 2 lines"):
        list(corpus.read_examples(corpus.resolve_sources(src)))


def test_aligned_bad_line_names_the_right_file(write):
    src = write("c.de-en.de", "a\nb\n")
    write("c.de-en.en", "a\n\n")
    with pytest.raises(textio.CorpusError, match=r"c.de-en.en:2: empty line"):
        list(corpus.read_examples(corpus.resolve_sources(src)))


def test_monolingual_names(write):
    a = write("de.txt", "Hallo Welt\n")
    b = write("news.2019.fr.txt", "Bonjour\n")
    c = write("web.ja", "こんにちは\n")
    langs = [s.src_lang for s in corpus.resolve_sources(f"{a},{b},{c}")]
    assert langs == ["de", "fr", "ja"]
    assert list(corpus.read_examples(corpus.resolve_sources(a))) == [
        Example("Hallo Welt", "", "de", "")
    ]


def test_missing_files_and_globs(tmp_path):
    with pytest.raises(FileNotFoundError, match="parallel TSV file not found"):
        corpus.resolve_sources(str(tmp_path / "de-en.tsv"))
    with pytest.raises(FileNotFoundError, match="no corpus file matches"):
        corpus.resolve_sources(str(tmp_path / "*.tsv"))
    with pytest.raises(FileNotFoundError, match="aligned source file not found"):
        corpus.resolve_sources(str(tmp_path / "c.de-en"))


def test_scan_skip_records_bad_indices(write):
    path = write("de-en.tsv", b"a\tb\n\nc\n\xff\tx\nd\te\n")
    report = textio.BadLineReport()
    scan = corpus.scan_source(corpus.source_from_path(path), on_bad_line="skip", report=report)
    assert scan.bad_line_indices == (1, 2, 3)
    assert scan.num_lines == 5
    assert scan.group_counts == {"de-en": 2}
    assert report.total == 3


def test_iter_sentences_yields_both_sides(write):
    path = write("de-en.tsv", "Hallo\tHello\n")
    assert list(corpus.iter_sentences(corpus.resolve_sources(path))) == [
        ("de", "Hallo"), ("en", "Hello")
    ]  # fmt: skip


def test_distinct_sentences_of_any_sources_in_file_order(write):
    pairs = write("de-en.tsv", "Hallo\tHello\nDanke\tThanks\n")
    mono = write("chat.de.txt", "Hallo\nWie geht's?\n")
    assert corpus.distinct_sentences([pairs, mono]) == ["Hallo", "Hello", "Danke", "Thanks",
                                                        "Wie geht's?"]  # fmt: skip
    assert corpus.distinct_sentences([]) == []
    bad = write("bad.de.txt", "ok\n\n")
    with pytest.raises(textio.CorpusError, match="bad.de.txt:2"):
        corpus.distinct_sentences([bad])


def test_shares_in_corpus_arguments(write):
    a = write("mono/chat.ko.txt", "안녕하세요\n")
    write("mono/chat.ja.txt", "こんにちは\n")
    tsv = write("de-en.tsv", "a\tb\n")
    sources = corpus.resolve_sources([f"{tsv},{os.path.dirname(a)}/*.txt@0.1"])
    assert [s.share for s in sources] == [None, 0.1, 0.1]
    assert {s.share_group for s in sources[1:]} == {f"{os.path.dirname(a)}/*.txt"}
    assert corpus.source_shares(sources) == {f"@{os.path.dirname(a)}/*.txt": 0.1}
    assert corpus.split_share("name@home.txt") == ("name@home.txt", None)  # "@" in a name
    assert [s.share for s in corpus.resolve_sources("demo:dev@0.2")] == [0.2] * 13
    with pytest.raises(
        ValueError, match=r"share in '.*chat.ko.txt@1.5' must be a number in \(0, 1\)"
    ):
        corpus.resolve_sources(f"{a}@1.5")
    with pytest.raises(ValueError, match=r"add up to 1.1, leaving nothing for the files"):
        corpus.resolve_sources([tsv, f"{a}@0.6", f"{os.path.dirname(a)}/chat.ja.txt@0.5"])
    with pytest.raises(ValueError, match=r"chat.ko.txt is given twice with different shares"):
        corpus.resolve_sources([f"{os.path.dirname(a)}/*.txt", f"{a}@0.3"])
