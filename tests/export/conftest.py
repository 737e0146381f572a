"""A wordpiece run to export (the distilled SentencePiece run is in tests/conftest.py)."""

import json

import pytest
import tensorflow as tf


@pytest.fixture(scope="session")
def wordpiece_run(demo_wordpiece_vocab, tmp_path_factory):
    """A run folder with an uncased wordpiece vocab and a saved (untrained) student."""
    from lealla.models.students.student_config import StudentConfig
    from lealla.tokenization import wordpiece

    model_dir = tmp_path_factory.mktemp("wordpiece_run")
    tok = wordpiece.WordpieceTokenizer(demo_wordpiece_vocab, lower_case=True)
    tok.save(str(model_dir / "tokenizer"))
    student = StudentConfig.from_preset(
        "tiny_test", vocabulary_size=tok.vocab_size, max_sequence_length=32, pooling="mean",
        output_dim=24,
    )  # fmt: skip
    student.to_json_file(str(model_dir / "student_config.json"))
    (model_dir / "distill_config.json").write_text(json.dumps({"data": {"seq_length": 16}}))
    backbone = student.build()
    tf.train.Checkpoint(student=backbone).save(str(model_dir / "checkpoints" / "ckpt"))
    return str(model_dir)
