import time

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_hub as hub
import tf_keras

from lealla.models.teachers import loading, registry, teacher
from tests.teachers import hub_fixtures

TEXTS = ["hello world!", "the cats sat on the mat.", "hallo welt", "a b a"]


def _normalize(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_labse_v2_format(hub_modules):
    t = loading.load_teacher(
        hub_modules["labse_v2_encoder"], preprocessor=hub_modules["labse_v2_preprocessor"]
    )
    assert isinstance(t, teacher.LabseV2Teacher)
    assert (t.embedding_dim, t.normalized) == (hub_fixtures.HIDDEN, False)
    assert t.tokenizer.vocabulary() == hub_fixtures.VOCAB  # from the encoder's vocab_file asset
    encoder = hub.load(hub_modules["labse_v2_encoder"])
    pre = hub.load(hub_modules["labse_v2_preprocessor"])
    expected = encoder(pre(tf.constant(TEXTS)))["default"].numpy()
    np.testing.assert_allclose(t.raw_embed(tf.constant(TEXTS)), expected, atol=1e-6)
    out = t.embed(tf.constant(TEXTS)).numpy()
    np.testing.assert_allclose(out, _normalize(expected), atol=1e-6)
    assert len({tuple(np.round(r, 5)) for r in out}) == len(TEXTS)


def test_labse_v2_other_seq_length_goes_through_bert_pack_inputs(hub_modules):
    kwargs = {"preprocessor": hub_modules["labse_v2_preprocessor"]}
    long = tf.constant(["the cat sat on the mat . the dog sat on the mat"])
    full = loading.load_teacher(hub_modules["labse_v2_encoder"], **kwargs)
    short = loading.load_teacher(hub_modules["labse_v2_encoder"], seq_length=5, **kwargs)
    assert short.encoder_inputs(long)["input_word_ids"].shape == (1, 5)
    assert not np.allclose(full.embed(long), short.embed(long), atol=1e-4)  # truncation bites
    same = tf.constant(["hello"])  # fits in 5: identical result
    np.testing.assert_allclose(full.embed(same), short.embed(same), atol=1e-5)


def test_labse_v2_inside_a_tf_keras_model(hub_modules):
    t = loading.load_teacher(
        hub_modules["labse_v2_encoder"], preprocessor=hub_modules["labse_v2_preprocessor"]
    )
    text = tf_keras.Input(shape=(), dtype=tf.string)
    inputs = hub.KerasLayer(hub_modules["labse_v2_preprocessor"])(text)
    pooled = hub.KerasLayer(hub_modules["labse_v2_encoder"])(inputs)["default"]
    model = tf_keras.Model(text, pooled)
    np.testing.assert_allclose(
        model(tf.constant(TEXTS)), t.raw_embed(tf.constant(TEXTS)), atol=1e-6
    )


def test_labse_v1_format_detected(hub_modules):
    t = loading.load_teacher(hub_modules["labse_v1"])
    assert isinstance(t, teacher.LabseV1Teacher)
    module = hub.load(hub_modules["labse_v1"])
    pre = hub.load(hub_modules["labse_v2_preprocessor"])  # same vocab, same packing
    inputs = pre(tf.constant(TEXTS))
    pooled, _ = module([inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]])
    np.testing.assert_allclose(t.raw_embed(tf.constant(TEXTS)), pooled, atol=1e-5)


def test_string_format_detected_and_in_keras(hub_modules):
    t = loading.load_teacher(hub_modules["string"])
    assert isinstance(t, teacher.StringTeacher)
    model = tf_keras.Sequential(
        [hub.KerasLayer(hub_modules["string"], input_shape=[], dtype=tf.string)]
    )
    np.testing.assert_allclose(model(tf.constant(TEXTS)), t.embed(tf.constant(TEXTS)), atol=1e-6)


def test_embed_in_tf_function_and_mirrored_strategy(hub_modules):
    t = loading.load_teacher(
        hub_modules["labse_v2_encoder"], preprocessor=hub_modules["labse_v2_preprocessor"]
    )
    expected = t.embed(tf.constant(TEXTS)).numpy()
    np.testing.assert_allclose(tf.function(t.embed)(tf.constant(TEXTS)), expected, atol=1e-6)
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    assert strategy.num_replicas_in_sync == 2
    ds = strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensor_slices(TEXTS).batch(len(TEXTS))
    )
    per_replica = strategy.run(tf.function(t.embed), args=(next(iter(ds)),))
    got = np.concatenate([v.numpy() for v in strategy.experimental_local_results(per_replica)])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_unreachable_handle_fails_fast_with_advice():
    start = time.perf_counter()
    with pytest.raises(
        loading.TeacherUnavailableError,
        match=r"cannot fetch https://models.invalid/x/1.*pass its path",
    ):
        loading.load_teacher("https://models.invalid/x/1", format="string")
    assert time.perf_counter() - start < 60


def test_bad_teacher_arguments(tmp_path, hub_modules):
    with pytest.raises(ValueError, match="neither a known name"):
        loading.load_teacher(str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="teacher format must be one of"):
        loading.load_teacher(hub_modules["string"], format="bert")
    with pytest.raises(ValueError, match="needs its preprocessor"):
        loading.load_teacher(hub_modules["labse_v2_encoder"], format="labse_v2")


def test_registry_dim_mismatch_is_refused(hub_modules, monkeypatch):
    spec = registry.TeacherSpec(hub_modules["string"], registry.STRING, 99, True)
    monkeypatch.setitem(registry.TEACHERS, "fake", spec)
    with pytest.raises(ValueError, match="module returns 16-d embeddings; the registry expects 99"):
        loading.load_teacher("fake")


def test_registry_names():
    assert {"labse", "labse-v1", "lealla-small", "lealla-base", "lealla-large",
            "use-multilingual"} <= set(registry.TEACHERS)  # fmt: skip
    assert registry.TEACHERS["labse"].preprocessor.endswith("multilingual-preprocess/2")
    assert (
        not registry.TEACHERS["labse"].normalized and registry.TEACHERS["lealla-small"].normalized
    )


def test_metadata_of_a_newer_version_is_refused_naming_the_file(tmp_path):
    from lealla.records import module_metadata

    module_metadata.write(str(tmp_path / module_metadata.EXPORT_FILE), {"format": "string"})
    assert module_metadata.read(str(tmp_path)).format == "string"
    (tmp_path / module_metadata.EXPORT_FILE).write_text('{"schema_version": 99}')
    with pytest.raises(ValueError, match=r"lealla_export.json: written by a newer version"):
        module_metadata.read(str(tmp_path))


def test_an_export_without_its_weights_is_named_before_tensorflow_reads_it(tmp_path):
    folder = tmp_path / "export"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(b"\x08\x01")
    (folder / "lealla_export.json").write_text('{"format": "string"}')
    with pytest.raises(ValueError, match=r"export: incomplete SavedModel, variables/variables"
                                         r".index is missing"):  # fmt: skip
        loading.load_teacher(str(folder))
    (folder / "variables").rmdir()
    with pytest.raises(ValueError, match=r"variables/ \(its weights\) is missing; copy the"):
        loading.load_teacher(str(folder))
    (folder / "variables").mkdir()
    (folder / "variables" / "variables.index").write_bytes(b"")
    with pytest.raises(ValueError, match=r"variables/variables.data-\* \(its weights\)"):
        loading.resolve_handle(str(folder))
