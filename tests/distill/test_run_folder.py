"""The run folder: settings saved and compared on resume, the record export reads back,
and the newest intact checkpoint."""

import json
import os

import pytest
import tensorflow as tf

from lealla.models.distill.distill_config import DistillConfig
from lealla.models.distill.run_folder import RunFolder
from lealla.records import run_layout, run_record

CONFIG = DistillConfig().override({
    "data.train_data": ("a.tsv",), "data.dev_data": ("dev.tsv",),
    "objective.lealla.matryoshka_dims": (8, 16), "student.name": "tiny_test",
    "data.seq_length": 32, "data.bucket_lengths": (32,),
})  # fmt: skip
# The record's fields read from distill_config.json, by their setting.
RECORD_FIELDS = {"objective.name": "objective", "data.seq_length": "seq_length",
                 "trainer.steps": "steps", "data.on_bad_line": "on_bad_line"}  # fmt: skip


def _run_folder(path, config=CONFIG):
    folder = RunFolder(str(path))
    folder.save_config(config)
    with open(folder.file(run_layout.STUDENT_CONFIG), "w", encoding="utf-8") as f:
        json.dump({"preset": "tiny_test", "hidden_dim": 32}, f)
    os.makedirs(folder.file(run_layout.TOKENIZER_DIR))
    return folder


def test_the_record_reads_back_what_the_run_saved(tmp_path):
    folder = _run_folder(tmp_path / "run")
    folder.write_best({"step": 4, "dev_score": 0.5})
    folder.write_metrics({"step": 8, "losses": {"total": 1.0}})
    run = folder.record()
    assert run == run_record.read_run(str(tmp_path / "run"))
    assert (run.teacher, run.objective, run.seq_length, run.steps) == (
        "use-multilingual", "lealla", 32, CONFIG.trainer.steps,
    )  # fmt: skip
    assert run.train_data == ("a.tsv",) and run.dev_data == ("dev.tsv",)
    assert run.matryoshka_dims == (8, 16) and run.trained_dims(24) == [8, 16, 24]
    assert (
        run.reported["batch_size"] == CONFIG.data.batch_size and run.reported["teacher_cache"] == ()
    )
    assert set(run.reported) == set(run_record.REPORTED_SETTINGS)
    assert run.student == {"preset": "tiny_test", "hidden_dim": 32}
    assert run.command.startswith("lealla distill --model_dir=run ")
    assert run.best == {"step": 4, "dev_score": 0.5} and run.metrics["step"] == 8
    assert run.tokenizer_dir == str(tmp_path / "run" / "tokenizer")


def test_an_absent_setting_reads_as_the_configs_default(tmp_path):
    folder = _run_folder(tmp_path / "run")
    with open(folder.file(run_layout.RUN_CONFIG), "w", encoding="utf-8") as f:
        json.dump({}, f)
    run = folder.record()
    default = DistillConfig().override({"data.train_data": ("a.tsv",)})
    assert set(run_record.DEFAULTS) == set(RECORD_FIELDS)
    for path, name in RECORD_FIELDS.items():
        assert getattr(run, name) == default.get(path), name
    assert run.teacher is None and run.train_data == () and run.matryoshka_dims == ()
    assert run.best is None and run.metrics is None
    with pytest.raises(ValueError, match="is not a training model_dir"):
        run_record.read_run(str(tmp_path))


def test_only_resumable_settings_change_once_a_checkpoint_exists(tmp_path):
    folder = _run_folder(tmp_path / "run")
    # No checkpoint yet: other settings start over, removing what the old ones derived.
    RunFolder(folder.path).save_config(DistillConfig().override({"data.train_data": ("b.tsv",)}))
    assert not os.path.exists(folder.file(run_layout.TOKENIZER_DIR))
    assert DistillConfig.from_json_file(folder.file(run_layout.RUN_CONFIG)).data.train_data == (
        "b.tsv",
    )
    folder.checkpoint_manager(tf.train.Checkpoint(v=tf.Variable(1.0)), 1).save(1)
    folder.save_config(
        DistillConfig().override({"data.train_data": ("b.tsv",), "trainer.steps": 700})
    )  # resumable
    with pytest.raises(ValueError, match=r"other settings \(data.train_data: saved \('b.tsv',\)"):
        folder.save_config(DistillConfig().override({"data.train_data": ("c.tsv",)}))


def test_the_newest_intact_checkpoint_is_restored(tmp_path):
    folder = RunFolder(str(tmp_path))
    value = tf.Variable(0.0)
    manager = folder.checkpoint_manager(tf.train.Checkpoint(v=value), 3)
    for step in (1, 2):
        value.assign(float(step))
        manager.save(checkpoint_number=step)
    (data,) = [n for n in os.listdir(manager.directory) if n.startswith("ckpt-2.data")]
    path = os.path.join(manager.directory, data)
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) // 2)
    value.assign(-1.0)
    restored = run_layout.restore_newest_intact(tf.train.Checkpoint(v=value), manager)
    assert restored.endswith("ckpt-1") and float(value.numpy()) == 1.0
    for name in os.listdir(manager.directory):
        if name.startswith("ckpt-1.data"):
            os.remove(os.path.join(manager.directory, name))
    with pytest.raises(ValueError, match="no readable checkpoint in"):
        run_layout.restore_newest_intact(tf.train.Checkpoint(v=value), manager)
