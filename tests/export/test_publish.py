"""`lealla publish`: staging and validation for both hubs, refusals, the client boundary.

Everything runs for real up to the hub's client; the client tests stand in for its upload
call only (kagglehub.model_upload; HfApi.create_repo + upload_folder) and check what it
was given. The fresh-process load of the staged folder is in the large tests.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from lealla.models.export import exporter
from lealla.models.export.publishing import hub_metadata, licenses, publisher, targets, validation
from lealla.records import module_metadata, run_layout

KAGGLE_TO = "kaggle:someone/lealla-tiny/tensorFlow2/demo"
HF_TO = "hf:someone/lealla-tiny"
LEALLA = [sys.executable, "-m", "lealla.cli.main"]


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    """The trained run exported with its test split scored: (folder, metadata, model_dir)."""
    model_dir, _ = trained_run
    out = str(tmp_path_factory.mktemp("publish") / "lealla-tiny")
    # With the LaBSE-format pair (opt-in): staging carries every part an export can have.
    config = exporter.ExportConfig(checkpoint="latest", test_data=("demo:test",), labse_format=True)
    return out, exporter.export_model(model_dir, out, config), model_dir


def _dry_run(export_dir, to, tmp_path, name, **kwargs):
    lines = []
    result = publisher.publish(
        export_dir, to, dry_run=True, staging_dir=str(tmp_path / name), check_loading=False,
        report=lines.append, **kwargs,
    )  # fmt: skip
    return result, "\n".join(lines)


def test_the_export_records_the_runs_command_languages_and_scores(exported):
    _, metadata, model_dir = exported
    with open(os.path.join(model_dir, run_layout.RUN_COMMAND), encoding="utf-8") as f:
        command = f.read().strip()
    # The run's own command, its local paths cut to their names (metadata travels).
    assert metadata["training"]["command"] == module_metadata.without_local_paths(command)
    assert os.path.dirname(model_dir) not in metadata["training"]["command"]
    assert command.startswith("lealla distill --model_dir=model ")
    assert "--train_data=demo:train" in command and "--steps=40" in command
    assert "--teacher_cache=" in command and "--student=tiny_test" in command
    dev, test = metadata["evaluation"]["dev"], metadata["evaluation"]["test"]
    assert len(dev["per_pair"]) == len(test["per_pair"]) == 13
    assert test["data"] == ["demo:test"]
    assert 0 < dev["accuracy"] <= 1 and dev["per_pair"] != test["per_pair"]
    assert len(metadata["languages"]) == 14 and "en" in metadata["languages"]
    assert metadata["verification"]["tolerance"] == 1e-5


def _card_rows(card, metadata):
    """The per-pair rows the card must hold: the export's own numbers."""
    dev, test = metadata["evaluation"]["dev"], metadata["evaluation"]["test"]
    return [f"| {pair} | {dev['per_pair'][pair]:.3f} | {test['per_pair'][pair]:.3f} |"
            for pair in dev["per_pair"]]  # fmt: skip


