"""DistillConfig's sections: overrides, JSON round trip, unknown keys, runs of an earlier
version, presets read as flagfiles."""

import json
import os
import subprocess
import sys

import pytest

from lealla.models.distill.distill_config import DistillConfig
from lealla.records import run_layout

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PRESETS = os.path.join(ROOT, "distill", "flagfiles")


def _custom() -> DistillConfig:
    return DistillConfig().override({
        "data": {"train_data": ("a.tsv", "b.txt@0.1"), "batch_size": 16, "seq_length": 32,
                 "bucket_lengths": (16, 32)},
        "student.overrides": {"num_layers": 2}, "teacher.cache": ("cache/a",),
        "objective.lealla.matryoshka_dims": (8, 16), "trainer.steps": 40,
        "optimizer.warmup_steps": 4,
    })  # fmt: skip


def test_override_by_path_or_by_section_and_get():
    config = _custom()
    assert config.data.batch_size == 16 and config.get("data.batch_size") == 16
    assert config.student.overrides == {"num_layers": 2}
    assert config.matryoshka_dims == (8, 16) == config.objective.settings.matryoshka_dims
    # A dict-valued setting is replaced, not merged; the rest of its section is kept.
    again = config.override({"student": {"overrides": {"dropout": 0.1}}})
    assert again.student.overrides == {"dropout": 0.1} and again.data == config.data
    assert config.override({"trainer.steps": 80}).trainer.steps == 80


def test_json_round_trip_is_nested_and_exact(tmp_path):
    config = _custom()
    assert DistillConfig.from_dict(config.to_dict()) == config
    path = str(tmp_path / "distill_config.json")
    config.to_json_file(path)
    with open(path, encoding="utf-8") as f:
        saved = json.load(f)
    assert saved["trainer"]["steps"] == 40 and saved["objective"]["name"] == "lealla"
    assert saved["objective"]["lealla"]["matryoshka_dims"] == [8, 16]
    assert set(saved["objective"]) == {"name", "lealla", "ems", "ems_distill"}
    assert DistillConfig.from_json_file(path) == config


def test_an_unknown_key_is_named_with_its_section(tmp_path):
    with pytest.raises(ValueError, match=r"^unknown key trainer.stepz; trainer has "):
        DistillConfig.from_dict({"trainer": {"stepz": 5}})
    with pytest.raises(ValueError, match=r"^unknown key objective.lealla.bank_wieght; "):
        DistillConfig().override({"objective.lealla.bank_wieght": 0.5})
    with pytest.raises(ValueError, match=r"unknown DistillConfig key\(s\) \['trainerz'\]"):
        DistillConfig().override({"trainerz.steps": 5})
    path = tmp_path / "distill_config.json"
    path.write_text(json.dumps({"data": {"batch_size": 8, "batchsize": 8}}), encoding="utf-8")
    with pytest.raises(ValueError, match=r"distill_config.json: unknown key data.batchsize"):
        DistillConfig.from_json_file(str(path))


def test_a_run_folder_of_an_earlier_version_is_refused_in_one_line(tmp_path):
    import tensorflow as tf

    from lealla.models.distill.trainer import Distiller
    from lealla.models.export import restore

    flat = {"objective": "lealla", "steps": 40, "seq_length": 32, "student": "tiny_test"}
    run = tmp_path / "old_run"
    run.mkdir()
    (run / "distill_config.json").write_text(json.dumps(flat), encoding="utf-8")
    (run / "student_config.json").write_text("{}", encoding="utf-8")
    (run / "tokenizer").mkdir()
    expected = rf"^{run}/distill_config.json was written by an earlier version of lealla"
    for read in (
        lambda: run_layout.read_run_config(str(run)),
        lambda: restore.restore_sentence_encoder(str(run)),  # export, load_encoder
        lambda: Distiller(  # resuming it
            DistillConfig().override(
                {"data.train_data": ("demo:train",), "student.name": "tiny_test"}
            ),
            str(run),
            tf.distribute.get_strategy(),
        ),
    ):
        with pytest.raises(ValueError, match=expected) as error:
            read()
        message = str(error.value)
        assert "\n" not in message and message.endswith("start a new run in another --model_dir")


def test_changes_against_a_saved_run_name_section_paths():
    config = _custom()
    assert config.changes_against(config) == []
    changed = config.override({"data.batch_size": 8, "trainer.steps": 99, "student.token_init":
                               "table", "objective.lealla.bank_weight": 0.5})  # fmt: skip
    # Steps and the token start may change on resume; the rest is named by its path.
    assert changed.changes_against(config) == ["objective.lealla.bank_weight", "data.batch_size"]


SCRIPT = r"""
import sys
from lealla.cli import distill_main as train

train.parse_flags(["distill", "--model_dir=/tmp/x", *sys.argv[1:]])
print(train.config_from_flags().to_json_string().replace("\n", ""))
"""


def _config(*argv) -> DistillConfig:
    result = subprocess.run([sys.executable, "-c", SCRIPT, *argv], capture_output=True,
                            text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return DistillConfig.from_dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_a_preset_by_config_or_flagfile_is_the_same_config_and_the_command_line_wins():
    flagfile = os.path.join(PRESETS, "demo.flags")
    by_name = _config("--config=demo")
    assert by_name == _config(f"--flagfile={flagfile}") == _config(f"--config={flagfile}")
    assert by_name.student.name == "demo_small" and by_name.data.batch_size == 64
    # Flags given on the command line win over the preset, before or after it.
    assert _config("--data.batch_size=8", "--config=demo").data.batch_size == 8
    assert _config("--config=demo", "--data.batch_size=8").data.batch_size == 8
    # With a budget, a preset's step count is no limit; one given with it is.
    assert _config("--config=demo", "--train_minutes=5").trainer.steps == 10**9
    assert _config("--config=demo", "--train_minutes=5", "--steps=300").trainer.steps == 300
    bad = subprocess.run([sys.executable, "-c", SCRIPT, "--config=nosuch"], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)  # fmt: skip
    assert bad.returncode != 0 and "--config=nosuch: no such preset or file" in bad.stderr


def test_every_preset_parses_into_a_config():
    for name in sorted(os.listdir(PRESETS)):
        config = _config(f"--config={name[: -len('.flags')]}", "--train_data=a.tsv")
        assert config.data.bucket_lengths[-1] == config.data.seq_length, name
