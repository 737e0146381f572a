"""The out-of-domain dev signal: teacher embeddings kept in model_dir."""

import os

import numpy as np
import pytest
import tensorflow as tf

from lealla.models.distill import dev_agreement


class CountingTeacher:
    """Embeds a sentence as its character histogram; counts the calls."""

    calls = 0

    def embed(self, texts):
        CountingTeacher.calls += 1
        rows = [np.bincount([ord(c) % 32 for c in t.decode()], minlength=32) for t in texts.numpy()]
        return tf.constant(np.asarray(rows, np.float32) + 0.1)


def _files(tmp_path, n):
    path = tmp_path / "chat.de.txt"
    path.write_text("".join(f"sentence number {i} {'x' * (i % 7)}\n" for i in range(n)))
    return (str(path),)


def test_the_teacher_embeds_once_and_a_resume_reads_its_embeddings(tmp_path):
    specs = _files(tmp_path, 40)
    first = dev_agreement.prepare(specs, "error", str(tmp_path), CountingTeacher())
    assert CountingTeacher.calls == 1 and first.teacher_embeddings.shape == (40, 32)
    again = dev_agreement.prepare(specs, "error", str(tmp_path), None)
    np.testing.assert_array_equal(again.teacher_embeddings, first.teacher_embeddings)
    assert CountingTeacher.calls == 1
    assert not dev_agreement.needs_teacher(specs, str(tmp_path))
    # The teacher agrees with itself; a student that sees only the length does not.
    teacher = CountingTeacher()
    assert first.score(lambda t: teacher.embed(tf.constant(t)).numpy()) == 1.0
    lengths = lambda t: np.asarray([[len(s), 1.0] for s in t], np.float32)  # noqa: E731
    assert first.score(lengths) < 1.0


def test_a_changed_dev_file_is_named_when_no_teacher_can_embed_it(tmp_path):
    specs = _files(tmp_path, 40)
    dev_agreement.prepare(specs, "error", str(tmp_path), CountingTeacher())
    _files(tmp_path, 30)
    with pytest.raises(
        ValueError,
        match="dev_mono_teacher.npz holds .* of 40 sentences that are not dev_mono_data's 30",
    ):
        dev_agreement.prepare(specs, "error", str(tmp_path), None)
    # With the teacher at hand it embeds them again.
    assert len(dev_agreement.prepare(specs, "error", str(tmp_path), CountingTeacher()).texts) == 30
    # As many sentences, one of them edited: named too, not scored against the old ones.
    (tmp_path / "chat.de.txt").write_text(
        "".join(f"sentence number {i} {'y' * (i % 7)}\n" for i in range(30))
    )
    with pytest.raises(
        ValueError,
        match="dev_mono_teacher.npz holds .* of 30 sentences that are not dev_mono_data's 30",
    ):
        dev_agreement.prepare(specs, "error", str(tmp_path), None)


def test_too_few_sentences_are_refused_before_the_teacher_is_called(tmp_path):
    calls = CountingTeacher.calls
    with pytest.raises(ValueError, match="5 distinct sentences"):
        dev_agreement.prepare(_files(tmp_path, 5), "error", str(tmp_path), CountingTeacher())
    assert CountingTeacher.calls == calls
    assert not os.path.exists(tmp_path / "dev_mono_teacher.npz")


def test_dev_text_without_a_teacher_is_refused_by_the_config():
    from lealla.models.distill.distill_config import DistillConfig

    with pytest.raises(ValueError, match="dev_mono_data needs a teacher"):
        DistillConfig().override(
            {
                "data.train_data": ("demo:train",),
                "data.dev_mono_data": ("demo:dev",),
                "teacher.name": "",
                "objective.name": "ems",
                "student.vocab": "teacher",
            }
        )
