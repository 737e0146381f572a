"""The demo's stages and report on a trained tiny run; the whole demo with --run-large."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from lealla.api import encoders
from lealla.cli import demo_report, demo_stages
from lealla.embeddings.text_encoder import BatchEncoder


@pytest.fixture(scope="module")
def teacher_encoder(use_m_module):
    os.environ["LEALLA_CACHE_DIR"] = os.path.dirname(os.path.dirname(use_m_module))
    return encoders.load_encoder("use-multilingual")


def test_mining_recovers_the_test_pairs_with_the_teacher(teacher_encoder, tmp_path):
    embeddings, speed = demo_stages.embed_all(teacher_encoder, demo_stages.test_split())
    assert speed > 0
    accuracy = demo_stages.retrieval(embeddings)
    assert set(accuracy) == set(demo_stages.LANGUAGES) and min(accuracy.values()) > 0.9
    results = demo_stages.mine(teacher_encoder, embeddings, str(tmp_path))
    assert np.mean([r["f1"] for r in results.values()]) > 0.9, results
    rows = (tmp_path / "de-en.tsv").read_text(encoding="utf-8").splitlines()
    assert len(rows) == results["de"]["mined"]
    score, src, tgt = rows[0].split("\t")
    assert float(score) > 1.0 and src and tgt


def test_mining_scores_a_random_encoder_near_zero():
    rng = np.random.default_rng(0)

    def random_vectors(texts):
        out = rng.normal(size=(len(texts), 16)).astype(np.float32)
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    encoder = BatchEncoder("random", 16, random_vectors)
    embeddings, _ = demo_stages.embed_all(encoder, demo_stages.test_split())
    results = demo_stages.mine(encoder, embeddings)
    assert np.mean([r["f1"] for r in results.values()]) < 0.1


def test_export_stage_reuses_an_export_of_the_same_checkpoint(trained_run, tmp_path):
    model_dir, _ = trained_run
    out = str(tmp_path / "export")
    first = demo_stages.export(model_dir, out)
    second = demo_stages.export(model_dir, out)
    assert second["exported_at"] == first["exported_at"]  # not exported again
    student = encoders.load_encoder(out)
    from_run = encoders.load_encoder(model_dir)  # a model_dir is an encoder spec too
    texts = ["Guten Morgen", "Good morning"]
    np.testing.assert_allclose(student.encode(texts), from_run.encode(texts), atol=1e-5)


def test_student_vs_labse_shape_speed(trained_run):
    rates = demo_stages.labse_shape_speed(trained_run[0], ["Hallo Welt"] * 64)
    assert rates["student"] > rates["labse_shaped"] > 0  # a 2 x 32 student vs 12 x 768


def test_training_curves_read_every_logged_step(trained_run):
    curves = demo_stages.training_curves(trained_run[0])
    assert curves["loss/total"][0] == [20, 40]
    assert curves["retrieval_accuracy"][0] == [20, 40]
    assert all(0 <= v <= 1 for v in curves["retrieval_accuracy"][1])


def test_report_has_table_per_language_rows_and_plots(tmp_path):
    langs = list(demo_stages.LANGUAGES)
    side = {
        "parameters": 1000, "sentences_per_second": 100.0,
        "accuracy": dict.fromkeys(langs, 0.5),
        "mining": {x: {"f1": 0.4, "precision": 0.5, "recall": 0.3, "mined": 30} for x in langs},
    }  # fmt: skip
    summary = {
        "teacher": {**side, "name": "teacher-x", "dims": 512, "parameters": 4000},
        "student": {**side, "name": "student-y", "dims": 128, "export_bytes": 2e6,
                    "vocab_size": 900, "sentences_per_second": 250.0},
        "static": {"name": "static_128", "dims": 128, "steps": 30, "sentences_per_second": 25000.0,
                   "accuracy": dict.fromkeys(langs, 0.4)},
        "student_int8": {**side, "name": "student-y, TFLite int8", "bytes": 5e5,
                         "saved_model_bytes": 2e6, "sentences_per_second": 500.0},
        "training": {"steps": 40}, "reload_max_abs_diff": {"hub_load": 0.0},
        "vs_labse_shape": {"student": 300.0, "labse_shaped": 25.0},
        "mining_pool": 350, "seconds": {"total": 12.0},
    }  # fmt: skip
    curves = {"loss/total": ([1, 2], [2.0, 1.0]), "loss/logit": ([1, 2], [0.0, 0.0]),
              "retrieval_accuracy": ([2], [0.3])}  # fmt: skip
    table = demo_report.write(str(tmp_path), summary, curves)
    assert "| parameters | 4,000 | 1,000 | 1,000 | 4.0x smaller |" in table
    assert "| encode speed (sentences/s) | 100 | 250 | 500 | 2.50x |" in table
    assert "| size on disk (MB) |  | 2.0 | 0.5 | int8 4.0x smaller |" in table
    summary["student_int8"] = {"refused": "TFLite int8 variant refused: mean cosine 0.9"}
    refused = demo_report.summary_table(summary)
    assert "| parameters | 4,000 | 1,000 | 4.0x smaller |" in refused
    assert "No int8 TFLite model: TFLite int8 variant refused: mean cosine 0.9" in refused
    assert "the student encodes 12.0x faster (300 vs 25 sentences/s)" in table
    assert (
        "Static tier (static_128, 30 steps): accuracy 0.400 (80% of teacher) at 25,000 "
        "sentences/s (100x the student)" in table
    )
    report = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "| ko-en | 0.500 | 0.500 | 0.400 | 0.400 |" in report
    pngs = sorted(p.name for p in tmp_path.glob("*.png"))
    assert pngs == ["accuracy.png", "dev_accuracy.png", "frontier.png", "mining_f1.png",
                    "training_loss.png"]  # fmt: skip


@pytest.mark.large
def test_whole_demo_offline_and_rerun_reuses_everything(tmp_path):
    out = tmp_path / "demo"
    args = [
        sys.executable, "-m", "lealla.cli.main", "demo", f"--out={out}",
        "--distill_flags=--steps=20,--student=tiny_test,--trainer.eval_every=10,"
        "--optimizer.warmup_steps=2,--trainer.checkpoint_every=10,--data.batch_size=16",
        "--static_steps=10",
    ]  # fmt: skip
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    first = subprocess.run(args, capture_output=True, text=True, env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    # A console for people: stage lines, results, the table; off a terminal (here: pipes)
    # no progress redraws and no INFO lines, from the demo or its `lealla distill` children.
    shown = first.stdout.splitlines() + first.stderr.splitlines()
    assert len(shown) <= 60, "\n".join(shown)
    assert sum(line.startswith("[") and "/8] " in line for line in first.stdout.splitlines()) == 8
    assert not re.search(r"^I\d{4} ", first.stderr, re.M) and "\r" not in first.stderr
    assert "mining: kept" not in first.stderr and "report: " in first.stdout
    summary = json.loads((out / "report" / "summary.json").read_text())
    assert summary["training"]["steps"] == 20
    reload = summary["reload_max_abs_diff"]
    assert max(v for k, v in reload.items() if not k.startswith("tflite")) <= 1e-5
    int8 = summary["student_int8"]
    if "refused" in int8:  # a 20-step student may miss the int8 bar: said, not hidden
        assert "dynamic_int8 variant refused" in int8["refused"]
        assert "No int8 TFLite model" in first.stdout
    else:
        assert (out / "export" / "model_dynamic_int8.tflite").is_file()
        assert reload["tflite_dynamic_int8_cosine"] >= 0.99
        mean = lambda acc: sum(acc.values()) / len(acc)  # noqa: E731
        assert abs(mean(int8["accuracy"]) - mean(summary["student"]["accuracy"])) <= 0.03
        assert "student, TFLite int8" in first.stdout
    assert "test retrieval accuracy" in first.stdout
    assert summary["static"]["steps"] == 10
    # The static tier is the fast end of the frontier.
    assert summary["static"]["sentences_per_second"] > summary["student"]["sentences_per_second"]
    for png in ("accuracy.png", "mining_f1.png", "dev_accuracy.png", "frontier.png"):
        assert (out / "report" / png).is_file()
    again = subprocess.run([*args[:5], "--static_steps=10"], capture_output=True, text=True,
                           env=env)  # fmt: skip
    assert again.returncode == 0, again.stderr[-3000:]
    assert "reusing the finished run" in again.stdout and "export: reusing" in again.stdout
    assert tf.io.gfile.exists(str(out / "mined" / "de-en.tsv"))


def test_frontier_chart_holds_the_int8_point_unless_refused(tmp_path, monkeypatch):
    langs = list(demo_stages.LANGUAGES)
    side = {
        "parameters": 1000,
        "sentences_per_second": 100.0,
        "dims": 128,
        "accuracy": dict.fromkeys(langs, 0.5),
        "mining": {x: {"f1": 0.4, "precision": 0.5, "recall": 0.3, "mined": 30} for x in langs},
    }
    summary = {
        "teacher": {**side, "name": "teacher-x", "dims": 512},
        "student": {**side, "name": "student-y", "export_bytes": 2e6, "vocab_size": 900},
        "static": {"name": "static_128", "dims": 128, "steps": 30, "sentences_per_second": 9e3,
                   "accuracy": dict.fromkeys(langs, 0.4)},
        "student_int8": {**side, "name": "student-y, TFLite int8", "bytes": 5e5,
                         "saved_model_bytes": 2e6, "sentences_per_second": 500.0,
                         "accuracy": dict.fromkeys(langs, 0.45)},
        "training": {"steps": 40}, "reload_max_abs_diff": {"hub_load": 0.0},
        "vs_labse_shape": {"student": 300.0, "labse_shaped": 25.0},
        "mining_pool": 350, "seconds": {"total": 12.0},
    }  # fmt: skip
    drawn = []
    monkeypatch.setattr(demo_report.plots, "frontier_chart",
                        lambda path, points, **kw: drawn.append(points))  # fmt: skip
    demo_report.write(str(tmp_path), summary, {})
    assert drawn[-1]["student, TFLite int8 (128 d)"] == pytest.approx((500.0, 0.45))
    summary["student_int8"] = {"refused": "TFLite dynamic_int8 variant refused"}
    demo_report.write(str(tmp_path), summary, {})
    assert not any("int8" in name for name in drawn[-1])
