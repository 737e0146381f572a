"""Bad inputs and faults through the `lealla` command: each answered in one or two lines.

Every case asserts the exit status (2 usage, 1 data, 0 handled), that stderr names the
file, line or flag, that no traceback is printed (unless --verbose), and that nothing
half-written is left behind. Each case is a fresh process (absl flags are global).
"""

import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from lealla import demo_corpus

USAGE, DATA = 2, 1


def _files(root):
    """Bad and good input files, written once per test run."""
    os.makedirs(root, exist_ok=True)

    def write(name, content, mode="w"):
        path = os.path.join(root, name)
        with open(path, mode) as f:
            f.write(content)
        return path

    de, en = demo_corpus.read_split("dev", "de"), demo_corpus.read_split("dev", "en")
    good = "".join(f"{a}\t{b}\n" for a, b in zip(de, en, strict=True))
    return {
        "good": write("de-en.tsv", good),
        "fields": write("bad_fields.de-en.tsv", good + "nur ein Feld\n"),
        "utf8": write("bad_utf8.de-en.tsv", good.encode() + b"\xff\xfe\tx\n", "wb"),
        "empty_line": write("empty_line.de-en.tsv", good + "\n" + good),
        "nul": write("nul.de-en.tsv", "Hallo\x00 Welt\tHello world\n"),
        "empty_field": write("empty_field.de-en.tsv", "Hallo\t \n"),
        "noname": write("corpus.tsv", good),
        "badlang": write("news.xx-en.tsv", good),
        "mono": write("de.txt", "\n".join(de) + "\n"),
        "lines": write("en.txt", "\n".join(en) + "\n"),
        "json": write("broken.json", "{not json"),
        "empty": write("empty.tsv", ""),
        "broken_emb": _folder(root, "broken_emb", {"manifest.json": "{not json"}),
        "unfinished_emb": _folder(
            root,
            "unfinished_emb",
            {
                "manifest.json": (
                    '{"format": "lealla-embeddings", "schema_version": 1, "identity": {}, '
                    '"shards": [], "complete": false}'
                )
            },
        ),
        "dir": root,
        "tatoeba": _folder(
            root,
            "tatoeba",
            {"tatoeba.deu-eng.deu": "Hallo\nWelt\n", "tatoeba.deu-eng.eng": "Hello\n"},
        ),
        "bucc": _folder(
            root,
            "bucc",
            {
                "de-en.sample.de": "de-1\tHallo\nde-1\tWelt\n",
                "de-en.sample.en": "en-1\tHello\n",
                "de-en.sample.gold": "de-1\ten-1\n",
            },
        ),
    }


def _folder(root, name, files):
    folder = os.path.join(root, name)
    os.makedirs(folder, exist_ok=True)
    for file, text in files.items():
        with open(os.path.join(folder, file), "w", encoding="utf-8") as f:
            f.write(text)
    return folder


