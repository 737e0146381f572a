"""Bad inputs and faults through the `lealla` command: each answered in one or two lines.

Every case asserts the exit status (2 usage, 1 data, 0 handled), that stderr names the
file, line or flag, that no traceback is printed (unless --verbose), that nothing
half-written is left behind, and that every file that existed before (the inputs, the
"victim" folders of a user's own files, the current folder's) is intact afterwards.
Each case is a fresh process (absl flags are global), run in a scratch current folder.
Cases that need another process holding a folder's lock are a second table.
"""

import hashlib
import os
import pathlib
import re
import string
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor

import pytest

from lealla.data import demo_corpus

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
        "vocab": write(
            "vocab.txt",
            "".join(
                f"{t}\n"
                for t in [
                    "[PAD]",
                    "[UNK]",
                    "[CLS]",
                    "[SEP]",
                    "[MASK]",
                    *string.ascii_letters,
                    *(f"##{c}" for c in string.ascii_letters),
                ]
            ),
        ),
        # A user's own folders and files, which no command may remove or replace.
        "victim_notes": _folder(
            root, "victim_notes", {"notes.txt": "my notes\n", "photos/cat.jpg": "JFIF"}
        ),
        "victim_report": _folder(
            root, "victim_report", {"2024-01-report.pdf": "%PDF-1.7", "10-20.csv": "a,b\n1,2\n"}
        ),
        "victim_config": _folder(
            root,
            "victim_config",
            {
                "settings.json": '{"theme": "dark"}',
                "package.json": '{"name": "app"}',
                "backup.tfrecord": "records",
            },
        ),
        "victim_file": write("victim.bin", "not an export\n"),
        # A run folder (its files only: every case refuses before reading it).
        "run": _folder(
            root,
            "run",
            {
                "distill_config.json": '{"student": "tiny_test"}',
                "checkpoints/ckpt-40.index": "index",
            },
        ),
        # A run folder written before the config had sections (flat settings).
        "old_run": _folder(
            root,
            "old_run",
            {
                "distill_config.json": '{"objective": "lealla", "student": "tiny_test", "steps": 40}',
                "student_config.json": '{"preset": "tiny_test"}',
                "tokenizer/tokenizer.json": '{"kind": "wordpiece"}',
                "checkpoints/ckpt-40.index": "index",
            },
        ),
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
        os.makedirs(os.path.dirname(os.path.join(folder, file)), exist_ok=True)
        with open(os.path.join(folder, file), "w", encoding="utf-8") as f:
            f.write(text)
    return folder


