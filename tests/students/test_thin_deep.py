import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from lealla.data import demo_corpus
from lealla.models.students.student_config import StudentConfig
from lealla.models.students.thin_deep import ThinDeepBackbone
from lealla.tokenization import packing, vocab_pruning

TINY = {
    "vocabulary_size": 50,
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 32,
}


def _inputs(ids):
    ids = np.asarray(ids, np.int32)
    return {"token_ids": ids, "padding_mask": (ids != 0).astype(np.int32)}


@pytest.fixture(params=["cls", "mean"])
def backbone(request):
    keras.utils.set_random_seed(0)
    return ThinDeepBackbone(**TINY, pooling=request.param, dropout=0.0)


def test_shapes_and_unit_norm(backbone):
    out = backbone(_inputs([[2, 5, 6, 3, 0], [2, 7, 3, 0, 0]]))
    assert out["sequence_output"].shape == (2, 5, 16)
    assert out["pooled_output"].shape == (2, 16)
    np.testing.assert_allclose(np.linalg.norm(out["sentence_embedding"], axis=-1), 1.0, atol=1e-6)


def test_padding_does_not_change_the_embedding(backbone):
    short = backbone(_inputs([[2, 5, 6, 3]]))["sentence_embedding"]
    padded = backbone(_inputs([[2, 5, 6, 3, 0, 0, 0, 0]]))["sentence_embedding"]
    np.testing.assert_allclose(short, padded, atol=1e-6)
    other = backbone(_inputs([[2, 5, 7, 3]]))["sentence_embedding"]
    assert not np.allclose(short, other, atol=1e-4)  # and tokens do change it


def test_mean_pooling_matches_numpy():
    keras.utils.set_random_seed(1)
    b = ThinDeepBackbone(**TINY, pooling="mean", dropout=0.0)
    out = b(_inputs([[2, 5, 6, 3, 0, 0]]))
    seq = out["sequence_output"].numpy()[0, :4]
    np.testing.assert_allclose(out["pooled_output"][0], seq.mean(0), atol=1e-6)


def test_deterministic_inference_and_dropout_in_training():
    keras.utils.set_random_seed(2)
    b = ThinDeepBackbone(**TINY, dropout=0.5)
    x = _inputs([[2, 5, 6, 3]])
    np.testing.assert_array_equal(b(x)["sentence_embedding"], b(x)["sentence_embedding"])
    assert not np.allclose(b(x, training=True)["sentence_embedding"], b(x)["sentence_embedding"])


def test_output_projection():
    b = ThinDeepBackbone(**TINY, output_dim=8)
    assert b(_inputs([[2, 3]]))["sentence_embedding"].shape == (1, 8)
    assert b.embedding_dim == 8


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_forward(policy):
    keras.utils.set_random_seed(3)
    full = ThinDeepBackbone(**TINY, dropout=0.0)
    mixed = ThinDeepBackbone(**TINY, dropout=0.0, dtype=keras.dtype_policies.get(policy))
    mixed.set_weights(full.get_weights())
    x = _inputs([[2, 5, 6, 7, 3]])
    out = mixed(x)
    assert out["sequence_output"].dtype == policy.split("_")[1]
    assert out["sentence_embedding"].dtype == "float32"
    assert mixed.token_embedding.embeddings.dtype == "float32"  # variables stay float32
    cosine = float(np.sum(out["sentence_embedding"] * full(x)["sentence_embedding"]))
    assert cosine > 0.99


def test_errors():
    with pytest.raises(ValueError, match="hidden_dim=16 is not divisible by num_heads=3"):
        ThinDeepBackbone(**{**TINY, "num_heads": 3})
    with pytest.raises(ValueError, match="pooling must be one of"):
        ThinDeepBackbone(**TINY, pooling="max")


def test_serialization_round_trip():
    b = ThinDeepBackbone(**TINY, pooling="mean", output_dim=8)
    config = b.get_config()
    again = ThinDeepBackbone.from_config(json.loads(json.dumps(config)))
    assert again.get_config() == config
    assert again.count_params() == b.count_params()


def test_keras_weights_and_tf_checkpoint_round_trip(tmp_path):
    keras.utils.set_random_seed(4)
    b = ThinDeepBackbone(**TINY, dropout=0.0)
    x = _inputs([[2, 5, 6, 3]])
    expected = b(x)["sentence_embedding"].numpy()
    b.save_weights(str(tmp_path / "student.weights.h5"))
    c = ThinDeepBackbone.from_config(b.get_config())
    c.load_weights(str(tmp_path / "student.weights.h5"))
    np.testing.assert_allclose(c(x)["sentence_embedding"], expected, atol=1e-7)
    path = tf.train.Checkpoint(model=b).save(str(tmp_path / "ckpt"))
    d = ThinDeepBackbone.from_config(b.get_config())
    tf.train.Checkpoint(model=d).restore(path).assert_existing_objects_matched()
    np.testing.assert_allclose(d(x)["sentence_embedding"], expected, atol=1e-7)
    whole = tmp_path / "student.keras"
    b.save(str(whole))
    np.testing.assert_allclose(
        keras.saving.load_model(str(whole))(x)["sentence_embedding"], expected, atol=1e-7
    )


def test_pruned_vocab_student_encodes_every_demo_language(use_m_tokenizer, demo_train_texts):
    tok, pruned = vocab_pruning.prune_tokenizer(use_m_tokenizer, demo_train_texts)
    config = StudentConfig.from_preset(
        "tiny_test", vocabulary_size=pruned.size, max_sequence_length=128
    )
    student = config.build()
    packer = packing.Packer(tok, 64)
    for lang in demo_corpus.DEMO_LANGUAGES:
        texts = demo_corpus.read_split("test", lang)
        inputs = packing.pad_to_length(packer(tf.constant(texts)), 64, tok.special_ids.pad)
        emb = student({"token_ids": inputs["input_word_ids"], "padding_mask": inputs["input_mask"]})
        emb = emb["sentence_embedding"].numpy()
        assert emb.shape == (50, 32) and np.isfinite(emb).all(), lang
        assert len(np.unique(emb.round(5), axis=0)) == 50, lang  # every sentence distinct
    saved = 1 - pruned.size / use_m_tokenizer.vocab_size
    assert saved > 0.7  # well over two thirds of the embedding rows are gone
