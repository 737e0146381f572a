"""What we write follows the user's umask, like open() and os.makedirs: no private 0600
file or 0700 folder from mkstemp/mkdtemp (align's TSV, a run's tokenizer/, downloads)."""

import io
import os
import stat

import numpy as np
import pytest

from lealla.evaluation import datasets
from lealla.files import atomic
from lealla.mining import mine, pairs_tsv
from lealla.mining.line_file import LineFile
from lealla.tokenization import vocab_pruning, wordpiece
from tests.conftest import TINY_VOCAB


@pytest.fixture(params=[0o022, 0o027])
def umask(request):
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_current_umask_reads_without_changing_it(umask):
    assert atomic.current_umask() == umask
    assert os.umask(umask) == umask  # still what the fixture set


def test_align_tsv_follows_the_umask(umask, write, tmp_path):
    src, tgt = LineFile(write("de.txt", "Hallo\n")), LineFile(write("en.txt", "Hello\n"))
    pairs = mine.MinedPairs(np.array([0]), np.array([0]), np.array([1.2], np.float32),
                            np.array([0.9], np.float32))  # fmt: skip
    out = str(tmp_path / "pairs.tsv")
    assert pairs_tsv.write_pairs_tsv(out, pairs, src, tgt) == 1
    assert _mode(out) == 0o666 & ~umask


def test_a_runs_tokenizer_folder_follows_the_umask(umask, tmp_path):
    tok = wordpiece.WordpieceTokenizer(TINY_VOCAB)
    pruned = vocab_pruning.PrunedVocab(tuple(TINY_VOCAB), tuple(range(len(TINY_VOCAB))), 18)
    out = str(tmp_path / "tokenizer")
    vocab_pruning.save_pruned(out, tok, pruned)
    assert _mode(out) == 0o777 & ~umask


def test_downloads_follow_the_umask(umask, tmp_path):
    dest = str(tmp_path / "data" / "file.txt")
    datasets.fetch("https://example.invalid/file.txt", dest,
                   opener=lambda url, timeout: io.BytesIO(b"data\n"))  # fmt: skip
    assert _mode(dest) == 0o666 & ~umask
