"""The training corpus is read once per start: index and token counts from one pass."""

import numpy as np
import pytest

from lealla.data import corpus, pipeline
from lealla.models.distill.training_corpus import TrainingCorpus
from lealla.tokenization import vocab_pruning
from tests.conftest import train_file_reads


@pytest.fixture
def files(write):
    tsv = write("de-en.tsv", "Hallo Welt\thello world\nbad line without a tab\nJa\tyes\n")
    mono = write("mono.fr.txt", "bonjour\nle monde\n")
    return [tsv, mono]


def test_token_counts_and_index_come_from_one_pass(files, corpus_reads, tiny_vocab_file):
    from lealla.tokenization import loading as tokenizer_loading

    tok = tokenizer_loading.tokenizer_from_files(vocab=tiny_vocab_file)
    training = TrainingCorpus(files, on_bad_line="skip")
    used = training.count_tokens(tok)
    index = training.index()
    assert training.passes == 1 and train_file_reads(corpus_reads, files) == {1}
    expected = pipeline.scan_corpus(corpus.resolve_sources(files), on_bad_line="skip")
    assert index.group_counts == expected.group_counts == {"de-en": 2, "fr": 2}
    assert index.report.summary() == expected.report.summary()
    texts = ["Hallo Welt", "hello world", "Ja", "yes", "bonjour", "le monde"]
    reference = vocab_pruning.count_tokens(tok, texts)
    np.testing.assert_array_equal(used.counts, reference.counts)
    assert used.chars == reference.chars and used.sentences == 6


def test_counting_the_first_sentences_still_indexes_everything(files, tiny_vocab_file):
    from lealla.tokenization import loading as tokenizer_loading

    tok = tokenizer_loading.tokenizer_from_files(vocab=tiny_vocab_file)
    training = TrainingCorpus(files, on_bad_line="skip")
    assert training.count_tokens(tok, max_sentences=3).sentences == 3
    assert training.index().num_examples == 4 and training.passes == 1


def test_counts_after_the_index_would_be_a_second_read(files, tiny_vocab_file):
    from lealla.tokenization import loading as tokenizer_loading

    training = TrainingCorpus(files, on_bad_line="skip")
    training.index()
    training.index()
    assert training.passes == 1
    with pytest.raises(RuntimeError, match="already read"):
        training.count_tokens(tokenizer_loading.tokenizer_from_files(vocab=tiny_vocab_file))


def test_a_bad_line_is_named_in_the_pass(files, tiny_vocab_file):
    from lealla.files import textio
    from lealla.tokenization import loading as tokenizer_loading

    training = TrainingCorpus(files)  # on_bad_line="error"
    with pytest.raises(textio.CorpusError, match=r"de-en\.tsv:2"):
        training.count_tokens(tokenizer_loading.tokenizer_from_files(vocab=tiny_vocab_file))


def test_pruning_from_counts_equals_pruning_from_texts(use_m_tokenizer, demo_train_texts):
    texts = demo_train_texts[:500]
    direct, pruned = vocab_pruning.prune_tokenizer(use_m_tokenizer, texts)
    used = vocab_pruning.count_tokens(use_m_tokenizer, texts)
    _, again = vocab_pruning.prune_to_corpus(use_m_tokenizer, used)
    assert again == pruned
    # The pruned tokenizer segments the corpus as the teacher's: counts map by old_ids.
    own = vocab_pruning.count_tokens(direct, texts)
    np.testing.assert_array_equal(own.counts, used.counts[np.asarray(pruned.old_ids)])
