import pytest

from lealla.files import textio


def test_records_strip_fields_and_number_lines(write):
    path = write("a.tsv", "Hallo \tHello\r\nWelt\t World\n")
    assert list(textio.iter_records(path, 2)) == [(1, ("Hallo", "Hello")), (2, ("Welt", "World"))]


@pytest.mark.parametrize(
    "content, line, message",
    [
        (b"ok\tfine\n\xff\xfe\tx\n", 2, r"invalid UTF-8 \(byte 0xff at byte offset 0\)"),
        (b"ok\tfine\n   \n", 2, "empty line"),
        (b"ok\tfine\nonly one field\n", 2, "expected 2 tab-separated fields, found 1"),
        (b"a\tb\tc\n", 1, "expected 2 tab-separated fields, found 3"),
        (b"a\t \n", 1, "field 2 of 2 is empty"),
    ],
)
def test_bad_lines_name_file_and_line(write, content, line, message):
    path = write("bad.tsv", content)
    with pytest.raises(textio.CorpusError, match=rf"bad.tsv:{line}: {message}"):
        list(textio.iter_records(path, 2))


def test_skip_counts_every_bad_line(write):
    path = write("bad.tsv", b"a\tb\n\n\xff\tx\nc\td\ne\n")
    report = textio.BadLineReport()
    rows = list(textio.iter_records(path, 2, on_bad_line="skip", report=report))
    assert [r[0] for r in rows] == [1, 4]
    assert report.total == 3
    assert dict(report.counts) == {"empty line": 1, "invalid UTF-8": 1, "wrong field count": 1}
    assert "skipped 3 bad lines" in report.summary()


def test_missing_file():
    with pytest.raises(FileNotFoundError, match="file not found: /no/such/file"):
        list(textio.iter_records("/no/such/file"))


def test_bad_policy():
    with pytest.raises(ValueError, match="on_bad_line must be one of"):
        textio.check_on_bad_line("ignore")


def test_byte_order_mark_is_dropped_in_python_and_in_the_graph(write):
    from lealla.data import corpus, pipeline

    path = write("mixed.tsv", "\ufeffde\ten\tHallo\tHello\nfr\ten\tSalut\tHi\n")
    sources = corpus.resolve_sources(path)  # the 4-field form is recognised despite the BOM
    examples = list(corpus.read_examples(sources))
    assert (examples[0].src_lang, examples[0].src) == ("de", "Hallo")
    index = pipeline.scan_corpus(sources)
    config = pipeline.InputConfig(repeat=False, shuffle_buffer=0)
    got = sorted(e["src"] for e in pipeline.make_example_dataset(index, config).as_numpy_iterator())
    assert got == [b"Hallo", b"Salut"]
    mono = write("de.txt", "\ufeffErster Satz.\n")
    assert [e.src for e in corpus.read_examples(corpus.resolve_sources(mono))] == ["Erster Satz."]


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_control_characters_are_named_or_skipped(write, char):
    path = write("de.txt", f"gut\nschl{char}echt\nauch gut\n")
    with pytest.raises(
        textio.CorpusError, match=rf"de.txt:2: control character U\+{ord(char):04X} at column 5"
    ):
        list(textio.iter_records(path))
    report = textio.BadLineReport()
    rows = list(textio.iter_records(path, on_bad_line="skip", report=report))
    assert [r[0] for r in rows] == [1, 3] and report.counts == {"control character": 1}


@pytest.mark.parametrize(
    "field, shown",
    [
        ("\u3000", r"U\+3000"),  # ideographic space
        ("\u00a0 \u00a0", r"U\+00A0"),  # no-break spaces around an ASCII one
        ("\u200b\u200d", r"U\+200B, U\+200D"),  # zero-width space and joiner
        ("\u200f\u202e\u2066", r"U\+200F, U\+202E, U\+2066"),  # bidi mark, override, isolate
        ("\ufeff", r"U\+FEFF"),
    ],
)
def test_a_field_of_invisible_characters_is_empty(write, field, shown):
    path = write("de-en.tsv", f"gut\tgood\nHallo\t{field}\n")
    with pytest.raises(
        textio.CorpusError, match=rf"de-en.tsv:2: field 2 of 2 is empty \(only invisible {shown}\)"
    ):
        list(textio.iter_records(path, 2))
    mono = write("de.txt", f"gut\n{field}\n")
    with pytest.raises(textio.CorpusError, match=rf"de.txt:2: empty line \(only invisible {shown}"):
        list(textio.iter_records(mono))
    report = textio.BadLineReport()
    rows = list(textio.iter_records(path, 2, on_bad_line="skip", report=report))
    assert [r[0] for r in rows] == [1] and report.counts == {"empty field": 1}


def test_visible_text_with_invisible_marks_is_kept(write):
    path = write("ar-en.tsv", "\u200fمرحبا\u200f\tHello\u00a0world\n")
    assert list(textio.iter_records(path, 2)) == [(1, ("\u200fمرحبا\u200f", "Hello\u00a0world"))]


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_unicode_line_breaks_inside_a_line_are_named(write, char):
    path = write("de.txt", f"gut\nzwei{char}Zeilen\n")
    with pytest.raises(
        textio.CorpusError,
        match=rf"de.txt:2: line-break character U\+{ord(char):04X} at column 5",
    ):
        list(textio.iter_records(path))
    report = textio.BadLineReport()
    assert [r[0] for r in textio.iter_records(path, on_bad_line="skip", report=report)] == [1]
    assert report.counts == {"line-break character": 1}