def test_kaggle_staging_layout_metadata_and_card(exported, tmp_path):
    out, metadata, _ = exported
    result, printed = _dry_run(out, KAGGLE_TO, tmp_path, "kaggle", version_notes="first")
    staged = result.staged
    for name in ("saved_model.pb", "variables", "assets", "labse_format/preprocessor",
                 "labse_format/encoder", "lealla_export.json", "README.md",
                 *hub_metadata.KAGGLE_FILES):  # fmt: skip
        assert os.path.exists(os.path.join(staged, name)), name
    with open(os.path.join(staged, hub_metadata.MODEL_METADATA), encoding="utf-8") as f:
        model = json.load(f)
    with open(os.path.join(staged, hub_metadata.INSTANCE_METADATA), encoding="utf-8") as f:
        instance = json.load(f)
    assert set(model) <= hub_metadata.MODEL_FIELDS and set(instance) <= hub_metadata.INSTANCE_FIELDS
    assert (model["ownerSlug"], model["slug"], model["licenseName"]) == (
        "someone", "lealla-tiny", "Apache 2.0")  # fmt: skip
    assert (instance["instanceSlug"], instance["framework"]) == ("demo", "tensorFlow2")
    with open(os.path.join(staged, "README.md"), encoding="utf-8") as f:
        card = f.read()
    assert model["description"] == card
    assert 'kagglehub.model_download("someone/lealla-tiny/tensorFlow2/demo")' in card
    assert "import tensorflow_text" in card and metadata["training"]["command"] in card
    for row in _card_rows(card, metadata):
        assert row in card
    assert "Frontier point" in card and f"{metadata['evaluation']['dev']['accuracy']:.3f}" in card
    assert "## Limits" in card
    # The dry run printed the tree and the exact call, and kept the folder.
    assert "saved_model.pb" in printed and "model-instance-metadata.json" in printed
    assert result.call in printed and not result.uploaded
    assert result.call.startswith("kagglehub.model_upload('someone/lealla-tiny/tensorFlow2/demo'")
    assert f"'{staged}'" in result.call and "license_name='Apache 2.0'" in result.call
    assert "version_notes='first'" in result.call


def test_hugging_face_front_matter_and_card(exported, tmp_path):
    out, metadata, _ = exported
    result, printed = _dry_run(out, HF_TO, tmp_path, "hf", license="mit")
    with open(os.path.join(result.staged, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    front = hub_metadata.parse_front_matter(readme)  # no base_model: USE-m has no Hub copy
    assert list(front) == ["library_name", "license", "language", "tags", "pipeline_tag",
                           "model-index"]  # fmt: skip
    assert front["license"] == "mit" and front["language"] == metadata["languages"]
    assert front["tags"] == ["sentence-similarity", "tensorflow", "tflite", "lealla"]
    results = {r["dataset"]["split"]: r for r in front["model-index"][0]["results"]}
    for split in ("dev", "test"):
        scores = metadata["evaluation"][split]
        metrics = {m["name"]: m["value"] for m in results[split]["metrics"]}
        assert metrics["de-en retrieval"] == round(scores["per_pair"]["de-en"], 4)
    assert 'snapshot_download("someone/lealla-tiny")' in readme
    for row in _card_rows(readme, metadata):
        assert row in readme
    assert not any(
        os.path.exists(os.path.join(result.staged, n)) for n in hub_metadata.KAGGLE_FILES
    )
    assert "upload_folder(repo_id='someone/lealla-tiny'" in printed


def test_validation_names_what_is_wrong(exported, tmp_path):
    out, metadata, _ = exported
    result, _ = _dry_run(out, KAGGLE_TO, tmp_path, "kaggle")
    target = targets.parse(KAGGLE_TO)
    path = os.path.join(result.staged, hub_metadata.INSTANCE_METADATA)
    with open(path, encoding="utf-8") as f:
        instance = json.load(f)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**instance, "instanceSlug": "other", "tags": []}, f)
    with pytest.raises(validation.PublishError, match="fields Kaggle does not document: tags"):
        validation.validate(result.staged, target, out, metadata, check_loading=False)
    with open(path, "w", encoding="utf-8") as f:
        json.dump({**instance, "instanceSlug": "other"}, f)
    with pytest.raises(validation.PublishError, match="instanceSlug is 'other'"):
        validation.validate(result.staged, target, out, metadata, check_loading=False)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(instance, f)
    shutil.rmtree(os.path.join(result.staged, "labse_format", "encoder"))  # the card names it
    with pytest.raises(validation.PublishError, match="lacks: labse_format/encoder"):
        validation.validate(result.staged, target, out, metadata, check_loading=False)