def _snapshot(root):
    """Every file and folder under `root` -> sha256 of its bytes ("dir" for a folder)."""
    found = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs:
            found[os.path.relpath(os.path.join(folder, name), root)] = "dir"
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                found[os.path.relpath(os.path.join(folder, name), root)] = hashlib.sha256(
                    f.read()).hexdigest()  # fmt: skip
    return found


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
                                  "--student.overrides=hidden_size=3", "--steps=2"], DATA,
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
                                    "--data.mono_share=1.5"], USAGE, r"mono_share must be in \[0, 1\)"),
        ("distill-seq-too-long", ["distill", "--config=demo", f"--model_dir={tmp}/r6",
                                  "--student=tiny_test", "--data.seq_length=128",
                                  "--data.bucket_lengths=128"], DATA,
         r"seq_length=128 exceeds the student's max_sequence_length=64"),
        ("export-no-run", ["export", f"--model_dir={tmp}/not_a_run", f"--out={tmp}/exp"], DATA,
         r"not_a_run"),
        ("distill-run-of-an-earlier-version", ["distill", "--config=demo",
                                               f"--model_dir={f['old_run']}"], DATA,
         r"old_run/distill_config.json was written by an earlier version of lealla .*; start a "
         r"new run in another --model_dir$"),
        ("export-run-of-an-earlier-version", ["export", f"--model_dir={f['old_run']}",
                                              f"--out={tmp}/exp_old"], DATA,
         r"old_run/distill_config.json was written by an earlier version of lealla"),
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
                                   "--lealla.bank_size=-1"], USAGE, r"bank_size"),
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
                                         "--lealla.matryoshka_dims=64,32"], USAGE,
         r"matryoshka_dims must be increasing"),
        ("distill-matryoshka-not-numbers", ["distill", "--config=demo", f"--model_dir={tmp}/r10",
                                            "--lealla.matryoshka_dims=a,b"], USAGE,
         r"--lealla.matryoshka_dims must be comma-separated integers"),
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
        # Data the toolkit did not write is never removed or replaced (issue 37).
        ("export-overwrite-foreign-folder", ["export", f"--model_dir={f['run']}",
                                             f"--out={f['victim_notes']}", "--overwrite"], DATA,
         r"--out=.*victim_notes holds notes.txt, which `lealla export` did not write"),
        ("export-overwrite-root", ["export", f"--model_dir={f['run']}", "--out=/", "--overwrite"],
         USAGE, r"--out=/ is the root folder"),
        ("export-overwrite-current-folder", ["export", f"--model_dir={f['run']}", "--out=.",
                                             "--overwrite"], USAGE,
         r"--out=\. is the current folder"),
        ("export-overwrite-home", ["export", f"--model_dir={f['run']}",
                                   f"--out={os.path.expanduser('~')}", "--overwrite"], USAGE,
         r"--out=.* is your home folder"),
        ("export-out-is-model-dir", ["export", f"--model_dir={f['run']}", f"--out={f['run']}",
                                     "--overwrite"], USAGE,
         r"--out=.*/run is also --model_dir=.*/run"),
        ("export-out-inside-model-dir", ["export", f"--model_dir={f['run']}",
                                         f"--out={f['run']}/export"], USAGE,
         r"--out=.*/run/export is inside --model_dir"),
        ("export-overwrite-a-file", ["export", f"--model_dir={f['run']}",
                                     f"--out={f['victim_file']}", "--overwrite"], DATA,
         r"--out=.*victim.bin is a file, not a folder `lealla export` wrote"),
        ("embed-into-foreign-folder", ["embed", "--encoder=use-multilingual",
                                       f"--input={f['mono']}", f"--out={f['victim_report']}"],
         DATA, r"victim_report holds 10-20.csv, and no manifest.json says `lealla embed`"),
        ("embed-overwrite-foreign-folder", ["embed", "--encoder=use-multilingual",
                                            f"--input={f['mono']}",
                                            f"--out={f['victim_report']}", "--overwrite"], DATA,
         r"victim_report holds 10-20.csv, which `lealla embed` did not write"),
        ("embed-out-is-input", ["embed", "--encoder=use-multilingual", f"--input={f['mono']}",
                                f"--out={f['mono']}"], USAGE, r"de.txt is also --input="),
        ("cache-into-foreign-folder", ["cache", "--teacher=use-multilingual",
                                       f"--corpus={f['good']}", f"--out={f['victim_config']}"],
         DATA, r"victim_config holds backup.tfrecord, and no manifest.json says `lealla cache`"),
        ("cache-out-holds-corpus", ["cache", "--teacher=use-multilingual",
                                    f"--corpus={f['good']}", f"--out={f['dir']}"], USAGE,
         r"--out=.*/in contains --corpus=.*de-en.tsv"),
        ("mine-overwrite-foreign-folder", ["mine", "--encoder=use-multilingual",
                                           f"--src={f['mono']}", f"--tgt={f['lines']}",
                                           f"--out={f['victim_notes']}", "--overwrite"], DATA,
         r"victim_notes holds notes.txt, which `lealla mine` did not write"),
        ("mine-overwrite-root", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                                 f"--tgt={f['lines']}", "--out=/", "--overwrite"], USAGE,
         r"--out=/ is the root folder"),
        ("mine-work-dir-is-input", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                                    f"--tgt={f['lines']}", f"--out={tmp}/mined",
                                    f"--work_dir={f['mono']}"], USAGE,
         r"--work_dir=.*de.txt is also --src="),
        ("align-out-is-tgt", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                              f"--tgt={f['lines']}", f"--out={f['lines']}"], USAGE,
         r"--out=.*en.txt is also --tgt=.*en.txt"),
        ("align-out-is-a-folder", ["align", "--encoder=use-multilingual", f"--src={f['mono']}",
                                   f"--tgt={f['lines']}", f"--out={f['victim_notes']}"], USAGE,
         r"--out=.*victim_notes is a folder; give the path of the .tsv"),
        ("align-failure-leaves-no-folder", ["align", "--encoder=use-multilingual",
                                            f"--src={f['utf8']}", f"--tgt={f['lines']}",
                                            f"--out={tmp}/new/pairs/m.tsv",
                                            f"--work_dir={tmp}/new_work/x"], DATA,
         r"bad_utf8.de-en.tsv:51: invalid UTF-8"),
        ("vocab-prune-overwrite-foreign-folder", ["vocab", "prune", f"--corpus={f['good']}",
                                                  f"--vocab={f['vocab']}",
                                                  f"--out={f['victim_notes']}", "--overwrite"],
         DATA, r"victim_notes holds notes.txt, which `lealla vocab prune` did not write"),
        ("vocab-build-out-is-corpus", ["vocab", "build", f"--corpus={f['good']}",
                                       f"--out={f['good']}", "--overwrite"], USAGE,
         r"de-en.tsv is also --corpus="),
        ("demo-fresh-foreign-folder", ["demo", f"--out={f['victim_notes']}", "--fresh"], DATA,
         r"victim_notes holds notes.txt, which `lealla demo` did not write"),
        ("demo-into-foreign-folder", ["demo", f"--out={f['victim_report']}"], DATA,
         r"victim_report holds 10-20.csv, and no lealla_demo.json or report/summary.json"),
        ("demo-fresh-current-folder", ["demo", "--out=.", "--fresh"], USAGE,
         r"is the current folder"),
        ("distill-into-foreign-folder", ["distill", "--config=demo",
                                         f"--model_dir={f['victim_report']}"], DATA,
         r"--model_dir=.*victim_report holds 10-20.csv, and no distill_config.json says"),
        ("distill-in-current-folder", ["distill", "--config=demo", "--model_dir=."], USAGE,
         r"--model_dir=\. is the current folder"),
        ("distill-seq-length-2-leaves-nothing", ["distill", "--config=demo", f"--model_dir={tmp}/r11",
                                  "--data.seq_length=2", "--data.bucket_lengths=2", "--steps=2"], USAGE,
         r"--data.seq_length=2: 2 is not integer >= 3"),
        *_bounds_cases(f, tmp),
    ]  # fmt: skip


