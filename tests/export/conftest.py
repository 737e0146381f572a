"""Trained runs to export: a distilled SentencePiece student and a wordpiece one."""

import json
import os

import pytest
import tensorflow as tf


@pytest.fixture(scope="session")
def trained_run(use_m_module, tmp_path_factory):
    """A tiny student distilled from USE-m on the demo corpus: (model_dir, Distiller)."""
    from distill.distill_config import DistillConfig
    from distill.trainer import Distiller
    from teachers import loading

    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    teacher = loading.load_teacher("use-multilingual")
    config = DistillConfig(
        student="tiny_test", student_overrides={"max_sequence_length": 64},
        train_data=("demo:train",), dev_data=("demo:dev",), batch_size=16, seq_length=32,
        bucket_lengths=(16, 32), warmup_steps=5, steps=40, checkpoint_every=40, eval_every=20,
        log_every=20,
    )  # fmt: skip
    model_dir = str(tmp_path_factory.mktemp("run") / "model")
    distiller = Distiller(config, model_dir, tf.distribute.get_strategy(), teacher=teacher)
    distiller.train()
    return model_dir, distiller


@pytest.fixture(scope="session")
def wordpiece_run(demo_wordpiece_vocab, tmp_path_factory):
    """A run folder with an uncased wordpiece vocab and a saved (untrained) student."""
    from lealla.tokenization import wordpiece
    from students.student_config import StudentConfig

    model_dir = tmp_path_factory.mktemp("wordpiece_run")
    tok = wordpiece.WordpieceTokenizer(demo_wordpiece_vocab, lower_case=True)
    tok.save(str(model_dir / "tokenizer"))
    student = StudentConfig.from_preset(
        "tiny_test", vocabulary_size=tok.vocab_size, max_sequence_length=32, pooling="mean",
        output_dim=24,
    )  # fmt: skip
    student.to_json_file(str(model_dir / "student_config.json"))
    (model_dir / "distill_config.json").write_text(json.dumps({"seq_length": 16}))
    backbone = student.build()
    tf.train.Checkpoint(student=backbone).save(str(model_dir / "checkpoints" / "ckpt"))
    return str(model_dir)