def test_usage_errors_licence_and_handle():
    with pytest.raises(licenses.LicenseError, match="not a licence Kaggle Models accepts"):
        licenses.for_hub("openrail", targets.KAGGLE)
    assert licenses.for_hub("openrail", targets.HF) == "openrail"
    with pytest.raises(licenses.LicenseError, match="repositories-licenses"):
        licenses.for_hub("Apache 2.0", targets.HF)
    for bad in ("someone/x", "kaggle:a/b/pyTorch/c", "kaggle:a/b/c", "hf:a/b/c", "hf:a--b/c"):
        with pytest.raises(targets.TargetError, match="--to="):
            targets.parse(bad)
    assert targets.parse("kaggle:a/b/tensorflow2/c").handle == "a/b/tensorFlow2/c"


def _copy(export_dir, tmp_path):
    copy = str(tmp_path / "copy")
    shutil.copytree(export_dir, copy)
    return copy


def test_refuses_an_unverified_export_or_one_without_metadata(exported, tmp_path):
    out, metadata, _ = exported
    copy = _copy(out, tmp_path)
    path = os.path.join(copy, "lealla_export.json")
    bad = {**metadata, "verification": {**metadata["verification"], "max_abs_diff": 0.5}}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(bad, f)
    with pytest.raises(validation.PublishError, match=r"lealla_export.json: the export's "
                       r"verification failed \(max_abs_diff=0.5"):  # fmt: skip
        publisher.publish(copy, HF_TO, dry_run=True, check_loading=False)
    os.remove(path)
    with pytest.raises(validation.PublishError, match="not a lealla export"):
        publisher.publish(copy, HF_TO, dry_run=True, check_loading=False)