def _bounds_cases(f, tmp):
    """Out-of-range numbers, damaged manifests and exports, invisible text, empty inputs."""
    root = f["dir"]
    shards5 = _folder(root, "shards5_emb", {"manifest.json": (
        '{"format": "lealla-embeddings", "schema_version": 1, "complete": true, "identity": '
        '{"encoder": "e", "embedding_dim": 4, "dtype": "float32", "inputs": []}, "shards": 5}'
    )})  # fmt: skip
    no_weights = _folder(
        root, "no_weights", {"saved_model.pb": "x", "lealla_export.json": '{"format": "string"}'}
    )
    invisible = _folder(
        root,
        "invisible",
        {
            "de-en.tsv": "Hallo\tHello\nWelt\t\u3000\n",
            "de.txt": "gut\n\u200b\u200f\n",
            "ls.de-en.tsv": "zwei\u2028Zeilen\ttwo lines\n",
        },
    )
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
        ("distill-negative-learning-rate", [*distill, "--optimizer.learning_rate=-1"], USAGE,
         r"--optimizer.learning_rate=-1: optimizer.learning_rate must be > 0, got -1"),
        ("distill-nan-learning-rate", [*distill, "--optimizer.learning_rate=nan"], USAGE,
         r"--optimizer.learning_rate=nan: optimizer.learning_rate must be > 0, got nan"),
        ("distill-zero-batch-size", [*distill, "--data.batch_size=0"], USAGE, r"--data.batch_size=0"),
        ("distill-seq-length-2", [*distill, "--data.seq_length=2"], USAGE, r"--data.seq_length=2"),
        ("distill-nan-mono-share", [*distill, "--data.mono_share=nan"], USAGE,
         r"--data.mono_share=nan: data.mono_share must be in \[0, 1\), got nan"),
        ("distill-margin-1", [*distill, "--lealla.ams_margin=1"], USAGE, r"--lealla.ams_margin=1"),
        ("distill-bucket-length-2", [*distill, "--data.bucket_lengths=2,64"], USAGE,
         r"--data.bucket_lengths: each item must be >= 3, got 2"),
        ("mine-nan-threshold", [*mine, "--threshold=nan"], USAGE,
         r"--threshold must be a finite number or auto, got 'nan'"),
        ("mine-negative-leaves", [*mine, "--num_leaves=-1"], USAGE, r"--num_leaves=-1"),
        ("cache-zero-batch-size", ["cache", "--teacher=use-multilingual",
                                   f"--corpus={f['good']}", f"--out={tmp}/c_bs",
                                   "--batch_size=0"], USAGE, r"--batch_size=0"),
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


