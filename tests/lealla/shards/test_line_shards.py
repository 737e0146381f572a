import pytest

from lealla.data import corpus
from lealla.files import textio
from lealla.shards import line_shards


def _reference(data: bytes, every: int) -> tuple[int, list[int]]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    starts, position = [], 0
    for i, line in enumerate(lines):
        if i % every == 0:
            starts.append(position)
        position += len(line) + 1
    return len(lines), starts


@pytest.mark.parametrize(
    "data",
    [b"", b"a\n", b"a", b"a\nbb\nccc\n", b"a\nbb\nccc", b"\n\n\n", "é\nü\n中文\nx\ny\n".encode()],
)
@pytest.mark.parametrize("every", [1, 2, 3, 100])
def test_count_lines_matches_a_python_reference(tmp_path, data, every):
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    assert line_shards.count_lines(str(path), every) == _reference(data, every)


def test_count_lines_across_blocks(tmp_path, monkeypatch):
    monkeypatch.setattr(line_shards, "_BLOCK", 7)  # lines straddle block boundaries
    data = b"".join(f"line {i}\n".encode() * (i % 3 + 1) for i in range(50)) + b"tail"
    path = tmp_path / "f.txt"
    path.write_bytes(data)
    assert line_shards.count_lines(str(path), 4) == _reference(data, 4)


def test_shards_read_back_every_line_once(write):
    tsv = write("de-en.tsv", "".join(f"Satz {i}.\tSentence {i}.\n" for i in range(23)))
    (source,) = corpus.resolve_sources(tsv)
    shards = line_shards.plan([source.paths], 10)
    assert [(s.name, s.first_line, s.num_lines) for s in shards] == [
        ("000-00000", 0, 10), ("000-00001", 10, 10), ("000-00002", 20, 3)
    ]  # fmt: skip
    examples = [e for s in shards for e in corpus.read_shard(source, s)]
    assert examples == list(corpus.read_examples([source]))


def test_aligned_files_of_different_lengths_are_refused(write):
    write("c.de-en.de", "a\nb\nc\n")
    en = write("c.de-en.en", "a\nb\n")
    (source,) = corpus.resolve_sources(en)
    with pytest.raises(textio.CorpusError, match=r"line count mismatch .* 3 lines vs 2 lines"):
        line_shards.plan([source.paths], 2)


def test_a_bad_line_is_named_by_its_line_in_the_file(write):
    tsv = write("de-en.tsv", "a\tb\nc\td\ne\tf\nonly one\n")
    (source,) = corpus.resolve_sources(tsv)
    last = line_shards.plan([source.paths], 2)[1]
    with pytest.raises(textio.CorpusError, match=r"de-en.tsv:4: expected 2 tab-separated"):
        corpus.read_shard(source, last)
    report = textio.BadLineReport()
    assert len(corpus.read_shard(source, last, on_bad_line="skip", report=report)) == 1
    assert report.counts == {"wrong field count": 1}
