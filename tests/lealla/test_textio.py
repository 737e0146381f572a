import pytest

from lealla import textio


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