_HOLDER = textwrap.dedent("""
    import sys, time
    from lealla.files import output_dirs
    for path in sys.argv[1:]:
        output_dirs.acquire(path)
    print("held", flush=True)
    time.sleep(600)
""")


def _held_cases(f, held, pid):
    """Another lealla process (pid) holds the lock of each folder under `held`."""
    busy = rf"{held}/%s is in use by another lealla process \(pid {pid}\)"
    return [
        ("export-concurrent", ["export", f"--model_dir={f['run']}", f"--out={held}/export"],
         DATA, busy % "export"),
        ("distill-concurrent", ["distill", "--config=demo", f"--model_dir={held}/run"], DATA,
         busy % "run"),
        ("cache-concurrent", ["cache", "--teacher=use-multilingual", f"--corpus={f['good']}",
                              f"--out={held}/cache", "--runner=inprocess"], DATA, busy % "cache"),
        ("embed-concurrent", ["embed", "--encoder=use-multilingual", f"--input={f['mono']}",
                              f"--out={held}/emb"], DATA, busy % "emb"),
        ("mine-concurrent", ["mine", "--encoder=use-multilingual", f"--src={f['mono']}",
                             f"--tgt={f['lines']}", f"--out={held}/mined"], DATA,
         busy % "mined"),
        ("demo-concurrent", ["demo", f"--out={held}/demo"], DATA, busy % "demo"),
    ]  # fmt: skip


_REPO = str(pathlib.Path(__file__).resolve().parents[3])


def _run(argv, env, cwd=None):
    env = {**env, "PYTHONPATH": os.pathsep.join(p for p in (_REPO, env.get("PYTHONPATH")) if p)}
    return subprocess.run(
        [sys.executable, "-m", "lealla.cli.main", *argv], capture_output=True, text=True, env=env,
        timeout=300, cwd=cwd,
    )  # fmt: skip


def _problems(case, result):
    name, argv, code, pattern = case
    # Our own progress/info log lines (absl "I..." lines) and stage lines may precede the
    # answer, which starts at the first line that names the command ("lealla CMD: ...").
    lines = [ln for ln in result.stderr.splitlines() if ln.strip() and not ln.startswith("I1")]
    answer = next((i for i, ln in enumerate(lines) if ln.startswith("lealla")), 0)
    lines = lines[answer:]
    problems = []
    if result.returncode != code:
        problems.append(f"exit {result.returncode}, expected {code}")
    if not re.search(pattern, result.stderr):
        problems.append(f"stderr does not match {pattern!r}")
    if "Traceback" in result.stderr:
        problems.append("printed a traceback")
    if len(lines) > 2 and code != 0:
        problems.append(f"{len(lines)} lines on stderr")
    if argv[0] == "distill" and "overwrite" in result.stderr:
        problems.append("names an overwrite flag distill does not have")
    return [f"{name}: {'; '.join(problems)}\n{result.stderr[-1500:]}"] if problems else []