@pytest.fixture
def no_credentials(tmp_path, monkeypatch):
    """An environment where neither client finds credentials."""
    for name in ("KAGGLE_USERNAME", "KAGGLE_KEY", "KAGGLE_API_TOKEN", "HF_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLE_CONFIG_DIR", str(tmp_path / "kaggle"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    os.makedirs(tmp_path / "tmp")
    return tmp_path


def test_missing_credentials_one_line_exit_1_nothing_staged(exported, no_credentials):
    out = exported[0]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for to, cause in ((KAGGLE_TO, "no Kaggle credentials"), (HF_TO, "no Hugging Face token")):
        proc = subprocess.run([*LEALLA, "publish", f"--export={out}", f"--to={to}"],
                              capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
        assert proc.returncode == 1, proc.stderr
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and cause in lines[0] and "nothing was uploaded" in lines[0]
    assert os.listdir(no_credentials / "tmp") == []
    # Bad usage is exit 2, a folder that is not an export is named (exit 1).
    proc = subprocess.run([*LEALLA, "publish", f"--export={out}", "--to=hf:a/b/c", "--dry_run"],
                          capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 2 and "--to='hf:a/b/c'" in proc.stderr
    proc = subprocess.run([*LEALLA, "publish", f"--export={no_credentials}", f"--to={HF_TO}",
                           "--dry_run"], capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert proc.returncode == 1 and "not a lealla export" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_kaggle_client_receives_the_staged_folder_handle_licence_and_notes(exported, monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")
    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "not-a-real-key")
    calls = []

    def model_upload(handle, local_model_dir, license_name=None, version_notes="", **kwargs):
        calls.append({"handle": handle, "folder": local_model_dir, "license": license_name,
                      "notes": version_notes, "files": sorted(os.listdir(local_model_dir)),
                      **kwargs})  # fmt: skip

    monkeypatch.setattr(kagglehub, "model_upload", model_upload)
    result = publisher.publish(exported[0], KAGGLE_TO, version_notes="40 steps",
                               check_loading=False, report=lambda _: None)  # fmt: skip
    [call] = calls
    assert call["handle"] == "someone/lealla-tiny/tensorFlow2/demo"
    assert call["folder"] == result.staged and call["license"] == "Apache 2.0"
    assert call["notes"] == "40 steps" and call["ignore_patterns"] == list(
        hub_metadata.KAGGLE_FILES
    )
    assert {"saved_model.pb", "README.md", "labse_format", "lealla_export.json"} <= set(
        call["files"]
    )
    assert result.uploaded and not os.path.exists(result.staged)  # the temporary stage is gone


def test_hf_client_receives_the_staged_folder_repo_licence_and_notes(exported, monkeypatch):
    huggingface_hub = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_TOKEN", "hf_not_a_real_token")
    calls = []

    def create_repo(self, repo_id, **kwargs):
        calls.append(("create_repo", repo_id, kwargs))

    def upload_folder(self, *, repo_id, folder_path, **kwargs):
        with open(os.path.join(folder_path, "README.md"), encoding="utf-8") as f:
            front = hub_metadata.parse_front_matter(f.read())
        calls.append(("upload_folder", repo_id, {"folder": folder_path, "license":
                                                 front["license"], **kwargs}))  # fmt: skip

    monkeypatch.setattr(huggingface_hub.HfApi, "create_repo", create_repo)
    monkeypatch.setattr(huggingface_hub.HfApi, "upload_folder", upload_folder)
    result = publisher.publish(exported[0], HF_TO, license="cc-by-4.0", version_notes="v1",
                               private=True, check_loading=False, report=lambda _: None)  # fmt: skip
    assert [c[0] for c in calls] == ["create_repo", "upload_folder"]
    assert calls[0][1] == "someone/lealla-tiny" and calls[0][2]["private"] is True
    upload = calls[1][2]
    assert calls[1][1] == "someone/lealla-tiny" and upload["folder"] == result.staged
    assert upload["license"] == "cc-by-4.0" and upload["commit_message"] == "v1"


def test_a_refused_upload_is_one_line_naming_the_cause(exported, monkeypatch):
    kagglehub = pytest.importorskip("kagglehub")
    import requests

    monkeypatch.setenv("KAGGLE_USERNAME", "someone")
    monkeypatch.setenv("KAGGLE_KEY", "not-a-real-key")

    def offline(*args, **kwargs):
        raise requests.ConnectionError("Failed to resolve 'www.kaggle.com'")

    monkeypatch.setattr(kagglehub, "model_upload", offline)
    with pytest.raises(validation.PublishError, match="could not reach kaggle.com"):
        publisher.publish(exported[0], KAGGLE_TO, check_loading=False, report=lambda _: None)


@pytest.mark.large
def test_dry_run_cli_loads_the_staged_folder_in_a_fresh_process(exported, tmp_path):
    out = exported[0]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for to, name in ((KAGGLE_TO, "kaggle"), (HF_TO, "hf")):
        stage = str(tmp_path / name)
        proc = subprocess.run(
            [*LEALLA, "publish", f"--export={out}", f"--to={to}", "--dry_run",
             f"--staging_dir={stage}"],
            capture_output=True, text=True, env=env, timeout=900,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert "loading in a fresh process" in proc.stdout
        assert f"{name}/  (" in proc.stdout and "  saved_model.pb  " in proc.stdout
        assert "dry run: validated, nothing uploaded" in proc.stdout
        assert os.path.isfile(os.path.join(stage, "saved_model.pb"))


def test_staged_files_are_the_exports(exported, tmp_path):
    out, _, _ = exported
    result, _ = _dry_run(out, HF_TO, tmp_path, "hf")
    for rel in ("saved_model.pb", os.path.join("labse_format", "encoder", "saved_model.pb")):
        with (
            open(os.path.join(out, rel), "rb") as a,
            open(os.path.join(result.staged, rel), "rb") as b,
        ):
            assert a.read() == b.read()


def test_without_the_extra_the_answer_says_how_to_install_it(exported, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import fails as if absent
    with pytest.raises(validation.PublishError, match=r"pip install 'lealla\[publish\]'"):
        publisher.publish(exported[0], HF_TO, check_loading=False, report=lambda _: None)
    # A dry run needs no client.
    result = publisher.publish(exported[0], HF_TO, dry_run=True, check_loading=False,
                               report=lambda _: None)  # fmt: skip
    assert not result.uploaded
    shutil.rmtree(os.path.dirname(result.staged))