def _cases(f, tmp):
    """(id, argv, exit code, regex that stderr must match)."""
    return [
        ("unknown-command", ["nosuch"], USAGE, r"unknown command 'nosuch'"),
        ("unknown-flag", ["corpus", f"--corpus={f['good']}", "--colour=red"], USAGE,
         r"lealla corpus: usage error: Unknown command line flag 'colour'"),
        ("bad-enum", ["corpus", f"--corpus={f['good']}", "--on_bad_line=ignore"], USAGE,
         r"--on_bad_line"),
        ("bad-int", ["cache", "--teacher=x", f"--corpus={f['good']}", "--out=o", "--shard_size=ten"],
         USAGE, r"--shard_size"),
        ("corpus-missing-flag", ["corpus"], USAGE, r"--corpus is required"),
        ("corpus-missing-file", ["corpus", "--corpus=/nonexistent/de-en.tsv"], DATA,
         r"/nonexistent/de-en.tsv"),
        ("corpus-glob-nothing", ["corpus", f"--corpus={tmp}/*.nothing"], DATA,
         r"no corpus file matches"),
        ("corpus-wrong-fields", ["corpus", f"--corpus={f['fields']}"], DATA,
         r"bad_fields.de-en.tsv:51: expected 2 tab-separated fields, found 1"),
        ("corpus-bad-utf8", ["corpus", f"--corpus={f['utf8']}"], DATA,
         r"bad_utf8.de-en.tsv:51: invalid UTF-8 \(byte 0xff"),
        ("corpus-empty-line", ["corpus", f"--corpus={f['empty_line']}"], DATA,
         r"empty_line.de-en.tsv:51: empty line"),
        ("corpus-nul", ["corpus", f"--corpus={f['nul']}"], DATA,
         r"nul.de-en.tsv:1: control character U\+0000 at column 6"),
        ("corpus-empty-field", ["corpus", f"--corpus={f['empty_field']}"], DATA,
         r"empty_field.de-en.tsv:1: field 2 of 2 is empty"),
        ("corpus-no-languages", ["corpus", f"--corpus={f['noname']}"], DATA,
         r"cannot tell the languages of .*corpus.tsv"),
        ("corpus-unknown-language", ["corpus", f"--corpus={f['badlang']}"], DATA,
         r"Unknown language code 'xx'"),
        ("corpus-empty-file", ["corpus", f"--corpus={f['empty']}"], DATA, r"empty.tsv"),
        ("cache-unwritable", ["cache", "--teacher=use-multilingual", f"--corpus={f['good']}",
                              "--out=/proc/no/cache"], DATA, r"--out=/proc/no/cache: cannot write"),
        ("cache-bad-corpus", ["cache", "--teacher=use-multilingual", f"--corpus={f['fields']}",
                              f"--out={tmp}/cache_bad"], DATA, r"bad_fields.de-en.tsv:51"),
        ("cache-unknown-teacher", ["cache", "--teacher=no-such-teacher", f"--corpus={f['good']}",
                                   f"--out={tmp}/cache_t"], DATA, r"no-such-teacher"),
        ("cache-bad-augment", ["cache", "--teacher=use-multilingual", f"--corpus={f['good']}",
                               f"--out={tmp}/cache_a", "--augment=shuffle"], DATA,
         r"unknown augmentation\(s\) \['shuffle'\]"),
        ("cache-pipeline-flag-on-local", ["cache", "--teacher=x", f"--corpus={f['good']}",
                                          "--out=o", "--project=p"], USAGE,
         r"unknown flag\(s\) \['--project=p'\].*the local runner takes none"),
        ("embed-missing-input", ["embed", "--encoder=use-multilingual", "--input=/nonexistent.de",
                                 f"--out={tmp}/emb_m"], DATA, r"/nonexistent.de"),
        ("embed-unwritable", ["embed", "--encoder=use-multilingual", f"--input={f['lines']}",
                              "--out=/proc/no/emb"], DATA, r"--out=/proc/no/emb: cannot write"),
        ("embed-bad-line", ["embed", "--encoder=use-multilingual", f"--input={f['empty_line']}",
                            f"--out={tmp}/emb_b", "--runner=local"], DATA,
         r"empty_line.de-en.tsv:51: empty line"),
        ("distill-no-model-dir", ["distill", "--config=demo"], USAGE, r"--model_dir is required"),
        ("distill-bad-preset", ["distill", "--config=nosuch", f"--model_dir={tmp}/r"], USAGE,
         r"--config=nosuch: no such preset"),
        ("distill-bad-override", ["distill", "--config=demo", f"--model_dir={tmp}/r1",
                                  "--student_overrides=hidden_size=3", "--steps=2"], DATA,
         r"unknown StudentConfig key\(s\) \['hidden_size'\]"),
        ("distill-missing-cache", ["distill", "--config=demo", f"--model_dir={tmp}/r2",
                                   f"--teacher_cache={tmp}/nocache"], DATA,
         r"no teacher-embedding cache at"),
        ("distill-bad-train-data", ["distill", "--config=demo", f"--model_dir={tmp}/r3",
                                    f"--train_data={f['fields']}", "--steps=2"], DATA,
         r"bad_fields.de-en.tsv:51: expected 2 tab-separated fields"),
        ("distill-negative-budget", ["distill", "--config=demo", f"--model_dir={tmp}/r4",
                                     "--train_minutes=-1"], USAGE, r"train_minutes must be >= 0"),
        ("distill-bad-mono-share", ["distill", "--config=demo", f"--model_dir={tmp}/r5",
                                    "--mono_share=1.5"], USAGE, r"mono_share must be in \[0, 1\)"),
        ("distill-seq-too-long", ["distill", "--config=demo", f"--model_dir={tmp}/r6",
                                  "--student=tiny_test", "--seq_length=128",
                                  "--bucket_lengths=128"], DATA,
         r"seq_length=128 exceeds the student's max_sequence_length=64"),
        ("export-no-run", ["export", f"--model_dir={tmp}/not_a_run", f"--out={tmp}/exp"], DATA,
         r"not_a_run"),
        ("export-unwritable", ["export", f"--model_dir={tmp}", "--out=/proc/no/export"], DATA,
         r"--out=/proc/no/export: cannot write"),
        ("eval-missing-data", ["eval", "tatoeba", "--encoder=use-multilingual",
                               f"--data={tmp}/no_tatoeba"], DATA, r"no_tatoeba"),
        ("eval-tatoeba-misaligned", ["eval", "tatoeba", "--encoder=use-multilingual",
                                     f"--data={f['tatoeba']}"], DATA,
         r"tatoeba.deu-eng.deu: has 2 lines but .*tatoeba.deu-eng.eng has 1"),
        ("eval-bucc-duplicate-id", ["eval", "bucc", "--encoder=use-multilingual",
                                    f"--data={f['bucc']}", "--split=sample"], DATA,
         r"de-en.sample.de:2: duplicate id 'de-1'"),
        ("align-missing-src", ["align", "--encoder=use-multilingual", "--src=/nonexistent.txt",
                               f"--tgt={f['lines']}", f"--out={tmp}/m.tsv"], DATA,
         r"/nonexistent.txt"),
        ("align-unwritable", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                              f"--tgt={f['lines']}", "--out=/proc/no/m.tsv"], DATA,
         r"--out=/proc/no/m.tsv: cannot write"),
        ("vocab-missing-out", ["vocab", "build", f"--corpus={f['good']}"], USAGE, r"--out"),
        ("align-bad-drop", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                            f"--tgt={f['lines']}", f"--out={tmp}/m.tsv", "--drop=spam"], USAGE,
         r"--drop: unknown filter\(s\) \['spam'\]"),
        ("align-bad-length-ratio", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                                    f"--tgt={f['lines']}", f"--out={tmp}/m.tsv",
                                    "--max_length_ratio=0.5"], USAGE, r"max_length_ratio"),
        ("mine-missing-out", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                              f"--tgt={f['lines']}"], USAGE, r"--out is required"),
        ("mine-no-encoder", ["mine", f"--src={f['mono']}", f"--tgt={f['lines']}",
                             f"--out={tmp}/mined"], USAGE, r"--encoder is required"),
        ("mine-auto-without-calibration", ["mine", "--encoder=use-multilingual",
                                           f"--src={f['mono']}", f"--tgt={f['lines']}",
                                           f"--out={tmp}/mined", "--threshold=auto"], USAGE,
         r"--threshold=auto needs --calibration"),
        ("mine-bad-threshold", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                                f"--tgt={f['lines']}", f"--out={tmp}/mined", "--threshold=high"],
         USAGE, r"--threshold must be a number or auto, got 'high'"),
        ("mine-bad-calibration", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                                  f"--tgt={f['lines']}", f"--out={tmp}/mined", "--threshold=auto",
                                  f"--calibration={f['fields']}"], DATA,
         r"bad_fields.de-en.tsv:\d+: expected 2 tab-separated fields, found 1"),
        ("mine-out-exists", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                             f"--tgt={f['lines']}", f"--out={f['dir']}"], DATA,
         r"exists; pass --overwrite to replace it"),
        ("mine-missing-embeddings", ["mine", f"--src_embeddings={tmp}/no_emb",
                                     f"--tgt_embeddings={tmp}/no_emb", f"--out={tmp}/mined"],
         DATA, r"no embeddings at .*no_emb"),
        ("mine-pipeline-flag-on-local", ["mine", "--encoder=use-multilingual",
                                         f"--src={f['mono']}", f"--tgt={f['lines']}",
                                         f"--out={tmp}/mined", "--project=p"], USAGE,
         r"--project"),
        ("embed-bad-dtype", ["embed", "--encoder=use-multilingual", f"--input={f['mono']}",
                             f"--out={tmp}/emb", "--dtype=float8"], USAGE, r"--dtype"),
        ("embed-zero-shard-size", ["embed", "--encoder=use-multilingual", f"--input={f['mono']}",
                                   f"--out={tmp}/emb", "--shard_size=0"], USAGE, r"--shard_size"),
        ("embed-input-is-a-folder", ["embed", "--encoder=use-multilingual",
                                     f"--input={f['dir']}", f"--out={tmp}/emb"], DATA,
         r"input file is not a regular file: .*/in"),
        ("mine-zero-k", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                         f"--tgt={f['lines']}", f"--out={tmp}/mined", "--k=0"], USAGE, r"--k"),
        ("mine-zero-block", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                             f"--tgt={f['lines']}", f"--out={tmp}/mined", "--index_shard_size=0"],
         USAGE, r"--index_shard_size"),
        ("mine-calibration-without-auto", ["mine", "--encoder=use-multilingual",
                                           f"--src={f['mono']}", f"--tgt={f['lines']}",
                                           f"--out={tmp}/mined", "--threshold=1.1",
                                           f"--calibration={f['good']}"], USAGE,
         r"--calibration is used by --threshold=auto only"),
        ("mine-broken-manifest", ["mine", f"--src_embeddings={f['broken_emb']}",
                                  f"--tgt_embeddings={f['broken_emb']}", f"--out={tmp}/mined"],
         DATA, r"broken_emb/manifest.json: not valid JSON"),
        ("mine-unfinished-embeddings", ["mine", f"--src_embeddings={f['unfinished_emb']}",
                                        f"--tgt_embeddings={f['unfinished_emb']}",
                                        f"--out={tmp}/mined"], DATA,
         r"unfinished_emb are unfinished; rerun `lealla embed`"),
        ("mine-bad-line-in-tgt", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                                  f"--tgt={f['utf8']}", f"--out={tmp}/mined",
                                  f"--work_dir={tmp}/mined.work", "--runner=inprocess"], DATA,
         r"bad_utf8.de-en.tsv:\d+: invalid UTF-8"),
        ("align-negative-max-chars", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                                      f"--tgt={f['lines']}", f"--out={tmp}/m.tsv",
                                      "--max_chars=-1"], USAGE, r"--max_chars"),
        ("align-zero-k", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                          f"--tgt={f['lines']}", f"--out={tmp}/m.tsv", "--k=0"], USAGE, r"--k"),
        ("eval-unknown-task", ["eval", "glue", "--encoder=use-multilingual"], USAGE,
         r"unknown task 'glue'; usage: lealla eval"),
        ("cache-zero-shard-size", ["cache", "--teacher=use-multilingual",
                                   f"--corpus={f['good']}", f"--out={tmp}/c",
                                   "--shard_size=0"], USAGE, r"--shard_size"),
        ("distill-negative-bank", ["distill", "--config=demo", f"--model_dir={tmp}/r5",
                                   "--bank_size=-1"], USAGE, r"bank_size"),
        ("corpus-folder", ["corpus", f"--corpus={f['dir']}"], DATA, r"not a regular file|folder"),
        ("vocab-zero-size", ["vocab", "build", f"--corpus={f['good']}", f"--out={tmp}/v.txt",
                             "--vocab_size=0"], USAGE, r"vocab_size"),
        ("distill-zero-steps", ["distill", "--config=demo", f"--model_dir={tmp}/r7", "--steps=0"],
         USAGE, r"steps"),
        ("distill-unknown-student", ["distill", "--config=demo", f"--model_dir={tmp}/r8",
                                     "--student=giant"], USAGE, r"giant"),
        ("export-bad-checkpoint", ["export", f"--model_dir={tmp}", f"--out={tmp}/exp",
                                   "--checkpoint=oldest"], USAGE, r"--checkpoint"),
        ("export-zero-dims", ["export", f"--model_dir={tmp}", f"--out={tmp}/exp", "--dims=0"],
         USAGE, r"--dims"),
        ("distill-unsorted-matryoshka", ["distill", "--config=demo", f"--model_dir={tmp}/r9",
                                         "--matryoshka_dims=64,32"], USAGE,
         r"matryoshka_dims must be increasing"),
        ("distill-matryoshka-not-numbers", ["distill", "--config=demo", f"--model_dir={tmp}/r10",
                                            "--matryoshka_dims=a,b"], USAGE,
         r"--matryoshka_dims must be comma-separated integers"),
        ("eval-bad-dims", ["eval", "tatoeba", "--encoder=use-multilingual", "--dims=16,x"], USAGE,
         r"--dims must be comma-separated integers"),
        ("embed-both-dtypes", ["embed", "--encoder=use-multilingual", f"--input={f['mono']}",
                               f"--out={tmp}/emb2", "--dtype=int8", "--embedding_dtype=binary"],
         USAGE, r"--dtype or --embedding_dtype, not both"),
        ("embed-bad-on-bad-line", ["embed", "--encoder=use-multilingual", f"--input={f['mono']}",
                                   f"--out={tmp}/emb", "--on_bad_line=ignore"], USAGE,
         r"--on_bad_line"),
        ("mine-bad-mode", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                           f"--tgt={f['lines']}", f"--out={tmp}/mined", "--mode=best"], USAGE,
         r"--mode"),
        ("mine-missing-src", ["mine", "--encoder=use-multilingual", "--src=/nonexistent/*.txt",
                              f"--tgt={f['lines']}", f"--out={tmp}/mined"], DATA,
         r"/nonexistent/\*.txt"),
        *_bounds_cases(f, tmp),
    ]  # fmt: skip