@pytest.mark.large  # ~110 fresh processes (TensorFlow import each): a few minutes
def test_bad_inputs_get_one_line_answers(tmp_path, use_m_module):
    files = _files(str(tmp_path / "in"))
    out = str(tmp_path / "out")
    os.makedirs(out)
    cwd = _folder(str(tmp_path), "cwd", {"notes.txt": "the current folder's own file\n"})
    cases = _cases(files, out)  # some cases write input folders of their own
    before = {root: _snapshot(root) for root in (str(tmp_path / "in"), cwd)}
    env = {**os.environ, "LEALLA_CACHE_DIR": os.path.dirname(os.path.dirname(use_m_module))}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)  # the command must quiet TensorFlow itself
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda c: _run(c[1], env, cwd), cases))
    failures = [p for case, result in zip(cases, results, strict=True)
                for p in _problems(case, result)]  # fmt: skip
    assert not failures, "\n\n".join(failures)
    for root, snapshot in before.items():  # inputs and the user's own files, intact
        after = _snapshot(root)
        changed = sorted(k for k in {*snapshot, *after} if snapshot.get(k) != after.get(k))
        assert not changed, f"{root}: changed, added or removed: {changed}"
    # Nothing half-written: no cache, export or mined file. A model_dir whose corpus
    # failed its scan may hold the run's config, but no checkpoint: it is not a run yet,
    # and the corrected command starts over there (tests/distill/test_trainer.py).
    # A mine that failed on a bad target line keeps its work folder (the source side's
    # finished embeddings: the corrected rerun resumes from them), never its output.
    assert sorted(os.listdir(out)) in ([], ["r3"], ["mined.work"], ["mined.work", "r3"])
    assert not os.path.exists(os.path.join(out, "mined"))
    assert not os.path.exists(os.path.join(out, "r3", "checkpoints"))
    assert len(cases) >= 110


@pytest.mark.large  # fresh processes, each refused before it loads a model
def test_a_folder_another_process_writes_is_refused(tmp_path, use_m_module):
    files = _files(str(tmp_path / "in"))
    held = str(tmp_path / "held")
    before = _snapshot(str(tmp_path / "in"))
    env = {**os.environ, "LEALLA_CACHE_DIR": os.path.dirname(os.path.dirname(use_m_module))}
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    targets = [f"{held}/{name}" for name in ("export", "run", "cache", "emb", "mined", "demo")]
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, *targets], stdout=subprocess.PIPE, text=True,
        env={**env, "PYTHONPATH": os.pathsep.join(p for p in (_REPO, env.get("PYTHONPATH")) if p)},
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        cases = _held_cases(files, held, holder.pid)
        with ThreadPoolExecutor(2) as pool:
            results = list(pool.map(lambda c: _run(c[1], env, str(tmp_path)), cases))
    finally:
        holder.kill()
        holder.wait()
    failures = [p for case, result in zip(cases, results, strict=True)
                for p in _problems(case, result)]  # fmt: skip
    assert not failures, "\n\n".join(failures)
    after = _snapshot(str(tmp_path / "in"))
    assert after == before, sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    # Nothing was written into the held folders by the refused processes.
    assert sorted(n for n in os.listdir(held) if not n.endswith(".lealla-lock")) == []


def test_verbose_brings_the_traceback_back(tmp_path):
    bad = tmp_path / "bad_fields.de-en.tsv"
    bad.write_text("nur ein Feld\n", encoding="utf-8")
    result = _run(["corpus", f"--corpus={bad}", "--verbose"], dict(os.environ))
    assert result.returncode != 0 and "Traceback" in result.stderr
