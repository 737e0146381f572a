"""LineFile (offsets, validation, re-reading by row), streamed embedding, TSV output."""

import numpy as np
import pytest

from lealla.files import textio
from lealla.mining import embed_stream, line_file, mine, pairs_tsv


def test_rows_batches_and_read(write):
    path = write("a.txt", "eins\nzwei  \n\ndrei\tvier\nfünf")
    with pytest.raises(textio.CorpusError, match=r"a.txt:3: empty line"):
        line_file.LineFile(path)
    report = textio.BadLineReport()
    lines = line_file.LineFile(path, on_bad_line="skip", report=report)
    assert len(lines) == 4 and report.total == 1
    assert [t for b in lines.batches(3) for t in b] == ["eins", "zwei", "drei\tvier", "fünf"]
    assert lines.read([3, 0, 2]) == ["fünf", "eins", "drei\tvier"]
    with pytest.raises(IndexError, match="row 4 out of range"):
        lines.read([4])


def test_bad_utf8_and_empty_file(write):
    with pytest.raises(textio.CorpusError, match=r"b.txt:2: invalid UTF-8 \(byte 0xff"):
        line_file.LineFile(write("b.txt", b"ok\n\xff bad\n"))
    with pytest.raises(textio.CorpusError, match=r"c.txt: no sentences"):
        line_file.LineFile(write("c.txt", ""))
    with pytest.raises(FileNotFoundError, match="file not found: .*missing.txt"):
        line_file.LineFile("/nonexistent/missing.txt")


def test_embed_lines_streams_in_batches(write, tmp_path):
    lines = line_file.LineFile(write("d.txt", "".join(f"s{i}\n" for i in range(10))))
    seen = []

    class Raw:  # a TextEncoder whose rows are easy to check (not unit length)
        name, dim = "raw", 2

        def encode(self, texts, batch_size=64, progress=False):
            seen.append(len(texts))
            return np.array([[float(t[1:]), 1.0] for t in texts], np.float32)

    out = embed_stream.embed_lines(lines, Raw(), batch_size=4, dtype="float16",
                                   out_path=str(tmp_path / "e.npy"))  # fmt: skip
    assert seen == [4, 4, 2]
    assert out.dtype == np.float16 and out.shape == (10, 2)
    np.testing.assert_array_equal(np.load(tmp_path / "e.npy")[:, 0], np.arange(10))


def test_write_pairs_tsv(write, tmp_path):
    src = line_file.LineFile(write("s.txt", "a\nb\tc\n"))
    tgt = line_file.LineFile(write("t.txt", "x\ny\n"))
    pairs = mine.MinedPairs(np.array([1, 0]), np.array([0, 1]),
                            np.array([1.5, 1.25], np.float32), np.zeros(2, np.float32))  # fmt: skip
    out = tmp_path / "out" / "p.tsv"
    assert pairs_tsv.write_pairs_tsv(str(out), pairs, src, tgt) == 2
    assert out.read_text(encoding="utf-8") == "1.500000\tb c\tx\n1.250000\ta\ty\n"
    assert [p.name for p in out.parent.iterdir()] == ["p.tsv"]  # no temp file left