def _bounds_cases(f, tmp):
    """Out-of-range numbers, damaged manifests and exports, invisible text, empty inputs."""
    root = f["dir"]
    shards5 = _folder(root, "shards5_emb", {"manifest.json": (
        '{"format": "lealla-embeddings", "schema_version": 1, "complete": true, "identity": '
        '{"encoder": "e", "embedding_dim": 4, "dtype": "float32", "inputs": []}, "shards": 5}'
    )})  # fmt: skip
    no_weights = _folder(root, "no_weights", {"saved_model.pb": "x",
                                              "lealla_export.json": '{"format": "string"}'})
    invisible = _folder(root, "invisible", {"de-en.tsv": "Hallo\tHello\nWelt\t\u3000\n",
                                            "de.txt": "gut\n\u200b\u200f\n",
                                            "ls.de-en.tsv": "zwei\u2028Zeilen\ttwo lines\n"})
    align = ["align", "--encoder=use-multilingual", f"--src={f['mono']}", f"--tgt={f['lines']}",
             f"--out={tmp}/m.tsv"]  # fmt: skip
    mine = ["mine", "--encoder=use-multilingual", f"--src={f['mono']}", f"--tgt={f['lines']}",
            f"--out={tmp}/mined"]  # fmt: skip
    distill = ["distill", "--config=demo", f"--model_dir={tmp}/r_bounds"]
    return [
        ("eval-negative-batch-size", ["eval", "tatoeba", "--encoder=use-multilingual",
                                      f"--data={f['tatoeba']}", "--batch_size=-1"], USAGE,
         r"usage error: flag --batch_size=-1: -1 is not a positive integer"),
        ("align-negative-batch-size", [*align, "--batch_size=-1"], USAGE, r"--batch_size=-1"),
        ("align-inf-threshold", [*align, "--threshold=inf"], USAGE,
         r"--threshold=inf: threshold must be a finite number, got inf"),
        ("align-zero-reorder", [*align, "--reorder=0"], USAGE, r"--reorder=0"),
        ("distill-negative-learning-rate", [*distill, "--learning_rate=-1"], USAGE,
         r"--learning_rate=-1: learning_rate must be > 0, got -1"),
        ("distill-nan-learning-rate", [*distill, "--learning_rate=nan"], USAGE,
         r"--learning_rate=nan: learning_rate must be > 0, got nan"),
        ("distill-zero-batch-size", [*distill, "--batch_size=0"], USAGE, r"--batch_size=0"),
        ("distill-seq-length-2", [*distill, "--seq_length=2"], USAGE, r"--seq_length=2"),
        ("distill-nan-mono-share", [*distill, "--mono_share=nan"], USAGE,
         r"--mono_share=nan: mono_share must be in \[0, 1\), got nan"),
        ("distill-margin-1", [*distill, "--ams_margin=1"], USAGE, r"--ams_margin=1"),
        ("distill-bucket-length-2", [*distill, "--bucket_lengths=2,64"], USAGE,
         r"--bucket_lengths: each item must be >= 3, got 2"),
        ("mine-nan-threshold", [*mine, "--threshold=nan"], USAGE,
         r"--threshold must be a finite number or auto, got 'nan'"),
        ("mine-negative-leaves", [*mine, "--num_leaves=-1"], USAGE, r"--num_leaves=-1"),
        ("cache-similarity-above-one", ["cache", "--teacher=use-multilingual",
                                        f"--corpus={f['good']}", f"--out={tmp}/c_sim",
                                        "--hard_negative_max_similarity=1.5"], USAGE,
         r"--hard_negative_max_similarity=1.5"),
        ("export-zero-tolerance", ["export", f"--model_dir={tmp}", f"--out={tmp}/exp",
                                   "--tolerance=0"], USAGE, r"--tolerance=0"),
        ("export-short-seq-length", ["export", f"--model_dir={tmp}", f"--out={tmp}/exp",
                                     "--seq_length=1"], USAGE, r"--seq_length=1"),
        ("vocab-zero-min-count", ["vocab", "prune", f"--corpus={f['good']}",
                                  f"--out={tmp}/v", "--min_count=0"], USAGE, r"--min_count=0"),
        ("eval-zero-k", ["eval", "bucc", "--encoder=use-multilingual", f"--data={f['bucc']}",
                         "--k=0"], USAGE, r"--k=0"),
        ("mine-manifest-shards-5", ["mine", f"--src_embeddings={shards5}",
                                    f"--tgt_embeddings={shards5}", f"--out={tmp}/mined"], DATA,
         r'shards5_emb/manifest.json: "shards" must be a list, got int'),
        ("embed-export-without-variables", ["embed", f"--encoder={no_weights}",
                                            f"--input={f['mono']}", f"--out={tmp}/emb_v"], DATA,
         r"no_weights: incomplete SavedModel, variables/ \(its weights\) is missing"),
        ("embed-empty-input", ["embed", "--encoder=use-multilingual", f"--input={f['empty']}",
                               f"--out={tmp}/emb_e", "--runner=inprocess"], DATA,
         r"empty.tsv: empty file, nothing to embed"),
        ("corpus-invisible-field", ["corpus", f"--corpus={invisible}/de-en.tsv"], DATA,
         r"de-en.tsv:2: field 2 of 2 is empty \(only invisible U\+3000\)"),
        ("corpus-invisible-line", ["corpus", f"--corpus={invisible}/de.txt"], DATA,
         r"de.txt:2: empty line \(only invisible U\+200B, U\+200F\)"),
        ("corpus-line-separator", ["corpus", f"--corpus={invisible}/ls.de-en.tsv"], DATA,
         r"ls.de-en.tsv:1: line-break character U\+2028 at column 5"),
    ]  # fmt: skip


