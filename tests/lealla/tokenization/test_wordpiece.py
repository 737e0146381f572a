import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.files import textio
from lealla.tokenization import coverage, loading, tokenizer, vocab_file, wordpiece
from tests.conftest import TINY_VOCAB


def test_tiny_vocab_ids(tiny_vocab_file):
    tok = wordpiece.WordpieceTokenizer.from_vocab_file(tiny_vocab_file)
    ids = tok.tokenize(tf.constant(["hello world!", "the cats sat.", "Hello"])).to_list()
    v = {t: i for i, t in enumerate(TINY_VOCAB)}
    assert ids == [
        [v["hello"], v["world"], v["!"]],
        [v["the"], v["cat"], v["##s"], v["sat"], v["."]],
        [v["[UNK]"]],  # cased: "Hello" is not "hello"
    ]
    assert tok.special_ids == tokenizer.SpecialIds(cls=2, sep=3, pad=0, unk=1)


def test_lower_case(tiny_vocab_file):
    tok = wordpiece.WordpieceTokenizer.from_vocab_file(tiny_vocab_file, lower_case=True)
    assert tok.tokenize(tf.constant(["HÉLLO"])).to_list() == [[TINY_VOCAB.index("hello")]]


def test_matches_bert_tokenizer_on_demo_corpus(demo_wordpiece_vocab, tmp_path):
    import tensorflow_text as tf_text

    path = str(tmp_path / "vocab.txt")
    vocab_file.write_vocab(path, demo_wordpiece_vocab)
    ours = wordpiece.WordpieceTokenizer(demo_wordpiece_vocab)
    reference = tf_text.BertTokenizer(path, lower_case=False, token_out_type=tf.int32)
    for lang in demo_corpus.DEMO_LANGUAGES:
        texts = tf.constant(demo_corpus.read_split("test", lang))
        expected = reference.tokenize(texts).merge_dims(-2, -1).to_list()
        assert ours.tokenize(texts).to_list() == expected, lang


@pytest.mark.parametrize("lang", demo_corpus.DEMO_LANGUAGES)
def test_round_trip_on_demo_corpus(demo_wordpiece_vocab, lang):
    tok = wordpiece.WordpieceTokenizer(demo_wordpiece_vocab)
    texts = demo_corpus.read_split("train", lang)
    ids = tok.tokenize(tf.constant(texts))
    cov = coverage.measure_coverage(tok, texts)
    assert cov.unk_rate == 0.0, cov.describe()  # learned on this very split
    back = [t.decode() for t in tok.detokenize(ids).numpy()]
    # Wordpiece drops whitespace information; everything else must come back.
    assert ["".join(b.split()) for b in back] == ["".join(t.split()) for t in texts]


def test_save_and_load(tiny_vocab_file, tmp_path):
    tok = wordpiece.WordpieceTokenizer.from_vocab_file(tiny_vocab_file, lower_case=True)
    tok.save(str(tmp_path / "tok"))
    loaded = loading.load_tokenizer(str(tmp_path / "tok"))
    assert isinstance(loaded, wordpiece.WordpieceTokenizer)
    assert loaded.lower_case and loaded.vocabulary() == TINY_VOCAB


def test_usable_inside_tf_function(tiny_vocab_file):
    tok = wordpiece.WordpieceTokenizer.from_vocab_file(tiny_vocab_file)

    @tf.function
    def count(texts):
        return tok.tokenize(texts).row_lengths()

    assert count(tf.constant(["hello world", "a"])).numpy().tolist() == [2, 1]


@pytest.mark.parametrize(
    "content, message",
    [
        ("[PAD]\n[UNK]\n[CLS]\n[SEP]\nhello\nhello\n", r"vocab.txt:6: duplicate token 'hello' \(first on line 5\)"),
        ("[PAD]\n[UNK]\n\n", r"vocab.txt:3: empty line"),
        ("[PAD]\n[UNK]\nhello world\n", r"vocab.txt:3: token 'hello world' contains whitespace"),
        ("hello\nworld\n", r"vocab lacks required special token\(s\) \['\[PAD\]', '\[UNK\]', '\[CLS\]', '\[SEP\]'\]"),
        (b"[PAD]\n\xff\n", r"vocab.txt:2: invalid UTF-8"),
        ("", "vocab file is empty"),
    ],
)  # fmt: skip
def test_not_a_vocab(write, content, message):
    path = write("vocab.txt", content)
    with pytest.raises(textio.CorpusError, match=message):
        wordpiece.WordpieceTokenizer.from_vocab_file(path)