def _run(argv, env):
    return subprocess.run(
        [sys.executable, "-m", "lealla.cli", *argv], capture_output=True, text=True, env=env,
        timeout=300,
    )  # fmt: skip


@pytest.mark.large  # ~30 fresh processes (TensorFlow import each): about 2 minutes
def test_bad_inputs_get_one_line_answers(tmp_path, use_m_module):
    files = _files(str(tmp_path / "in"))
    out = str(tmp_path / "out")
    os.makedirs(out)
    env = {**os.environ, "LEALLA_CACHE_DIR": os.path.dirname(os.path.dirname(use_m_module))}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the command must quiet TensorFlow itself
    cases = _cases(files, out)
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: _run(c[1], env), cases))
    failures = []
    for (name, _, code, pattern), result in zip(cases, results, strict=True):
        # Our own progress/info log lines (absl "I..." lines) may precede the answer.
        lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("I1")]
        problems = []
        if result.returncode != code:
            problems.append(f"exit {result.returncode}, expected {code}")
        if not re.search(pattern, result.stderr):
            problems.append(f"stderr does not match {pattern!r}")
        if "Traceback" in result.stderr:
            problems.append("printed a traceback")
        if len(lines) > 2 and code != 0:
            problems.append(f"{len(lines)} lines on stderr")
        if problems:
            failures.append(f"{name}: {'; '.join(problems)}\n{result.stderr[-1500:]}")
    assert not failures, "\n\n".join(failures)
    # Nothing half-written: no cache, export or mined file. A model_dir whose corpus
    # failed its scan may hold the run's config, but no checkpoint: it is not a run yet,
    # and the corrected command starts over there (tests/distill/test_trainer.py).
    # A mine that failed on a bad target line keeps its work folder (the source side's
    # finished embeddings: the corrected rerun resumes from them), never its output.
    assert sorted(os.listdir(out)) in ([], ["r3"], ["mined.work"], ["mined.work", "r3"])
    assert not os.path.exists(os.path.join(out, "mined"))
    assert not os.path.exists(os.path.join(out, "r3", "checkpoints"))
    assert len(cases) >= 70


def test_verbose_brings_the_traceback_back(tmp_path):
    bad = tmp_path / "bad_fields.de-en.tsv"
    bad.write_text("nur ein Feld\n", encoding="utf-8")
    result = _run(["corpus", f"--corpus={bad}", "--verbose"], dict(os.environ))
    assert result.returncode != 0 and "Traceback" in result.stderr
